"""The process-wide stack of frame slots that compiled code runs on.

ENTRY takes a frame from its top and gives it back on return; a direct call
between compiled functions puts the callee's frame right after the caller's.
So entering compiled code needs no allocation, and recursion nothing special.
"""

from __future__ import annotations

import ctypes

FRAME_STACK_SLOTS = 1 << 20  # 8 MiB: pages are committed by the OS as they are touched


class FrameStack(ctypes.Structure):
    _fields_ = [("top", ctypes.c_void_p), ("limit", ctypes.c_void_p)]


_slots = (ctypes.c_int64 * FRAME_STACK_SLOTS)()
_stack = FrameStack(ctypes.addressof(_slots), ctypes.addressof(_slots) + ctypes.sizeof(_slots))


def frame_stack_address() -> int:
    """The address of the {top, limit} pair the ENTRY and CALL_JIT stencils use."""
    return ctypes.addressof(_stack)


def frames_in_use() -> int:
    """Slots taken now (zero whenever no compiled code is running)."""
    return (_stack.top - ctypes.addressof(_slots)) // ctypes.sizeof(ctypes.c_int64)
