/* What the object tier's stencils (objects.c) and the helpers that share their bodies (helpers.c) both
 * use: the C-API names, the attribute caches and the inline functions that read them. */
#ifndef JIT_OBJECTS_H
#define JIT_OBJECTS_H

#include "jit_stencil.h"

extern PyTypeObject PyTuple_Type;
extern PyTypeObject PyList_Type;
extern PyTypeObject PyDict_Type;
extern long long PyLong_AsLongLongAndOverflow(PyObject *, int *);
extern PyObject *PyExc_TypeError;
extern PyObject *PyExc_ValueError;
extern PyObject *PyExc_AttributeError;
extern PyObject *PyExc_KeyError;
extern PyObject *PyExc_RuntimeError;
extern PyObject *PyObject_GetAttr(PyObject *, PyObject *);
extern int PyObject_SetAttr(PyObject *, PyObject *, PyObject *);
extern PyObject *PyObject_GetAttrString(PyObject *, const char *);
extern PyObject *PyObject_GetItem(PyObject *, PyObject *);
extern int PyObject_SetItem(PyObject *, PyObject *, PyObject *);
extern int PyObject_DelItem(PyObject *, PyObject *);
extern PyObject *PySlice_New(PyObject *, PyObject *, PyObject *);
extern PyObject *PyTuple_New(Py_ssize_t);
extern int PyTuple_SetItem(PyObject *, Py_ssize_t, PyObject *);
extern PyObject *PyList_New(Py_ssize_t);
extern int PyList_SetItem(PyObject *, Py_ssize_t, PyObject *);
extern int PyList_Append(PyObject *, PyObject *);
extern PyObject *PyList_AsTuple(PyObject *);
extern Py_ssize_t PyList_Size(PyObject *);
extern PyObject *PyList_GetItem(PyObject *, Py_ssize_t);
extern int PyList_SetSlice(PyObject *, Py_ssize_t, Py_ssize_t, PyObject *);
extern PyObject *PySet_New(PyObject *);
extern int PySet_Add(PyObject *, PyObject *);
extern PyObject *PyDict_New(void);
extern int PyDict_SetItem(PyObject *, PyObject *, PyObject *);
extern int PyDict_DelItem(PyObject *, PyObject *);
extern int PyDict_Update(PyObject *, PyObject *);
extern int PyDict_Merge(PyObject *, PyObject *, int);
extern PyObject *PyUnicode_Join(PyObject *, PyObject *);
extern PyObject *PyUnicode_FromFormat(const char *, ...);
extern PyObject *PyObject_GetIter(PyObject *);
extern PyObject *PyIter_Next(PyObject *);
extern Py_ssize_t PyObject_Size(PyObject *);
extern int PySequence_Contains(PyObject *, PyObject *);
extern int PySequence_Check(PyObject *);
extern PyObject *PySequence_InPlaceConcat(PyObject *, PyObject *);
extern PyObject *PySequence_List(PyObject *);
extern PyObject *PySequence_Tuple(PyObject *);
extern PyObject *PyObject_Format(PyObject *, PyObject *);
extern PyObject *PyObject_Str(PyObject *);
extern PyObject *PyObject_Repr(PyObject *);
extern PyObject *PyObject_ASCII(PyObject *);
extern PyObject *PyObject_Call(PyObject *, PyObject *, PyObject *);
extern PyObject *PyObject_VectorcallMethod(PyObject *, PyObject *const *, size_t, PyObject *);
extern PyObject *PyObject_CallNoArgs(PyObject *);
extern PyObject *PyErr_Format(PyObject *, const char *, ...);
extern int PyErr_ExceptionMatches(PyObject *);
extern void PyErr_Clear(void);
extern void PyErr_SetObject(PyObject *, PyObject *);
extern void PyErr_Restore(PyObject *, PyObject *, PyObject *);
extern PyObject *PyErr_GetHandledException(void);
extern void PyException_SetCause(PyObject *, PyObject *);
extern PyObject *PyException_GetTraceback(PyObject *);
extern unsigned long PyType_GetFlags(PyTypeObject *);
extern void *PyType_GetSlot(PyTypeObject *, int);
extern void _PyTraceback_Add(const char *, const char *, int);
extern PyObject *PyCell_Get(PyObject *);
extern void PyErr_Fetch(PyObject **, PyObject **, PyObject **);
extern void PyErr_NormalizeException(PyObject **, PyObject **, PyObject **);
extern int PyException_SetTraceback(PyObject *, PyObject *);
extern void PyErr_SetHandledException(PyObject *);
extern int PyErr_GivenExceptionMatches(PyObject *, PyObject *);
extern PyObject *_PyType_Lookup(PyTypeObject *, PyObject *);
extern Py_ssize_t PyTuple_Size(PyObject *);
extern PyObject *PyTuple_GetItem(PyObject *, Py_ssize_t);
extern int PyCell_Set(PyObject *, PyObject *);
extern PyObject *PyCell_New(PyObject *);
extern PyObject *PyFunction_New(PyObject *, PyObject *);
extern int PyFunction_SetClosure(PyObject *, PyObject *);
extern int PyFunction_SetDefaults(PyObject *, PyObject *);
extern int PyFunction_SetKwDefaults(PyObject *, PyObject *);

