"""Differential tests: every supported construct, compiled, against the interpreter as the oracle.

``assert_same`` runs a function in the interpreter and compiled, and requires the same outcome: a value of the
same type with the same repr (so nan equals nan and -0.0 differs from 0.0), or an exception of the same type with
the same message; and that the compiled function really ran compiled code (no fallback to the interpreter).
Arguments come from hypothesis (ints near the int64 edges, big ints, bools, floats with inf, nan, -0.0 and
subnormals, zero divisors) and from exhaustive grids of edge values.
"""

from __future__ import annotations

import gc
import io
import itertools
import math
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jit

SETTINGS = settings(derandomize=True, database=None, deadline=None, max_examples=60)

# --- the oracle --------------------------------------------------------------------------------------------------

Outcome = tuple[str, type, object]


def outcome(func: Callable[..., Any], args: Sequence[object]) -> Outcome:
    """What calling ``func`` gives: the value's type and repr (an int's value: repr fails past 4300 digits)."""
    try:
        value = func(*args)
    except Exception as error:
        return ("raised", type(error), str(error))
    return ("returned", type(value), value if type(value) is int else repr(value))


def compiled_for(func: Callable[..., Any], args: Sequence[object]) -> Any:
    """The compiled function that runs ``args``.

    A function of one parameter is compiled itself (at most three signatures).  With more parameters the
    int/float/bool combinations outnumber a dispatcher's specializations, so each signature gets its own copy of
    the function (same code, globals and source lines), compiled on its own: every check then sees exactly one
    signature, and a fallback can only mean that the construct was not compiled.
    """
    assert isinstance(func, types.FunctionType)
    if func.__code__.co_argcount <= 1:
        return jit.compile(func)
    # Kept on the function itself, so that the copies go when it goes (a generated program, say).
    copies: dict[tuple[type, ...], Any] = func.__dict__.setdefault("_compiled_copies", {})
    key = tuple(type(a) for a in args)
    if key not in copies:
        copy = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__)
        copy.__qualname__ = func.__qualname__
        copies[key] = jit.compile(copy)
    return copies[key]


def assert_same(func: Callable[..., Any], *args: object, compiled: bool = True) -> Any:
    """The compiled ``func`` gives the interpreter's outcome for ``args`` (and, with ``compiled``, ran compiled).

    Returns the compiled function that ran, for checks of its dispatcher.
    """
    fast = compiled_for(func, args)
    expected = outcome(func, args)
    got = outcome(fast, args)
    assert got == expected, f"{func.__name__}{args!r}: interpreter {expected}, compiled {got}"
    if compiled:
        dispatcher = fast.__jit_dispatcher__
        assert dispatcher.fallbacks == {}, f"{func.__name__}{args!r} ran in the interpreter: {dispatcher.fallbacks}"
        signature = tuple(jit_type(a) for a in args)
        assert signature in {tuple(t.value for t in s) for s in dispatcher.specializations}, (
            f"{func.__name__}{args!r}: no specialization for {signature}")
    return fast


def jit_type(value: object) -> str:
    return {bool: "bool", int: "int", float: "float"}[type(value)]


# --- argument strategies -----------------------------------------------------------------------------------------

INT_EDGES = [
    0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 2**31, 3037000499, -3037000500,  # sqrt(2**63): products near overflow
    2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**62, -(2**62), 2**62 - 1,
    2**63 - 1, -(2**63), -(2**63) + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30),
    10**400, -(10**400),  # beyond a double: float() and true division raise OverflowError
]
FLOAT_EDGES = [
    0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e16, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    -1.7976931348623157e308, 9007199254740992.0, 2.0**63, -(2.0**63), math.inf, -math.inf, math.nan,
]
EDGES: list[object] = [*INT_EDGES, *FLOAT_EDGES, True, False]

ints = st.one_of(
    st.sampled_from(INT_EDGES),
    st.builds(lambda edge, delta: edge + delta, st.sampled_from(INT_EDGES), st.integers(-3, 3)),
    st.integers(-100, 100),
    st.integers(-(2**65), 2**65),
)
floats = st.one_of(st.sampled_from(FLOAT_EDGES), st.floats(), st.floats(-100, 100))
bools = st.booleans()
numbers = st.one_of(ints, floats, bools)
small_ints = st.integers(-40, 40)
exponents = st.one_of(st.integers(-70, 70), st.floats(-70, 70), st.sampled_from([math.inf, -math.inf, math.nan]),
                      bools)
