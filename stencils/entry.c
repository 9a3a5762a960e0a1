/* The way into and out of a compiled chain from CPython's calling convention.
 *
 * ENTRY is the stencil with the vectorcall prototype: the runtime wraps its
 * address in a callable object, so a call of the compiled function costs one
 * C call plus this prologue.  Frames come from the frame stack (bump
 * allocation in chunks, released on return), so entering needs no malloc and
 * recursion nothing special.  ENTRY binds keyword arguments and defaults
 * itself, from a JitEntry the runtime fills for the function; what it does not
 * bind (a keyword that names no parameter, a missing argument, too many, a
 * function whose code changed) goes to the slow-path callable, which binds
 * like the interpreter: its answer and its exceptions (TypeError,
 * RecursionError) are the interpreter's. */
#include "jit_entry.h"


/* OPERAND0: the JitEntry.  ENTRY_BODY (helpers.c) does the work, then calls the rest of the dispatcher (the
 * JitEntry's chain): what differs per dispatcher is all in the JitEntry, so this is one jump. */
PyObject *ENTRY(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    (void)callable;
    return ENTRY_BODY(args, nargsf, kwnames, (JitEntry *)(uintptr_t)OPERAND(0));
}

/* Terminal: a call the dispatcher hands on, to the slow-path callable or to
 * the original function (OPERAND0), with the OPARG0 arguments still untouched
 * (borrowed) in slots 0..nargs-1, which are consecutive pointers: JitSlot is
 * pointer-sized.  ENTRY counted the call against the recursion limit; the
 * count goes back for the duration, since what is called counts itself.
 * OPERAND1 is the frame stack. */
static inline __attribute__((always_inline)) PyObject *jit_hand_on(JitSlot *frame, PyObject *callable) {
    JitFrameStack *stack = (JitFrameStack *)OPERAND(1);
    int32_t *remaining = jit_recursion_counter(stack, stack->owner);
    if (remaining != 0) {
        (*remaining)++;
    }
    PyObject *result = PyObject_Vectorcall(callable, &frame[0].o, OPARG(0), 0);
    if (remaining != 0) {
        (*remaining)--;
    }
    return result;
}

/* jit_hand_on for a function whose parameters are not all positional: the
 * call is rebuilt, as `callable(*positional, *args, **keyword_only, **kwargs)`,
 * from the slots ENTRY bound. */
static inline __attribute__((always_inline)) PyObject *jit_hand_on_rebuilt(JitSlot *frame, PyObject *callable,
                                                                           JitEntry *entry) {
    int64_t count = entry->parameters, named = count + entry->keyword_only;
    PyObject *rest = entry->varargs ? frame[named].o : 0;
    PyObject *more = entry->varkeywords ? frame[named + entry->varargs].o : 0;
    Py_ssize_t extra = rest != 0 ? jit_size(rest) : 0;
    PyObject *positional = PyTuple_New(count + extra);
    if (positional == 0) {
        return 0;
    }
    for (Py_ssize_t j = 0; j < count + extra; j++) {
        PyObject *item = j < count ? frame[j].o : jit_items(entry, rest)[j - count];
        Py_INCREF(item);
        jit_items(entry, positional)[j] = item;
    }
    PyObject *keywords = more != 0 ? PyDict_Copy(more) : PyDict_New();
    PyObject *result = 0;
    if (keywords != 0) {
        int64_t i = count;
        while (i < named && PyDict_SetItem(keywords, entry->names[i], frame[i].o) == 0) {
            i++;
        }
        if (i == named) {
            JitFrameStack *stack = (JitFrameStack *)OPERAND(1);
            int32_t *remaining = jit_recursion_counter(stack, stack->owner);
            if (remaining != 0) {
                (*remaining)++;
            }
            result = PyObject_Call(callable, positional, keywords);
            if (remaining != 0) {
                (*remaining)--;
            }
        }
        Py_DECREF(keywords);
    }
    Py_DECREF(positional);
    return result;
}

/* The dispatcher's guards failed, or no specialization takes these argument
 * types: the slow path decides (and may compile).  OPERAND0 is {slow path,
 * compiled callable, sentinel, the JitEntry to rebuild the call with or NULL}: when the slow path returns the sentinel, the
 * machine code takes the call now, and the call is made again from here, so
 * that no Python frame of the compiler stands between the caller and the
 * compiled code (an exception's traceback shows none). */
STENCIL(CALL_SLOWPATH) {
    PyObject **cell = (PyObject **)(uintptr_t)OPERAND(0);
    JitEntry *rebuilt = (JitEntry *)cell[3];  /* NULL: the slots are the call's positional arguments */
    PyObject *result = rebuilt ? jit_hand_on_rebuilt(frame, cell[0], rebuilt) : jit_hand_on(frame, cell[0]);
    if (result != cell[2]) {
        return result;
    }
    Py_DECREF(result);
    return rebuilt ? jit_hand_on_rebuilt(frame, cell[1], rebuilt) : jit_hand_on(frame, cell[1]);
}

/* Argument types known to run in the interpreter: the original function. */
STENCIL(CALL_ORIGINAL) {
    return jit_hand_on(frame, (PyObject *)(uintptr_t)OPERAND(0));
}

/* The whole entry of a function that cannot be compiled: its calls, in every
 * form, go to the original Python function (OPERAND0) as they came, so that
 * wrapping it costs one C call and nothing is counted twice (the recursion
 * limit is the original's to count). */
PyObject *FORWARD(PyObject *callable, PyObject *const *args, size_t nargsf,
                  PyObject *kwnames) {
    (void)callable;
    return PyObject_Vectorcall((PyObject *)(uintptr_t)OPERAND(0), args, nargsf, kwnames);
}
