/* Refusal test: a frame over 4 KiB makes Windows code probe the stack through
 * __chkstk; the other targets need no probe and accept the stencil.
 * expect: hidden library function
 * symbol: __chkstk
 * targets: x86_64-pc-windows aarch64-pc-windows
 */
#include "jit_stencil.h"

STENCIL(BAD_CHKSTK) {
    volatile char buffer[8192];
    buffer[OPARG(1)] = 1;
    if (PyObject_IsTrue((PyObject *)buffer) < 0) {
        ERROR();
    }
    CONTINUE();
}
