/* Refusal test: the stack protector reads a guard and calls a failure handler
 * that the runtime cannot provide.
 * expect: stack-protector reference
 * symbol: __stack_chk_fail|__stack_chk_guard|__security_cookie|__security_check_cookie
 * flags: -fstack-protector-all
 */
#include "jit_stencil.h"

STENCIL(BAD_STACK_PROTECTOR) {
    volatile char buffer[64];
    buffer[OPARG(1) & 63] = 1;
    if (PyObject_IsTrue((PyObject *)buffer) < 0) {
        ERROR();
    }
    CONTINUE();
}
