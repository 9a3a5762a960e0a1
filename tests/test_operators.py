"""Differential tests of what the registry added (jit/ops.py), of types that change inside a function, and of
arguments that are not numbers.

The bitwise operators ``& | ^ << >> ~`` on ints and bools (``True & True`` is ``True``, a negative shift count
raises the interpreter's ValueError, a shift past int64 gives the exact big int), ``is`` and ``is not`` against
None, True and False, and variables whose type changes inside loops (an int that becomes a float, a float that
``int()`` makes an int again, a bool that arithmetic makes an int, None that becomes a number): each compiled
function must give the interpreter's outcome and run compiled (no fallback).
"""

from __future__ import annotations

import types
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_differential import SETTINGS, assert_same, bools, floats, ints, numbers, outcome

import jit

# --- the bitwise operators ----------------------------------------------------------------------------------------


def bit_and(a: Any, b: Any) -> Any:
    return a & b


def bit_or(a: Any, b: Any) -> Any:
    return a | b


def bit_xor(a: Any, b: Any) -> Any:
    return a ^ b


def shift_left(a: Any, b: Any) -> Any:
    return a << b


def shift_right(a: Any, b: Any) -> Any:
    return a >> b


def invert(a: Any) -> Any:
    return ~a


def augmented_bits(a: Any, b: Any) -> Any:
    a &= b | 12
    a ^= b
    a |= 3
    a <<= 2
    a >>= 1
    return a


def bits_in_condition(a: Any, b: Any) -> Any:
    if (a > 0) & (b > 0):
        return 1
    if (a < 0) | (b < 0):
        return 2
    return 3


BINARY_BITWISE = [bit_and, bit_or, bit_xor, shift_left, shift_right, augmented_bits, bits_in_condition]
shift_counts = st.one_of(st.integers(-3, 70), st.sampled_from([0, 1, 62, 63, 64, 65, 127, 1000]), bools)
integral = st.one_of(ints, bools)


@pytest.mark.parametrize("func", BINARY_BITWISE, ids=lambda f: f.__name__)
@SETTINGS
@given(a=integral, b=integral)
def test_bitwise_operators_on_ints_and_bools(func: Any, a: Any, b: Any) -> None:
    if func in (shift_left, augmented_bits) and type(b) is int and b > 10_000:
        b = b % 200  # a << 2**65 would need 2**65 bits, in the interpreter too
    assert_same(func, a, b)


@pytest.mark.parametrize("func", [shift_left, shift_right], ids=lambda f: f.__name__)
@SETTINGS
@given(a=integral, b=shift_counts)
def test_shifts_by_every_count(func: Any, a: Any, b: Any) -> None:
    """Counts 0, 63, 64, huge and negative: negative raises ValueError; past int64 the exact big int."""
    assert_same(func, a, b)


@SETTINGS
@given(a=ints)
def test_invert_of_ints(a: Any) -> None:
    assert_same(invert, a)


def test_bool_results_stay_bools() -> None:
    for a in (True, False):
        for b in (True, False):
            for func in (bit_and, bit_or, bit_xor):
                assert type(assert_same(func, a, b)(a, b)) is bool


@pytest.mark.parametrize("func", [bit_and, bit_or, bit_xor, shift_left, shift_right], ids=lambda f: f.__name__)
@SETTINGS
@given(a=floats, b=numbers)
def test_bitwise_operators_on_floats_raise_the_interpreters_type_error(func: Any, a: Any, b: Any) -> None:
    assert_same(func, a, b)
    assert_same(func, b, a)


# --- identity with None, True, False --------------------------------------------------------------------------


def is_none(a: Any) -> Any:
    return a is None


def is_not_none(a: Any) -> Any:
    return a is not None


def is_true(a: Any) -> Any:
    return a is True


def is_false_branch(a: Any) -> Any:
    if a is False:
        return 1
    return 2


def none_is_left(a: Any) -> Any:
    return None is not a


def optional_default(a: Any) -> Any:
    best = None
    for i in range(3):
        value = a * i
        if best is None or value > best:
            best = value
    return best


def ends_none(a: Any) -> Any:
    result = None
    if a > 0:
        result = a
    return result is None


IDENTITY = [is_none, is_not_none, is_true, is_false_branch, none_is_left, optional_default, ends_none]


@pytest.mark.parametrize("func", IDENTITY, ids=lambda f: f.__name__)
@SETTINGS
@given(a=numbers)
def test_identity_with_singletons(func: Any, a: Any) -> None:
    assert_same(func, a)


# --- types that change inside loops ---------------------------------------------------------------------------


def int_then_float(n: Any) -> Any:
    s = 0
    for i in range(n):
        s += i * 0.5
    return s


def float_then_int(n: Any, x: Any) -> Any:
    t = x
    for i in range(n):
        t = int(t) + i if i % 2 else t / 2
    return t


def bool_then_int(n: Any, flag: Any) -> Any:
    v = flag
    for i in range(n):
        v = v + i
    return v


def alternating(n: Any, x: Any) -> Any:
    v = x
    total = 0.0
    for i in range(n):
        v = i if i % 3 == 0 else v * 1.5
        total += v
    return total


