"""The process-wide stack of frame slots that compiled code runs on.

ENTRY takes a frame from its top and gives it back on return; a direct call
between compiled functions puts the callee's frame right after the caller's.
So entering compiled code needs no allocation, and recursion nothing special.
"""

from __future__ import annotations

import ctypes

FRAME_STACK_SLOTS = 1 << 20  # 8 MiB: pages are committed by the OS as they are touched


class FrameStack(ctypes.Structure):
    """JitFrameStack of stencils/jit_stencil.h."""

    _fields_ = [("top", ctypes.c_void_p), ("limit", ctypes.c_void_p), ("base", ctypes.c_void_p),
                ("owner", ctypes.c_void_p), ("recursion_counter_offset", ctypes.c_int64)]


_slots = (ctypes.c_int64 * FRAME_STACK_SLOTS)()
_base = ctypes.addressof(_slots)
_stack = FrameStack(_base, _base + ctypes.sizeof(_slots), _base, None)


def _thread_state() -> int:
    """The running thread's PyThreadState* (what ENTRY records as the stack's owner)."""
    get = ctypes.pythonapi.PyThreadState_Get
    get.restype = ctypes.c_void_p
    return int(get())


def frame_stack_address() -> int:
    """The address of the JitFrameStack the ENTRY and CALL_JIT stencils use."""
    return ctypes.addressof(_stack)


THREAD_STATE_PROBE_BYTES = 256  # the counter is among the first fields of every CPython's PyThreadState


def probe_recursion_counter() -> int:
    """The offset in PyThreadState of the counter Py_EnterRecursiveCall decrements, or 0 if there is none.

    Direct calls between compiled functions count against the recursion limit exactly as Python calls do.
    Calling Py_EnterRecursiveCall and Py_LeaveRecursiveCall for each costs two calls into libpython; the
    counter they adjust (recursion_remaining in 3.11, c_recursion_remaining in 3.12 and 3.13) is private, so
    it is found by watching what a call changes: accepted only if exactly one 32-bit field goes down by one
    and comes back.  CPython 3.14 checks stack bounds instead of a counter: no field moves, the answer is 0,
    and the functions are called.
    """
    api = ctypes.pythonapi
    api.PyThreadState_Get.restype = ctypes.c_void_p
    api.Py_EnterRecursiveCall.argtypes = [ctypes.c_char_p]
    api.Py_EnterRecursiveCall.restype = ctypes.c_int
    api.Py_LeaveRecursiveCall.restype = None
    state = api.PyThreadState_Get()
    offsets = set()
    for _ in range(2):
        before = ctypes.string_at(state, THREAD_STATE_PROBE_BYTES)
        if api.Py_EnterRecursiveCall(b"") != 0:
            return 0
        during = ctypes.string_at(state, THREAD_STATE_PROBE_BYTES)
        api.Py_LeaveRecursiveCall()
        after = ctypes.string_at(state, THREAD_STATE_PROBE_BYTES)
        changed = {offset // 4 * 4 for offset in range(THREAD_STATE_PROBE_BYTES) if before[offset] != during[offset]}
        if after != before or len(changed) != 1:
            return 0
        (offset,) = changed
        down = int.from_bytes(before[offset:offset + 4], "little", signed=True)
        if int.from_bytes(during[offset:offset + 4], "little", signed=True) != down - 1 or offset == 0:
            return 0
        offsets.add(offset)
    return offsets.pop() if len(offsets) == 1 else 0


def use_inline_recursion_counter() -> None:
    """Let direct calls adjust the recursion counter inline (called once, before any code runs)."""
    _stack.recursion_counter_offset = probe_recursion_counter()


def frames_in_use() -> int:
    """Slots taken now (zero whenever no compiled code is running)."""
    return ((_stack.top or _base) - _base) // ctypes.sizeof(ctypes.c_int64)


def can_enter(frame_size: int) -> bool:
    """Whether ENTRY would take a frame of ``frame_size`` slots now, in this thread.

    Not when another thread has frames on the stack (it let the GIL go in compiled code), nor when the stack
    is full: the slow path then runs the interpreter instead of coming back to ENTRY.
    """
    top = _stack.top or _base
    free = (_stack.limit - top) // ctypes.sizeof(ctypes.c_int64)
    return free >= frame_size and (top == _base or _stack.owner == _thread_state())
