"""Liveness and frame slots: which variables the rest of the function may still read, and where they live.

* Liveness: the variables live at each block's end (a backward worklist over
  basic blocks, on Python sets); within a block it follows op by op with
  ``blocks.kills`` and ``blocks.uses``, computed once for every op (``blocks.effects``, kept in
  ``Liveness.reads`` and ``Liveness.kills`` for the lowering).  The deoptimization tables box
  exactly the variables live where the generic tier resumes: it reads nothing
  else before writing it.  (A variable live at a reachable op is surely
  assigned there, since definite assignment checked every read.)
* Slots: a variable's live range is cut into *webs*, the parts that its
  assignments and the reads of their values connect (two assignments of ``x``
  whose values never meet are two webs), and webs whose extents do not
  overlap share a frame slot (linear scan).  So the frame, and every deopt
  table, is as large as the number of values live at once, not as the number
  of variables, which grows with the length of the function.

Everything is linear in the ops, times the number of variables live at a
block boundary (which does not grow with the length of the function).
"""

from __future__ import annotations

import heapq

from jit import ir, ops
from jit.optimizer import Facts
from jit.optimizer.blocks import Block, basic_blocks, effects, reachable
from jit.records import record

ENTRY = -1  # the point before op 0, where the arguments arrive in slots 0..n-1


@record
class Liveness:
    """Variables are named by their numbers (``Var.slot``), as in jit.optimizer.blocks."""

    blocks: list[Block]
    reached: list[bool]  # per block
    live_out: list[frozenset[int]]  # per block: the variables live after its last op
    block_at: list[int]  # op index -> block number
    homes_at: list[dict[int, int]]  # op index -> the slots of the variables it reads and writes
    homes_out: list[dict[int, int]]  # per block: the slots of the variables live after its last op
    reads: list[list[int]]  # op index -> blocks.uses of the op
    kills: list[int]  # op index -> blocks.kills of the op
    variable_slots: int  # frame slots the variables need
    rounds: int  # blocks the fixpoint processed (how much work it took)
    first_object: int = 0  # the objects' slots: first_object .. first_object + objects - 1 (the last few spare)
    objects: int = 0

    def home(self, var: int, index: int) -> int:
        """The slot of variable ``var`` at op ``index``, which reads or writes it."""
        return self.homes_at[index][var]


