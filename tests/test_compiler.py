"""The driver: dispatch, specializations, direct calls, the frame stack."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import jit
from jit.backend import frames


def square_then(n: int) -> int:
    x = n * n  # overflows for big n: deoptimizes, and the generic tier calls offset() through Python
    return offset(x) + n


def offset(x: int) -> int:
    return x + 1


def outer(n: int) -> int:
    total = 0
    for i in range(3):
        total += square_then(n + i)  # a direct call; its callee's frame lies above this one's
    return total


def test_an_entry_from_a_callee_takes_fresh_slots() -> None:
    # A compiled callee reached by a direct call re-entered compiled code through its generic tier: the
    # frame stack's top must lie past the callee's frame, or the inner frame overwrites it.
    fast = jit.compile(outer)
    for n in (3, 2**40, -(2**40), 2**62):
        assert fast(n) == outer(n)
    assert frames.frames_in_use() == 0


def test_another_thread_runs_the_interpreter_while_frames_are_lent() -> None:
    # While this thread's compiled loop lets the GIL go, another thread's calls take the slow path.
    def spin(n: int) -> int:
        total = 0
        for i in range(n):
            total += i % 3
        return total

    fast = jit.compile(spin)
    assert fast(10) == spin(10)
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.extend(fast(1000) for _ in range(200)))
    worker.start()
    assert fast(3_000_000) == spin(3_000_000)
    worker.join()
    assert results == [spin(1000)] * 200
    assert frames.frames_in_use() == 0


UNSUPPORTED_HOST = """
import io, jit
import jit.backend.target
jit.backend.target._system = lambda: "Plan9"  # what platform.system() would say there

def add1(x):
    return x + 1

fast = jit.compile(add1)
assert fast(41) == 42 and fast(x=1.5) == 2.5 and fast.__name__ == "add1"
text = jit.explain(fast, file=io.StringIO())
assert "no machine code on this host: unsupported operating system 'plan9'" in text, text
print("ok")
"""


def test_an_unsupported_host_runs_the_interpreter_and_says_why(tmp_path: Path) -> None:
    script = tmp_path / "unsupported_host.py"
    script.write_text(UNSUPPORTED_HOST)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def passed_on(item, count, label):  # type: ignore[no-untyped-def]
    # item: only a display and a call read it; count: arithmetic; label: rebound
    label = str(label)
    return [item, label][0], count + 1, len([item])


def test_parameters_that_only_objects_ops_read_are_objects_whatever_their_type() -> None:
    # Unboxing an int there would only box it again (a new object); and one specialization serves every type.
    fast = jit.compile(passed_on)
    assert jit.api._dispatcher(fast).object_parameters() == frozenset({0})
    big = 2**70
    for item in (1, big, 2.5, True, "s", None, [1]):
        for count in (1, 2**40):
            assert fast(item, count, 7) == passed_on(item, count, 7)
            assert fast(item, count, 7)[0] is item  # the argument itself, not a box of its value
    signatures = set(jit.api._dispatcher(fast).specializations)
    assert {signature[0] for signature in signatures} == {jit.ir.Type.OBJECT}
    assert {signature[1] for signature in signatures} == {jit.ir.Type.INT}


def same_object(a, b):  # type: ignore[no-untyped-def]
    return [a][0] is b


def test_identity_of_numbers_passed_on_is_the_interpreters() -> None:
    fast = jit.compile(same_object)
    x, y = 10**6, int("1000000")
    for a, b in ((x, x), (x, y), (1.5, 1.5), (x, 1.0)):
        assert fast(a, b) == same_object(a, b)


def count_down_to(items, n):  # type: ignore[no-untyped-def]
    if n <= items[0]:
        return n  # an int: the return type its calls of itself would have been given
    return count_down_to(items, n - 1)  # a call of itself with an object argument: through Python


def test_a_recursive_function_with_an_object_argument_compiles() -> None:
    # The signature (object, int) is not one a direct call takes: its calls of itself return objects.  Typing
    # them with its own return type (int) failed the compile (an assertion), and the function ran in the
    # interpreter.
    fast = jit.compile(count_down_to, strict=True)
    for items, n in (([3], 50), ([2.5], 40), ([-(2**70)], -(2**70) + 5), ([10], 3)):
        assert fast(items, n) == count_down_to(items, n)
    assert jit.api._dispatcher(fast).fallbacks == {}
