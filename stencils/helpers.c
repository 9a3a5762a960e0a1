/* Helpers: bodies that every site of a stencil shares.  Each is emitted once
 * per process (jit/backend/emitter.py) and called from its stencil's copies,
 * which stay a few instructions long: a body copied into every site of a big
 * function fills the instruction cache (400 unpackings of ten items in a loop
 * made 140 KB of hot code, 3x the interpreter's time with about as many
 * instructions).  A helper is a plain C function of the stencils' ABI whose
 * holes are only C-API symbols: what differs per site comes in arguments. */
#include "jit_entry.h"
#include "jit_objects.h"

/* UNPACK_TO_SLOTS's body: `a, b, c = value` when value is an exact tuple or an
 * exact list of as many items as `table` has (item, slot) pairs (uint32 count,
 * then the pairs, the items in order), a tuple's items `items_offset` bytes
 * in.  Every item is taken first, then each stored, releasing what its slot
 * held (a release may run code that changes the list or lets the tuple go:
 * the interpreter's stack holds the items as this buffer does); no tuple is
 * made.  Where the slots are `distinct`, an item its slot already holds is left
 * there (a loop that unpacks the same values again touches no count).  0 for
 * anything else (the general unpacking's), 1 when stored. */
int UNPACK_TO_SLOTS_BODY(JitSlot *frame, PyObject *value, const uint32_t *table, size_t items_offset,
                         size_t distinct) {
    uint32_t count = table[0];
    PyObject **items;
    if (Py_TYPE(value) == &PyTuple_Type) {
        items = (PyObject **)((char *)value + items_offset);
    } else if (Py_TYPE(value) == &PyList_Type) {
        items = ((PyObject ***)value)[3];  /* ob_item, after the var-size head */
    } else {
        return 0;
    }
    if (((const Py_ssize_t *)value)[2] != (Py_ssize_t)count || count > UNPACK_TO_SLOTS_MAX) {
        return 0;
    }
    PyObject *taken[UNPACK_TO_SLOTS_MAX];
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t k = 0; k < count; k++) {
        PyObject *item = items[k];
        if (distinct && frame[table[2 + 2 * k]].o == item) {
            taken[k] = 0;  /* stays where it is */
        } else {
            taken[k] = item;
            Py_INCREF(item);
        }
    }
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t k = 0; k < count; k++) {
        if (taken[k] != 0) {
            jit_set_owned(&frame[table[2 + 2 * k]], taken[k]);
        }
    }
    return 1;
}

/* LOAD_ATTR_CACHED's body: owner.name through `cache` (a new reference; NULL with an exception set). */
PyObject *LOAD_ATTR_CACHED_BODY(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset) {
    PyObject *value = 0;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), version_offset);
    if (entry != 0) {
        if (entry->kind == ATTRIBUTE_CLASS) {
            if ((char *)owner == entry->keys &&
                jit_type_version((PyTypeObject *)owner, version_offset) == (uint32_t)entry->key_count) {
                if (entry->bind != 0) {  /* what type's own lookup does: the descriptor's get, no instance */
                    typedef PyObject *(*Bind)(PyObject *, PyObject *, PyObject *);
                    value = ((Bind)entry->bind)(entry->method, 0, owner);
                    if (value == 0) {
                        return 0;
                    }
                } else {
                    value = entry->method;
                    Py_INCREF(value);
                }
            }
        } else if (jit_method_found(cache, entry, owner)) {
            /* What the generic path would do: the type's descriptor binds it. */
            typedef PyObject *(*Bind)(PyObject *, PyObject *, PyObject *);
            value = ((Bind)entry->bind)(entry->method, owner, (PyObject *)Py_TYPE(owner));
            if (value == 0) {
                return 0;
            }
        } else {
            int failed = 0;
            value = jit_instance_attribute(cache, entry, owner, &failed);
            if (failed) {
                return 0;
            }
            if (value != 0) {
                Py_INCREF(value);
            }
        }
    }
    if (value == 0) {
        value = PyObject_GetAttr(owner, cache->name);
        if (value == 0) {
            return 0;
        }
        jit_fill_attribute(cache, owner, version_offset, FILL_LOAD);
    }
    return value;
}

