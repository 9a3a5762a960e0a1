"""Real ARM64 execution: stitched aarch64-unknown-linux chains, and compiled functions, run in an ARM64 CPython.

On an x86-64 Linux host the interpreter is Debian's arm64 python3 (with cffi)
run by qemu-user: ``bash .ci/arm64-sysroot.sh`` installs qemu-user-static and
unpacks the sysroot into .cache/arm64-root (or set CPJIT_ARM64_ROOT to another
one).  On an ARM64 Linux host the running interpreter is used directly.
Either way the code goes through jit.backend unchanged: mmap, mprotect and
``__clear_cache`` are the real ones of ARM64 Linux, and C-API calls land in
that interpreter's functions (through veneers where they are out of branch
reach).

The chains are sent as JSON to a small runner (RUNNER below) in the ARM64
process; it emits and calls each one as the ENTRY stencil would, and prints the
results as JSON.  A second runner (OBJECT_RUNNER) compiles the object tier's
differential cases (tests/object_cases.py: attributes, subscripts, displays,
calls, unpacking, comprehensions, f-strings, raise...) with jit.compile in the
ARM64 process and compares each with that interpreter's own outcome.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import bet_cases
import object_cases
import pytest
from chains import BOXED, Chain, arithmetic, const, op

REPO = Path(__file__).resolve().parents[1]
ROOT_VARIABLE = "CPJIT_ARM64_ROOT"
SETUP_HINT = "run `bash .ci/arm64-sysroot.sh` first (CI runs it before pytest)"
TIMEOUT = 300

pytestmark = [
    pytest.mark.arm64,
    pytest.mark.skipif(
        sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"),
        reason="ARM64 Linux code runs natively on ARM64 Linux, or under qemu-user on x86-64 Linux",
    ),
]

# Runs inside the ARM64 interpreter; reads the programs from stdin.  Operands
# given as strings name the runner's own Python objects (callables must live
# in the process that calls them).
RUNNER = r"""
import ctypes, json, platform, sys
from jit.backend import Emitter, Instruction
from jit.backend.emitter import default_arena, resolve_capi
from jit.backend.memory import ffi

def callback(x):
    return x * 3 + 1

def failing(x):
    raise ValueError(f"refused {x}")

objects = {"callback": callback, "failing": failing}
emitter = Emitter()
call = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p)
results = {}
entries = []
for name, program in json.load(sys.stdin).items():
    code = emitter.emit([
        Instruction(stencil, tuple(opargs), tuple(id(objects[v]) if isinstance(v, str) else v for v in operands),
                    jump_target, side_exit, error)
        for stencil, opargs, operands, jump_target, side_exit, error in program
    ])
    entries.append(code.entry)
    frame = (ctypes.c_int64 * 16)()
    try:
        results[name] = {"value": call(code.entry)(ctypes.addressof(frame))}
    except Exception as exc:
        results[name] = {"error": f"{type(exc).__name__}: {exc}"}
with open("/proc/self/maps") as maps:
    rwx = [line.split()[0] for line in maps if line.split()[1].startswith("rwx")]
memory = default_arena().memory
nearest_c = min(abs(entry - resolve_capi("PyLong_FromLongLong")) for entry in entries)
json.dump({
    "results": results,
    "facts": {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "target": emitter.target.name,
        "memory": type(memory).__name__,
        "cache_flush_is_libgcc_clear_cache": memory._flush is not None and int(ffi.cast("uintptr_t", memory._flush))
            == int(ffi.cast("uintptr_t", ffi.dlopen("libgcc_s.so.1").__clear_cache)),
        "rwx_mappings": rwx,
        "distance_to_c": nearest_c,
    },
}, sys.stdout)
"""

# Runs inside the ARM64 interpreter: the object tier's differential cases (tests/object_cases.py), each called in
# that interpreter and compiled there (strict), each on its own deep copy of the arguments.  Prints, per case, both
# outcomes (the arguments afterwards included) and whether the compiled call ran machine code.
OBJECT_RUNNER = r"""
import copy, json, sys, types
sys.path.insert(0, "tests")
import jit
import object_cases

def outcome(func, args):
    try:
        value = func(*args)
    except Exception as error:
        kind = "compiler error" if type(error).__module__.startswith("jit.") else "raise"
        return [kind, type(error).__name__, str(error), repr(args)]
    return ["ok", type(value).__name__, repr(value), repr(args)]

results = {}
for group, cases in [*object_cases.ERROR_CASES.items(), ("values", object_cases.VALUE_CASES)]:
    for index, (func, args) in enumerate(cases):
        # A copy per case, compiled on its own: every case is one signature of one dispatcher.
        copied = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__,
                                    func.__closure__)
        fast = jit.compile(copied, strict=True)
        expected = outcome(func, copy.deepcopy(args))
        got = outcome(fast, copy.deepcopy(args))
        dispatcher = fast.__jit_dispatcher__
        results[f"{group}-{index}"] = {"interpreter": expected, "compiled": got,
                                       "machine_code": bool(dispatcher.specializations) and not dispatcher.fallbacks}
