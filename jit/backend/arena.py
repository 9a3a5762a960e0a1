"""A page-granular allocator of executable memory shared by many compiled functions.

Memory is mapped in chunks (256 KiB by default) and handed out as runs of
whole pages; many functions share one mapping, so compiling a function costs
no mmap and the process does not collect thousands of mappings.  A run never
shares a page with another run.  That is the price of the rule that pages
holding live code are never made writable: an emit that wrote into a page
holding another function's code would have to flip that page to RW, and a
thread executing there meanwhile would fault.  The GIL does not close that
window: cffi releases it around mprotect, and the interpreter may switch
threads between two Python-level calls.  Code of one emit (one function, or
anything the compiler stitches together) shares its pages.

States: free pages are writable; ``allocate`` returns writable pages;
``seal`` makes them read-execute; ``release`` makes them writable again and
returns them to the free list (their code is dead by then).  A chunk whose
pages are all free is unmapped, except ``spare_chunks`` of them kept for
reuse.

``release`` may be called from a garbage-collection finalizer at any point,
including inside another arena call on the same thread, so it never blocks:
it queues the run, and whoever holds the lock next returns it.  ``allocate``
may be re-entered the same way (a signal handler or finalizer that compiles
while this thread is inside the arena): the nested call maps a mapping of its
own, outside the chunk list it would otherwise corrupt, and queues it; whoever
holds the lock next adopts it as an ordinary chunk (jit/reentrancy.py).
"""

from __future__ import annotations

import bisect
import weakref
from collections import deque

from jit.backend.memory import ExecutableMemory, host_memory
from jit.records import field, record
from jit.reentrancy import Guard

__all__ = ["Allocation", "Arena"]


@record
class _Chunk:
    address: int
    size: int
    free: list[tuple[int, int]] = field(default_factory=list)  # (offset, length), sorted, coalesced

    def take(self, length: int) -> int | None:
        for i, (offset, run) in enumerate(self.free):
            if run >= length:
                if run == length:
                    del self.free[i]
                else:
                    self.free[i] = (offset + length, run - length)
                return offset
        return None

    def give(self, offset: int, length: int) -> None:
        i = bisect.bisect(self.free, (offset, 0))
        if i < len(self.free) and offset + length == self.free[i][0]:
            length += self.free.pop(i)[1]
        if i > 0 and self.free[i - 1][0] + self.free[i - 1][1] == offset:
            offset, previous = self.free[i - 1]
            length += previous
            i -= 1
            del self.free[i]
        self.free.insert(i, (offset, length))

    @property
    def empty(self) -> bool:
        return self.free == [(0, self.size)]


@record(eq=False)
class Allocation:
    """A run of whole pages: ``size`` bytes at ``address``; ``requested`` of them asked for."""

    address: int
    size: int
    requested: int
    arena: Arena
    _chunk: _Chunk
    live: bool = True


def _unmap_all(memory: ExecutableMemory, chunks: list[_Chunk]) -> None:
    for chunk in chunks:
        memory.unmap(chunk.address, chunk.size)
    chunks.clear()


