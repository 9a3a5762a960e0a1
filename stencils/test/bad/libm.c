/* Refusal test: a libm call; stencils use __builtin_sqrt (an instruction) or
 * the C API instead.
 * expect: hidden library function
 * symbol: fmod
 */
#include "jit_stencil.h"

extern double fmod(double, double);

STENCIL(BAD_LIBM) {
    SLOT(0).f = fmod(SLOT(1).f, SLOT(2).f);
    CONTINUE();
}
