/* The object tier: attributes, subscripts, displays, calls of any callable,
 * iteration, unpacking, formatting, raising, globals.  Each stencil is
 * CPython's own C-API call, so results and exceptions are the interpreter's;
 * where the interpreter words an error itself (unpacking, `*` and `**`), the
 * stencil words it the same way, per version where versions differ (an oparg
 * the runtime patches from the running interpreter). */
#include "jit_objects.h"

/* --- attributes, subscripts, slices ------------------------------------- */

RESULT_STENCIL(LOAD_ATTR, PyObject_GetAttr(SLOT(1).o, OBJECT_OPERAND(0)))
STATUS_STENCIL(STORE_ATTR, PyObject_SetAttr(SLOT(0).o, OBJECT_OPERAND(0), SLOT(1).o))
STATUS_STENCIL(DELETE_ATTR, PyObject_SetAttr(SLOT(0).o, OBJECT_OPERAND(0), 0))

LOAD_ATTR_HIT_STENCIL(LOAD_ATTR_HIT_INLINE, VALUES_INLINE)
LOAD_ATTR_HIT_STENCIL(LOAD_ATTR_HIT_POINTER, VALUES_POINTER)
LOAD_ATTR_HIT_STENCIL(LOAD_ATTR_HIT_TAGGED, VALUES_TAGGED)
STORE_ATTR_HIT_STENCIL(STORE_ATTR_HIT_INLINE, VALUES_INLINE)
STORE_ATTR_HIT_STENCIL(STORE_ATTR_HIT_POINTER, VALUES_POINTER)
STORE_ATTR_HIT_STENCIL(STORE_ATTR_HIT_TAGGED, VALUES_TAGGED)
LOAD_METHOD_HIT_STENCIL(LOAD_METHOD_HIT_INLINE, VALUES_INLINE)
LOAD_METHOD_HIT_STENCIL(LOAD_METHOD_HIT_POINTER, VALUES_POINTER)
LOAD_METHOD_HIT_STENCIL(LOAD_METHOD_HIT_TAGGED, VALUES_TAGGED)

