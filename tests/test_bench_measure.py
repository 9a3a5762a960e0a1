"""bench.measure: interleaved timing and fresh compiles."""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence

import pytest

from bench import measure
from bench.kernels import fib_iter, fib_iter_repeat, fib_rec


def test_samples_report_median_and_minimum() -> None:
    samples = measure.Samples(10, [3.0, 1.0, 2.0, 5.0])
    assert samples.median == 2.5
    assert samples.minimum == 1.0


def test_calibrate_counts_calls_in_steps_of_one_two_five(monkeypatch: pytest.MonkeyPatch) -> None:
    # A clock of its own (3 us a call), so that the steps tried are certain: a shared machine's real clock is not.
    tried: list[int] = []

    def time_calls(function: Callable[..., object], args: Sequence[object], number: int) -> float:
        tried.append(number)
        return number * 3e-6

    monkeypatch.setattr(measure, "time_calls", time_calls)
    assert measure.calibrate(lambda: None, (), 2e-4) == 100  # the first of 1, 2, 5, 10 ... lasting 200 us
    assert tried == [1, 2, 5, 10, 20, 50, 100]
    digits = str(measure.calibrate(lambda: None, (), 1e-2)).rstrip("0")
    assert digits in ("1", "2", "5")


def test_time_calls_makes_the_calls_it_counts() -> None:
    calls: list[int] = []
    assert measure.time_calls(lambda: calls.append(1), (), 7) >= 0.0
    assert len(calls) == 7


def test_rounds_rotate_the_order_of_the_variants() -> None:
    calls: list[str] = []

    def variant(name: str) -> Callable[[], None]:
        return lambda: calls.append(name)

    rounds = 3
    samples = measure.interleaved({n: variant(n) for n in "abc"}, (), rounds, min_sample=0.0)
    assert all(len(s.seconds) == rounds and s.number == 1 for s in samples.values())
    timed = calls[-3 * rounds:]  # after one calibration call each
    assert timed == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]


def test_fresh_copy_has_its_own_globals_with_every_function_copied_and_wrapped() -> None:
    wrapped: list[str] = []

    def wrap(func: types.FunctionType) -> types.FunctionType:
        wrapped.append(func.__name__)
        return func

    copy = measure.fresh_copy(fib_iter_repeat, wrap)
    assert isinstance(copy, types.FunctionType)
    assert copy is not fib_iter_repeat and copy.__code__ is fib_iter_repeat.__code__
    assert copy.__globals__ is not fib_iter_repeat.__globals__
    assert copy.__globals__["fib_iter"] is not fib_iter
    assert copy.__globals__["fib_iter_repeat"] is copy  # recursion and calls stay inside the copy
    assert {"fib_iter", "fib_iter_repeat", "sieve"} <= set(wrapped)
    assert copy(3, 10) == fib_iter_repeat(3, 10)


def test_fresh_copy_takes_only_plain_functions() -> None:
    with pytest.raises(TypeError, match="plain Python function"):
        measure.fresh_copy(len)  # type: ignore[arg-type]


def test_a_fresh_compile_counts_the_callees_code_and_leaves_the_original_alone() -> None:
    original = measure.dispatcher_of(fib_iter_repeat)
    before = dict(original.specializations)
    alone = measure.compile_fresh(fib_iter, (90,), times=2)
    calling = measure.compile_fresh(fib_iter_repeat, (10, 90), times=2)
    assert alone.fallback is None and calling.fallback is None
    assert len(calling.seconds) == 2 and calling.median > 0
    assert 0 < alone.code_bytes < calling.code_bytes
    assert 0 < alone.stencils < calling.stencils
    recursive = measure.compile_fresh(fib_rec, (10,), times=1)
    assert recursive.stencils > 0  # itself once, though it calls itself
    assert original.specializations == before


def sum_of_a_generator(n: int) -> int:
    import itertools  # noqa: PLC0415 - an import in a function: it runs in the interpreter

    return sum(itertools.islice(range(n), n))


def test_a_fresh_compile_of_a_kernel_cpjit_refuses_gives_the_reason() -> None:
    compilation = measure.compile_fresh(sum_of_a_generator, (100,), times=3)
    assert compilation.fallback is not None and "not supported" in compilation.fallback
    assert len(compilation.seconds) == 1 and compilation.code_bytes == 0
