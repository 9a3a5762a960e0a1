/* Calls: compiled code calling compiled code directly, the dispatcher's calls
 * into specializations, generic calls of any callable, and global guards. */
#include "jit_stencil.h"

extern PyObject *PyDict_GetItem(PyObject *dict, PyObject *key);

typedef JitResult JitChain(JitSlot *frame);

/* A specialized chain returns the frame itself to say "my result is unboxed in
 * frame[0]"; any other non-NULL result is an object (the generic tier's). */
#define RAW_RESULT(FRAME) ((PyObject *)(FRAME))

STENCIL(RETURN_RAW) {
    frame[0] = SLOT(0);
    return RAW_RESULT(frame);
}

STENCIL(RETURN_CONST) {
    PyObject *value = (PyObject *)OPERAND(0);
    Py_INCREF(value);
    return value;
}

/* The dispatcher calls a specialization and boxes an unboxed result. */
#define RETURN_SPECIALIZED(NAME, BOX)                                   \
    STENCIL(NAME) {                                                     \
        JitResult result = ((JitChain *)OPERAND(0))(frame);             \
        if (result == RAW_RESULT(frame)) {                              \
            return BOX;                                                 \
        }                                                               \
        return result;                                                  \
    }
RETURN_SPECIALIZED(RETURN_SPECIALIZED_INT, PyLong_FromLongLong(frame[0].i))
RETURN_SPECIALIZED(RETURN_SPECIALIZED_FLOAT, PyFloat_FromDouble(frame[0].f))
RETURN_SPECIALIZED(RETURN_SPECIALIZED_BOOL, jit_new_bool(frame[0].i != 0))
RETURN_SPECIALIZED(RETURN_SPECIALIZED_OBJECT, result)

/* dst = callee(args...), the OPARG3 arguments already unboxed in the slots
 * from SLOT1 on, where the callee's frame starts.  OPERAND0 is the address of
 * a cell holding the callee's entry (filled once the callee is emitted, so
 * that a function can call itself), OPARG2 the callee's frame size, OPERAND1
 * the frame stack.  The call counts against the recursion limit as a Python
 * call does, and raises RecursionError where the C stack runs low. */
STENCIL(CALL_JIT) {
    JitSlot *callee_frame = SLOT_ADDRESS(1);
    /* Read through a volatile copy, so that the stack's address is one
     * register rather than a 64-bit immediate per field it reaches. */
    volatile uintptr_t stack_address = OPERAND(1);
    JitFrameStack *stack = (JitFrameStack *)stack_address;
    size_t size = OPARG(2);
    JitSlot *caller_top = stack->top;
    /* The owner's floor: its outermost ENTRY measured it. */
    if (jit_c_stack_exhausted(stack->c_floor)) {
        ERROR();
    }
    int32_t *remaining = jit_recursion_counter(stack, stack->owner);
    if (jit_enter_recursive_call(stack, remaining)) {
        ERROR();
    }
    if ((size_t)(stack->limit - callee_frame) < size) {
        JitSlot *moved = jit_next_chunk(stack, size);
        if (moved == 0) {
            jit_leave_recursive_call(remaining);
            ERROR();
        }
#pragma clang loop vectorize(disable) interleave(disable) unroll(disable)
        for (size_t i = 0; i < OPARG(3); i++) {
            moved[i] = callee_frame[i];
        }
        callee_frame = moved;
    }
    stack->top = callee_frame + size;
    JitResult result = (*(JitChain **)OPERAND(0))(callee_frame);
    stack->top = caller_top;
    if (callee_frame != SLOT_ADDRESS(1)) {
        jit_previous_chunk(stack);
    }
    jit_leave_recursive_call(remaining);
    if (result == RAW_RESULT(callee_frame)) {
        SLOT(0) = callee_frame[0];
        CONTINUE();
    }
    if (result == 0) {
        ERROR();
    }
    /* The callee deoptimized and returned an object: so must we, after this op. */
    SLOT(0).o = result;
    SIDE_EXIT();
}

/* dst = callable(OPARG2 arguments in the slots from SLOT1 on) in the generic tier. */
STENCIL(CALL_SLOTS) {
    PyObject *result = PyObject_Vectorcall((PyObject *)OPERAND(0), &SLOT(1).o, OPARG(2), 0);
    if (result == 0) {
        ERROR();
    }
    Py_XDECREF(SLOT(0).o);
    SLOT(0).o = result;
    CONTINUE();
}

/* Leave (to the slow path) when a global the code assumed has been rebound:
 * OPERAND0 is a JitGlobalGuard (jit_layouts.h). */
STENCIL(GUARD_GLOBAL) {
    JitGlobalGuard *guard = (JitGlobalGuard *)OPERAND(0);
    if (PyDict_GetItem(guard->namespace, guard->name) != guard->expected) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* A namespace's stamp: the watchers' count of changes (3.12+), or the dict's
 * own version tag (3.11's ma_version_tag, after ma_used), which every change
 * gives a new value. */
static inline uint64_t jit_namespace_stamp(JitNamespaceStamp *cell) {
    return cell->epoch != 0 ? *(volatile uint64_t *)cell->epoch : ((uint64_t *)cell->namespace)[3];
}

/* Go on past the globals' guards when nothing changed in the namespace since
 * they last held; else check them (the side exit, to GUARD_GLOBAL each).  A
 * stamp with its top bit set never passes: the watcher has stopped (at exit). */
STENCIL(GUARD_NAMESPACE) {
    JitNamespaceStamp *cell = (JitNamespaceStamp *)OPERAND(0);
    uint64_t stamp = jit_namespace_stamp(cell);
    if (stamp != cell->expected || (stamp >> 63) != 0) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* After every guard of the namespace held: its stamp now. */
STENCIL(REFRESH_NAMESPACE) {
    JitNamespaceStamp *cell = (JitNamespaceStamp *)OPERAND(0);
    cell->expected = jit_namespace_stamp(cell);
    CONTINUE();
}

/* The dict watcher (PyDict_AddWatcher, 3.12+) of the namespaces whose guards
 * are stamped: any change of one counts up the epoch OPERAND0. */
int NAMESPACE_WATCHER(int event, PyObject *dict, PyObject *key, PyObject *value) {
    (void)event;
    (void)dict;
    (void)key;
    (void)value;
    ++*(volatile uint64_t *)(uintptr_t)OPERAND(0);
    return 0;
}

/* Leave (to the slow path) when a word of an object no longer holds what the
 * code assumed: OPERAND0 is its address (a function's __code__ or
 * __defaults__, found at run time by jit/backend/layout.py), OPERAND1 the
 * pointer expected there (NULL for None). */
STENCIL(GUARD_FIELD) {
    if (*(PyObject **)OPERAND(0) != (PyObject *)OPERAND(1)) {
        SIDE_EXIT();
    }
    CONTINUE();
}

/* Leave (to the slow path) once the count at OPERAND0 reaches OPERAND1: a
 * specialization's deoptimizations, which the driver bounds where they come
 * from its bets on types (jit/optimizer/bets.py). */
STENCIL(GUARD_BELOW) {
    if (*(int64_t *)OPERAND(0) >= (int64_t)OPERAND(1)) {
        SIDE_EXIT();
    }
    CONTINUE();
}
