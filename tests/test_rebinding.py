"""Rebinding names of the builtins module: the compiler is immune, compiled code honours it as the interpreter does.

The compiler resolves builtins in a snapshot taken at ``import jit`` (jit/_isolation.py): after import, a user's
``builtins.abs = lambda v: 100`` must not reach its patch routines (which used to patch wrong addends and
crash), nor any other part of it.  A builtin already rebound before import is detected: machine code is not
used, and jit.explain says why.  And user code's own semantics stay the interpreter's: a compiled function
that calls ``abs`` sees a rebinding made after it was compiled.  Crash-prone cases run in subprocesses.
"""

from __future__ import annotations

import builtins
import io
import os
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jit

ROOT = Path(__file__).resolve().parent.parent

# Builtins the compiler's machinery or the library code it calls use (the first three crashed or raised).
USED = ["abs", "id", "hash", "len", "range", "isinstance", "int", "max", "min", "sorted", "type", "getattr",
        "hasattr", "setattr", "tuple", "list", "dict", "set", "frozenset", "sum", "any", "all", "zip",
        "enumerate", "iter", "next", "str", "repr", "bool", "float", "bytes", "bytearray", "vars", "callable",
        "issubclass", "compile", "exec", "object", "super", "reversed", "map", "filter", "divmod", "round",
        "memoryview", "slice", "__import__", "globals", "locals", "format", "print", "open"]
FIRST = {"abs", "id", "hash"}  # the reported ones: in the fast suite; the rest are slow

# After import (and after a first compile): the name is bound to a function that returns nonsense for as long
# as new functions are compiled and called; they must compile to machine code and give the right answers.
AFTER = """
import builtins, io, sys
import jit

NAME = sys.argv[1]

def total(n):
    s = 0
    i = 0
    while i < n:
        s += i
        i += 1
    return s

def scaled(x):
    return x * 2.5

def looped(n, step):
    s = 0
    for i in range(0, n, step):
        s += i
    return s

def caller(x):
    return total(x) + scaled(x)

first = jit.compile(total)
assert first(10) == 45
genuine = getattr(builtins, NAME)
setattr(builtins, NAME, lambda *args, **kwargs: 100)
try:
    fast = [jit.compile(f) for f in (scaled, looped, caller)]
    # (looped itself calls range: with range rebound, the interpreter and the compiled code call the user's)
    results = (first(10), first(3.5), fast[0](2.0), fast[0](3), fast[1](10, 3) if NAME != "range" else 18,
               fast[2](4), first(True))
    called = (first, fast[0], fast[2]) if NAME == "range" else (first, *fast)
    dispatchers = [f.__jit_dispatcher__ for f in called]  # nothing here may call a builtin
finally:
    setattr(builtins, NAME, genuine)
compiled = [d.specializations for d in dispatchers]
fallbacks = [d.fallbacks for d in dispatchers]
assert results == (45, 6, 5.0, 7.5, 18, 16.0, 0), results
assert all(compiled) and not any(fallbacks), fallbacks
jit.explain(fast[2], file=io.StringIO())
print("ok")
"""

# Before import: a faithful wrapper (the program works) that is not the genuine builtin.  The compiler must
# not rely on it: the interpreter runs, with the reason recorded.  (A builtin the compiler never calls, such
# as hash, does not matter: the function compiles.)
BEFORE = """
import builtins, io, sys

NAME, EXPECTED = sys.argv[1:]
genuine = getattr(builtins, NAME)
setattr(builtins, NAME, lambda *args, **kwargs: genuine(*args, **kwargs))

import jit

def total(n):
    s = 0
    for i in range(n):
        s += abs(i - 2)
    return s

fast = jit.compile(total)
assert fast(5) == total(5) == 6 and fast(0) == 0
text = jit.explain(fast, file=io.StringIO())
if EXPECTED == "refused":
    assert f"builtins.{NAME} was rebound" in text and "before `import jit`" in text, text
    assert not fast.__jit_dispatcher__.specializations
else:
    assert "runs in the interpreter" not in text and fast.__jit_dispatcher__.specializations, text
print("ok")
"""


def run(tmp_path: Path, script: str, *arguments: str) -> None:
    path = tmp_path / "script.py"
    path.write_text(script)
    done = subprocess.run([sys.executable, str(path), *arguments], capture_output=True, text=True, timeout=120,
                          check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, f"rc={done.returncode}\n{done.stdout}\n{done.stderr}"
    assert done.stdout.strip() == "ok", done.stdout


def marked(names: list[str]) -> list[Any]:
    return [pytest.param(name, marks=() if name in FIRST else pytest.mark.slow) for name in names]


@pytest.mark.parametrize("name", marked(USED))
def test_rebinding_a_builtin_after_import_does_not_reach_the_compiler(tmp_path: Path, name: str) -> None:
    run(tmp_path, AFTER, name)


# Builtin functions the compiler reads (a type can hardly be rebound before import without breaking the
# standard library's own imports).
BEFORE_NAMES = ["abs", "id", "len", "isinstance", "getattr", "max", "min", "sorted", "iter", "next", "repr",
                "__build_class__", "__import__"]  # the last two: called by opcodes (class, import)


@pytest.mark.parametrize("name", marked(BEFORE_NAMES))
def test_a_builtin_rebound_before_import_makes_the_interpreter_run_with_the_reason(tmp_path: Path,
                                                                                   name: str) -> None:
    run(tmp_path, BEFORE, name, "refused")


def test_a_builtin_the_compiler_never_calls_may_be_rebound_before_import(tmp_path: Path) -> None:
    run(tmp_path, BEFORE, "hash", "compiled")


# --- user semantics: a compiled call of a builtin sees a rebinding, as in the interpreter ----------------------

def call_abs(x: Any) -> Any:
    return abs(x) + 1


def call_min(x: Any) -> Any:
    return min(x, 3)


def call_int(x: Any) -> Any:
    return int(x) * 2


def loop_range(n: Any) -> Any:
    s = 0
    for i in range(n):
        s += i
    return s


@pytest.fixture
def rebound() -> Iterator[Any]:
    saved: dict[str, object] = {}

    def rebind(name: str, value: object) -> None:
        saved.setdefault(name, getattr(builtins, name))
        setattr(builtins, name, value)

    yield rebind
    for name, value in saved.items():
        setattr(builtins, name, value)


@pytest.mark.parametrize(("func", "name", "replacement", "argument"), [
    (call_abs, "abs", lambda v: 100, -3),
    (call_abs, "abs", lambda v: 100, -3.5),
    (call_min, "min", lambda a, b: -7, 9),
    (call_int, "int", lambda v: 21, 2.5),
    (loop_range, "range", lambda n: [n, n, n], 5),
])
def test_a_builtin_rebound_after_compiling_is_honoured(rebound: Any, func: Any, name: str, replacement: Any,
                                                       argument: Any) -> None:
    # A fresh function each time: a builtin rebound twice is read when the code runs from then on, unguarded.
    func = types.FunctionType(func.__code__, func.__globals__, func.__name__)
    fast = jit.compile(func)
    expected = func(argument)
    assert fast(argument) == expected  # compiled with the builtin inlined
    assert f"guard: global {name!r}" in jit.explain(fast, file=io.StringIO())
    genuine = getattr(builtins, name)
    rebound(name, replacement)
    assert fast(argument) == func(argument) != expected  # the guard on the builtins namespace saw it
    rebound(name, genuine)
    assert fast(argument) == expected
