/* Specialized int64 arithmetic with Python's semantics.
 *
 * A Python int is unbounded; these stencils compute on int64 and leave through
 * SIDE_EXIT() whenever the exact result would not fit (or Python would raise),
 * so the generic tier redoes the operation on objects and gives the
 * interpreter's answer, big ints and ZeroDivisionError included.  Every guard
 * runs before the destination is written: the generic tier re-executes the
 * same micro-op, possibly with dst aliasing an operand.
 *
 * Comparisons, min/max and truth tests of ints live in compare.c, generated
 * together with those of floats. */
#include "jit_stencil.h"

#define INT64_MIN_VALUE (-9223372036854775807LL - 1)

/* 2**53: every int64 of at most this magnitude is exactly a double, which is
 * what lets int/int division and int/float comparison run in doubles. */
#define EXACT_DOUBLE_INT_LIMIT (1LL << 53)

static inline int fits_double_exactly(int64_t v) {
    return v >= -EXACT_DOUBLE_INT_LIMIT && v <= EXACT_DOUBLE_INT_LIMIT;
}

/* +, -, *: the checked builtins compile to the instruction plus a test of the
 * overflow flag (x86-64) or a widening multiply check (ARM64), no library call. */
#define INT_CHECKED_BINARY_OP(NAME, BUILTIN)                                  \
    STENCIL(NAME) {                                                           \
        int64_t result;                                                       \
        if (BUILTIN(SLOT(1).i, SLOT(2).i, &result)) {                         \
            SIDE_EXIT();                                                      \
        }                                                                     \
        SLOT(0).i = result;                                                   \
        CONTINUE();                                                           \
    }

INT_CHECKED_BINARY_OP(BINARY_OP_ADD_INT, __builtin_add_overflow)
INT_CHECKED_BINARY_OP(BINARY_OP_SUBTRACT_INT, __builtin_sub_overflow)
INT_CHECKED_BINARY_OP(BINARY_OP_MULTIPLY_INT, __builtin_mul_overflow)

/* C division truncates toward zero; Python's floors.  They differ exactly when
 * the remainder is nonzero and its sign differs from the divisor's: then the
 * quotient is one less and the remainder moves by one divisor, which gives it
 * the divisor's sign as Python requires.  Callers have excluded b == 0 and
 * INT64_MIN / -1 (the only overflowing case: 2**63 is not an int64). */
static inline int64_t floor_div_mod(int64_t a, int64_t b, int64_t *mod) {
    int64_t q = a / b;
    int64_t r = a % b;
    if (r != 0 && ((r ^ b) < 0)) {
        q -= 1;
        r += b;
    }
    *mod = r;
    return q;
}

static inline int64_t floor_div(int64_t a, int64_t b) {
    int64_t unused;
    return floor_div_mod(a, b, &unused);
}

static inline int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r;
    floor_div_mod(a, b, &r);
    return r;
}

#define INT_FLOOR_BINARY_OP(NAME, FUNCTION)                                   \
    STENCIL(NAME) {                                                           \
        int64_t a = SLOT(1).i;                                                \
        int64_t b = SLOT(2).i;                                                \
        if (b == 0 || (a == INT64_MIN_VALUE && b == -1)) {                    \
            SIDE_EXIT();                                                      \
        }                                                                     \
        SLOT(0).i = FUNCTION(a, b);                                           \
        CONTINUE();                                                           \
    }

INT_FLOOR_BINARY_OP(BINARY_OP_FLOOR_DIVIDE_INT, floor_div)
INT_FLOOR_BINARY_OP(BINARY_OP_REMAINDER_INT, floor_mod)

/* Python rounds int/int correctly.  When both operands are exact doubles, one
 * IEEE division rounds correctly too (CPython's own fast path), signed zero
 * included (0 / -5 == -0.0).  Larger operands would be rounded twice. */
STENCIL(BINARY_OP_TRUE_DIVIDE_INT) {
    int64_t a = SLOT(1).i;
    int64_t b = SLOT(2).i;
    if (b == 0 || !fits_double_exactly(a) || !fits_double_exactly(b)) {
        SIDE_EXIT();
    }
    SLOT(0).f = (double)a / (double)b;
    CONTINUE();
}

/* Lets the compiler compare an int with a float in doubles, exactly. */
STENCIL(GUARD_INT_FITS_FLOAT) {
    if (!fits_double_exactly(SLOT(0).i)) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* -x and abs(x) overflow only for INT64_MIN, whose negation is 2**63. */
#define INT_UNARY_OP(NAME, EXPRESSION)                                        \
    STENCIL(NAME) {                                                           \
        int64_t a = SLOT(1).i;                                                \
        if (a == INT64_MIN_VALUE) {                                           \
            SIDE_EXIT();                                                      \
        }                                                                     \
        SLOT(0).i = (EXPRESSION);                                             \
        CONTINUE();                                                           \
    }

INT_UNARY_OP(UNARY_NEGATIVE_INT, -a)
INT_UNARY_OP(UNARY_ABS_INT, a < 0 ? -a : a)

/* ~a is -a - 1: it never leaves int64 (~INT64_MIN is INT64_MAX). */
STENCIL(UNARY_INVERT_INT) {
    SLOT(0).i = ~SLOT(1).i;
    CONTINUE();
}

/* &, |, ^ of two's-complement int64s are Python's on ints of any size: the
 * result of two int64 operands is an int64 again. */
#define INT_BITWISE_OP(NAME, OPERATOR)                                        \
    STENCIL(NAME) {                                                           \
        SLOT(0).i = SLOT(1).i OPERATOR SLOT(2).i;                             \
        CONTINUE();                                                           \
    }

INT_BITWISE_OP(BINARY_OP_AND_INT, &)
INT_BITWISE_OP(BINARY_OP_OR_INT, |)
INT_BITWISE_OP(BINARY_OP_XOR_INT, ^)

/* a << b is a * 2**b: it leaves for a negative count (Python's ValueError) and
 * for any result beyond int64, which is every count >= 64 unless a is 0.  C
 * shifts by 64 or more, and left shifts of negative values or into the sign
 * bit, are undefined, so the shift is done on the unsigned bits and checked by
 * shifting back: an arithmetic right shift gives a again exactly when no bit
 * (sign included) was lost. */
STENCIL(BINARY_OP_LSHIFT_INT) {
    int64_t a = SLOT(1).i;
    int64_t b = SLOT(2).i;
    if (b < 0 || (b >= 64 && a != 0)) {
        SIDE_EXIT();
    }
    int64_t result = 0;
    if (b < 64) {
        result = (int64_t)((uint64_t)a << b);
        if (result >> b != a) {
            SIDE_EXIT();
        }
    }
    SLOT(0).i = result;
    CONTINUE();
}

/* a >> b is floor(a / 2**b), the arithmetic shift (clang's for signed values);
 * a count of 63 or more leaves only the sign: 0 or -1, as a shift by 63 gives
 * (C leaves counts >= 64 undefined).  A negative count raises in Python. */
STENCIL(BINARY_OP_RSHIFT_INT) {
    int64_t a = SLOT(1).i;
    int64_t b = SLOT(2).i;
    if (b < 0) {
        SIDE_EXIT();
    }
    SLOT(0).i = a >> (b < 63 ? b : 63);
    CONTINUE();
}
