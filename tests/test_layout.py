"""jit/backend/layout.py: the probes of the running interpreter's object layouts that the stencils read."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from jit import layouts
from jit.backend import layout


def test_ints_keep_their_size_as_this_version_does() -> None:
    expected = layouts.INT_SIGNED_SIZE if sys.version_info < (3, 12) else layouts.INT_TAGGED
    assert layout.int_layout() == expected
    assert layout.subscript_int_mode() == expected  # lists keep size and items where jit_list_place reads them


@settings(deadline=None, max_examples=300, derandomize=True, database=None)
@given(st.one_of(st.integers(-(1 << 31), 1 << 31), st.integers()))
def test_the_inline_read_gives_every_compact_int_and_no_other(value: int) -> None:
    made_at_run_time = int(str(value))  # not a cached small int
    for probe in (value, made_at_run_time):
        read = layout._compact_value(layout.int_layout(), *layout._int_words(probe))
        assert read == (probe if abs(probe) < 1 << 30 else None)
