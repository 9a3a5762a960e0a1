"""Definite assignment: a read of a variable that may be unbound is checked when it runs.

The analysis is a must-analysis over basic blocks: the set of surely assigned
variables at a block's entry is the intersection over its predecessors, kept as
a bit set (an int, bit ``var.slot``), so a round costs one pass over the blocks.

A read that may find its variable unbound (assigned on some paths only, or after
``del``) gets a CHECK_BOUND op where the expression reads it (``Op.loaded``: before
the ops of later operands), which raises the interpreter's UnboundLocalError when
the variable is unbound, as its LOAD_FAST_CHECK does.
Such a variable is an object everywhere: each of its assignments is boxed (a
BOX op after it), so its slot holds NULL until it is assigned (the frame's
object slots start NULL; ``del`` makes it NULL again) and the check reads one
word.  The other variables stay as they are, unboxed where their types allow.
"""

from __future__ import annotations

import heapq

from jit import ir
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
    unsure: dict[int, list[ir.Var]] = {}  # op index -> the variables read there that may be unbound
    for position, block in enumerate(blocks):
        reached = entry[position]
        if reached is None:
            continue  # unreachable: never runs
        assigned: set[int] = set()  # by variable number: a Var hashes through Python code
        as_bytes = reached.to_bytes(len(function.variables) // 8 + 1, "little")  # a bit's test in constant time
        deleted: set[int] = set()
        for index in range(block.start, block.end + 1):
            op = ops[index]
            for place, operand in enumerate(op.args):
                if type(operand) is ir.Var and operand.slot not in assigned:
                    number = operand.slot
                    if number in deleted or not as_bytes[number >> 3] >> (number & 7) & 1:
                        # Checked where the expression reads it, which may be before the ops of later operands.
                        read = op.loaded[place] if op.loaded and op.loaded[place] >= 0 else index
                        unsure.setdefault(read, []).append(operand)
                    assigned.add(number)  # checked once per block: after a check, it is bound
            if op.dst is not None:
                assigned.add(op.dst.slot)
                deleted.discard(op.dst.slot)
            elif op.opcode is ir.Opcode.DELETE_FAST:
                deleted.add(op.args[0].slot)  # type: ignore[union-attr]
                assigned.discard(op.args[0].slot)  # type: ignore[union-attr]
    if unsure:
        check_reads(function, unsure)


def check_reads(function: ir.Function, unsure: dict[int, list[ir.Var]]) -> None:
    """A CHECK_BOUND before each read in ``unsure``, and a BOX after each assignment of those variables."""
    boxed = {var.slot for read in unsure.values() for var in read}
    checked = {index: [(var, var.name) for var in read] for index, read in unsure.items()}  # with the source's name
    ops: list[ir.Op] = []
    # A parameter holds its argument, unboxed where the signature says so: the function works on a boxed copy,
    # made first (a branch to the first op lands after it).
    copies = {param.slot: function.new_var(f"{param.name}$boxed") for param in function.params if param.slot in boxed}
    for param in function.params:
        if param.slot in copies:
            ops.append(ir.Op(ir.Opcode.BOX, dst=copies[param.slot], args=(param,), line=function.first_line))
            boxed.add(copies[param.slot].slot)
    if copies:
        for op in function.ops:
            op.args = tuple(copies.get(a.slot, a) if type(a) is ir.Var else a for a in op.args)
            if op.dst is not None:
                op.dst = copies.get(op.dst.slot, op.dst)
        checked = {index: [(copies.get(var.slot, var), name) for var, name in read] for index, read in checked.items()}
    moved: list[int] = []  # old op index -> new index (of its checks, where a branch to it now lands)
    for index, op in enumerate(function.ops):
        moved.append(len(ops))
        for var, name in checked.get(index, ()):
            ops.append(ir.Op(ir.Opcode.CHECK_BOUND, args=(var,), arg=name, line=op.line, handler=op.enclosing))
        ops.append(op)
        if op.dst is not None and op.dst.slot in boxed:
            # After the op, on its normal edge only: a loop's target into the body, a result when no exception.
            variable, op.dst = op.dst, function.new_var(f"{op.dst.name}$value")
            ops.append(ir.Op(ir.Opcode.BOX, dst=variable, args=(op.dst,), line=op.line))
    moved.append(len(ops))
    function.ops = ops
    function.labels = {label: moved[index] for label, index in function.labels.items()}
