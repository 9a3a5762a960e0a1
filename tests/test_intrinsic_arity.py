"""Calls of intrinsics (the math functions, abs, min, max, int, float) with any number of arguments.

An intrinsic is compiled for the numbers of arguments its function accepts; any other call is an ordinary call
of the function, so that it raises the interpreter's own TypeError (``math.sqrt(a, b)`` once returned sqrt(a)).
Each call is compiled with ``strict=True`` (it must become machine code) and compared with the interpreter.
"""

from __future__ import annotations

import importlib
import math
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import jit
from jit.frontend import builder

MATH_FUNCTIONS = sorted(name for name in dir(math) if isinstance(getattr(math, name), types.BuiltinFunctionType))
CALLS = [f"math.{name}" for name in MATH_FUNCTIONS] + ["abs", "min", "max", "int", "float"]
COUNTS = range(4)
ARGUMENTS = [(4.0, 2.0, 1.0), (4, 2, 1), (True, 3, 0.5), (-1.5, 0, 2)]


def outcome(func: Callable[..., Any], args: tuple[object, ...]) -> tuple[str, type, str]:
    try:
        value = func(*args)
    except Exception as error:
        return ("raised", type(error), str(error))
    return ("returned", type(value), repr(value))


@pytest.mark.parametrize("call", CALLS)
def test_every_number_of_arguments_gives_the_interpreters_outcome(call: str, module_dir: Path) -> None:
    name = f"calls_of_{call.replace('.', '_')}"
    (module_dir / f"{name}.py").write_text("import math\n" + "".join(
        f"def with_{count}(a, b, c):\n    return {call}({', '.join('abc'[:count])})\n" for count in COUNTS))
    module = importlib.import_module(name)
    for count in COUNTS:
        func = getattr(module, f"with_{count}")
        for args in ARGUMENTS:
            # A copy per signature: each is compiled strictly for exactly the arguments it runs.
            copy = types.FunctionType(func.__code__, func.__globals__, func.__name__)
            compiled = jit.compile(copy, strict=True)
            assert outcome(compiled, args) == outcome(func, args), f"{call} with {count} arguments, {args}"
            assert compiled.__jit_dispatcher__.fallbacks == {}


def test_math_sqrt_with_two_arguments_raises_its_type_error(module_dir: Path) -> None:
    (module_dir / "sqrt_of_two.py").write_text("import math\ndef f(a, b):\n    return math.sqrt(a, b)\n")
    compiled = jit.compile(importlib.import_module("sqrt_of_two").f, strict=True)
    for args in [(4.0, 1.0), (4, 1)]:
        with pytest.raises(TypeError, match=r"^math\.sqrt\(\) takes exactly one argument \(2 given\)$"):
            compiled(*args)


@pytest.mark.parametrize(("function", "counts"), [
    (math.sqrt, range(1, 2)), (math.atan2, range(2, 3)), (math.perm, range(1, 3)), (math.isclose, range(2, 3)),
    (math.prod, range(1, 2)), (float, range(2)),
])
def test_accepted_counts_come_from_the_text_signature(function: object, counts: range) -> None:
    assert builder.accepted_counts(function) == counts


def test_accepted_counts_of_varargs_and_of_no_signature() -> None:
    varargs = builder.accepted_counts(math.gcd)
    assert varargs is not None and 0 in varargs and 100 in varargs
    assert builder.accepted_counts(math.log) is None  # "log(x, [base=math.e])": no signature in Python syntax
    assert builder.accepted_counts(min) is None


def test_sqrt_the_intrinsic_compiled_inline_has_a_known_signature() -> None:
    # Unknown signatures fall back on the intrinsic's call of the function, which checks the count itself;
    # sqrt is lowered without calling math.sqrt, so its count must be known.
    assert builder.INTRINSICS[math.sqrt] == ("math.sqrt", (1,))
