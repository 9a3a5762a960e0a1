"""Runaway recursion raises the interpreter's RecursionError, message included.

Where the limit strikes decides the message: a comparison made through PyObject_RichCompare (an int with a
float, a bool, an int beyond one 30-bit digit, a comparison whose value is kept) checks the recursion counter
itself on 3.11 and says "... in comparison"; a Python call, or a comparison the specializing interpreter makes
inline, says "maximum recursion depth exceeded".  Both tiers must stop where the interpreter stops.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import jit

SOURCE = '''
def less_equal(n):
    if n <= 1:
        return n
    return less_equal(n - 1)

def less(n):
    if n < 1:
        return n
    return less(n + 1)

def equal(n):
    if n == 0:
        return n
    return equal(n - 2)

def greater(n):
    if n > 10:
        return n
    return greater(n - 1)

def kept(n):
    small = n < 0
    if small:
        return n
    return kept(n + 1)

def chained(n):
    if 0 > n > -5:
        return n
    return chained(n + 1)

def flag(n, b):
    if b == 1:
        return n
    return flag(n + 1, b)

def kept_items(n, items):
    small = items[0] < items[1]  # a comparison of objects whose value is kept
    if small:
        return n
    return kept_items(n + 1, items)
'''
CASES = [
    ("less_equal", (float("nan"),)), ("less_equal", (2.0**70 + 0.5,)),
    ("less", (5,)), ("less", (5.0,)), ("less", (2**40,)),
    ("equal", (5,)), ("equal", (5.0,)), ("equal", (2**40 + 1,)),
    ("greater", (5,)), ("greater", (5.0,)), ("greater", (-(2**29),)),
    ("kept", (1,)), ("kept", (1.0,)), ("chained", (1,)), ("flag", (1, 2.0)), ("flag", (1, False)),
    ("kept_items", (1, [5, 1])), ("kept_items", (1, [5.0, 1.0])), ("kept_items", (1, [2**40, 1])),
]


@pytest.fixture
def recursion_limit() -> Iterator[None]:
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(300)
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


def recursion_error(func: object, args: tuple[object, ...]) -> tuple[type, str]:
    with pytest.raises(RecursionError) as raised:
        func(*args)  # type: ignore[operator]
    return type(raised.value), str(raised.value)


@pytest.mark.parametrize(("name", "args"), CASES)
def test_the_message_is_the_interpreters(name: str, args: tuple[object, ...], module_dir: Path,
                                          recursion_limit: None) -> None:
    (module_dir / "runaway.py").write_text(SOURCE)
    sys.modules.pop("runaway", None)
    func = getattr(importlib.import_module("runaway"), name)
    expected = recursion_error(func, args)
    compiled = jit.compile(func, strict=True)
    assert recursion_error(compiled, args) == expected
    assert recursion_error(compiled, args) == expected  # and again, with the specialization made
    assert compiled.__jit_dispatcher__.fallbacks == {}
