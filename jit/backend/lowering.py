"""IR -> stencil instructions, for both tiers of one specialization.

The layout of one specialization's code::

    external entry   unbox the arguments (borrowed objects in slots 0..n-1)
    internal entry   load unboxed constants, then the specialized tier: one or a
                     few stencils per IR op, on int64/double slots
    deopt stubs      one per op that can leave: load the constants' objects, box
                     what the generic tier may still read (liveness), jump into
                     the generic tier at the same op
    generic entry    own the arguments, load object constants
    generic tier     the same IR ops on PyObject* slots through the C API
    epilogues        return (release every slot) and error (release, return NULL)

Frame slots: the variables' slots (shared by values never live at once, see
jit/optimizer/liveness.py), then constants, the signal counter, scratch
slots; a direct call's callee frame starts right after.
"""

from __future__ import annotations

import ctypes
import struct
import sys
from collections.abc import Callable, Iterable
from operator import index as python_index

from jit import ir, layouts, ops
from jit.backend import frames, layout
from jit.backend.emitter import Instruction
from jit.errors import UnsupportedError
from jit.ir import Opcode, Type
from jit.layouts import (
    DEOPT_BORROWED,
    DEOPT_BOX_BOOL,
    DEOPT_BOX_FLOAT,
    DEOPT_BOX_INT,
    DEOPT_CONSTANT,
    DEOPT_ENTRY,
    DEOPT_HEADER,
    DEOPT_KEEP,
    DEOPT_KIND,
    DEOPT_KIND_OFFSET,
    DEOPT_NULL,
    OBSERVED_BOOL,
    OBSERVED_FLOAT,
    OBSERVED_INT,
    UNPACK_TO_SLOTS_MAX,
)
from jit.optimizer import Facts
from jit.optimizer.liveness import Liveness, released_temporaries
from jit.records import field, record

UNBOXED_NAME = {Type.INT: "INT", Type.BOOL: "INT", Type.FLOAT: "FLOAT"}
BOX_STENCIL = {Type.INT: "BOX_INT", Type.BOOL: "BOX_BOOL", Type.FLOAT: "BOX_FLOAT"}
UNBOX_STENCIL = {Type.INT: "UNBOX_INT", Type.BOOL: "UNBOX_BOOL", Type.FLOAT: "UNBOX_FLOAT"}
OBSERVED_KIND = {Type.INT: OBSERVED_INT, Type.BOOL: OBSERVED_BOOL, Type.FLOAT: OBSERVED_FLOAT}  # NOTE_TYPE's bits
SIGNAL_CHECK_INTERVAL = 1 << 12  # back edges between two checks for Ctrl-C
UINT64 = (1 << 64) - 1
# What a deoptimization table says a slot becomes: one definition with the C side's (jit/layouts.py).
DEOPT_BOX = {Type.INT: DEOPT_BOX_INT, Type.FLOAT: DEOPT_BOX_FLOAT, Type.BOOL: DEOPT_BOX_BOOL}
# How the running interpreter words (and orders) what the object tier's stencils do themselves
# (stencils/objects.c): from 3.14, "too many values to unpack (expected 2, got 3)" for a list, tuple or dict;
# from 3.15, "Value after * must be an iterable" for f(*x), where earlier versions name the callable.
UNPACKING_COUNTS_TOO_MANY = sys.version_info >= (3, 14)
CALLS_WORD_VALUE_AFTER = sys.version_info >= (3, 15)
# From 3.14, `with` looks up __exit__ before __enter__, and says which one is missing.
WITH_LOOKS_UP_EXIT_FIRST = sys.version_info >= (3, 14)
FORMAT_CONVERSIONS = {None: 0, "s": ord("s"), "r": ord("r"), "a": ord("a")}
Step = tuple[str, tuple[int, ...], tuple[int, ...]]  # an instruction to emit: stencil, opargs, operands


@record(frozen=True)
class Callee:
    """What a direct call needs to know of a compiled callee specialization."""

    internal_entry: int  # address: arguments unboxed in slots 0..n-1
    frame_size: int
    python_callable: object  # for the generic tier's calls


@record
class Context:
    """What lowering needs from the driver and the run time."""

    frame_stack: int  # address of the process-wide frame stack
    call_countdown: int  # address of the count of function entries between two polls for signals
    holes_of: Callable[[str], frozenset[str]]  # the holes a stencil has
    deopt_counter: int  # address of an int64 counting deoptimizations
    # The direct calls' targets by (callee, argument types), for the calls typed with an unboxed result;
    # and what any call of a callee calls on objects.  The driver compiles the callees before lowering.
    callees: dict[tuple[object, tuple[Type, ...]], Callee] = field(default_factory=dict)
    callables: dict[object, object] = field(default_factory=dict)
    keep_alive: list[object] = field(default_factory=list)  # objects whose addresses the code holds
    # Whether PyObject_RichCompare's recursion check shares the counter of Python calls (3.11): then the
    # specialized tier makes it where the interpreter compares through it (stencils/compare.c).
    comparisons_count_recursion: bool = True
    # The bets on objects' types (jit/optimizer/bets.py): by site, the address of the word where NOTE_TYPE notes
    # what a lost bet saw; and of the word it sets, which the dispatcher checks.
    bet_words: dict[int, int] = field(default_factory=dict)
    bets_lost: int = 0

    def address(self, obj: object) -> int:
        self.keep_alive.append(obj)
        return id(obj)


@record
class Lowered:
    instructions: list[Instruction]
    lines: list[int]  # source line of each instruction (0: no source line)
    tiers: list[str]  # "specialized", "deopt", "generic" or "" per instruction
    internal_entry: int  # index
    generic_entry: int  # index
    frame_size: int


# Instructions are made as they are emitted, their control holes holding symbolic targets (label keys) until
# ``finish`` resolves them; a stencil without a hole gets None there at once (what ``finish`` would give it).
_make_instruction = tuple.__new__  # an Instruction from a ready tuple, without its Python-level __new__
Controls = tuple[bool, bool, bool]  # whether a stencil has the jump-target, side-exit and error holes
_CONTROL_HOLES = ("_JIT_JUMP_TARGET", "_JIT_SIDE_EXIT", "_JIT_ERROR")
_NO_CONTROLS: Controls = (False, False, False)  # the one object for stencils without control holes


class Assembler:
    """Instructions with symbolic targets, resolved to indices at the end."""

    def __init__(self, holes_of: Callable[[str], frozenset[str]]) -> None:
        self.holes_of = holes_of
        # The instructions so far, and the source line and tier of each.  A long function makes tens of
        # thousands: each is one tuple, made once (no intermediate object per instruction).
        self.pending: list[Instruction] = []
        self.lines: list[int] = []
        self.tiers: list[str] = []
        self.labels: dict[object, int] = {}
        self.line = 0
        self.tier = ""
        self.known_controls: dict[str, Controls] = {}

    def controls(self, stencil: str) -> Controls:
        """Which control holes ``stencil`` has (looked up once per stencil name)."""
        has = self.known_controls.get(stencil)
        if has is None:
            holes = self.holes_of(stencil)
            has = (_CONTROL_HOLES[0] in holes, _CONTROL_HOLES[1] in holes, _CONTROL_HOLES[2] in holes)
            self.known_controls[stencil] = has = _NO_CONTROLS if has == _NO_CONTROLS else has
        return has

    def label(self, key: object) -> None:
        self.labels[key] = len(self.pending)

    def insert(self, position: int, emit: Callable[[], None]) -> None:
        """Put what ``emit`` emits at ``position``, before what is there (labels there move with it)."""
        pending, lines, tiers = self.pending[position:], self.lines[position:], self.tiers[position:]
        del self.pending[position:], self.lines[position:], self.tiers[position:]
        moved = [key for key, index in self.labels.items() if index >= position]
        emit()
        inserted = len(self.pending) - position
        self.pending += pending
        self.lines += lines
        self.tiers += tiers
        for key in moved:  # labels placed by ``emit`` itself are already where they belong
            self.labels[key] += inserted

    def here(self) -> int:
        return len(self.pending)

    def emit(self, stencil: str, *opargs: int, operands: Iterable[int] = (), jump: object = None,
             exit: object = None, error: object = None) -> None:  # noqa: A002 - the side exit's name here
        has = self.known_controls.get(stencil) or self.controls(stencil)
        if has is _NO_CONTROLS:  # most stencils: nothing to check
            jump = exit = error = None  # noqa: A001
        elif (has[0] and jump is None) or (has[1] and exit is None) or (has[2] and error is None):
            self.missing(stencil, has, (jump, exit, error))
        else:  # a target given for a hole the stencil lacks is dropped: it never goes there
            jump, exit, error = jump if has[0] else None, exit if has[1] else None, error if has[2] else None  # noqa: A001
        self.pending.append(_make_instruction(Instruction, (
            stencil, opargs, tuple(map(UINT64.__and__, operands)) if operands else (), jump, exit, error)))
        self.lines.append(self.line)
        self.tiers.append(self.tier)

    def missing(self, stencil: str, has: Controls, targets: tuple[object, object, object]) -> None:
        """A control hole without a target: a bug of the lowering, reported where the instruction is made."""
        hole = next(name for name, present, key in zip(_CONTROL_HOLES, has, targets, strict=True)
                    if present and key is None)
        raise AssertionError(f"instruction {len(self.pending)} ({stencil}) needs a target for {hole}")

    def finish(self) -> tuple[list[Instruction], list[int], list[str]]:
        """The instructions with their targets resolved to indices, their lines and their tiers."""
        labels = self.labels
        instructions = self.pending
        for index, (stencil, opargs, operands, jump, side, error) in enumerate(instructions):
            if jump is None and side is None and error is None:  # no control hole (emit checked that)
                continue
            instructions[index] = _make_instruction(Instruction, (
                stencil, opargs, operands, None if jump is None else labels[jump],
                None if side is None else labels[side], None if error is None else labels[error]))
        return instructions, self.lines, self.tiers


