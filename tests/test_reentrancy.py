"""Signal handlers and finalizers that compile, and call compiled code, in the middle of the compiler's work.

A handler runs between any two bytecodes of the main thread, a finalizer (``__del__``, weakref and gc
callbacks) at any allocation: both may land inside the compiler (its lock, the emitter, the arena).  The
nested work must neither deadlock nor disturb the interrupted work: nested calls run the interpreter, a
nested jit.compile defers compiling to its first call outside, a nested allocation maps apart.  The
end-to-end cases run in subprocesses with a timeout (a deadlock must fail the test, not hang the suite).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_arena import CHUNK, PAGE, RecordingMemory

import jit
from jit import compiler
from jit.backend.arena import Arena

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 120

# Shared by the scripts: a module of many small functions (with source, so that they compile), so that the
# main thread keeps compiling new code while handlers or finalizers interrupt it.
PRELUDE = """
import gc, io, os, signal, sys, tempfile, importlib.util
import jit
from jit import compiler
from jit.backend.emitter import default_arena

COUNT = 150
SOURCE = "".join(f"def g{k}(x):\\n    return x * {k} + 1\\n" for k in range(COUNT))
SOURCE += "def inner(n):\\n    s = 0\\n    for i in range(n):\\n        s += i\\n    return s\\n"
folder = tempfile.mkdtemp()
path = os.path.join(folder, "generated.py")
with open(path, "w") as file:
    file.write(SOURCE)
spec = importlib.util.spec_from_file_location("generated", path)
generated = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generated)

nested = []  # (value, expected) of every compiled call made by a handler or finalizer
inside = [0]  # how many of them found the compiler busy (interrupted its work)

def nested_work():
    inside[0] += compiler._lock.busy()
    fast = jit.compile(generated.inner)
    nested.append((fast(10), 45))
    nested.append((fast(True), 0))
    k = len(nested) % COUNT
    other = jit.compile(getattr(generated, f"g{k}"))
    nested.append((other(3), getattr(generated, f"g{k}")(3)))

jit.compile(generated.g0)(1)  # the emitter and the tables exist: the interruptions land in compiling proper

def compile_all():
    total = 0
    for k in range(COUNT):
        g = jit.compile(getattr(generated, f"g{k}"))
        total += g(2) + g(2.5)
    return total

def report(total):
    expected = sum(k * 2 + 1 + k * 2.5 + 1 for k in range(COUNT))
    assert total == expected, (total, expected)
    wrong = [pair for pair in nested if pair[0] != pair[1]]
    assert not wrong, wrong
    arena = default_arena()
    assert arena.live_allocations >= 1 and arena.bytes_in_use <= arena.bytes_mapped
    fast = jit.compile(generated.inner)
    assert fast(10) == 45
    text = jit.explain(fast, file=io.StringIO())
    assert "(int) -> int" in text, text  # compiled for real once outside the interrupted work
    print("ok", len(nested) // 3, inside[0])
"""

SIGNAL_HANDLER = PRELUDE + """
def handler(signum, frame):
    nested_work()

signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)
try:
    total = compile_all()
finally:
    signal.setitimer(signal.ITIMER_REAL, 0)
report(total)
"""

FINALIZER = PRELUDE + """
class Garbage:
    def __init__(self):
        self.cycle = self  # only the cycle collector frees it: at an allocation inside the compiler

    def __del__(self):
        nested_work()

gc.set_threshold(50, 1, 1)
total = 0
for k in range(COUNT):
    Garbage()
    g = jit.compile(getattr(generated, f"g{k}"))
    total += g(2) + g(2.5)
gc.collect()
report(total)
"""

GC_CALLBACK = PRELUDE + """
def callback(phase, info):
    if phase == "start":
        nested_work()

gc.set_threshold(50, 1, 1)
gc.callbacks.append(callback)
try:
    total = compile_all()
finally:
    gc.callbacks.remove(callback)
report(total)
"""


def run_script(tmp_path: Path, name: str, text: str) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(text)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=TIMEOUT,
                              check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: no answer within {TIMEOUT} s (deadlock)")
    assert done.returncode == 0, done.stderr
    return done.stdout


def nested_runs(output: str) -> tuple[int, int]:
    word, calls, inside = output.split()
    assert word == "ok"
    return int(calls), int(inside)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="setitimer is POSIX")
def test_a_timer_signal_handler_compiles_and_calls_while_the_main_thread_compiles(tmp_path: Path) -> None:
    calls, _ = nested_runs(run_script(tmp_path, "signal_handler", SIGNAL_HANDLER))
    assert calls >= 1


def test_a_finalizer_compiles_and_calls_in_the_middle_of_compiling(tmp_path: Path) -> None:
    calls, inside = nested_runs(run_script(tmp_path, "finalizer", FINALIZER))
    assert calls >= 1 and inside >= 1  # collections triggered by the compiler's own allocations


def test_a_gc_callback_compiles_and_calls_in_the_middle_of_compiling(tmp_path: Path) -> None:
    calls, inside = nested_runs(run_script(tmp_path, "gc_callback", GC_CALLBACK))
    assert calls >= 1 and inside >= 1


def add_one(x: Any) -> Any:
    return x + 1


def test_inside_the_compilers_work_calls_run_the_interpreter_and_compile_defers() -> None:
    fast: Any = jit.compile(add_one)
    with compiler._lock:  # what a handler that interrupted the compiler sees
        assert fast(1) == 2 and fast(x=2.5) == 3.5  # the interpreter: no signature may be compiled here
        assert fast.__jit_dispatcher__.specializations == {}
        deferred: Any = jit.compile(add_one)
        assert deferred(4) == 5 and deferred.__name__ == "add_one"
        assert type(deferred) is compiler.Deferred
        with pytest.raises(RuntimeError, match="cannot be compiled in a signal handler"):
            jit.explain(deferred, file=io.StringIO())  # explaining would mean compiling now
        with pytest.raises(jit.UnsupportedError):
            jit.compile(lambda: 0, strict=True)  # strict still refuses at once
    assert deferred(4) == 5  # outside: compiled now
    assert deferred.resolve() is fast and len(fast.__jit_dispatcher__.specializations) == 1


def test_an_allocation_nested_in_an_arena_call_maps_apart_and_is_adopted() -> None:
    memory = RecordingMemory()
    arena = Arena(memory, chunk_size=CHUNK)
    nested: list[object] = []
    original_map = memory.map

    def map_with_interruption(size: int) -> int:
        if size == CHUNK:  # a finalizer that compiles runs while the arena maps its first chunk
            nested.append(arena.allocate(3 * PAGE))
        return original_map(size)

    memory.map = map_with_interruption  # type: ignore[method-assign]
    outer = arena.allocate(PAGE)
    inner = nested[0]
    assert [call[2] for call in memory.calls if call[0] == "map"] == [3 * PAGE, CHUNK]  # its own mapping first
    assert arena.live_allocations == 2 and arena.bytes_in_use == 4 * PAGE  # adopted by the next locked call
    assert arena.bytes_mapped == CHUNK + 3 * PAGE
    arena.release(inner)  # type: ignore[arg-type]
    arena.release(outer)
    assert arena.live_allocations == 0 and arena.bytes_in_use == 0