/* dst = SLOT1.name through the cache OPERAND0 (OPARG2: where types keep their version). */
STENCIL(LOAD_ATTR_CACHED) {
    PyObject *value = LOAD_ATTR_CACHED_BODY((JitAttributeCache *)OPERAND(0), SLOT(1).o, OPARG(2));
    if (value == 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* SLOT0.name = SLOT1 through the cache OPERAND0.  A new attribute among the
 * values is also recorded in their insertion order (vars() lists it last). */
STENCIL(STORE_ATTR_CACHED) {
    if (STORE_ATTR_CACHED_BODY((JitAttributeCache *)OPERAND(0), SLOT(0).o, SLOT(1).o, OPARG(2)) < 0) {
        ERROR();
    }
    CONTINUE();
}

/* Where item `i` of the `length` items at `items` is, for `i` in range
 * (negative from the end); NULL otherwise, for the C-API's own path. */
JIT_INLINE PyObject **jit_place_at(PyObject **items, int64_t length, int64_t i) {
    if (i < -length || i >= length) {
        return 0;
    }
    return items + (i < 0 ? i + length : i);
}

/* Item `i` of an exact list (its size where every var-size object keeps it,
 * its items through the word after) and of an exact tuple (its items
 * `items_offset` bytes in), as above. */
JIT_INLINE PyObject **jit_list_item_at(PyObject *list, int64_t i) {
    return jit_place_at(((PyObject ***)list)[3], ((const int64_t *)list)[2], i);
}

JIT_INLINE PyObject **jit_tuple_item_at(PyObject *tuple, int64_t i, uint64_t items_offset) {
    return jit_place_at((PyObject **)((char *)tuple + items_offset), ((const int64_t *)tuple)[2], i);
}

/* Where `list[index]` and `tuple[index]` are when the specializing
 * interpreter would take them inline (BINARY_SUBSCR_LIST_INT, _TUPLE_INT):
 * an exact list or tuple and a compact int index (`int_mode`: how ints keep
 * their size) in range; NULL otherwise. */
JIT_INLINE PyObject **jit_list_place(PyObject *list, PyObject *index, uint32_t int_mode) {
    int64_t i;
    return Py_TYPE(list) == &PyList_Type && Py_TYPE(index) == &PyLong_Type && jit_compact_int(index, int_mode, &i)
        ? jit_list_item_at(list, i) : 0;
}

JIT_INLINE PyObject **jit_tuple_place(PyObject *tuple, PyObject *index, uint32_t int_mode, uint64_t items_offset) {
    int64_t i;
    return Py_TYPE(tuple) == &PyTuple_Type && Py_TYPE(index) == &PyLong_Type && jit_compact_int(index, int_mode, &i)
        ? jit_tuple_item_at(tuple, i, items_offset) : 0;
}

JIT_INLINE PyObject *jit_get_item(PyObject *container, PyObject *key, uint32_t int_mode, uint64_t items_offset) {
    PyObject **at = jit_list_place(container, key, int_mode);
    if (at == 0) {
        at = jit_tuple_place(container, key, int_mode, items_offset);
    }
    if (at != 0) {
        Py_INCREF(*at);
        return *at;
    }
    return PyObject_GetItem(container, key);
}

/* A list's item replaced by `value`: the old one released after the store, as the list's own item assignment
 * releases it. */
JIT_INLINE void jit_replace_item(PyObject **at, PyObject *value) {
    PyObject *old = *at;
    Py_INCREF(value);
    *at = value;
    Py_DECREF(old);
}

JIT_INLINE int jit_set_item(PyObject *container, PyObject *key, PyObject *value, uint32_t int_mode) {
    PyObject **at = jit_list_place(container, key, int_mode);
    if (at != 0) {
        jit_replace_item(at, value);
        return 0;
    }
    return PyObject_SetItem(container, key, value);
}

/* OPARG3: how ints keep their size (INT_UNKNOWN ... INT_TAGGED); OPERAND0: where a tuple's items are. */
RESULT_STENCIL(BINARY_SUBSCR, jit_get_item(SLOT(1).o, SLOT(2).o, OPARG(3), OPERAND(0)))
STATUS_STENCIL(STORE_SUBSCR, jit_set_item(SLOT(0).o, SLOT(1).o, SLOT(2).o, OPARG(3)))

/* The specialized tier's list[i] and tuple[i] of an unboxed int i (SLOT2, an int64: no int object is made
 * for it), inline for an exact list or tuple (its items OPERAND0 bytes in) and i in range; anything else
 * jumps to the general path, which boxes i for BINARY_SUBSCR. */
STENCIL(BINARY_SUBSCR_INT) {
    PyObject *container = SLOT(1).o;
    PyObject **at;
    if (Py_TYPE(container) == &PyList_Type) {
        at = jit_list_item_at(container, SLOT(2).i);
    } else if (Py_TYPE(container) == &PyTuple_Type) {
        at = jit_tuple_item_at(container, SLOT(2).i, OPERAND(0));
    } else {
        JUMP();
    }
    if (at == 0) {
        JUMP();  /* the general path raises the IndexError */
    }
    PyObject *item = *at;
    Py_INCREF(item);
    jit_set_owned(&SLOT(0), item);
    CONTINUE();
}

/* SLOT0[SLOT1] = SLOT2 for an unboxed int SLOT1, inline for an exact list and SLOT1 in range (the old item
 * released after the store, as the list's own assignment does); anything else jumps to STORE_SUBSCR. */
STENCIL(STORE_SUBSCR_INT) {
    PyObject *container = SLOT(0).o;
    PyObject **at = Py_TYPE(container) == &PyList_Type ? jit_list_item_at(container, SLOT(1).i) : 0;
    if (at == 0) {
        JUMP();
    }
    jit_replace_item(at, SLOT(2).o);
    CONTINUE();
}
STATUS_STENCIL(DELETE_SUBSCR, PyObject_DelItem(SLOT(0).o, SLOT(1).o))
RESULT_STENCIL(BUILD_SLICE, PySlice_New(SLOT(1).o, SLOT(2).o, SLOT(3).o))

/* --- displays: the items are a borrowed vector of OPARG2 slots from SLOT1 -- */

#define ITEMS() (&SLOT(1).o)
#define COUNT() ((Py_ssize_t)OPARG(2))

/* A new tuple or list (NULL: its allocation failed) holding new references to
 * the items, stored straight where its items are (`into`), as the
 * interpreter's BUILD_TUPLE and BUILD_LIST store them, not through
 * PyTuple_SetItem's or PyList_SetItem's checks. */
JIT_INLINE PyObject *jit_filled(PyObject *sequence, PyObject **into, PyObject **items, Py_ssize_t count) {
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_INCREF(items[i]);
        into[i] = items[i];
    }
    return sequence;
}

/* A tuple's items are `items_offset` bytes in (jit/backend/layout.py finds it), a list's behind its ob_item, the
 * word after the var-size head. */
JIT_INLINE PyObject *jit_tuple_of(PyObject **items, Py_ssize_t count, uint64_t items_offset) {
    PyObject *tuple = PyTuple_New(count);
    return tuple == 0 ? 0 : jit_filled(tuple, (PyObject **)((char *)tuple + items_offset), items, count);
}

JIT_INLINE PyObject *jit_list_of(PyObject **items, Py_ssize_t count) {
    PyObject *list = PyList_New(count);
    return list == 0 ? 0 : jit_filled(list, ((PyObject ***)list)[3], items, count);
}

JIT_INLINE PyObject *jit_set_of(PyObject **items, Py_ssize_t count) {
    PyObject *set = PySet_New(0);
    if (set == 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PySet_Add(set, items[i]) < 0) {
            Py_DECREF(set);
            return 0;
        }
    }
    return set;
}

/* Keys and values alternate; a later key replaces an earlier equal one. */
JIT_INLINE PyObject *jit_dict_of(PyObject **items, Py_ssize_t count) {
    PyObject *dict = PyDict_New();
    if (dict == 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i + 1 < count; i += 2) {
        if (PyDict_SetItem(dict, items[i], items[i + 1]) < 0) {
            Py_DECREF(dict);
            return 0;
        }
    }
    return dict;
}

/* The parts of an f-string, joined by OPERAND0 (the empty string; OPERAND1: where a tuple's items are). */
JIT_INLINE PyObject *jit_join(PyObject *empty, PyObject **items, Py_ssize_t count, uint64_t items_offset) {
    PyObject *parts = jit_tuple_of(items, count, items_offset);
    if (parts == 0) {
        return 0;
    }
    PyObject *joined = PyUnicode_Join(empty, parts);
    Py_DECREF(parts);
    return joined;
}

/* OPERAND0: where a tuple's items are. */
RESULT_STENCIL(BUILD_TUPLE, jit_tuple_of(ITEMS(), COUNT(), OPERAND(0)))
RESULT_STENCIL(BUILD_LIST, jit_list_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_SET, jit_set_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_MAP, jit_dict_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_STRING, jit_join(OBJECT_OPERAND(0), ITEMS(), COUNT(), OPERAND(1)))
RESULT_STENCIL(LIST_TO_TUPLE, PyList_AsTuple(SLOT(1).o))
STATUS_STENCIL(LIST_APPEND, PyList_Append(SLOT(0).o, SLOT(1).o))
STATUS_STENCIL(SET_ADD, PySet_Add(SLOT(0).o, SLOT(1).o))