# The bets on objects' types (tests/bet_cases.py): one compiled function per sequence of calls, which lose bets and
# compile again as they go.
import bet_cases
for name, calls in sorted(bet_cases.SEQUENCES.items()):
    func = getattr(bet_cases, name)
    fast = jit.compile(types.FunctionType(func.__code__, func.__globals__, name), strict=True)
    results[f"bets-{name}"] = {"interpreter": [outcome(func, copy.deepcopy(args)) for args in calls],
                               "compiled": [outcome(fast, copy.deepcopy(args)) for args in calls],
                               "machine_code": bool(fast.__jit_dispatcher__.specializations)}
json.dump(results, sys.stdout)
"""


def object_case_names() -> list[str]:
    """The names OBJECT_RUNNER gives its cases (group and position), from the same module on this side."""
    groups = [*object_cases.ERROR_CASES.items(), ("values", object_cases.VALUE_CASES)]
    return [f"{group}-{index}" for group, cases in groups for index in range(len(cases))] + \
        [f"bets-{name}" for name in sorted(bet_cases.SEQUENCES)]


def call_1(callable_name: str, argument: int) -> Chain:
    """Box an int, call a Python callable of the runner on it (CALL_1), return the result object."""
    return [
        const(2, argument),
        op("BOX_INT", 1, 2, error=5),
        op("CALL_1", 0, 1, operands=(callable_name,), error=5),
        op("CLEAR", 1),
        op("RETURN_OBJECT", 0),
        op("RETURN_NULL"),  # 5: an exception is set
    ]


# name -> (chain, expected result: {"value": ...} or {"error": ...})
PROGRAMS: dict[str, tuple[Chain, dict[str, Any]]] = {
    **{name: (chain, {"value": value}) for name, (chain, value) in arithmetic(BOXED).items()},
    "box_int_far_call_into_c": (
        [const(1, 2**62 + 1), op("BOX_INT", 0, 1, error=3), op("RETURN_OBJECT", 0), op("RETURN_NULL")],
        {"value": 2**62 + 1},
    ),
    "python_callback": (call_1("callback", 20), {"value": 61}),
    "python_callback_raises": (call_1("failing", 20), {"error": "ValueError: refused 20"}),
}


def interpreter() -> list[str]:
    """The command that starts an ARM64 CPython; fails the test when the qemu setup is missing."""
    if platform.machine() == "aarch64":
        return [sys.executable]
    qemu = shutil.which("qemu-aarch64-static")
    if qemu is None:
        pytest.fail(f"qemu-aarch64-static is not installed: {SETUP_HINT}")
    root = Path(os.environ.get(ROOT_VARIABLE) or REPO / ".cache" / "arm64-root")
    python = root / "usr" / "bin" / "python3"
    if not python.exists():
        pytest.fail(f"no arm64 sysroot at {root} (or set {ROOT_VARIABLE}): {SETUP_HINT}")
    return [qemu, "-L", str(root), str(python)]


def run_in_arm64(runner: str, stdin: str = "") -> dict[str, Any]:
    """Run ``runner`` in one ARM64 process (starting it under qemu costs seconds): its JSON output."""
    environment = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.run(
        [*interpreter(), "-c", runner],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=TIMEOUT,
        check=False,
    )
    if process.returncode != 0:
        pytest.fail(f"the ARM64 runner failed ({process.returncode}):\n{process.stderr}")
    result: dict[str, Any] = json.loads(process.stdout)
    return result


@pytest.fixture(scope="module")
def arm64_run() -> dict[str, Any]:
    """One ARM64 process runs every program."""
    return run_in_arm64(RUNNER, json.dumps({name: program for name, (program, _) in PROGRAMS.items()}))


@pytest.fixture(scope="module")
def arm64_objects() -> dict[str, Any]:
    """One ARM64 process runs every object-tier case, in its interpreter and compiled."""
    return run_in_arm64(OBJECT_RUNNER)


def test_the_runner_is_an_arm64_cpython_with_real_executable_memory(arm64_run: dict[str, Any]) -> None:
    facts = arm64_run["facts"]
    assert facts["machine"] == "aarch64"
    assert facts["target"] == "aarch64-unknown-linux"
    assert facts["memory"] == "PosixMemory"
    assert facts["cache_flush_is_libgcc_clear_cache"]
    assert facts["rwx_mappings"] == []


def test_calls_into_c_are_out_of_direct_branch_reach(arm64_run: dict[str, Any]) -> None:
    # B/BL reach +-128 MiB: past that, the far calls that worked went through veneers.
    assert arm64_run["facts"]["distance_to_c"] > 128 << 20


@pytest.mark.parametrize("name", list(PROGRAMS))
def test_chain_result(arm64_run: dict[str, Any], name: str) -> None:
    assert arm64_run["results"][name] == PROGRAMS[name][1]


@pytest.mark.parametrize("name", object_case_names())
def test_object_tier_case_matches_the_arm64_interpreter(arm64_objects: dict[str, Any], name: str) -> None:
    case = arm64_objects[name]
    assert case["compiled"] == case["interpreter"]
    assert case["machine_code"], f"{name} did not run machine code"
