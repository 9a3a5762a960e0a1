"""Shared fixtures (module_dir); and packages that .ci/pythons.sh left out for lack of a wheel: their tests skip.

The script lists them, by import name, in the venv's ``cpjit-left-out.txt``.  Importing one of them (from a
test module, or from what it imports, at collection or in a test) then skips the module or the test, with the
reason; without that file, as in the README's test command, a missing package fails as it always did.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

LEFT_OUT_FILE = Path(sys.prefix, "cpjit-left-out.txt")


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder on sys.path for the test's own modules (written as files: the frontend reads their source)."""
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))


def left_out() -> frozenset[str]:
    return frozenset(LEFT_OUT_FILE.read_text().split()) if LEFT_OUT_FILE.is_file() else frozenset()


class SkipLeftOut(importlib.abc.MetaPathFinder):
    """Turns an import of a left-out package into a skip of what needs it."""

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        package = fullname.partition(".")[0]
        if package in self.names:
            version = ".".join(map(str, sys.version_info[:2]))
            pytest.skip(f"{package} has no wheel for Python {version}: .ci/pythons.sh left it out",
                        allow_module_level=True)
        return None


_names = left_out()
if _names:
    sys.meta_path.insert(0, SkipLeftOut(_names))