/* Helpers are inlined into each stencil that uses them: a stencil is one
 * function, with no calls to code of its own outside it. */
#define JIT_INLINE static inline __attribute__((always_inline))

#define Py_tp_iter 62
#define Py_TPFLAGS_BASE_EXC_SUBCLASS (1UL << 30)
#define Py_TPFLAGS_TYPE_SUBCLASS (1UL << 31)

/* A type's tp_name: the word after the variable-size object head, where every
 * CPython since 2.x keeps it (the C API has no stable getter for it before
 * 3.13's PyType_GetFullyQualifiedName, which words some names differently). */
JIT_INLINE const char *jit_type_name(PyObject *value) {
    return ((const char *const *)Py_TYPE(value))[3];
}

JIT_INLINE int jit_is_exception_class(PyObject *value) {
    return (PyType_GetFlags(Py_TYPE(value)) & Py_TPFLAGS_TYPE_SUBCLASS) != 0 &&
           (PyType_GetFlags((PyTypeObject *)value) & Py_TPFLAGS_BASE_EXC_SUBCLASS) != 0;
}

JIT_INLINE int jit_is_exception(PyObject *value) {
    return (PyType_GetFlags(Py_TYPE(value)) & Py_TPFLAGS_BASE_EXC_SUBCLASS) != 0;
}

/* Whether `value` can be iterated at all (the interpreter's test before it
 * words a TypeError of its own). */
JIT_INLINE int jit_not_iterable(PyObject *value) {
    return PyType_GetSlot(Py_TYPE(value), Py_tp_iter) == 0 && !PySequence_Check(value);
}


/* --- attribute caches --------------------------------------------------------
 *
 * One JitAttributeCache per site (OPERAND0), as the specializing interpreter
 * keeps an inline cache per LOAD_ATTR, STORE_ATTR and LOAD_METHOD: it holds
 * while the owner's type has the version it had when filled (OPARGn: where a
 * type keeps its version), and says where the attribute is.  A miss takes the
 * C API's generic path, then refills the cache from what the type and the
 * owner are now.  Where instances keep their values differs between CPython
 * versions; the running interpreter's way is data (JitObjectLayout). */

/* Only their addresses are compared with a type's slots: declared as data, whose
 * address every target's code model can take. */
extern char PyObject_GenericGetAttr[];
extern char PyObject_GenericSetAttr[];
extern PyTypeObject PyMemberDescr_Type;
extern PyTypeObject PyType_Type;
extern PyTypeObject PyStaticMethod_Type;
extern PyTypeObject PyClassMethod_Type;
extern PyTypeObject PyFunction_Type;
extern PyObject **_PyObject_GetDictPtr(PyObject *);

