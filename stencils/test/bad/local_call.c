/* Refusal test: a call of a helper function that was not inlined: its code
 * is not part of the stencil.
 * expect: reference to code outside the stencil
 * symbol: helper|\.text\.helper
 */
#include "jit_stencil.h"

__attribute__((noinline)) static int64_t helper(int64_t value) {
    return value * value + 7;
}

STENCIL(BAD_LOCAL_CALL) {
    SLOT(0).i = helper(SLOT(1).i);
    CONTINUE();
}