/* STORE_ATTR_CACHED's body: owner.name = value through `cache`; -1 with an exception set. */
int STORE_ATTR_CACHED_BODY(JitAttributeCache *cache, PyObject *owner, PyObject *value, uint32_t version_offset) {
    PyObject **at = 0;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), version_offset);
    const JitObjectLayout *layout = cache->layout;
    PyObject **values = 0;
    if (entry != 0 && entry->kind == ATTRIBUTE_VALUE) {
        values = jit_instance_values(cache->values_mode, entry->values_at, layout, owner);
        /* With values after the object (3.13+), a dict made of them shares them: it must hear of changes. */
        int shared = cache->values_mode == VALUES_INLINE && jit_own_dict(owner, layout->managed_dict_offset) != 0;
        if (values != 0 && !shared &&
            (values[entry->index] != 0 ||
             (layout->appends_values && jit_record_order(cache->values_mode, layout, values, entry->index)))) {
            at = &values[entry->index];
        }
    } else if (entry != 0 && entry->kind == ATTRIBUTE_SLOT) {
        at = (PyObject **)((char *)owner + entry->index);
    } else if (entry != 0 && entry->kind == ATTRIBUTE_DICT) {
        values = jit_instance_values(cache->values_mode, jit_values_at(cache, Py_TYPE(owner)), layout, owner);
    }
    PyObject *dict = entry != 0 && values == 0 ? jit_entry_dict(cache, entry, owner) : 0;
    if (dict != 0) {
        /* The generic path's store into the instance's own dict, which shares no values the instance still has
         * (3.13+: those would have to change with it). */
        if (PyDict_SetItem(dict, cache->name, value) < 0) {
            return -1;
        }
        return 0;
    }
    if (at != 0) {
        PyObject *old = *at;
        Py_INCREF(value);
        *at = value;
        Py_XDECREF(old);
        return 0;
    }
    if (PyObject_SetAttr(owner, cache->name, value) < 0) {
        return -1;
    }
    jit_fill_attribute(cache, owner, version_offset, FILL_STORE);
    return 0;
}

/* CALL_METHOD_CACHED's body: vector[0].name(*vector[1:count], the keywords' values) through `cache`; NULL
 * with an exception set. */
PyObject *CALL_METHOD_CACHED_BODY(JitAttributeCache *cache, PyObject **vector, size_t count, PyObject *keywords,
                                   uint32_t version_offset) {
    PyObject *owner = vector[0];
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), version_offset);
    PyObject *result;
    if (entry != 0 && entry->kind == ATTRIBUTE_CLASS && (char *)owner == entry->keys &&
        jit_type_version((PyTypeObject *)owner, version_offset) == (uint32_t)entry->key_count) {
        PyObject *callable = entry->method;
        Py_INCREF(callable);
        int64_t with_class = entry->index;  /* 1: a classmethod's function, the class first */
        result = PyObject_Vectorcall(callable, vector + 1 - with_class,
                                     (count - 1 + (size_t)with_class) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                     keywords);
        Py_DECREF(callable);
    } else if (entry != 0 && jit_method_found(cache, entry, owner)) {
        PyObject *method = entry->method;
        Py_INCREF(method);  /* the call may rebind it on the type */
        result = PyObject_Vectorcall(method, vector, count | PY_VECTORCALL_ARGUMENTS_OFFSET, keywords);
        Py_DECREF(method);
    } else {
        jit_fill_attribute(cache, owner, version_offset, FILL_METHOD);
        result = PyObject_VectorcallMethod(cache->name, vector, count | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                           keywords);
    }
    return result;
}

