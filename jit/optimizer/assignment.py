"""Definite assignment: which variables surely hold a value before each op.

The deoptimizer boxes exactly those; a read of a variable that may be unbound
(which would raise UnboundLocalError in the interpreter) is refused, so that
such functions run in the interpreter instead of reading garbage.
"""

from __future__ import annotations

from jit import ir
from jit.errors import UnsupportedError
from jit.optimizer import Facts


def run(function: ir.Function, facts: Facts) -> None:
    everything = frozenset(function.variables)
    before: list[frozenset[ir.Var]] = [everything] * len(function.ops)  # top of the must-lattice
    if function.ops:
        before[0] = frozenset(function.params)
    reached = [False] * len(function.ops)
    if function.ops:
        reached[0] = True
    worklist = [0] if function.ops else []
    while worklist:
        index = worklist.pop()
        op = function.ops[index]
        for successor in function.successors(index):
            # FOR_ITER_RANGE assigns its target only when it does not leave the loop.
            taken_exit = op.opcode is ir.Opcode.FOR_ITER_RANGE and successor == function.target_index(op)
            after = before[index] if taken_exit else before[index] | ({op.dst} if op.dst is not None else set())
            merged = after if not reached[successor] else before[successor] & after
            if not reached[successor] or merged != before[successor]:
                reached[successor] = True
                before[successor] = merged
                worklist.append(successor)
    for index, op in enumerate(function.ops):
        if not reached[index]:
            before[index] = frozenset()
            continue
        for operand in op.args:
            if isinstance(operand, ir.Var) and operand not in before[index]:
                raise UnsupportedError(
                    f"local variable {operand.name!r} may be read before it is assigned",
                    function.filename, op.line)
    facts.assigned_before = before