def none_then_number(n: Any) -> Any:
    found = None
    i = 0
    while i < n:
        if i * i > n:
            found = i
            break
        i += 1
    return found


def many_types(n: Any, x: Any) -> Any:
    v = x
    for i in range(n):
        if i % 4 == 0:
            v = True
        elif i % 4 == 1:
            v = v + 1
        elif i % 4 == 2:
            v = v / 3
        else:
            v = v ** 2
    return v


loop_sizes = st.integers(-2, 12)


@pytest.mark.parametrize("func", [int_then_float, none_then_number], ids=lambda f: f.__name__)
@SETTINGS
@given(n=loop_sizes)
def test_type_changes_inside_loops_one_argument(func: Any, n: Any) -> None:
    assert_same(func, n)


@pytest.mark.parametrize("func", [float_then_int, bool_then_int, alternating, many_types], ids=lambda f: f.__name__)
@SETTINGS
@given(n=loop_sizes, x=numbers)
def test_type_changes_inside_loops(func: Any, n: Any, x: Any) -> None:
    if func is many_types and type(x) is int and abs(x) > 2**64:
        x = 3  # v ** 2 of a big int, squared again: the interpreter's own numbers explode
    assert_same(func, n, x)


def test_an_int_that_becomes_a_float_is_unboxed_in_both_parts() -> None:
    """Both parts of the loop run in the specialized tier: no deoptimization, and no generic-only signature."""
    fast: Any = jit.compile(int_then_float, strict=True)
    assert fast(1000) == int_then_float(1000)
    (spec,) = fast.__jit_dispatcher__.specializations.values()
    assert spec.facts.specializable
    assert spec.deopt_counter.value == 0
    kinds = {var.name: kind.value for var, kind in spec.facts.types.items() if var.name.startswith("s")}
    assert kinds == {"s": "int", "s$float": "float"}


# --- arguments that are not numbers: objects in the same machine code -------------------------------------------


def combine(a: Any, b: Any) -> Any:
    total = a + b
    if total == a:
        return None
    return total * 2


def count_up(items: Any, n: Any) -> Any:
    result = items
    for _ in range(n):
        result = result + items
    return result


def pick(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is not None and b > a:
        return b
    return a


class Box:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __add__(self, other: Any) -> Any:
        return Box(self.value + (other.value if isinstance(other, Box) else other))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Box) and self.value == other.value

    def __gt__(self, other: Any) -> bool:
        return self.value > (other.value if isinstance(other, Box) else other)

    def __mul__(self, other: Any) -> Any:
        return Box(self.value * other)

    def __repr__(self) -> str:
        return f"Box({self.value!r})"

    __hash__ = None  # type: ignore[assignment]


objects = st.one_of(st.text(max_size=3), st.lists(st.integers(-3, 3), max_size=3), st.none(),
                    st.builds(Box, st.integers(-5, 5)), st.tuples(st.integers(0, 2)), st.complex_numbers(
                        allow_nan=False, allow_infinity=False, max_magnitude=10))
anything = st.one_of(objects, numbers)


@pytest.mark.parametrize("func", [combine, pick], ids=lambda f: f.__name__)
@SETTINGS
@given(a=anything, b=anything)
def test_arguments_of_any_type(func: Any, a: Any, b: Any) -> None:
    assert_same_objects(func, a, b)


@SETTINGS
@given(items=objects, n=st.integers(-1, 4))
def test_objects_accumulated_in_a_loop(items: Any, n: Any) -> None:
    assert_same_objects(count_up, items, n)


def assert_same_objects(func: Any, *args: Any) -> None:
    """The interpreter's outcome, and compiled code ran: a signature of objects is still a signature."""
    copy = types.FunctionType(func.__code__, func.__globals__, func.__name__)
    fast: Any = jit.compile(copy)
    assert outcome(fast, args) == outcome(func, args), args
    assert fast.__jit_dispatcher__.fallbacks == {}
    assert fast.__jit_dispatcher__.specializations


# --- comparisons of objects: two floats or two compact ints inline (COMPARE_OP), anything else the C API's ------


def chained_comparisons_of_items(items: Any) -> Any:
    seen = []
    for a in items:
        for b in items:
            # values of objects (list items), kept as values: a chained comparison, then each op's own result
            seen.append((0 <= a < b, a < b, a <= b, a == b, a != b, a > b, a >= b))
    return seen


COMPARED = [0, 1, -1, 2**30 - 1, 2**30, -(2**30), 2**62, -(2**63), 2**64, 0.0, -0.0, 1.5, float("nan"),
            float("inf"), float("-inf"), True, False]


def test_comparisons_of_numbers_held_as_objects() -> None:
    fast = jit.compile(chained_comparisons_of_items, strict=True)
    got, expected = fast(COMPARED), chained_comparisons_of_items(COMPARED)
    assert got == expected
    assert all(type(value) is bool for row in got for value in row)


@given(st.lists(st.one_of(ints, floats, bools, st.text(max_size=2)), max_size=5))
@SETTINGS
def test_comparisons_of_any_objects(items: Any) -> None:
    fast = jit.compile(chained_comparisons_of_items, strict=True)
    assert outcome(fast, (items,)) == outcome(chained_comparisons_of_items, (items,))
