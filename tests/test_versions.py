"""What differs between CPython versions, checked on the one running the suite (.ci/run runs it on 3.11 to 3.15).

Each part of cpjit that reads an interpreter's internals finds them at run time rather than by version
number; these tests hold each finding against what Python code can see on this version: the callable
type's managed dict and garbage collection, the function fields machine code reads, the symbol tables and
AST nodes of newer syntax, the bytecode that reads builtins, and cffi's pre-parsed module.
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import sys
import types
import weakref
from pathlib import Path
from typing import Any

import pytest

import jit
from jit import _isolation
from jit.backend import callable as jit_callable
from jit.backend import layout, memory
from jit.backend.target import detect_host
from jit.frontend import source


def add_one(x: int) -> int:
    return x + 1


def test_this_interpreter_is_served() -> None:
    # Every version .ci/run tests is a supported host: a refusal would silently run the interpreter throughout.
    detect_host()
    fast: Any = jit.compile(add_one, strict=True)
    assert fast(41) == 42
    assert not fast.__jit_dispatcher__.fallbacks


# --- the callable heap type ---------------------------------------------------------------------


def test_the_callable_type_keeps_its_bases_dict_and_weakref_layout() -> None:
    new_type, offset = jit_callable.jit_function_type()
    base = jit_callable.JitFunctionBase
    assert new_type.__flags__ & jit_callable.INHERITED_FLAGS == base.__flags__ & jit_callable.INHERITED_FLAGS
    assert (new_type.__dictoffset__, new_type.__weakrefoffset__) == (base.__dictoffset__, base.__weakrefoffset__)
    # The vectorcall pointer is the word after the base's fields, inside the instance.
    assert offset == base.__basicsize__ == new_type.__basicsize__ - ctypes.sizeof(ctypes.c_void_p)


def test_a_compiled_function_has_a_dict_weak_references_and_is_collected_in_a_cycle() -> None:
    def local_add(x: int) -> int:
        return x + 1

    local_add.__module__ = __name__
    fast: Any = jit.compile(local_add)
    fast.note = "kept"
    assert fast.__dict__["note"] == "kept"
    del fast.note
    assert "note" not in fast.__dict__
    assert fast(1) == 2  # attribute changes leave the vectorcall pointer alone
    assert gc.is_tracked(fast)
    fast.myself = fast  # a cycle through the managed dict: only the collector can free it
    reference = weakref.ref(fast)
    del fast
    gc.collect()
    assert reference() is None


# --- the function fields that machine code reads --------------------------------------------------


@pytest.mark.parametrize("name", ["__code__", "__defaults__", "__kwdefaults__"])
def test_function_field_offsets_hold_the_fields(name: str) -> None:
    def probe(a: int = 1, *, b: int = 2) -> int:
        return a + b

    offset = layout.function_field_offset(name)
    assert offset % layout.WORD == 0
    assert ctypes.c_void_p.from_address(layout.field_address(probe, name)).value == id(getattr(probe, name))


# --- symbol tables and new syntax ----------------------------------------------------------------


def load(directory: Path, name: str, text: str) -> types.ModuleType:
    (directory / f"{name}.py").write_text(text)
    importlib.invalidate_caches()
    module = importlib.import_module(name)
    sys.modules.pop(name)
    return module


def test_local_names_come_from_the_functions_own_table(module_dir: Path) -> None:
    text = "LIMIT = 10\n\ndef f(x: int) -> int:\n    y: int = x + LIMIT\n    return y\n"
    module = load(module_dir, "annotated", text)
    found = source.read_source(module.f)
    # 3.14 gives the annotations a scope of their own (`__annotate__`), beside the function's.
    assert found.local_names == {"x", "y"}


def syntax_of(version: tuple[int, int], text: str) -> str:
    if sys.version_info < version:
        pytest.skip(f"Python {version[0]}.{version[1]} syntax")
    return text


def test_a_generic_function_is_compiled(module_dir: Path) -> None:
    text = syntax_of((3, 12), "def f[T](x: int) -> int:\n    return x * 2\n")
    module = load(module_dir, "generic", text)
    assert source.read_source(module.f).local_names == {"x"}
    fast: Any = jit.compile(module.f, strict=True)
    assert fast(21) == 42


@pytest.mark.parametrize(("version", "text", "construct"), [
    ((3, 12), "def f(x):\n    type Alias = int\n    return x\n", "'TypeAlias' is not supported"),
    ((3, 14), "def f(x):\n    s = t'{x}'\n    return x\n", "t'{x}'"),
])
def test_new_syntax_is_refused_with_its_name(module_dir: Path, version: tuple[int, int], text: str,
                                             construct: str) -> None:
    module = load(module_dir, f"new_syntax_{version[1]}", syntax_of(version, text))
    with pytest.raises(jit.UnsupportedError, match="not supported") as raised:
        jit.compile(module.f, strict=True)(3)
    assert construct in str(raised.value)
    assert jit.compile(module.f)(3) == 3  # and the interpreter runs it


def test_the_code_of_a_generic_function_is_found_in_its_file(module_dir: Path) -> None:
    # From 3.12 on the function's code is a constant of its type parameters' code, not of the module's.
    module = load(module_dir, "generic_code", syntax_of((3, 12), "def f[T](x):\n    return x\n"))
    assert source.runs_this_code(module.f, (module_dir / "generic_code.py").read_text().splitlines(True))


# --- builtins read by bytecode --------------------------------------------------------------------


def test_every_read_of_a_builtin_is_seen() -> None:
    # A function, a class body, a class in a function; and an annotation in a class body, which 3.14 reads in
    # `__annotate__` with LOAD_FROM_DICT_OR_GLOBALS.
    text = "def f():\n    return len\nclass C:\n    x = abs\n    y: min = 1\ndef g():\n    class D:\n        z = max\n"
    code = compile(text, "<versions>", "exec", dont_inherit=True)  # not this module's `annotations` future
    assert {"len", "abs", "min", "max"} <= set(_isolation._global_reads(code))


def test_the_frontends_constructs_compile(module_dir: Path) -> None:
    # One function with a node of each kind the frontend reads: a version that renamed, dropped or reshaped one
    # (3.13's ast changed defaults of optional fields, for one) fails here, not only in the larger suites.
    text = """
def f(a, b=1):
    c: int = a if b else -a
    for i in range(3):
        c += i * 2 ** 2
        if not (0 < c <= 100) or c == 7:
            break
        while c > 50:
            c -= 7
    d, e = c, -c
    return max(d, abs(e)) + int(1.5)
"""
    module = load(module_dir, "constructs", text)
    fast: Any = jit.compile(module.f, strict=True)
    for args in ((5,), (5, 0), (-40, 2), (2.5, 1)):
        assert fast(*args) == module.f(*args)
    assert not fast.__jit_dispatcher__.fallbacks


# --- cffi's pre-parsed module ---------------------------------------------------------------------


def test_cffis_pre_parsed_module_loads_with_this_backend() -> None:
    # jit/backend/_memory_ffi.py is generated once (pinned cffi) and must load with whatever _cffi_backend
    # this version has.
    executable = memory.host_memory()
    address = executable.map(executable.page_size)
    try:
        executable.write(address, b"\xc3")
        assert executable.read(address, 1) == b"\xc3"
    finally:
        executable.unmap(address, executable.page_size)
