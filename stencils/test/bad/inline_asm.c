/* Refusal test: inline assembly, which would bypass the checks (and which
 * llvmlite cannot assemble for foreign targets).
 * expect: inline assembly
 * symbol: nop
 */
#include "jit_stencil.h"

STENCIL(BAD_INLINE_ASM) {
    __asm__ volatile("nop");
    CONTINUE();
}
