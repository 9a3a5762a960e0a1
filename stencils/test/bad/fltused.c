/* Refusal test: _fltused, the marker symbol that MSVC-style Windows code
 * references when it uses floating point.
 * expect: hidden library function
 * symbol: _fltused
 */
#include "jit_stencil.h"

extern int _fltused;

STENCIL(BAD_FLTUSED) {
    SLOT(0).i = _fltused;
    CONTINUE();
}
