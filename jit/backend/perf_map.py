"""Name the machine code for Linux ``perf``: with CPJIT_PERF_MAP=1 in the environment, every emitted blob adds a
line per instruction to perf's map of the process (``perf-<pid>.map`` in the temporary folder, the file
``perf report`` reads for code that has no symbols), named by the stencil it was copied from.  CPython 3.12's
``-X perf`` does the same for its trampolines."""

from __future__ import annotations

import os
from collections.abc import Sequence

ENVIRONMENT_VARIABLE = "CPJIT_PERF_MAP"
# Read once, at import: os.environ and os.path call builtins (isinstance, str) that a program may rebind later,
# and the compiler must not run what a program rebinds (jit/_isolation.py).
ENABLED = os.environ.get(ENVIRONMENT_VARIABLE, "") not in ("", "0")


def _temporary_folder() -> str:
    import tempfile  # noqa: PLC0415 - only with the map: tempfile costs 1-2 ms of `import jit`

    return tempfile.gettempdir()


_FOLDER = _temporary_folder() if ENABLED else None
_SEPARATOR = os.sep


def path() -> str:
    """The map of this process (its pid now: a forked child writes its own)."""
    folder = _FOLDER if _FOLDER is not None else _temporary_folder()
    return f"{folder}{_SEPARATOR}perf-{os.getpid()}.map"


def lines(base: int, offsets: Sequence[int], stencils: Sequence[str], code_size: int) -> list[str]:
    """One ``START SIZE NAME`` line (hexadecimal, as perf reads them) per instruction with code."""
    ends = [*offsets[1:], code_size]
    return [f"{base + start:x} {end - start:x} cpjit:{name}\n"
            for start, end, name in zip(offsets, ends, stencils, strict=True) if end > start]


def record(base: int, offsets: Sequence[int], stencils: Sequence[str], code_size: int) -> None:
    with open(path(), "a", encoding="ascii") as map_file:
        map_file.writelines(lines(base, offsets, stencils, code_size))
