"""Constant folding: an operation on constants becomes its value, computed by Python itself.

Folding uses the interpreter's own arithmetic, so the folded value is exactly
the interpreter's; an operation that raises is left in place to raise at run
time, and results that are not small numbers (big ints, huge powers) are not
folded.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable

from jit import ir
from jit.optimizer import Facts

BINARY: dict[str, Callable[[object, object], object]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}
MAX_FOLDED_EXPONENT = 64  # an int ** int beyond this is not an int64 unless its base is 0 or ±1
INT64 = range(-(2**63), 2**63)


def foldable(value: object) -> bool:
    return type(value) is float or (type(value) in (int, bool) and value in INT64)


def run(function: ir.Function, facts: Facts) -> None:
    """Fold, then propagate folded temporaries into their uses, until nothing changes."""
    while fold(function) and propagate(function):
        pass


def fold(function: ir.Function) -> bool:
    changed = False
    for op in function.ops:
        if op.opcode is not ir.Opcode.BINARY_OP or op.arg is None or ir.binary_operator(op.arg) not in BINARY:
            continue
        left, right = op.args
        if not (isinstance(left, ir.Const) and isinstance(right, ir.Const)):
            continue
        if ir.binary_operator(op.arg) == "**" and not cheap_power(left.value, right.value):
            continue  # 2 ** 10**9 would take the compiler minutes
        try:
            value = BINARY[ir.binary_operator(op.arg)](left.value, right.value)
        except ArithmeticError:
            continue
        if foldable(value):
            op.opcode, op.args, op.arg = ir.Opcode.LOAD_CONST, (ir.Const(value),), None  # type: ignore[arg-type]
            changed = True
    return changed


def cheap_power(base: object, exponent: object) -> bool:
    if type(base) is float or type(exponent) is float:
        return True
    return abs(exponent) <= MAX_FOLDED_EXPONENT or abs(base) <= 1  # type: ignore[arg-type]


def propagate(function: ir.Function) -> bool:
    """Replace uses of temporaries that are only ever a constant (temporaries are assigned once)."""
    assignments = Counter(var for op in function.ops for var in op.written())
    constant: dict[ir.Operand, ir.Operand] = {
        op.dst: op.args[0] for op in function.ops
        if op.opcode is ir.Opcode.LOAD_CONST and op.dst is not None and op.dst.name.startswith("$")
        and assignments[op.dst] == 1
    }
    changed = False
    for op in function.ops:
        if any(a in constant for a in op.args):
            op.args = tuple(constant.get(a, a) for a in op.args)
            changed = True
    return changed
