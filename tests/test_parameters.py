"""Parameters of every kind (`*args`, `**kwargs`, keyword-only, positional-only, defaults): ENTRY binds a call to
them in machine code (stencils/entry.c), the slow path rebuilds the call from the bound slots; every call compared
with the interpreter's outcome, exceptions and their messages included."""

from __future__ import annotations

import sys
import types
from typing import Any

import parameter_cases as cases
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from refcounting import call_many

import jit

COMPILED = {function: jit.compile(function, strict=True) for function in cases.FUNCTIONS}
NAMES = ["a", "b", "c", "d", "e", "x", "y", "z", "first", "args", "kwargs"]
values = st.one_of(st.integers(-5, 5), st.floats(-2, 2), st.text(max_size=2), st.none())


def fresh(function: Any) -> Any:
    """A compiled copy of ``function`` with a dispatcher of its own (the hypothesis test fills the shared ones)."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__, function.__defaults__,
                              function.__closure__)
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    return jit.compile(copy, strict=True)


def outcome(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return ("ok", function(*args, **kwargs))
    except TypeError as error:
        return ("raise", str(error).replace(getattr(function, "__qualname__", ""), "<f>"))


@settings(derandomize=True, database=None, deadline=None, max_examples=300,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(cases.FUNCTIONS), st.lists(values, max_size=5).map(tuple),
       st.dictionaries(st.sampled_from(NAMES), values, max_size=4))
def test_every_call_binds_as_the_interpreter_binds_it(function: Any, args: tuple[Any, ...],
                                                      kwargs: dict[str, Any]) -> None:
    expected = outcome(function, args, kwargs)
    assert outcome(COMPILED[function], args, kwargs) == expected


@pytest.mark.parametrize("function", cases.FUNCTIONS, ids=lambda f: f.__name__)
def test_a_binding_call_runs_machine_code(function: Any) -> None:
    fast = fresh(function)
    calls = {cases.every_kind: ((1, 2, 3, 4), {"d": 1, "z": 2}), cases.star_args: ((1, 2, 3), {}),
             cases.star_kwargs: ((1,), {"k": 2}), cases.keyword_only: ((), {"x": 2}),
             cases.positional_only_and_kwargs: ((1,), {"a": 2}), cases.forwards: ((1,), {"d": 4})}
    args, kwargs = calls[function]
    for _ in range(3):
        assert fast(*args, **kwargs) == function(*args, **kwargs)
    assert fast.__jit_dispatcher__.specializations, "no machine code ran"
    assert fast.__jit_dispatcher__.fallbacks == {}


def test_keyword_defaults_are_read_at_each_call() -> None:
    fast = jit.compile(cases.keyword_only, strict=True)
    assert fast(x=2) == 20
    original = cases.keyword_only.__kwdefaults__
    try:
        cases.keyword_only.__kwdefaults__ = {"y": 3}
        assert fast(x=2) == 6 == cases.keyword_only(x=2)
        cases.keyword_only.__kwdefaults__ = None
        assert outcome(fast, (), {"x": 2}) == outcome(cases.keyword_only, (), {"x": 2})
    finally:
        cases.keyword_only.__kwdefaults__ = original


def test_methods_and_classes_with_star_parameters() -> None:
    plain = cases.uses_shapes(4)
    compiled_init, compiled_scaled = jit.compile(cases.Shape.__init__), jit.compile(cases.Shape.scaled)
    original = cases.Shape.__init__, cases.Shape.scaled
    try:
        cases.Shape.__init__, cases.Shape.scaled = compiled_init, compiled_scaled  # type: ignore[method-assign]
        fast = jit.compile(cases.uses_shapes, strict=True)
        assert fast(4) == plain
        assert compiled_init.__jit_dispatcher__.specializations
        assert compiled_scaled.__jit_dispatcher__.specializations
    finally:
        cases.Shape.__init__, cases.Shape.scaled = original  # type: ignore[method-assign]


def test_the_tuple_and_dict_made_for_a_call_are_released() -> None:
    fast = fresh(cases.every_kind)
    value = object()
    fast(1, 2, 3, value, d=value, z=value)
    fast(1, d=value)
    before = sys.getrefcount(value)
    for _ in range(20_000):
        fast(1, 2, 3, value, d=value, z=value)
        fast(1, d=value)
    call_many(fast, (1, 2, 3, value, value), TypeError, 20_000)  # too many positional: the slow path raises
    assert sys.getrefcount(value) == before
    assert fast.__jit_dispatcher__.specializations