class _Intervals:
    """Intervals of variables over op indices, joined into webs with union-find."""

    def __init__(self) -> None:
        self.var: list[int] = []
        self.start: list[int] = []
        self.end: list[int] = []
        self.parent: list[int] = []

    def add(self, var: int, start: int, end: int) -> int:
        self.var.append(var)
        self.start.append(start)
        self.end.append(end)
        self.parent.append(len(self.parent))
        return len(self.parent) - 1

    def root(self, interval: int) -> int:
        parent = self.parent
        while parent[interval] != interval:
            parent[interval] = parent[parent[interval]]
            interval = parent[interval]
        return interval

    def join(self, a: int, b: int) -> None:
        a, b = self.root(a), self.root(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def solve(blocks: list[Block], reads: list[list[int]], kills: list[int],
          edge_kills: dict[tuple[int, int], int] | None = None) -> tuple[list[frozenset[int]], int]:
    """Live-out sets per block, and the number of blocks processed.

    ``edge_kills`` names variables written on one edge only, (block, successor) -> variable: FOR_ITER_RANGE
    assigns its target on the edge into the loop body, not on the exit.  Without it the target counts as
    live before the loop (it is not killed by the op), which is what the slots need (the op writes it where
    the body reads it); the types need the precise answer (jit/optimizer/versions.py).

    A worklist of blocks, the last one first (a heap on the block number): for
    structured code a block's successors then come before it, except along
    back edges, so each block is processed about once per enclosing loop.
    """
    used: list[frozenset[int]] = []  # read before any write in the block
    killed: list[frozenset[int]] = []
    for block in blocks:
        read: set[int] = set()
        written: set[int] = set()
        for index in range(block.start, block.end + 1):
            read.update(var for var in reads[index] if var not in written)
            written.add(kills[index])
        written.discard(-1)
        used.append(frozenset(read))
        killed.append(frozenset(written))
    live_in = list(used)
    live_out: list[frozenset[int]] = [frozenset()] * len(blocks)
    pending = [-position for position in range(len(blocks))]
    heapq.heapify(pending)
    queued = [True] * len(blocks)
    rounds = 0
    while pending:
        position = -heapq.heappop(pending)
        queued[position] = False
        rounds += 1
        if edge_kills:
            out = frozenset().union(*(live_in[s] - {edge_kills[position, s]} if (position, s) in edge_kills
                                      else live_in[s] for s in blocks[position].successors))
        else:
            out = frozenset().union(*(live_in[s] for s in blocks[position].successors))
        live_out[position] = out
        new_in = used[position] | (out - killed[position])
        if new_in != live_in[position]:
            live_in[position] = new_in
            for predecessor in blocks[position].predecessors:
                if not queued[predecessor]:
                    queued[predecessor] = True
                    heapq.heappush(pending, -predecessor)
    return live_out, rounds


def intervals(function: ir.Function, blocks: list[Block], live_out: list[frozenset[int]],
              occurrences: list[dict[int, int]], reads: list[list[int]],
              kills: list[int]) -> tuple[_Intervals, dict[int, int], list[dict[int, int]]]:
    """Every variable's intervals, from a write or its block's start to its last read or its block's end,
    joined across the edges it is live on, and across ops that read and write it (the op names one slot).

    ``occurrences`` gets, per op, the interval of each variable it reads or writes.  Returns the intervals,
    those of the variables live at the entry, and per block those of the variables live at its end.
    """
    ops = function.ops
    found = _Intervals()
    # The intervals' columns, appended to inline (_Intervals.add): a long function has tens of thousands.
    var_of, start_of, end_of, parent = found.var, found.start, found.end, found.parent
    entering: list[dict[int, int]] = []  # per block: the interval of each variable live at its start
    leaving: list[dict[int, int]] = []  # per block: ... at its end
    for position, block in enumerate(blocks):
        # The interval of each variable live at the op being visited (its start is set when it closes).
        first, last = block.start, block.end
        live = live_out[position]
        base = len(parent)
        open_at = dict(zip(live, range(base, base + len(live)), strict=True))
        var_of.extend(live)  # the same order as the dict's
        start_of.extend([first] * len(live))
        end_of.extend([last] * len(live))
        parent.extend(range(base, base + len(live)))
        leaving.append(dict(open_at))
        for index in range(last, first - 1, -1):
            op = ops[index]
            read = reads[index]
            here = occurrences[index]
            dst = op.dst
            if dst is not None and dst.slot not in read:
                target = dst.slot
                interval = open_at.get(target)
                if interval is None:  # a value nobody reads, or FOR_ITER_RANGE's target read only in the loop
                    interval = len(parent)
                    var_of.append(target)
                    start_of.append(index)
                    end_of.append(index)
                    parent.append(interval)
                elif kills[index] == target:
                    start_of[interval] = index
                    del open_at[target]
                here[target] = interval
            for var in read:
                interval = open_at.get(var)
                if interval is None:
                    interval = open_at[var] = len(parent)
                    var_of.append(var)
                    start_of.append(first)
                    end_of.append(index)
                    parent.append(interval)
                here[var] = interval
        entering.append(open_at)  # their starts stay the block's
    # found.join, inline: an edge per block and a join per variable live across it.
    for position, block in enumerate(blocks):
        out = leaving[position]
        for successor in block.successors:
            for var, interval in entering[successor].items():
                a = out[var]
                while parent[a] != a:
                    parent[a] = parent[parent[a]]
                    a = parent[a]
                b = interval
                while parent[b] != b:
                    parent[b] = parent[parent[b]]
                    b = parent[b]
                if a < b:
                    parent[b] = a
                elif b < a:
                    parent[a] = b
    return found, entering[0] if entering else {}, leaving


def allocate(function: ir.Function, found: _Intervals, at_entry: dict[int, int],
             boxed: list[bool]) -> tuple[list[int], int, int]:
    """A slot per interval (the same for a web), by linear scan over the webs' extents; parameters keep
    slots 0..n-1.  Webs of objects (``boxed`` by variable number) share slots only with each other, and
    theirs come after all the others: the specialized tier keeps them NULL or owning a reference, so that
    one range of slots is set to NULL on entry and released on exit.  An object of a local the program names
    (any of its versions) keeps one slot to the end: the interpreter keeps a local's value until the local is
    rebound or deleted, or the function returns, and a slot given to another value would release it there
    (a weak reference to it would die early).  Returns the slot of every interval, the number of slots and
    the first of the objects' slots."""
    # A web's root is its smallest interval and every interval's parent is smaller than itself (join links the
    # larger root under the smaller, path halving only skips ancestors), so one pass in increasing order
    # finds every root, and a web's extent, without walking any path.
    root: list[int] = []
    low = list(found.start)  # at a web's root: the extent of the whole web
    high = list(found.end)
    for interval, above in enumerate(found.parent):
        if above == interval:
            root.append(interval)
            continue
        web = root[above]
        root.append(web)
        if low[interval] < low[web]:
            low[web] = low[interval]
        if high[interval] > high[web]:
            high[web] = high[interval]
    var_of = found.var
    names = [var.name for var in function.variables]
    end = len(function.ops)
    pinned: dict[int, int] = {}  # variable number -> the one web of a named local's object
    for param in function.params:
        if boxed[param.slot]:
            pinned[param.slot] = root[at_entry[param.slot]]
    for web, first in enumerate(root):
        var = var_of[web]
        if web == first and boxed[var] and not names[var].startswith("$") and "@" not in names[var]:
            kept = pinned.setdefault(var, web)
            low[kept] = min(low[kept], low[web])
            high[kept] = end
    if pinned:
        root = [pinned.get(var_of[web], web) for web in root]
    slot_of = [-1] * len(root)  # per web root; an object's slot counted among the objects' until the end
    active: list[tuple[int, int, int]] = []  # (last op, is an object's, slot) of the webs holding a slot
    for position, param in enumerate(function.params):
        web = root[at_entry[param.slot]]
        slot_of[web] = position
        if not boxed[param.slot]:  # an object parameter keeps its slot, and its reference, to the end
            heapq.heappush(active, (high[web], 0, position))
    free: tuple[list[int], list[int]] = ([], [])  # per class: numbers, objects'
    count = [len(function.params), 0]
    # By extent; equal extents in the order of their roots (what a stable sort of the roots would give).
    webs = sorted((low[web], high[web], web) for web, first in enumerate(root) if web == first and slot_of[web] < 0)
    for _, _, web in webs:
        while active and active[0][0] < low[web]:
            _, released, slot = heapq.heappop(active)
            heapq.heappush(free[released], slot)
        kind = 1 if boxed[var_of[web]] else 0
        if free[kind]:
            slot = heapq.heappop(free[kind])
        else:
            slot = count[kind]
            count[kind] += 1
        slot_of[web] = slot
        heapq.heappush(active, (high[web], kind, slot))
    first_object = count[0]
    params = {root[at_entry[param.slot]] for param in function.params}
    slots = [slot_of[web] + first_object if boxed[var_of[web]] and web not in params else slot_of[web]
             for web in root]
    return slots, count[0] + count[1], first_object


def analyse(function: ir.Function, boxed: list[bool] | None = None, spare_objects: int = 0) -> Liveness:
    blocks = basic_blocks(function)
    reads, kills = effects(function)
    live_out, rounds = solve(blocks, reads, kills)
    occurrences: list[dict[int, int]] = [{} for _ in function.ops]
    found, live_at_entry, leaving = intervals(function, blocks, live_out, occurrences, reads, kills)
    # The arguments arrive before op 0: each parameter's web starts at ENTRY, and goes on if op 0 needs it.
    at_entry: dict[int, int] = {}
    for param in function.params:
        at_entry[param.slot] = found.add(param.slot, ENTRY, ENTRY)
        if param.slot in live_at_entry:
            found.join(at_entry[param.slot], live_at_entry[param.slot])
    if boxed is None:
        boxed = [False] * len(function.variables)
    slot_of, count, first_object = allocate(function, found, at_entry, boxed)
    objects = count - first_object + spare_objects  # and scratch slots for boxing operands of ops on objects
    count = first_object + objects
    homes_at = [{var: slot_of[interval] for var, interval in here.items()} for here in occurrences]
    homes_out = [{var: slot_of[interval] for var, interval in out.items()} for out in leaving]
    block_at = [0] * len(function.ops)
    for position, block in enumerate(blocks):
        block_at[block.start : block.end + 1] = [position] * (block.end - block.start + 1)
    return Liveness(blocks, reachable(blocks), live_out, block_at, homes_at, homes_out, reads, kills, count, rounds,
                    first_object, objects)


def released_temporaries(function: ir.Function, liveness: Liveness) -> list[tuple[int, ...]]:
    """Per op, the temporaries (the frontend's ``$`` variables, in any version) whose value nobody reads after
    it: the ones it reads last, and its result when nothing reads that.  The interpreter's stack lets go of
    such a value there (the consuming instruction's decref, POP_TOP); a slot kept until it is written again
    would run a ``__del__`` late, or keep a large value alive to the end of the loop.  Locals are not here:
    their values live until rebound (``allocate``)."""
    temporary = [var.name.startswith("$") for var in function.variables]
    released: list[tuple[int, ...]] = [()] * len(function.ops)
    ops_, reads, kills = function.ops, liveness.reads, liveness.kills
    for position, block in enumerate(liveness.blocks):
        live = set(liveness.live_out[position])
        for index in range(block.end, block.start - 1, -1):
            op = ops_[index]
            dst = op.dst.slot if op.dst is not None else -1
            ending = {var for var in reads[index] if temporary[var] and var not in live and var != dst}
            if dst >= 0 and temporary[dst] and dst not in live and dst not in reads[index]:
                ending.add(dst)
            if ending:
                released[index] = tuple(sorted(ending))
            live.discard(kills[index])
            live.update(reads[index])
    return released


def computes_on_objects(function: ir.Function, kinds: list[ir.Type]) -> bool:
    """Whether some op of the typed function is computed on objects (jit/ops.py: computed_on_objects)."""
    if ir.Type.OBJECT in kinds:
        return True
    for op in function.ops:
        types = [kinds[a.slot] if type(a) is ir.Var else ir.constant_type(a.value)  # type: ignore[union-attr]
                 for a in op.args]
        if ops.computed_on_objects(op.opcode, op.arg, types, None if op.dst is None else kinds[op.dst.slot]):
            return True
    return False


def run(function: ir.Function, facts: Facts) -> None:
    boxed = [kind is ir.Type.OBJECT for kind in facts.kinds] if facts.kinds else None
    # An op computed on objects boxes its unboxed operands into spare object slots (at most its arity), plus
    # one for a result nobody keeps (range()'s check); a function with none needs none (nor their release).
    spare = max((len(op.args) for op in function.ops), default=0) + 1 if computes_on_objects(
        function, facts.kinds) else 0
    facts.liveness = analyse(function, boxed, spare)