#define Py_tp_getattro 58
#define Py_tp_setattro 69
#define Py_tp_descr_get 54
#define Py_TPFLAGS_MANAGED_DICT (1UL << 4)
#define Py_TPFLAGS_METHOD_DESCRIPTOR (1UL << 17)
#define JIT_T_OBJECT_EX 16 /* PyMemberDef's type of a __slots__ member */
#define JIT_MEMBER_READONLY 1
#define JIT_MEMBER_AUDIT_READ 2

/* PyMemberDef, as the C API declares it. */
typedef struct {
    const char *name;
    int type;
    Py_ssize_t offset;
    int flags;
    const char *doc;
} JitMemberDef;

enum { FILL_LOAD, FILL_STORE, FILL_METHOD };

JIT_INLINE uint32_t jit_type_version(PyTypeObject *type, uint32_t version_offset) {
    return *(uint32_t *)((char *)type + version_offset);
}

/* A type's tp_basicsize: the word after tp_name (jit/backend/layout.py checks it). */
JIT_INLINE Py_ssize_t jit_basic_size(PyTypeObject *type) {
    return ((const Py_ssize_t *)type)[4];
}

/* Where instances of `type` keep their values: the offset of the values (INLINE), or of their word. */
JIT_INLINE int64_t jit_values_at(const JitAttributeCache *cache, PyTypeObject *type) {
    return cache->values_mode == VALUES_INLINE ? jit_basic_size(type) : cache->layout->values_offset;
}

/* The entry of `cache` for `type` (which may be empty), or NULL. */
JIT_INLINE JitAttributeEntry *jit_cached_type(JitAttributeCache *cache, PyTypeObject *type, uint32_t version_offset) {
    uint32_t version = jit_type_version(type, version_offset);
    for (int i = 0; i < ATTRIBUTE_TYPES; i++) {
        if (cache->entries[i].version == version) {
            return &cache->entries[i];
        }
    }
    return 0;
}

/* The values of `owner`, kept as `mode` says at `at` (see JitAttributeEntry),
 * or NULL once a dict has taken them over. */
JIT_INLINE PyObject **jit_instance_values(int64_t mode, int64_t at, const JitObjectLayout *layout, PyObject *owner) {
    char *where = (char *)owner + at;
    if (mode == VALUES_INLINE) {
        return where[layout->valid_offset] ? (PyObject **)(where + layout->items_offset) : 0;
    }
    uintptr_t word = *(uintptr_t *)where;
    if (mode == VALUES_TAGGED) {
        return (word & 1) ? (PyObject **)(word - 1) : 0;
    }
    return (PyObject **)word;
}

/* The index of `name` among a type's shared keys, or -1; `*count` is how many
 * they hold (they only grow, so a name absent from so many stays absent while
 * that count holds). */
/* The (key, value) entries of dict keys whose keys are all str. */
JIT_INLINE PyObject *const *jit_key_pairs(const JitObjectLayout *layout, char *keys) {
    unsigned char index_size = *(unsigned char *)(keys + layout->keys_index_size_offset);
    return (PyObject *const *)(keys + layout->keys_indices_offset + ((int64_t)1 << index_size));
}

JIT_INLINE int64_t jit_shared_key(const JitObjectLayout *layout, char *keys, PyObject *name, int64_t *count) {
    int64_t entries = *(int64_t *)(keys + layout->keys_entries_offset);
    PyObject *const *pairs = jit_key_pairs(layout, keys);
    *count = entries;
    for (int64_t i = 0; i < entries; i++) {
        if (pairs[2 * i] == name) {
            return i;
        }
    }
    return -1;
}

/* Record `index` as the newest of the values `items` (CPython's
 * _PyDictValues_AddToInsertionOrder; jit/backend/layout.py checks that the
 * order is where this looks); 0 when there is no room. */
JIT_INLINE int jit_record_order(int64_t mode, const JitObjectLayout *layout, PyObject **items, int64_t index) {
    unsigned char *bytes = (unsigned char *)items;
    if (mode == VALUES_INLINE) {  /* the header holds capacity and size; the order follows the items */
        unsigned char *header = bytes - layout->items_offset;
        unsigned char capacity = header[0], size = header[1];
        if (size >= capacity) {
            return 0;
        }
        ((unsigned char *)(items + capacity))[size] = (unsigned char)index;
        header[1] = (unsigned char)(size + 1);
        return 1;
    }
    /* Before the items: the prefix's size, then the order's size, then the order downwards. */
    unsigned char size = bytes[-2];
    if (size + 2 >= bytes[-1]) {
        return 0;
    }
    size++;
    bytes[-2 - size] = (unsigned char)index;
    bytes[-2] = size;
    return 1;
}