/* [*b]: the list grows by b's items; a b that cannot be iterated at all gets
 * the interpreter's own message. */
JIT_INLINE int jit_list_extend(PyObject *list, PyObject *iterable) {
    PyObject *same = PySequence_InPlaceConcat(list, iterable);
    if (same == 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) && jit_not_iterable(iterable)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "Value after * must be an iterable, not %.200s",
                         jit_type_name(iterable));
        }
        return -1;
    }
    Py_DECREF(same);
    return 0;
}

JIT_INLINE int jit_set_update(PyObject *set, PyObject *iterable) {
    PyObject *iterator = PyObject_GetIter(iterable);
    if (iterator == 0) {
        return -1;
    }
    PyObject *item;
    while ((item = PyIter_Next(iterator)) != 0) {
        int status = PySet_Add(set, item);
        Py_DECREF(item);
        if (status < 0) {
            Py_DECREF(iterator);
            return -1;
        }
    }
    Py_DECREF(iterator);
    return PyErr_Occurred() != 0 ? -1 : 0;
}

/* {**b}: b a mapping, else the interpreter's TypeError. */
JIT_INLINE int jit_dict_update(PyObject *dict, PyObject *mapping) {
    if (PyDict_Update(dict, mapping) < 0) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "'%.200s' object is not a mapping", jit_type_name(mapping));
        }
        return -1;
    }
    return 0;
}

STATUS_STENCIL(LIST_EXTEND, jit_list_extend(SLOT(0).o, SLOT(1).o))
STATUS_STENCIL(SET_UPDATE, jit_set_update(SLOT(0).o, SLOT(1).o))
STATUS_STENCIL(DICT_UPDATE, jit_dict_update(SLOT(0).o, SLOT(1).o))

/* --- calls ---------------------------------------------------------------- */

/* dst = callable(*vector), the vector's first OPARG3 items positional and the
 * rest by the keywords named in the tuple OPERAND0 (or none).  The vector
 * starts one slot after SLOT2, which stays free for
 * PY_VECTORCALL_ARGUMENTS_OFFSET: a bound method puts its self there. */
RESULT_STENCIL(CALL, PyObject_Vectorcall(SLOT(1).o, &SLOT(2).o + 1, OPARG(3) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                         OBJECT_OPERAND(0)))

/* dst = self.name(*rest), the vector (self first) of OPARG2 positional items
 * from one slot after SLOT1, then the keywords' values, named by the tuple
 * OPERAND1 (or none); OPERAND0 is the name.  The method is looked up as the
 * interpreter's LOAD_METHOD does, without making a bound method. */
RESULT_STENCIL(CALL_METHOD, PyObject_VectorcallMethod(OBJECT_OPERAND(0), &SLOT(1).o + 1,
                                                      OPARG(2) | PY_VECTORCALL_ARGUMENTS_OFFSET, OBJECT_OPERAND(1)))

/* CALL_METHOD through the attribute cache OPERAND0 (OPARG3: where types keep
 * their version): a hit calls the type's function with self first, as the
 * interpreter's LOAD_METHOD_WITH_VALUES and LOAD_METHOD_NO_DICT do. */
STENCIL(CALL_METHOD_CACHED) {
    PyObject *result = CALL_METHOD_CACHED_BODY((JitAttributeCache *)OPERAND(0), &SLOT(1).o + 1, OPARG(2),
                                               OBJECT_OPERAND(1), OPARG(3));
    if (result == 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), result);
    CONTINUE();
}

/* SLOT0 = what SLOT1.name calls, found as the interpreter's LOAD_METHOD finds
 * it: a method of the type, unbound (SLOT1 stays: the call's self), or the
 * attribute itself, bound (SLOT1, a copy of the owner, becomes NULL), so that
 * the arguments are evaluated after the lookup and no bound method is made
 * for a method.  LOAD_METHOD_CACHED looks through the attribute cache OPERAND0
 * (OPARG2: where types keep their version) as CALL_METHOD_CACHED does. */

STENCIL(LOAD_METHOD) {
    PyObject *bound = PyObject_GetAttr(SLOT(1).o, OBJECT_OPERAND(0));
    if (bound == 0) {
        ERROR();
    }
    jit_loaded(&SLOT(0), &SLOT(1), bound, 0);
    CONTINUE();
}

STENCIL(LOAD_METHOD_CACHED) {
    if (LOAD_METHOD_CACHED_BODY((JitAttributeCache *)OPERAND(0), &SLOT(0), &SLOT(1), OPARG(2)) < 0) {
        ERROR();
    }
    CONTINUE();
}

/* dst = SLOT1(*vector), the vector from one slot after SLOT2 starting with
 * the self LOAD_METHOD left, or NULL for none (then the rest is the vector,
 * and the NULL its free slot in front); OPARG3 counts it with the positional
 * arguments, the keywords' values follow, named by the tuple OPERAND0. */
STENCIL(CALL_LOADED) {
    PyObject **vector = &SLOT(2).o + 1;
    size_t without_self = vector[0] == 0;
    PyObject *result = PyObject_Vectorcall(SLOT(1).o, vector + without_self,
                                           (OPARG(3) - without_self) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                           OBJECT_OPERAND(0));
    if (result == 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), result);
    CONTINUE();
}