loop_counts = st.one_of(st.integers(-5, 120), bools, st.sampled_from([0.0, 3.0, 2.5]))
steps = st.one_of(st.integers(-7, 7), bools, st.sampled_from([1.0, -0.5]))
range_starts = st.one_of(st.sampled_from(INT_EDGES), st.integers(-50, 50), bools, st.sampled_from([0.0, 1.5]))


# --- the functions under test ------------------------------------------------------------------------------------
# Annotated with Any: the compiler specializes on the argument types it is called with.

SCALE = 3
OFFSET = 0.5
ENABLED = True
HUGE = 2**70


def add(a: Any, b: Any) -> Any:
    return a + b


def sub(a: Any, b: Any) -> Any:
    return a - b


def mul(a: Any, b: Any) -> Any:
    return a * b


def truediv(a: Any, b: Any) -> Any:
    return a / b


def floordiv(a: Any, b: Any) -> Any:
    return a // b


def mod(a: Any, b: Any) -> Any:
    return a % b


def power(a: Any, b: Any) -> Any:
    return a**b


def polynomial(a: Any, b: Any) -> Any:
    return (a + b) * (a - b) - 3 * a * b + b / 4 - a // 5


def negate(a: Any) -> Any:
    return -a


def negate_twice(a: Any) -> Any:
    b = -a
    return -b


def logical_not(a: Any) -> Any:
    return not a


def absolute(a: Any) -> Any:
    return abs(a)


def to_int(a: Any) -> Any:
    return int(a)


def to_float(a: Any) -> Any:
    return float(a)


def minimum(a: Any, b: Any) -> Any:
    return min(a, b)


def maximum(a: Any, b: Any) -> Any:
    return max(a, b)


def less(a: Any, b: Any) -> Any:
    return a < b


def less_equal(a: Any, b: Any) -> Any:
    return a <= b


def greater(a: Any, b: Any) -> Any:
    return a > b


def greater_equal(a: Any, b: Any) -> Any:
    return a >= b


def equal(a: Any, b: Any) -> Any:
    return a == b


def not_equal(a: Any, b: Any) -> Any:
    return a != b


def branch_on_less(a: Any, b: Any) -> Any:
    if a < b:
        return 1
    return 0


def branch_on_not_greater_equal(a: Any, b: Any) -> Any:
    # With nan, 'not a >= b' is not 'a < b'.
    if not a >= b:
        return 1
    return 0


def chained(a: Any, b: Any, c: Any) -> Any:
    return a < b <= c


def chained_equality(a: Any, b: Any, c: Any) -> Any:
    return a == b != c


def chained_branch(a: Any, b: Any, c: Any) -> Any:
    if a <= b < c:
        return b
    return c


def logical_and(a: Any, b: Any) -> Any:
    return a and b


def logical_or(a: Any, b: Any) -> Any:
    return a or b


def logical_mix(a: Any, b: Any, c: Any) -> Any:
    return (a or not b) and c


def branch_on_logic(a: Any, b: Any, c: Any) -> Any:
    if (a and not b) or c > 2:
        return 1
    return 2


def sign(a: Any) -> Any:
    if a > 0:
        return 1
    elif a < 0:
        return -1
    elif a == 0:
        return 0
    else:
        return 99


def classify(a: Any, b: Any) -> Any:
    if a > b:
        x = a - b
    elif a == b:
        x = 0
    else:
        x = b - a
    if a:
        x = x + 1
    return x


def conditional_expression(a: Any, b: Any) -> Any:
    return a if a > b else b


def nested_conditional(a: Any, b: Any) -> Any:
    return (a * 2 if a else b - 1) if b else -a


def halvings(x: Any) -> Any:
    count = 0
    while x >= 1 and count < 1100:
        x = x / 2
        count += 1
    return count


def collatz_steps(n: Any) -> Any:
    steps = 0
    while n != 1 and steps < 200:
        if n % 2 == 0:  # noqa: SIM108 - the statement form is under test
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def digits(n: Any) -> Any:
    count = 0
    n = abs(n)
    while count < 400:
        count += 1
        n //= 10
        if n == 0:
            break
    return count


def range_one(n: Any) -> Any:
    total = 0
    for i in range(n):
        total += i * i
    return total


def range_two(start: Any, count: Any) -> Any:
    total = 0
    for i in range(start, start + count):
        total += i
    return total


def range_three(start: Any, count: Any, step: Any) -> Any:
    total = 0
    iterations = 0
    for i in range(start, start + count, step):
        total += i
        iterations += 1
    return total - iterations


def range_negative(n: Any) -> Any:
    total = 0
    for i in range(n, -n, -3):
        total = total * 3 + i
    return total


