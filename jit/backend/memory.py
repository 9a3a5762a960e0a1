"""Executable memory through cffi in out-of-line ABI mode: nothing is compiled when cpjit is installed.

Pages are never writable and executable at once.  On Linux, on x86-64 macOS
and on Windows, pages are mapped read-write, written, then flipped to
read-execute (mprotect / VirtualProtect); pages are only made writable again
once no code on them is live (see arena.py).  On ARM64 macOS, where the
hardened runtime forbids that flip, pages are mapped with MAP_JIT and the
*thread* switches between writing and executing them with
``pthread_jit_write_protect_np``: while one thread writes, every other thread
still sees them executable, and no thread can do both at once.

After code is written the instruction cache is made coherent with the data
cache where the processor needs it (ARM64): ``__clear_cache`` from libgcc on
Linux, ``sys_icache_invalidate`` on macOS, ``FlushInstructionCache`` on
Windows (called on x86-64 Windows too, as its documentation asks).
"""

from __future__ import annotations

import functools
import mmap
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import _cffi_backend

# The declarations (one set for every system: ABI mode looks a name up only when it is used) are in
# jit/_build/ffi.py; cffi's out-of-line ABI mode pre-parsed them into this generated module, so importing
# it needs neither pycparser (about 15 ms at every import) nor a C compiler.
from jit.backend._memory_ffi import ffi
from jit.backend.errors import ExecutableMemoryError, UnsupportedHostError
from jit.backend.target import Host, detect_host

__all__ = [
    "DarwinJitMemory",
    "ExecutableMemory",
    "PosixMemory",
    "WindowsMemory",
    "ffi",
    "find_cache_flush",
    "host_memory",
    "memory_for",
]

PROT_READ = 1
PROT_WRITE = 2
PROT_EXEC = 4
MAP_PRIVATE = 0x02
LINUX_MAP_ANONYMOUS = 0x20
DARWIN_MAP_ANON = 0x1000
DARWIN_MAP_JIT = 0x800
MEM_COMMIT = 0x1000
MEM_RESERVE = 0x2000
MEM_RELEASE = 0x8000
PAGE_READWRITE = 0x04
PAGE_EXECUTE_READ = 0x20
_WINDOWS_ALLOCATION_GRANULARITY = 1 << 16

_MAP_FAILED = (1 << 64) - 1

# The C types are looked up once, now, and calls go to cffi's C backend module: nothing on the way is
# Python code that would resolve isinstance, len... in the real builtins, which user code may rebind after
# `import jit` (jit/_isolation.py).
_backend: Any = _cffi_backend
_UINTPTR = ffi.typeof("uintptr_t")
_VOID_P = ffi.typeof("void *")
_CHAR_P = ffi.typeof("char *")
_UINT32_P = ffi.typeof("uint32_t *")


def _address(pointer: Any) -> int:
    return int(_backend.cast(_UINTPTR, pointer))


def _pointer(address: int) -> Any:
    return _backend.cast(_VOID_P, address)


class ExecutableMemory(ABC):
    """Mapping, writing and protecting pages of code on one operating system.

    ``map`` returns pages in the *writable* state; ``make_executable`` seals a
    range (read-execute, caches flushed); ``make_writable`` opens a range again
    and must only be used on pages holding no live code.  Sizes are multiples
    of ``page_size``; ``map`` sizes also of ``granularity``.
    """

    def __init__(self, lib: Any, page_size: int, granularity: int) -> None:
        self.lib = lib
        self.page_size = page_size
        self.granularity = granularity

    @abstractmethod
    def map(self, size: int) -> int:
        """Map ``size`` bytes of fresh writable pages; their address."""

    @abstractmethod
    def unmap(self, address: int, size: int) -> None:
        """Give back pages mapped by ``map`` (the whole mapping)."""

    @abstractmethod
    def make_executable(self, address: int, size: int) -> None:
        """Writable -> read-execute, instruction cache made coherent."""

    @abstractmethod
    def make_writable(self, address: int, size: int) -> None:
        """Read-execute -> writable; only for pages without live code."""

    def write(self, address: int, data: bytes | bytearray) -> None:
        """Copy ``data`` to ``address`` (which must be writable)."""
        _backend.memmove(_pointer(address), data, len(data))

    def read(self, address: int, size: int) -> bytes:
        """The ``size`` bytes at ``address`` (mapped pages are always readable)."""
        return _backend.buffer(_backend.cast(_CHAR_P, address), size)[:]

    def _error(self, call: str, address: int, size: int) -> ExecutableMemoryError:
        errno = _backend.get_errno()
        return ExecutableMemoryError(errno, f"{call}({address:#x}, {size:#x}) failed")


class PosixMemory(ExecutableMemory):
    """mmap + mprotect (Linux, x86-64 macOS); ``flush`` is the ARM64 cache flush or None.

    ``hint`` is an address the kernel is asked (not forced) to map near, 0 for
    anywhere: code near the C functions it calls needs no veneers.
    """

    def __init__(self, lib: Any, page_size: int, map_anonymous: int, flush: Any = None, hint: int = 0) -> None:
        super().__init__(lib, page_size, page_size)
        self._map_flags = MAP_PRIVATE | map_anonymous
        self._flush = flush
        self.hint = hint

    def map(self, size: int) -> int:
        prot = PROT_READ | PROT_WRITE
        address = _address(self.lib.mmap(_pointer(self.hint), size, prot, self._map_flags, -1, 0))
        if address == _MAP_FAILED:
            raise self._error("mmap", 0, size)
        return address

    def unmap(self, address: int, size: int) -> None:
        if self.lib.munmap(_pointer(address), size) != 0:
            raise self._error("munmap", address, size)

    def _protect(self, address: int, size: int, prot: int) -> None:
        if self.lib.mprotect(_pointer(address), size, prot) != 0:
            raise self._error("mprotect", address, size)

    def make_executable(self, address: int, size: int) -> None:
        self._protect(address, size, PROT_READ | PROT_EXEC)
        if self._flush is not None:
            self._flush(_backend.cast(_CHAR_P, address), _backend.cast(_CHAR_P, address + size))

    def make_writable(self, address: int, size: int) -> None:
        self._protect(address, size, PROT_READ | PROT_WRITE)