/* The keys of `dict` when it has them all str and its values with them (not
 * shared), else NULL. */
JIT_INLINE char *jit_str_dict_keys(const JitObjectLayout *layout, char *dict) {
    char *keys = *(char **)(dict + layout->dict_keys_offset);
    if (*(void **)(dict + layout->dict_values_offset) != 0 ||
        *(unsigned char *)(keys + layout->keys_kind_offset) != (unsigned char)layout->keys_unicode) {
        return 0;
    }
    return keys;
}

/* The value at `hint` among the entries of `keys` if its key there is `name`,
 * else NULL (also for a deleted entry, whose value is NULL). */
JIT_INLINE PyObject *jit_value_at_hint(const JitObjectLayout *layout, char *keys, int64_t hint, PyObject *name) {
    if (keys == 0 || (uint64_t)hint >= *(uint64_t *)(keys + layout->keys_entries_offset)) {
        return 0;
    }
    PyObject *const *pair = jit_key_pairs(layout, keys) + 2 * hint;
    return pair[0] == name ? pair[1] : 0;
}

/* The dict of its own that `owner` points to from `at`, or NULL. */
JIT_INLINE PyObject *jit_own_dict(PyObject *owner, int64_t at) {
    uintptr_t word = *(uintptr_t *)((char *)owner + at);
    return (word & 1) != 0 ? 0 : (PyObject *)word;  /* 3.12's tagged values are not a dict */
}

/* The keys of the dict of its own that `owner` points to from `at`, when that
 * dict has them all str and its values with them (not shared), else NULL. */
JIT_INLINE char *jit_own_dict_keys(const JitObjectLayout *layout, PyObject *owner, int64_t at) {
    PyObject *dict = jit_own_dict(owner, at);
    return dict != 0 ? jit_str_dict_keys(layout, (char *)dict) : 0;
}

/* Whether the method entry still holds for `owner` (a METHOD entry also needs
 * the instance's own values not to hold the name). */
JIT_INLINE int jit_method_holds(const JitAttributeCache *cache, const JitAttributeEntry *entry, PyObject *owner,
                                int64_t values_mode) {
    if (entry->kind == ATTRIBUTE_METHOD_NO_DICT) {
        return 1;
    }
    const JitObjectLayout *layout = cache->layout;
    if (entry->kind == ATTRIBUTE_METHOD_NO_DICT_YET) {  /* neither a dict nor (before 3.13) values */
        return *(void **)((char *)owner + layout->managed_dict_offset) == 0 &&
               (values_mode == VALUES_INLINE || *(void **)((char *)owner + layout->values_offset) == 0);
    }
    if (entry->kind != ATTRIBUTE_METHOD) {
        return 0;
    }
    char *keys = *(char **)((char *)Py_TYPE(owner) + layout->cached_keys_offset);
    return keys == entry->keys && *(int64_t *)(keys + layout->keys_entries_offset) == entry->key_count &&
           jit_instance_values(values_mode, entry->values_at, layout, owner) != 0;
}

/* Whether a METHOD_DICT entry holds for `owner`: its own dict (managed, at values_at; or where the type's
 * tp_dictoffset says, values_at 0) is NULL there, or has str keys only (so that the lookup runs no code and
 * raises nothing) and does not hold the name (CPython 3.11's LOAD_METHOD_WITH_DICT, by a lookup). */
