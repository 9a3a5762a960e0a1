"""Host detection and target names."""

from __future__ import annotations

import platform
import sys
import sysconfig

import pytest

from jit.backend import target as backend_target
from jit.backend.target import TARGETS, Host, UnsupportedHostError, arch_of, detect_host, target_name


def test_detect_host_names_this_machine() -> None:
    # The project's CI machine; other hosts run the same test through the parameters below.
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        assert detect_host() == Host("linux", "x86_64")
        assert target_name(detect_host()) == "x86_64-unknown-linux"
    else:
        assert target_name(detect_host()) in TARGETS


@pytest.mark.parametrize(
    ("system", "machine", "expected"),
    [
        ("Linux", "x86_64", "x86_64-unknown-linux"),
        ("Linux", "aarch64", "aarch64-unknown-linux"),
        ("Darwin", "x86_64", "x86_64-apple-darwin"),
        ("Darwin", "arm64", "aarch64-apple-darwin"),
        ("Windows", "AMD64", "x86_64-pc-windows"),
        ("Windows", "ARM64", "aarch64-pc-windows"),
        ("Windows", "amd64", "x86_64-pc-windows"),  # sysconfig's spelling ("win-amd64")
        ("Windows", "arm64", "aarch64-pc-windows"),
    ],
)
def test_every_supported_host_maps_to_its_target(system: str, machine: str, expected: str) -> None:
    assert target_name(detect_host(system=system, machine=machine)) == expected


def test_six_targets_in_the_fixed_order() -> None:
    assert TARGETS == (
        "x86_64-unknown-linux",
        "x86_64-apple-darwin",
        "x86_64-pc-windows",
        "aarch64-unknown-linux",
        "aarch64-apple-darwin",
        "aarch64-pc-windows",
    )
    assert [arch_of(t) for t in TARGETS] == ["x86_64"] * 3 + ["aarch64"] * 3


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"system": "FreeBSD", "machine": "amd64"}, "unsupported operating system 'freebsd'"),
        ({"system": "Linux", "machine": "riscv64"}, "unsupported processor 'riscv64'"),
        ({"system": "Linux", "machine": "armv7l"}, "unsupported processor 'armv7l'"),
        ({"system": "Linux", "machine": "aarch64_be"}, "unsupported processor 'aarch64_be'"),
        ({"system": "Linux", "machine": "x86_64", "pointer_bits": 32}, "32-bit interpreter"),
        ({"system": "Linux", "machine": "x86_64", "implementation": "PyPy"}, "implementation PyPy"),
        ({"system": "Linux", "machine": "x86_64", "free_threaded": True}, "free-threaded"),
        ({"system": "Linux", "machine": "x86_64", "trace_refs": True}, "Py_TRACE_REFS"),
    ],
)
def test_unknown_hosts_get_a_clear_error(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(UnsupportedHostError, match=message):
        detect_host(**overrides)  # type: ignore[arg-type]


def test_target_name_and_arch_of_reject_unknown_names() -> None:
    with pytest.raises(UnsupportedHostError, match="no stencil target for sparc linux"):
        target_name(Host("linux", "sparc"))
    with pytest.raises(UnsupportedHostError, match="unknown target 'riscv64-unknown-linux'"):
        arch_of("riscv64-unknown-linux")


def test_detection_reads_the_running_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_target, "_system", lambda: "Darwin")
    monkeypatch.setattr(backend_target, "_machine", lambda: "arm64")
    assert detect_host() == Host("darwin", "aarch64")
    monkeypatch.setattr(sys, "maxsize", 2**31 - 1)
    with pytest.raises(UnsupportedHostError, match="32-bit"):
        detect_host()


def test_windows_asks_the_interpreter_build_not_the_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    # An x64 interpreter emulated on ARM64 Windows runs x64 code.
    monkeypatch.setattr(backend_target, "_system", lambda: "Windows")
    monkeypatch.setattr(backend_target, "_machine", lambda: "ARM64")
    monkeypatch.setattr(sysconfig, "get_platform", lambda: "win-amd64")
    assert detect_host() == Host("windows", "x86_64")
    monkeypatch.setattr(sysconfig, "get_platform", lambda: "win32")
    with pytest.raises(UnsupportedHostError, match="unsupported processor 'win32'"):
        detect_host()


def test_detection_without_the_platform_module_agrees_with_it() -> None:
    # target.py reads uname and sys.implementation instead of importing platform (a millisecond per import).
    assert backend_target._system() == platform.system()
    if sys.platform != "win32":
        assert backend_target._machine() == platform.machine()
    assert backend_target._implementation() == platform.python_implementation()
    assert backend_target._free_threaded() is bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
