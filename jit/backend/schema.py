"""The stencil table schema shared by build_stencils.py (writer) and the runtime (reader).

A generated table file ``jit/_stencils/<target>.bin`` holds one
:class:`TargetInfo` and the :class:`Stencil` of every micro-op (its format:
jit/backend/stencil_tables.py).  Everything here is plain data: the runtime
reads the tables without needing any compiler.
"""

from __future__ import annotations

from jit.records import record


@record(frozen=True)
class Hole:
    """One relocation: patch ``kind`` at ``offset`` with value(``symbol``) + ``addend``.

    ``offset`` counts from the start of the section the hole lives in (code or
    data).  ``symbol`` is a hole name (``_JIT_CONTINUE``, ``_JIT_OPARG0`` ...),
    a C-API name (``PyNumber_Add``), or ``.data`` for the stencil's own
    read-only data (``addend`` is then an offset into that data).
    """

    offset: int
    kind: str
    symbol: str
    addend: int


@record(frozen=True)
class Stencil:
    """Machine code and read-only data of one micro-op, with their holes."""

    name: str
    code: bytes
    data: bytes
    code_holes: tuple[Hole, ...]
    data_holes: tuple[Hole, ...]
    # Bytes at the end of ``code`` that are the jump to ``_JIT_CONTINUE`` (x86-64
    # ``jmp rel32``: 5; AArch64 ``b`` or ``br xN``: 4), which the emitter may drop
    # when the next stencil follows directly; 0 if the last instruction is not it.
    tail_jump: int = 0
    # Alignment ``data`` needs where the runtime places it (its sections' largest).
    data_align: int = 1


@record(frozen=True)
class TargetInfo:
    """What the tables were built for and from."""

    name: str  # e.g. "x86_64-unknown-linux"
    triple: str  # the LLVM triple the objects were emitted for
    inputs_hash: str  # sha256 of the C sources, the flags and the toolchain versions
    clang: str
    llvm: str
    flags: tuple[str, ...]
