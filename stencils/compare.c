/* Specialized comparisons, branches, truth tests and min/max, for int64 and
 * double slots alike: one set of macros instantiated per type, because the
 * C operators already have Python's semantics on both.  For doubles that
 * includes NaN: every ordered comparison and == are false, != is true, and NaN
 * is truthy (it is not equal to zero).  Results of comparisons are int 0/1.
 *
 * Branches come in both polarities because !(a < b) is not (a >= b) once NaN
 * is possible: the compiler picks the one matching the source's condition. */
#include "jit_stencil.h"

/* a OPERATOR b as an int 0/1, and the branches taken when it is true (JUMP_IF)
 * and when it is false (JUMP_IF_NOT); FIELD picks the slot's type. */
#define COMPARISON_STENCILS(COMPARE, JUMP_IF, JUMP_IF_NOT, FIELD, OPERATOR)  \
    STENCIL(COMPARE) {                                                        \
        SLOT(0).i = SLOT(1).FIELD OPERATOR SLOT(2).FIELD;                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF) {                                                        \
        if (SLOT(0).FIELD OPERATOR SLOT(1).FIELD) {                           \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_NOT) {                                                    \
        if (!(SLOT(0).FIELD OPERATOR SLOT(1).FIELD)) {                        \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }

/* bool(x) is x != 0 for both types; comparing with the int constant 0 converts
 * it to 0.0 for doubles, so -0.0 is false and NaN true, as in Python. */
#define TRUTH_STENCILS(NOT, JUMP_IF_TRUE, JUMP_IF_FALSE, FIELD)               \
    STENCIL(NOT) {                                                            \
        SLOT(0).i = SLOT(1).FIELD == 0;                                       \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_TRUE) {                                                   \
        if (SLOT(0).FIELD != 0) {                                             \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_FALSE) {                                                  \
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
#define MIN_MAX_STENCILS(MIN, MAX, FIELD)                                     \
    STENCIL(MIN) {                                                            \
        SLOT(0).FIELD =                                                       \
            SLOT(2).FIELD < SLOT(1).FIELD ? SLOT(2).FIELD : SLOT(1).FIELD;    \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(MAX) {                                                            \
        SLOT(0).FIELD =                                                       \
            SLOT(2).FIELD > SLOT(1).FIELD ? SLOT(2).FIELD : SLOT(1).FIELD;    \
        CONTINUE();                                                           \
    }

COMPARISON_STENCILS(COMPARE_OP_INT_LT, JUMP_IF_INT_LT, JUMP_IF_NOT_INT_LT, i, <)
COMPARISON_STENCILS(COMPARE_OP_INT_LE, JUMP_IF_INT_LE, JUMP_IF_NOT_INT_LE, i, <=)
COMPARISON_STENCILS(COMPARE_OP_INT_GT, JUMP_IF_INT_GT, JUMP_IF_NOT_INT_GT, i, >)
COMPARISON_STENCILS(COMPARE_OP_INT_GE, JUMP_IF_INT_GE, JUMP_IF_NOT_INT_GE, i, >=)
COMPARISON_STENCILS(COMPARE_OP_INT_EQ, JUMP_IF_INT_EQ, JUMP_IF_NOT_INT_EQ, i, ==)
COMPARISON_STENCILS(COMPARE_OP_INT_NE, JUMP_IF_INT_NE, JUMP_IF_NOT_INT_NE, i, !=)
TRUTH_STENCILS(UNARY_NOT_INT, JUMP_IF_TRUE_INT, JUMP_IF_FALSE_INT, i)
MIN_MAX_STENCILS(MIN_INT, MAX_INT, i)

COMPARISON_STENCILS(COMPARE_OP_FLOAT_LT, JUMP_IF_FLOAT_LT, JUMP_IF_NOT_FLOAT_LT, f, <)
COMPARISON_STENCILS(COMPARE_OP_FLOAT_LE, JUMP_IF_FLOAT_LE, JUMP_IF_NOT_FLOAT_LE, f, <=)
COMPARISON_STENCILS(COMPARE_OP_FLOAT_GT, JUMP_IF_FLOAT_GT, JUMP_IF_NOT_FLOAT_GT, f, >)
COMPARISON_STENCILS(COMPARE_OP_FLOAT_GE, JUMP_IF_FLOAT_GE, JUMP_IF_NOT_FLOAT_GE, f, >=)
COMPARISON_STENCILS(COMPARE_OP_FLOAT_EQ, JUMP_IF_FLOAT_EQ, JUMP_IF_NOT_FLOAT_EQ, f, ==)
COMPARISON_STENCILS(COMPARE_OP_FLOAT_NE, JUMP_IF_FLOAT_NE, JUMP_IF_NOT_FLOAT_NE, f, !=)
TRUTH_STENCILS(UNARY_NOT_FLOAT, JUMP_IF_TRUE_FLOAT, JUMP_IF_FALSE_FLOAT, f)
MIN_MAX_STENCILS(MIN_FLOAT, MAX_FLOAT, f)

/* `x is C` in the specialized tier, for an object slot and a constant object
 * (OPERAND0, kept alive by the compiled code, such as None): an int 0/1, and
 * the branch taken when it holds. */
#define IDENTITY_OPERAND_STENCILS(IS, JUMP_IF_IS, OPERATOR)                   \
    STENCIL(IS) {                                                             \
        SLOT(0).i = SLOT(1).o OPERATOR (PyObject *)(uintptr_t)OPERAND(0);     \
        CONTINUE();                                                           \
    }                                                                         \
    STENCIL(JUMP_IF_IS) {                                                     \
        if (SLOT(0).o OPERATOR (PyObject *)(uintptr_t)OPERAND(0)) {           \
            JUMP();                                                           \
        }                                                                     \
        CONTINUE();                                                           \
    }

IDENTITY_OPERAND_STENCILS(IS_OPERAND_INT, JUMP_IF_IS_OPERAND, ==)
IDENTITY_OPERAND_STENCILS(IS_NOT_OPERAND_INT, JUMP_IF_IS_NOT_OPERAND, !=)

/* PyObject_RichCompare's recursion check, before a comparison that the
 * interpreter makes through it and the specialized tier makes inline: all but
 * a branch on two floats or two compact ints (jit/backend/lowering.py picks,
 * as the generic tier's comparison_truth does at run time).  Where that check
 * shares the counter of Python calls (3.11), it strikes at the recursion limit
 * with "... in comparison", one level before the next call would; from 3.12 on
 * it counts C recursion apart and never strikes there (nothing is emitted).
 * The check stencils only read the counter (OPERAND0 is the frame stack) and,
 * at the limit, jump to RECURSION_COMPARE_LIMIT, placed out of line, which
 * calls the C API (it raises, or applies a raised limit) and jumps back: the
 * common path makes no call, so it saves no register. */
static inline __attribute__((always_inline)) int at_recursion_limit(void) {
    JitFrameStack *stack = (JitFrameStack *)OPERAND(0);
    int32_t *remaining = jit_recursion_counter(stack, stack->owner);
    return remaining == 0 || *remaining <= 0;
}

/* An int the specializing interpreter compares inline: one 30-bit digit. */
static inline __attribute__((always_inline)) int compact(int64_t value) {
    return value > -(1LL << 30) && value < (1LL << 30);
}

STENCIL(CHECK_RECURSION_COMPARE) {
    if (at_recursion_limit()) {
        JUMP();
    }
    CONTINUE();
}

/* The same before a branch on two ints (SLOT0, SLOT1): only when one is not compact. */
STENCIL(CHECK_RECURSION_COMPARE_INT) {
    if (!(compact(SLOT(0).i) && compact(SLOT(1).i)) && at_recursion_limit()) {
        JUMP();
    }
    CONTINUE();
}

/* The same when the other operand is a compact constant: only SLOT0 is tested. */
STENCIL(CHECK_RECURSION_COMPARE_INT_ONE) {
    if (!compact(SLOT(0).i) && at_recursion_limit()) {
        JUMP();
    }
    CONTINUE();
}

STENCIL(RECURSION_COMPARE_LIMIT) {
    JitFrameStack *stack = (JitFrameStack *)OPERAND(0);
    if (!stack->recursion_counter_python_only) {
        if (Py_EnterRecursiveCall(" in comparison")) {
            ERROR();
        }
        Py_LeaveRecursiveCall();
    }
    JUMP();
}

/* Spelled without STENCIL(): its expansion `JUMP(JitSlot *frame)` would be
 * taken for a use of the JUMP() macro.  The parentheses around the name stop
 * that expansion. */
JitResult(JUMP)(JitSlot *frame) {
    JUMP();
}