/* How the interpreter names a callable in its messages (_PyObject_FunctionStr):
 * "module.qualname()", "qualname()" for builtins, else str(). */
JIT_INLINE PyObject *jit_function_name(PyObject *callable) {
    PyObject *qualname = PyObject_GetAttrString(callable, "__qualname__");
    if (qualname == 0) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return 0;
        }
        PyErr_Clear();
        return PyObject_Str(callable);
    }
    PyObject *module = PyObject_GetAttrString(callable, "__module__");
    PyObject *name = 0;
    if (module == 0) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
            name = PyUnicode_FromFormat("%S()", qualname);
        }
    } else {
        PyObject *builtins = module == Py_None ? 0 : PyUnicode_FromFormat("builtins");
        int is_builtins = builtins == 0 ? 0 : PyObject_RichCompareBool(module, builtins, Py_EQ);
        Py_XDECREF(builtins);
        if (module == Py_None || is_builtins > 0) {
            name = PyUnicode_FromFormat("%S()", qualname);
        } else if (is_builtins == 0) {
            name = PyUnicode_FromFormat("%S.%S()", module, qualname);
        }
        Py_DECREF(module);
    }
    Py_DECREF(qualname);
    return name;
}

/* The TypeError of f(*b) with a b that cannot be iterated, or of f(**b) with
 * a b that is no mapping: which ("*" or "**", "an iterable" or "a mapping"),
 * worded as the running version words it (OPARG: 1 for "Value after", 3.15). */
JIT_INLINE void jit_argument_error(PyObject *callable, PyObject *value, const char *stars, const char *what,
                               uint32_t plain) {
    PyErr_Clear();
    if (plain) {
        PyErr_Format(PyExc_TypeError, "Value after %s must be %s, not %.200s", stars, what, jit_type_name(value));
        return;
    }
    PyObject *name = jit_function_name(callable);
    if (name != 0) {
        PyErr_Format(PyExc_TypeError, "%U argument after %s must be %s, not %.200s", name, stars, what,
                     jit_type_name(value));
        Py_DECREF(name);
    }
}

/* callable(*arguments, **keywords), keywords NULL for none: the arguments
 * become a tuple and the keywords a dict, as CALL_FUNCTION_EX makes them. */
JIT_INLINE PyObject *jit_call_ex(PyObject *callable, PyObject *arguments, PyObject *keywords, uint32_t plain) {
    PyObject *tuple;
    if (Py_TYPE(arguments) == &PyTuple_Type) {
        tuple = arguments;
        Py_INCREF(tuple);
    } else {
        if (jit_not_iterable(arguments)) {
            jit_argument_error(callable, arguments, "*", "an iterable", plain);
            return 0;
        }
        tuple = PySequence_Tuple(arguments);
        if (tuple == 0) {
            return 0;
        }
    }
    PyObject *dict = keywords;
    if (keywords != 0 && Py_TYPE(keywords) != &PyDict_Type) {
        dict = PyDict_New();
        if (dict == 0 || PyDict_Merge(dict, keywords, 1) < 0) {
            if (dict != 0 && PyErr_ExceptionMatches(PyExc_AttributeError)) {
                jit_argument_error(callable, keywords, "**", "a mapping", plain);
            }
            Py_XDECREF(dict);
            Py_DECREF(tuple);
            return 0;
        }
    } else if (dict != 0) {
        Py_INCREF(dict);
    }
    PyObject *result = PyObject_Call(callable, tuple, dict);
    Py_DECREF(tuple);
    Py_XDECREF(dict);
    return result;
}

RESULT_STENCIL(CALL_FUNCTION_EX, jit_call_ex(SLOT(1).o, SLOT(2).o, 0, OPARG(3)))
STENCIL(CALL_FUNCTION_EX_KW) {
    PyObject *result = jit_call_ex(SLOT(1).o, SLOT(2).o, SLOT(3).o, (uint32_t)(uintptr_t)OPERAND(0));
    if (result == 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), result);
    CONTINUE();
}

/* --- iteration, unpacking, membership ------------------------------------ */

RESULT_STENCIL(GET_ITER, PyObject_GetIter(SLOT(1).o))

/* dst = the iterator's next item, or the loop's exit when it has none. */
STENCIL(FOR_ITER) {
    PyObject *item = PyIter_Next(SLOT(1).o);
    if (item == 0) {
        if (PyErr_Occurred() != 0) {
            ERROR();
        }
        JUMP();
    }
    jit_set_owned(&SLOT(0), item);
    CONTINUE();
}

/* The items of `value` for a target list of `before` targets, a starred one
 * if `after` >= 0 (which takes a list) and `after` more: a tuple of exactly
 * that many, or the interpreter's error.  `counted`: the running version
 * says how many a list, tuple or dict had that had too many (3.14+). */
