"""The frame stack: the recursion counter probe, and recursion depth as the interpreter counts it."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import jit
from jit.backend import frames


def depth(n: int) -> int:
    if n == 0:
        return 0
    return 1 + depth(n - 1)


def deepest(func: Callable[[int], int]) -> int:
    """The largest n that func(n) reaches without RecursionError, from here."""
    low, high = 1, 20_000
    while low < high:
        middle = (low + high + 1) // 2
        try:
            func(middle)
            low = middle
        except RecursionError:
            high = middle - 1
    return low


def remaining_here(offset: int) -> int:
    return ctypes.c_int32.from_address(frames._thread_state() + offset).value


def remaining_one_call_deeper(offset: int) -> int:
    return remaining_here(offset)


def test_the_probe_finds_the_counter_of_python_calls() -> None:
    counter = frames.probe_recursion_counter()
    assert counter.offset > 0
    assert counter.offset % 4 == 0
    # The field is the count of Python calls left: one call deeper, one less.
    assert remaining_one_call_deeper(counter.offset) == remaining_here(counter.offset) - 1
    # 3.11 counts Python calls and Py_EnterRecursiveCall's in one field; 3.12+ keep them apart (3.14+ count no
    # C calls at all), so compiled calls must raise at the limit themselves.
    assert counter.python_only == (sys.version_info >= (3, 12))
    assert counter.python_only == (frames._c_api_counter() != counter.offset)
    if sys.version_info >= (3, 14):  # the C-API functions check stack bounds: no counter moves
        assert frames._c_api_counter() == 0


def test_the_frame_stack_knows_who_raises_at_the_limit() -> None:
    jit.compile(depth)(3)  # the first compile probes the counter
    stack = frames._stack()
    counter = frames.probe_recursion_counter()
    assert (stack.recursion_counter_offset, bool(stack.recursion_counter_python_only)) == tuple(counter)


def test_recursion_errors_read_as_the_interpreters() -> None:
    fast: Any = jit.compile(depth)
    limit = sys.getrecursionlimit()
    messages = []
    for func in (depth, fast):
        try:
            func(limit + 10)
        except RecursionError as error:
            messages.append(str(error))
    assert messages == ["maximum recursion depth exceeded"] * 2


def test_direct_calls_hit_the_recursion_limit_where_python_calls_do() -> None:
    fast: Any = jit.compile(depth)
    assert fast(10) == 10
    assert not fast.__jit_dispatcher__.fallbacks
    assert deepest(fast) == deepest(depth)
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(limit + 500)
        assert deepest(fast) == deepest(depth)
    finally:
        sys.setrecursionlimit(limit)
    assert frames.frames_in_use() == 0


# --- deep recursion: the interpreter's answer or its RecursionError, never a crash ------------------------


def run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` (a module that defines and calls compiled functions) in a fresh interpreter."""
    script = tmp_path / "deep.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(jit.__file__).parent.parent)})


RECURSIVE = """
    import sys, threading
    import jit

    @jit.compile
    def f(n):
        return 0 if n <= 0 else 1 + f(n - 1)

    def outcome(n):
        try:
            return f(n)
        except RecursionError as error:
            return str(error)
"""


def test_deep_recursion_under_a_huge_limit_gives_the_answer_or_recursion_error(tmp_path: Path) -> None:
    done = run_script(tmp_path, RECURSIVE + """
    sys.setrecursionlimit(10**6)
    for n in (1000, 30000, 100000, 300000):
        print(n, outcome(n))
    print("ok", jit.stats()["frame_slots_in_use"])
    """)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "1000 1000"
    for line, n in zip(lines[1:4], (30000, 100000, 300000), strict=True):
        assert line in (f"{n} {n}", f"{n} maximum recursion depth exceeded")
    assert lines[4] == "ok 0"


@pytest.mark.parametrize(("stack_kib", "depth"), [(256, 5000), (1024, 20000), (256, 200)])
def test_recursion_in_a_thread_with_a_small_stack(tmp_path: Path, stack_kib: int, depth: int) -> None:
    done = run_script(tmp_path, RECURSIVE + f"""
    sys.setrecursionlimit(10**6)
    threading.stack_size({stack_kib} * 1024)
    results = []
    thread = threading.Thread(target=lambda: results.append(outcome({depth})))
    thread.start()
    thread.join()
    print(results[0])
    print(outcome({depth}))  # the main thread's floor is its own
    """)
    assert done.returncode == 0, done.stderr
    in_thread, in_main = done.stdout.split("\n")[:2]
    assert in_thread in (str(depth), "maximum recursion depth exceeded")
    assert in_main == str(depth)
    if depth <= 200:
        assert in_thread == str(depth)  # a few calls fit in any stack


def test_frames_larger_than_a_chunk_and_deeper_than_one_chunk(tmp_path: Path) -> None:
    # 400 constants make a frame of more than 800 slots; 900 levels need more slots than one chunk holds.
    terms = " + ".join(f"n * {k}" for k in range(1, 401))
    done = run_script(tmp_path, f"""
    import jit
    from jit.backend import frames

    def g(n):
        if n <= 0:
            return 0
        return g(n - 1) + ({terms}) % 7

    fast = jit.compile(g)
    print(fast(900) == g(900), fast(900))
    print(frames.chunk_count() > 1, frames.frames_in_use())
    print(fast.__jit_dispatcher__.fallbacks)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == [f"True {sum((n * 80200) % 7 for n in range(1, 901))}", "True 0", "{}"]


def through_the_jit(text: Any, n: Any) -> Any:
    """Past its eighth signature a call runs in the interpreter; its recursion goes through the compiled object
    each time."""
    return text if n == 0 else THROUGH(text, n - 1)


THROUGH: Any = jit.compile(through_the_jit)


def test_calls_handed_to_the_interpreter_count_once_against_the_recursion_limit() -> None:
    for text in (1, 1.5, True):
        for n in (1, 1.0, False)[: 3 if text is not True else 2]:
            THROUGH(text, n)  # eight signatures: the most a function gets
    assert len(THROUGH.__jit_dispatcher__.specializations) == 8
    assert THROUGH("x", 3) == "x"  # the ninth falls back: the dispatcher hands it on from now on
    stencils = [name for _, name, _ in THROUGH.__jit_dispatcher__.codes[-1].stencil_offsets()]
    assert "CALL_ORIGINAL" in stencils

    def interpreted(text: Any, n: Any) -> Any:
        return text if n == 0 else interpreted(text, n - 1)

    assert deepest(lambda n: THROUGH("x", n)) == deepest(lambda n: interpreted("x", n))
