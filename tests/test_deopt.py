"""Deoptimization: every kind of guard of the specialized tier fails over to the generic tier correctly.

For each guard, a compiled function runs first with arguments that keep it in the specialized tier (no
deoptimization may be counted), then with arguments that make the guard fail: the answer (or exception) must be the
interpreter's and ``jit.stats()["deoptimizations"]`` must grow; afterwards the specialization still serves the
first arguments without deoptimizing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from test_differential import add, assert_same, floordiv, mul, outcome, sub

import jit

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def deoptimizations() -> int:
    return int(jit.stats()["deoptimizations"])


# --- functions, one or more guards each ------------------------------------------------------------------------


def mod(a: Any, b: Any) -> Any:
    return a % b


def truediv(a: Any, b: Any) -> Any:
    return a / b


def negate(a: Any) -> Any:
    return -a


def absolute(a: Any) -> Any:
    return abs(a)


def to_int(x: Any) -> Any:
    return int(x)


def floor(x: Any) -> Any:
    return math.floor(x)


def less(a: Any, x: Any) -> Any:
    return a < x


def branch_on_equal(a: Any, x: Any) -> Any:
    if a == x:
        return 1
    return 2


def square_root(x: Any) -> Any:
    return math.sqrt(x)


def float_power(x: Any, y: Any) -> Any:
    return x**y


def range_sum(n: Any, step: Any) -> Any:
    total = 0
    for i in range(0, n, step):
        total += i
    return total


def factorial(n: Any) -> Any:
    if n <= 1:
        return 1
    return n * factorial(n - 1)


def square(x: Any) -> Any:
    return x * x


def square_plus_one(x: Any) -> Any:
    return square(x) + 1


def sum_of_callee_squares(n: Any) -> Any:
    # The callee overflows from some iteration on: the caller's loop continues with its boxed result.
    total = 0
    for i in range(n):
        total += square(i * 1000003)
    return total


def fibonacci(n: Any) -> Any:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def sum_of_squares(n: Any) -> Any:
    total = 0
    for i in range(n):
        total += i * i
    return total


def live_values(n: Any, x: Any) -> Any:
    # The overflow happens mid-loop: the int, float and bool locals all cross into the generic tier.
    flag = x > 0
    half = x * 0.5
    total = 0
    count = 0
    for _ in range(n):
        total += 2305843009213693952  # 2**61: four of them overflow int64
        count += 1
        flag = not flag
    if flag:
        return total + count
    return half


def nested_loops(n: Any, scale: Any) -> Any:
    total = 0
    for i in range(n):
        for j in range(i, n):
            if (i + j) % 3 == 0:
                continue
            if j > i + 20:
                break
            total += i * j * scale
    return total


# --- the table -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Guard:
    name: str
    func: Callable[..., Any]
    fast: tuple[object, ...]  # stays in the specialized tier
    failing: tuple[object, ...]  # the guard fails: same signature, deoptimizes

    def __str__(self) -> str:
        return self.name


GUARDS = [
    Guard("add-overflow", add, (1, 2), (INT64_MAX, 1)),
    Guard("add-underflow", add, (-5, 2), (INT64_MIN, -1)),
    Guard("sub-overflow", sub, (1, 2), (INT64_MIN, 1)),
    Guard("mul-overflow", mul, (3, -4), (3037000500, 3037000500)),
    Guard("mul-min-by-minus-one", mul, (3, -4), (INT64_MIN, -1)),
    Guard("floordiv-by-zero", floordiv, (7, -2), (7, 0)),
    Guard("floordiv-min-by-minus-one", floordiv, (7, -2), (INT64_MIN, -1)),
    Guard("mod-by-zero", mod, (-7, 3), (5, 0)),
    Guard("mod-min-by-minus-one", mod, (-7, 3), (INT64_MIN, -1)),
    Guard("truediv-int-beyond-2**53", truediv, (7, 2), (2**53 + 1, 3)),
    Guard("truediv-int-divisor-beyond-2**53", truediv, (7, 2), (1, -(2**60) - 1)),
    Guard("truediv-int-by-zero", truediv, (7, 2), (1, 0)),
    Guard("truediv-float-by-zero", truediv, (7.0, 2.0), (1.0, 0.0)),
    Guard("truediv-float-by-minus-zero", truediv, (7.0, 2.0), (0.0, -0.0)),
    Guard("negate-int64-min", negate, (5,), (INT64_MIN,)),
    Guard("abs-int64-min", absolute, (-5,), (INT64_MIN,)),
    Guard("int-of-nan", to_int, (2.5,), (math.nan,)),
    Guard("int-of-inf", to_int, (2.5,), (-math.inf,)),
    Guard("int-of-huge-float", to_int, (-2.5,), (1e300,)),
    Guard("int-of-2**63", to_int, (-2.5,), (2.0**63,)),
    Guard("floor-of-huge-float", floor, (2.5,), (-1e300,)),
    Guard("int-less-than-float-beyond-2**53", less, (3, 2.5), (2**53 + 1, float(2**53))),
    Guard("int64-max-less-than-2.0**63", less, (3, 2.5), (INT64_MAX, 2.0**63)),
    Guard("int-equal-float-beyond-2**53", branch_on_equal, (3, 3.0), (2**53 + 1, float(2**53))),
    Guard("sqrt-of-negative", square_root, (2.0,), (-1.0,)),
    Guard("float-power-complex", float_power, (2.0, 0.5), (-8.0, 1 / 3)),
    Guard("range-zero-step", range_sum, (10, 3), (10, 0)),
    Guard("recursive-result-overflows", factorial, (20,), (25,)),
    Guard("callee-deoptimized", square_plus_one, (3,), (2**32,)),
    Guard("callee-deoptimized-in-a-loop", sum_of_callee_squares, (10,), (3100,)),
    Guard("fibonacci-200", fibonacci, (90,), (200,)),
    Guard("loop-live-values-true", live_values, (2, 3.0), (10, 3.0)),
    Guard("loop-live-values-false", live_values, (2, 3.0), (11, 3.0)),
    Guard("nested-loop-overflow", nested_loops, (10, 3), (30, 2**50)),
]


@pytest.mark.parametrize("guard", GUARDS, ids=str)
def test_failed_guard_deoptimizes_to_the_interpreters_answer(guard: Guard) -> None:
    assert_same(guard.func, *guard.fast)  # compiles
    before = deoptimizations()
    assert_same(guard.func, *guard.fast)
    assert deoptimizations() == before, "the specialized tier deoptimized on arguments it handles"
    assert_same(guard.func, *guard.failing)
    assert deoptimizations() > before, "the guard did not leave the specialized tier"
    after = deoptimizations()
    assert_same(guard.func, *guard.fast)
    assert deoptimizations() == after, "a deoptimization broke the specialized tier"
    assert jit.stats()["frame_slots_in_use"] == 0


def test_errors_raised_by_boxed_calls_need_no_deoptimization() -> None:
    # math.floor(nan) raises inside the call the specialized tier makes: the exception is the interpreter's.
    assert_same(floor, 2.5)
    before = deoptimizations()
    for value in (math.nan, math.inf, -math.inf):
        assert_same(floor, value)
    assert deoptimizations() == before


def test_exact_big_results_after_deoptimization() -> None:
    fast: Any = jit.compile(fibonacci)
    assert fast(200) == 280571172992510140037611932413038677189525
    assert jit.compile(factorial)(25) == 15511210043330985984000000
    before = deoptimizations()
    assert fast(200) == fibonacci(200)
    assert deoptimizations() == before + 1  # one exit per call: the rest runs in the generic tier


def test_sum_of_squares_below_ten_million() -> None:
    fast: Any = jit.compile(sum_of_squares)
    assert fast(1000) == sum_of_squares(1000)
    before = deoptimizations()
    started = time.perf_counter()
    assert fast(10**7) == 333333283333335000000
    elapsed = time.perf_counter() - started
    assert deoptimizations() == before + 1
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_every_deopt_site_of_one_function() -> None:
    # One function, several guards: each argument tuple fails a different one (or none).
    def many_guards(a: Any, b: Any) -> Any:
        x = a * b  # mul overflow
        y = x // b  # zero divisor, INT64_MIN // -1
        z = -y  # negation of INT64_MIN
        return z - a  # sub overflow

    fast = jit.compile(many_guards)
    sites = [((3, 4), False), ((2**62, 4), True), ((0, 0), True), ((INT64_MIN, -1), True), ((INT64_MIN, 1), True),
             ((-(2**62), 1), True), ((2**62, 1), False), ((-5, 3), False)]
    for args, deoptimizes in sites:
        before = deoptimizations()
        assert outcome(fast, args) == outcome(many_guards, args), args
        assert (deoptimizations() > before) == deoptimizes, args
