"""Types per value: every block is copied per combination of the types its live variables hold on entry.

This is basic block versioning (Chevalier-Boisvert and Feeley, "Simple and Effective Type Check Removal
through Lazy Basic Block Versioning", ECOOP 2015), done eagerly at compile time on the IR of one
signature.  Starting from the entry with the argument types, each block is typed op by op (the registry's
type rules, jit/ops.py); at its end each successor is given the types of the variables live there, and a
successor reached with types it has no version for gets a new copy.  So

    s = 0
    for i in range(n):
        s += i * 0.5

has the loop twice: once with ``s`` an int (the first iteration), then with ``s`` a float, which loops on
itself; after the loop, ``s`` is an int or a float depending on the path, and each path returns its own.

Every variable of the result has one type: a variable that holds values of several types is renamed per type
(``s`` and ``s$float``), so liveness, slots and deoptimization see one representation per variable.  A block
already copied ``MAX_VERSIONS`` times takes a general version instead, where each variable on which its
versions disagree is an object (type OBJECT: boxed, in the same machine code as the unboxed values); the edges
into it box what they bring unboxed (``BOX`` ops).  Values no rule can type (``int ** int``, an object a
callee returns) are objects too: nothing sends the whole signature to the generic tier any more.

The pass rewrites ``function`` (the driver gives each signature its own copy, ``ir.Function.copy``) and
leaves in ``facts`` every variable's type, the return type, and the calls whose callees' return types it
needed but was not given (``facts.callees_wanted``): compiling them is the driver's step.
"""

from __future__ import annotations

from jit import ir, ops
from jit.ir import Opcode, Type, constant_type
from jit.optimizer import Facts
from jit.optimizer.blocks import assigned_on, basic_blocks, effects
from jit.optimizer.liveness import solve

MAX_VERSIONS = 4  # copies of one block before its general version (bounds the code at 4x plus the general)
NEXT, TARGET, HANDLER = "next", "target", "handler"  # a block's edges: fall-through, branch, exception


class _Version:
    __slots__ = ("block", "exits", "first", "label", "ops", "types")

    def __init__(self, block: int, types: tuple[Type, ...], label: ir.Label, first: bool) -> None:
        self.block = block
        self.first = first  # the block's first version: it may keep the block's own ops
        self.types = types  # of the block's live-in variables, in the order of Versioning.live_in[block]
        self.label = label
        self.ops: list[ir.Op] = []
        # Per successor edge: (its kind: NEXT, TARGET or HANDLER; the target version; conversions on the edge)
        self.exits: list[tuple[str, _Version, list[ir.Op]]] = []


