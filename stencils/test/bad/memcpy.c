/* Refusal test: a large struct copy, which clang lowers to a call of memcpy
 * even in freestanding mode.
 * expect: hidden library function
 * symbol: memcpy
 */
#include "jit_stencil.h"

typedef struct {
    int64_t words[64];
} Block;

STENCIL(BAD_MEMCPY) {
    *(Block *)SLOT(0).o = *(Block *)SLOT(1).o;
    CONTINUE();
}
