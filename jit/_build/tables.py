"""Writing the generated files of jit/_stencils/ and comparing two sets of them (``--check``).

One data file per target (the format is jit/backend/stencil_tables.py's) and
the loader ``__init__.py``.  Both are deterministic: stencils sorted by name,
holes by offset, no paths and no timestamps, so that a check compares bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from jit.backend.schema import Stencil, TargetInfo
from jit.backend.stencil_tables import GENERATED, StencilTable, TableFormatError, encode

__all__ = ["GENERATED", "TABLE_SUFFIX", "compare_tables", "render_loader", "render_table"]

TABLE_SUFFIX = ".bin"


def render_table(info: TargetInfo, stencils: Sequence[Stencil]) -> bytes:
    """The table file of one target."""
    return encode(info, stencils)


def render_loader(files: Mapping[str, str]) -> str:
    """jit/_stencils/__init__.py: ``load(target_name)`` over ``files`` (target name -> table file name)."""
    targets = "".join(f'    "{name}": "{file}",\n' for name, file in files.items())
    return (
        f"# {GENERATED}.\n"
        '"""The generated stencil tables: one data file per target, read at the first compile (docs/stencils.md).\n\n'
        "Nothing here is imported by ``import jit``: the emitter loads the host's table when it first needs it.\n"
        '"""\n\n'
        "from __future__ import annotations\n\n"
        "import os\n\n"
        "from jit.backend.schema import TargetInfo\n"
        "from jit.backend.stencil_tables import StencilTable\n\n"
        '__all__ = ["TARGETS", "load"]\n\n'
        "# target name -> its table file, beside this module\n"
        f"TARGETS: dict[str, str] = {{\n{targets}}}\n\n\n"
        "def load(target_name: str) -> tuple[TargetInfo, StencilTable]:\n"
        '    """The tables of ``target_name`` (a key of TARGETS): its TargetInfo and its stencils by name."""\n'
        "    try:\n"
        "        file_name = TARGETS[target_name]\n"
        "    except KeyError:\n"
        '        known = ", ".join(TARGETS)\n'
        '        raise ValueError(f"unknown stencil target {target_name!r}; known: {known}") from None\n'
        "    path = os.path.join(os.path.dirname(__file__), file_name)\n"
        '    with open(path, "rb") as file:\n'
        "        table = StencilTable(file.read(), file_name)\n"
        "    return table.info, table\n"
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
        elif not file_name.endswith(TABLE_SUFFIX):
            problems.append(f"{file_name}: differs")
        else:
            problems += [f"{file_name}: {item}" for item in _table_differences(fresh, committed)]
    return problems