JIT_INLINE int jit_method_holds_with_dict(const JitAttributeCache *cache, const JitAttributeEntry *entry,
                                          PyObject *owner) {
    if (entry->kind != ATTRIBUTE_METHOD_DICT) {
        return 0;
    }
    PyObject *dict;
    if (entry->values_at == 0) {
        PyObject **at = _PyObject_GetDictPtr(owner);
        if (at == 0) {
            return 0;
        }
        if (*at == 0) {
            return 1;
        }
        dict = *at;
    } else {
        dict = jit_own_dict(owner, entry->values_at);
    }
    return dict != 0 && jit_str_dict_keys(cache->layout, (char *)dict) != 0 &&
           PyDict_GetItemWithError(dict, cache->name) == 0;
}

/* Whether the method entry holds for `owner`, by any check (the out-of-line stencils'). */
JIT_INLINE int jit_method_found(const JitAttributeCache *cache, const JitAttributeEntry *entry, PyObject *owner) {
    return jit_method_holds(cache, entry, owner, cache->values_mode) ||
           jit_method_holds_with_dict(cache, entry, owner);
}

/* Fill an entry of `cache` from `owner`'s type as it is now, for a load, a
 * store or a method call of cache->name: the type's entry, else the oldest.
 * Nothing changes where no fast path applies. */
