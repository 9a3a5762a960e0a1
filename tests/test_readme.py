"""The README's examples run and say what they claim."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest

import jit

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_first_example_gives_the_values_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Written to a module so that cpjit finds the source, as it would in a user's file.
    example = python_blocks()[0]
    (tmp_path / "readme_example.py").write_text(example)
    monkeypatch.syspath_prepend(str(tmp_path))
    readme_example = importlib.import_module("readme_example")

    for call, shown in re.findall(r"^(fib\(\d+\))\s+# (\d+)", example, flags=re.MULTILINE):
        assert str(eval(call, vars(readme_example))) == shown
    assert not readme_example.fib.__jit_dispatcher__.fallbacks
    sys.modules.pop("readme_example")


def test_strict_refusal_shown_is_the_real_message() -> None:
    shown = re.search(r"jit\.errors\.UnsupportedError: \S+, line 1: (.*)", README.read_text())
    assert shown is not None
    with pytest.raises(jit.UnsupportedError) as error:
        jit.compile(lambda xs: xs[0], strict=True)
    assert str(error.value).endswith(shown.group(1))