def run_eval_breaker() -> None:
    """Called by POLL_SIGNALS: entering any Python function runs the eval breaker (GIL hand-over, signals)."""


def double_bits(value: float) -> int:
    return int.from_bytes(struct.pack("<d", value), "little")


def constant_key(kind: Type, value: object) -> tuple[Type, object]:
    """A constant slot's key: the bits a slot of that type holds, so -0.0 and 0.0 (equal in Python) differ."""
    if kind is Type.FLOAT:
        return (kind, double_bits(float(value)))  # type: ignore[arg-type]
    if kind in (Type.INT, Type.BOOL):
        return (kind, int(value) & UINT64)  # type: ignore[call-overload]
    return (kind, id(value))


class Lowering:
    def __init__(self, function: ir.Function, facts: Facts, context: Context) -> None:
        self.function = function
        self.facts = facts
        self.context = context
        self.asm = Assembler(context.holes_of)
        assert facts.liveness is not None, "lowering needs the liveness pass"
        self.liveness: Liveness = facts.liveness
        self.homes: dict[int, int] = {}  # where the variables the op being lowered reads and writes live
        self.kinds = facts.kinds  # by variable number: no Var hashing
        variables = self.liveness.variable_slots
        self.constants: dict[tuple[Type, object], int] = {}  # constant_key -> slot
        self.constant_values: dict[tuple[Type, object], object] = {}
        self.unboxed_constants_read: set[tuple[Type, object]] = set()
        # Each constant operand's key, by its id (a Const hashes through Python code, and its key takes a
        # few calls to compute): the operands live as long as the function, so their ids stay theirs.
        self.key_of: dict[int, tuple[Type, object]] = {}
        for op in function.ops:
            for operand in op.args:
                if type(operand) is ir.Const:
                    self.key_of[id(operand)] = self.constant_slots(operand)
        self.signal_slot = variables + len(self.constants)
        self.scratch_base = self.signal_slot + 1
        self.scratch_count = 4 + max((len(op.args) for op in function.ops), default=0)
        self.return_slot = self.scratch_base  # the generic tier's value being returned
        # Direct calls pass their arguments in the slots after these, where the callee's frame starts: they
        # belong to this frame, so that a frame never straddles two chunks of the frame stack.
        self.outgoing = self.scratch_base + self.scratch_count
        calls = [len(op.args) for op in function.ops if op.opcode is Opcode.CALL_FUNCTION]
        # The object tier's ops that take a vector of operands find it there too, after one free slot
        # (for PY_VECTORCALL_ARGUMENTS_OFFSET): borrowed copies, which nothing releases.
        vectors = max((len(op.args) for op in function.ops), default=0)
        self.frame_size = self.outgoing + max(max(calls, default=0), 1 + vectors)
        self.makes_calls = bool(calls)
        self.conversions = 0  # scratch doubles used by the current op
        # Parameters passed as objects keep their argument slots (0..n-1) for the whole call.  One the function
        # never assigns (nor deletes) stays borrowed from the caller, which holds it for the call, as the
        # interpreter's frame holds its arguments: no INCREF at entry, no CLEAR at exit (a deoptimization takes
        # a reference for the generic tier, DEOPT_BORROWED); the others are owned from entry on.
        self.object_params = [index for index, kind in enumerate(facts.signature) if kind is Type.OBJECT]
        assigned = {var.slot for op in function.ops for var in op.written()} | {
            var.slot for op in function.ops if op.opcode is Opcode.DELETE_FAST for var in op.args
            if type(var) is ir.Var}
        self.borrowed_params = frozenset(index for index in self.object_params
                                         if function.params[index].slot not in assigned)
        self.cold: list[Callable[[], None]] = []  # code placed after everything else (rarely taken paths)
        self.cold_exits: set[tuple[str, int, bool]] = set()  # deoptimization exits that code set aside takes
        # The variables' tables count nothing: the shared table of the same exit counts the deoptimization.
        self.uncounted = ctypes.c_int64(0)
        context.keep_alive.append(self.uncounted)
        # The traceback entry an exception gets as it passes through the function: its name and file.
        self.traceback_names = tuple(self.c_string(text) for text in (function.name, function.filename))
        self.traceback_stubs: set[object] = set()
        # Ops the lowering of an earlier op already covered, in the tier being lowered (tuple_items).
        self.covered_until = -1
        self.label_indices = set(function.labels.values())  # ops some branch or handler jumps to
        self.released = released_temporaries(function, self.liveness)

    # --- slots -------------------------------------------------------------------

    def constant_slots(self, const: ir.Const) -> tuple[Type, object]:
        """Give the constant its slots, and return the key of the one of its own type."""
        # A slot per type the constant is used as: int 2 and True may also be needed as 2.0 and 1.0.
        kinds = [ir.constant_type(const.value)]
        if type(const.value) in (int, bool):
            kinds.append(Type.FLOAT)
        keys = [constant_key(kind, const.value) for kind in kinds]
        for key in keys:
            if key not in self.constants:
                self.constants[key] = self.liveness.variable_slots + len(self.constants)
                self.constant_values[key] = const.value
        return keys[0]

    def scratch(self, index: int) -> int:
        return self.scratch_base + 1 + index  # scratch_base itself is the return slot

    def type_of(self, operand: ir.Operand) -> Type:
        if type(operand) is ir.Var:
            return self.kinds[operand.slot]
        return self.key_of[id(operand)][0]

    def home(self, var: ir.Var) -> int:
        """The slot of a variable at the op being lowered."""
        return self.homes[var.slot]

    def slot(self, operand: ir.Operand, as_type: Type | None = None) -> int:
        """The slot of an operand in the specialized tier, as_type FLOAT converting an int constant."""
        if isinstance(operand, ir.Var):
            return self.homes[operand.slot]
        key = constant_key(Type.FLOAT, operand.value) if as_type is Type.FLOAT else self.key_of[id(operand)]
        self.unboxed_constants_read.add(key)
        return self.constants[key]

    def constant_object(self, key: tuple[Type, object]) -> object:
        """The object a constant slot holds in the generic tier (a float for an int used as a float)."""
        value = self.constant_values[key]
        return float(value) if key[0] is Type.FLOAT else value  # type: ignore[arg-type]

    def object_slot(self, operand: ir.Operand) -> int:
        if type(operand) is ir.Var:
            return self.homes[operand.slot]
        return self.constants[self.key_of[id(operand)]]

    # --- the whole specialization ---------------------------------------------------

    def lower(self) -> Lowered:
        homes_at = self.liveness.homes_at  # the homes of the op being lowered go to self.homes (home())
        if self.facts.specializable:
            self.asm.tier = "specialized"
            # The arguments are in slots 0..n-1 (the parameters' homes at ENTRY).
            unboxed = [index for index, kind in enumerate(self.facts.signature) if kind is not Type.OBJECT]
            for index in unboxed:
                self.unbox(self.facts.signature[index], self.scratch(index), index, "generic_entry", "entry_error")
            for index in unboxed:
                self.asm.emit("COPY", index, self.scratch(index))
            for index in self.object_params:  # owned from here on unless borrowed (the generic entry owns its own)
                if index not in self.borrowed_params:
                    self.asm.emit("INCREF", index)
            internal_entry = self.asm.here()
            labels, pending = self.asm.labels, self.asm.pending
            self.covered_until = -1
            for index, op in enumerate(self.function.ops):
                labels["specialized", index] = len(pending)
                if index <= self.covered_until:
                    continue
                self.asm.line = op.line
                self.homes = homes_at[index]
                self.specialized_op(index, op)
                if self.released[index]:
                    self.release_temporaries(index, op, "specialized")
            self.asm.line = 0
            # Only now is it known which unboxed constants the code reads.
            self.asm.insert(internal_entry, self.specialized_prologue)
            self.asm.label("return_null")  # the specialized tier's unwinding exit
            self.release_objects()
            self.asm.label("entry_error")
            self.asm.emit("RETURN_NULL")
            self.asm.tier = "deopt"
            self.deopt_stubs()
        else:
            internal_entry = -1
        self.asm.tier = "generic"
        self.asm.label("generic_entry")
        generic_entry = self.asm.here()
        self.generic_prologue()
        labels, pending = self.asm.labels, self.asm.pending
        self.covered_until = -1
        for index, op in enumerate(self.function.ops):
            labels["generic", index] = len(pending)
            if index <= self.covered_until:
                continue
            self.asm.line = op.line
            self.homes = homes_at[index]
            self.generic_op(index, op)
            if self.released[index]:
                self.release_temporaries(index, op, "generic")
        self.asm.line = 0
        self.generic_epilogues()
        self.emit_cold()
        instructions, lines, tiers = self.asm.finish()
        return Lowered(instructions, lines, tiers, internal_entry, generic_entry, self.frame_size)

    def holds_object(self, var: int, tier: str) -> bool:
        """Whether variable ``var``'s slot holds an object (or NULL) in ``tier``: every one in the generic tier."""
        return tier == "generic" or self.kinds[var] is Type.OBJECT

    def moves(self, index: int, op: ir.Op, tier: str) -> bool:
        """Whether ``op`` is a copy of an object that nobody reads after it (in another slot): a move."""
        source = op.args[0] if op.opcode is Opcode.COPY else None
        return type(source) is ir.Var and source.slot in self.released[index] and self.holds_object(
            source.slot, tier) and self.homes[source.slot] != self.homes[op.dst.slot]  # type: ignore[union-attr]

    def release_temporaries(self, index: int, op: ir.Op, tier: str) -> None:
        """Let go of the objects of the temporaries nobody reads after ``op`` (liveness.released_temporaries),
        where the interpreter's stack lets go of them.  Not after a branch (its edges would each need it) nor
        where ``op``'s result went into the same slot, which released it already."""
        if op.target is not None or op.opcode in ir.TERMINATORS or self.moves(index, op, tier) or (
                op.opcode is Opcode.UNBOX and tier == "specialized"):
            # Past a bet that held, the object is an exact int, float or bool: nobody sees when it goes.
            return
        homes_at = self.liveness.homes_at
        # What this op stores, and the ops its lowering covered (a target list's), may be in slots that the
        # values it read last have left: those values were released by the stores.
        stores = {homes_at[k][var.slot] for k in range(index, max(index, self.covered_until) + 1)
                  for var in self.function.ops[k].written()}
        unread = op.dst.slot if op.dst is not None else -1
        for var in self.released[index]:
            slot = self.homes[var]
            if (var == unread or slot not in stores) and self.holds_object(var, tier):
                self.asm.emit("CLEAR", slot)

    def emit_cold(self) -> None:
        """The rarely taken paths set aside so far, after the code they leave (the common path falls through)."""
        for emit_cold in self.cold:
            emit_cold()
        self.cold.clear()

    def out_of_line(self, emit: Callable[[], None]) -> None:
        """Set ``emit`` aside for emit_cold, with the tier and source line of the op being lowered."""
        tier, line = self.asm.tier, self.asm.line

        def placed() -> None:
            self.asm.tier, self.asm.line = tier, line
            emit()

        self.cold.append(placed)

    def specialized_prologue(self) -> None:
        if self.liveness.objects:  # the object slots own nothing yet (the unwinding exit releases them)
            self.asm.emit("SET_NULL_RANGE", self.liveness.first_object, self.liveness.objects)
        for key in sorted(self.unboxed_constants_read, key=lambda key: self.constants[key]):
            # An object constant's slot holds it borrowed (the code keeps it alive); a number's, its bits.
            bits = self.context.address(self.constant_values[key]) if key[0] is Type.OBJECT else key[1]
            self.asm.emit("LOAD_CONST", self.constants[key], operands=(bits,))  # type: ignore[arg-type]
        self.load_signal_counter()
        self.poll_on_call("specialized", "return_null")

    def poll_on_call(self, tier: str, error: str) -> None:
        """A function that makes calls counts its entries and polls for signals, as the eval breaker does:
        recursion without loops must answer Ctrl-C and let other threads run."""
        if not self.makes_calls:
            return
        poll, polled = (tier, "entry_poll"), (tier, "entry_polled")
        # The count-down falls through; the poll is out of line, after everything else, and jumps back.
        self.asm.emit("CHECK_SIGNALS_ON_CALL", operands=(self.context.call_countdown,), jump=poll)
        self.asm.label(polled)

        def poll_out_of_line() -> None:
            self.asm.label(poll)
            self.asm.emit("POLL_SIGNALS_ON_CALL", frames.CALL_POLL_INTERVAL,
                          operands=(self.context.address(run_eval_breaker), self.context.call_countdown), error=error)
            self.asm.emit("JUMP", jump=polled)

        self.out_of_line(poll_out_of_line)

    def load_signal_counter(self) -> None:
        if any(op.opcode is Opcode.CHECK_SIGNALS for op in self.function.ops):
            self.asm.emit("LOAD_CONST", self.signal_slot, operands=(SIGNAL_CHECK_INTERVAL,))

    def generic_prologue(self) -> None:
        arguments = len(self.function.params)
        for slot in range(arguments):
            self.asm.emit("INCREF", slot)
        self.asm.emit("SET_NULL_RANGE", arguments, self.signal_slot - arguments)
        self.asm.emit("SET_NULL_RANGE", self.scratch_base, self.scratch_count)
        self.load_object_constants()
        self.load_signal_counter()
        self.poll_on_call("generic", "generic_error")

    def load_object_constants(self) -> None:
        for key, slot in sorted(self.constants.items(), key=lambda item: item[1]):
            self.asm.emit("LOAD_CONST_OBJECT", slot, operands=(self.context.address(self.constant_object(key)),))

    def generic_epilogues(self) -> None:
        # Every object slot is released; the value returned is the return slot's reference.
        self.asm.label("generic_return")
        self.asm.emit("CLEAR_RANGE", 0, self.signal_slot)
        self.asm.emit("CLEAR_RANGE", self.return_slot + 1, self.outgoing - self.return_slot - 1)
        self.asm.emit("RETURN_OBJECT", self.return_slot)
        self.asm.label("generic_error")
        self.asm.emit("CLEAR_RANGE", 0, self.signal_slot)
        self.asm.emit("CLEAR_RANGE", self.scratch_base, self.scratch_count)
        self.asm.emit("RETURN_NULL")

    # --- deoptimization ----------------------------------------------------------------

    @staticmethod
    def exit_to_generic(index: int, after: bool = False) -> tuple[str, int, bool]:
        """A side-exit target that resumes the generic tier at op ``index`` (or after it)."""
        return ("deopt", index, after)

    def deopt_stubs(self) -> None:
        """Code for each exit some instruction takes (a stencil without the hole never takes it).

        An exit is one DEOPT stencil with two tables, which then jumps into the generic tier.  The first table
        is the same for every exit: the constants' objects and NULL scratch slots (it never fails, and it
        counts the deoptimization).  The second says what each variable slot becomes: a box of the value of
        the variable living there if the generic tier may still read it (liveness), the object a deoptimized
        callee already returned, else NULL.  So a table is as long as the frame's variable slots, which linear
        scan keeps to the values live at once; exits with the same table share it.
        """
        exits: set[tuple[str, int, bool]] = set()
        for _, _, _, jump, side, _ in self.asm.pending:  # symbolic targets still, None where no hole
            if type(side) is tuple and side[0] == "deopt":
                exits.add(side)
            if type(jump) is tuple and jump[0] == "deopt":
                exits.add(jump)
        exits.update(self.cold_exits)  # taken by code set aside, which comes after these stubs
        used = sorted(exits)
        if not used:
            return
        shared = self.table([(slot, DEOPT_CONSTANT, self.context.address(self.constant_object(key)))
                             for key, slot in self.constants.items()]
                            + [(slot, DEOPT_NULL, 0) for slot in range(self.scratch_base, self.outgoing)],
                            self.context.deopt_counter)
        resumes = {index + 1 if after else index for _, index, after in used}
        states = self.variable_states(resumes)
        tables: dict[bytes, int] = {}
        ops, asm, emit = self.function.ops, self.asm, self.asm.emit
        labels, pending = asm.labels, asm.pending
        for label in used:
            _, index, after = label
            resume = index + 1 if after else index
            labels[label] = len(pending)  # asm.label(label)
            asm.line = ops[index].line
            table = 0
            if self.liveness.variable_slots:
                data = states[resume]
                if after:
                    dst = ops[index].dst
                    assert dst is not None
                    changed = bytearray(data)  # the callee's result is already an object: kept as it is
                    DEOPT_KIND.pack_into(changed, self.kind_offset(self.liveness.home(dst.slot, index)), DEOPT_KEEP)
                    data = bytes(changed)
                if data not in tables:
                    tables[data] = self.keep_table(data)
                table = tables[data]
            emit("DEOPT", operands=(shared, table), jump=("generic", resume), error="generic_error")
        asm.line = 0

    @staticmethod
    def kind_offset(slot: int) -> int:
        return DEOPT_HEADER.size + DEOPT_ENTRY.size * slot + DEOPT_KIND_OFFSET

    def variable_states(self, resumes: set[int]) -> dict[int, bytes]:
        """The variable slots' table for resuming the generic tier before each op of ``resumes``.

        Built backward through each block that has such an op, one change per variable an op reads or
        writes: a write makes the variable's slot NULL before the op, a read makes it a box.  So the work
        is linear in the ops, not in the exits times the live variables; each table is one copy.
        """
        liveness = self.liveness
        template = DEOPT_HEADER.pack(liveness.variable_slots, ctypes.addressof(self.uncounted)) + b"".join(
            DEOPT_ENTRY.pack(slot, DEOPT_NULL, 0) for slot in range(liveness.variable_slots))
        # By variable number: what a live variable's slot becomes, and a dead one's.  Object slots are
        # kept, live or not: they hold NULL or a reference the generic tier then owns.
        box = [DEOPT_BOX.get(kind, DEOPT_KEEP if kind is Type.OBJECT else DEOPT_NULL) for kind in self.kinds]
        dead = [DEOPT_KEEP if kind is Type.OBJECT else DEOPT_NULL for kind in self.kinds]
        for index in self.borrowed_params:  # its slot holds it, live or not, never written
            box[self.function.params[index].slot] = dead[self.function.params[index].slot] = DEOPT_BORROWED
        kept = bytearray(template)
        for slot in [*range(liveness.first_object, liveness.first_object + liveness.objects), *self.object_params]:
            DEOPT_KIND.pack_into(kept, self.kind_offset(slot), DEOPT_BORROWED if slot in self.borrowed_params
                                 else DEOPT_KEEP)
        template = bytes(kept)
        by_block: dict[int, list[int]] = {}
        for index in resumes:
            by_block.setdefault(liveness.block_at[index], []).append(index)
        states: dict[int, bytes] = {}
        homes_at, reads, kills = liveness.homes_at, liveness.reads, liveness.kills
        kind_bytes = [DEOPT_KIND.pack(kind) for kind in range(DEOPT_BORROWED + 1)]  # slice stores, not pack_into
        start = self.kind_offset(0)  # the kind of slot s is at start + step * s
        step = DEOPT_ENTRY.size
        for position, wanted in by_block.items():
            if not liveness.reached[position]:
                states.update((index, template) for index in wanted)  # never runs
                continue
            block = liveness.blocks[position]
            data = bytearray(template)
            for var, slot in liveness.homes_out[position].items():
                at = start + step * slot
                data[at : at + 4] = kind_bytes[box[var]]
            first = min(wanted)
            asked = set(wanted)
            for index in range(block.end, first - 1, -1):
                homes = homes_at[index]
                killed = kills[index]
                if killed >= 0:
                    at = start + step * homes[killed]
                    data[at : at + 4] = kind_bytes[dead[killed]]
                for var in reads[index]:
                    at = start + step * homes[var]
                    data[at : at + 4] = kind_bytes[box[var]]
                if index in asked:
                    states[index] = bytes(data)
        return states

    def table(self, entries: list[tuple[int, int, int]], counter: int) -> int:
        """The address of a deoptimization table (stencils/deopt.c): count, counter address, then
        (slot u32, kind u32, constant) entries."""
        data = DEOPT_HEADER.pack(len(entries), counter) + b"".join(DEOPT_ENTRY.pack(*entry) for entry in entries)
        return self.keep_table(data)

    def keep_table(self, data: bytes) -> int:
        # Not ctypes.create_string_buffer: Python code that calls the real builtins (jit/_isolation.py).
        table = (ctypes.c_char * len(data)).from_buffer_copy(data)
        self.context.keep_alive.append(table)
        return ctypes.addressof(table)

    # --- the specialized tier -------------------------------------------------------------

    def specialized_op(self, index: int, op: ir.Op) -> None:
        emit = self.asm.emit
        opcode = op.opcode
        kinds = self.kinds
        if opcode in (Opcode.LOAD_CONST, Opcode.COPY, Opcode.INDEX, Opcode.BOX):
            assert op.dst is not None
            kind = kinds[op.dst.slot]
            source = op.args[0]
            if kind is Type.UNKNOWN:
                return
            if kind is not Type.OBJECT:  # INDEX: of an int64 (or bool 0/1)
                emit("COPY", self.home(op.dst), self.slot(source))
                return  # a third of the ops: nothing else needed
            if opcode is Opcode.BOX and type(source) is ir.Var and kinds[source.slot] is not Type.OBJECT:
                self.box_into(self.home(op.dst), source)
                return
            if self.moves(index, op, "specialized"):
                emit(ops.lookup(opcode).stencils["move"], self.home(op.dst), self.home(source))  # type: ignore[arg-type]
                return
            if opcode is not Opcode.INDEX:
                self.object_copy(self.home(op.dst), source)
                return
        self.conversions = 0
        if opcode is Opcode.DELETE_FAST:
            deleted = op.args[0]
            if type(deleted) is ir.Var and kinds[deleted.slot] is Type.OBJECT:
                emit("CLEAR", self.home(deleted))
            return
        if opcode is Opcode.LOAD_GLOBAL and self.kinds[op.dst.slot] is not Type.OBJECT:  # type: ignore[union-attr]
            self.unboxed_global(index, op)
            return
        if opcode is Opcode.UNBOX:
            self.bet(index, op)
            return
        types = [self.type_of(a) for a in op.args]
        if self.subscript_by_int(op, types):
            return
        if self.on_objects(op, types):
            self.boxed_op(index, op, types)
            return
        exit_here = ("deopt", index, False)  # exit_to_generic(index)
        error = self.error_target(op, "specialized")
        if opcode is Opcode.BINARY_OP:
            assert op.dst is not None and op.arg is not None
            micro = ops.lookup(opcode, op.arg)
            unboxed = Type.INT if all(t in ops.INTEGRAL for t in types) else Type.FLOAT
            slots = [self.numeric(a, t, unboxed) for a, t in zip(op.args, types, strict=True)]
            emit(micro.stencils[unboxed.name], self.homes[op.dst.slot], *slots, exit=exit_here, error=error)
        elif opcode is Opcode.UNARY_OP:
            assert op.dst is not None
            emit(ops.lookup(opcode, op.arg).stencils[UNBOXED_NAME[types[0]]], self.home(op.dst),
                 self.slot(op.args[0]), exit=exit_here)
        elif opcode is Opcode.COMPARE_OP or opcode is Opcode.COMPARE_AND_BRANCH:
            self.specialized_comparison(index, op, types, exit_here)
        elif opcode in (Opcode.POP_JUMP_IF_TRUE, Opcode.POP_JUMP_IF_FALSE):
            emit(ops.lookup(opcode).stencils[UNBOXED_NAME[types[0]]], self.slot(op.args[0]), jump=self.target(op))
        elif opcode is Opcode.JUMP:
            emit("JUMP", jump=self.target(op))
        elif opcode is Opcode.CALL_INTRINSIC:
            self.specialized_intrinsic(op, types, exit_here)
        elif opcode is Opcode.CALL_FUNCTION:
            assert op.dst is not None
            callee = self.context.callees[op.callee, tuple(types)]
            for position, argument in enumerate(op.args):
                emit("COPY", self.outgoing + position, self.slot(argument))
            emit("CALL_JIT", self.home(op.dst), self.outgoing, callee.frame_size, len(op.args),
                 operands=(callee.internal_entry, self.context.frame_stack),
                 exit=self.exit_to_generic(index, after=True), error=error)
        elif opcode is Opcode.GET_RANGE:
            step = op.args[2]
            if isinstance(step, ir.Var):
                emit("JUMP_IF_FALSE_INT", self.home(step), jump=exit_here)  # range() raises for a zero step
            elif step.value == 0:
                emit("JUMP", jump=exit_here)
        elif opcode is Opcode.FOR_ITER_RANGE:
            assert op.dst is not None
            step = op.args[2]
            micro = ops.lookup(opcode)
            ascending = isinstance(step, ir.Const) and step.value > 0  # type: ignore[operator]
            emit(micro.stencils["ascending" if ascending else "INT"], self.home(op.dst),
                 *(self.slot(a) for a in op.args), jump=self.target(op))
        elif opcode is Opcode.CHECK_SIGNALS:
            self.back_edge(index, "specialized", error)
        elif opcode is Opcode.RETURN_VALUE:
            self.specialized_return(op)
        else:
            raise AssertionError(f"no specialized lowering for {op.opcode}")

    def on_objects(self, op: ir.Op, types: list[Type]) -> bool:
        """Whether the specialized tier computes ``op`` on objects (jit/ops.py: computed_on_objects)."""
        return ops.computed_on_objects(op.opcode, op.arg, types, None if op.dst is None else self.kinds[op.dst.slot])

    def error_target(self, op: ir.Op, tier: str) -> object:
        """Where an exception of ``op`` goes: through a stub that adds the function's traceback entry for the
        op's line (as the interpreter does for a frame an exception passes through), then to its handler or
        the tier's unwinding exit.  One stub per line and destination, out of line."""
        if op.handler is not ir.UNWIND:
            destination: object = (tier, self.function.labels[op.handler])
        else:
            destination = "return_null" if tier == "specialized" else "generic_error"
        if op.opcode is Opcode.RERAISE or (op.opcode is Opcode.RAISE and not op.args):
            return destination  # raised again: the exception has this function's entry already
        stub = ("traceback", destination, op.line, op.frames)
        if stub not in self.traceback_stubs:
            self.traceback_stubs.add(stub)
            # Innermost first: each frame's entry has the line running in it, the next one's call or the op's.
            lines = [line for _, line in op.frames[1:]] + [op.line] if op.frames else []
            entries = [(self.c_strings(name), line) for (name, _), line in zip(op.frames, lines, strict=True)]
            entries.reverse()
            entries.append((self.traceback_names, op.frames[0][1] if op.frames else op.line))

            def traceback_entry() -> None:
                self.asm.label(stub)
                for names, line in entries[:-1]:  # the comprehensions' frames, then the function's
                    self.asm.emit("ADD_TRACEBACK_FRAME", line, operands=names)
                names, line = entries[-1]
                self.asm.emit("ADD_TRACEBACK", line, operands=names, jump=destination)

            self.out_of_line(traceback_entry)
        return stub

    def c_strings(self, name: str) -> tuple[int, ...]:
        """ADD_TRACEBACK's operands for a frame of ``name`` in the function's file."""
        return self.c_string(name), self.traceback_names[1]

    def c_string(self, text: str) -> int:
        """The address of a NUL-terminated UTF-8 copy of ``text``, kept alive with the code."""
        data = text.encode("utf-8", "surrogateescape") + b"\0"
        buffer = (ctypes.c_char * len(data)).from_buffer_copy(data)
        self.context.keep_alive.append(buffer)
        return ctypes.addressof(buffer)

    def box_into(self, slot: int, operand: ir.Operand) -> None:
        """Make an object of ``operand`` in object slot ``slot`` (NULL or owning a reference, released)."""
        if type(operand) is ir.Const:
            self.asm.emit("LOAD_CONST_OBJECT", slot, operands=(self.context.address(operand.value),))
            return
        kind = self.type_of(operand)
        if kind is Type.OBJECT:
            self.asm.emit("COPY_OBJECT", slot, self.home(operand))  # type: ignore[arg-type]
            return
        self.asm.emit("CLEAR", slot)  # a box stencil writes its slot without releasing what was there
        self.asm.emit(BOX_STENCIL[kind], slot, self.home(operand), error="return_null")  # type: ignore[arg-type]

    def object_copy(self, dst: int, source: ir.Operand) -> None:
        if type(source) is ir.Const:
            self.asm.emit("LOAD_CONST_OBJECT", dst, operands=(self.context.address(source.value),))
        else:
            self.box_into(dst, source)

    def boxed_op(self, index: int, op: ir.Op, types: list[Type]) -> None:
        """An op of the specialized tier computed on objects, as the generic tier computes it: its unboxed
        operands and constants are boxed into the frame's spare object slots first (the object slots, and so
        the spares, hold NULL or an owned reference: the unwinding exit and the generic tier release them)."""
        spare, slots = self.object_operands(op, types)
        self.object_op(index, op, slots, "specialized", spare + len(op.args))

    def object_operands(self, op: ir.Op, types: list[Type], unboxed: int = -1) -> tuple[int, list[int]]:
        """The first of the spare object slots an op of the specialized tier may use, and the slots of its
        operands as objects: each unboxed operand (but the one at position ``unboxed``) boxed into the spare
        of its position."""
        spare = self.liveness.first_object + self.liveness.objects - len(op.args) - 1
        assert spare >= self.liveness.first_object, "liveness left no spare object slots for this op"
        slots = []
        for position, (operand, kind) in enumerate(zip(op.args, types, strict=True)):
            if kind is Type.OBJECT or position == unboxed:  # an object, or a constant's (borrowed in its slot)
                slots.append(self.slot(operand))
                continue
            self.box_into(spare + position, operand)
            slots.append(spare + position)
        return spare, slots

    def subscript_by_int(self, op: ir.Op, types: list[Type]) -> bool:
        """``a[i]`` and ``a[i] = v`` where the specialized tier holds ``i`` as an int64: the "INT index" stencil
        takes an exact list's (or tuple's) item in range inline, as the interpreter's BINARY_SUBSCR_LIST_INT
        does, and makes no int object; anything else boxes ``i`` out of line for the general stencil.  False
        for any other op or index."""
        if len(types) < 2 or types[0] is not Type.OBJECT or types[1] not in ops.INTEGRAL \
                or type(op.args[1]) is not ir.Var:
            return False
        micro = ops.lookup(op.opcode, op.arg)
        inline = micro.stencils.get("INT index")
        if inline is None:
            return False
        spare, slots = self.object_operands(op, types, unboxed=1)
        boxed = spare + 1
        dst = () if op.dst is None else (self.home(op.dst),)
        operands = (layout.tuple_items_offset(),) if op.opcode is Opcode.BINARY_SUBSCR else ()
        self.inline_or_general(op, "specialized", (inline, (*dst, *slots), operands), [
            ("CLEAR", (boxed,), ()), (BOX_STENCIL[types[1]], (boxed, slots[1]), ()),
            (micro.stencils["object"], (*dst, slots[0], boxed, *slots[2:], layout.subscript_int_mode()), operands),
        ], self.error_target(op, "specialized"))
        return True

    def target(self, op: ir.Op, tier: str = "specialized") -> object:
        return (tier, self.function.target_index(op))

    def numeric(self, operand: ir.Operand, own: Type, kind: Type) -> int:
        """The slot of ``operand`` (of type ``own``) as an int64 or a double, converting an int to a scratch
        double."""
        if kind is Type.FLOAT and own is not Type.FLOAT:
            if isinstance(operand, ir.Const):
                return self.slot(operand, Type.FLOAT)
            scratch = self.scratch(self.conversions)
            self.conversions += 1
            self.asm.emit("INT_TO_FLOAT", scratch, self.home(operand))
            return scratch
        return self.slot(operand)

    def comparison_operands(self, op: ir.Op, types: list[Type], exit_here: object) -> tuple[str, list[int]]:
        self.conversions = 0
        if Type.FLOAT not in types:
            return "INT", [self.slot(a) for a in op.args]
        # Python compares an int and a float exactly: only ints a double holds exactly convert.
        for operand, kind in zip(op.args, types, strict=True):
            if kind is Type.FLOAT:
                continue
            if isinstance(operand, ir.Const):
                if abs(operand.value) > 2**53:  # type: ignore[arg-type]
                    self.asm.emit("JUMP", jump=exit_here)  # no double holds it: the generic tier compares
            else:
                self.asm.emit("GUARD_INT_FITS_FLOAT", self.home(operand), exit=exit_here)
        return "FLOAT", [self.numeric(a, t, Type.FLOAT) for a, t in zip(op.args, types, strict=True)]

    def specialized_comparison(self, index: int, op: ir.Op, types: list[Type], exit_here: object) -> None:
        """COMPARE_OP (a value) and COMPARE_AND_BRANCH (a jump) of numbers, and identity with a singleton."""
        micro = ops.lookup(Opcode.COMPARE_OP, op.arg)
        emit = self.asm.emit
        branch = op.opcode is Opcode.COMPARE_AND_BRANCH
        prefix = ("branch " if op.jump_if else "branch not ") if branch else ""
        jump = self.target(op) if branch else None
        destination = () if branch else (self.home(op.dst),)  # type: ignore[arg-type]
        if op.arg in ops.IDENTITY:
            self.specialized_identity(op, types, destination, prefix, jump)
            return
        self.comparison_recursion_check(index, op, types, branch)
        kind, slots = self.comparison_operands(op, types, exit_here)
        emit(micro.stencils[f"{prefix}{kind}"], *destination, *slots, jump=jump)

    def specialized_identity(self, op: ir.Op, types: list[Type], destination: tuple[int, ...], prefix: str,
                             jump: object) -> None:
        """``a is b`` in the specialized tier.  Objects compare by address: against a constant's (None, a
        class...) or, both in slots, as the raw words they are.  A bool is True or False itself, so against
        those it is equality of 0 or 1; an int or a float is never None, True or False.  Another number
        unboxed has no identity left to compare: that signature runs in the interpreter."""
        micro = ops.lookup(Opcode.COMPARE_OP, op.arg)
        emit = self.asm.emit
        negated = op.arg == "is not"
        left, right = op.args
        if types[0] is Type.OBJECT and type(left) is ir.Var and (type(right) is ir.Const or types[1] is Type.OBJECT):
            if type(right) is ir.Const:  # None, True, a class...: its address
                emit(micro.stencils[f"{prefix}operand"], *destination, self.slot(left),
                     operands=(self.context.address(right.value),), jump=jump)
            else:
                equality = ops.lookup(Opcode.COMPARE_OP, "!=" if negated else "==")
                emit(equality.stencils[f"{prefix}INT"], *destination, self.slot(left), self.slot(right), jump=jump)
            return
        if not ops.is_singleton(right) or types[0] is Type.OBJECT:
            raise UnsupportedError(f"'{op.arg}' between an unboxed number and an object: its identity is lost",
                                   self.function.filename, op.line, "lowering")
        if types[0] is Type.BOOL and right.value is not None:  # type: ignore[union-attr]
            equality = ops.lookup(Opcode.COMPARE_OP, "!=" if negated else "==")
            emit(equality.stencils[f"{prefix}INT"], *destination, self.slot(left), self.slot(right), jump=jump)
            return
        answer = negated  # an int or a float is never None, True or False
        if not destination:
            if answer == op.jump_if:
                emit("JUMP", jump=jump)
        else:
            emit("LOAD_CONST", *destination, operands=(int(answer),))

    def comparison_recursion_check(self, index: int, op: ir.Op, types: list[Type], branch: bool) -> None:
        """PyObject_RichCompare's recursion check (stencils/compare.c), where the interpreter compares through
        it: all but a branch on two floats or two compact ints, as in the generic tier (CPython 3.11
        specializes only a comparison that a conditional jump on its result follows).  Where the check counts
        apart from Python calls (3.12+) it never strikes there, and nothing is emitted."""
        if not self.context.comparisons_count_recursion:
            return
        if not branch:  # a value only a jump reads; one put in a local is stored first (STORE_FAST)
            following = self.function.ops[index + 1] if index + 1 < len(self.function.ops) else op
            branch = following.opcode in (Opcode.POP_JUMP_IF_TRUE, Opcode.POP_JUMP_IF_FALSE) \
                and following.args[0] == op.dst and op.dst is not None and op.dst.name.startswith("$")
        if branch and types[0] is types[1] is Type.FLOAT:
            return
        limit, back = ("recursion_limit", id(op)), ("recursion_checked", id(op))
        operands = (self.context.frame_stack,)
        if branch and types[0] is types[1] is Type.INT:
            # Only an operand that may not be compact needs its test (a constant is known).
            tested = [a for a in op.args if not (type(a) is ir.Const and -(2**30) < a.value < 2**30)]  # type: ignore[operator]
            if not tested:
                return
            stencil = "CHECK_RECURSION_COMPARE_INT" if len(tested) == 2 else "CHECK_RECURSION_COMPARE_INT_ONE"
            self.asm.emit(stencil, *(self.slot(a) for a in tested), operands=operands, jump=limit)
        else:
            self.asm.emit("CHECK_RECURSION_COMPARE", operands=operands, jump=limit)
        self.asm.label(back)

        def at_the_limit() -> None:  # the call of the C API, out of line
            self.asm.label(limit)
            self.asm.emit("RECURSION_COMPARE_LIMIT", operands=operands, jump=back,
                          error=self.error_target(op, "specialized"))

        self.out_of_line(at_the_limit)

    def specialized_intrinsic(self, op: ir.Op, types: list[Type], exit_here: object) -> None:
        assert op.dst is not None and op.arg is not None
        emit = self.asm.emit
        dst = self.home(op.dst)
        result = self.kinds[op.dst.slot]
        micro = ops.lookup(Opcode.CALL_INTRINSIC, op.arg)
        name = op.arg
        if name in ("abs", "min", "max"):
            emit(micro.stencils[UNBOXED_NAME[types[0]]], dst, *(self.slot(a) for a in op.args), exit=exit_here)
        elif name == "int":
            if types[0] is Type.FLOAT:
                emit(micro.stencils["FLOAT"], dst, self.slot(op.args[0]), exit=exit_here)
            else:
                emit("COPY", dst, self.slot(op.args[0]))
        elif "FLOAT" in micro.stencils or name == "float":  # float() and math.sqrt: of a double
            source = self.numeric(op.args[0], types[0], Type.FLOAT)
            if name == "float":
                emit("COPY", dst, source)
            else:
                emit(micro.stencils["FLOAT"], dst, source, exit=exit_here)
        else:
            self.boxed_call(op, types, result, exit_here)

    def boxed_call(self, op: ir.Op, types: list[Type], result: Type, exit_here: object) -> None:
        """Call a C function object on boxed arguments and unbox its result (math functions)."""
        assert op.dst is not None and op.arg is not None
        emit = self.asm.emit
        function = ops.callable_of(ops.lookup(Opcode.CALL_INTRINSIC, op.arg))
        boxes = [self.scratch(i) for i in range(len(op.args))]
        returned = self.scratch(len(op.args))
        release = ("release", id(op))  # (release, n): n boxes are made and must be released
        emit("SET_NULL", returned)
        for position, (box, argument, kind) in enumerate(zip(boxes, op.args, types, strict=True)):
            emit(BOX_STENCIL[kind], box, self.slot(argument), error=(release, position))
        emit(f"CALL_{len(op.args)}", returned, *boxes, operands=(self.context.address(function),),
             error=(release, len(boxes)))
        for box in boxes:
            emit("CLEAR", box)
        self.unbox_owned(op, result, returned, exit_here)

        def release_boxes() -> None:  # an error while boxing or calling: release the boxes made
            for position in range(len(boxes), 0, -1):
                self.asm.label((release, position))
                emit("CLEAR", boxes[position - 1])
            self.asm.label((release, 0))
            emit("JUMP", jump=self.error_target(op, "specialized"))

        self.out_of_line(release_boxes)

    def unbox(self, kind: Type, dst: int, source: int, exit_here: object, error: object) -> None:
        """dst = the value of the object in ``source`` as ``kind``; another type exits to ``exit_here``."""
        int_mode = (layout.int_layout(),) if kind is Type.INT else ()
        self.asm.emit(UNBOX_STENCIL[kind], dst, source, *int_mode, exit=exit_here, error=error)

    def bet(self, index: int, op: ir.Op) -> None:
        """An UNBOX: the object's value if it has the type bet on; otherwise NOTE_TYPE notes what it is, out of
        line, and the generic tier resumes at this op (which copies the object)."""
        assert op.dst is not None
        emit = self.asm.emit
        source = self.slot(op.args[0])
        lost, exit_here = ("bet_lost", index), self.exit_to_generic(index)
        self.unbox(self.kinds[op.dst.slot], self.home(op.dst), source, lost, self.error_target(op, "specialized"))
        self.cold_exits.add(exit_here)

        def note_and_leave() -> None:
            self.asm.label(lost)
            self.note_type(op, source, lost=True)
            emit("JUMP", jump=exit_here)

        self.out_of_line(note_and_leave)

    def note_type(self, op: ir.Op, source: int, lost: bool) -> None:
        """NOTE_TYPE of the object an UNBOX reads: where the specialized tier lost the bet, or in the generic
        tier (which notes every value there, a loss where it is not of the kind bet on)."""
        assert op.dst is not None
        site: int = op.callee  # type: ignore[assignment]  # UNBOX: the index of the op bet on
        bet = 0 if lost else OBSERVED_KIND[self.kinds[op.dst.slot]]
        self.asm.emit(ops.lookup(Opcode.UNBOX).stencils["missed"], source, bet,
                      operands=(self.context.bet_words[site], self.context.bets_lost))

    def unbox_owned(self, op: ir.Op, kind: Type, source: int, exit_here: object) -> None:
        """Unbox the object that scratch slot ``source`` owns into ``op``'s destination, and release it.  A
        value of another type leaves for the generic tier, which redoes the op; an error unwinds: both
        release it first, out of line."""
        assert op.dst is not None
        emit = self.asm.emit
        other_type, failed = ("unbox_other_type", id(op)), ("unbox_failed", id(op))
        self.unbox(kind, self.home(op.dst), source, other_type, failed)
        emit("CLEAR", source)

        if type(exit_here) is tuple and exit_here[0] == "deopt":
            self.cold_exits.add(exit_here)  # type: ignore[arg-type]

        def release_and_leave() -> None:
            self.asm.label(other_type)
            emit("CLEAR", source)
            emit("JUMP", jump=exit_here)
            self.asm.label(failed)
            emit("CLEAR", source)
            emit("JUMP", jump=self.error_target(op, "specialized"))

        self.out_of_line(release_and_leave)

    def specialized_return(self, op: ir.Op) -> None:
        (value,) = op.args
        stencils = ops.lookup(Opcode.RETURN_VALUE).stencils
        emit = self.asm.emit
        if type(value) is ir.Var and self.kinds[value.slot] is Type.OBJECT:
            # The reference moves to the return slot (outside the object slots, which are released); a
            # borrowed parameter's is taken.
            borrowed = self.home(value) in self.borrowed_params
            if borrowed:
                emit("INCREF", self.home(value))
            emit("COPY", self.return_slot, self.home(value))
            if not borrowed:
                emit("SET_NULL", self.home(value))
            self.release_objects()
            emit(stencils["object"], self.return_slot)
            return
        self.release_objects()
        if self.facts.return_type.unboxed:
            emit(stencils["raw"], self.slot(value))
        elif isinstance(value, ir.Const):
            emit(stencils["constant"], operands=(self.context.address(value.value),))
        else:
            emit(stencils[self.type_of(value).name], self.home(value))

    def release_objects(self) -> None:
        if self.liveness.objects:
            self.asm.emit("CLEAR_RANGE", self.liveness.first_object, self.liveness.objects)
        for slot in self.object_params:
            if slot not in self.borrowed_params:
                self.asm.emit("CLEAR", slot)

    # --- the generic tier ------------------------------------------------------------------

    def generic_op(self, index: int, op: ir.Op) -> None:
        self.object_op(index, op, [self.object_slot(a) for a in op.args], "generic", self.scratch(len(op.args)))

    def object_op(self, index: int, op: ir.Op, slots: list[int], tier: str, spare: int) -> None:
        """``op`` on objects: the generic tier's lowering, and the specialized tier's for what it cannot
        unbox.  ``slots`` hold the operands' objects (consecutive when a call needs them so); ``spare`` is an
        object slot (NULL or owning) for a result nobody keeps."""
        emit = self.asm.emit
        error = self.error_target(op, tier)
        opcode = op.opcode
        micro = ops.lookup(opcode, op.arg)
        dst = self.homes[op.dst.slot] if op.dst is not None else -1
        if self.moves(index, op, tier):
            emit(micro.stencils["move"], dst, slots[0])
        elif opcode in (Opcode.LOAD_CONST, Opcode.COPY, Opcode.BOX, Opcode.UNBOX):
            emit("COPY_OBJECT", dst, slots[0])
            if opcode is Opcode.UNBOX and op.callee in self.context.bet_words:
                self.note_type(op, slots[0], lost=False)
        elif opcode is Opcode.BINARY_OP:
            assert op.arg is not None
            # OPARG3, for the stencils that take two compact ints inline: how ints keep their size.
            emit(micro.stencils["inplace" if op.arg.endswith("=") else "object"], dst, *slots, layout.int_layout(),
                 error=error)
        elif opcode is Opcode.UNARY_OP:
            emit(micro.stencils["object"], dst, *slots, error=error)
        elif opcode is Opcode.COMPARE_OP and op.arg not in ops.IDENTITY:
            if self.context.comparisons_count_recursion:  # 3.11: the comparison checks the recursion limit
                emit(micro.stencils["object"], dst, *slots, micro.oparg, error=error)
            else:  # OPARG3: the comparison, and above its 3 bits how ints keep their size (stencils/generic.c)
                assert micro.oparg < 8
                emit(micro.stencils["inline"], dst, *slots, micro.oparg | layout.int_layout() << 3, error=error)
        elif opcode is Opcode.COMPARE_OP:  # identity: the result is True or False itself
            emit(micro.stencils["object"], dst, *slots)
        elif opcode is Opcode.COMPARE_AND_BRANCH:
            comparison = ops.lookup(Opcode.COMPARE_OP, op.arg)
            variant = "branch object" if op.jump_if else "branch not object"
            opargs = () if op.arg in ops.IDENTITY else (comparison.oparg, layout.int_layout())
            emit(comparison.stencils[variant], *slots, *opargs, jump=self.target(op, tier), error=error)
        elif opcode in (Opcode.POP_JUMP_IF_TRUE, Opcode.POP_JUMP_IF_FALSE):
            emit(micro.stencils["object"], *slots, jump=self.target(op, tier), error=error)
        elif opcode is Opcode.JUMP:
            emit("JUMP", jump=self.target(op, tier))
        elif opcode is Opcode.CALL_INTRINSIC:
            assert op.arg is not None
            if "object" in micro.stencils:
                emit(micro.stencils["object"], dst, *slots, error=error)
            else:
                self.generic_call(dst, ops.callable_of(micro), slots, error, tier)
        elif opcode is Opcode.CALL_FUNCTION:
            self.generic_call(dst, self.context.callables[op.callee], slots, error, tier)
        elif opcode is Opcode.CALL_OBJECT:
            self.generic_call(dst, op.callee, slots, error, tier)
        elif opcode is Opcode.LOAD_GLOBAL:
            self.load_global(dst, op, error, tier)
        elif opcode is Opcode.INDEX:
            self.generic_call(dst, python_index, slots, error, tier)  # range()'s PyNumber_Index, its message
        elif opcode is Opcode.GET_RANGE:
            # range() itself checks the (exact int) bounds: a zero step raises its ValueError.
            self.generic_call(spare, range, slots, error, tier)
            emit("CLEAR", spare)
        elif opcode is Opcode.FOR_ITER_RANGE:
            emit(micro.stencils["object"], dst, *slots, operands=(self.context.address(0), layout.int_layout()),
                 jump=self.target(op, tier), error=error)
        elif opcode is Opcode.CHECK_SIGNALS:
            self.back_edge(index, tier, error)
        elif opcode is Opcode.RETURN_VALUE:
            emit("COPY_OBJECT", self.return_slot, slots[0])
            emit("JUMP", jump="generic_return")
        elif (opcode is Opcode.TUPLE_ITEM and self.tuple_items(index, op, slots[0])) or (
                opcode is Opcode.UNPACK_SEQUENCE and self.unpack_to_slots(index, op, slots[0], error, tier)):
            pass  # a target list's stores, lowered together with the ops after this one
        elif micro.form is not None:
            self.declared_object_op(op, micro, slots, dst, error, tier)
        else:
            raise AssertionError(f"no lowering on objects for {op.opcode}")

    def item_stores(self, start: int, tuple_var: ir.Operand) -> tuple[int, list[int], bool]:
        """The run of TUPLE_ITEM ops from ``start`` on ``tuple_var``, a target list's stores (no branch lands
        inside it): the op after it, its table for TUPLE_ITEMS and UNPACK_TO_SLOTS (the count, then the
        (item, slot) pairs, uint32), and whether it ends with the tuple's last read."""
        function_ops, homes_at = self.function.ops, self.liveness.homes_at
        end = start
        while (end < len(function_ops) and function_ops[end].opcode is Opcode.TUPLE_ITEM
               and function_ops[end].args[0] == tuple_var and (end == start or end not in self.label_indices)):
            end += 1
        pairs = [end - start]
        for position in range(start, end):
            item = function_ops[position]
            assert item.dst is not None and item.arg is not None
            pairs += (int(item.arg), homes_at[position][item.dst.slot])
        return end, pairs, end > start and function_ops[end - 1].callee is True

    def tuple_items(self, index: int, op: ir.Op, items: int) -> bool:
        """A target list's stores (``a, b, c = t``): this TUPLE_ITEM and those that follow it on the same
        tuple as one stencil, whose table lists (item, slot) pairs.  A stencil per item (105 bytes on x86-64)
        made unpack_sequence's 400 unpackings 400 KB of code per tier, far more than the instruction cache
        holds.  The run that ends with the tuple's last read releases it, as the interpreter's stack does
        (a temporary holding it would keep its items alive after ``del`` of the targets).  False for a lone
        item that is not the last, for the plain TUPLE_ITEM stencil."""
        end, pairs, releases = self.item_stores(index, op.args[0])
        if end - index < 2 and not releases:
            return False
        stencil, opargs, operands = self.tuple_items_step(items, self.item_table(pairs), releases)
        self.asm.emit(stencil, *opargs, operands=operands)
        self.covered_until = end - 1
        return True

    def item_table(self, pairs: list[int]) -> int:
        """The address of item_stores' table, kept alive with the code."""
        return self.keep_table(struct.pack(f"={len(pairs)}I", *pairs))

    def tuple_items_step(self, items: int, table: int, releases: bool) -> Step:
        stencil = ops.lookup(Opcode.TUPLE_ITEM).stencils["items"]
        return stencil, (items, layout.tuple_items_offset(), int(releases)), (table,)

    def unpack_to_slots(self, index: int, op: ir.Op, value: int, error: object, tier: str) -> bool:
        """``a, b, c = value`` without a starred target, where the stores follow the unpacking: when the value
        is an exact tuple or list of that many items, one stencil takes them and stores them, and makes no
        tuple; anything else is unpacked out of line, by the general stencil and TUPLE_ITEMS.  False where
        the stores are not all there, in order (or too many for the stencil's buffer)."""
        counts: tuple[int, int] = op.callee  # type: ignore[assignment]  # targets before and after a star
        count = counts[0]
        if counts[1] >= 0 or not 0 < count <= UNPACK_TO_SLOTS_MAX or index + 1 in self.label_indices:
            return False
        assert op.dst is not None
        end, pairs, releases = self.item_stores(index + 1, op.dst)
        if end - index - 1 != count or not releases or pairs[1::2] != list(range(count)):
            return False
        items = self.homes[op.dst.slot]
        micro = ops.lookup(Opcode.UNPACK_SEQUENCE)
        table = self.item_table(pairs)  # one for the inline stencil and the general case's TUPLE_ITEMS
        distinct = int(len(set(pairs[2::2])) == count)  # `a, a = t` stores twice: the last item wins
        inline = (micro.stencils["slots"], (value, layout.tuple_items_offset(), distinct), (table,))
        self.inline_or_general(op, tier, inline,
                               [(micro.stencils["object"], (items, value, count, 0),
                                 (int(UNPACKING_COUNTS_TOO_MANY),)),
                                self.tuple_items_step(items, table, releases)], error)
        self.covered_until = end - 1
        return True

    def unboxed_global(self, index: int, op: ir.Op) -> None:
        """A global read at run time, in the specialized tier: its object, unboxed if it still has the type it
        had at compile time, else the generic tier reads it again (a deoptimization)."""
        assert op.dst is not None
        emit = self.asm.emit
        loaded = self.scratch(0)
        emit("SET_NULL", loaded)
        self.load_global(loaded, op, self.error_target(op, "specialized"), "specialized")
        self.unbox_owned(op, self.kinds[op.dst.slot], loaded, ("deopt", index, False))

    def load_global(self, dst: int, op: ir.Op, error: object, tier: str) -> None:
        """A global read when the code runs: through its hint where the object layout is known (the read at
        the hint inline, the lookup out of line)."""
        stencils = ops.lookup(Opcode.LOAD_GLOBAL).stencils
        object_layout = layout.object_layout()
        if object_layout is None:
            self.asm.emit(stencils["object"], dst, operands=self.global_cell(op), error=error)
            return
        operands = self.global_cell(op, object_layout)
        self.inline_or_general(op, tier, (stencils["hit"], (dst,), operands), (stencils["cached"], (dst,), operands),
                               error)

    def global_cell(self, op: ir.Op, object_layout: layouts.ObjectLayout | None = None) -> tuple[int, int]:
        """A global op's operands: its cell (layouts.GlobalCache) and the NameError message (kept alive)."""
        namespaces: tuple[object, ...] = op.callee  # type: ignore[assignment]  # (globals, builtins, ...)
        namespace, builtin_namespace = namespaces[:2]
        name = op.arg
        cell = layouts.GlobalCache(globals=self.context.address(namespace),
                                   builtins=self.context.address(builtin_namespace),
                                   name=self.context.address(sys.intern(name)), hint=-1,  # type: ignore[arg-type]
                                   layout=None if object_layout is None else ctypes.addressof(object_layout))
        text = f"name {name!r} is not defined".encode() + b"\0"
        message = (ctypes.c_char * len(text)).from_buffer_copy(text)
        self.context.keep_alive.extend((cell, message))
        return ctypes.addressof(cell), ctypes.addressof(message)

    def back_edge(self, index: int, tier: str, error: object) -> None:
        """CHECK_SIGNALS and the JUMP after it: the count-down jumps to the loop head itself, and
        falls into the poll only when the count runs out; the JUMP op then follows the poll."""
        loop_jump = self.function.ops[index + 1]
        assert loop_jump.opcode is Opcode.JUMP, "the frontend puts a JUMP after every CHECK_SIGNALS"
        stencils = ops.lookup(Opcode.CHECK_SIGNALS).stencils
        self.asm.emit(stencils["count"], self.signal_slot, jump=self.target(loop_jump, tier))
        self.asm.emit(stencils["poll"], self.signal_slot, SIGNAL_CHECK_INTERVAL,
                      operands=(self.context.address(run_eval_breaker),), error=error)

    def generic_call(self, dst: int, function: object, slots: list[int], error: object, tier: str) -> None:
        operands = (self.context.address(function),)
        if 1 <= len(slots) <= 2:
            self.asm.emit(f"CALL_{len(slots)}", dst, *slots, operands=operands, error=error)
            return
        stencil = ops.lookup(Opcode.CALL_FUNCTION).stencils["object"]
        self.asm.emit(stencil, dst, self.vector(slots), len(slots), operands=operands, error=error)

    def vector(self, slots: list[int]) -> int:
        """Borrowed copies of the objects in ``slots`` in consecutive slots, where a call or a display takes
        them as an array: the outgoing area, after one free slot.  Returns the first."""
        first = self.outgoing + 1
        for position, slot in enumerate(slots):
            self.asm.emit("COPY", first + position, slot)
        return first

    def inline_or_general(self, op: ir.Op, tier: str, inline: Step, general: Step | list[Step],
                          error: object) -> None:
        """The ``inline`` stencil (the common case: short, no call), which jumps to the ``general`` one (or
        steps) when the case is not common; that is set aside out of line, so that the hot path stays
        compact.  A step is (stencil, opargs, operands); both continue after the inline one."""
        general_case, back = (tier, "general", id(op)), (tier, "back", id(op))
        stencil, opargs, operands = inline
        self.asm.emit(stencil, *opargs, operands=operands, jump=general_case, error=error)
        self.asm.label(back)

        def emit_general_case() -> None:
            self.asm.label(general_case)
            for stencil, opargs, operands in general if isinstance(general, list) else [general]:
                self.asm.emit(stencil, *opargs, operands=operands, error=error)
            self.asm.emit("JUMP", jump=back)

        self.out_of_line(emit_general_case)

    def attribute_cache(self, name: str, object_layout: layouts.ObjectLayout) -> int:
        """The address of a new, empty inline cache for one attribute or method site (stencils/objects.c)."""
        cache = layouts.AttributeCache(name=self.context.address(sys.intern(name)),
                                       layout=ctypes.pointer(object_layout), values_mode=object_layout.values_mode)
        self.context.keep_alive.append(cache)
        return ctypes.addressof(cache)

    def declared_object_op(self, op: ir.Op, micro: ops.MicroOp, slots: list[int], dst: int, error: object,
                           tier: str) -> None:
        """An op of the object tier, lowered by its declared form (jit/ops.py, OBJECT_FORMS)."""
        emit = self.asm.emit
        opcode, form = op.opcode, micro.form
        variant = "object"
        opargs: tuple[int, ...] = ()
        operands: tuple[int, ...] = ()
        object_layout = layout.object_layout()
        if opcode in (Opcode.LOAD_ATTR, Opcode.STORE_ATTR, Opcode.LOAD_METHOD) and object_layout is not None:
            # The hit of a monomorphic site inline; the cache's whole lookup (and its refill) out of line.
            opargs = (object_layout.version_offset,)
            operands = (self.attribute_cache(op.arg, object_layout),)  # type: ignore[arg-type]
            places = (dst, *slots, *opargs) if form == "result" else (*slots, *opargs)
            hit = micro.stencils[f"hit_{ops.VALUES_MODE_NAMES[object_layout.values_mode]}"]
            self.inline_or_general(op, tier, (hit, places, operands),
                                   (micro.stencils["cached"], places, operands), error)
            return
        elif opcode in (Opcode.LOAD_ATTR, Opcode.STORE_ATTR, Opcode.DELETE_ATTR, Opcode.LOAD_METHOD):
            operands = (self.context.address(sys.intern(op.arg)),)  # type: ignore[arg-type]
        elif opcode in (Opcode.STORE_GLOBAL, Opcode.DELETE_GLOBAL):
            operands = self.global_cell(op)
        elif opcode is Opcode.BUILD_STRING:
            operands = (self.context.address(""), layout.tuple_items_offset())
        elif opcode is Opcode.BUILD_TUPLE:
            operands = (layout.tuple_items_offset(),)
        elif opcode is Opcode.BEFORE_WITH:
            special = tuple(sys.intern(name) for name in ("__enter__", "__exit__"))
            cell = (ctypes.c_void_p * 2)(*(self.context.address(name) for name in special))
            self.context.keep_alive.append(cell)
            opargs, operands = (int(WITH_LOOKS_UP_EXIT_FIRST),), (ctypes.addressof(cell),)
        elif opcode is Opcode.LOAD_DEREF or opcode is Opcode.CHECK_BOUND:
            if op.callee == "free":
                error_type: type = NameError
                message = (f"cannot access free variable {op.arg!r} where it is not associated with a value in "
                           "enclosing scope")
            else:
                error_type, message = UnboundLocalError, (f"cannot access local variable {op.arg!r} where it is "
                                                          "not associated with a value")
            operands = (self.c_string(message), self.context.address(error_type))
        elif opcode is Opcode.MAKE_CELL:
            variant = "initial" if slots else "object"
        elif opcode is Opcode.MAKE_FUNCTION:
            operands = (self.context.address(op.callee),)  # the globals
        elif opcode in (Opcode.CALL, Opcode.CALL_LOADED, Opcode.CALL_METHOD):
            names: tuple[str, ...] = op.callee or ()  # type: ignore[assignment]
            keywords = self.context.address(tuple(sys.intern(name) for name in names)) if names else 0
            if opcode is not Opcode.CALL_METHOD:
                opargs, operands = (len(slots) - 1 - len(names),), (keywords,)
            elif object_layout is not None:
                variant, opargs = "cached", (len(slots) - len(names), object_layout.version_offset)
                operands = (self.attribute_cache(op.arg, object_layout), keywords)  # type: ignore[arg-type]
            else:
                opargs = (len(slots) - len(names),)
                operands = (self.context.address(sys.intern(op.arg)), keywords)  # type: ignore[arg-type]
        elif opcode is Opcode.CALL_FUNCTION_EX:
            if len(slots) == 3:
                variant, operands = "keywords", (int(CALLS_WORD_VALUE_AFTER),)
            else:
                opargs = (int(CALLS_WORD_VALUE_AFTER),)
        elif opcode is Opcode.UNPACK_SEQUENCE:
            counts: tuple[int, int] = op.callee  # type: ignore[assignment]  # targets before and after a star
            opargs, operands = (counts[0], counts[1] + 1), (int(UNPACKING_COUNTS_TOO_MANY),)
            if counts[1] < 0:  # no star: the common case inline, the general one out of line (its code is long)
                self.inline_or_general(op, tier, (micro.stencils["exact"], (dst, *slots, counts[0]), ()),
                                       (micro.stencils["object"], (dst, *slots, *opargs), operands), error)
                return
        elif opcode in (Opcode.BINARY_SUBSCR, Opcode.STORE_SUBSCR):
            opargs = (layout.subscript_int_mode(),)
            operands = (layout.tuple_items_offset(),) if opcode is Opcode.BINARY_SUBSCR else ()
        elif opcode is Opcode.CONTAINS_OP:
            opargs = (int(op.arg == "not in"),)
        elif opcode is Opcode.TUPLE_ITEM:
            opargs = (int(op.arg), layout.tuple_items_offset())  # type: ignore[arg-type]
        elif opcode is Opcode.FORMAT_VALUE:
            variant = "spec" if len(slots) == 2 else "object"
            opargs = (FORMAT_CONVERSIONS[op.arg],)
        elif opcode is Opcode.RAISE:
            variant = ("reraise", "object", "cause")[len(slots)]
        stencil = micro.stencils[variant]
        if form == "result":
            emit(stencil, dst, *slots, *opargs, operands=operands, error=error)
        elif form in ("effect", "raise"):
            emit(stencil, *slots, *opargs, operands=operands, error=error)
        elif form == "vector":
            emit(stencil, dst, self.vector(slots), len(slots), operands=operands, error=error)
        elif form == "call":
            emit(stencil, dst, slots[0], self.vector(slots[1:]) - 1, *opargs, operands=operands, error=error)
        elif form == "method":
            emit(stencil, dst, self.vector(slots) - 1, *opargs, operands=operands, error=error)
        else:
            assert form == "branch"
            emit(stencil, dst, *slots, jump=self.target(op, tier), error=error)




def lower(function: ir.Function, facts: Facts, context: Context) -> Lowered:
    return Lowering(function, facts, context).lower()