JIT_INLINE void jit_fill_attribute(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset, int use) {
    if (cache->fills >= ATTRIBUTE_FILLS) {
        return;
    }
    /* Every attempt counts: a site whose misses no entry would serve (a store of a new attribute, in
     * __init__) soon stops paying for the attempt. */
    int64_t attempt = cache->fills++;
    PyTypeObject *type = Py_TYPE(owner);
    void *generic = use == FILL_STORE ? (void *)PyObject_GenericSetAttr : (void *)PyObject_GenericGetAttr;
    if (PyType_GetSlot(type, use == FILL_STORE ? Py_tp_setattro : Py_tp_getattro) != generic &&
        (type != &PyType_Type || use == FILL_STORE)) {  /* a class's attributes: type's own lookup, below */
        return;
    }
    const JitObjectLayout *layout = cache->layout;
    PyObject *found = _PyType_Lookup(type, cache->name);  /* borrowed; gives the type a version */
    JitAttributeEntry entry = {0};
    entry.version = jit_type_version(type, version_offset);
    if (entry.version == 0) {
        return;
    }
    unsigned long flags = PyType_GetFlags(type);
    entry.values_at = jit_values_at(cache, type);
    char *keys = (flags & layout->values_flag) ? *(char **)((char *)type + layout->cached_keys_offset) : 0;
    int has_values = keys != 0 && jit_instance_values(cache->values_mode, entry.values_at, layout, owner) != 0;
    if (use == FILL_METHOD && type == &PyType_Type && found == 0) {
        /* `Class.name(...)` of a function or a staticmethod in the class's MRO: the class gives the callable
         * itself (the staticmethod's), which the call gets without `self`. */
        PyTypeObject *owner_class = (PyTypeObject *)owner;
        PyObject *value = _PyType_Lookup(owner_class, cache->name);
        uint32_t own_version = jit_type_version(owner_class, version_offset);
        if (value == 0 || own_version == 0) {
            return;
        }
        if (Py_TYPE(value) == &PyStaticMethod_Type) {
            typedef PyObject *(*Get)(PyObject *, PyObject *, PyObject *);
            PyObject *callable = ((Get)PyType_GetSlot(Py_TYPE(value), Py_tp_descr_get))(value, 0, owner);
            if (callable == 0) {
                PyErr_Clear();
                return;
            }
            Py_DECREF(callable);  /* the staticmethod holds it while the class keeps its version */
            value = callable;
        } else if (Py_TYPE(value) == &PyClassMethod_Type) {
            /* bound to the class: its function is called with the class first, which the vector has */
            PyObject *function = PyObject_GetAttrString(value, "__func__");
            if (function == 0) {
                PyErr_Clear();
                return;
            }
            Py_DECREF(function);  /* the classmethod holds it */
            value = function;
            entry.index = 1;
        } else if (Py_TYPE(value) != &PyFunction_Type) {
            return;
        }
        entry.kind = ATTRIBUTE_CLASS;
        entry.keys = (char *)owner;
        entry.key_count = own_version;
        entry.method = value;
    } else if (use == FILL_LOAD && type == &PyType_Type && found == 0) {
        /* An attribute of a class, in its MRO, valid while the class keeps its version: a plain value, or a
         * descriptor bound at each load as type's lookup binds it.  The metatype's own attributes (found != 0)
         * come first in that lookup: then no entry. */
        PyTypeObject *owner_class = (PyTypeObject *)owner;
        PyObject *value = _PyType_Lookup(owner_class, cache->name);
        uint32_t own_version = jit_type_version(owner_class, version_offset);
        if (value == 0 || own_version == 0) {
            return;
        }
        entry.bind = PyType_GetSlot(Py_TYPE(value), Py_tp_descr_get);  /* a descriptor: bound at each load */
        entry.kind = ATTRIBUTE_CLASS;
        entry.keys = (char *)owner;
        entry.key_count = own_version;
        entry.method = value;
    } else if (use != FILL_STORE && found != 0 &&
               (PyType_GetFlags(Py_TYPE(found)) & Py_TPFLAGS_METHOD_DESCRIPTOR)) {
        if (has_values && jit_shared_key(layout, keys, cache->name, &entry.key_count) < 0) {
            entry.kind = ATTRIBUTE_METHOD;
            entry.keys = keys;
        } else if ((flags & Py_TPFLAGS_MANAGED_DICT) == 0 && _PyObject_GetDictPtr(owner) == 0) {
            entry.kind = ATTRIBUTE_METHOD_NO_DICT;
        } else if ((flags & Py_TPFLAGS_MANAGED_DICT) != 0 && !has_values &&
                   *(void **)((char *)owner + layout->managed_dict_offset) == 0 &&
                   (cache->values_mode == VALUES_INLINE ? (flags & layout->values_flag) == 0
                                                        : *(void **)((char *)owner + layout->values_offset) == 0)) {
            entry.kind = ATTRIBUTE_METHOD_NO_DICT_YET;  /* no values, and no dict yet: no attribute at all */
        } else if ((flags & Py_TPFLAGS_MANAGED_DICT) != 0 ? !has_values : _PyObject_GetDictPtr(owner) != 0) {
            /* a dict of its own (managed, or at the type's tp_dictoffset) that does not hold the name */
            entry.kind = ATTRIBUTE_METHOD_DICT;
            entry.values_at = (flags & Py_TPFLAGS_MANAGED_DICT) != 0 ? layout->managed_dict_offset : 0;
            if (!jit_method_holds_with_dict(cache, &entry, owner)) {
                return;
            }
        }
        entry.method = found;
        entry.bind = PyType_GetSlot(Py_TYPE(found), Py_tp_descr_get);
        if (use == FILL_LOAD && entry.bind == 0) {
            return;
        }
    } else if (found == 0) {
        entry.index = has_values ? jit_shared_key(layout, keys, cache->name, &entry.key_count) : -1;
        PyObject **values = has_values ? jit_instance_values(cache->values_mode, entry.values_at, layout, owner) : 0;
        if (entry.index >= 0 && (use == FILL_LOAD || layout->appends_values || values[entry.index] != 0)) {
            entry.kind = ATTRIBUTE_VALUE;
        } else if (!has_values && (flags & Py_TPFLAGS_MANAGED_DICT) != 0 &&
                   jit_own_dict(owner, layout->managed_dict_offset) != 0) {
            char *own = jit_own_dict_keys(layout, owner, layout->managed_dict_offset);
            entry.index = own ? jit_shared_key(layout, own, cache->name, &entry.key_count) : -1;  /* the hint */
            entry.kind = ATTRIBUTE_DICT;
            entry.values_at = layout->managed_dict_offset;
        }
    } else if (Py_TYPE(found) == &PyMemberDescr_Type) {
        const JitMemberDef *member = *(const JitMemberDef *const *)((char *)found + layout->member_offset);
        int refused = use == FILL_STORE ? JIT_MEMBER_READONLY : JIT_MEMBER_AUDIT_READ;
        if (member->type == JIT_T_OBJECT_EX && (member->flags & refused) == 0) {
            entry.kind = ATTRIBUTE_SLOT;
            entry.index = member->offset;
        }
    }
    if (entry.kind == ATTRIBUTE_EMPTY) {
        return;
    }
    JitAttributeEntry *into = jit_cached_type(cache, type, version_offset);
    if (into != 0 && into->kind == ATTRIBUTE_VALUE && entry.kind == ATTRIBUTE_DICT) {
        return;  /* the VALUE entry serves instances with dicts too */
    }
    if (into == 0) {
        into = &cache->entries[attempt % ATTRIBUTE_TYPES];
    }
    *into = entry;
}