JIT_INLINE PyObject *jit_unpack(PyObject *value, Py_ssize_t before, Py_ssize_t after, uint32_t counted) {
    if (after < 0 && Py_TYPE(value) == &PyTuple_Type && PyTuple_Size(value) == before) {
        Py_INCREF(value);  /* the tuple itself: what iterating it would give */
        return value;
    }
    if (after < 0 && Py_TYPE(value) == &PyList_Type && PyList_Size(value) == before) {
        return PyList_AsTuple(value);
    }
    PyObject *iterator = PyObject_GetIter(value);
    if (iterator == 0) {
        if (PyErr_ExceptionMatches(PyExc_TypeError) && jit_not_iterable(value)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "cannot unpack non-iterable %.200s object", jit_type_name(value));
        }
        return 0;
    }
    Py_ssize_t total = before + (after >= 0 ? 1 + after : 0);
    PyObject *items = PyTuple_New(total);
    if (items == 0) {
        Py_DECREF(iterator);
        return 0;
    }
    for (Py_ssize_t i = 0; i < before; i++) {
        PyObject *item = PyIter_Next(iterator);
        if (item == 0) {
            if (PyErr_Occurred() == 0) {
                if (after < 0) {
                    PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected %zd, got %zd)", before, i);
                } else {
                    PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected at least %zd, got %zd)",
                                 before + after, i);
                }
            }
            goto failed;
        }
        PyTuple_SetItem(items, i, item);
    }
    if (after < 0) {
        PyObject *extra = PyIter_Next(iterator);
        if (extra != 0) {
            Py_DECREF(extra);
            PyTypeObject *type = Py_TYPE(value);
            if (counted && (type == &PyList_Type || type == &PyTuple_Type || type == &PyDict_Type)) {
                PyErr_Format(PyExc_ValueError, "too many values to unpack (expected %zd, got %zd)", before,
                             PyObject_Size(value));
            } else {
                PyErr_Format(PyExc_ValueError, "too many values to unpack (expected %zd)", before);
            }
            goto failed;
        }
        if (PyErr_Occurred() != 0) {
            goto failed;
        }
    } else {
        PyObject *rest = PySequence_List(iterator);
        if (rest == 0) {
            goto failed;
        }
        Py_ssize_t length = PyList_Size(rest);
        if (length < after) {
            PyErr_Format(PyExc_ValueError, "not enough values to unpack (expected at least %zd, got %zd)",
                         before + after, before + length);
            Py_DECREF(rest);
            goto failed;
        }
        for (Py_ssize_t i = 0; i < after; i++) {
            PyObject *item = PyList_GetItem(rest, length - after + i);  /* borrowed */
            Py_INCREF(item);
            PyTuple_SetItem(items, before + 1 + i, item);
        }
        if (PyList_SetSlice(rest, length - after, length, 0) < 0) {
            Py_DECREF(rest);
            goto failed;
        }
        PyTuple_SetItem(items, before, rest);
    }
    Py_DECREF(iterator);
    return items;
failed:
    Py_DECREF(iterator);
    Py_DECREF(items);
    return 0;
}

/* OPARG2 targets before the starred one, OPARG3 after it plus one (0: no
 * starred target); OPERAND0 says whether too many items are counted. */
RESULT_STENCIL(UNPACK_SEQUENCE, jit_unpack(SLOT(1).o, (Py_ssize_t)OPARG(2), (Py_ssize_t)OPARG(3) - 1,
                                           (uint32_t)(uintptr_t)OPERAND(0)))

/* The interpreter's UNPACK_SEQUENCE_TUPLE and UNPACK_SEQUENCE_LIST: dst = SLOT1
 * when it is an exact tuple of OPARG2 items, a tuple of its items when it is
 * an exact list of as many; anything else jumps to UNPACK_SEQUENCE, out of line. */
STENCIL(UNPACK_SEQUENCE_EXACT) {
    PyObject *value = SLOT(1).o;
    PyObject *items;
    Py_ssize_t size = ((const Py_ssize_t *)value)[2];  /* ob_size, which the stable ABI fixes */
    if (Py_TYPE(value) == &PyTuple_Type && size == (Py_ssize_t)OPARG(2)) {
        Py_INCREF(value);
        items = value;
    } else if (Py_TYPE(value) == &PyList_Type && size == (Py_ssize_t)OPARG(2)) {
        items = PyList_AsTuple(value);
        if (items == 0) {
            ERROR();
        }
    } else {
        JUMP();
    }
    jit_set_owned(&SLOT(0), items);
    CONTINUE();
}

/* dst = the item OPARG2 of the tuple SLOT1 (one UNPACK_SEQUENCE made: in
 * range), read where OPARG3 says a tuple's items start. */
STENCIL(TUPLE_ITEM) {
    PyObject *item = ((PyObject **)((char *)SLOT(1).o + OPARG(3)))[OPARG(2)];
    Py_INCREF(item);
    jit_set_owned(&SLOT(0), item);
    CONTINUE();
}

/* A target list's stores: for each (item, slot) pair of the table OPERAND0
 * (uint32 count, then the pairs), in order, frame[slot] = the item of the
 * tuple SLOT0 (one UNPACK_SEQUENCE made: in range), whose items start OPARG1
 * bytes in; each store releases what its slot held, as STORE_FAST does.
 * OPARG2 = 1: the tuple's last read, which then releases it too. */
STENCIL(TUPLE_ITEMS) {
    const uint32_t *table = (const uint32_t *)(uintptr_t)OPERAND(0);
    PyObject **items = (PyObject **)((char *)SLOT(0).o + OPARG(1));
    uint32_t count = table[0];
    for (uint32_t k = 0; k < count; k++) {
        PyObject *item = items[table[1 + 2 * k]];
        Py_INCREF(item);
        jit_set_owned(&frame[table[2 + 2 * k]], item);
    }
    if (OPARG(2) != 0) {
        jit_set_owned(&SLOT(0), 0);
    }
    CONTINUE();
}

/* a, b, c = SLOT0 when it is an exact tuple or an exact list of as many items
 * as the table OPERAND0 has pairs (TUPLE_ITEMS', the items in order), a
 * tuple's items OPARG1 bytes in, the slots distinct where OPARG2 is 1:
 * UNPACK_TO_SLOTS_BODY (stencils/helpers.c) stores them.  Anything else jumps to the general unpacking, out of line. */
