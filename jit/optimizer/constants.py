"""Constant folding: an operation on constants becomes its value, computed by Python itself.

The folding rule of each op is its declaration's (jit/ops.py): the interpreter's own operation, so the
folded value is exactly the interpreter's.  An operation that raises (or whose rule refuses: a huge power, a
warning) is left in place to do so at run time, and results that are not small numbers or bools are not
folded.
"""

from __future__ import annotations

from jit import ir, ops
from jit.optimizer import Facts

INT64 = range(-(2**63), 2**63)
FOLDED = frozenset({ir.Opcode.BINARY_OP, ir.Opcode.UNARY_OP, ir.Opcode.COMPARE_OP})


def foldable(value: object) -> bool:
    return type(value) is float or (type(value) in (int, bool) and value in INT64)


def run(function: ir.Function, facts: Facts) -> None:
    """Fold, then propagate folded temporaries into their uses, until neither changes anything: a fold makes
    constants to propagate, and a propagation makes operations to fold (``range(n)``'s step)."""
    while True:
        folded = fold(function)
        propagated = propagate(function)
        if not (folded or propagated):
            return


def fold(function: ir.Function) -> bool:
    changed = False
    for op in function.ops:
        if op.opcode not in FOLDED or not op.args or not all(type(a) is ir.Const for a in op.args):
            continue
        rule = ops.lookup(op.opcode, op.arg).fold
        if rule is None:
            continue
        try:
            value = rule(*(a.value for a in op.args))  # type: ignore[union-attr]
        except (ArithmeticError, ValueError, TypeError):
            continue
        if foldable(value):
            op.opcode, op.args, op.arg = ir.Opcode.LOAD_CONST, (ir.Const(value),), None  # type: ignore[arg-type]
            changed = True
    return changed


def propagate(function: ir.Function) -> bool:
    """Replace uses of temporaries that are only ever a constant (temporaries are assigned once)."""
    # By variable number (a Var hashes through Python code; collections.Counter would call the real
    # builtins' isinstance, which the program may have rebound: jit/_isolation.py).
    assignments = [0] * len(function.variables)
    for op in function.ops:
        for var in op.written():
            assignments[var.slot] += 1
    constant: dict[int, ir.Const] = {
        op.dst.slot: op.args[0] for op in function.ops  # type: ignore[misc]
        if op.opcode is ir.Opcode.LOAD_CONST and op.dst is not None and op.dst.name.startswith("$")
        and assignments[op.dst.slot] == 1
    }
    if not constant:
        return False
    changed = False
    for op in function.ops:
        args = op.args
        if any(type(a) is ir.Var and a.slot in constant for a in args):
            op.args = tuple(constant.get(a.slot, a) if type(a) is ir.Var else a  # type: ignore[union-attr]
                            for a in args)
            changed = True
    return changed
