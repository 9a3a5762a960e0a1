/* Refusal test: mutable static data, which every copy of the stencil would
 * have to share.
 * expect: writable data
 * symbol: calls|\.l?bss(\..*)?|\.l?data(\..*)?
 */
#include "jit_stencil.h"

static int64_t calls;

STENCIL(BAD_WRITABLE) {
    SLOT(0).i = ++calls;
    CONTINUE();
}
