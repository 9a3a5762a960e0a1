"""Which of the six stencil targets the running interpreter is."""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from jit.backend.errors import UnsupportedHostError

__all__ = ["TARGETS", "Host", "UnsupportedHostError", "arch_of", "detect_host", "target_name"]

# (os, arch) -> target name; the order is the fixed one of the project.
_TARGET_NAMES = {
    ("linux", "x86_64"): "x86_64-unknown-linux",
    ("darwin", "x86_64"): "x86_64-apple-darwin",
    ("windows", "x86_64"): "x86_64-pc-windows",
    ("linux", "aarch64"): "aarch64-unknown-linux",
    ("darwin", "aarch64"): "aarch64-apple-darwin",
    ("windows", "aarch64"): "aarch64-pc-windows",
}
TARGETS: tuple[str, ...] = tuple(_TARGET_NAMES.values())

_OS_NAMES = {"linux": "linux", "darwin": "darwin", "windows": "windows"}
# Spellings of the two architectures by uname, Windows and sysconfig.
_ARCH_NAMES = {
    "x86_64": "x86_64",
    "amd64": "x86_64",
    "x64": "x86_64",
    "aarch64": "aarch64",
    "arm64": "aarch64",
    "aarch64_be": "",  # big-endian: named so the error says so
}


class Host(NamedTuple):
    """Operating system ("linux", "darwin", "windows") and architecture ("x86_64", "aarch64").

    A named tuple rather than a frozen dataclass: as immutable, and made at import without the dataclass
    machinery's cost (about half a millisecond per class, for every ``import jit``).
    """

    os: str
    arch: str


# What the platform module would say, without importing it (about 1 ms at every ``import jit``): its
# system() and machine() are uname's fields on POSIX systems.
def _system() -> str:
    return "Windows" if sys.platform == "win32" else os.uname().sysname


def _machine() -> str:
    return os.uname().machine


def _implementation() -> str:
    name = sys.implementation.name
    return {"cpython": "CPython", "pypy": "PyPy"}.get(name, name)


def _windows_machine() -> str:
    # The OS's processor is not the answer: an x64 interpreter emulated on ARM64 Windows needs x64 code, so
    # ask for the interpreter's build.
    import sysconfig  # noqa: PLC0415 - only Windows needs it

    plat = sysconfig.get_platform()  # "win-amd64", "win-arm64", "win32"
    return plat.partition("-")[2] or plat


def _free_threaded() -> bool:
    # Free-threaded builds exist from 3.13 on; asking sysconfig loads its data module (half a millisecond).
    if sys.version_info < (3, 13):
        return False
    import sysconfig  # noqa: PLC0415 - see above

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def detect_host(
    *,
    system: str | None = None,
    machine: str | None = None,
    pointer_bits: int | None = None,
    implementation: str | None = None,
    free_threaded: bool | None = None,
    trace_refs: bool | None = None,
) -> Host:
    """The running interpreter's host; the keyword arguments override what is measured (for tests).

    Raises UnsupportedHostError for anything the stencils were not built for:
    another OS or architecture, a 32-bit interpreter, an implementation other
    than CPython, or a CPython whose object header differs from the stable
    ABI's (free-threaded or Py_TRACE_REFS builds).
    """
    system = (system if system is not None else _system()).lower()
    os_name = _OS_NAMES.get(system)
    if os_name is None:
        raise UnsupportedHostError(f"unsupported operating system {system!r}: cpjit runs on Linux, macOS and Windows")
    if machine is None:
        machine = _windows_machine() if os_name == "windows" else _machine()
    arch = _ARCH_NAMES.get(machine.lower())
    if not arch:
        raise UnsupportedHostError(f"unsupported processor {machine!r}: cpjit runs on x86-64 and ARM64")
    bits = pointer_bits if pointer_bits is not None else (64 if sys.maxsize > 2**32 else 32)
    if bits != 64:
        raise UnsupportedHostError(f"unsupported {bits}-bit interpreter on {machine}: cpjit needs a 64-bit one")
    impl = implementation if implementation is not None else _implementation()
    if impl != "CPython":
        raise UnsupportedHostError(f"unsupported Python implementation {impl}: cpjit needs CPython's C API")
    if free_threaded is None:
        free_threaded = _free_threaded()
    if free_threaded:
        raise UnsupportedHostError("unsupported free-threaded CPython: the stencils count references without atomics")
    if trace_refs is None:
        trace_refs = hasattr(sys, "getobjects")
    if trace_refs:
        raise UnsupportedHostError("unsupported Py_TRACE_REFS build of CPython: its object header is larger")
    return Host(os_name, arch)


def target_name(host: Host) -> str:
    """The stencil target serving ``host``, e.g. "x86_64-unknown-linux"."""
    try:
        return _TARGET_NAMES[host.os, host.arch]
    except KeyError:
        raise UnsupportedHostError(f"no stencil target for {host.arch} {host.os}") from None


def arch_of(target: str) -> str:
    """The architecture ("x86_64" or "aarch64") of one of the six target names."""
    for (_, arch), name in _TARGET_NAMES.items():
        if name == target:
            return arch
    raise UnsupportedHostError(f"unknown target {target!r}; known: {', '.join(TARGETS)}")
