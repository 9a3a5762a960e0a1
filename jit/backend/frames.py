"""The process-wide stack of frame slots that compiled code runs on, and the C stack's floor.

ENTRY takes a frame from its top and gives it back on return; a direct call
between compiled functions puts the callee's frame right after the caller's.
So entering compiled code needs no allocation, and recursion nothing special.
The slots are in chunks (``JitChunk``; the layouts are jit/layouts.py's): the first is
made at the first compile, not at import; the stencils link a new one when a
frame does not fit in the rest of the current one and keep it for reuse, so the
depth of compiled recursion is bounded by the recursion limit and by the C
stack, not by the size of the stack of slots.

Compiled calls run on the C stack, where 3.11's Python-to-Python calls do not:
with a high recursion limit, or in a thread with a small stack, compiled
recursion would run off the end of the C stack.  ENTRY and CALL_JIT compare the
stack pointer with the running thread's *floor* (the lowest address of its stack
plus a margin) and raise RecursionError below it.  The floors of the last few
threads are cached in the frame stack; :func:`measure_c_stack` fills the entry
of the running thread the first time ENTRY runs on it.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import threading
from typing import NamedTuple

from jit.backend.errors import UnsupportedHostError
from jit.layouts import SLOT_BYTES, STACK_FLOORS, Chunk, FrameStack

CHUNK_SLOTS = 1 << 16  # 512 KiB per chunk; a frame larger than that gets a chunk of its own size
CALL_POLL_INTERVAL = 1 << 12  # function entries between two polls for signals (CHECK_SIGNALS_ON_CALL)
# The C stack kept free below compiled code: room for what the generic tier calls there (the interpreter,
# C-API functions, the handling of the RecursionError itself).  A quarter of a small thread's stack, up to
# a fixed amount for large ones.
MIN_C_STACK_MARGIN = 48 << 10
MAX_C_STACK_MARGIN = 512 << 10
FALLBACK_C_STACK = 256 << 10  # assumed below ENTRY where the thread's stack bounds cannot be read


def _thread_state() -> int:
    """The running thread's PyThreadState* (what ENTRY records as the stack's owner)."""
    get = ctypes.pythonapi.PyThreadState_Get
    get.restype = ctypes.c_void_p
    return int(get())


def _slots_of(chunk: ctypes._Pointer[Chunk]) -> int:
    return ctypes.addressof(chunk.contents) + ctypes.sizeof(Chunk)


@functools.cache
def _stack() -> FrameStack:
    """The frame stack, with its first chunk: made at the first compile (not at import), never freed."""
    malloc = ctypes.pythonapi.PyMem_Malloc
    malloc.restype = ctypes.c_void_p
    malloc.argtypes = [ctypes.c_size_t]
    address = malloc(ctypes.sizeof(Chunk) + CHUNK_SLOTS * SLOT_BYTES)
    if not address:
        raise MemoryError("no memory for the frame stack")
    chunk = ctypes.cast(address, ctypes.POINTER(Chunk))
    chunk.contents.next = ctypes.POINTER(Chunk)()
    chunk.contents.previous = ctypes.POINTER(Chunk)()
    base = _slots_of(chunk)
    chunk.contents.limit = base + CHUNK_SLOTS * SLOT_BYTES
    stack = FrameStack(top=base, limit=chunk.contents.limit, base=base, chunk=chunk, chunk_slots=CHUNK_SLOTS,
                       measure_c_stack=id(measure_c_stack), call_countdown=CALL_POLL_INTERVAL)
    return stack


def frame_stack_address() -> int:
    """The address of the JitFrameStack the ENTRY and CALL_JIT stencils use."""
    return ctypes.addressof(_stack())


def call_countdown_address() -> int:
    """The address of the count that CHECK_SIGNALS_ON_CALL shares between all function entries."""
    return frame_stack_address() + FrameStack.call_countdown.offset


THREAD_STATE_PROBE_BYTES = 256  # the counters are among the first fields of every CPython's PyThreadState
PROBE_LIMIT_STEP = 7  # how far the probe moves the recursion limit to see which field follows it


class RecursionCounter(NamedTuple):
    """Where a thread state counts Python calls against the recursion limit, and who raises at the limit."""

    offset: int
    # True where Py_EnterRecursiveCall does not use this counter (3.12+): compiled calls raise at its limit
    # themselves.  False where it does (3.11): it raises, and lazily applies a raised sys.setrecursionlimit.
    python_only: bool


def _thread_state_bytes() -> bytes:
    return ctypes.string_at(_thread_state(), THREAD_STATE_PROBE_BYTES)


def _int32_at(raw: bytes, offset: int) -> int:
    return int.from_bytes(raw[offset:offset + 4], "little", signed=True)


def _c_api_counter() -> int:
    """The offset of the 32-bit field Py_EnterRecursiveCall decrements, or 0 if there is none.

    Accepted only if exactly one 32-bit field goes down by one and comes back, twice at the same offset (3.11's
    recursion_remaining, 3.12's and 3.13's c_recursion_remaining); 3.14 checks stack bounds instead: no field
    moves.
    """
    api = ctypes.pythonapi
    api.Py_EnterRecursiveCall.argtypes = [ctypes.c_char_p]
    api.Py_EnterRecursiveCall.restype = ctypes.c_int
    api.Py_LeaveRecursiveCall.restype = None
    offsets = set()
    for _ in range(2):
        before = _thread_state_bytes()
        if api.Py_EnterRecursiveCall(b"") != 0:
            return 0
        during = _thread_state_bytes()
        api.Py_LeaveRecursiveCall()
        after = _thread_state_bytes()
        changed = {offset // 4 * 4 for offset in range(THREAD_STATE_PROBE_BYTES) if before[offset] != during[offset]}
        if after != before or len(changed) != 1:
            return 0
        (offset,) = changed
        if _int32_at(during, offset) != _int32_at(before, offset) - 1 or offset == 0:
            return 0
        offsets.add(offset)
    return offsets.pop() if len(offsets) == 1 else 0


def _python_call_counter() -> int:
    """The offset of the 32-bit field a Python call decrements and sys.setrecursionlimit moves, or 0.

    Snapshots of the thread state at four nested depths of a Python function: the field must go down by one
    per call, come back when the calls return, and go up by as much as the recursion limit does (3.12+ adjust
    every thread's remaining count at once; 3.11 too).  Exactly one field must pass.
    """
    def nest(levels: int) -> None:
        snapshots.append(_thread_state_bytes())
        if levels:
            nest(levels - 1)

    # All taken at this depth but the nested ones, one to three calls deeper.
    start = _thread_state_bytes()
    snapshots = [start]
    nest(2)
    back = _thread_state_bytes()
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(limit + PROBE_LIMIT_STEP)
        raised = _thread_state_bytes()
    finally:
        sys.setrecursionlimit(limit)
    found = [offset for offset in range(4, THREAD_STATE_PROBE_BYTES - 3, 4)
             if all(_int32_at(raw, offset) == _int32_at(start, offset) - level for level, raw in enumerate(snapshots))
             and _int32_at(back, offset) == _int32_at(start, offset)
             and _int32_at(raised, offset) == _int32_at(start, offset) + PROBE_LIMIT_STEP]
    return found[0] if len(found) == 1 else 0


def probe_recursion_counter() -> RecursionCounter:
    """The counter compiled calls adjust inline so as to count against the recursion limit as Python calls do.

    Direct calls between compiled functions count exactly as Python calls do.  The counter is private, so it is
    found by watching what a Python call changes, and compared with what Py_EnterRecursiveCall changes: the
    same field on 3.11; from 3.12 on Python calls have a counter of their own, and the C-API function counts C
    recursion against a different limit (3.12, 3.13) or checks the C stack (3.14+), so compiled code must not
    count with it.  Raises UnsupportedHostError where no counter is found: calls would then not stop at the
    interpreter's limit.
    """
    python = _python_call_counter()
    if not python:
        raise UnsupportedHostError("cannot find where this interpreter counts Python calls against the recursion "
                                   "limit")
    return RecursionCounter(python, python_only=_c_api_counter() != python)


def comparisons_count_recursion() -> bool:
    """Whether Py_EnterRecursiveCall shares the counter of Python calls (3.11), as far as the probe knows."""
    return not _stack().recursion_counter_python_only


def use_inline_recursion_counter() -> None:
    """Let direct calls adjust the recursion counter inline (called once, before any code runs)."""
    counter = probe_recursion_counter()
    stack = _stack()
    stack.recursion_counter_offset = counter.offset
    stack.recursion_counter_python_only = counter.python_only


# --- the C stack -----------------------------------------------------------------------------


def _linux_stack_bounds() -> tuple[int, int] | None:
    libc = ctypes.CDLL(None)
    libc.pthread_self.restype = ctypes.c_void_p
    attributes = ctypes.create_string_buffer(256)  # pthread_attr_t: 56 bytes on x86-64, 64 on ARM64
    if libc.pthread_getattr_np(ctypes.c_void_p(libc.pthread_self()), attributes) != 0:
        return None
    try:
        address, size = ctypes.c_void_p(), ctypes.c_size_t()
        if libc.pthread_attr_getstack(attributes, ctypes.byref(address), ctypes.byref(size)) != 0:
            return None
        return (address.value or 0), size.value
    finally:
        libc.pthread_attr_destroy(attributes)


def _darwin_stack_bounds() -> tuple[int, int] | None:
    libc = ctypes.CDLL(None)
    libc.pthread_self.restype = ctypes.c_void_p
    libc.pthread_get_stackaddr_np.restype = ctypes.c_void_p
    libc.pthread_get_stackaddr_np.argtypes = [ctypes.c_void_p]
    libc.pthread_get_stacksize_np.restype = ctypes.c_size_t
    libc.pthread_get_stacksize_np.argtypes = [ctypes.c_void_p]
    thread = libc.pthread_self()
    top, size = libc.pthread_get_stackaddr_np(thread), libc.pthread_get_stacksize_np(thread)
    return (top - size, size) if top and size else None


def _windows_stack_bounds() -> tuple[int, int] | None:
    low, high = ctypes.c_size_t(), ctypes.c_size_t()
    ctypes.windll.kernel32.GetCurrentThreadStackLimits(ctypes.byref(low), ctypes.byref(high))  # type: ignore[attr-defined]
    return (low.value, high.value - low.value) if high.value > low.value else None


def thread_stack_bounds() -> tuple[int, int] | None:
    """The lowest address and the size of the running thread's C stack, or None where they cannot be read."""
    read = {"linux": _linux_stack_bounds, "darwin": _darwin_stack_bounds, "win32": _windows_stack_bounds}
    try:
        found = read.get(sys.platform, lambda: None)()
    except (OSError, AttributeError, ValueError):
        return None
    return found if found is not None and found[0] > 0 and found[1] > 0 else None


def c_stack_floor(bounds: tuple[int, int] | None, stack_address: int) -> int:
    """The lowest stack address compiled code may call from: the stack's bottom plus a margin."""
    if bounds is None:
        return max(stack_address - FALLBACK_C_STACK, 0)
    low, size = bounds
    return low + min(max(size // 4, MIN_C_STACK_MARGIN), MAX_C_STACK_MARGIN)


@functools.cache
def _main_thread_bounds() -> tuple[int, int] | None:
    # The main thread lives as long as the process; reading its bounds may scan /proc/self/maps.
    return thread_stack_bounds()


class _ThreadExit:
    """Kept in a thread-local: when its thread ends, its cached floor goes (a new thread may reuse the state)."""

    def __init__(self, thread: int) -> None:
        self.thread = thread

    def __del__(self) -> None:
        # At interpreter shutdown the module may already be torn down (even contextlib): nothing to forget then.
        try:  # noqa: SIM105
            forget_thread(self.thread)
        except Exception:
            pass


_thread_exit = threading.local()


def forget_thread(thread: int) -> None:
    """Drop the floor cached for the thread state at ``thread``."""
    for entry in _stack().floors:
        if entry.thread == thread:
            entry.thread = None
            entry.floor = None


def measure_c_stack() -> None:
    """Called by ENTRY (from machine code) when the running thread has no entry in the floor cache."""
    stack = _stack()
    thread = _thread_state()
    main = threading.current_thread() is threading.main_thread()
    floor = c_stack_floor(_main_thread_bounds() if main else thread_stack_bounds(), stack.stack_address or 0)
    if getattr(_thread_exit, "thread", None) != thread:
        _thread_exit.marker = _ThreadExit(thread)
        _thread_exit.thread = thread
    entry = stack.floors[(thread >> 4) % STACK_FLOORS]
    if entry.thread and entry.thread == stack.owner and stack.top != stack.base:
        return  # the owner's direct calls read its floor: this thread runs the interpreter until it is free
    entry.floor = floor
    entry.thread = thread


# --- what the driver asks ------------------------------------------------------------------


def frames_in_use() -> int:
    """Slots taken now, all chunks together (zero whenever no compiled code is running)."""
    stack = _stack()
    if stack.top == stack.base:
        return 0
    used, chunk = 0, stack.chunk
    first = ctypes.cast(stack.base - ctypes.sizeof(Chunk), ctypes.POINTER(Chunk))
    # Frames are in the chunks from the first to the current one; each but the current one is full up to
    # where its last frame ended, which is not recorded, so count whole chunks before the current one.
    walk = first
    while ctypes.addressof(walk.contents) != ctypes.addressof(chunk.contents):
        used += ((walk.contents.limit or 0) - _slots_of(walk)) // SLOT_BYTES
        walk = walk.contents.next
    return used + ((stack.top or 0) - _slots_of(chunk)) // SLOT_BYTES


def chunk_count() -> int:
    """How many chunks of slots exist (made as recursion went deeper, kept for reuse)."""
    count, chunk = 0, ctypes.cast(_stack().base - ctypes.sizeof(Chunk), ctypes.POINTER(Chunk))
    while chunk:
        count += 1
        chunk = chunk.contents.next
    return count


def can_enter() -> bool:
    """Whether ENTRY would take a frame now, in this thread.

    Not when another thread has frames on the stack (it let the GIL go in compiled code): the slow path then
    runs the interpreter instead of coming back to ENTRY.
    """
    stack = _stack()
    return stack.top == stack.base or stack.owner == _thread_state()
