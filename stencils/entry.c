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
    int64_t parameters;        /* positional parameters */
    int64_t items_offset;      /* where a tuple keeps its items (after its PyVarObject size) */
    int64_t keyword_only;      /* keyword-only parameters, after the positional ones */
    int64_t kwdefaults_offset; /* where the function keeps __kwdefaults__ (NULL: none), read at each call */
    int64_t varargs;           /* 1: a `*args` parameter (a new tuple) follows */
    int64_t varkeywords;       /* 1: a `**kwargs` parameter (a new dict) follows that */
    PyObject *names[];         /* the names of the positional and keyword-only ones (NULL for a positional-only
                                * one: no keyword names it) */
} JitEntry;

extern PyTypeObject PyUnicode_Type;
extern int PyUnicode_Compare(PyObject *, PyObject *);
extern PyObject *PyTuple_New(Py_ssize_t);
extern PyObject *PyDict_New(void);
extern PyObject *PyDict_Copy(PyObject *);
extern int PyDict_SetItem(PyObject *, PyObject *, PyObject *);
extern PyObject *PyObject_Call(PyObject *, PyObject *, PyObject *);

/* A tuple's size (its PyVarObject header, fixed by the stable ABI) and items
 * (at the offset jit/backend/layout.py found in the running interpreter). */
static inline Py_ssize_t jit_size(PyObject *tuple) {
    return ((Py_ssize_t *)tuple)[2];
}

static inline PyObject **jit_items(JitEntry *entry, PyObject *tuple) {
    return (PyObject **)((char *)tuple + entry->items_offset);
}

/* What jit_bind made for the call (always inlined: ENTRY is one function). */
static inline __attribute__((always_inline)) void jit_release_made(PyObject **made) {
    for (int i = 0; i < 2; i++) {
        if (made[i] != 0) {
            Py_DECREF(made[i]);  /* the empty tuple may be immortal: Py_DECREF knows */
        }
    }
}

/* The index among the named parameters of the keyword `name`, compared by
 * address (names are interned); `named` for a name that goes into `**kwargs`
 * (checked by value too: the dict must not take what a parameter would); -1
 * for a name this does not bind. */
static inline __attribute__((always_inline)) int64_t jit_parameter_named(JitEntry *entry, PyObject *name,
                                                                         int64_t named) {
    int64_t i = 0;
    while (i < named && entry->names[i] != name) {
        i++;
    }
    if (i < named) {
        return i;
    }
    if (!entry->varkeywords) {
        return -1;
    }
    if (Py_TYPE(name) != &PyUnicode_Type) {
        return -1;
    }
    for (i = 0; i < named; i++) {
        if (entry->names[i] != 0 && PyUnicode_Compare(name, entry->names[i]) == 0) {
            return -1; /* another spelling of a parameter's name: the slow path binds it */
        }
    }
    return named;
}

/* Bind a call's arguments to the function's parameters in frame slots
 * (borrowed references, but for the tuple of `*args` and the dict of
 * `**kwargs`, new ones that go into made[0] and made[1]), as the interpreter
 * would: positional ones first, keywords by name, then the defaults and the
 * keyword-only defaults.  1 when bound; 0 when the call is not one this binds
 * (the slow path decides, with the interpreter's message for an error); -1
 * with an exception set. */
