/* What ENTRY (entry.c) and its body, ENTRY_BODY (helpers.c), share: the JitEntry the runtime fills for a
 * function, and the binding of a call's arguments to its parameters. */
#ifndef JIT_ENTRY_H
#define JIT_ENTRY_H

#include "jit_stencil.h"

/* What ENTRY knows of the function it enters (jit/compiler.py makes it). */
struct JitEntry {  /* (typedef in jit_stencil.h) */
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
    JitFrameStack *stack;      /* the frame stack */
    int64_t frame_size;        /* the dispatcher's frame: the largest of its specializations' */
    int64_t simple_count;      /* the parameter count where they are all positional (else no count of arguments) */
    JitContinuation chain;     /* the dispatcher's code after ENTRY (filled in once it is emitted) */
    PyObject *names[];         /* the names of the positional and keyword-only ones (NULL for a positional-only
                                * one: no keyword names it) */
};

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

#endif /* JIT_ENTRY_H */
