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
                ("owner", ctypes.c_void_p)]


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