STENCIL(UNPACK_TO_SLOTS) {
    if (!UNPACK_TO_SLOTS_BODY(frame, SLOT(0).o, (const uint32_t *)(uintptr_t)OPERAND(0), OPARG(1), OPARG(2))) {
        JUMP();
    }
    CONTINUE();
}

/* dst = item in container (OPARG3 = 1: not in), a bool. */
STENCIL(CONTAINS_OP) {
    int found = PySequence_Contains(SLOT(2).o, SLOT(1).o);
    if (found < 0) {
        ERROR();
    }
    jit_set_owned(&SLOT(0), jit_new_bool(found ^ (int)OPARG(3)));
    CONTINUE();
}

/* --- f-strings --------------------------------------------------------------- */

/* format(conversion(value), spec), conversion 0 (none), 's', 'r' or 'a';
 * spec NULL for none. */
JIT_INLINE PyObject *jit_format(PyObject *value, uint32_t conversion, PyObject *spec) {
    PyObject *converted = conversion == 's' ? PyObject_Str(value)
                        : conversion == 'r' ? PyObject_Repr(value)
                        : conversion == 'a' ? PyObject_ASCII(value) : value;
    if (converted == 0) {
        return 0;
    }
    if (converted == value) {
        Py_INCREF(converted);
    }
    PyObject *formatted = PyObject_Format(converted, spec);
    Py_DECREF(converted);
    return formatted;
}

RESULT_STENCIL(FORMAT_VALUE, jit_format(SLOT(1).o, OPARG(2), 0))
RESULT_STENCIL(FORMAT_WITH_SPEC, jit_format(SLOT(1).o, OPARG(3), SLOT(2).o))

/* --- exceptions ---------------------------------------------------------------- */

/* An exception instance of `value` (an instance, or a class called with no
 * arguments), as the interpreter's raise makes it; NULL with the error set. */
JIT_INLINE PyObject *jit_exception_of(PyObject *value, const char *not_an_exception) {
    if (jit_is_exception_class(value)) {
        PyObject *made = PyObject_CallNoArgs(value);
        if (made == 0) {
            return 0;
        }
        if (!jit_is_exception(made)) {
            PyErr_Format(PyExc_TypeError, "calling %R should have returned an instance of BaseException, not %R",
                         value, Py_TYPE(made));
            Py_DECREF(made);
            return 0;
        }
        return made;
    }
    if (jit_is_exception(value)) {
        Py_INCREF(value);
        return value;
    }
    PyErr_Format(PyExc_TypeError, "%s", not_an_exception);
    return 0;
}

/* raise value [from cause]; cause NULL without `from`, None to suppress the
 * context. */
JIT_INLINE void jit_raise(PyObject *value, PyObject *cause) {
    PyObject *exception = jit_exception_of(value, "exceptions must derive from BaseException");
    if (exception == 0) {
        return;
    }
    if (cause != 0) {
        PyObject *fixed = 0;
        if (cause != Py_None) {
            fixed = jit_exception_of(cause, "exception causes must derive from BaseException");
            if (fixed == 0) {
                Py_DECREF(exception);
                return;
            }
        }
        PyException_SetCause(exception, fixed);  /* steals; NULL: None, and the context suppressed */
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exception), exception);
    Py_DECREF(exception);
}

STENCIL(RAISE) {
    jit_raise(SLOT(0).o, 0);
    ERROR();
}

STENCIL(RAISE_FROM) {
    jit_raise(SLOT(0).o, SLOT(1).o);
    ERROR();
}

/* A bare `raise`: the exception being handled, with its traceback. */
STENCIL(RAISE_HANDLED) {
    PyObject *handled = PyErr_GetHandledException();
    if (handled == 0 || handled == Py_None) {
        Py_XDECREF(handled);
        PyErr_Format(PyExc_RuntimeError, "No active exception to reraise");
        ERROR();
    }
    Py_INCREF((PyObject *)Py_TYPE(handled));
    PyErr_Restore((PyObject *)Py_TYPE(handled), handled, PyException_GetTraceback(handled));
    ERROR();
}

/* --- handlers: try, except, finally, with ----------------------------- */

/* dst = the exception being raised, taken out of the thread (nothing is
 * raised after it), normalized and holding its traceback, as the
 * interpreter's handler gets it. */
JIT_INLINE PyObject *jit_take_exception(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != 0) {
        PyException_SetTraceback(value, traceback);
        Py_DECREF(traceback);
    }
    Py_XDECREF(type);
    return value;
}

STENCIL(GET_EXCEPTION) {
    jit_set_owned(&SLOT(0), jit_take_exception());
    CONTINUE();
}

/* dst = the exception handled so far (None for none); the handled exception
 * (sys.exception()) becomes SLOT1's, for the handler's body. */
STENCIL(PUSH_EXC_INFO) {
    PyObject *previous = PyErr_GetHandledException();
    if (previous == 0) {
        previous = Py_None;
        Py_INCREF(previous);
    }
    PyErr_SetHandledException(SLOT(1).o);
    jit_set_owned(&SLOT(0), previous);
    CONTINUE();
}

/* The handled exception goes back to SLOT0's (None: none), leaving a handler. */
STENCIL(POP_EXCEPT) {
    PyErr_SetHandledException(SLOT(0).o == Py_None ? 0 : SLOT(0).o);
    CONTINUE();
}

JIT_INLINE int jit_catchable(PyObject *type) {
    return jit_is_exception_class(type);
}

/* dst = whether the exception SLOT1 is an instance of SLOT2 (a class or a
 * tuple of classes, each checked first as the interpreter checks them). */
