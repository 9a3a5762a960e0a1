"""Executable memory: the host's for real, and the other systems' call sequences through a fake library."""

from __future__ import annotations

import ctypes
import mmap
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from jit.backend import memory as mem
from jit.backend.errors import ExecutableMemoryError, UnsupportedHostError
from jit.backend.memory import ffi, find_cache_flush, host_memory, memory_for
from jit.backend.target import Host, detect_host

PAGE = mmap.PAGESIZE
# A function returning 42 in the host's machine code.
RETURN_42 = {
    "x86_64": b"\xb8\x2a\x00\x00\x00\xc3",  # mov eax, 42; ret
    "aarch64": bytes.fromhex("40058052c0035fd6"),  # mov w0, #42; ret
}


def mapping_permissions(address: int) -> str | None:
    """The permissions /proc/self/maps gives the mapping containing ``address``, None if unmapped."""
    with open("/proc/self/maps") as maps:
        for line in maps:
            bounds, perms = line.split()[:2]
            start, end = (int(x, 16) for x in bounds.split("-"))
            if start <= address < end:
                return perms
    return None


on_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps is Linux's")


def test_host_memory_runs_code_written_then_sealed() -> None:
    memory = host_memory()
    address = memory.map(PAGE)
    try:
        code = RETURN_42[detect_host().arch]
        memory.write(address, code)
        memory.make_executable(address, PAGE)
        assert memory.read(address, len(code)) == code
        assert ctypes.CFUNCTYPE(ctypes.c_int)(address)() == 42
    finally:
        memory.unmap(address, PAGE)


@on_linux
def test_pages_are_writable_or_executable_never_both() -> None:
    memory = host_memory()
    address = memory.map(2 * PAGE)
    try:
        assert mapping_permissions(address) == "rw-p"
        memory.write(address, RETURN_42[detect_host().arch])
        memory.make_executable(address, PAGE)
        assert mapping_permissions(address) == "r-xp"
        assert mapping_permissions(address + PAGE) == "rw-p"
        memory.make_writable(address, PAGE)
        assert mapping_permissions(address) == "rw-p"
    finally:
        memory.unmap(address, 2 * PAGE)
    assert mapping_permissions(address) is None


def test_host_failures_raise_executable_memory_error() -> None:
    memory = host_memory()
    if detect_host().os == "windows":
        with pytest.raises(ExecutableMemoryError, match="VirtualProtect"):
            memory.make_executable(0, PAGE)  # nothing is mapped at address 0
    else:
        with pytest.raises(ExecutableMemoryError, match="mmap") as caught:
            memory.map(0)  # EINVAL
        assert caught.value.errno != 0
        with pytest.raises(ExecutableMemoryError, match="mprotect"):
            memory.make_executable(1, PAGE)  # unaligned


class FakeLib:
    """Stands for libc / libSystem / kernel32: records calls, backs mappings with cffi buffers."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.buffers: dict[int, Any] = {}
        self.fail = fail

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, *(int(ffi.cast("uintptr_t", a)) if isinstance(a, ffi.CData) else a for a in args)))

    def _new(self, size: int) -> Any:
        buffer = ffi.new("char[]", size)
        address = int(ffi.cast("uintptr_t", buffer))
        self.buffers[address] = buffer
        return ffi.cast("void *", address)

    # POSIX
    def mmap(self, addr: Any, length: int, prot: int, flags: int, fd: int, offset: int) -> Any:
        self._record("mmap", addr, length, prot, flags, fd, offset)
        return ffi.cast("void *", -1) if self.fail == "mmap" else self._new(length)

    def mprotect(self, addr: Any, length: int, prot: int) -> int:
        self._record("mprotect", addr, length, prot)
        return -1 if self.fail == "mprotect" else 0

    def munmap(self, addr: Any, length: int) -> int:
        self._record("munmap", addr, length)
        return 0

    def pthread_jit_write_protect_np(self, enabled: int) -> None:
        self._record("pthread_jit_write_protect_np", enabled)

    def sys_icache_invalidate(self, start: Any, length: int) -> None:
        self._record("sys_icache_invalidate", start, length)

    def clear_cache(self, begin: Any, end: Any) -> None:
        self._record("__clear_cache", begin, end)

    # Windows
    def VirtualAlloc(self, address: Any, size: int, allocation_type: int, protect: int) -> Any:
        self._record("VirtualAlloc", address, size, allocation_type, protect)
        return ffi.NULL if self.fail == "VirtualAlloc" else self._new(size)

    def VirtualProtect(self, address: Any, size: int, protect: int, old: Any) -> int:
        self._record("VirtualProtect", address, size, protect)
        old[0] = mem.PAGE_READWRITE
        return 0 if self.fail == "VirtualProtect" else 1

    def VirtualFree(self, address: Any, size: int, free_type: int) -> int:
        self._record("VirtualFree", address, size, free_type)
        return 1

    def GetCurrentProcess(self) -> Any:
        return ffi.cast("void *", -1)  # the pseudo-handle Windows returns

    def FlushInstructionCache(self, process: Any, address: Any, size: int) -> int:
        self._record("FlushInstructionCache", process, address, size)
        return 1


# libgcc's name, which a method defined in a class body cannot have (it would be name-mangled).
setattr(FakeLib, "__clear_cache", FakeLib.clear_cache)

RW, RX, RWX = mem.PROT_READ | mem.PROT_WRITE, mem.PROT_READ | mem.PROT_EXEC, 7
CODE = b"\x01\x02\x03\x04"


def run_protocol(memory: mem.ExecutableMemory) -> int:
    """What the arena does with memory: map, write, seal, reopen, unmap; returns the address."""
    address = memory.map(2 * PAGE)
    memory.write(address, CODE)
    assert memory.read(address, 4) == CODE
    memory.make_executable(address, PAGE)
    memory.make_writable(address, PAGE)
    memory.unmap(address, 2 * PAGE)
    return address


@pytest.mark.parametrize(
    ("host", "map_flags"),
    [(Host("linux", "x86_64"), 0x22), (Host("darwin", "x86_64"), 0x1002)],  # MAP_PRIVATE | MAP_ANON(YMOUS)
)
def test_posix_mmap_mprotect_sequence(host: Host, map_flags: int) -> None:
    lib = FakeLib()
    a = run_protocol(memory_for(host, lib, PAGE))
    assert lib.calls == [
        ("mmap", 0, 2 * PAGE, RW, map_flags, -1, 0),
        ("mprotect", a, PAGE, RX),
        ("mprotect", a, PAGE, RW),
        ("munmap", a, 2 * PAGE),
    ]


def test_linux_arm64_flushes_the_instruction_cache_after_sealing() -> None:
    lib = FakeLib()
    a = run_protocol(memory_for(Host("linux", "aarch64"), lib, PAGE))
    assert lib.calls == [
        ("mmap", 0, 2 * PAGE, RW, 0x22, -1, 0),
        ("mprotect", a, PAGE, RX),
        ("__clear_cache", a, a + PAGE),
        ("mprotect", a, PAGE, RW),
        ("munmap", a, 2 * PAGE),
    ]


def test_arm64_linux_cache_flush_lookup() -> None:
    def sync(begin: Any, end: Any) -> None:
        """Stands for libgcc's helper behind __clear_cache."""

    helper = SimpleNamespace(__aarch64_sync_cache_range=sync)
    assert find_cache_flush([object(), helper]) is sync
    lib = FakeLib()
    assert find_cache_flush([lib, helper]) == lib.clear_cache  # the first library that has one wins
    with pytest.raises(UnsupportedHostError, match="no instruction-cache flush"):
        find_cache_flush([object()])
    with pytest.raises(UnsupportedHostError, match="no instruction-cache flush"):
        memory_for(Host("linux", "aarch64"), object(), PAGE)


