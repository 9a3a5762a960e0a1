"""Basic blocks of a function's IR, for the passes that solve data-flow problems.

A block is a maximal run of ops entered only at its first op and left only at
its last; a pass then works once per op and iterates only over blocks, so
its cost is linear in the ops times the number of rounds its lattice needs.
"""

from __future__ import annotations

from jit import ir
from jit.records import field, record


@record
class Block:
    start: int  # index of its first op
    end: int  # index of its last op (inclusive)
    successors: list[int] = field(default_factory=list)  # block numbers
    predecessors: list[int] = field(default_factory=list)


# The data-flow passes name a variable by its number (Var.slot, its index in Function.variables): ints hash
# in constant time, a Var (a frozen dataclass) through a Python-level __hash__.


def kills(op: ir.Op) -> int:
    """The variable ``op`` surely overwrites (-1: none): its destination, except a loop iteration's (assigned
    only when the loop goes on, so the old value may still be read after the loop) and that of an op with a
    handler (not assigned when it raises, on the edge to the handler)."""
    if op.dst is None or op.opcode in ir.LOOP_ITERATIONS or op.handler is not None:
        return -1
    return op.dst.slot


def uses(op: ir.Op) -> list[int]:
    """The variables ``op`` reads."""
    return [operand.slot for operand in op.args if isinstance(operand, ir.Var)]


def effects(function: ir.Function) -> tuple[list[list[int]], list[int]]:
    """``uses`` and ``kills`` of every op, computed once for the passes that walk the ops more than once."""
    ops = function.ops
    return [uses(op) for op in ops], [kills(op) for op in ops]


def basic_blocks(function: ir.Function) -> list[Block]:
    ops = function.ops
    leaders = {0, *function.labels.values()} if ops else set()
    for index, op in enumerate(ops):
        if op.target is not None or op.opcode in ir.TERMINATORS or op.handler is not None:
            leaders.add(index + 1)  # an op with a handler ends its block: it has an edge there
    starts = sorted(leader for leader in leaders if leader < len(ops))
    number = {start: position for position, start in enumerate(starts)}
    blocks = [Block(start, end - 1) for start, end in zip(starts, [*starts[1:], len(ops)], strict=True)]
    for position, block in enumerate(blocks):
        for successor in function.successors(block.end):
            if number[successor] not in block.successors:
                block.successors.append(number[successor])
                blocks[number[successor]].predecessors.append(position)
    return blocks


def assigned_on(function: ir.Function, block: Block, successor: Block) -> int:
    """The variable the last op of ``block`` assigns on its edge to ``successor`` (-1: none): a loop's target
    on the edge into the body only, an op's result not on the edge to its handler (it raised)."""
    last = function.ops[block.end]
    if last.dst is None:
        return -1
    if last.opcode in ir.LOOP_ITERATIONS:
        return last.dst.slot if successor.start == block.end + 1 else -1
    if last.handler is not None:
        handler = function.labels[last.handler]
        normal = successor.start == block.end + 1 or (last.target is not None and
                                                      successor.start == function.target_index(last))
        return -1 if successor.start == handler and not normal else last.dst.slot
    return last.dst.slot


def reachable(blocks: list[Block]) -> list[bool]:
    """Which blocks the entry reaches."""
    reached = [False] * len(blocks)
    pending = [0] if blocks else []
    while pending:
        position = pending.pop()
        if reached[position]:
            continue
        reached[position] = True
        pending.extend(s for s in blocks[position].successors if not reached[s])
    return reached