def loop_variable_reassigned(n: Any) -> Any:
    # Rebinding the loop variable or the bound inside the body changes neither the iterations nor their values.
    total = 0
    for i in range(n):
        total += i
        i = i * 100  # noqa: PLW2901 - the rebinding is under test
        n = n - 1
        total += i + n
    return total


def break_and_continue(n: Any, m: Any) -> Any:
    count = 0
    for i in range(n):
        if i == m:
            break
        for j in range(i):
            if (i + j) % 3 == 0:
                continue
            count += i * j
    return count


def for_else(n: Any, k: Any) -> Any:
    for i in range(n):
        if i * i >= k:
            break
    else:
        return -1
    return i


def while_else(n: Any, k: Any) -> Any:
    i = 0
    while i < n:
        if i == k:
            break
        i += 1
    else:
        i = -i
    return i


def augmented(a: Any, b: Any) -> Any:
    x = a
    x += b
    x *= 3
    x -= a
    x %= 1000003
    x //= 2
    return x


def augmented_division(a: Any, b: Any) -> Any:
    x = a
    x /= b
    x **= 2
    x += 1
    return x


def swap(a: Any, b: Any) -> Any:
    a, b = b, a
    return a - 2 * b


def fibonacci(n: Any) -> Any:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def rotate(a: Any, b: Any, c: Any) -> Any:
    for _ in range(5):
        a, b, c = b, c, a + b
    return a * 100 + b * 10 + c


def module_constants(x: Any) -> Any:
    return x * SCALE + OFFSET if ENABLED else x


def calls_module_constants(x: Any) -> Any:
    return module_constants(x) + 1


def huge_constant(x: Any) -> Any:
    return x + HUGE


def square_root(x: Any) -> Any:
    return math.sqrt(x)


def floor_ceil_trunc(x: Any) -> Any:
    return math.floor(x) - math.ceil(x) + math.trunc(x)


def exponential(x: Any) -> Any:
    return math.exp(x)


def logarithm(x: Any) -> Any:
    return math.log(x)


def logarithm_base(x: Any, base: Any) -> Any:
    return math.log(x, base)


def trigonometry(x: Any) -> Any:
    return math.sin(x) * math.cos(x) + math.atan(x)


def two_argument_math(a: Any, b: Any) -> Any:
    return math.atan2(a, b) + math.hypot(a, b) + math.copysign(1.0, b)


def float_modulo(a: Any, b: Any) -> Any:
    return math.fmod(a, b)


def math_power(a: Any, b: Any) -> Any:
    return math.pow(a, b)


def predicates(x: Any) -> Any:
    return math.isnan(x) or (math.isinf(x) and not math.isfinite(x))


def greatest_common_divisor(a: Any, b: Any) -> Any:
    return math.gcd(a, b)


def integer_square_root(n: Any) -> Any:
    return math.isqrt(n)


def math_constants(x: Any) -> Any:
    return x * math.pi + math.e - math.tau