class Arena:
    """Executable memory for compiled code; thread-safe."""

    def __init__(
        self, memory: ExecutableMemory | None = None, *, chunk_size: int = 256 * 1024, spare_chunks: int = 1
    ) -> None:
        self.memory = memory if memory is not None else host_memory()
        unit = self.memory.granularity
        self.chunk_size = max(unit, -(-chunk_size // unit) * unit)
        self.spare_chunks = spare_chunks
        self._chunks: list[_Chunk] = []
        self._lock = Guard()
        self._pending: deque[Allocation] = deque()
        self._adopt: deque[Allocation] = deque()  # made by nested calls, apart from the chunk list
        self._in_use = 0
        self._requested = 0
        self._live = 0
        # Allocations keep their arena alive, so this runs once none is left; not
        # at exit, when compiled code may still run from other finalizers.
        weakref.finalize(self, _unmap_all, self.memory, self._chunks).atexit = False

    def allocate(self, size: int) -> Allocation:
        """A writable run of at least ``size`` bytes (whole pages, at least one)."""
        if size < 0:
            raise ValueError(f"negative allocation size {size}")
        page = self.memory.page_size
        length = max(page, -(-size // page) * page)
        if self._lock.busy():
            return self._allocate_apart(size, length)
        with self._lock:
            self._drain()
            for chunk in self._chunks:
                offset = chunk.take(length)
                if offset is not None:
                    break
            else:
                unit = self.memory.granularity
                chunk_bytes = max(self.chunk_size, -(-length // unit) * unit)
                chunk = _Chunk(self.memory.map(chunk_bytes), chunk_bytes, [(0, chunk_bytes)])
                self._chunks.append(chunk)
                offset = chunk.take(length)
                if offset is None:
                    raise AssertionError("a fresh chunk cannot hold its own allocation")  # pragma: no cover
            self._in_use += length
            self._requested += size
            self._live += 1
        return Allocation(chunk.address + offset, length, size, self, chunk)

    def _allocate_apart(self, size: int, length: int) -> Allocation:
        """An allocation for a call nested in this thread's own arena call: touches no shared state."""
        unit = self.memory.granularity
        chunk_bytes = -(-length // unit) * unit
        chunk = _Chunk(self.memory.map(chunk_bytes), chunk_bytes, [(0, chunk_bytes)])
        offset = chunk.take(length)
        if offset is None:
            raise AssertionError("a fresh mapping cannot hold its own allocation")  # pragma: no cover
        allocation = Allocation(chunk.address + offset, length, size, self, chunk)
        self._adopt.append(allocation)  # a deque's append is atomic: safe against the interrupted call
        return allocation

    def _check(self, allocation: Allocation, offset: int, size: int) -> None:
        if allocation.arena is not self or not allocation.live:
            raise ValueError("allocation is not live in this arena")
        if offset < 0 or size < 0 or offset + size > allocation.size:
            raise ValueError(f"range {offset:#x}+{size:#x} outside the allocation of {allocation.size:#x} bytes")

    def write(self, allocation: Allocation, data: bytes | bytearray, offset: int = 0) -> None:
        """Copy ``data`` into a not yet sealed allocation."""
        self._check(allocation, offset, len(data))
        self.memory.write(allocation.address + offset, data)

    def seal(self, allocation: Allocation) -> None:
        """Make the allocation read-execute (instruction cache flushed)."""
        self._check(allocation, 0, allocation.size)
        self.memory.make_executable(allocation.address, allocation.size)

    def read(self, allocation: Allocation, offset: int, size: int) -> bytes:
        self._check(allocation, offset, size)
        return self.memory.read(allocation.address + offset, size)

    def release(self, allocation: Allocation) -> None:
        """Give the run back; its code must not be running or called again. Idempotent."""
        if allocation.arena is not self:
            raise ValueError("allocation belongs to another arena")
        if not allocation.live:
            return
        allocation.live = False
        self._pending.append(allocation)
        if self._lock.try_enter():
            try:
                self._drain()
            finally:
                self._lock.exit()

    def _drain(self) -> None:
        """Adopt the mappings of nested allocations, then return queued runs to their chunks (lock held)."""
        while self._adopt:  # first: a queued release may be of an allocation not adopted yet
            allocation = self._adopt.popleft()
            self._chunks.append(allocation._chunk)  # noqa: SLF001 - the arena's own bookkeeping
            self._in_use += allocation.size
            self._requested += allocation.requested
            self._live += 1
        while self._pending:
            allocation = self._pending.popleft()
            chunk = allocation._chunk  # noqa: SLF001 - the arena's own bookkeeping
            self.memory.make_writable(allocation.address, allocation.size)
            chunk.give(allocation.address - chunk.address, allocation.size)
            self._in_use -= allocation.size
            self._requested -= allocation.requested
            self._live -= 1
            if chunk.empty and sum(c.empty for c in self._chunks) > self.spare_chunks:
                self._chunks.remove(chunk)
                self.memory.unmap(chunk.address, chunk.size)

    def _stat(self, name: str) -> int:
        if self._lock.busy():  # asked from inside an arena call (a handler): the state as it stands
            return int(getattr(self, name))
        with self._lock:
            self._drain()
            return int(getattr(self, name))

    @property
    def bytes_mapped(self) -> int:
        """Bytes of address space mapped by the arena (live, free and spare)."""
        self._stat("_live")  # drains the queues
        return sum(chunk.size for chunk in list(self._chunks))

    @property
    def bytes_in_use(self) -> int:
        """Bytes in live allocations (whole pages)."""
        return self._stat("_in_use")

    @property
    def bytes_requested(self) -> int:
        """Bytes the live allocations asked for (bytes_in_use minus page rounding)."""
        return self._stat("_requested")

    @property
    def live_allocations(self) -> int:
        return self._stat("_live")