class DarwinJitMemory(ExecutableMemory):
    """ARM64 macOS: MAP_JIT pages, toggled per thread between writing and executing."""

    def __init__(self, lib: Any, page_size: int) -> None:
        super().__init__(lib, page_size, page_size)

    def map(self, size: int) -> int:
        flags = MAP_PRIVATE | DARWIN_MAP_ANON | DARWIN_MAP_JIT
        address = _address(self.lib.mmap(ffi.NULL, size, PROT_READ | PROT_WRITE | PROT_EXEC, flags, -1, 0))
        if address == _MAP_FAILED:
            raise self._error("mmap", 0, size)
        return address

    def unmap(self, address: int, size: int) -> None:
        if self.lib.munmap(_pointer(address), size) != 0:
            raise self._error("munmap", address, size)

    def write(self, address: int, data: bytes | bytearray) -> None:
        # The toggle is per thread: other threads keep executing these pages meanwhile.
        self.lib.pthread_jit_write_protect_np(0)
        try:
            _backend.memmove(_pointer(address), data, len(data))
        finally:
            self.lib.pthread_jit_write_protect_np(1)

    def make_executable(self, address: int, size: int) -> None:
        self.lib.sys_icache_invalidate(_pointer(address), size)

    def make_writable(self, address: int, size: int) -> None:
        """Nothing to do: ``write`` opens the pages for this thread only while it writes."""


class WindowsMemory(ExecutableMemory):
    """VirtualAlloc / VirtualProtect / FlushInstructionCache / VirtualFree."""

    def __init__(self, lib: Any, page_size: int, granularity: int = _WINDOWS_ALLOCATION_GRANULARITY) -> None:
        super().__init__(lib, page_size, granularity)

    def map(self, size: int) -> int:
        address = _address(self.lib.VirtualAlloc(ffi.NULL, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE))
        if address == 0:
            raise self._error("VirtualAlloc", 0, size)
        return address

    def unmap(self, address: int, size: int) -> None:
        if not self.lib.VirtualFree(_pointer(address), 0, MEM_RELEASE):
            raise self._error("VirtualFree", address, size)

    def _protect(self, address: int, size: int, protect: int) -> None:
        old = _backend.newp(_UINT32_P, None)
        if not self.lib.VirtualProtect(_pointer(address), size, protect, old):
            raise self._error("VirtualProtect", address, size)

    def make_executable(self, address: int, size: int) -> None:
        self._protect(address, size, PAGE_EXECUTE_READ)
        if not self.lib.FlushInstructionCache(self.lib.GetCurrentProcess(), _pointer(address), size):
            raise self._error("FlushInstructionCache", address, size)

    def make_writable(self, address: int, size: int) -> None:
        self._protect(address, size, PAGE_READWRITE)


def find_cache_flush(libraries: Sequence[Any]) -> Any:
    """The ARM64 Linux instruction-cache flush: libgcc's ``__clear_cache`` (or its helper), first found."""
    for lib in libraries:
        for name in ("__clear_cache", "__aarch64_sync_cache_range"):
            try:
                return getattr(lib, name)
            except AttributeError:
                continue
    raise UnsupportedHostError("no instruction-cache flush (__clear_cache) in libgcc_s or the process")


@functools.cache
def _libgcc() -> tuple[Any, ...]:
    # Opened once and kept: in out-of-line ABI mode a library is closed when its Lib object is collected,
    # which would leave the cache-flush function pointer taken from it dangling.
    try:
        return (ffi.dlopen("libgcc_s.so.1"),)
    except OSError:
        return ()


def memory_for(host: Host, lib: Any, page_size: int, flush: Any = None) -> ExecutableMemory:
    """The memory implementation for ``host`` on top of ``lib`` (the system library, or a fake in tests).

    ``flush`` is the ARM64 Linux cache-flush function (looked up in ``lib``
    when not given).
    """
    if host.os == "windows":
        return WindowsMemory(lib, page_size)
    if host.os == "darwin" and host.arch == "aarch64":
        return DarwinJitMemory(lib, page_size)
    if host.os == "darwin":
        return PosixMemory(lib, page_size, DARWIN_MAP_ANON)
    if host.os == "linux":
        if host.arch == "aarch64" and flush is None:
            flush = find_cache_flush([lib])
        return PosixMemory(lib, page_size, LINUX_MAP_ANONYMOUS, flush if host.arch == "aarch64" else None)
    raise UnsupportedHostError(f"no executable-memory support for {host.os}")


def host_memory(host: Host | None = None) -> ExecutableMemory:
    """Executable memory of the running process."""
    host = host or detect_host()
    if host.os == "windows":
        return WindowsMemory(ffi.dlopen("kernel32.dll"), mmap.PAGESIZE, mmap.ALLOCATIONGRANULARITY)
    libc = ffi.dlopen(None)
    flush = find_cache_flush([*_libgcc(), libc]) if host == Host("linux", "aarch64") else None
    return memory_for(host, libc, mmap.PAGESIZE, flush)
