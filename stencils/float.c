/* Specialized double arithmetic with Python's semantics.
 *
 * Python floats are IEEE doubles, so +, -, * and / are the machine's (with
 * round-to-nearest, the only mode CPython runs in).  What Python does
 * differently from C leaves through SIDE_EXIT() before any slot is written:
 * division by zero raises in Python instead of giving inf/NaN.  Operations that
 * would need libm (floor division, modulo and power, whose corner cases CPython
 * defines carefully) call CPython itself on temporary boxes, so the answer is
 * the interpreter's by construction.
 *
 * Comparisons, min/max and truth tests of floats live in compare.c, generated
 * together with those of ints. */
#include "jit_stencil.h"

/* 2**63 as a double: the int64 range is [-2**63, 2**63), both bounds exact. */
#define TWO_POW_63 9223372036854775808.0

#define NO_GUARD(B) 0

#define FLOAT_BINARY_OP(NAME, OPERATOR, EXIT_IF)                              \
    STENCIL(NAME) {                                                           \
        double a = SLOT(1).f;                                                 \
        double b = SLOT(2).f;                                                 \
        if (EXIT_IF(b)) {                                                     \
            SIDE_EXIT();                                                      \
        }                                                                     \
        SLOT(0).f = a OPERATOR b;                                             \
        CONTINUE();                                                           \
    }

/* Also true for -0.0, which compares equal to 0.0: Python raises for both. */
#define IS_ZERO(B) ((B) == 0.0)

FLOAT_BINARY_OP(BINARY_OP_ADD_FLOAT, +, NO_GUARD)
FLOAT_BINARY_OP(BINARY_OP_SUBTRACT_FLOAT, -, NO_GUARD)
FLOAT_BINARY_OP(BINARY_OP_MULTIPLY_FLOAT, *, NO_GUARD)
FLOAT_BINARY_OP(BINARY_OP_TRUE_DIVIDE_FLOAT, /, IS_ZERO)

static inline PyObject *float_power(PyObject *a, PyObject *b) {
    return PyNumber_Power(a, b, Py_None);
}

/* Boxes both operands, lets CPython compute, unboxes.  An exception (such as
 * ZeroDivisionError) is CPython's own, raised exactly as the interpreter
 * would; a result that is not exactly a float (a negative base to a fractional
 * power gives a complex) cannot live in a double slot, so that case leaves for
 * the generic tier, which repeats the operation on objects. */
#define FLOAT_BINARY_OP_VIA_OBJECTS(NAME, FUNCTION)                           \
    STENCIL(NAME) {                                                           \
        PyObject *a = PyFloat_FromDouble(SLOT(1).f);                          \
        if (a == 0) {                                                         \
            ERROR();                                                          \
        }                                                                     \
        PyObject *b = PyFloat_FromDouble(SLOT(2).f);                          \
        if (b == 0) {                                                         \
            Py_DECREF(a);                                                     \
            ERROR();                                                          \
        }                                                                     \
        PyObject *result = FUNCTION(a, b);                                    \
        Py_DECREF(a);                                                         \
        Py_DECREF(b);                                                         \
        if (result == 0) {                                                    \
            ERROR();                                                          \
        }                                                                     \
        if (Py_TYPE(result) != &PyFloat_Type) {                               \
            Py_DECREF(result);                                                \
            SIDE_EXIT();                                                      \
        }                                                                     \
        SLOT(0).f = PyFloat_AsDouble(result);                                 \
        Py_DECREF(result);                                                    \
        CONTINUE();                                                           \
    }

FLOAT_BINARY_OP_VIA_OBJECTS(BINARY_OP_FLOOR_DIVIDE_FLOAT, PyNumber_FloorDivide)
FLOAT_BINARY_OP_VIA_OBJECTS(BINARY_OP_REMAINDER_FLOAT, PyNumber_Remainder)
FLOAT_BINARY_OP_VIA_OBJECTS(BINARY_OP_POWER_FLOAT, float_power)

/* Negation and fabs only touch the sign bit (an xor / and with a mask, or
 * fneg / fabs on ARM64): exact for -0.0, inf and NaN, as in Python. */
#define FLOAT_UNARY_OP(NAME, EXPRESSION)                                      \
    STENCIL(NAME) {                                                           \
        double a = SLOT(1).f;                                                 \
        SLOT(0).f = (EXPRESSION);                                             \
        CONTINUE();                                                           \
    }

FLOAT_UNARY_OP(UNARY_NEGATIVE_FLOAT, -a)
FLOAT_UNARY_OP(UNARY_ABS_FLOAT, __builtin_fabs(a))

/* math.sqrt raises ValueError below zero (-inf included) and returns -0.0 for
 * -0.0 and NaN for NaN, as the instruction does.  With -fno-math-errno
 * __builtin_sqrt is the instruction, never a call to libm. */
STENCIL(SQRT_FLOAT) {
    double a = SLOT(1).f;
    if (a < 0.0) {
        SIDE_EXIT();
    }
    SLOT(0).f = __builtin_sqrt(a);
    CONTINUE();
}

/* float(int) rounds to nearest-even, as the conversion instruction does. */
STENCIL(INT_TO_FLOAT) {
    SLOT(0).f = (double)SLOT(1).i;
    CONTINUE();
}

/* int(float) truncates toward zero, as the C conversion does, but C leaves
 * NaN, inf and out-of-range values undefined: Python's ValueError,
 * OverflowError and big ints are the generic tier's.  The negated form
 * catches NaN, for which every comparison is false. */
STENCIL(FLOAT_TO_INT) {
    double a = SLOT(1).f;
    if (!(a >= -TWO_POW_63 && a < TWO_POW_63)) {
        SIDE_EXIT();
    }
    SLOT(0).i = (int64_t)a;
    CONTINUE();
}
