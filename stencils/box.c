/* Crossings between the tiers: boxing unboxed values into objects, unboxing
 * objects after a guard on their exact type, and plain type guards.
 *
 * Guards test the exact type, not isinstance: a subclass of int or float may
 * override any operator, so only the exact types have the semantics the
 * specialized stencils implement.  (bool is a subclass of int, hence its own
 * unboxing.) */
#include "jit_stencil.h"

#define EXIT_UNLESS_TYPE(OBJECT, TYPE)                                        \
    if (Py_TYPE(OBJECT) != (TYPE)) {                                          \
        SIDE_EXIT();                                                          \
    }

/* dst's old content is raw bits of the specialized tier: nothing to release.
 * A NULL from the constructor means MemoryError is set. */
#define BOX_STENCIL(NAME, NEW_REFERENCE)                                      \
    STENCIL(NAME) {                                                           \
        PyObject *boxed = (NEW_REFERENCE);                                    \
        if (boxed == 0) {                                                     \
            ERROR();                                                          \
        }                                                                     \
        SLOT(0).o = boxed;                                                    \
        CONTINUE();                                                           \
    }

BOX_STENCIL(BOX_INT, PyLong_FromLongLong(SLOT(1).i))
BOX_STENCIL(BOX_FLOAT, PyFloat_FromDouble(SLOT(1).f))
BOX_STENCIL(BOX_BOOL, jit_new_bool(SLOT(1).i != 0))

/* src is borrowed: the generic tier's slot keeps its reference.  An int too
 * big for int64 is no error: the generic tier handles it.  A compact int is
 * read inline (OPARG2: how ints keep their size), any other through the C API. */
STENCIL(UNBOX_INT) {
    PyObject *boxed = SLOT(1).o;
    EXIT_UNLESS_TYPE(boxed, &PyLong_Type)
    int64_t compact;
    if (jit_compact_int(boxed, OPARG(2), &compact)) {
        SLOT(0).i = compact;
        CONTINUE();
    }
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(boxed, &overflow);
    if (overflow != 0) {
        SIDE_EXIT();
    }
    if (value == -1 && PyErr_Occurred() != 0) {
        ERROR();
    }
    SLOT(0).i = value;
    CONTINUE();
}

/* An exact float's value, read inline (it cannot fail). */
STENCIL(UNBOX_FLOAT) {
    PyObject *boxed = SLOT(1).o;
    EXIT_UNLESS_TYPE(boxed, &PyFloat_Type)
    SLOT(0).f = jit_float_value(boxed);
    CONTINUE();
}

/* True and False are singletons: identity decides, no call needed. */
STENCIL(UNBOX_BOOL) {
    PyObject *boxed = SLOT(1).o;
    if (boxed != Py_True && boxed != Py_False) {
        SIDE_EXIT();
    }
    SLOT(0).i = boxed == Py_True;
    CONTINUE();
}

/* An argument the dispatcher passes as an object (any type but the numbers,
 * whose own specializations unbox them). */
STENCIL(GUARD_NOT_NUMBER) {
    PyTypeObject *type = Py_TYPE(SLOT(0).o);
    if (type == &PyLong_Type || type == &PyFloat_Type || type == &PyBool_Type) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* OPERAND0 is the expected type object (kept alive by the compiled code). */
STENCIL(GUARD_TYPE) {
    EXIT_UNLESS_TYPE(SLOT(0).o, (PyTypeObject *)(uintptr_t)OPERAND(0))
    CONTINUE();
}

/* What the value in slot 0 of a bet on its type (jit/optimizer/bets.py) is
 * goes into the bet's word (OPERAND0, OBSERVED_* bits).  OPARG1 is the kind
 * bet on, in the generic tier, or 0 where the specialized tier lost the bet
 * (then the word says so too).  A value not of that kind sets the
 * specialization's word of lost bets (OPERAND1), which its dispatcher checks
 * at every call: the driver then bets again, on what was seen. */
STENCIL(NOTE_TYPE) {
    PyTypeObject *type = Py_TYPE(SLOT(0).o);
    int64_t seen = type == &PyFloat_Type  ? OBSERVED_FLOAT
                   : type == &PyLong_Type ? OBSERVED_INT
                   : type == &PyBool_Type ? OBSERVED_BOOL
                                          : OBSERVED_OTHER;
    int64_t bet = (int64_t)OPARG(1);
    *(int64_t *)(uintptr_t)OPERAND(0) |= seen | (bet == 0 ? OBSERVED_LOST : 0);
    if (seen != bet) {
        *(int64_t *)(uintptr_t)OPERAND(1) = 1;
    }
    CONTINUE();
}
