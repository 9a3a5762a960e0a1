/* Shared conventions of every cpjit stencil.  See docs/stencils.md.
 *
 * A stencil is one C function compiled ahead of time into machine code with
 * "holes": references to extern symbols whose values are only known when the
 * runtime copies the code into executable memory and patches it.  Stencils
 * include nothing from the C library or from Python.h, so that one set of
 * tables serves every CPython version: the few object-layout facts they need
 * (ob_refcnt, ob_type) are those of the stable ABI.
 */
#ifndef JIT_STENCIL_H
#define JIT_STENCIL_H

typedef __INT32_TYPE__ int32_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __INT64_TYPE__ int64_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INTPTR_TYPE__ intptr_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __SIZE_TYPE__ size_t;
typedef __PTRDIFF_TYPE__ Py_ssize_t;

/* The head of every object, as the stable ABI fixes it (non-free-threaded). */
typedef struct _typeobject PyTypeObject;
typedef struct _object {
    Py_ssize_t ob_refcnt;
    PyTypeObject *ob_type;
} PyObject;

/* A frame slot holds an unboxed int64 or double in the specialized tier, or an
 * owned PyObject* (or NULL) in the generic tier. */
typedef union {
    int64_t i;
    double f;
    PyObject *o;
} JitSlot;

/* The structures and constants shared with Python (the frame stack, the
 * deoptimization tables, the global guards, the comparison codes): generated
 * from jit/layouts.py, which gives their one definition. */
typedef struct _ts PyThreadState;
#include "jit_layouts.h"

/* Every stencil of a chain has this prototype: musttail needs them identical. */
typedef PyObject *JitResult;
#define STENCIL(NAME) JitResult NAME(JitSlot *frame)

/* Control holes: where a stencil goes next. */
extern JitResult _JIT_CONTINUE(JitSlot *frame);    /* the next stencil */
extern JitResult _JIT_JUMP_TARGET(JitSlot *frame); /* a branch target */
extern JitResult _JIT_SIDE_EXIT(JitSlot *frame);   /* failed guard: deoptimize */
extern JitResult _JIT_ERROR(JitSlot *frame);       /* exception set: unwind */

#define CONTINUE() __attribute__((musttail)) return _JIT_CONTINUE(frame)
#define JUMP() __attribute__((musttail)) return _JIT_JUMP_TARGET(frame)
#define SIDE_EXIT() __attribute__((musttail)) return _JIT_SIDE_EXIT(frame)
#define ERROR() __attribute__((musttail)) return _JIT_ERROR(frame)

/* Operand holes.  OPARGn is a 32-bit value (a count, a comparison code);
 * SLOTn names frame slot n of the instruction: the runtime patches in the
 * slot's byte offset, so that a slot is one addressing displacement
 * (x86-64: [frame + disp32]) rather than an index to scale; OPERANDn is a
 * 64-bit value (int64 or double bits, object or function address).  An
 * instruction gives slot n and oparg n from the same operand, so a stencil
 * uses SLOT(n) or OPARG(n) for each n, not both.  The runtime checks every
 * patched value against its width. */
#if defined(__x86_64__) && !defined(__APPLE__)
/* Under -mcmodel=medium, small-model externs give 32-bit absolute relocations. */
#define JIT_HOLE32 __attribute__((model("small")))
#else
#define JIT_HOLE32
#endif
extern char _JIT_OPARG0 JIT_HOLE32;
extern char _JIT_OPARG1 JIT_HOLE32;
extern char _JIT_OPARG2 JIT_HOLE32;
extern char _JIT_OPARG3 JIT_HOLE32;
extern char _JIT_SLOT0 JIT_HOLE32;
extern char _JIT_SLOT1 JIT_HOLE32;
extern char _JIT_SLOT2 JIT_HOLE32;
extern char _JIT_SLOT3 JIT_HOLE32;
extern char _JIT_OPERAND0[];
extern char _JIT_OPERAND1[];

#define OPARG(N) ((uint32_t)(uintptr_t)&_JIT_OPARG##N)
#define OPERAND(N) ((uint64_t)(uintptr_t)_JIT_OPERAND##N)
#define SLOT_ADDRESS(N) ((JitSlot *)((char *)frame + (intptr_t)&_JIT_SLOT##N))
#define SLOT(N) (*SLOT_ADDRESS(N))

