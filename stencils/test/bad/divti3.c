/* Refusal test: 128-bit division, a call of the compiler runtime's __divti3.
 * expect: hidden library function
 * symbol: __divti3
 */
#include "jit_stencil.h"

STENCIL(BAD_DIVTI3) {
    __int128 product = (__int128)SLOT(1).i * SLOT(2).i;
    SLOT(0).i = (int64_t)(product / SLOT(3).i);
    CONTINUE();
}
