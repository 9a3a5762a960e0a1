"""IR -> IR passes, one module each, run in order by :func:`optimize`.

Every pass has the same interface: ``run(function, facts)`` rewrites or
annotates the IR in place; a pass that refuses the function raises
:class:`~jit.errors.UnsupportedError` whose stage names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from jit import ir
from jit.errors import UnsupportedError
from jit.records import field, record

if TYPE_CHECKING:
    from jit.optimizer.liveness import Liveness


@record
class Facts:
    """What the passes learn about one specialization of a function."""

    signature: tuple[ir.Type, ...]
    types: dict[ir.Var, ir.Type] = field(default_factory=dict)
    kinds: list[ir.Type] = field(default_factory=list)  # the same types by variable number (Var.slot)
    return_type: ir.Type = ir.Type.UNKNOWN
    liveness: Liveness | None = None  # live variables and frame slots of this signature's IR
    versions: int = 0  # block versions the types made (jit/optimizer/versions.py)
    specializable: bool = True
    # The return types of the direct calls' callees, by (callee, argument types): given by the driver, which
    # compiles callees.  A call whose entry is missing is typed UNKNOWN and asked for in ``callees_wanted``;
    # the driver compiles those and runs the signature's passes again.
    callee_returns: dict[tuple[object, tuple[ir.Type, ...]], ir.Type] = field(default_factory=dict)
    callees_wanted: set[tuple[object, tuple[ir.Type, ...]]] = field(default_factory=set)
    generic_reason: str = ""  # why only the generic tier runs, when it is so
    # The bets on objects' types (jit/optimizer/bets.py), by the index of the op that makes the object: given by
    # the driver, which learns from the bets lost.
    bets: dict[int, ir.Type] = field(default_factory=dict)


Pass = Callable[[ir.Function, Facts], None]


def function_passes() -> tuple[tuple[str, Pass], ...]:
    """Passes that do not depend on the argument types: run once per function."""
    return (("constant-folding", constants.run), ("definite-assignment", assignment.run))


def typing_passes() -> tuple[tuple[str, Pass], ...]:
    """The passes that give each value its type: run again while a recursive call's return type settles."""
    return (("types", versions.run),)


def slot_passes() -> tuple[tuple[str, Pass], ...]:
    """The passes that give the typed values their frame slots."""
    return (("liveness", liveness.run),)


def signature_passes() -> tuple[tuple[str, Pass], ...]:
    """Passes run for each signature of argument types, on the signature's own copy of the IR."""
    return (*typing_passes(), *slot_passes())


def optimize(function: ir.Function, facts: Facts, passes: Sequence[tuple[str, Pass]] | None = None) -> Facts:
    """Run ``passes`` (all of them by default) over ``function``; ``facts`` collects what they learn."""
    pipeline = passes if passes is not None else (*function_passes(), *signature_passes())
    for name, run in pipeline:
        try:
            run(function, facts)
        except UnsupportedError as error:
            error.stage = f"optimizer:{name}"
            error.args = (f"{error.filename}, line {error.line}: {error.construct} [{error.stage}]",)
            raise
    return facts


# The passes import Facts from here, so they come last.  Imported once, at import: an import statement run
# during compilation goes through importlib's Python code, which calls the real builtins (jit/_isolation.py).
from jit.optimizer import assignment, constants, liveness, versions  # noqa: E402