/* The end of a hit stencil: dst = a new reference to the borrowed `value`, or,
 * where it is NULL (no hit), a jump to the general stencil, out of line. */
#define HIT_OR_JUMP(VALUE)                                                    \
    do {                                                                      \
        if ((VALUE) == 0) {                                                   \
            JUMP();                                                           \
        }                                                                     \
        Py_INCREF(VALUE);                                                     \
        jit_set_owned(&SLOT(0), (VALUE));                                     \
        CONTINUE();                                                           \
    } while (0)

/* Where `entry` (of `owner`'s type) says owner's attribute is when it is among the instance's values (kept as
 * `values_mode` says) or is a __slots__ member (NULL otherwise): read or written with no call. */
JIT_INLINE PyObject **jit_entry_place(const JitAttributeCache *cache, const JitAttributeEntry *entry,
                                      PyObject *owner, int64_t values_mode) {
    if (entry->kind == ATTRIBUTE_VALUE) {
        PyObject **values = jit_instance_values(values_mode, entry->values_at, cache->layout, owner);
        return values ? &values[entry->index] : 0;
    }
    if (entry->kind == ATTRIBUTE_SLOT) {
        return (PyObject **)((char *)owner + entry->index);
    }
    return 0;
}

/* The dict of its own that `owner` has where `entry` (VALUE or DICT) finds no values, or NULL: an instance of a
 * type may have values while another has given them up, and either kind of entry serves both. */
JIT_INLINE PyObject *jit_entry_dict(const JitAttributeCache *cache, const JitAttributeEntry *entry, PyObject *owner) {
    if (entry->kind != ATTRIBUTE_DICT && entry->kind != ATTRIBUTE_VALUE) {
        return 0;
    }
    return jit_own_dict(owner, cache->layout->managed_dict_offset);
}

/* The borrowed value of owner's attribute where `entry` says the instance keeps it: among its values, in a
 * __slots__ member or in its own dict (at the hint, else looked up there as the generic path would); NULL when it
 * is not there, with *failed set when the dict's lookup raised. */
JIT_INLINE PyObject *jit_instance_attribute(const JitAttributeCache *cache, const JitAttributeEntry *entry,
                                            PyObject *owner, int *failed) {
    PyObject **at = jit_entry_place(cache, entry, owner, cache->values_mode);
    if (at != 0) {
        return *at;
    }
    PyObject *dict = jit_entry_dict(cache, entry, owner);
    if (dict == 0) {
        return 0;
    }
    int64_t hint = entry->kind == ATTRIBUTE_DICT ? entry->index : -1;
    PyObject *value = jit_value_at_hint(cache->layout, jit_str_dict_keys(cache->layout, (char *)dict), hint,
                                        cache->name);
    if (value == 0) {
        value = PyDict_GetItemWithError(dict, cache->name);
        *failed = value == 0 && PyErr_Occurred() != 0;
    }
    return value;
}

/* jit_entry_place of the cache's first entry when it is for `owner`'s type (where types keep their version: the
 * hit stencils' OPARG2): the cases the hit stencils below take inline. */
JIT_INLINE PyObject **jit_first_entry_place(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset,
                                            int64_t values_mode) {
    JitAttributeEntry *entry = &cache->entries[0];
    if (entry->version != jit_type_version(Py_TYPE(owner), version_offset)) {
        return 0;
    }
    return jit_entry_place(cache, entry, owner, values_mode);
}

