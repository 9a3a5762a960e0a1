"""``pytest bench/ --benchmark-only``: pyperformance's benchmarks (bench.pyperformance_suite) under pytest-benchmark.

Each benchmark is one group: its workload in the interpreter and with every function and method of the
benchmark's module compiled.  Before timing, the first workload of each mode, on fresh modules, is checked
against the other (later workloads start from the state the earlier ones left: nbody's bodies move on).
``--quick-kernels`` takes the small sizes of ``python -m bench --quick``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import pyperformance_suite as suite
from bench.suite import CPJIT, INTERPRETER

VARIANTS = (INTERPRETER, CPJIT)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("entry", suite.BENCHMARKS, ids=[b.name for b in suite.BENCHMARKS])
def test_pyperformance(benchmark: Any, request: pytest.FixtureRequest, entry: suite.Benchmark, variant: str) -> None:
    size = entry.quick_size if request.config.getoption("--quick-kernels") else entry.size
    interpreted, compiled, result = suite.check(entry, size, suite.load_modes(entry))
    assert result.status == suite.EQUAL, result.difference
    benchmark.group = f"pyperformance {entry.name}"
    benchmark.extra_info["size"] = f"{size} ({entry.measures})"
    benchmark(interpreted if variant == INTERPRETER else compiled)
