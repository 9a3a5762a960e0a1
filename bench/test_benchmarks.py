"""``pytest bench/ --benchmark-only``: the kernel suite under pytest-benchmark.

Each kernel is one group, so the interpreter and cpjit sit side by side in
pytest-benchmark's report; every timed call's result is checked against the
interpreter's.  ``--quick-kernels`` takes the small inputs of ``python -m bench --quick``.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import jit
from bench.kernels import KERNELS, Kernel
from bench.suite import CPJIT, INTERPRETER, same_result

VARIANTS = (INTERPRETER, CPJIT)


@functools.cache
def interpreter_result(kernel: Kernel, quick: bool) -> object:
    return kernel.function(*(kernel.quick_args if quick else kernel.args))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
def test_kernel(benchmark: Any, request: pytest.FixtureRequest, kernel: Kernel, variant: str) -> None:
    quick = bool(request.config.getoption("--quick-kernels"))
    args = kernel.quick_args if quick else kernel.args
    function = kernel.function if variant == INTERPRETER else jit.compile(kernel.function)
    expected = interpreter_result(kernel, quick)
    function(*args)  # cpjit compiles at the first call: keep that out of the timings
    benchmark.group = kernel.name
    benchmark.extra_info["description"] = kernel.description
    result = benchmark(function, *args)
    assert same_result(expected, result)