/* The hit stencils: LOAD_ATTR_HIT_<mode>, STORE_ATTR_HIT_<mode> and LOAD_METHOD_HIT_<mode> for each way of keeping
 * an instance's values (the lowering takes the running interpreter's), so that a site's inline code is only the
 * few loads and compares of its case.  Anything else jumps to the general stencil, out of line.
 *
 * LOAD_ATTR_HIT: dst = SLOT1.name when the cache's first entry has it among the values, as a __slots__ member or
 * at its hint into the instance's own dict (no call, so no frame to set up); LOAD_ATTR_CACHED does everything
 * else. */
JIT_INLINE PyObject *jit_load_hit(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset,
                                  int64_t values_mode) {
    JitAttributeEntry *first = &cache->entries[0];
    if (first->version != jit_type_version(Py_TYPE(owner), version_offset)) {
        return 0;
    }
    if (first->kind == ATTRIBUTE_DICT) {
        return jit_value_at_hint(cache->layout, jit_own_dict_keys(cache->layout, owner, first->values_at),
                                 first->index, cache->name);
    }
    PyObject **at = jit_entry_place(cache, first, owner, values_mode);
    return at ? *at : 0;
}

#define LOAD_ATTR_HIT_STENCIL(NAME, MODE)                                                    \
    STENCIL(NAME) {                                                                          \
        PyObject *value = jit_load_hit((JitAttributeCache *)OPERAND(0), SLOT(1).o, OPARG(2), MODE); \
        HIT_OR_JUMP(value);                                                                  \
    }

/* STORE_ATTR_HIT: SLOT0.name = SLOT1 when the cache's first entry has a place for it that holds a value already
 * (or is a __slots__ member); else STORE_ATTR_CACHED.  With values after the object (3.13+), a dict made of them
 * shares them: a store must go through it, out of line. */
JIT_INLINE PyObject **jit_store_hit(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset,
                                    int64_t values_mode) {
    PyObject **at = jit_first_entry_place(cache, owner, version_offset, values_mode);
    if (at == 0 || (cache->entries[0].kind == ATTRIBUTE_VALUE &&
                    (*at == 0 || (values_mode == VALUES_INLINE &&
                                  jit_own_dict(owner, cache->layout->managed_dict_offset) != 0)))) {
        return 0;
    }
    return at;
}

#define STORE_ATTR_HIT_STENCIL(NAME, MODE)                                                   \
    STENCIL(NAME) {                                                                          \
        PyObject **at = jit_store_hit((JitAttributeCache *)OPERAND(0), SLOT(0).o, OPARG(2), MODE); \
        if (at == 0) {                                                                       \
            JUMP();                                                                          \
        }                                                                                    \
        PyObject *old = *at;                                                                 \
        Py_INCREF(SLOT(1).o);                                                                \
        *at = SLOT(1).o;                                                                     \
        Py_XDECREF(old);                                                                     \
        CONTINUE();                                                                          \
    }

/* LOAD_METHOD_HIT: LOAD_METHOD_CACHED's common case: the cache's first entry is for the owner's type and says the
 * name is a method of the type that holds for this owner, SLOT1 staying the self. */
JIT_INLINE PyObject *jit_method_hit(JitAttributeCache *cache, PyObject *owner, uint32_t version_offset,
                                    int64_t values_mode) {
    JitAttributeEntry *first = &cache->entries[0];
    return first->version == jit_type_version(Py_TYPE(owner), version_offset) &&
           jit_method_holds(cache, first, owner, values_mode) ? first->method : 0;
}

#define LOAD_METHOD_HIT_STENCIL(NAME, MODE)                                                  \
    STENCIL(NAME) {                                                                          \
        PyObject *method = jit_method_hit((JitAttributeCache *)OPERAND(0), SLOT(1).o, OPARG(2), MODE); \
        HIT_OR_JUMP(method);                                                                 \
    }


JIT_INLINE void jit_loaded(JitSlot *callable_slot, JitSlot *self_slot, PyObject *callable, int64_t keeps_self) {
    jit_set_owned(callable_slot, callable);
    if (!keeps_self) {
        PyObject *owner = self_slot->o;
        self_slot->o = 0;
        Py_DECREF(owner);
    }
}

#endif /* JIT_OBJECTS_H */
