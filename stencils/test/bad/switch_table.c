/* Refusal test: a dense switch with jump tables allowed becomes an indirect
 * branch through a table (on AArch64 a table of code offsets without
 * relocations, so only the assembly listing shows it).
 * expect: jump table
 * symbol: \.LJTI\d+_\d+
 * flags: -fjump-tables
 */
#include "jit_stencil.h"

STENCIL(BAD_SWITCH_TABLE) {
    switch (OPARG(3)) {
    case 0: frame[1].i += 3; break;
    case 1: frame[2].i ^= 77; break;
    case 2: frame[3].i *= 5; break;
    case 3: frame[4].i -= 9; break;
    case 4: frame[5].i |= 33; break;
    case 5: frame[6].i &= 12; break;
    case 6: frame[7].i <<= 3; break;
    case 7: frame[8].i >>= 1; break;
    case 8: frame[2].i += 1000; break;
    case 9: frame[6].i ^= 5; break;
    case 10: frame[4].i *= 11; break;
    case 11: frame[1].i -= 17; break;
    default: SIDE_EXIT();
    }
    CONTINUE();
}
