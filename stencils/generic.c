/* The generic tier: every slot owns a PyObject* (or NULL) and every operation
 * is CPython's own C-API function, so results and exceptions are exactly the
 * interpreter's.  Each stencil computes its new object first and only then
 * replaces dst (jit_set_owned), because dst may be one of the operands. */
#include "jit_stencil.h"

#define UNARY(FUNCTION) FUNCTION(SLOT(1).o)
#define BINARY(FUNCTION) FUNCTION(SLOT(1).o, SLOT(2).o)


/* Two exact floats: the result computed inline (what float's own slot computes,
 * IEEE arithmetic), as the specializing interpreter's BINARY_OP_*_FLOAT do;
 * anything else, and a division by zero, through the C-API function. */
#define FLOAT_FAST_PATH(OPERATOR, DEFINED, SLOW)                              \
    ((Py_TYPE(SLOT(1).o) == &PyFloat_Type && Py_TYPE(SLOT(2).o) == &PyFloat_Type && (DEFINED))  \
         ? PyFloat_FromDouble(jit_float_value(SLOT(1).o) OPERATOR jit_float_value(SLOT(2).o)) \
         : (SLOW))
#define ALWAYS 1
#define NONZERO_DIVISOR (jit_float_value(SLOT(2).o) != 0.0)

/* Two compact ints (one 30-bit digit each, read inline: OPARG3 says how ints
 * keep their size): the result computed in int64, where it cannot overflow
 * for + - * & | ^, and made by PyLong_FromLongLong (the small ints its own
 * cache), as the specializing interpreter's BINARY_OP_*_INT do; anything else
 * through the C-API function `slow`. */
#define INT_OPERATION(NAME, OPERATOR)                                         \
    static inline __attribute__((always_inline)) PyObject *jit_int_##NAME(   \
        PyObject *a, PyObject *b, uint32_t int_mode, PyObject *(*slow)(PyObject *, PyObject *)) { \
        int64_t x, y;                                                         \
        if (Py_TYPE(a) == &PyLong_Type && Py_TYPE(b) == &PyLong_Type &&       \
            jit_compact_int(a, int_mode, &x) && jit_compact_int(b, int_mode, &y)) { \
            return PyLong_FromLongLong(x OPERATOR y);                         \
        }                                                                     \
        return slow(a, b);                                                    \
    }
INT_OPERATION(add, +)
INT_OPERATION(subtract, -)
INT_OPERATION(multiply, *)
INT_OPERATION(and, &)
INT_OPERATION(or, |)
INT_OPERATION(xor, ^)
#define INT_FAST_PATH(NAME, FUNCTION) jit_int_##NAME(SLOT(1).o, SLOT(2).o, OPARG(3), FUNCTION)

/* `+` of two exact strs: PyUnicode_Concat, as the specializing interpreter's
 * BINARY_OP_ADD_UNICODE calls it (PyNumber_Add and PyNumber_InPlaceAdd come to
 * it too, str having no number slots, after looking for them). */
#define CONCATENATION_FIRST(NAME, FUNCTION)                                   \
    static inline __attribute__((always_inline)) PyObject *NAME(PyObject *a, PyObject *b) { \
        return Py_TYPE(a) == &PyUnicode_Type && Py_TYPE(b) == &PyUnicode_Type ? PyUnicode_Concat(a, b) \
                                                                            : FUNCTION(a, b); \
    }
CONCATENATION_FIRST(jit_add, PyNumber_Add)
CONCATENATION_FIRST(jit_inplace_add, PyNumber_InPlaceAdd)

/* Each binary operator twice: `a + b` and the augmented `a += b`, whose C-API
 * function differs (for numbers, only in its error messages: "+=").  The
 * two-argument pow() has None for modulus. */
#define BINARY_STENCILS(NAME, FUNCTION, INPLACE_NAME, INPLACE_FUNCTION)      \
    RESULT_STENCIL(NAME, BINARY(FUNCTION))                                    \
    RESULT_STENCIL(INPLACE_NAME, BINARY(INPLACE_FUNCTION))
