"""bench.llvm_baseline: cpjit's IR of a specialization, translated to LLVM IR and compiled by MCJIT."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

import jit
from bench import llvm_baseline
from bench.kernels import fib_iter_repeat, fib_rec, sieve, sum_squares_mod
from jit.ir import Type


def compiled_by_llvm(func: Callable[..., object], args: tuple[object, ...], level: int) -> object:
    # cpjit specializes at the first call; the baseline reads that specialization.  Held meanwhile: a compiled
    # function nobody holds goes, with its specializations, at the next garbage collection (which 3.14's
    # incremental collector may run right then).
    fast = jit.compile(func)
    fast(*args)
    module = llvm_baseline.translate(func, args)
    del fast
    return llvm_baseline.compile_module(module, level)(*args)


def floor_division_and_remainder(a: int, b: int) -> int:
    return (a // b) * 1000 + a % b


def mixed_float(x: float, n: int) -> float:
    total = 0.0
    for i in range(n, 0, -2):
        total += math.sqrt(x * i) / n - abs(-x) + min(x, 2.5) * max(i, 3) - float(i) ** 0.5
        if not total > -1e300:
            total = -total
    return total + int(x * 3.7)


def steps_down(start: int, stop: int, step: int) -> int:
    count = 0
    for i in range(start, stop, step):
        count = count * 3 + i
    return count


def is_small(x: float) -> bool:
    return x < 0.5 and x != -1.0


@pytest.mark.parametrize("level", llvm_baseline.OPT_LEVELS)
@pytest.mark.parametrize(("func", "args"), [
    (sum_squares_mod, (1000, 97)),
    (fib_rec, (15,)),
    (fib_iter_repeat, (20, 90)),  # a call of another compiled function
    (mixed_float, (1.25, 9)),
    (steps_down, (10, -7, -3)),
    (steps_down, (-5, 20, 4)),
    (steps_down, (3, 3, 1)),  # no iteration
    (is_small, (0.25,)),
    (is_small, (-1.0,)),
], ids=lambda value: getattr(value, "__name__", None))
def test_llvm_code_gives_the_interpreters_result(func: Callable[..., object], args: tuple[object, ...],
                                                  level: int) -> None:
    result = compiled_by_llvm(func, args, level)
    expected = func(*args)
    assert type(result) is type(expected)
    assert result == expected


@pytest.mark.parametrize(("a", "b"), [(17, 5), (-17, 5), (17, -5), (-17, -5), (15, 5), (-15, 5), (0, -3)])
def test_int_floor_division_and_remainder_follow_python(a: int, b: int) -> None:
    assert compiled_by_llvm(floor_division_and_remainder, (a, b), 0) == floor_division_and_remainder(a, b)


def test_module_is_alloca_per_variable_ir_with_one_function_per_specialization() -> None:
    jit.compile(fib_iter_repeat)(3, 10)
    module = llvm_baseline.translate(fib_iter_repeat, (3, 10))
    assert module.signature == (Type.INT, Type.INT) and module.return_type is Type.INT
    assert module.text.count("define i64 @") == 2  # fib_iter_repeat and fib_iter
    assert "alloca i64" in module.text
    assert module.entry.startswith("fib_iter_repeat(int,int)")


def test_compile_time_is_measured_per_level() -> None:
    jit.compile(sum_squares_mod)(10, 7)
    module = llvm_baseline.translate(sum_squares_mod, (10, 7))
    builds = [llvm_baseline.compile_module(module, level) for level in llvm_baseline.OPT_LEVELS]
    assert [b.opt_level for b in builds] == [0, 2]
    assert all(0 < b.compile_seconds < 5 for b in builds)


def float_remainder(x: float, y: float) -> float:
    return x % y


def test_what_is_not_translated_says_why() -> None:
    jit.compile(sieve)(10)
    with pytest.raises(llvm_baseline.BaselineUnsupported, match=r"sieve: BUILD_LIST is not translated"):
        llvm_baseline.translate(sieve, (10,))
    jit.compile(float_remainder)(5.5, 2.0)
    with pytest.raises(llvm_baseline.BaselineUnsupported, match="float % is not translated"):
        llvm_baseline.translate(float_remainder, (5.5, 2.0))
    with pytest.raises(llvm_baseline.BaselineUnsupported, match="argument of type str"):
        llvm_baseline.translate(float_remainder, ("a", 2.0))


def test_float_literals_are_exact() -> None:
    assert llvm_baseline.float_literal(1.0) == "0x3FF0000000000000"
    assert llvm_baseline.float_literal(0.1) == "0x3FB999999999999A"
