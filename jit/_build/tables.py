"""Writing the generated files of jit/_stencils/ and comparing two sets of them (``--check``).

One data file per target (the format is jit/backend/stencil_tables.py's) and
the loader ``__init__.py``.  Both are deterministic: stencils sorted by name,
holes by offset, no paths and no timestamps, so that a check compares bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from jit.backend.schema import Stencil, TargetInfo
from jit.backend.stencil_tables import GENERATED, StencilTable, TableFormatError, encode, table_file

__all__ = ["GENERATED", "compare_tables", "render_loader", "render_table", "table_file"]


def render_table(info: TargetInfo, stencils: Sequence[Stencil]) -> bytes:
    """The table file of one target."""
    return encode(info, stencils)


def render_loader() -> str:
    """jit/_stencils/__init__.py: what the directory is, and the loader re-exported for tools and tests."""
    return (
        f"# {GENERATED}.\n"
        '"""The generated stencil tables: one data file per target (see docs/stencils.md).\n\n'
        "The runtime reads them with jit.backend.stencil_tables.load at the first compile, without importing\n"
        "this package; it re-exports that loader for tools and tests.\n"
        '"""\n\n'
        "from jit.backend.stencil_tables import TARGETS, load\n\n"
        '__all__ = ["TARGETS", "load"]\n'
    )


def _table_differences(fresh: Path, committed: Path) -> list[str]:
    try:
        old = StencilTable(committed.read_bytes(), committed.name)
    except TableFormatError as error:
        return [str(error)]
    new = StencilTable(fresh.read_bytes(), fresh.name)
    found = []
    if new.info != old.info:
        fields = [f for f in vars(new.info) if getattr(new.info, f) != getattr(old.info, f)]
        found.append(f"TargetInfo differs in {', '.join(fields)}")
    for name in sorted(set(new) | set(old)):
        if name not in old:
            found.append(f"stencil {name} is new")
        elif name not in new:
            found.append(f"stencil {name} is gone")
        elif new[name] != old[name]:
            found.append(f"stencil {name} differs")
    return found or ["differs in its bytes only"]


def compare_tables(fresh_dir: Path, committed_dir: Path, file_names: Iterable[str]) -> list[str]:
    """What differs between fresh and committed tables, naming files and stencils; [] if identical."""
    problems: list[str] = []
    for file_name in file_names:
        fresh, committed = fresh_dir / file_name, committed_dir / file_name
        if not committed.exists():
            problems.append(f"{file_name}: missing")
        elif fresh.read_bytes() == committed.read_bytes():
            continue
        elif file_name == "__init__.py":
            problems.append(f"{file_name}: differs")
        else:
            problems += [f"{file_name}: {item}" for item in _table_differences(fresh, committed)]
    return problems