#define INT_BINARY_STENCILS(NAME, FUNCTION, INPLACE_NAME, INPLACE_FUNCTION, OPERATION) \
    RESULT_STENCIL(NAME, INT_FAST_PATH(OPERATION, FUNCTION))                  \
    RESULT_STENCIL(INPLACE_NAME, INT_FAST_PATH(OPERATION, INPLACE_FUNCTION))
#define FLOAT_BINARY_STENCILS(NAME, FUNCTION, INPLACE_NAME, INPLACE_FUNCTION, OPERATOR, DEFINED) \
    RESULT_STENCIL(NAME, FLOAT_FAST_PATH(OPERATOR, DEFINED, BINARY(FUNCTION)))        \
    RESULT_STENCIL(INPLACE_NAME, FLOAT_FAST_PATH(OPERATOR, DEFINED, BINARY(INPLACE_FUNCTION)))
#define NUMBER_BINARY_STENCILS(NAME, FUNCTION, INPLACE_NAME, INPLACE_FUNCTION, OPERATOR, OPERATION) \
    RESULT_STENCIL(NAME, FLOAT_FAST_PATH(OPERATOR, ALWAYS, INT_FAST_PATH(OPERATION, FUNCTION)))  \
    RESULT_STENCIL(INPLACE_NAME, FLOAT_FAST_PATH(OPERATOR, ALWAYS, INT_FAST_PATH(OPERATION, INPLACE_FUNCTION)))
#define POWER(FUNCTION) FUNCTION(SLOT(1).o, SLOT(2).o, Py_None)

NUMBER_BINARY_STENCILS(BINARY_OP_ADD, jit_add, BINARY_OP_INPLACE_ADD, jit_inplace_add, +, add)
NUMBER_BINARY_STENCILS(BINARY_OP_SUBTRACT, PyNumber_Subtract, BINARY_OP_INPLACE_SUBTRACT, PyNumber_InPlaceSubtract, -,
                       subtract)
NUMBER_BINARY_STENCILS(BINARY_OP_MULTIPLY, PyNumber_Multiply, BINARY_OP_INPLACE_MULTIPLY, PyNumber_InPlaceMultiply, *,
                       multiply)
FLOAT_BINARY_STENCILS(BINARY_OP_TRUE_DIVIDE, PyNumber_TrueDivide, BINARY_OP_INPLACE_TRUE_DIVIDE,
                      PyNumber_InPlaceTrueDivide, /, NONZERO_DIVISOR)
BINARY_STENCILS(BINARY_OP_FLOOR_DIVIDE, PyNumber_FloorDivide, BINARY_OP_INPLACE_FLOOR_DIVIDE,
                PyNumber_InPlaceFloorDivide)
BINARY_STENCILS(BINARY_OP_REMAINDER, PyNumber_Remainder, BINARY_OP_INPLACE_REMAINDER, PyNumber_InPlaceRemainder)
INT_BINARY_STENCILS(BINARY_OP_AND, PyNumber_And, BINARY_OP_INPLACE_AND, PyNumber_InPlaceAnd, and)
INT_BINARY_STENCILS(BINARY_OP_OR, PyNumber_Or, BINARY_OP_INPLACE_OR, PyNumber_InPlaceOr, or)
INT_BINARY_STENCILS(BINARY_OP_XOR, PyNumber_Xor, BINARY_OP_INPLACE_XOR, PyNumber_InPlaceXor, xor)
BINARY_STENCILS(BINARY_OP_LSHIFT, PyNumber_Lshift, BINARY_OP_INPLACE_LSHIFT, PyNumber_InPlaceLshift)
BINARY_STENCILS(BINARY_OP_RSHIFT, PyNumber_Rshift, BINARY_OP_INPLACE_RSHIFT, PyNumber_InPlaceRshift)
BINARY_STENCILS(BINARY_OP_MATRIX_MULTIPLY, PyNumber_MatrixMultiply, BINARY_OP_INPLACE_MATRIX_MULTIPLY,
                PyNumber_InPlaceMatrixMultiply)
