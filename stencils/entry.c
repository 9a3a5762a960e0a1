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
#include "jit_stencil.h"


/* What ENTRY knows of the function it enters (jit/compiler.py makes it). */
typedef struct {
    PyObject *slowpath;        /* a callable taking the call as it came */
    PyObject *function;        /* the Python function */
    int64_t code_offset;       /* where the function object keeps __code__ */
    PyObject *code;            /* the code object the names below belong to */
    int64_t defaults_offset;   /* where it keeps __defaults__ (NULL: none), read at each call */
    int64_t parameters;        /* positional parameters, or -1: ENTRY binds nothing itself */
    int64_t items_offset;      /* where a tuple keeps its items (after its PyVarObject size) */
    PyObject *names[];         /* their names (NULL for a positional-only one: no keyword names it) */
} JitEntry;

/* A tuple's size (its PyVarObject header, fixed by the stable ABI) and items
 * (at the offset jit/backend/layout.py found in the running interpreter). */
static inline Py_ssize_t jit_size(PyObject *tuple) {
    return ((Py_ssize_t *)tuple)[2];
}

static inline PyObject **jit_items(JitEntry *entry, PyObject *tuple) {
    return (PyObject **)((char *)tuple + entry->items_offset);
}

/* Bind a call's arguments to the function's positional parameters in frame
 * slots 0..n-1 (borrowed references), as the interpreter would: positional
 * ones first, keywords by name (the names are interned: compared by address,
 * any other spelling goes to the slow path), then the defaults.  0 when the
 * call is not one this binds (the slow path decides, with the interpreter's
 * message for an error). */
static inline __attribute__((always_inline)) int jit_bind(JitEntry *entry, JitSlot *frame, PyObject *const *args, size_t nargs,
                           PyObject *kwnames) {
    int64_t count = entry->parameters;
    if (count < 0 || nargs > (size_t)count ||
        *(PyObject **)((char *)entry->function + entry->code_offset) != entry->code) {
        return 0;
    }
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (int64_t i = 0; i < count; i++) {
        frame[i].o = (size_t)i < nargs ? args[i] : 0;
    }
    Py_ssize_t keywords = kwnames != 0 ? jit_size(kwnames) : 0;
    for (Py_ssize_t k = 0; k < keywords; k++) {
        PyObject *name = jit_items(entry, kwnames)[k];
        int64_t i = 0;
        while (i < count && entry->names[i] != name) {
            i++;
        }
        if (i == count || frame[i].o != 0) {
            return 0; /* no such parameter, or given twice */
        }
        frame[i].o = args[nargs + (size_t)k];
    }
    PyObject *defaults = *(PyObject **)((char *)entry->function + entry->defaults_offset);
    int64_t first_default = count - (defaults != 0 ? (int64_t)jit_size(defaults) : 0);
    for (int64_t i = (int64_t)nargs; i < count; i++) {
        if (frame[i].o == 0) {
            if (i < first_default) {
                return 0; /* missing: the interpreter's TypeError */
            }
            frame[i].o = jit_items(entry, defaults)[i - first_default];
        }
    }
    return 1;
}

PyObject *ENTRY(PyObject *callable, PyObject *const *args, size_t nargsf,
                PyObject *kwnames) {
    (void)callable;
    JitFrameStack *stack = (JitFrameStack *)(uintptr_t)OPERAND(0);
    JitEntry *entry = (JitEntry *)(uintptr_t)OPERAND(1);
    PyObject *slowpath = entry->slowpath;
    size_t nargs = nargsf & ~PY_VECTORCALL_ARGUMENTS_OFFSET;
    size_t frame_size = OPARG(0);
    PyThreadState *thread = PyThreadState_Get();
    /* Before the frame stack is looked at: the measure is Python code, during
     * which other threads may run compiled code. */
    JitStackFloor *floor = jit_stack_floor(stack, thread);
    if (floor->thread != thread) {
        stack->stack_address = (char *)__builtin_stack_address();
        PyObject *measured = PyObject_Vectorcall(stack->measure_c_stack, 0, 0, 0);
        if (measured == 0) {
            return 0;
        }
        Py_DECREF(measured);
    }
    JitSlot *top = stack->top;
    /* The stack is this thread's if it owns it, or if nobody has frames on it;
     * and its floor is known (the measure never evicts the floor of a thread
     * with live frames, which its direct calls read). */
    int simple = kwnames == 0 && nargs == OPARG(1);
    if ((stack->owner != thread && top != stack->base) || floor->thread != thread) {
        return PyObject_Vectorcall(slowpath, args, nargsf, kwnames);
    }
    if (jit_c_stack_exhausted(floor->floor)) {
        return 0;
    }
    stack->owner = thread;
    stack->c_floor = floor->floor;
    /* A call counts against the recursion limit, as a Python call does: the
     * generic tier calls compiled functions through their callable objects,
     * so deep recursion comes back here, and must raise RecursionError
     * rather than exhaust the C stack. */
    int32_t *remaining = jit_recursion_counter(stack, thread);
    if (jit_enter_recursive_call(stack, remaining)) {
        return 0;
    }
    /* Compared as a count of free slots: forming top + frame_size past the
     * limit would already be undefined. */
    JitSlot *frame = top;
    if ((size_t)(stack->limit - top) < frame_size) {
        frame = jit_next_chunk(stack, frame_size);
        if (frame == 0) {
            jit_leave_recursive_call(remaining);
            return 0;
        }
    }
    /* Arguments are borrowed: the caller keeps them alive for the call.  Few
     * arguments are usual, so a plain loop is smaller than vector code. */
    if (simple) {
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
        for (size_t i = 0; i < nargs; i++) {
            frame[i].o = args[i];
        }
    } else if (!jit_bind(entry, frame, args, nargs, kwnames)) {
        if (frame != top) {
            jit_previous_chunk(stack);
        }
        jit_leave_recursive_call(remaining);
        return PyObject_Vectorcall(slowpath, args, nargsf, kwnames);
    }
    stack->top = frame + frame_size;
    /* A plain call, not a tail call: the prototypes differ, and the frame is
     * popped after the chain returns. */
    PyObject *result = _JIT_CONTINUE(frame);
    stack->top = top;
    if (frame != top) {
        jit_previous_chunk(stack);
    }
    jit_leave_recursive_call(remaining);
    return result;
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

/* The dispatcher's guards failed, or no specialization takes these argument
 * types: the slow path decides (and may compile).  OPERAND0 is {slow path,
 * compiled callable, sentinel}: when the slow path returns the sentinel, the
 * machine code takes the call now, and the call is made again from here, so
 * that no Python frame of the compiler stands between the caller and the
 * compiled code (an exception's traceback shows none). */
STENCIL(CALL_SLOWPATH) {
    PyObject **cell = (PyObject **)(uintptr_t)OPERAND(0);
    PyObject *result = jit_hand_on(frame, cell[0]);
    if (result != cell[2]) {
        return result;
    }
    Py_DECREF(result);
    return jit_hand_on(frame, cell[1]);
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