def test_darwin_arm64_uses_map_jit_and_per_thread_write_protection() -> None:
    lib = FakeLib()
    a = run_protocol(memory_for(Host("darwin", "aarch64"), lib, PAGE))
    assert lib.calls == [
        ("mmap", 0, 2 * PAGE, RWX, 0x1802, -1, 0),  # MAP_PRIVATE | MAP_ANON | MAP_JIT
        ("pthread_jit_write_protect_np", 0),  # this thread may write ...
        ("pthread_jit_write_protect_np", 1),  # ... only while it copies
        ("sys_icache_invalidate", a, PAGE),
        ("munmap", a, 2 * PAGE),
    ]


def test_darwin_arm64_write_protection_is_restored_when_the_copy_fails() -> None:
    lib = FakeLib()
    memory = memory_for(Host("darwin", "aarch64"), lib, PAGE)
    with pytest.raises(TypeError):
        memory.write(memory.map(PAGE), "not bytes")  # type: ignore[arg-type]
    assert lib.calls[-2:] == [("pthread_jit_write_protect_np", 0), ("pthread_jit_write_protect_np", 1)]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_windows_virtual_alloc_protect_flush_free_sequence(arch: str) -> None:
    lib = FakeLib()
    memory = memory_for(Host("windows", arch), lib, PAGE)
    assert memory.granularity == 1 << 16  # VirtualAlloc reserves 64 KiB at a time
    a = run_protocol(memory)
    assert lib.calls == [
        ("VirtualAlloc", 0, 2 * PAGE, mem.MEM_COMMIT | mem.MEM_RESERVE, mem.PAGE_READWRITE),
        ("VirtualProtect", a, PAGE, mem.PAGE_EXECUTE_READ),
        ("FlushInstructionCache", (1 << 64) - 1, a, PAGE),
        ("VirtualProtect", a, PAGE, mem.PAGE_READWRITE),
        ("VirtualFree", a, 0, mem.MEM_RELEASE),  # the whole reservation: size must be 0
    ]


@pytest.mark.parametrize(
    ("host", "fail", "call"),
    [
        (Host("linux", "x86_64"), "mmap", "map"),
        (Host("darwin", "aarch64"), "mmap", "map"),
        (Host("linux", "x86_64"), "mprotect", "make_executable"),
        (Host("darwin", "x86_64"), "mprotect", "make_writable"),
        (Host("windows", "x86_64"), "VirtualAlloc", "map"),
        (Host("windows", "aarch64"), "VirtualProtect", "make_executable"),
    ],
)
def test_refusals_raise_executable_memory_error(host: Host, fail: str, call: str) -> None:
    memory = memory_for(host, FakeLib(fail), PAGE)
    with pytest.raises(ExecutableMemoryError, match=fail):
        if call == "map":
            memory.map(PAGE)
        else:
            getattr(memory, call)(PAGE, PAGE)


def test_unknown_os_has_no_memory() -> None:
    with pytest.raises(UnsupportedHostError, match="no executable-memory support for plan9"):
        memory_for(Host("plan9", "x86_64"), FakeLib(), PAGE)