RESULT_STENCIL(BINARY_OP_POWER, POWER(PyNumber_Power))
RESULT_STENCIL(BINARY_OP_INPLACE_POWER, POWER(PyNumber_InPlacePower))
RESULT_STENCIL(UNARY_NEGATIVE, UNARY(PyNumber_Negative))
RESULT_STENCIL(UNARY_ABS, UNARY(PyNumber_Absolute))
RESULT_STENCIL(UNARY_INVERT, UNARY(PyNumber_Invert))
RESULT_STENCIL(UNARY_POSITIVE, UNARY(PyNumber_Positive))
RESULT_STENCIL(CONVERT_INT, UNARY(PyNumber_Long))
RESULT_STENCIL(CONVERT_FLOAT, UNARY(PyNumber_Float))

/* A global read when it runs, as the interpreter reads it (for a name that
 * keeps being rebound: jit/compiler.py stops folding it).  OPERAND0 is
 * {globals, builtins, name} (kept alive by the compiled code), OPERAND1 the
 * NameError's message. */
STENCIL(LOAD_GLOBAL) {
    PyObject **cell = (PyObject **)(uintptr_t)OPERAND(0);
    PyObject *value = PyDict_GetItemWithError(cell[0], cell[2]);
    if (value == 0) {
        if (PyErr_Occurred() != 0) {
            ERROR();
        }
        value = PyDict_GetItemWithError(cell[1], cell[2]);
        if (value == 0) {
            if (PyErr_Occurred() == 0) {
                PyErr_SetString(PyExc_NameError, (const char *)(uintptr_t)OPERAND(1));
            }
            ERROR();
        }
    }
    Py_INCREF(value);
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* Calls pass their arguments with one spare slot in front and
 * PY_VECTORCALL_ARGUMENTS_OFFSET, so that a bound method can put `self` there
 * instead of allocating a new argument array. */
#define CALL_STENCIL(NAME, N, ...)                                            \
    RESULT_STENCIL(NAME,                                                      \
                   PyObject_Vectorcall(OBJECT_OPERAND(0),                     \
                                       ((PyObject *[]){0, __VA_ARGS__} + 1),  \
                                       N | PY_VECTORCALL_ARGUMENTS_OFFSET, 0))

CALL_STENCIL(CALL_1, 1, SLOT(1).o)
CALL_STENCIL(CALL_2, 2, SLOT(1).o, SLOT(2).o)

/* a OP b for two numbers of one C type, op being Py_LT ... Py_GE.  A C
 * comparison of doubles gives Python's answers for NaN. */
#define COMPARE_AS(TYPE)                                                      \
    static inline __attribute__((always_inline)) int compare_##TYPE(TYPE x, TYPE y, int op) { \
        switch (op) {                                                         \
        case Py_LT: return x < y;                                             \
        case Py_LE: return x <= y;                                            \
        case Py_EQ: return x == y;                                            \
        case Py_NE: return x != y;                                            \
        case Py_GT: return x > y;                                             \
        default: return x >= y;                                               \
        }                                                                     \
    }
COMPARE_AS(int64_t)
COMPARE_AS(double)

/* bool(a OP b), as `if a < b:` computes it.  Not PyObject_RichCompareBool: its
 * identity shortcut makes `x == x` true for a NaN x, where Python's `==` is
 * false.  Two exact floats or two compact ints are compared inline, as the
 * specializing interpreter does (COMPARE_OP_FLOAT/INT): faster, and without
 * PyObject_RichCompare's recursion check, so that deep recursion stops where
 * the interpreter's stops, with its message. */
