/* Calls: compiled code calling compiled code directly, the dispatcher's calls
 * into specializations, generic calls of any callable, and global guards. */
#include "jit_stencil.h"

extern void PyErr_SetString(PyObject *type, const char *message);
extern PyObject *PyExc_RecursionError;
extern PyObject *PyDict_GetItem(PyObject *dict, PyObject *key);

typedef JitResult JitChain(JitSlot *frame);

/* A specialized chain returns the frame itself to say "my result is unboxed in
 * frame[0]"; any other non-NULL result is an object (the generic tier's). */
#define RAW_RESULT(FRAME) ((PyObject *)(FRAME))

STENCIL(RETURN_RAW) {
    frame[0] = SLOT(0);
    return RAW_RESULT(frame);
}

STENCIL(RETURN_CONST) {
    PyObject *value = (PyObject *)OPERAND(0);
    Py_INCREF(value);
    return value;
}

/* The dispatcher calls a specialization and boxes an unboxed result. */
#define RETURN_SPECIALIZED(KIND, BOX)                                   \
    STENCIL(RETURN_SPECIALIZED_##KIND) {                                \
        JitResult result = ((JitChain *)OPERAND(0))(frame);             \
        if (result == RAW_RESULT(frame)) {                              \
            return BOX;                                                 \
        }                                                               \
        return result;                                                  \
    }
RETURN_SPECIALIZED(INT, PyLong_FromLongLong(frame[0].i))
RETURN_SPECIALIZED(FLOAT, PyFloat_FromDouble(frame[0].f))
RETURN_SPECIALIZED(BOOL, jit_new_bool(frame[0].i != 0))
RETURN_SPECIALIZED(OBJECT, result)

/* dst = callee(args...), the arguments already unboxed in the slots from SLOT1 on.
 * OPERAND0 is the address of a cell holding the callee's entry (filled once
 * the callee is emitted, so that a function can call itself), OPARG2 the
 * callee's frame size, OPERAND1 the frame stack.  The call counts against the
 * recursion limit as a Python call does. */
STENCIL(CALL_JIT) {
    JitSlot *callee_frame = SLOT_ADDRESS(1);
    JitFrameStack *stack = (JitFrameStack *)OPERAND(1);
    JitSlot *caller_top = stack->top;
    if ((size_t)(stack->limit - callee_frame) < OPARG(2)) {
        PyErr_SetString(PyExc_RecursionError, "maximum recursion depth exceeded");
        ERROR();
    }
    /* Py_EnterRecursiveCall's own counter, adjusted inline while it is above
     * its limit; at the limit the C-API function decides (and raises). */
    int32_t *remaining = stack->recursion_counter_offset
        ? (int32_t *)((char *)stack->owner + stack->recursion_counter_offset) : 0;
    if (remaining != 0 && *remaining > 0) {
        (*remaining)--;
    } else if (Py_EnterRecursiveCall("")) {
        ERROR();
    }
    stack->top = callee_frame + OPARG(2);
    JitResult result = (*(JitChain **)OPERAND(0))(callee_frame);
    stack->top = caller_top;
    if (remaining != 0) {
        (*remaining)++;
    } else {
        Py_LeaveRecursiveCall();
    }
    if (result == RAW_RESULT(callee_frame)) {
        SLOT(0) = callee_frame[0];
        CONTINUE();
    }
    if (result == 0) {
        ERROR();
    }
    /* The callee deoptimized and returned an object: so must we, after this op. */
    SLOT(0).o = result;
    SIDE_EXIT();
}

/* dst = callable(OPARG2 arguments in the slots from SLOT1 on) in the generic tier. */
STENCIL(CALL_SLOTS) {
    PyObject *result = PyObject_Vectorcall((PyObject *)OPERAND(0), &SLOT(1).o, OPARG(2), 0);
    if (result == 0) {
        ERROR();
    }
    Py_XDECREF(SLOT(0).o);
    SLOT(0).o = result;
    CONTINUE();
}

/* Leave (to the slow path) when a global the code assumed has been rebound. */
typedef struct {
    PyObject *namespace;
    PyObject *name;
    PyObject *expected; /* NULL: the name must stay unbound */
} JitGlobalGuard;

STENCIL(GUARD_GLOBAL) {
    JitGlobalGuard *guard = (JitGlobalGuard *)OPERAND(0);
    if (PyDict_GetItem(guard->namespace, guard->name) != guard->expected) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* Count an event (a deoptimization) in a 64-bit counter at OPERAND0. */
STENCIL(INCREMENT_COUNTER) {
    (*(int64_t *)OPERAND(0))++;
    CONTINUE();
}
