"""bench.suite: one kernel's variants checked against the interpreter, compiled and timed."""

from __future__ import annotations

import math
import os

import pytest

from bench import suite
from bench.kernels import Kernel, sum_squares_mod

FAST = suite.Settings(quick=True, rounds=2, min_sample=0.001, compiles=1, baselines=True)


def square_often(n: int) -> int:
    x = 3
    for _ in range(n):
        x = x * x  # beyond int64 after 6 rounds: cpjit continues in big ints, LLVM's i64 wraps
    return x


@pytest.mark.parametrize(("expected", "got", "same"), [
    (1, 1, True), (1, 1.0, False), (True, 1, False), (0.5, 0.5, True), (math.nan, math.nan, True),
    (math.nan, 1.0, False), (2**70, 2**70, True),
])
def test_same_result_needs_the_same_type_and_value(expected: object, got: object, same: bool) -> None:
    assert suite.same_result(expected, got) is same


def test_a_compiled_kernel_is_timed_in_every_variant_with_its_compile_times() -> None:
    steps: list[str] = []
    kernel = Kernel("ssm", sum_squares_mod, (10**5, 97), (2000, 97), "test")
    result = suite.run_kernel(kernel, FAST, steps.append)
    assert result.status == suite.COMPILED and result.reason == ""
    assert result.args == (2000, 97) and result.result == sum_squares_mod(2000, 97)
    assert {suite.INTERPRETER, suite.CPJIT, suite.LLVM_O0, suite.LLVM_O2} <= set(result.timings)
    assert all(len(s.seconds) == FAST.rounds for s in result.timings.values())
    assert {suite.CPJIT, suite.LLVM_O0, suite.LLVM_O2} <= set(result.compile_seconds)
    assert result.code_bytes > 0 and result.stencils > 0
    speedup = result.speedup()
    assert speedup is not None and speedup > 0
    assert "timing interpreter, cpjit, LLVM -O0, LLVM -O2" in " ".join(steps)
    data = result.to_json()
    assert data["timings"]["cpjit"]["calls_per_sample"] >= 1 and data["speedup"]["cpjit"] == speedup


def sum_of_a_generator(n: int) -> int:
    import itertools  # noqa: PLC0415 - an import in a function: it runs in the interpreter

    return sum(itertools.islice(range(n), n))


def test_a_kernel_cpjit_refuses_runs_in_the_interpreter_with_the_reason_and_no_path() -> None:
    kernel = Kernel("generator", sum_of_a_generator, (1000,), (1000,), "test")
    result = suite.run_kernel(kernel, FAST, lambda step: None)
    assert result.status == suite.FALLBACK
    assert result.reason.startswith("test_bench_suite.py, line ") and "not supported" in result.reason
    assert os.sep not in result.reason.split(",")[0]
    assert suite.CPJIT in result.timings and suite.LLVM_O0 not in result.timings
    assert suite.CPJIT not in result.compile_seconds


def test_a_baseline_with_a_different_result_is_not_timed_and_says_what_it_returned() -> None:
    kernel = Kernel("square_often", square_often, (8,), (8,), "test")
    result = suite.run_kernel(kernel, FAST, lambda step: None)
    assert result.status == suite.COMPILED  # cpjit's answer is the interpreter's big int
    for variant in (suite.LLVM_O0, suite.LLVM_O2):
        assert variant not in result.timings
        assert result.notes[variant].endswith(f"the interpreter {3 ** 256!r}: not timed")


def test_baselines_can_be_left_out() -> None:
    kernel = Kernel("ssm", sum_squares_mod, (100, 7), (100, 7), "test")
    result = suite.run_kernel(kernel, suite.Settings(quick=True, rounds=1, min_sample=0.0, compiles=1,
                                                     baselines=False), lambda step: None)
    assert set(result.timings) == {suite.INTERPRETER, suite.CPJIT}
    assert set(result.compile_seconds) == {suite.CPJIT}


def test_geometric_mean() -> None:
    mean = suite.geometric_mean([2.0, 8.0])
    assert mean is not None and math.isclose(mean, 4.0)
    assert suite.geometric_mean([]) is None
