"""The frontend compiles the code the interpreter runs, never a source file edited since (jit/frontend/source.py)."""

from __future__ import annotations

import importlib
import linecache
import sys
import textwrap
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jit
from jit import compiler
from jit.frontend.source import STALE_SOURCE, _dedent


def load(directory: Path, name: str, text: str) -> ModuleType:
    (directory / f"{name}.py").write_text(text)
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    sys.modules.pop(name)
    return module


def edit(directory: Path, name: str, text: str) -> None:
    path = directory / f"{name}.py"
    path.write_text(text)
    linecache.checkcache(str(path))  # what any traceback printed after the edit would also see


def reasons(fast: Any) -> list[str]:
    """Why ``fast`` (what jit.compile returned) runs in the interpreter, for each signature that does."""
    refusal = compiler.refusal_of(fast) if isinstance(fast, FunctionType) else None
    return [refusal] if refusal is not None else list(fast.__jit_dispatcher__.fallbacks.values())


def test_a_file_edited_after_import_is_not_compiled(module_dir: Path) -> None:
    module = load(module_dir, "edited_body", "def f(x):\n    return x * 2\n")
    edit(module_dir, "edited_body", "def f(x):\n    return x * 3\n")
    fast: Any = jit.compile(module.f)  # the decorator applied at import, the file saved since
    assert fast(5) == module.f(5) == 10
    assert len(reasons(fast)) == 1
    assert STALE_SOURCE in reasons(fast)[0]


def test_a_file_edited_after_jit_compile_compiles_what_was_read_then(module_dir: Path) -> None:
    module = load(module_dir, "edited_later", "def f(x):\n    return x * 2\n")
    fast: Any = jit.compile(module.f)  # read now, compiled at the first call, after the edit
    edit(module_dir, "edited_later", "def f(x):\n    return x * 3\n")
    assert fast(5) == module.f(5) == 10
    assert reasons(fast) == [] and fast.__jit_dispatcher__.specializations


def test_an_ir_built_again_at_the_first_call_is_checked_against_the_file_again(module_dir: Path) -> None:
    # A global the function uses is defined after jit.compile: the first call reads the source again, which
    # was edited in between.
    module = load(module_dir, "edited_between", "def f(x):\n    return g(x) * 2\n")
    fast: Any = jit.compile(module.f)
    module.g = abs
    edit(module_dir, "edited_between", "def f(x):\n    return g(x) * 3\n")
    assert fast(-5) == module.f(-5) == 10
    assert STALE_SOURCE in reasons(fast)[0]


def test_a_definition_moved_down_is_reported_as_stale_not_as_a_lambda(module_dir: Path) -> None:
    module = load(module_dir, "moved_def", "def f(x):\n    return x * 2\n")
    edit(module_dir, "moved_def", "\ndef f(x):\n    return x * 2\n")
    fast: Any = jit.compile(module.f)
    assert fast(5) == 10
    assert STALE_SOURCE in reasons(fast)[0]
    with pytest.raises(jit.UnsupportedError, match="does not match the running code"):
        jit.compile(module.f, strict=True)


def test_an_unchanged_file_compiles_and_an_edit_below_a_function_does_not_matter(module_dir: Path) -> None:
    text = "import math\n\ndef f(x):\n    return math.sqrt(x) * 2\n\ndef h(x):\n    return x + 1\n"
    module = load(module_dir, "unchanged", text)
    fast: Any = jit.compile(module.f)
    assert fast(4.0) == 4.0
    assert not reasons(fast)
    edit(module_dir, "unchanged", text + "\ndef g():\n    return 1\n")  # h's lines and code are the same
    other: Any = jit.compile(module.h)
    assert other(9) == 10 and not reasons(other)


def test_methods_with_private_names_and_nested_functions_match_their_code(module_dir: Path) -> None:
    module = load(module_dir, "shapes", (
        "class Box:\n"
        "    def area(self, w, h):\n"
        "        __scale = 2\n"
        "        return w * h * __scale\n"
        "def outer():\n"
        "    def inner(a):\n"
        "        return a + 1\n"
        "    return inner\n"))
    jit.compile(module.Box.area, strict=True)  # strict builds the IR now: the source check passed
    inner: Any = jit.compile(module.outer())
    assert inner(1) == 2 and not reasons(inner)


def test_code_commented_out_at_column_zero_inside_a_method_compiles(module_dir: Path) -> None:
    module = load(module_dir, "commented", (
        "class Square:\n"
        "    def remove(self, x):\n"
        "        y = x + 1\n"
        "#        if x:\n"
        "#            y = 2\n"
        "        return y\n"))
    fast = jit.compile(module.Square.remove, strict=True)
    assert fast(None, 2) == 3


def test_a_string_line_at_column_zero_is_never_moved(module_dir: Path) -> None:
    module = load(module_dir, "hashed_string", (
        "class Square:\n"
        "    def text(self, x):\n"
        "        return '''a\n"
        "# not a comment\n"
        "''' * x\n"))
    fast = jit.compile(module.Square.text)
    assert fast(None, 2) == module.Square.text(None, 2) == "a\n# not a comment\n" * 2


# Lines of a source: spaces and tabs, then text or nothing (3.14's dedent also empties a line of "\r" or "\f",
# 3.11's keeps it: no line of a definition is that).
_INDENTED_LINE = st.tuples(st.text(" \t", max_size=4), st.sampled_from(["", "x", "y = 1", " \t", "#c"]))


@given(st.lists(_INDENTED_LINE, max_size=8), st.sampled_from(["", "\n"]))
@settings(max_examples=400, deadline=None)
def test_dedent_is_textwraps(lines: list[tuple[str, str]], end: str) -> None:
    text = "\n".join(indent + rest for indent, rest in lines) + end
    assert _dedent(text) == textwrap.dedent(text)
