"""The frame stack: the recursion counter probe, and recursion depth as the interpreter counts it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

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


def test_the_probe_finds_the_counter_where_there_is_one() -> None:
    offset = frames.probe_recursion_counter()
    if sys.version_info < (3, 14):  # 3.14 checks stack bounds: no counter, and the C-API functions are called
        assert offset > 0
    assert offset % 4 == 0


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