JIT_INLINE PyObject *jit_exception_matches(PyObject *exception, PyObject *types) {
    int valid = 1;
    if ((PyType_GetFlags(Py_TYPE(types)) & (1UL << 26)) != 0) {  /* Py_TPFLAGS_TUPLE_SUBCLASS */
        Py_ssize_t count = PyTuple_Size(types);
        for (Py_ssize_t i = 0; i < count && valid; i++) {
            valid = jit_catchable(PyTuple_GetItem(types, i));
        }
    } else {
        valid = jit_catchable(types);
    }
    if (!valid) {
        PyErr_Format(PyExc_TypeError, "catching classes that do not inherit from BaseException is not allowed");
        return 0;
    }
    return jit_new_bool(PyErr_GivenExceptionMatches(exception, types));
}

RESULT_STENCIL(CHECK_EXC_MATCH, jit_exception_matches(SLOT(1).o, SLOT(2).o))

/* Raise the exception SLOT0 again, as it is (its traceback kept: no entry
 * is added for this frame, which it has passed through already). */
STENCIL(RERAISE_EXCEPTION) {
    PyObject *exception = SLOT(0).o;
    Py_INCREF(exception);
    Py_INCREF((PyObject *)Py_TYPE(exception));
    PyErr_Restore((PyObject *)Py_TYPE(exception), exception, PyException_GetTraceback(exception));
    ERROR();
}

/* A special method, looked up on the type and bound as the interpreter's
 * _PyObject_LookupSpecial does; NULL without an error when there is none. */
JIT_INLINE PyObject *jit_lookup_special(PyObject *object, PyObject *name) {
    PyObject *found = _PyType_Lookup(Py_TYPE(object), name);  /* borrowed */
    if (found == 0) {
        return 0;
    }
    typedef PyObject *Get(PyObject *, PyObject *, PyObject *);
    Get *get = (Get *)PyType_GetSlot(Py_TYPE(found), 54);  /* Py_tp_descr_get */
    if (get == 0) {
        Py_INCREF(found);
        return found;
    }
    return get(found, object, (PyObject *)Py_TYPE(object));
}

/* with: dst = (the bound __exit__, what __enter__() returned), the names
 * OPERAND0 = {"__enter__", "__exit__"}; OPARG2 = 1 where the running version
 * looks up __exit__ first and words its errors so (3.14+). */
JIT_INLINE PyObject *jit_before_with(PyObject *manager, PyObject **names, uint32_t exit_first) {
    PyObject *enter = 0, *exit = 0;
    const char *missing = 0;
    if (!exit_first) {
        enter = jit_lookup_special(manager, names[0]);
        if (enter == 0) {
            missing = "";
        } else if ((exit = jit_lookup_special(manager, names[1])) == 0) {
            missing = " (missed __exit__ method)";
        }
    } else {
        exit = jit_lookup_special(manager, names[1]);
        if (exit == 0) {
            missing = " (missed __exit__ method)";
        } else if ((enter = jit_lookup_special(manager, names[0])) == 0) {
            missing = " (missed __enter__ method)";
        }
    }
    if (missing != 0) {
        if (PyErr_Occurred() == 0) {
            PyErr_Format(PyExc_TypeError, "'%.200s' object does not support the context manager protocol%s",
                         jit_type_name(manager), missing);
        }
        Py_XDECREF(enter);
        Py_XDECREF(exit);
        return 0;
    }
    PyObject *entered = PyObject_CallNoArgs(enter);
    Py_DECREF(enter);
    if (entered == 0) {
        Py_DECREF(exit);
        return 0;
    }
    PyObject *pair = PyTuple_New(2);
    if (pair == 0) {
        Py_DECREF(exit);
        Py_DECREF(entered);
        return 0;
    }
    PyTuple_SetItem(pair, 0, exit);
    PyTuple_SetItem(pair, 1, entered);
    return pair;
}

RESULT_STENCIL(BEFORE_WITH, jit_before_with(SLOT(1).o, (PyObject **)(uintptr_t)OPERAND(0), OPARG(2)))

/* dst = exit(type(e), e, e.__traceback__), for the exception SLOT2. */
JIT_INLINE PyObject *jit_with_exit(PyObject *exit, PyObject *exception) {
    PyObject *traceback = PyException_GetTraceback(exception);
    PyObject *arguments[4] = {0, (PyObject *)Py_TYPE(exception), exception, traceback != 0 ? traceback : Py_None};
    PyObject *result = PyObject_Vectorcall(exit, arguments + 1, 3 | PY_VECTORCALL_ARGUMENTS_OFFSET, 0);
    Py_XDECREF(traceback);
    return result;
}

RESULT_STENCIL(WITH_EXCEPT_START, jit_with_exit(SLOT(1).o, SLOT(2).o))

/* The traceback entry of the compiled function for an exception passing
 * through it: OPERAND0 its name, OPERAND1 its file (C strings), OPARG0 the
 * line; then on to the error's destination. */
#define TRACEBACK_ENTRY() \
    _PyTraceback_Add((const char *)(uintptr_t)OPERAND(0), (const char *)(uintptr_t)OPERAND(1), (int)OPARG(0))

STENCIL(ADD_TRACEBACK) {
    TRACEBACK_ENTRY();
    JUMP();
}

/* The entry of a frame the interpreter would have inside the function's (a
 * comprehension's on 3.11); the next entry follows. */
STENCIL(ADD_TRACEBACK_FRAME) {
    TRACEBACK_ENTRY();
    CONTINUE();
}

/* --- globals read and written --------------------------------------------- */

