/* Moves and constants between frame slots.
 *
 * Raw moves (LOAD_CONST, COPY) serve the specialized tier: a slot there holds
 * 8 bytes of int64 or double bits, so one 8-byte move fits both types.  The
 * *_OBJECT variants serve the generic tier, where a slot owns a reference. */
#include "jit_stencil.h"

/* The int64 operand also carries doubles: the compiler passes their bits. */
STENCIL(LOAD_CONST) {
    SLOT(0).i = (int64_t)OPERAND(0);
    CONTINUE();
}

STENCIL(COPY) {
    SLOT(0) = SLOT(1);
    CONTINUE();
}

/* OPERAND0 is a borrowed pointer kept alive by the compiled code's constants. */
STENCIL(LOAD_CONST_OBJECT) {
    PyObject *value = (PyObject *)(uintptr_t)OPERAND(0);
    Py_INCREF(value);
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* The increment comes before the release because dst and src may be the same
 * slot: releasing first could free the object we are about to copy. */
STENCIL(COPY_OBJECT) {
    PyObject *value = SLOT(1).o;
    Py_INCREF(value);
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* dst = SLOT1's object, whose reference it takes over: SLOT1 becomes NULL (what the value of
 * a temporary nobody reads again does, instead of a copy and a release). */
STENCIL(MOVE_OBJECT) {
    PyObject *value = SLOT(1).o;
    SLOT(1).o = 0;
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* Turns a borrowed slot (an argument at entry) into an owned one.  The
 * compiler only emits it on slots known to hold an object, never NULL. */
STENCIL(INCREF) {
    Py_INCREF(SLOT(0).o);
    CONTINUE();
}

STENCIL(CLEAR) {
    jit_set_owned(&SLOT(0), 0);
    CONTINUE();
}

/* For a slot whose content is raw (unboxed bits or borrowed): nothing to release. */
STENCIL(SET_NULL) {
    SLOT(0).o = 0;
    CONTINUE();
}
