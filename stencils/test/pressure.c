/* Register pressure: twenty values live at once, so that the register
 * allocator wants every free register.  Linux may allocate x18; the Apple and
 * Windows ARM64 ABIs reserve it (tests/test_build_stencils.py checks both). */
#include "jit_stencil.h"

#define LOAD(N) int64_t v##N = frame[N].i;
#define STORE(N) frame[N].i = v##N * (v##N + 1) - v0 * v##N;

STENCIL(PRESSURE) {
    LOAD(0) LOAD(1) LOAD(2) LOAD(3) LOAD(4) LOAD(5) LOAD(6) LOAD(7) LOAD(8) LOAD(9)
    LOAD(10) LOAD(11) LOAD(12) LOAD(13) LOAD(14) LOAD(15) LOAD(16) LOAD(17) LOAD(18) LOAD(19)
    STORE(19) STORE(18) STORE(17) STORE(16) STORE(15) STORE(14) STORE(13) STORE(12) STORE(11) STORE(10)
    STORE(9) STORE(8) STORE(7) STORE(6) STORE(5) STORE(4) STORE(3) STORE(2) STORE(1)
    CONTINUE();
}
