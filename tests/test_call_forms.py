"""Every way of calling a compiled function gives the interpreter's outcome (hypothesis over call shapes).

ENTRY binds positional arguments, keywords and defaults in machine code; what it does not bind goes to the slow
path; argument types that fell back go to the original function from machine code (CALL_ORIGINAL); a function
that cannot compile forwards every call (FORWARD).  Each path must give the same value, or the same exception type
and message, as calling the plain function the same way.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_differential import outcome

import jit


def mixed(a: Any, b: Any = 2, /, c: Any = 3.5, d: Any = True) -> Any:
    return a * b + c if d else a - b - c


def not_compiled(a: Any, b: Any = 2, /, c: Any = 3.5, d: Any = True) -> Any:
    values = [a, b, c, d]  # a list display: the whole function runs in the interpreter
    return values[0] * values[1] + values[2] if values[3] else values[0] - values[1] - values[2]


MIXED: Any = jit.compile(mixed)
NOT_COMPILED: Any = jit.compile(not_compiled)

values = st.one_of(st.integers(-5, 5), st.floats(-4, 4, allow_nan=False), st.booleans(), st.sampled_from(["s", None]))
keywords = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "e"]), values, max_size=4)


def call(func: Any, args: tuple[object, ...], kwargs: dict[str, object]) -> Any:
    return outcome(lambda: func(*args, **kwargs), ())


@settings(max_examples=300, deadline=None)
@given(st.lists(values, max_size=5).map(tuple), keywords, st.booleans())
def test_any_call_shape_gives_the_interpreters_outcome(args: tuple[object, ...], kwargs: dict[str, object],
                                                       runtime_names: bool) -> None:
    if runtime_names:  # keyword names made at run time (not the interned strings): the slow path binds them
        kwargs = {"".join(list(name)): value for name, value in kwargs.items()}
    for _ in range(2):  # the first call may compile or record a fallback; the second takes the machine code's path
        assert call(MIXED, args, kwargs) == call(mixed, args, kwargs)
        assert call(NOT_COMPILED, args, kwargs) == call(not_compiled, args, kwargs)
