"""Numba, when it is installed (optional: never a dependency), compiling the same kernels.

Numba compiles the callees a kernel calls only when they are Numba functions
too, so the kernel and every function of its module are copied through
``numba.njit`` (bench.measure.fresh_copy).  Compile time is ``compile()`` for
the argument types, after Numba's own start-up (about a third of a second per
process, paid once) has been spent on a warm-up function.  Numba's ints are
int64 that wrap silently where Python's grow: the suite's result check shows
where that matters.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.measure import fresh_copy


@dataclass
class CompiledNumba:
    function: Callable[..., object]
    compile_seconds: float


def _warm_up_function(x: int) -> int:
    return x + 1


@functools.cache
def _numba() -> Any:
    import numba  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415 - optional

    # Numba's first compile in a process pays for its own start-up: keep that out of the kernels' figures.
    numba.njit(_warm_up_function)(1)
    return numba


def available() -> str | None:
    """None when Numba can be used, else how to get it."""
    try:
        _numba()
    except ImportError:
        return "Numba is not installed (optional: pip install numba)"
    return None


def compile_kernel(func: Callable[..., object], args: Sequence[object]) -> CompiledNumba:
    """Numba's machine code for ``func`` and its callees, for the types of ``args``."""
    numba = _numba()
    jitted: Any = fresh_copy(func, numba.njit)
    signature = tuple(numba.typeof(value) for value in args)
    started = time.perf_counter()
    jitted.compile(signature)
    return CompiledNumba(jitted, time.perf_counter() - started)