static inline double operand_as_double(uint64_t bits) {
    double d;
    __builtin_memcpy(&d, &bits, sizeof d);  /* lowers to a move, not a call */
    return d;
}

/* CPython's C API: referenced by name, resolved by the runtime at load time.
 * Only functions and data of the stable ABI. */
extern PyTypeObject PyLong_Type;
extern PyTypeObject PyFloat_Type;
extern PyTypeObject PyBool_Type;
extern PyTypeObject PyUnicode_Type;
extern PyObject _Py_NoneStruct;
extern PyObject _Py_TrueStruct;
extern PyObject _Py_FalseStruct;
extern void _Py_Dealloc(PyObject *);
extern PyObject *PyLong_FromLongLong(long long);
extern long long PyLong_AsLongLongAndOverflow(PyObject *, int *);
extern double PyLong_AsDouble(PyObject *);
extern PyObject *PyFloat_FromDouble(double);
extern double PyFloat_AsDouble(PyObject *);
extern PyObject *PyErr_Occurred(void);
extern int PyErr_CheckSignals(void);
extern PyObject *PyNumber_Add(PyObject *, PyObject *);
extern PyObject *PyUnicode_Concat(PyObject *, PyObject *);
extern PyObject *PyNumber_Subtract(PyObject *, PyObject *);
extern PyObject *PyNumber_Multiply(PyObject *, PyObject *);
extern PyObject *PyNumber_TrueDivide(PyObject *, PyObject *);
extern PyObject *PyNumber_FloorDivide(PyObject *, PyObject *);
extern PyObject *PyNumber_Remainder(PyObject *, PyObject *);
extern PyObject *PyNumber_Power(PyObject *, PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceAdd(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceSubtract(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceMultiply(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceTrueDivide(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceFloorDivide(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceRemainder(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlacePower(PyObject *, PyObject *, PyObject *);
extern PyObject *PyNumber_And(PyObject *, PyObject *);
extern PyObject *PyNumber_Or(PyObject *, PyObject *);
extern PyObject *PyNumber_Xor(PyObject *, PyObject *);
extern PyObject *PyNumber_Lshift(PyObject *, PyObject *);
extern PyObject *PyNumber_Rshift(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceAnd(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceOr(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceXor(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceLshift(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceRshift(PyObject *, PyObject *);
extern PyObject *PyNumber_Negative(PyObject *);
extern PyObject *PyNumber_Absolute(PyObject *);
extern PyObject *PyNumber_Invert(PyObject *);
extern PyObject *PyNumber_Positive(PyObject *);
extern PyObject *PyNumber_MatrixMultiply(PyObject *, PyObject *);
extern PyObject *PyNumber_InPlaceMatrixMultiply(PyObject *, PyObject *);
extern PyObject *PyNumber_Long(PyObject *);
extern PyObject *PyNumber_Float(PyObject *);
extern PyObject *PyObject_RichCompare(PyObject *, PyObject *, int);
extern int PyObject_RichCompareBool(PyObject *, PyObject *, int);
extern int PyObject_IsTrue(PyObject *);
extern PyThreadState *PyThreadState_Get(void);
extern int Py_EnterRecursiveCall(const char *where);
extern void Py_LeaveRecursiveCall(void);
extern PyObject *PyObject_Vectorcall(PyObject *, PyObject *const *, size_t, PyObject *);
extern void *PyMem_Malloc(size_t);
extern PyObject *PyErr_NoMemory(void);
extern void PyErr_SetString(PyObject *type, const char *message);
extern PyObject *PyExc_RecursionError;
extern PyObject *PyExc_NameError;
extern PyObject *PyDict_GetItemWithError(PyObject *, PyObject *);

/* A fixed value of the stable ABI: the vectorcall flag that lets a callee
 * borrow args[-1].  (The rich-comparison opcodes Py_LT ... Py_GE are in
 * jit_layouts.h.) */
#define PY_VECTORCALL_ARGUMENTS_OFFSET ((size_t)1 << (8 * sizeof(size_t) - 1))

#define Py_TYPE(OB) ((OB)->ob_type)
#define Py_None (&_Py_NoneStruct)
#define Py_True (&_Py_TrueStruct)
#define Py_False (&_Py_FalseStruct)

/* Reference counting inline, leaving immortal objects alone as CPython's own
 * Py_INCREF and Py_DECREF do from 3.12 on (3.12 to 3.15 agree: immortal is a
 * count whose low 32 bits read negative).  Counting them anyway, as an abi3
 * extension built for 3.11 does, drifts: CPython hands out new references to
 * None, True or small ints without counting them, so each DECREF here takes
 * one more away, and a few billion calls would make such an object mortal and
 * then free it.  Harmless on 3.11, where no count reaches 2**31 (16 GiB of
 * references to one object). */
static inline int jit_immortal(PyObject *op) { return (int32_t)op->ob_refcnt < 0; }
static inline void Py_INCREF(PyObject *op) {
    if (!jit_immortal(op)) {
        op->ob_refcnt++;
    }
}
static inline void Py_DECREF(PyObject *op) {
    if (!jit_immortal(op) && --op->ob_refcnt == 0) {
        _Py_Dealloc(op);
    }
}
static inline void Py_XDECREF(PyObject *op) {
    if (op != 0) {
        Py_DECREF(op);
    }
}

/* The cache entry of a thread's C stack floor (see JitFrameStack). */
static inline JitStackFloor *jit_stack_floor(JitFrameStack *stack, PyThreadState *thread) {
    return &stack->floors[((uintptr_t)thread >> 4) % JIT_STACK_FLOORS];
}

/* Whether a compiled call here would go below the running thread's floor:
 * then it raises RecursionError, as the interpreter does at its limit. */
static inline __attribute__((always_inline)) int jit_c_stack_exhausted(char *floor) {
    if ((char *)__builtin_stack_address() < floor) {
        PyErr_SetString(PyExc_RecursionError, "maximum recursion depth exceeded");
        return 1;
    }
    return 0;
}

/* The first slot of a frame of `size` slots that does not fit in the rest of
 * the current chunk: the start of the next chunk, made if there is none or it
 * is too small (a smaller one stays linked after the new one).  NULL with
 * MemoryError set when no memory is left.  When the frame is popped, the
 * caller goes back with jit_previous_chunk: the common path, a frame that
 * fits, saves and restores nothing. */
static inline __attribute__((always_inline)) JitSlot *jit_next_chunk(JitFrameStack *stack, size_t size) {
    JitChunk *next = stack->chunk->next;
    if (next == 0 || (size_t)(next->limit - next->slots) < size) {
        size_t slots = size > (size_t)stack->chunk_slots ? size : (size_t)stack->chunk_slots;
        JitChunk *made = (JitChunk *)PyMem_Malloc(sizeof(JitChunk) + slots * sizeof(JitSlot));
        if (made == 0) {
            PyErr_NoMemory();
            return 0;
        }
        made->next = next;
        made->previous = stack->chunk;
        made->limit = made->slots + slots;
        if (next != 0) {
            next->previous = made;
        }
        stack->chunk->next = made;
        next = made;
    }
    stack->chunk = next;
    stack->limit = next->limit;
    return next->slots;
}

static inline void jit_previous_chunk(JitFrameStack *stack) {
    stack->chunk = stack->chunk->previous;
    stack->limit = stack->chunk->limit;
}

/* The recursion counter of Python calls, adjusted inline while it is above
 * its limit.  At the limit, the C-API function decides (and raises) where it
 * shares the counter (3.11: it also raises the thread's limit after a
 * sys.setrecursionlimit); where it does not, the interpreter's own check for
 * Python calls is what a call must meet, and it raises without more ado
 * (CPython's _Py_CheckRecursiveCallPy, not exported).  0 when the call may go
 * ahead. */
static inline int jit_enter_recursive_call(JitFrameStack *stack, int32_t *remaining) {
    if (remaining != 0 && *remaining > 0) {
        (*remaining)--;
        return 0;
    }
    if (remaining != 0 && stack->recursion_counter_python_only) {
        PyErr_SetString(PyExc_RecursionError, "maximum recursion depth exceeded");
        return -1;
    }
    return Py_EnterRecursiveCall("");
}

static inline void jit_leave_recursive_call(int32_t *remaining) {
    if (remaining != 0) {
        (*remaining)++;
    } else {
        Py_LeaveRecursiveCall();
    }
}

static inline int32_t *jit_recursion_counter(JitFrameStack *stack, PyThreadState *thread) {
    return stack->recursion_counter_offset
        ? (int32_t *)((char *)thread + stack->recursion_counter_offset) : 0;
}

/* A float's value, read where every CPython keeps it (after the object head:
 * PyFloatObject's ob_fval), as PyFloat_AS_DOUBLE does. */
static inline __attribute__((always_inline)) double jit_float_value(PyObject *value) {
    return *(double *)((char *)value + sizeof(PyObject));
}

/* Whether an exact int is compact (one 30-bit digit: the ints the specializing
 * interpreter takes inline), and then its value, read inline.  `mode` (an
 * oparg the runtime patches, jit/backend/layout.py's int_layout) says how the
 * running interpreter keeps the size, in the word after the object head: a
 * signed digit count (3.11), or a tag of count and sign (3.12+).  INT_UNKNOWN
 * answers 0: the caller takes the C API's path. */
static inline __attribute__((always_inline)) int jit_compact_int(PyObject *value, uint32_t mode, int64_t *result) {
    int64_t size = ((const int64_t *)value)[2];
    int64_t digit = ((const uint32_t *)value)[6];
    if (mode == INT_SIGNED_SIZE && (uint64_t)(size + 1) <= 2) {
        *result = size * digit;
        return 1;
    }
    if (mode == INT_TAGGED && (uint64_t)size < 16) {
        *result = (1 - (size & 3)) * digit;
        return 1;
    }
    return 0;
}

/* Store an owned reference into a generic-tier slot, then release what it held
 * (CPython's Py_SETREF order): the release may run arbitrary code (__del__),
 * which must never find the slot pointing at a freed object. */
static inline void jit_set_owned(JitSlot *slot, PyObject *value) {
    PyObject *old = slot->o;
    slot->o = value;
    Py_XDECREF(old);
}

/* bool(x): 1, 0, or -1 with an exception set.  The singletons are answered
 * inline because conditions are mostly comparison results. */
static inline int object_truth(PyObject *value) {
    if (value == Py_True) {
        return 1;
    }
    if (value == Py_False || value == Py_None) {
        return 0;
    }
    return PyObject_IsTrue(value);
}

/* The helpers (stencils/helpers.c): one copy per process, called by the
 * stencils named after them. */
typedef JitResult (*JitContinuation)(JitSlot *frame);
typedef struct JitEntry JitEntry;
extern PyObject *ENTRY_BODY(PyObject *const *args, size_t nargsf, PyObject *kwnames, JitEntry *entry);
extern void CLEAR_RANGE_BODY(JitSlot *first, uint32_t count);
extern int COMPARISON_TRUTH_BODY(PyObject *a, PyObject *b, int op);
extern int UNPACK_TO_SLOTS_BODY(JitSlot *frame, PyObject *value, const uint32_t *table, size_t items_offset,
                                size_t distinct);
extern PyObject *LOAD_ATTR_CACHED_BODY(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset);
extern int STORE_ATTR_CACHED_BODY(JitAttributeCache *cache, PyObject *owner, PyObject *value, uint32_t version_offset);
extern PyObject *CALL_METHOD_CACHED_BODY(JitAttributeCache *cache, PyObject **vector, size_t count, PyObject *keywords,
                                         uint32_t version_offset);
extern int LOAD_METHOD_CACHED_BODY(JitAttributeCache *cache, JitSlot *callable_slot, JitSlot *self_slot,
                                   uint32_t version_offset);

#define OBJECT_OPERAND(N) ((PyObject *)(uintptr_t)OPERAND(N))

/* dst = NEW_REFERENCE, evaluated once; NULL means an exception is set. */
#define RESULT_STENCIL(NAME, NEW_REFERENCE)                                   \
    STENCIL(NAME) {                                                           \
        PyObject *result = (NEW_REFERENCE);                                   \
        if (result == 0) {                                                    \
            ERROR();                                                          \
        }                                                                     \
        jit_set_owned(&SLOT(0), result);                                      \
        CONTINUE();                                                           \
    }

/* A C-API call for its effect: a negative STATUS means an exception is set. */
#define STATUS_STENCIL(NAME, STATUS)                                          \
    STENCIL(NAME) {                                                           \
        if ((STATUS) < 0) {                                                   \
            ERROR();                                                          \
        }                                                                     \
        CONTINUE();                                                           \
    }

/* A new reference to True or False: several families (returns, boxing, `not`)
 * turn a C truth value into a bool object. */
static inline PyObject *jit_new_bool(int truth) {
    PyObject *op = truth ? Py_True : Py_False;
    Py_INCREF(op);
    return op;
}

#endif
