/* The fixed stencil of the golden tests (tests/golden/<target>.txt): 32-bit
 * operands (two slots, one value), a 64-bit operand, an add with an overflow side exit,
 * a double constant from read-only data, a C-API call with an error exit, and
 * the continuation. */
#include "jit_stencil.h"

STENCIL(GOLDEN) {
    int64_t sum;
    if (__builtin_add_overflow(SLOT(1).i, (int64_t)OPERAND(0), &sum)) {
        SIDE_EXIT();
    }
    PyObject *boxed = PyFloat_FromDouble((double)sum * 0.1 + (double)OPARG(2));
    if (boxed == 0) {
        ERROR();
    }
    SLOT(0).o = boxed;
    CONTINUE();
}
