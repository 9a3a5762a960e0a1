/* The way into and out of a compiled chain from CPython's calling convention.
 *
 * ENTRY is the only stencil with the vectorcall prototype: the runtime wraps
 * its address in a callable object, so a call of the compiled function costs
 * one C call plus this prologue.  Frames come from one process-wide stack of
 * slots (bump allocation, released on return), so entering needs no malloc
 * and recursion needs nothing special.  Anything the chain does not handle
 * (keywords, a wrong argument count, an exhausted frame stack) goes to the
 * slow-path callable, which is the original Python function: its answer and
 * its exceptions (TypeError, RecursionError) are the interpreter's. */
#include "jit_stencil.h"

PyObject *ENTRY(PyObject *callable, PyObject *const *args, size_t nargsf,
                PyObject *kwnames) {
    (void)callable;
    JitFrameStack *stack = (JitFrameStack *)(uintptr_t)OPERAND(0);
    PyObject *slowpath = (PyObject *)(uintptr_t)OPERAND(1);
    size_t nargs = nargsf & ~PY_VECTORCALL_ARGUMENTS_OFFSET;
    size_t frame_size = OPARG(0);
    JitSlot *frame = stack->top;
    PyThreadState *thread = PyThreadState_Get();
    /* Compared as a count of free slots: forming frame + frame_size past the
     * limit would already be undefined.  The stack is this thread's if it
     * owns it, or if nobody has frames on it. */
    if (kwnames != 0 || nargs != OPARG(1) ||
        (size_t)(stack->limit - frame) < frame_size ||
        (stack->owner != thread && frame != stack->base)) {
        return PyObject_Vectorcall(slowpath, args, nargsf, kwnames);
    }
    stack->owner = thread;
    /* A call counts against the recursion limit, as a Python call does: the
     * generic tier calls compiled functions through their callable objects,
     * so deep recursion comes back here, and must raise RecursionError
     * rather than exhaust the C stack.  The counter is adjusted inline while
     * it is above the limit (see JitFrameStack). */
    int32_t *remaining = stack->recursion_counter_offset
        ? (int32_t *)((char *)thread + stack->recursion_counter_offset) : 0;
    if (remaining != 0 && *remaining > 0) {
        (*remaining)--;
    } else if (Py_EnterRecursiveCall("")) {
        return 0;
    }
    stack->top = frame + frame_size;
    /* Arguments are borrowed: the caller keeps them alive for the call.  Few
     * arguments are usual, so a plain loop is smaller than vector code. */
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (size_t i = 0; i < nargs; i++) {
        frame[i].o = args[i];
    }
    /* A plain call, not a tail call: the prototypes differ, and the frame is
     * popped after the chain returns. */
    PyObject *result = _JIT_CONTINUE(frame);
    stack->top = frame;
    if (remaining != 0) {
        (*remaining)++;
    } else {
        Py_LeaveRecursiveCall();
    }
    return result;
}

/* Terminal: the chain's entry guards found argument types it was not
 * specialized for.  The arguments are still untouched (borrowed) in slots
 * 0..nargs-1, which are consecutive pointers: JitSlot is pointer-sized. */
STENCIL(CALL_SLOWPATH) {
    PyObject *slowpath = (PyObject *)(uintptr_t)OPERAND(0);
    return PyObject_Vectorcall(slowpath, &frame[0].o, OPARG(0), 0);
}