def bool_constants(a: Any) -> Any:
    return (a + True) * (a < False) - a / True + (a // True) - (a % True)


def square(x: Any) -> Any:
    return x * x


def sum_of_squares(a: Any, b: Any) -> Any:
    return square(a) + square(b)


def zero_arguments() -> Any:
    return 5


def calls_zero_arguments(x: Any) -> Any:
    return zero_arguments() * x


def calls_with_too_many_arguments(x: Any) -> Any:
    return square(x, x)  # type: ignore[call-arg]


def calls_with_too_few_arguments(x: Any) -> Any:
    return sum_of_squares(x)  # type: ignore[call-arg]


def calls_with_no_arguments(x: Any) -> Any:
    return square() + x  # type: ignore[call-arg]


def factorial(n: Any) -> Any:
    if n <= 1:
        return 1
    return n * factorial(n - 1)


def fibonacci_recursive(n: Any) -> Any:
    if n < 2:
        return n
    return fibonacci_recursive(n - 1) + fibonacci_recursive(n - 2)


def gcd_recursive(a: Any, b: Any) -> Any:
    return a if b == 0 else gcd_recursive(b, a % b)


def count_up(n: Any) -> Any:
    if n == 0:
        return 0
    return count_up(n + 1) + 1


def no_base_case(n: Any) -> Any:
    return no_base_case(n - 1.0) + 1.0


def is_even(n: Any) -> Any:
    return True if n == 0 else is_odd(n - 1)


def is_odd(n: Any) -> Any:
    return False if n == 0 else is_even(n - 1)


# --- the table: each construct with the arguments it is tried on ----------------------------------------------------


@dataclass(frozen=True)
class Case:
    func: types.FunctionType
    arguments: tuple[st.SearchStrategy[Any], ...]

    def __str__(self) -> str:
        return self.func.__name__


def cases(arguments: tuple[st.SearchStrategy[Any], ...], *funcs: Callable[..., Any]) -> list[Case]:
    return [Case(func, arguments) for func in funcs]  # type: ignore[arg-type]


ARITHMETIC = [add, sub, mul, truediv, floordiv, mod, polynomial, augmented, augmented_division, swap]
COMPARISONS = [less, less_equal, greater, greater_equal, equal, not_equal, branch_on_less,
               branch_on_not_greater_equal]
PAIRS = [*ARITHMETIC, *COMPARISONS, minimum, maximum, logical_and, logical_or, classify, conditional_expression,
         nested_conditional]
UNARY = [negate, negate_twice, logical_not, absolute, to_int, to_float, sign, module_constants, huge_constant,
         square_root, floor_ceil_trunc, exponential, logarithm, trigonometry, predicates, math_constants, square,
         halvings, digits, collatz_steps, bool_constants, calls_zero_arguments]

CASES: list[Case] = [
    *cases((numbers, numbers), *PAIRS, two_argument_math, float_modulo, math_power, logarithm_base, sum_of_squares),
    *cases((numbers,), *UNARY),
    *cases((numbers, exponents), power),
    *cases((numbers, numbers, numbers), chained, chained_equality, chained_branch, logical_mix, branch_on_logic),
    *cases((st.one_of(ints, bools), st.one_of(ints, bools)), greatest_common_divisor, gcd_recursive),
    *cases((st.one_of(ints, bools, floats),), integer_square_root),
    *cases((loop_counts,), range_one, range_negative, fibonacci, loop_variable_reassigned),
    *cases((range_starts, st.integers(-20, 60)), range_two),
    *cases((range_starts, st.integers(-30, 60), steps), range_three),
    *cases((st.integers(-3, 40), st.integers(-2, 45)), break_and_continue, for_else, while_else),
    *cases((numbers, numbers, numbers), rotate),
    *cases((st.one_of(st.integers(-3, 30), bools, st.floats(-3, 30)),), factorial),
    *cases((st.one_of(st.integers(0, 60), bools),), is_even),
    *cases((st.one_of(st.integers(-3, 18), bools, st.floats(-3, 16)),), fibonacci_recursive),
]


@pytest.mark.parametrize("case", CASES, ids=str)
@SETTINGS
@given(data=st.data())
def test_compiled_gives_the_interpreters_outcome(case: Case, data: st.DataObject) -> None:
    args = data.draw(st.tuples(*case.arguments), label="args")
    assert_same(case.func, *args)


@pytest.mark.parametrize("func", [*ARITHMETIC, *COMPARISONS, minimum, maximum, logical_and, logical_or,
                                  two_argument_math, float_modulo], ids=lambda f: f.__name__)
def test_every_pair_of_edge_values(func: types.FunctionType) -> None:
    for a, b in itertools.product(EDGES, repeat=2):
        assert_same(func, a, b)


@pytest.mark.parametrize("func", [power, math_power], ids=lambda f: f.__name__)
def test_power_of_edge_values(func: types.FunctionType) -> None:
    for a, b in itertools.product(EDGES, [0, 1, 2, 3, 63, 64, -1, -2, 0.5, -0.5, 2.0, math.inf, math.nan, True]):
        assert_same(func, a, b)


@pytest.mark.parametrize("func", UNARY, ids=lambda f: f.__name__)
def test_unary_edge_values(func: types.FunctionType) -> None:
    for value in EDGES:
        assert_same(func, value)


EXACT_PAIRS = [
    (2**53 + 1, float(2**53)), (2**53, float(2**53)), (2**53 - 1, float(2**53)), (-(2**53) - 1, -float(2**53)),
    (2**63 - 1, 2.0**63), (-(2**63), -(2.0**63)), (2**63, 2.0**63), (2**64 + 1, 2.0**64), (1, math.nan),
    (0, -0.0), (10**400, math.inf), (-(10**400), -math.inf), (True, 1.0), (False, -0.0),
]


@pytest.mark.parametrize("func", COMPARISONS, ids=lambda f: f.__name__)
def test_int_float_comparisons_are_exact(func: types.FunctionType) -> None:
    for a, b in EXACT_PAIRS:
        assert_same(func, a, b)
        assert_same(func, b, a)


def test_zero_divisors_raise_the_interpreters_messages() -> None:
    for func in (truediv, floordiv, mod, augmented_division, float_modulo):
        for a, b in itertools.product([0, 5, -5, 2**70, 1.5, -0.0, math.nan, True], [0, 0.0, -0.0, False]):
            assert_same(func, a, b)


def test_range_with_zero_step_and_float_arguments() -> None:
    for start, count, step in [(0, 10, 0), (0, 10, False), (5, -10, 0), (0.0, 10, 1), (0, 10, 1.0), (1.5, 3, 1)]:
        assert_same(range_three, start, count, step)
    for value in (0.0, 3.0, 2.5, -1.5):
        assert_same(range_one, value)


def test_range_near_the_int64_edges() -> None:
    for start, count, step in itertools.product([2**63 - 5, -(2**63), -(2**63) + 3, 2**63 - 1, 2**63],
                                                [-6, -1, 0, 1, 4, 6], [1, 2, 3, 7, -1, -2, -7]):
        assert_same(range_three, start, count, step)


def test_module_constant_rebinding_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    fast: Any = jit.compile(module_constants)
    assert fast(2) == module_constants(2)
    for scale, offset, enabled in [(5, 0.25, True), (2**70, 0.5, True), (3, 1, True), (3, 0.5, False)]:
        monkeypatch.setitem(module_constants.__globals__, "SCALE", scale)
        monkeypatch.setitem(module_constants.__globals__, "OFFSET", offset)
        monkeypatch.setitem(module_constants.__globals__, "ENABLED", enabled)
        for x in (2, 2.5, True, 2**62):
            assert outcome(fast, (x,)) == outcome(module_constants, (x,))
        # The guards saw the rebinding and the code was compiled again for the new values.
        assert fast.__jit_dispatcher__.fallbacks == {}
        assert len(fast.__jit_dispatcher__.specializations) == 3


def test_rebinding_a_global_of_a_compiled_callee_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    # The caller calls the callee's machine code directly: the callee's guards must still hold for that code.
    fast: Any = jit.compile(calls_module_constants)
    for x in (2, 2.5):
        assert outcome(fast, (x,)) == outcome(calls_module_constants, (x,))
    for scale, offset in [(10, 0.5), (2.5, 1), (10**30, 0.0)]:
        monkeypatch.setitem(module_constants.__globals__, "SCALE", scale)
        monkeypatch.setitem(module_constants.__globals__, "OFFSET", offset)
        for x in (2, 2.5):
            assert outcome(fast, (x,)) == outcome(calls_module_constants, (x,)), (scale, offset, x)


def test_recursion_and_calls_are_compiled_not_interpreted() -> None:
    calls: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
        (factorial, (20,)), (factorial, (25,)), (fibonacci_recursive, (15,)), (sum_of_squares, (3, 4)),
        (sum_of_squares, (2.5, 1)), (gcd_recursive, (2**62, 6)), (is_even, (30,)),
    ]
    for func, args in calls:
        assert_same(func, *args)
    for func in (factorial, square):
        fast: Any = jit.compile(func)
        assert fast.__jit_dispatcher__.fallbacks == {}
    # The specialized tier calls compiled code directly, not through the Python calling machinery.
    compiled_factorial: Any = jit.compile(factorial)  # held: a compiled function that nobody holds is freed
    assert compiled_factorial(20) == factorial(20)
    text = jit.explain(compiled_factorial, file=io.StringIO())
    assert any(line.split()[:2] == ["specialized", "CALL_JIT"] for line in text.splitlines())


def test_calls_with_the_wrong_number_of_arguments_raise_the_interpreters_type_error() -> None:
    for func in (calls_with_too_many_arguments, calls_with_too_few_arguments, calls_with_no_arguments):
        for value in (3, 2.5):
            fast = assert_same(func, value, compiled=False)
            # Compiled (the TypeError raised by the call at run time) or refused with a reason; never a crash.
            reasons = " ".join(fast.__jit_dispatcher__.fallbacks.values())
            assert "internal compiler error" not in reasons, reasons


def test_recursion_without_a_base_case_raises_recursion_error() -> None:
    # The compiled frames and the C stack must not overflow first: the interpreter's RecursionError comes out.
    # Each frame's traceback entry allocates on the way out, which may start a collection at the recursion limit;
    # garbage of earlier tests collected there would run Python finalizers that cannot run so deep (they fail
    # as unraisable RecursionErrors, as they would in the interpreter): collected beforehand.
    gc.collect()
    assert_same(count_up, -5)
    assert_same(count_up, 5)
    assert_same(no_base_case, 5.0)
    assert_same(is_even, -1)  # mutual recursion, through Python calls
    assert_same(factorial, math.nan)
    assert jit.stats()["frame_slots_in_use"] == 0
