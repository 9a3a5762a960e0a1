"""Definite assignment: a read of a variable that may be unbound is refused.

Such a read would raise UnboundLocalError in the interpreter, so the function
runs there instead of the compiled code reading garbage.  The analysis is a
must-analysis over basic blocks: the set of surely assigned variables at a
block's entry is the intersection over its predecessors, kept as a bit set
(an int, bit ``var.slot``), so a round costs one pass over the blocks.  Only
the reads are checked; deoptimization uses liveness instead (a variable live
at a reachable op is surely assigned there, since every read is).
"""

from __future__ import annotations

import heapq

from jit import ir
from jit.errors import UnsupportedError
from jit.optimizer import Facts
from jit.optimizer.blocks import assigned_on, basic_blocks


def run(function: ir.Function, facts: Facts) -> None:
    blocks = basic_blocks(function)
    if not blocks:
        return
    ops = function.ops
    # Per block: the variables it assigns before its last op, and those it deletes (`del x`) last.
    assigned_within, deleted_within = [], []
    for block in blocks:
        bits = deleted_bits = 0
        for index in range(block.start, block.end):
            op = ops[index]
            if op.dst is not None:
                bits |= 1 << op.dst.slot
                deleted_bits &= ~(1 << op.dst.slot)
            elif op.opcode is ir.Opcode.DELETE_FAST:
                bit = 1 << op.args[0].slot  # type: ignore[union-attr]
                bits &= ~bit
                deleted_bits |= bit
        assigned_within.append(bits)
        deleted_within.append(deleted_bits)
    entry: list[int | None] = [None] * len(blocks)  # None: not reached yet (top of the must-lattice)
    entry[0] = sum(1 << param.slot for param in set(function.params))
    # Blocks in the order of their ops (for structured code, an order in which a block's predecessors come
    # first except along back edges), so that each is processed about once per enclosing loop.
    pending = [0]
    queued = {0}
    while pending:
        position = heapq.heappop(pending)
        queued.discard(position)
        block = blocks[position]
        before_last = entry[position] & ~deleted_within[position] | assigned_within[position]  # type: ignore[operator]
        last = ops[block.end]
        if last.opcode is ir.Opcode.DELETE_FAST:
            before_last &= ~(1 << last.args[0].slot)  # type: ignore[union-attr]
        for successor in block.successors:
            # A loop iteration assigns its target only into the loop; an op not when it raises.
            on_edge = assigned_on(function, block, blocks[successor])
            after = before_last if on_edge < 0 else before_last | 1 << on_edge
            known = entry[successor]
            merged = after if known is None else known & after
            if merged != known:
                entry[successor] = merged
                if successor not in queued:
                    queued.add(successor)
                    heapq.heappush(pending, successor)
    for position, block in enumerate(blocks):
        reached = entry[position]
        if reached is None:
            continue  # unreachable: never runs
        assigned: set[int] = set()  # by variable number: a Var hashes through Python code
        as_bytes = reached.to_bytes(len(function.variables) // 8 + 1, "little")  # a bit's test in constant time
        deleted: set[int] = set()
        for index in range(block.start, block.end + 1):
            op = ops[index]
            for operand in op.args:
                if type(operand) is ir.Var and operand.slot not in assigned:
                    number = operand.slot
                    if number in deleted or not as_bytes[number >> 3] >> (number & 7) & 1:
                        raise UnsupportedError(
                            f"local variable {operand.name!r} may be read before it is assigned",
                            function.filename, op.line)
                    assigned.add(number)  # checked once per block
            if op.dst is not None:
                assigned.add(op.dst.slot)
                deleted.discard(op.dst.slot)
            elif op.opcode is ir.Opcode.DELETE_FAST:
                deleted.add(op.args[0].slot)  # type: ignore[union-attr]
                assigned.discard(op.args[0].slot)  # type: ignore[union-attr]
