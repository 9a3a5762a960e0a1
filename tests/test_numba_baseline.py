"""bench.numba_baseline, with Numba absent (as in CI) and with a stand-in that records what it is given."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from bench import numba_baseline
from bench.kernels import fib_iter, fib_iter_repeat


@pytest.fixture
def fresh_state() -> Iterator[None]:
    numba_baseline._numba.cache_clear()
    yield
    numba_baseline._numba.cache_clear()


class Jitted:
    """What numba.njit returns: compiled on compile(signature) or at the first call."""

    def __init__(self, func: types.FunctionType, log: list[object]) -> None:
        self.func = func
        self.log = log
        log.append(("njit", func.__name__))

    def compile(self, signature: tuple[object, ...]) -> None:
        self.log.append(("compile", self.func.__name__, signature))

    def __call__(self, *args: object) -> object:
        return self.func(*args)


def stand_in(log: list[object]) -> types.ModuleType:
    module = types.ModuleType("numba")

    def njit(func: types.FunctionType) -> Jitted:
        return Jitted(func, log)

    def typeof(value: object) -> str:
        return f"typeof {type(value).__name__}"

    module.njit = njit  # type: ignore[attr-defined]
    module.typeof = typeof  # type: ignore[attr-defined]
    return module


def test_without_numba_it_says_how_to_get_it(fresh_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)
    message = numba_baseline.available()
    assert message is not None and "pip install numba" in message


def test_kernel_and_callees_go_through_njit_and_compile_for_the_argument_types(
        fresh_state: None, monkeypatch: pytest.MonkeyPatch) -> None:
    log: list[Any] = []
    monkeypatch.setitem(sys.modules, "numba", stand_in(log))
    assert numba_baseline.available() is None
    assert log == [("njit", "_warm_up_function")]  # Numba's start-up is paid before any kernel
    compiled = numba_baseline.compile_kernel(fib_iter_repeat, (10, 90))
    assert ("njit", "fib_iter") in log and ("njit", "fib_iter_repeat") in log
    assert log[-1] == ("compile", "fib_iter_repeat", ("typeof int", "typeof int"))
    assert compiled.compile_seconds >= 0
    function: Any = compiled.function
    assert isinstance(function, Jitted) and isinstance(function.func.__globals__["fib_iter"], Jitted)
    assert function.func.__globals__["fib_iter"].func is not fib_iter
    assert compiled.function(10, 90) == fib_iter_repeat(10, 90)