class Versioning:
    def __init__(self, function: ir.Function, facts: Facts) -> None:
        self.function = function
        self.facts = facts
        self.blocks = basic_blocks(function)
        reads, kills = effects(function)
        # A loop's target is assigned on the edge into the body only, an op's result not on its handler's.
        edge_kills = {}
        for position, block in enumerate(self.blocks):
            last = function.ops[block.end]
            if last.dst is not None and kills[block.end] < 0:
                for successor in block.successors:
                    assigned = assigned_on(function, block, self.blocks[successor])
                    if assigned >= 0:
                        edge_kills[position, successor] = assigned
        live_out, _ = solve(self.blocks, reads, kills, edge_kills)
        # The variables live at each block's entry, sorted: a version is keyed by their types.
        self.live_in: list[tuple[int, ...]] = []
        for position, block in enumerate(self.blocks):
            live = set(live_out[position])
            for index in range(block.end, block.start - 1, -1):
                if kills[index] >= 0:
                    live.discard(kills[index])
                live.update(reads[index])
            self.live_in.append(tuple(sorted(live)))
        self.block_of = {block.start: position for position, block in enumerate(self.blocks)}
        self.versions: list[list[_Version]] = [[] for _ in self.blocks]
        self.pending: list[_Version] = []
        self.variables = list(function.variables)
        # The type each variable is first given keeps its name; another type gets a renamed copy.
        self.primary: list[Type | None] = [None] * len(function.variables)
        self.renamed: dict[tuple[int, Type], ir.Var] = {}
        self.kinds: list[Type] = [Type.UNKNOWN] * len(function.variables)
        self.returned = Type.UNKNOWN
        self.rules: dict[tuple[Opcode, str | None], ops.TypeRule] = {}  # the registry's, by (opcode, arg)

    def var(self, original: ir.Var, kind: Type) -> ir.Var:
        """The variable that holds ``original``'s values of type ``kind``."""
        number = original.slot
        primary = self.primary[number]
        if primary is None:
            self.primary[number] = kind
            self.kinds[number] = kind
            return original
        if primary is kind:
            return original
        key = (number, kind)
        var = self.renamed.get(key)
        if var is None:
            var = self.renamed[key] = ir.Var(len(self.variables), f"{original.name}${kind.value}")
            self.variables.append(var)
            self.kinds.append(kind)
        return var

    def version(self, position: int, types: tuple[Type, ...]) -> _Version:
        for existing in self.versions[position]:
            if existing.types == types:
                return existing
        count = len(self.versions[position])
        if count >= MAX_VERSIONS:
            # The general version: where the versions disagree, an object.
            general = tuple(
                kind if all(v.types[i] is kind for v in self.versions[position]) else Type.OBJECT
                for i, kind in enumerate(types))
            if general != types:
                return self.version(position, general)
        start = self.blocks[position].start
        label = ir.Label(f"b{start}" + (f".v{count}" if count else ""))
        made = _Version(position, types, label, first=not count)
        self.versions[position].append(made)
        self.pending.append(made)
        return made

    def run(self) -> None:
        function = self.function
        if not function.ops:
            return
        entry_types = dict(zip((p.slot for p in function.params), self.facts.signature, strict=True))
        for param in function.params:
            self.var(param, entry_types[param.slot])
        # A variable live at the entry that is not a parameter may be unbound there (jit/optimizer/assignment.py
        # checks its reads): an object, NULL until it is assigned.
        self.version(0, tuple(entry_types.get(var, Type.OBJECT) for var in self.live_in[0]))
        while self.pending:
            self.fill(self.pending.pop())
        self.lay_out()

    def fill(self, version: _Version) -> None:
        """Type and copy the ops of one version, and find the versions its edges go to."""
        function, ops = self.function, self.function.ops
        block = self.blocks[version.block]
        state = dict(zip(self.live_in[version.block], version.types, strict=True))
        exhausted = state
        primary = self.primary
        bets = self.facts.bets
        waiting: list[ir.Op] = []  # bets on a run of TUPLE_ITEMs, placed after it (the lowering fuses the run)
        edge_bet: tuple[ir.Op, Type] | None = None  # a bet on the block's last op's result: on its NEXT edge
        for index in range(block.start, block.end + 1):
            op = ops[index]
            if waiting and op.opcode is not Opcode.TUPLE_ITEM:
                version.ops.extend(waiting)
                waiting = []
            types = tuple(state.get(a.slot, Type.UNKNOWN) if type(a) is ir.Var
                          else constant_type(a.value)  # type: ignore[union-attr]
                          for a in op.args)
            # On objects, the loop advances its counter in place: every bound an object first.  LOAD_METHOD
            # clears its self in place: an object, boxed first (a method of an unboxed number).
            in_place_on_objects = (op.opcode is Opcode.FOR_ITER_RANGE and Type.OBJECT in types) or (
                op.opcode is Opcode.LOAD_METHOD and types[0] in (Type.INT, Type.FLOAT, Type.BOOL))
            if in_place_on_objects and not all(
                    t is Type.OBJECT for t, a in zip(types, op.args, strict=True) if type(a) is ir.Var):
                for operand, kind in zip(op.args, types, strict=True):
                    if type(operand) is ir.Var and kind is not Type.OBJECT:
                        version.ops.append(ir.Op(Opcode.BOX, self.var(operand, Type.OBJECT),
                                                 (self.var(operand, kind),), line=op.line))
                        state[operand.slot] = Type.OBJECT
                types = tuple(Type.OBJECT if type(a) is ir.Var else t for a, t in zip(op.args, types, strict=True))
            args = op.args
            if any(type(a) is ir.Var and primary[a.slot] is not kind for a, kind in zip(args, types, strict=True)):
                args = tuple(self.var(a, kind) if type(a) is ir.Var else a  # type: ignore[arg-type]
                             for a, kind in zip(op.args, types, strict=True))
            dst = op.dst
            result = Type.UNKNOWN
            if dst is not None:
                result = self.result(op, types)
                if primary[dst.slot] is not result:
                    dst = self.var(dst, result)
            if version.first and args is op.args and dst is op.dst:
                copy = op  # the block's first version, as it was: no copy (the pass owns this IR)
            else:
                copy = ir.Op(op.opcode, dst, args, op.arg, op.target, op.jump_if, op.callee, op.line, op.handler,
                             frames=op.frames)
            if op.dst is not None:
                if op.opcode in ir.LOOP_ITERATIONS or op.handler is not None:
                    # It assigns its target only when the loop goes on (the exit keeps the old value), or
                    # only when it does not raise (its handler sees the old value).
                    exhausted = dict(state)
                if op.opcode in ir.IN_PLACE:
                    state[op.args[0].slot] = types[0]  # type: ignore[union-attr]  # the counter, self, in place
                state[op.dst.slot] = result
            elif op.opcode is Opcode.RETURN_VALUE and types[0] is not Type.UNKNOWN:
                self.returned = self.returned.join(types[0])
            version.ops.append(copy)
            bet = bets.get(index) if result is Type.OBJECT else None
            if bet is not None:
                assert op.dst is not None and dst is not None
                unbox = ir.Op(Opcode.UNBOX, self.var(op.dst, bet), (dst,), callee=index, line=op.line)
                if index == block.end and (op.handler is not None or op.target is not None):
                    edge_bet = (unbox, bet)  # its result exists on the NEXT edge only
                else:
                    (waiting if op.opcode is Opcode.TUPLE_ITEM else version.ops).append(unbox)
                    state[op.dst.slot] = bet
        version.ops.extend(waiting)
        last = ops[block.end]
        successors = []
        if last.opcode not in ir.TERMINATORS and block.end + 1 < len(ops):
            successors.append((NEXT, block.end + 1))
        if last.target is not None:
            successors.append((TARGET, function.target_index(last)))
        if last.handler is not None:
            successors.append((HANDLER, function.labels[last.handler]))
        for edge, start in successors:
            position = self.block_of[start]
            assigned = last.dst is not None and assigned_on(function, block, self.blocks[position]) >= 0
            edge_state = state if assigned or last.dst is None else exhausted
            wanted = tuple(edge_state.get(var, Type.UNKNOWN) for var in self.live_in[position])
            conversions = []
            if edge_bet is not None and edge is NEXT:
                unbox, bet = edge_bet
                betting = tuple(bet if var == last.dst.slot else kind  # type: ignore[union-attr]
                                for var, kind in zip(self.live_in[position], wanted, strict=True))
                if betting != wanted and self.version(position, betting).types == betting:
                    wanted = betting  # (else the value is not read there, or the block's general version takes it)
                    conversions.append(unbox)
            target = self.version(position, wanted)
            for var, have, want in zip(self.live_in[position], wanted, target.types, strict=True):
                if have is not want:  # only ever to the general version's OBJECT
                    original = function.variables[var]
                    conversions.append(ir.Op(Opcode.BOX, self.var(original, want), (self.var(original, have),),
                                             line=last.line))
            version.exits.append((edge, target, conversions))

    def result(self, op: ir.Op, types: tuple[Type, ...]) -> Type:
        rule = self.rules.get((op.opcode, op.arg))
        if rule is not None:
            return rule(types)
        if op.opcode is Opcode.LOAD_GLOBAL:
            return op.callee[2]  # type: ignore[index, no-any-return]  # the type of its value at compile time
        if op.opcode is Opcode.CALL_FUNCTION:
            if Type.UNKNOWN in types:
                return Type.UNKNOWN
            key = (op.callee, types)
            known = self.facts.callee_returns.get(key)
            if known is None:
                self.facts.callees_wanted.add(key)  # type: ignore[arg-type]
                return Type.UNKNOWN
            return known
        rule = self.rules[op.opcode, op.arg] = ops.lookup(op.opcode, op.arg).result
        return rule(types)

    def lay_out(self) -> None:
        """The versions in the order of their blocks (so a function of one version per block keeps its
        layout and its fall-throughs); an edge that needs conversions, or whose fall-through is not next,
        goes through a few ops of its own at the end."""
        function = self.function
        # Each version followed by the versions it falls through to, where they are not placed yet.
        order: list[_Version] = []
        placed: set[int] = set()
        for versions in self.versions:
            for first in versions:
                chain: _Version | None = first
                while chain is not None and id(chain) not in placed:
                    placed.add(id(chain))
                    order.append(chain)
                    chain = next((target for kind, target, _ in chain.exits if kind is NEXT), None)
        new_ops: list[ir.Op] = []
        labels: dict[ir.Label, int] = {}
        tails: list[tuple[ir.Label, list[ir.Op], ir.Label]] = []
        for position, version in enumerate(order):
            labels[version.label] = len(new_ops)
            following = order[position + 1] if position + 1 < len(order) else None
            new_ops.extend(version.ops)
            last = version.ops[-1]
            for kind, target, conversions in version.exits:
                if kind is NEXT:
                    new_ops.extend(conversions)
                    if target is not following:
                        new_ops.append(ir.Op(Opcode.JUMP, target=target.label, line=last.line))
                    continue
                destination = target.label
                if conversions:
                    destination = function.new_label("edge")
                    tails.append((destination, conversions, target.label))
                if kind is TARGET:
                    last.target = destination
                else:
                    last.handler = destination
        for edge, conversions, target_label in tails:
            labels[edge] = len(new_ops)
            new_ops.extend(conversions)
            new_ops.append(ir.Op(Opcode.JUMP, target=target_label, line=conversions[0].line))
        function.ops = new_ops
        function.labels = labels
        function.variables = self.variables


