/* The object tier: attributes, subscripts, displays, calls of any callable,
 * iteration, unpacking, formatting, raising, globals.  Each stencil is
 * CPython's own C-API call, so results and exceptions are the interpreter's;
 * where the interpreter words an error itself (unpacking, `*` and `**`), the
 * stencil words it the same way, per version where versions differ (an oparg
 * the runtime patches from the running interpreter). */
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

/* --- attributes, subscripts, slices ------------------------------------- */

RESULT_STENCIL(LOAD_ATTR, PyObject_GetAttr(SLOT(1).o, OBJECT_OPERAND(0)))
STATUS_STENCIL(STORE_ATTR, PyObject_SetAttr(SLOT(0).o, OBJECT_OPERAND(0), SLOT(1).o))
STATUS_STENCIL(DELETE_ATTR, PyObject_SetAttr(SLOT(0).o, OBJECT_OPERAND(0), 0))

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
    JitAttributeCache *cache = (JitAttributeCache *)OPERAND(0);
    PyObject *owner = SLOT(1).o;
    PyObject *value = 0;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), OPARG(2));
    if (entry != 0) {
        if (entry->kind == ATTRIBUTE_CLASS) {
            if ((char *)owner == entry->keys &&
                jit_type_version((PyTypeObject *)owner, OPARG(2)) == (uint32_t)entry->key_count) {
                if (entry->bind != 0) {  /* what type's own lookup does: the descriptor's get, no instance */
                    typedef PyObject *(*Bind)(PyObject *, PyObject *, PyObject *);
                    value = ((Bind)entry->bind)(entry->method, 0, owner);
                    if (value == 0) {
                        ERROR();
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
                ERROR();
            }
        } else {
            int failed = 0;
            value = jit_instance_attribute(cache, entry, owner, &failed);
            if (failed) {
                ERROR();
            }
            if (value != 0) {
                Py_INCREF(value);
            }
        }
    }
    if (value == 0) {
        value = PyObject_GetAttr(owner, cache->name);
        if (value == 0) {
            ERROR();
        }
        jit_fill_attribute(cache, owner, OPARG(2), FILL_LOAD);
    }
    jit_set_owned(&SLOT(0), value);
    CONTINUE();
}

/* SLOT0.name = SLOT1 through the cache OPERAND0.  A new attribute among the
 * values is also recorded in their insertion order (vars() lists it last). */
STENCIL(STORE_ATTR_CACHED) {
    JitAttributeCache *cache = (JitAttributeCache *)OPERAND(0);
    PyObject *owner = SLOT(0).o;
    PyObject *value = SLOT(1).o;
    PyObject **at = 0;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), OPARG(2));
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
            ERROR();
        }
        CONTINUE();
    }
    if (at != 0) {
        PyObject *old = *at;
        Py_INCREF(value);
        *at = value;
        Py_XDECREF(old);
        CONTINUE();
    }
    if (PyObject_SetAttr(owner, cache->name, value) < 0) {
        ERROR();
    }
    jit_fill_attribute(cache, owner, OPARG(2), FILL_STORE);
    CONTINUE();
}

/* Where `list[index]` is when the specializing interpreter would take it
 * inline (BINARY_SUBSCR_LIST_INT): an exact list, a compact int in range
 * (negative from the end), read inline (`int_mode`: how ints keep their size;
 * a list keeps its size where every var-size object does, then its items);
 * NULL otherwise, for the C-API's own path. */
JIT_INLINE PyObject **jit_list_place(PyObject *list, PyObject *index, uint32_t int_mode) {
    int64_t i;
    if (Py_TYPE(list) != &PyList_Type || Py_TYPE(index) != &PyLong_Type || !jit_compact_int(index, int_mode, &i)) {
        return 0;
    }
    int64_t length = ((const int64_t *)list)[2];
    if (i < -length || i >= length) {
        return 0;
    }
    return &((PyObject ***)list)[3][i < 0 ? i + length : i];
}

JIT_INLINE PyObject *jit_get_item(PyObject *container, PyObject *key, uint32_t int_mode) {
    PyObject **at = jit_list_place(container, key, int_mode);
    if (at != 0) {
        Py_INCREF(*at);
        return *at;
    }
    return PyObject_GetItem(container, key);
}

JIT_INLINE int jit_set_item(PyObject *container, PyObject *key, PyObject *value, uint32_t int_mode) {
    PyObject **at = jit_list_place(container, key, int_mode);
    if (at != 0) {
        PyObject *old = *at;
        Py_INCREF(value);
        *at = value;
        Py_DECREF(old);  /* after the store, as list's own item assignment releases it */
        return 0;
    }
    return PyObject_SetItem(container, key, value);
}

/* OPARG3: how ints keep their size (INT_UNKNOWN ... INT_TAGGED). */
RESULT_STENCIL(BINARY_SUBSCR, jit_get_item(SLOT(1).o, SLOT(2).o, OPARG(3)))
STATUS_STENCIL(STORE_SUBSCR, jit_set_item(SLOT(0).o, SLOT(1).o, SLOT(2).o, OPARG(3)))
STATUS_STENCIL(DELETE_SUBSCR, PyObject_DelItem(SLOT(0).o, SLOT(1).o))
RESULT_STENCIL(BUILD_SLICE, PySlice_New(SLOT(1).o, SLOT(2).o, SLOT(3).o))

/* --- displays: the items are a borrowed vector of OPARG2 slots from SLOT1 -- */

#define ITEMS() (&SLOT(1).o)
#define COUNT() ((Py_ssize_t)OPARG(2))

