/* Refusal test: a table of code addresses in read-only data (computed goto),
 * whose relocations point back into the stencil's code.
 * expect: jump table
 * symbol: \.text\.BAD_COMPUTED_GOTO
 */
#include "jit_stencil.h"

STENCIL(BAD_COMPUTED_GOTO) {
    static const void *const table[] = {&&first, &&second, &&third};
    goto *table[OPARG(1) % 3];
first:
    SLOT(0).i = 11;
    CONTINUE();
second:
    SLOT(0).i = 22;
    JUMP();
third:
    SLOT(0).i = 33;
    SIDE_EXIT();
}
