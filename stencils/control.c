/* Loops, signal checks and function returns. */
#include "jit_stencil.h"

/* One step of `for target in range(...)` on int64 slots (counter, stop, step;
 * step is never 0: range() raised before).  Python's range yields while
 * counter < stop (step > 0) or counter > stop (step < 0).  When counter + step
 * leaves int64 the true value lies beyond stop anyway (stop is an int64), so
 * saturating the counter at stop ends the loop at the next test instead of
 * wrapping around.  FOR_ITER_RANGE_UP is the same for a step the compiler
 * knows is positive (a constant), without the sign test. */
#define FOR_ITER_RANGE_STENCIL(NAME, DONE)                                    \
    STENCIL(NAME) {                                                           \
        int64_t counter = SLOT(1).i;                                          \
        int64_t stop = SLOT(2).i;                                             \
        int64_t step = SLOT(3).i;                                             \
        if (DONE) {                                                           \
            JUMP();                                                           \
        }                                                                     \
        int64_t next;                                                         \
        if (__builtin_add_overflow(counter, step, &next)) {                   \
            next = stop;                                                      \
        }                                                                     \
        SLOT(0).i = counter;                                                  \
        SLOT(1).i = next;                                                     \
        CONTINUE();                                                           \
    }
FOR_ITER_RANGE_STENCIL(FOR_ITER_RANGE, step > 0 ? counter >= stop : counter <= stop)
FOR_ITER_RANGE_STENCIL(FOR_ITER_RANGE_UP, counter >= stop)

/* Loop back edges count down and poll for signals (Ctrl-C) every so many
 * iterations, as the interpreter's eval breaker would, without paying a call
 * on every iteration.  CHECK_SIGNALS is the back edge itself: it jumps to the
 * loop head while the count lasts, else falls into POLL_SIGNALS, placed right
 * after it and followed by a jump to the head, so the common path is one
 * decrement and one taken branch, with no register saves for the call.
 * CHECK_SIGNALS_ON_CALL and POLL_SIGNALS_ON_CALL are the same at the entry of
 * a function that makes calls, on one count shared by all of them (the int64
 * at OPERAND0 and OPERAND1): recursion without loops answers Ctrl-C too.  There
 * the poll is out of line (the count-down jumps to it and it jumps back), and
 * the count restarts in the poll, off the common path. */
STENCIL(CHECK_SIGNALS) {
    if (--SLOT(0).i > 0) {
        JUMP();
    }
    CONTINUE();
}

STENCIL(CHECK_SIGNALS_ON_CALL) {
    if (--*(int64_t *)OPERAND(0) <= 0) {
        JUMP(); /* to the poll, placed out of line: the common path falls through */
    }
    CONTINUE();
}

/* OPERAND0 is a Python function that does nothing: calling it runs the
 * interpreter's eval breaker, which gives the GIL to a thread that asked for
 * it (a timer thread may be the one that interrupts this loop) and runs signal
 * handlers, exactly as between two bytecodes.  Releasing the GIL here by hand
 * would not do: a waiting thread asks for the GIL only after a switch interval
 * without a switch, and each release counts as one.  The frame stack stays
 * this thread's (see JitFrameStack).  0 when an exception is set. */
static inline int jit_poll(PyObject *run_eval_breaker) {
    PyObject *nothing = PyObject_Vectorcall(run_eval_breaker, 0, 0, 0);
    if (nothing == 0) {
        return 0;
    }
    Py_DECREF(nothing);
    return PyErr_CheckSignals() >= 0;
}

STENCIL(POLL_SIGNALS) {
    SLOT(0).i = (int64_t)OPARG(1);
    if (!jit_poll((PyObject *)OPERAND(0))) {
        ERROR();
    }
    CONTINUE();
}

STENCIL(POLL_SIGNALS_ON_CALL) {
    *(int64_t *)OPERAND(1) = (int64_t)OPARG(0);
    if (!jit_poll((PyObject *)OPERAND(0))) {
        ERROR();
    }
    CONTINUE();
}

/* Terminal stencils: they end the chain with a plain return to the entry
 * stencil's call.  A NULL from a box constructor passes through: the
 * exception is set and the caller sees it. */
#define RETURN_BOXED(NAME, NEW_REFERENCE)                                     \
    STENCIL(NAME) {                                                           \
        return (NEW_REFERENCE);                                               \
    }

RETURN_BOXED(RETURN_INT, PyLong_FromLongLong(SLOT(0).i))
RETURN_BOXED(RETURN_FLOAT, PyFloat_FromDouble(SLOT(0).f))
RETURN_BOXED(RETURN_BOOL, jit_new_bool(SLOT(0).i != 0))

/* The slot's reference moves to the caller; clearing the slot keeps any later
 * frame cleanup from releasing it a second time. */
STENCIL(RETURN_OBJECT) {
    PyObject *result = SLOT(0).o;
    SLOT(0).o = 0;
    return result;
}

/* The end of the error path: an exception is set, NULL reports it. */
STENCIL(RETURN_NULL) {
    (void)frame;
    return 0;
}