/* A global read when the code runs, as the interpreter reads it.  Its cell is
 * OPERAND0 (a JitGlobalCache), the NameError's message OPERAND1: where the
 * name was last found among the globals' entries (the hint) it is read there,
 * without a lookup; else the globals then the builtins are looked up, and a
 * name found among the globals gives the hint. */
JIT_INLINE PyObject *jit_load_global(JitGlobalCache *cache, const JitObjectLayout *layout, char *keys,
                                     const char *message) {
    PyObject *value = PyDict_GetItemWithError(cache->globals, cache->name);
    if (value != 0) {
        if (keys != 0) {
            int64_t entries = *(int64_t *)(keys + layout->keys_entries_offset);
            PyObject *const *pairs = jit_key_pairs(layout, keys);
            for (int64_t i = 0; i < entries; i++) {
                if (pairs[2 * i] == cache->name) {
                    cache->hint = i;
                    break;
                }
            }
        }
        return value;
    }
    if (PyErr_Occurred() == 0) {
        value = PyDict_GetItemWithError(cache->builtins, cache->name);
        if (value == 0 && PyErr_Occurred() == 0) {
            PyErr_SetString(PyExc_NameError, message);
        }
    }
    return value;
}

/* LOAD_GLOBAL_CACHED's common case inline: the value at the hint, with no call (so no stack frame or saved
 * registers); anything else jumps to LOAD_GLOBAL_CACHED, out of line. */
STENCIL(LOAD_GLOBAL_HIT) {
    JitGlobalCache *cache = (JitGlobalCache *)(uintptr_t)OPERAND(0);
    const JitObjectLayout *layout = cache->layout;
    PyObject *value = jit_value_at_hint(layout, jit_str_dict_keys(layout, (char *)cache->globals), cache->hint,
                                        cache->name);
    HIT_OR_JUMP(value);
}

STENCIL(LOAD_GLOBAL_CACHED) {
    JitGlobalCache *cache = (JitGlobalCache *)(uintptr_t)OPERAND(0);
    const JitObjectLayout *layout = cache->layout;
    char *keys = jit_str_dict_keys(layout, (char *)cache->globals);
    PyObject *value = jit_value_at_hint(layout, keys, cache->hint, cache->name);
    if (value == 0) {
        value = jit_load_global(cache, layout, keys, (const char *)(uintptr_t)OPERAND(1));
        if (value == 0) {
            ERROR();
        }
    }
    Py_INCREF(value);
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* OPERAND0 is LOAD_GLOBAL's cell {globals, builtins, name}, OPERAND1 the
 * NameError's message. */
STATUS_STENCIL(STORE_GLOBAL, PyDict_SetItem(((PyObject **)(uintptr_t)OPERAND(0))[0],
                                            ((PyObject **)(uintptr_t)OPERAND(0))[2], SLOT(0).o))

STENCIL(DELETE_GLOBAL) {
    PyObject **cell = (PyObject **)(uintptr_t)OPERAND(0);
    if (PyDict_DelItem(cell[0], cell[2]) < 0) {
        if (PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_NameError, (const char *)(uintptr_t)OPERAND(1));
        }
        ERROR();
    }
    CONTINUE();
}

/* --- free variables: a closure's cells ---------------------------------- */

/* dst = the value of the cell SLOT1, or the error OPERAND1 (NameError for a
 * free variable, UnboundLocalError for the function's own) with the message
 * OPERAND0 when it has none. */
STENCIL(LOAD_DEREF) {
    PyObject *value = PyCell_Get(SLOT(1).o);
    if (value == 0) {
        if (PyErr_Occurred() == 0) {
            PyErr_SetString(OBJECT_OPERAND(1), (const char *)(uintptr_t)OPERAND(0));
        }
        ERROR();
    }
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

STATUS_STENCIL(STORE_DEREF, PyCell_Set(SLOT(0).o, SLOT(1).o))

/* SLOT0, a local that may be unbound, holds a value; else the error OPERAND1
 * (UnboundLocalError) with the message OPERAND0, as LOAD_FAST_CHECK raises. */
STENCIL(CHECK_BOUND) {
    if (SLOT(0).o == 0) {
        PyErr_SetString(OBJECT_OPERAND(1), (const char *)(uintptr_t)OPERAND(0));
        ERROR();
    }
    CONTINUE();
}

/* dst = a new cell, empty or holding SLOT1 (a parameter a closure captures). */
RESULT_STENCIL(MAKE_CELL, PyCell_New(0))
RESULT_STENCIL(MAKE_CELL_OF, PyCell_New(SLOT(1).o))

/* A function of `code` in `globals`, with its closure (a tuple of cells),
 * defaults (a tuple) and keyword-only defaults (a dict), each None for none. */
JIT_INLINE PyObject *jit_make_function(PyObject *code, PyObject *globals, PyObject *closure, PyObject *defaults,
                                       PyObject *keyword_defaults) {
    PyObject *function = PyFunction_New(code, globals);
    if (function == 0) {
        return 0;
    }
    if ((closure != Py_None && PyFunction_SetClosure(function, closure) < 0) ||
        (defaults != Py_None && PyFunction_SetDefaults(function, defaults) < 0) ||
        (keyword_defaults != Py_None && PyFunction_SetKwDefaults(function, keyword_defaults) < 0)) {
        Py_DECREF(function);
        return 0;
    }
    return function;
}

/* The vector (code, closure, defaults, keyword-only defaults) from SLOT1. */
RESULT_STENCIL(MAKE_FUNCTION, jit_make_function(ITEMS()[0], OBJECT_OPERAND(0), ITEMS()[1], ITEMS()[2], ITEMS()[3]))
