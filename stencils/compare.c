/* Specialized comparisons, branches, truth tests and min/max, for int64 and
 * double slots alike: one set of macros instantiated per type, because the
 * C operators already have Python's semantics on both.  For doubles that
 * includes NaN: every ordered comparison and == are false, != is true, and NaN
 * is truthy (it is not equal to zero).  Results of comparisons are int 0/1.
 *
 * Branches come in both polarities because !(a < b) is not (a >= b) once NaN
 * is possible: the compiler picks the one matching the source's condition. */
#include "jit_stencil.h"

#define FOR_EACH_TYPE(X) X(INT, i) X(FLOAT, f)

#define FOR_EACH_COMPARISON(X, T, FIELD)                                      \
    X(T, FIELD, LT, <)                                                        \
    X(T, FIELD, LE, <=)                                                       \
    X(T, FIELD, GT, >)                                                        \
    X(T, FIELD, GE, >=)                                                       \
    X(T, FIELD, EQ, ==)                                                       \
    X(T, FIELD, NE, !=)

#define COMPARISON_STENCILS(T, FIELD, OP, OPERATOR)                           \
    STENCIL(COMPARE_OP_##T##_##OP) {                                          \
        SLOT(0).i = SLOT(1).FIELD OPERATOR SLOT(2).FIELD;                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_##T##_##OP) {                                             \
        if (SLOT(0).FIELD OPERATOR SLOT(1).FIELD) {                           \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_NOT_##T##_##OP) {                                         \
        if (!(SLOT(0).FIELD OPERATOR SLOT(1).FIELD)) {                        \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }

/* bool(x) is x != 0 for both types; comparing with the int constant 0 converts
 * it to 0.0 for doubles, so -0.0 is false and NaN true, as in Python. */
#define TRUTH_STENCILS(T, FIELD)                                              \
    STENCIL(UNARY_NOT_##T) {                                                  \
        SLOT(0).i = SLOT(1).FIELD == 0;                                       \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_TRUE_##T) {                                               \
        if (SLOT(0).FIELD != 0) {                                             \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_FALSE_##T) {                                              \
        if (SLOT(0).FIELD == 0) {                                             \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }

/* builtins.min/max keep the first argument unless a later one compares
 * strictly smaller/greater.  Written that way (not as fmin/fmax or the
 * machine's min instruction) the result matches Python for NaN and for
 * 0.0 vs -0.0: min(nan, 1.0) is nan, min(1.0, nan) is 1.0, min(0.0, -0.0) is
 * 0.0. */
#define MIN_MAX_STENCILS(T, FIELD)                                            \
    STENCIL(MIN_##T) {                                                        \
        SLOT(0).FIELD =                                                       \
            SLOT(2).FIELD < SLOT(1).FIELD ? SLOT(2).FIELD : SLOT(1).FIELD;    \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(MAX_##T) {                                                        \
        SLOT(0).FIELD =                                                       \
            SLOT(2).FIELD > SLOT(1).FIELD ? SLOT(2).FIELD : SLOT(1).FIELD;    \
        CONTINUE();                                                           \
    }

#define TYPE_STENCILS(T, FIELD)                                               \
    FOR_EACH_COMPARISON(COMPARISON_STENCILS, T, FIELD)                        \
    TRUTH_STENCILS(T, FIELD)                                                  \
    MIN_MAX_STENCILS(T, FIELD)

FOR_EACH_TYPE(TYPE_STENCILS)

/* PyObject_RichCompare's recursion check, before a comparison that the
 * interpreter makes through it and the specialized tier makes inline: all but
 * a branch on two floats or two compact ints (jit/backend/lowering.py picks,
 * as the generic tier's comparison_truth does at run time).  Where that check
 * shares the counter of Python calls (3.11), it strikes at the recursion limit
 * with "... in comparison", one level before the next call would; from 3.12 on
 * it counts C recursion apart and never strikes there.  Nothing is counted:
 * the counter is only read, and the C API is called only at the limit (it
 * raises, or applies a raised limit and returns 0).  OPERAND0 is the frame
 * stack. */
static inline __attribute__((always_inline)) int comparison_recursion_check(void) {
    JitFrameStack *stack = (JitFrameStack *)OPERAND(0);
    if (stack->recursion_counter_python_only) {
        return 0;
    }
    int32_t *remaining = jit_recursion_counter(stack, stack->owner);
    if (remaining != 0 && *remaining > 0) {
        return 0;
    }
    if (Py_EnterRecursiveCall(" in comparison")) {
        return -1;
    }
    Py_LeaveRecursiveCall();
    return 0;
}

/* An int the specializing interpreter compares inline: one 30-bit digit. */
static inline __attribute__((always_inline)) int compact(int64_t value) {
    return value > -(1LL << 30) && value < (1LL << 30);
}

STENCIL(CHECK_RECURSION_COMPARE) {
    if (comparison_recursion_check()) {
        ERROR();
    }
    CONTINUE();
}

/* The same before a branch on two ints (SLOT0, SLOT1): only when one is not compact. */
STENCIL(CHECK_RECURSION_COMPARE_INT) {
    if (!(compact(SLOT(0).i) && compact(SLOT(1).i)) && comparison_recursion_check()) {
        ERROR();
    }
    CONTINUE();
}

/* Spelled without STENCIL(): its expansion `JUMP(JitSlot *frame)` would be
 * taken for a use of the JUMP() macro.  The parentheses around the name stop
 * that expansion. */
JitResult(JUMP)(JitSlot *frame) {
    JUMP();
}