/* LOAD_METHOD_CACHED's body: what self_slot's object's .name calls, into callable_slot (self_slot NULL
 * unless the call takes it as self, as jit_loaded says); -1 with an exception set. */
int LOAD_METHOD_CACHED_BODY(JitAttributeCache *cache, JitSlot *callable_slot, JitSlot *self_slot,
                            uint32_t version_offset) {
    PyObject *owner = self_slot->o;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), version_offset);
    int failed = 0;
    PyObject *own = entry != 0 ? jit_instance_attribute(cache, entry, owner, &failed) : 0;  /* the instance's own */
    if (failed) {
        return -1;
    }
    PyObject *callable;
    int64_t keeps_self = 1;
    if (entry != 0 && entry->kind == ATTRIBUTE_CLASS && (char *)owner == entry->keys &&
        jit_type_version((PyTypeObject *)owner, version_offset) == (uint32_t)entry->key_count) {
        callable = entry->method;  /* called without the class, a classmethod's function with it */
        keeps_self = entry->index;
    } else if (entry != 0 && jit_method_found(cache, entry, owner)) {
        callable = entry->method;
    } else if (own != 0) {
        callable = own;  /* called as it is, without self */
        keeps_self = 0;
    } else {
        jit_fill_attribute(cache, owner, version_offset, FILL_METHOD);
        callable = PyObject_GetAttr(owner, cache->name);
        if (callable == 0) {
            return -1;
        }
        jit_loaded(callable_slot, self_slot, callable, 0);
        return 0;
    }
    Py_INCREF(callable);
    jit_loaded(callable_slot, self_slot, callable, keeps_self);
    return 0;
}

/* ENTRY's body: every dispatcher's way in from CPython's calling convention (the thread's C stack floor, the
 * frame stack, the recursion count, the binding of the arguments), shared: a method called from many sites of
 * many functions runs one copy of it; the JitEntry's chain, the dispatcher's code after ENTRY, runs on the bound
 * frame. */
PyObject *ENTRY_BODY(PyObject *const *args, size_t nargsf, PyObject *kwnames, JitEntry *entry) {
    JitFrameStack *stack = entry->stack;
    size_t frame_size = (size_t)entry->frame_size;
    size_t simple_count = (size_t)entry->simple_count;
    PyObject *slowpath = entry->slowpath;
    size_t nargs = nargsf & ~PY_VECTORCALL_ARGUMENTS_OFFSET;
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
    int simple = kwnames == 0 && nargs == simple_count;
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
    /* simple_count is the parameter count where they are all positional (else no count of arguments). */
    int bound = simple || (kwnames == 0 && nargs < simple_count && simple_count == (size_t)entry->parameters &&
                           jit_bind_defaults(entry, frame, args, nargs, simple_count))
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
    PyObject *result = entry->chain(frame);
    stack->top = top;
    if (frame != top) {
        jit_previous_chunk(stack);
    }
    jit_leave_recursive_call(remaining);
    jit_release_made(made);
    return result;
}

/* The branches on a comparison of objects (JUMP_IF_COMPARE_LT ...), where their inline int and float cases do
 * not apply: bool(a OP b) through PyObject_RichCompare; -1 with an exception set. */
int COMPARISON_TRUTH_BODY(PyObject *a, PyObject *b, int op) {
    PyObject *result = PyObject_RichCompare(a, b, op);
    if (result == 0) {
        return -1;
    }
    int truth = object_truth(result);
    Py_DECREF(result);
    return truth;
}

/* CLEAR_RANGE's body: release `count` slots from `first` on, setting each NULL before its release (which may run
 * code that looks at the frame). */
void CLEAR_RANGE_BODY(JitSlot *first, uint32_t count) {
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t i = 0; i < count; i++) {
        PyObject *object = first[i].o;
        first[i].o = 0;
        Py_XDECREF(object);
    }
}
