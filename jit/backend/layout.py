"""Where the running interpreter keeps what machine code reads of its objects, found at run time.

Layouts of object internals differ between CPython versions, and the stencils
are one set for all of them: an offset is a value patched into a hole, found
here by watching which word of a probe object changes when Python code changes
the attribute, never assumed from a version number.  A probe that does not find
exactly one such word raises UnsupportedHostError (the interpreter then runs
what would have needed it).
"""

from __future__ import annotations

import ctypes
import functools

from jit.backend.errors import UnsupportedHostError

WORD = ctypes.sizeof(ctypes.c_void_p)


def _words(obj: object, size: int) -> list[int]:
    raw = ctypes.string_at(id(obj), size)
    return [int.from_bytes(raw[i:i + WORD], "little") for i in range(0, size - size % WORD, WORD)]


@functools.cache
def function_field_offset(name: str) -> int:
    """The byte offset in a function object of the pointer behind ``name`` (__code__, __defaults__ ...)."""

    def probe() -> None:
        pass

    def other() -> None:
        pass

    values: dict[str, tuple[object, object]] = {
        "__code__": (probe.__code__, other.__code__),
        "__defaults__": ((1,), (2,)),
        "__kwdefaults__": ({"a": 1}, {"b": 2}),
    }
    first, second = values[name]
    size = type(probe).__basicsize__
    setattr(probe, name, first)
    before = _words(probe, size)
    setattr(probe, name, second)
    after = _words(probe, size)
    found = [index * WORD for index, (old, new) in enumerate(zip(before, after, strict=True))
             if old == id(first) and new == id(second)]
    if len(found) != 1:
        raise UnsupportedHostError(f"cannot find where this interpreter keeps a function's {name}")
    return found[0]


def field_address(obj: object, name: str) -> int:
    """The address of the word of function ``obj`` that holds ``name``."""
    return id(obj) + function_field_offset(name)


@functools.cache
def tuple_items_offset() -> int:
    """The byte offset of a tuple's first item (after its size, which the stable ABI fixes as a PyVarObject)."""
    sentinel = object()
    probe = (sentinel, None)
    words = _words(probe, type(probe).__basicsize__ + 2 * WORD)
    found = [index * WORD for index, word in enumerate(words) if word == id(sentinel)]
    if len(found) != 1 or words[found[0] // WORD + 1] != id(None) or words[VAR_SIZE_WORD] != len(probe):
        raise UnsupportedHostError("cannot find where this interpreter keeps a tuple's items")
    return found[0]


VAR_SIZE_WORD = 2  # PyVarObject: ob_refcnt, ob_type, ob_size (stable ABI)
