/* Helpers: bodies that every site of a stencil shares.  Each is emitted once
 * per process (jit/backend/emitter.py) and called from its stencil's copies,
 * which stay a few instructions long: a body copied into every site of a big
 * function fills the instruction cache (400 unpackings of ten items in a loop
 * made 140 KB of hot code, 3x the interpreter's time with about as many
 * instructions).  A helper is a plain C function of the stencils' ABI whose
 * holes are only C-API symbols: what differs per site comes in arguments. */
#include "jit_stencil.h"

extern PyTypeObject PyTuple_Type;
extern PyTypeObject PyList_Type;

/* UNPACK_TO_SLOTS's body: `a, b, c = value` when value is an exact tuple or an
 * exact list of as many items as `table` has (item, slot) pairs (uint32 count,
 * then the pairs, the items in order), a tuple's items `items_offset` bytes
 * in.  Every item is taken first, then each stored, releasing what its slot
 * held (a release may run code that changes the list or lets the tuple go:
 * the interpreter's stack holds the items as this buffer does); no tuple is
 * made.  0 for anything else (the general unpacking's), 1 when stored. */
int UNPACK_TO_SLOTS_BODY(JitSlot *frame, PyObject *value, const uint32_t *table, size_t items_offset) {
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
        taken[k] = items[k];
        Py_INCREF(taken[k]);
    }
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t k = 0; k < count; k++) {
        jit_set_owned(&frame[table[2 + 2 * k]], taken[k]);
    }
    return 1;
}
