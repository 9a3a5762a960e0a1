"""jit/layouts.py, the one definition of what stencils and Python share, and its generated C header.

Compiles nothing: that clang lays every structure out as ctypes does is asserted by the header itself
(``_Static_assert``) on each of the six targets at every build; here, that the committed header is the one
jit/layouts.py renders, and that the Python side has the layouts the runtime packs.
"""

from __future__ import annotations

import ctypes
import re
from pathlib import Path

import pytest

from jit import layouts
from jit._build import layouts as header
from jit.backend import frames

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_header_is_current() -> None:
    assert header.check() is None
    assert header.GENERATED in header.HEADER_PATH.read_text()
    assert '#include "jit_layouts.h"' in (ROOT / "stencils" / "jit_stencil.h").read_text()


def test_a_stale_or_missing_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "jit_layouts.h"
    assert header.check(path) == "jit_layouts.h: missing"
    header.write(path)
    assert header.check(path) is None
    path.write_text(path.read_text().replace("== 96", "== 88"))
    assert header.check(path) == "jit_layouts.h: stale (jit/layouts.py changed)"


def test_every_field_offset_and_size_is_asserted_in_c() -> None:
    text = header.HEADER_PATH.read_text()
    for layout in layouts.LAYOUTS:
        for field in layout.C_FIELDS:
            offset = getattr(layout, field.name).offset
            assert f"__builtin_offsetof({layout.C_NAME}, {field.name}) == {offset}," in text
        assert f"sizeof({layout.C_NAME}) == {ctypes.sizeof(layout)}," in text


def test_the_deoptimization_table_layout() -> None:
    assert (layouts.DEOPT_HEADER.format, layouts.DEOPT_ENTRY.format, layouts.DEOPT_KIND.format) == ("=QQ", "=IIQ", "=I")
    assert layouts.DEOPT_KIND_OFFSET == 4
    kinds = (layouts.DEOPT_NULL, layouts.DEOPT_BOX_INT, layouts.DEOPT_BOX_FLOAT, layouts.DEOPT_BOX_BOOL,
             layouts.DEOPT_CONSTANT, layouts.DEOPT_KEEP, layouts.DEOPT_BORROWED)
    assert kinds == (0, 1, 2, 3, 4, 5, 6)
    entry = layouts.DEOPT_ENTRY.pack(7, layouts.DEOPT_KEEP, 2**64 - 1)
    assert layouts.DEOPT_KIND.unpack_from(entry, layouts.DEOPT_KIND_OFFSET) == (layouts.DEOPT_KEEP,)


def test_the_comparison_codes_are_the_stable_abis() -> None:
    assert layouts.RICH_COMPARE == {"<": 0, "<=": 1, "==": 2, "!=": 3, ">": 4, ">=": 5}
    text = header.HEADER_PATH.read_text()
    for name, value in layouts.CONSTANTS.items():
        assert re.search(rf"^#define {name} {value}$", text, re.MULTILINE), name


def test_the_runtime_uses_these_layouts() -> None:
    assert frames.FrameStack is layouts.FrameStack and frames.Chunk is layouts.Chunk
    assert frames.SLOT_BYTES == layouts.SLOT_BYTES == 8
    assert len(layouts.FrameStack().floors) == layouts.STACK_FLOORS
    guard = layouts.GlobalGuard(1, 2, 0)
    assert (guard.namespace, guard.name, guard.expected) == (1, 2, None)


def test_a_layout_without_a_struct_format_is_refused() -> None:
    with pytest.raises(TypeError, match="JitFrameStack has no struct format"):
        layouts.struct_format(layouts.FrameStack)
