"""range() bounds that are not exact ints: the compiled loop does what ``for i in range(a, b, c)`` does.

range() converts each argument with ``__index__`` (in order: start, stop, step) to an exact int, raises its own
TypeError for what has none (a float) and its ValueError for a zero step; the loop variable is an exact int.
The compiled code must agree for every kind of bound: bools, int subclasses (with and without arithmetic
dunders, which range() never calls), objects with only ``__index__``, floats, NumPy scalars.  Bounds reach the
generic tier from a helper the interpreter runs (the dispatcher only compiles exact int, float and bool
arguments); given directly as arguments, the dispatcher's exact type checks send them to the interpreter.
Differential: value, type and exception (type and message) against the interpreter, and the log of every
``__index__`` call and argument evaluation, in order.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jit

# NumPy warns when an int64 start's own arithmetic wraps; it wraps the same in both runs, which is compared.
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=150)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

LOG: list[object] = []  # evaluations of bound() and calls of __index__, in order
BOUNDS: list[object] = []


class Plain(int):
    """An int subclass without arithmetic of its own."""


class Weird(int):
    """An int subclass whose arithmetic and comparisons lie: range() uses none of them."""

    def __add__(self, other: object) -> int:
        return 1000

    __radd__ = __add__

    def __lt__(self, other: object) -> bool:
        return True

    __gt__ = __le__ = __ge__ = __lt__  # type: ignore[assignment]


class OnlyIndex:
    """Not a number at all: range() accepts it through __index__ alone (and logs the call)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        LOG.append(("index", self.value))
        return self.value

    def __repr__(self) -> str:
        return f"OnlyIndex({self.value})"


def bound(k: Any) -> Any:
    LOG.append(("bound", k))
    return BOUNDS[k]


def sum_of(k: Any) -> Any:
    s = 0
    for i in range(bound(0)):
        s += i
    return s + k


def sum_from(k: Any) -> Any:
    s = 0
    for i in range(bound(0), bound(1)):
        s += i
    return s + k


def sum_stepped(k: Any) -> Any:
    s = 0
    for i in range(bound(0), bound(1), bound(2)):
        s += i
    return s + k


def last_stepped(k: Any) -> Any:
    x = k
    for i in range(bound(0), bound(1), bound(2)):
        x = i
    return x


def start_plus_sum(k: Any) -> Any:
    s = bound(0)  # the start object itself: its own arithmetic runs, as in the interpreter
    for i in range(bound(0), bound(1), bound(2)):
        s += i
    return s


KERNELS = [sum_of, sum_from, sum_stepped, last_stepped, start_plus_sum]


def numpy_kinds() -> list[Callable[[int], object]]:
    try:
        import numpy as np  # noqa: PLC0415 - optional: only these kinds need it
    except ImportError:
        return []

    def int64(v: int) -> object:
        return np.int64(max(INT64_MIN, min(INT64_MAX, v)))

    return [int64, lambda v: np.int8(max(-128, min(127, v))), lambda v: np.uint16(abs(v) % 65536),
            np.float64, lambda v: np.bool_(v % 2)]


KINDS: list[Callable[[int], object]] = [int, bool, Plain, Weird, OnlyIndex, float, *numpy_kinds()]

# Bounds near a base (so that every loop is short): small, at the int64 edges, or beyond them.
bases = st.sampled_from([0, 0, 0, INT64_MIN, INT64_MAX - 12, 2**64])
kinds = st.tuples(*[st.sampled_from(range(len(KINDS))) for _ in range(3)])
offsets = st.tuples(st.integers(-12, 12), st.integers(-12, 12), st.integers(-4, 4))


def outcome(func: Callable[[int], object], log: bool = True) -> tuple[object, ...]:
    LOG.clear()
    try:
        value = func(0)
    except Exception as error:
        result: tuple[object, ...] = ("raised", type(error), str(error))
    else:
        result = ("returned", type(value), repr(value))
    return (*result, tuple(LOG)) if log else result


@SETTINGS
@given(kinds, bases, offsets, st.sampled_from(KERNELS))
def test_the_compiled_loop_converts_bounds_as_range_does(chosen: tuple[int, int, int], base: int,
                                                         offset: tuple[int, int, int],
                                                         kernel: Callable[[int], object]) -> None:
    if kernel is sum_of:
        base = 0  # its one bound is the stop: the loop runs from 0
    values = (base + offset[0], base + offset[1], offset[2])
    BOUNDS[:] = [KINDS[kind](value) for kind, value in zip(chosen, values, strict=True)]
    expected = outcome(kernel)
    fast = jit.compile(kernel)
    assert outcome(fast) == expected, BOUNDS
    assert fast.__jit_dispatcher__.specializations  # type: ignore[attr-defined]  # machine code ran


@pytest.mark.parametrize("kind", [int, bool, Plain, Weird, OnlyIndex, float])
def test_the_loop_variable_is_an_exact_int(kind: Callable[[int], object]) -> None:
    BOUNDS[:] = [kind(1), kind(7), kind(2)] if kind is not bool else [True, 7, True]
    fast: Any = jit.compile(last_stepped)
    assert outcome(fast) == outcome(last_stepped)


def test_the_reported_cases() -> None:
    np = pytest.importorskip("numpy")
    fast: Any = jit.compile(start_plus_sum)
    for case in ([np.int64(INT64_MIN), np.int64(INT64_MIN + 2), 1], [0, 4, Weird(2)], [0, OnlyIndex(6), 1]):
        BOUNDS[:] = case
        assert outcome(fast) == outcome(start_plus_sum), case


# --- the specialized tier: bool bounds are ints there too, also after a deoptimization --------------------------

def overflowing(a: Any, b: Any, c: Any) -> Any:
    s = 9223372036854775000  # overflows within the loop: the rest runs in the generic tier
    for i in range(a, b, c):
        s += i
    return s


def last_of(a: Any, b: Any, c: Any) -> Any:
    x = a
    for i in range(a, b, c):
        x = i
    return x


@SETTINGS
@given(st.tuples(*[st.one_of(st.booleans(), st.integers(-30, 30)) for _ in range(3)]),
       st.sampled_from([overflowing, last_of]))
def test_bool_and_int_arguments_in_the_specialized_tier(args: tuple[int | bool, ...],
                                                        kernel: Callable[..., object]) -> None:
    def call(func: Callable[..., object]) -> tuple[object, ...]:
        try:
            value = func(*args)
        except Exception as error:
            return ("raised", type(error), str(error))
        return ("returned", type(value), repr(value))

    fast: Any = jit.compile(kernel)
    assert call(fast) == call(kernel)


# --- the dispatcher: arguments of other numeric types are objects ---------------------------------------------------

@pytest.mark.parametrize("kind", KINDS[2:])
def test_arguments_that_are_not_exact_int_float_or_bool_are_objects(kind: Callable[[int], object]) -> None:
    args = (kind(1), kind(9), kind(3))

    def call(func: Callable[..., object]) -> tuple[object, ...]:
        LOG.clear()
        try:
            value = func(*args)
        except Exception as error:
            return ("raised", type(error), str(error), tuple(LOG))
        return ("returned", type(value), repr(value), tuple(LOG))

    # A copy of its own: other tests gave last_of its eight signatures already.
    copy = types.FunctionType(last_of.__code__, last_of.__globals__, last_of.__name__)
    fast: Any = jit.compile(copy)
    assert call(fast) == call(last_of)  # the same __index__ calls, in order, and the same result or error
    assert fast.__jit_dispatcher__.fallbacks == {}
