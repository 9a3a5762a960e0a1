/* Refusal test: a hole the shared header does not declare, which the runtime
 * would not know how to fill.
 * expect: unknown hole
 * symbol: _JIT_OPERAND7
 */
#include "jit_stencil.h"

extern char _JIT_OPERAND7[];

STENCIL(BAD_UNKNOWN_HOLE) {
    SLOT(0).i = (int64_t)(uintptr_t)_JIT_OPERAND7;
    CONTINUE();
}
