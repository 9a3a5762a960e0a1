/* Deoptimization and whole-frame slot management.
 *
 * A side exit of the specialized tier lands on one DEOPT stencil whose table
 * (built by the lowering, see jit/backend/lowering.py) says what every object
 * slot of the generic tier must hold at that point: a box of the unboxed value
 * in the slot, a constant, NULL, or what it already holds.  Doing this from
 * tables keeps each exit one stencil long, however many variables are live. */
#include "jit_stencil.h"

/* The kinds DEOPT_NULL ... DEOPT_BORROWED and the tables' layout (JitDeoptTable,
 * JitDeoptEntry) are jit_layouts.h's, generated from jit/layouts.py. */

/* Box the frame per a table; 0 if a box cannot be made: then the slots not
 * yet converted are set to NULL, so that the generic tier's error path
 * releases exactly what was made. */
static inline __attribute__((always_inline)) int jit_deopt(JitSlot *frame, JitDeoptTable *table) {
    (*table->counter)++;
    for (uint64_t i = 0; i < table->count; i++) {
        JitDeoptEntry *entry = &table->entries[i];
        JitSlot *slot = &frame[entry->slot];
        PyObject *object;
        uint32_t kind = entry->kind;
        if (kind == DEOPT_KEEP) {
            continue;
        }
        if (kind == DEOPT_NULL) {
            object = 0;
        } else if (kind == DEOPT_BOX_INT) {
            object = PyLong_FromLongLong(slot->i);
        } else if (kind == DEOPT_BOX_FLOAT) {
            object = PyFloat_FromDouble(slot->f);
        } else if (kind == DEOPT_BORROWED) {
            object = slot->o;  /* a parameter the caller holds: the generic tier's own reference from here on */
            Py_INCREF(object);
        } else {
            object = kind == DEOPT_CONSTANT ? entry->constant : slot->i ? Py_True : Py_False;
            Py_INCREF(object);
        }
        if (object == 0 && kind != DEOPT_NULL) {
            for (uint64_t j = i; j < table->count; j++) {
                if (table->entries[j].kind != DEOPT_KEEP) {
                    frame[table->entries[j].slot].o = 0;
                }
            }
            return 0;
        }
        slot->o = object;
    }
    return 1;
}

/* A whole side exit: the table every exit of the function shares (OPERAND0:
 * constants and scratch slots, which cannot fail, and the deoptimization
 * count), then the exit's own table of the variable slots (OPERAND1; 0 when
 * the frame has none), then the jump into the generic tier. */
STENCIL(DEOPT) {
    jit_deopt(frame, (JitDeoptTable *)OPERAND(0));
    JitDeoptTable *variables = (JitDeoptTable *)OPERAND(1);
    if (variables != 0 && !jit_deopt(frame, variables)) {
        ERROR();
    }
    JUMP();
}

/* Release OPARG1 slots from SLOT0 on and set them NULL.  Slots that are all
 * NULL already (a return whose temporaries were let go) are seen without a
 * call, so without the saved registers a call needs; any other range is
 * CLEAR_RANGE_BODY's (helpers.c). */
STENCIL(CLEAR_RANGE) {
    JitSlot *first = SLOT_ADDRESS(0);
    uint32_t count = OPARG(1);
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t i = 0; i < count; i++) {
        if (first[i].o != 0) {
            CLEAR_RANGE_BODY(first + i, count - i);
            break;
        }
    }
    CONTINUE();
}

/* Set OPARG1 slots from SLOT0 on to NULL (they hold nothing owned). */
STENCIL(SET_NULL_RANGE) {
    JitSlot *first = SLOT_ADDRESS(0);
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
    for (uint32_t i = 0; i < OPARG(1); i++) {
        first[i].o = 0;
    }
    CONTINUE();
}