/* A new tuple or list of the items (new references): `make` and `put` are the
 * type's PyTuple_New/PyTuple_SetItem or PyList_New/PyList_SetItem (`put`
 * steals, and cannot fail on a new sequence). */
JIT_INLINE PyObject *jit_sequence_of(PyObject *(*make)(Py_ssize_t), int (*put)(PyObject *, Py_ssize_t, PyObject *),
                                     PyObject **items, Py_ssize_t count) {
    PyObject *sequence = make(count);
    if (sequence == 0) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_INCREF(items[i]);
        put(sequence, i, items[i]);
    }
    return sequence;
}

JIT_INLINE PyObject *jit_tuple_of(PyObject **items, Py_ssize_t count) {
    return jit_sequence_of(PyTuple_New, PyTuple_SetItem, items, count);
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

/* The parts of an f-string, joined by OPERAND0 (the empty string). */
JIT_INLINE PyObject *jit_join(PyObject *empty, PyObject **items, Py_ssize_t count) {
    PyObject *parts = jit_tuple_of(items, count);
    if (parts == 0) {
        return 0;
    }
    PyObject *joined = PyUnicode_Join(empty, parts);
    Py_DECREF(parts);
    return joined;
}

RESULT_STENCIL(BUILD_TUPLE, jit_tuple_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_LIST, jit_sequence_of(PyList_New, PyList_SetItem, ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_SET, jit_set_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_MAP, jit_dict_of(ITEMS(), COUNT()))
RESULT_STENCIL(BUILD_STRING, jit_join(OBJECT_OPERAND(0), ITEMS(), COUNT()))
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
    JitAttributeCache *cache = (JitAttributeCache *)OPERAND(0);
    PyObject **vector = &SLOT(1).o + 1;
    PyObject *owner = vector[0];
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), OPARG(3));
    PyObject *result;
    if (entry != 0 && entry->kind == ATTRIBUTE_CLASS && (char *)owner == entry->keys &&
        jit_type_version((PyTypeObject *)owner, OPARG(3)) == (uint32_t)entry->key_count) {
        PyObject *callable = entry->method;
        Py_INCREF(callable);
        int64_t with_class = entry->index;  /* 1: a classmethod's function, the class first */
        result = PyObject_Vectorcall(callable, vector + 1 - with_class,
                                     (OPARG(2) - 1 + (size_t)with_class) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                     OBJECT_OPERAND(1));
        Py_DECREF(callable);
    } else if (entry != 0 && jit_method_found(cache, entry, owner)) {
        PyObject *method = entry->method;
        Py_INCREF(method);  /* the call may rebind it on the type */
        result = PyObject_Vectorcall(method, vector, OPARG(2) | PY_VECTORCALL_ARGUMENTS_OFFSET, OBJECT_OPERAND(1));
        Py_DECREF(method);
    } else {
        jit_fill_attribute(cache, owner, OPARG(3), FILL_METHOD);
        result = PyObject_VectorcallMethod(cache->name, vector, OPARG(2) | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                           OBJECT_OPERAND(1));
    }
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
JIT_INLINE void jit_loaded(JitSlot *callable_slot, JitSlot *self_slot, PyObject *callable, int64_t keeps_self) {
    jit_set_owned(callable_slot, callable);
    if (!keeps_self) {
        PyObject *owner = self_slot->o;
        self_slot->o = 0;
        Py_DECREF(owner);
    }
}

STENCIL(LOAD_METHOD) {
    PyObject *bound = PyObject_GetAttr(SLOT(1).o, OBJECT_OPERAND(0));
    if (bound == 0) {
        ERROR();
    }
    jit_loaded(&SLOT(0), &SLOT(1), bound, 0);
    CONTINUE();
}

STENCIL(LOAD_METHOD_CACHED) {
    JitAttributeCache *cache = (JitAttributeCache *)OPERAND(0);
    PyObject *owner = SLOT(1).o;
    JitAttributeEntry *entry = jit_cached_type(cache, Py_TYPE(owner), OPARG(2));
    int failed = 0;
    PyObject *own = entry != 0 ? jit_instance_attribute(cache, entry, owner, &failed) : 0;  /* the instance's own */
    if (failed) {
        ERROR();
    }
    PyObject *callable;
    int64_t keeps_self = 1;
    if (entry != 0 && entry->kind == ATTRIBUTE_CLASS && (char *)owner == entry->keys &&
        jit_type_version((PyTypeObject *)owner, OPARG(2)) == (uint32_t)entry->key_count) {
        callable = entry->method;  /* called without the class, a classmethod's function with it */
        keeps_self = entry->index;
    } else if (entry != 0 && jit_method_found(cache, entry, owner)) {
        callable = entry->method;
    } else if (own != 0) {
        callable = own;  /* called as it is, without self */
        keeps_self = 0;
    } else {
        jit_fill_attribute(cache, owner, OPARG(2), FILL_METHOD);
        callable = PyObject_GetAttr(owner, cache->name);
        if (callable == 0) {
            ERROR();
        }
        jit_loaded(&SLOT(0), &SLOT(1), callable, 0);
        CONTINUE();
    }
    Py_INCREF(callable);
    jit_loaded(&SLOT(0), &SLOT(1), callable, keeps_self);
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
 * tuple's items OPARG1 bytes in: UNPACK_TO_SLOTS_BODY (stencils/helpers.c)
 * stores them.  Anything else jumps to the general unpacking, out of line. */
STENCIL(UNPACK_TO_SLOTS) {
    if (!UNPACK_TO_SLOTS_BODY(frame, SLOT(0).o, (const uint32_t *)(uintptr_t)OPERAND(0), OPARG(1))) {
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