static inline __attribute__((always_inline)) int jit_bind(JitEntry *entry, JitSlot *frame, PyObject *const *args,
                                                          size_t nargs, PyObject *kwnames, PyObject **made) {
    int64_t count = entry->parameters;
    int64_t named = count + entry->keyword_only;
    if ((nargs > (size_t)count && !entry->varargs) ||
        *(PyObject **)((char *)entry->function + entry->code_offset) != entry->code) {
        return 0;
    }
    size_t given = nargs < (size_t)count ? nargs : (size_t)count;
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (int64_t i = 0; i < named; i++) {
        frame[i].o = (size_t)i < given ? args[i] : 0;
    }
    Py_ssize_t keywords = kwnames != 0 ? jit_size(kwnames) : 0;
    for (Py_ssize_t k = 0; k < keywords; k++) {
        int64_t i = jit_parameter_named(entry, jit_items(entry, kwnames)[k], named);
        if (i == named) {
            continue; /* for **kwargs */
        }
        if (i < 0 || frame[i].o != 0) {
            return 0; /* no such parameter, or given twice */
        }
        frame[i].o = args[nargs + (size_t)k];
    }
    PyObject *defaults = *(PyObject **)((char *)entry->function + entry->defaults_offset);
    int64_t first_default = count - (defaults != 0 ? (int64_t)jit_size(defaults) : 0);
    for (int64_t i = (int64_t)given; i < count; i++) {
        if (frame[i].o == 0) {
            if (i < first_default) {
                return 0; /* missing: the interpreter's TypeError */
            }
            frame[i].o = jit_items(entry, defaults)[i - first_default];
        }
    }
    for (int64_t i = count; i < named; i++) {
        if (frame[i].o == 0) {
            PyObject *kwdefaults = *(PyObject **)((char *)entry->function + entry->kwdefaults_offset);
            frame[i].o = kwdefaults != 0 ? PyDict_GetItemWithError(kwdefaults, entry->names[i]) : 0;
            if (frame[i].o == 0) {
                return 0; /* missing (the name is a str: the lookup raises nothing) */
            }
        }
    }
    int64_t next = named;
    if (entry->varargs) {
        Py_ssize_t extra = nargs > (size_t)count ? (Py_ssize_t)(nargs - (size_t)count) : 0;
        PyObject *rest = PyTuple_New(extra);
        if (rest == 0) {
            return -1;
        }
        for (Py_ssize_t j = 0; j < extra; j++) {
            Py_INCREF(args[count + j]);
            jit_items(entry, rest)[j] = args[count + j];
        }
        made[0] = rest;
        frame[next++].o = rest;
    }
    if (entry->varkeywords) {
        PyObject *more = PyDict_New();
        if (more == 0) {
            return -1;
        }
        made[1] = more;
        frame[next].o = more;
        for (Py_ssize_t k = 0; k < keywords; k++) {
            PyObject *name = jit_items(entry, kwnames)[k];
            if (jit_parameter_named(entry, name, named) == named &&
                PyDict_SetItem(more, name, args[nargs + (size_t)k]) < 0) {
                return -1;
            }
        }
    }
    return 1;
}

/* The common call that leaves out trailing defaults, of a function whose parameters are all positional
 * (`count` of them): the arguments, then the defaults, copied into the slots (borrowed, as jit_bind binds them).
 * 0 for any other call (jit_bind's).  The code is checked first, as jit_bind does: another code's parameters
 * are not these, and the slow path must get the call as it came. */
static inline __attribute__((always_inline)) int jit_bind_defaults(JitEntry *entry, JitSlot *frame,
                                                                   PyObject *const *args, size_t nargs,
                                                                   size_t count) {
    PyObject *defaults = *(PyObject **)((char *)entry->function + entry->defaults_offset);
    if (defaults == 0 || nargs + (size_t)jit_size(defaults) < count ||
        *(PyObject **)((char *)entry->function + entry->code_offset) != entry->code) {
        return 0;
    }
    PyObject **items = jit_items(entry, defaults) + (jit_size(defaults) - (Py_ssize_t)count);
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (size_t i = 0; i < count; i++) {
        frame[i].o = i < nargs ? args[i] : items[i];
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
    }
    PyObject *made[2] = {0, 0};
    /* OPARG1 is the parameter count where they are all positional (else no count of arguments). */
    int bound = simple || (kwnames == 0 && nargs < OPARG(1) && OPARG(1) == (size_t)entry->parameters &&
                           jit_bind_defaults(entry, frame, args, nargs, OPARG(1)))
        ? 1 : jit_bind(entry, frame, args, nargs, kwnames, made);
    if (bound <= 0) {
        jit_release_made(made);
        if (frame != top) {
            jit_previous_chunk(stack);
        }
        jit_leave_recursive_call(remaining);
        return bound < 0 ? 0 : PyObject_Vectorcall(slowpath, args, nargsf, kwnames);
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
    jit_release_made(made);
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
