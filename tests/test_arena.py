"""The arena: page runs shared out of chunks, reuse, accounting, memory given back."""

from __future__ import annotations

import gc
import mmap
import sys
import threading

import pytest

from jit.backend.arena import Arena
from jit.backend.memory import ExecutableMemory, host_memory

PAGE = mmap.PAGESIZE
CHUNK = 16 * PAGE


def mapped(address: int) -> bool:
    with open("/proc/self/maps") as maps:
        for line in maps:
            start, end = (int(x, 16) for x in line.split()[0].split("-"))
            if start <= address < end:
                return True
    return False


on_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps is Linux's")


class RecordingMemory(ExecutableMemory):
    """Addresses without memory behind them: checks which state changes the arena asks for."""

    def __init__(self, granularity: int = PAGE) -> None:
        super().__init__(None, PAGE, granularity)
        self.calls: list[tuple[str, int, int]] = []
        self.next = 0x10_0000_0000

    def map(self, size: int) -> int:
        address, self.next = self.next, self.next + size + 0x100_0000
        self.calls.append(("map", address, size))
        return address

    def unmap(self, address: int, size: int) -> None:
        self.calls.append(("unmap", address, size))

    def make_executable(self, address: int, size: int) -> None:
        self.calls.append(("rx", address, size))

    def make_writable(self, address: int, size: int) -> None:
        self.calls.append(("rw", address, size))


def test_small_allocations_share_one_mapping_in_whole_pages() -> None:
    arena = Arena(chunk_size=CHUNK)
    a = arena.allocate(100)
    b = arena.allocate(PAGE + 1)
    assert (a.size, b.size) == (PAGE, 2 * PAGE)
    assert b.address == a.address + PAGE  # same chunk, next page
    assert arena.bytes_mapped == CHUNK
    assert arena.bytes_in_use == 3 * PAGE
    assert arena.bytes_requested == PAGE + 101
    assert arena.live_allocations == 2


def test_released_pages_are_reused_and_coalesced() -> None:
    arena = Arena(chunk_size=CHUNK)
    x, y, z = (arena.allocate(PAGE) for _ in range(3))
    assert arena.allocate(1).address == z.address + PAGE
    arena.release(x)
    again = arena.allocate(1)
    assert again.address == x.address  # first fit reuses the hole
    arena.release(again)
    arena.release(z)
    arena.release(y)  # x, y, z coalesce into one three-page run
    assert arena.allocate(3 * PAGE).address == x.address
    assert arena.bytes_mapped == CHUNK


def test_an_allocation_larger_than_a_chunk_gets_its_own() -> None:
    memory = RecordingMemory(granularity=4 * PAGE)  # like Windows' 64 KiB reservations
    arena = Arena(memory, chunk_size=CHUNK)
    arena.allocate(PAGE)
    big = arena.allocate(CHUNK + 1)
    assert big.size == CHUNK + PAGE
    assert memory.calls[-1] == ("map", big.address, CHUNK + 4 * PAGE)  # rounded to the granularity
    assert arena.bytes_mapped == 2 * CHUNK + 4 * PAGE


def test_state_changes_seal_release_unmap() -> None:
    memory = RecordingMemory()
    arena = Arena(memory, chunk_size=CHUNK, spare_chunks=0)
    first = arena.allocate(2 * PAGE)
    arena.seal(first)
    second = arena.allocate(PAGE)
    arena.release(first)
    arena.release(second)
    chunk = first.address
    assert memory.calls == [
        ("map", chunk, CHUNK),
        ("rx", chunk, 2 * PAGE),  # sealed: read-execute
        ("rw", chunk, 2 * PAGE),  # released: writable again, ready for the next allocation
        ("rw", chunk + 2 * PAGE, PAGE),
        ("unmap", chunk, CHUNK),  # all free and no spare wanted: given back
    ]
    assert arena.bytes_mapped == 0


def test_one_spare_chunk_is_kept_the_rest_given_back() -> None:
    memory = RecordingMemory()
    arena = Arena(memory, chunk_size=CHUNK, spare_chunks=1)
    runs = [arena.allocate(CHUNK) for _ in range(3)]
    assert arena.bytes_mapped == 3 * CHUNK
    for run in runs:
        arena.release(run)
    assert arena.bytes_mapped == CHUNK
    assert arena.bytes_in_use == 0
    assert [c[0] for c in memory.calls].count("unmap") == 2


@on_linux
def test_memory_is_unmapped_when_chunks_empty_and_when_the_arena_goes() -> None:
    arena = Arena(chunk_size=CHUNK, spare_chunks=0)
    run = arena.allocate(PAGE)
    assert mapped(run.address)
    arena.release(run)
    assert not mapped(run.address)
    arena = Arena(chunk_size=CHUNK)  # keeps one spare chunk ...
    run = arena.allocate(PAGE)
    address = run.address
    arena.release(run)
    assert mapped(address)
    del arena, run
    gc.collect()
    assert not mapped(address)  # ... until the arena itself is collected


def test_misuse_is_refused() -> None:
    arena, other = Arena(chunk_size=CHUNK), Arena(chunk_size=CHUNK)
    run = arena.allocate(10)
    with pytest.raises(ValueError, match="outside the allocation"):
        arena.write(run, bytes(PAGE + 1))
    with pytest.raises(ValueError, match="outside the allocation"):
        arena.read(run, PAGE - 1, 2)
    with pytest.raises(ValueError, match="another arena"):
        other.release(run)
    with pytest.raises(ValueError, match="not live in this arena"):
        other.write(run, b"x")
    with pytest.raises(ValueError, match="negative"):
        arena.allocate(-1)
    arena.release(run)
    arena.release(run)  # idempotent
    assert arena.live_allocations == 0
    with pytest.raises(ValueError, match="not live"):
        arena.seal(run)


def test_release_while_the_arena_is_busy_is_deferred_not_blocked() -> None:
    # A garbage-collection finalizer may release inside another arena call on the same thread.
    memory = RecordingMemory()
    arena = Arena(memory, chunk_size=CHUNK)
    run = arena.allocate(PAGE)
    with arena._lock:
        arena.release(run)  # must not deadlock
        assert ("rw", run.address, PAGE) not in memory.calls
    assert arena.bytes_in_use == 0  # the next call returns the queued run
    assert ("rw", run.address, PAGE) in memory.calls


def test_threads_allocate_write_seal_release_concurrently() -> None:
    arena = Arena(host_memory(), chunk_size=CHUNK)
    errors: list[str] = []

    def work(tag: int) -> None:
        for round_ in range(50):
            run = arena.allocate(PAGE * (1 + round_ % 3))
            pattern = bytes([tag]) * run.size
            arena.write(run, pattern)
            arena.seal(run)
            if arena.read(run, 0, run.size) != pattern:
                errors.append(f"thread {tag} round {round_}: overwritten")
            arena.release(run)

    threads = [threading.Thread(target=work, args=(tag,)) for tag in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert arena.bytes_in_use == 0
    assert arena.live_allocations == 0