static inline __attribute__((always_inline)) int comparison_truth(PyObject *a, PyObject *b, int op,
                                                                   uint32_t int_mode) {
    if (Py_TYPE(a) == &PyFloat_Type && Py_TYPE(b) == &PyFloat_Type) {
        return compare_double(jit_float_value(a), jit_float_value(b), op);
    }
    int64_t x, y;
    if (Py_TYPE(a) == &PyLong_Type && Py_TYPE(b) == &PyLong_Type && jit_compact_int(a, int_mode, &x) &&
        jit_compact_int(b, int_mode, &y)) {
        return compare_int64_t(x, y, op);
    }
    return COMPARISON_TRUTH_BODY(a, b, op);
}

/* dst = a OP b (OPARG3: Py_LT ... Py_GE), PyObject_RichCompare's. */
RESULT_STENCIL(COMPARE_OP, PyObject_RichCompare(SLOT(1).o, SLOT(2).o, (int)OPARG(3)))

/* COMPARE_OP where the interpreter compares two exact floats or two compact ints without a recursion check
 * (3.12+: its COMPARE_OP_FLOAT/INT; 3.11 checks the counter of Python calls there, and keeps COMPARE_OP): True or
 * False inline, anything else PyObject_RichCompare's.  OPARG3: the comparison in its low 3 bits, how ints keep
 * their size above them (with three slots, one oparg is left). */
STENCIL(COMPARE_OP_INLINE) {
    PyObject *a = SLOT(1).o, *b = SLOT(2).o;
    int op = (int)(OPARG(3) & 7);
    uint32_t int_mode = OPARG(3) >> 3;
    int64_t x, y;
    PyObject *result;
    if (Py_TYPE(a) == &PyFloat_Type && Py_TYPE(b) == &PyFloat_Type) {
        result = jit_new_bool(compare_double(jit_float_value(a), jit_float_value(b), op));
    } else if (Py_TYPE(a) == &PyLong_Type && Py_TYPE(b) == &PyLong_Type && jit_compact_int(a, int_mode, &x) &&
               jit_compact_int(b, int_mode, &y)) {
        result = jit_new_bool(compare_int64_t(x, y, op));
    } else {
        result = PyObject_RichCompare(a, b, op);
        if (result == 0) {
            ERROR();
        }
    }
    jit_set_owned(&SLOT(0), result);
    CONTINUE();
}

#define BRANCH_STENCIL(NAME, TRUTH, JUMP_WHEN)                                \
    STENCIL(NAME) {                                                           \
        int truth = (TRUTH);                                                  \
        if (truth < 0) {                                                      \
            ERROR();                                                          \
        }                                                                     \
        if (truth == (JUMP_WHEN)) {                                           \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }

BRANCH_STENCIL(JUMP_IF_TRUE, object_truth(SLOT(0).o), 1)
BRANCH_STENCIL(JUMP_IF_FALSE, object_truth(SLOT(0).o), 0)
/* One pair per comparison (its constant folds comparison_truth's switch); OPARG3: how ints keep their size
 * (INT_UNKNOWN ... INT_TAGGED). */
#define COMPARE_BRANCHES(NAME, NOT_NAME, OP)                                                     \
    BRANCH_STENCIL(NAME, comparison_truth(SLOT(0).o, SLOT(1).o, OP, OPARG(3)), 1)                \
    BRANCH_STENCIL(NOT_NAME, comparison_truth(SLOT(0).o, SLOT(1).o, OP, OPARG(3)), 0)
COMPARE_BRANCHES(JUMP_IF_COMPARE_LT, JUMP_IF_NOT_COMPARE_LT, Py_LT)
COMPARE_BRANCHES(JUMP_IF_COMPARE_LE, JUMP_IF_NOT_COMPARE_LE, Py_LE)
COMPARE_BRANCHES(JUMP_IF_COMPARE_EQ, JUMP_IF_NOT_COMPARE_EQ, Py_EQ)
COMPARE_BRANCHES(JUMP_IF_COMPARE_NE, JUMP_IF_NOT_COMPARE_NE, Py_NE)
COMPARE_BRANCHES(JUMP_IF_COMPARE_GT, JUMP_IF_NOT_COMPARE_GT, Py_GT)
COMPARE_BRANCHES(JUMP_IF_COMPARE_GE, JUMP_IF_NOT_COMPARE_GE, Py_GE)
/* `is` and `is not` compare addresses: they call nothing and cannot fail. */
BRANCH_STENCIL(JUMP_IF_IS, SLOT(0).o == SLOT(1).o, 1)
BRANCH_STENCIL(JUMP_IF_IS_NOT, SLOT(0).o == SLOT(1).o, 0)

#define IDENTITY_STENCIL(NAME, OPERATOR)                                      \
    STENCIL(NAME) {                                                           \
        jit_set_owned(&SLOT(0), jit_new_bool(SLOT(1).o OPERATOR SLOT(2).o));  \
        CONTINUE();                                                           \
    }

IDENTITY_STENCIL(IS_OP, ==)
IDENTITY_STENCIL(IS_NOT_OP, !=)

STENCIL(UNARY_NOT) {
    int truth = object_truth(SLOT(1).o);
    if (truth < 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), jit_new_bool(!truth));
    CONTINUE();
}

