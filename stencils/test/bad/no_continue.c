/* Refusal test: a non-terminal stencil that returns instead of continuing.
 * expect: does not end in its continuation
 * symbol: _JIT_CONTINUE
 */
#include "jit_stencil.h"

STENCIL(BAD_NO_CONTINUE) {
    SLOT(0).i = 1;
    return 0;
}