def run(function: ir.Function, facts: Facts) -> None:
    versioning = Versioning(function, facts)
    versioning.run()
    kinds = versioning.kinds
    facts.kinds = kinds
    facts.types = dict(zip(function.variables, kinds, strict=True))
    facts.return_type = versioning.returned
    facts.versions = sum(len(v) for v in versioning.versions)
    facts.specializable, facts.generic_reason = specializable(function, kinds, versioning.returned)


def specializable(function: ir.Function, kinds: list[Type], returned: Type) -> tuple[bool, str]:
    if returned is Type.UNKNOWN:
        return False, "the function never returns a value of a known type (it only recurses or raises)"
    for op in function.ops:
        if op.opcode is Opcode.INDEX and type(op.args[0]) is ir.Var and kinds[op.args[0].slot] is Type.FLOAT:
            return False, f"line {op.line}: range() of a float"
    if Type.UNKNOWN in kinds:
        # Of the variables the ops name: a temporary the frontend made and then did not need is named by none.
        named = {v.slot for op in function.ops for v in (op.dst, *op.args) if type(v) is ir.Var}
        for var in function.variables:
            if kinds[var.slot] is Type.UNKNOWN and var.slot in named:
                return False, f"the type of {var.name!r} is not known (a call whose callee is still being compiled)"
    return True, ""