/* builtins.min/max: keep a unless b compares strictly smaller (greater), with
 * the same PyObject_RichCompareBool call the builtins make, so NaN and
 * mixed-type cases agree with them. */
#define MIN_MAX_STENCIL(NAME, OP)                                             \
    STENCIL(NAME) {                                                           \
        PyObject *a = SLOT(1).o;                                              \
        PyObject *b = SLOT(2).o;                                              \
        int take_b = PyObject_RichCompareBool(b, a, OP);                      \
        if (take_b < 0) {                                                     \
            ERROR();                                                          \
        }                                                                     \
        PyObject *result = take_b ? b : a;                                    \
        Py_INCREF(result);                                                    \
        jit_set_owned(&SLOT(0), result);                                      \
        CONTINUE();                                                           \
    }

MIN_MAX_STENCIL(MIN, Py_LT)
MIN_MAX_STENCIL(MAX, Py_GT)

/* FOR_ITER_RANGE on objects: the bounds of a range computed as objects, or
 * leaving int64.  Three compact ints (OPERAND1: how ints keep their size), as
 * most ranges are, are compared and stepped inline, as range's own iterator
 * does in C; anything else through the C API.  OPERAND0 is the int 0
 * (borrowed) that gives the step's sign.  The counter's reference moves into
 * target and the new counter takes its slot; done in that order, it stays
 * correct even if target and counter shared a slot. */
STENCIL(FOR_ITER_RANGE_OBJECT) {
    PyObject *counter = SLOT(1).o;
    PyObject *stop = SLOT(2).o;
    PyObject *step = SLOT(3).o;
    uint32_t int_mode = (uint32_t)OPERAND(1);
    int64_t at, end, by;
    PyObject *next;
    if (Py_TYPE(counter) == &PyLong_Type && Py_TYPE(stop) == &PyLong_Type && Py_TYPE(step) == &PyLong_Type &&
        jit_compact_int(counter, int_mode, &at) && jit_compact_int(stop, int_mode, &end) &&
        jit_compact_int(step, int_mode, &by)) {
        if (by > 0 ? at >= end : at <= end) {
            JUMP();
        }
        next = PyLong_FromLongLong(at + by);  /* a compact int's range: no overflow */
    } else {
        int ascending = PyObject_RichCompareBool(step, OBJECT_OPERAND(0), Py_GT);
        if (ascending < 0) {
            ERROR();
        }
        int done = PyObject_RichCompareBool(counter, stop, ascending ? Py_GE : Py_LE);
        if (done < 0) {
            ERROR();
        }
        if (done) {
            JUMP();
        }
        next = PyNumber_Add(counter, step);
    }
    if (next == 0) {
        ERROR();
    }
    PyObject *old_target = SLOT(0).o;
    SLOT(0).o = counter;
    SLOT(1).o = next;
    Py_XDECREF(old_target);
    CONTINUE();
}
