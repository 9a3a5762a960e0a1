"""Tracebacks: an exception leaving compiled code carries the compiled functions' entries as the interpreter's
does (file, line, function name), on the first call (which compiles) as on later ones."""

from __future__ import annotations

import traceback
import types
from typing import Any

import pytest

import jit


def inner(items: Any) -> Any:
    return items[5]


def outer(items: Any) -> Any:
    total = 0
    total += inner(items)
    return total


def reraises(items: Any) -> Any:
    try:
        return items[5]
    except IndexError:
        raise


def translates(items: Any) -> Any:
    try:
        return items[5]
    except IndexError as error:
        raise KeyError("missing") from error


def entries(function: Any, *args: Any) -> tuple[str, list[tuple[str, str, int | None]]]:
    try:
        function(*args)
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)[1:]  # without this function's own entry
        return type(error).__name__, [(frame.filename, frame.name, frame.lineno) for frame in frames]
    raise AssertionError("no exception")


def fresh(function: Any) -> Any:
    """A copy of a module-level function with its own dispatcher (a first call that compiles)."""
    return types.FunctionType(function.__code__, function.__globals__, function.__name__)


@pytest.mark.parametrize("function", [inner, outer, reraises, translates])
def test_the_compiled_functions_entries_are_the_interpreters(function: Any) -> None:
    expected = entries(function, [1])
    compiled = jit.compile(fresh(function), strict=True)
    assert entries(compiled, [1]) == expected  # the first call: it compiles on the way
    assert entries(compiled, [1]) == expected  # and every later one


def test_a_caught_exception_holds_the_entry_of_the_line_that_raised() -> None:
    def catches(items: Any) -> Any:
        try:
            items[5]
        except IndexError as error:
            return [frame.lineno for frame in traceback.extract_tb(error.__traceback__)]
        return None

    compiled = jit.compile(catches, strict=True)
    assert compiled([1]) == catches([1])
