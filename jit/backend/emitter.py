"""Copy-and-patch: lay stencils out back to back, patch their holes, and make the result executable.

Layout of one blob (all offsets from its base)::

    [code of instruction 0][code of 1]...[code of n-1]   back to back; a stencil whose last
                                                         instruction jumps to _JIT_CONTINUE
                                                         (Stencil.tail_jump bytes) loses that
                                                         jump when it is not last
    [read-only data]  blocks aligned as their stencil asks; identical hole-free blocks stored once
    [GOT]             8-byte slots, one per distinct value loaded through a GOT relocation
    [veneers]         16 bytes per external function out of direct branch reach

Speed: a target's table is loaded at the first compile and prepared lazily,
one stencil at a time, when an instruction first uses it.  A stencil variant
(with or without its tail jump) fills the whole stencil with one
``struct.pack_into`` call: template bytes between holes, the plain integer
fields in between, ranges enforced by the struct codes (relocations.IntField);
holes that are not plain integers call their relocation routine.  For its first
GENERATE_AFTER uses a generic routine does that from the variant's hole table;
then the variant gets a small Python function generated from the same table,
with the values computed inline.  Generating one costs about as much as
patching a few dozen instructions generically, so a process that compiles a few
functions never pays it, and a hot stencil pays it once.  Both routines visit
the holes in one order (the variant's plan), so they make the same veneers and
GOT slots in the same places: the bytes are identical.  When anything goes
wrong, a slow path repeats the instruction hole by hole with the checked
routines and raises the PatchError that names the stencil, instruction, hole,
kind and value.
"""

from __future__ import annotations

import ctypes
import functools
import struct
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from jit._isolation import BUILTINS
from jit.backend import perf_map
from jit.backend.arena import Allocation, Arena
from jit.backend.errors import PatchError, UnsupportedHostError
from jit.backend.relocations import U64, GotEntry, IntField, Relocation, relocation
from jit.backend.schema import Hole, Stencil, TargetInfo
from jit.backend.stencil_tables import StencilTable, symbol_kinds
from jit.backend.stencil_tables import load as load_tables
from jit.backend.target import arch_of, detect_host, target_name
from jit.layouts import SLOT_BYTES

__all__ = [
    "GENERATE_AFTER",
    "CompiledCode",
    "Emitter",
    "Instruction",
    "PreparedTarget",
    "StitchedImage",
    "default_arena",
    "prepared_target",
    "resolve_capi",
    "stitch",
]

CONTINUE = "_JIT_CONTINUE"
_CONTROL = {"_JIT_JUMP_TARGET": "jump_target", "_JIT_SIDE_EXIT": "side_exit", "_JIT_ERROR": "error"}
_OPARG = "_JIT_OPARG"
# A slot operand: Instruction.opargs[n] is a slot index, the hole takes its byte offset in the frame,
# so that x86-64 stencils address the slot with one displacement (R_X86_64_32S).
_SLOT = "_JIT_SLOT"
_SLOT_LIMIT = 0x7FFFFFFF // SLOT_BYTES
_OPERAND = "_JIT_OPERAND"
_DATA = ".data"
_GOT_SLOT = 8
_VENEER_SIZE = 16
_BRANCH_MARGIN = 1 << 12  # slack for addends when deciding whether a function is within branch reach
# Uses of a stencil variant patched by the generic routine before its own routine is generated.  Measured on
# the x86-64 Linux tables: generating one (compiling its source) costs 0.1-0.25 ms, and the generic routine
# about 3 us per stencil against 0.7 us for a generated one, so generating pays for itself after some 40-100
# uses.  Below that: a variant pays less than its generation cost again before it is generated (the
# rent-or-buy bound), a first compile, which uses a variant a few times, generates none, and a stencil in
# steady use gets its routine within its first few dozen uses.  (Measured, 8 and 16 made both the first compile
# and the next few slower: they generate routines that are then used a few times only.)
GENERATE_AFTER = 32
_VENEERS = {
    # jmp *0(%rip); .quad target  (two int3 of padding)
    "x86_64": (b"\xff\x25\x00\x00\x00\x00", b"\xcc\xcc"),
    # ldr x16, #8; br x16; .quad target  (x16 is the AAPCS64 intra-procedure scratch register)
    "aarch64": (b"\x50\x00\x00\x58\x00\x02\x1f\xd6", b""),
}


class Instruction(NamedTuple):
    """One stencil of a sequence and the values of its holes.

    A named tuple rather than a frozen dataclass: as immutable, and several times cheaper to make, which
    counts when the compiler makes hundreds per function.
    """

    stencil: str
    opargs: tuple[int, ...] = ()
    operands: tuple[int, ...] = ()
    jump_target: int | None = None
    side_exit: int | None = None
    error: int | None = None


class _FastPathFailed(Exception):
    """A value check in generated code failed: the slow path finds out which and why."""


_Step = tuple[Hole, Relocation, bool]  # a hole, its kind, whether it is in the data (else in the code)
_Piece = tuple[Hole, Relocation, IntField]  # a plain integer field: its hole, its kind, the kind's field


class _Variant:
    """A stencil as laid out: whole, or without its tail jump; patched generically, then by generated code."""

    def __init__(self, target: PreparedTarget, stencil: Stencil, plan: tuple[_Step, ...], end: int) -> None:
        self.target = target
        self.stencil = stencil
        self.name = stencil.name
        self.code = stencil.code[:end]
        self.size = end
        self.data = stencil.data
        self.data_size = len(stencil.data)
        self.data_align = max(1, stencil.data_align)
        self.shared_data = not stencil.data_holes  # hole-free data is stored once per blob
        self.plan = plan
        self.helpers = tuple(sorted({hole.symbol for hole, _, _ in plan if hole.symbol in target.helper_names}))
        self.got_slots = sum(kind.got is not GotEntry.NONE for _, kind, _ in plan)
        # Branches to an operand (a function address known per instruction) may need a veneer each.
        self.operand_branches = sum(bool(kind.reach) and hole.symbol.startswith(_OPERAND) for hole, kind, _ in plan)
        # The plain integer fields and the template bytes between them, packed by one struct call (both routines):
        # pieces are template bytes or fields to compute; `calls` are the other steps, patched after the pack.
        fields = [(hole, kind, kind.field) for hole, kind, in_data in plan if not in_data and kind.field is not None]
        self.calls = tuple(step for step in plan if step[2] or step[1].field is None)
        self.pieces: list[bytes | _Piece] = []
        fmt = ["<"]
        position = 0
        for hole, kind, field in fields:
            if hole.offset > position:
                fmt.append(f"{hole.offset - position}s")
                self.pieces.append(self.code[position : hole.offset])
            fmt.append(field.fmt)
            self.pieces.append((hole, kind, field))
            position = hole.offset + struct.calcsize("<" + field.fmt)
        if position < end:
            fmt.append(f"{end - position}s")
            self.pieces.append(self.code[position:])
        self.pack = struct.Struct("".join(fmt)).pack_into
        self.uses = 0
        self.fn: Callable[..., None] | None = None  # the generated routine, once made

    def routine(self) -> Callable[..., None]:
        """How to patch one more use: the generic routine, or (from the GENERATE_AFTER-th use on) generated code."""
        self.uses += 1
        if self.uses > self.target.generate_after:
            self.fn = _generate(self)
            return self.fn
        return self.patch_generic

    def patch_generic(self, buf: bytearray, i: int, ins: Instruction, addr: list[int], base: int, cx: _Blob) -> None:
        """What the generated routine does, driven by the variant's pieces and plan instead of specialized code.

        A value out of its field's range fails the pack (struct.error), as in the generated routine; the slow
        path then names it.
        """
        here = addr[i]
        at = here - base
        value = cx.value
        args = [
            piece if isinstance(piece, bytes) else _field(piece, value(i, ins, piece[0].symbol, piece[1]), here)
            for piece in self.pieces
        ]
        if args:
            self.pack(buf, at, *args)
        for hole, kind, in_data in self.calls:
            cx.patch_hole(buf, i, ins, hole, kind, cx.D[i] if in_data else at)


def _field(piece: _Piece, s: int, here: int) -> int:
    """What a plain integer field holds: IntField.expression, computed (its range is the pack's to check)."""
    hole, _, field = piece
    value = s + hole.addend - (here + hole.offset) if field.pc_relative else s + hole.addend
    return value & U64 if field.wrap64 else value


def _variants(target: PreparedTarget, stencil: Stencil) -> tuple[_Variant, _Variant]:
    """The stencil whole, and without its tail jump (the same object when it has none)."""
    plan = _plan(stencil.name, stencil.code_holes, stencil.data_holes)
    whole = _Variant(target, stencil, plan, len(stencil.code))
    if not stencil.tail_jump:
        return whole, whole
    end = len(stencil.code) - stencil.tail_jump
    if any(hole.offset >= end and hole.symbol != CONTINUE for hole in stencil.code_holes):
        raise PatchError(f"stencil {stencil.name}: its tail jump has a hole that is not {CONTINUE}")
    kept = tuple(step for step in plan if step[2] or step[0].offset < end)
    return whole, _Variant(target, stencil, kept, end)


def _plan(name: str, code_holes: Sequence[Hole], data_holes: Sequence[Hole]) -> tuple[_Step, ...]:
    """The order in which both routines patch a variant's holes: (hole, kind, in data).

    Plain integer fields first, by offset (the generated routine packs them in one call), then the code holes
    patched by their routine, by offset, then the data holes.  Veneers and GOT slots are made at first use,
    so one order for both routines makes their bytes identical.
    """
    fields: list[_Step] = []
    calls: list[_Step] = []
    position = 0
    for hole in sorted(code_holes, key=lambda h: h.offset):
        kind = relocation(hole.kind)
        if kind.field is None:
            calls.append((hole, kind, False))
            continue
        if hole.offset < position:
            raise PatchError(f"stencil {name}: holes overlap", kind=hole.kind, offset=hole.offset)
        fields.append((hole, kind, False))
        position = hole.offset + struct.calcsize("<" + kind.field.fmt)
    return (*fields, *calls, *((hole, relocation(hole.kind), True) for hole in data_holes))


# _Layout and _OperandFamily are plain classes, not dataclasses: making a dataclass costs 0.3-0.6 ms at import
# (it compiles its methods), which every ``import jit`` would pay.
class _Layout:
    __slots__ = ("blocks", "bound", "code_size", "data", "data_end", "got", "offsets", "variants", "veneers")

    def __init__(
        self,
        variants: list[_Variant],
        offsets: list[int],  # code offset of each instruction
        code_size: int,
        data: list[int],  # data offset of each instruction (0 where it has none)
        blocks: list[tuple[int, bytes]],  # (offset, bytes) of each data block to copy
        data_end: int,
        got: int,  # offset of the GOT
        veneers: int,  # offset of the veneers
        bound: int,  # bytes the blob can need, veneers included
    ) -> None:
        self.variants = variants
        self.offsets = offsets
        self.code_size = code_size
        self.data = data
        self.blocks = blocks
        self.data_end = data_end
        self.got = got
        self.veneers = veneers
        self.bound = bound


class _Blob:
    """Per-stitch state the patch routines share: addresses, symbol values, GOT, veneers."""

    def __init__(
        self,
        target: PreparedTarget,
        layout: _Layout,
        buf: bytearray,
        base: int,
        symbols: list[Any],
        failures: Mapping[str, str],
    ):
        self.S = symbols
        self.buf = buf
        self.base = base
        self.addresses = [base + offset for offset in layout.offsets]
        self.end_bound = base + layout.bound
        self.D = layout.data
        self.index = target.index
        self.failures = failures  # why symbols failed to resolve, for the messages
        self.got_at = layout.got
        self.got_slots: dict[int, int] = {}
        self.veneer_at = layout.veneers
        self.veneers: dict[int, int] = {}
        self.data_end = layout.data_end
        self.arch = target.arch
        # B: where branches to external k go.  Direct when every place in the
        # blob reaches the function; else 0, and the first use makes a veneer.
        self.B = list(symbols)
        for k, reach in target.branch_reach.items():
            s = symbols[k]
            if s is not None and not self.reaches(s, reach):
                self.B[k] = 0

    def reaches(self, target: int, reach: int) -> bool:
        """Whether a branch anywhere in the blob reaches ``target`` directly."""
        return target - self.end_bound - _BRANCH_MARGIN >= -reach and target - self.base + _BRANCH_MARGIN < reach

    def near(self, target: int, reach: int) -> int:
        """Where a branch to an operand's address goes: the address, or a veneer to it."""
        return target if self.reaches(target, reach) else self.veneer(target)

    def got(self, value: int) -> int:
        slot = self.got_slots.get(value)
        if slot is None:
            offset = self.got_at + _GOT_SLOT * len(self.got_slots)
            struct.pack_into("<Q", self.buf, offset, value & U64)
            slot = self.got_slots[value] = self.base + offset
        return slot

    def veneer_for(self, k: int) -> int:
        """The veneer to external k (made on first use)."""
        s = self.S[k]
        if s is None:
            raise _FastPathFailed
        self.B[k] = self.veneer(s)
        return self.B[k]

    def veneer(self, target: int) -> int:
        """The address of a veneer jumping to ``target``, one per distinct target."""
        address = self.veneers.get(target)
        if address is None:
            head, tail = _VENEERS[self.arch]
            offset = self.veneer_at + _VENEER_SIZE * len(self.veneers)
            self.buf[offset : offset + _VENEER_SIZE] = head + struct.pack("<Q", target) + tail
            address = self.veneers[target] = self.base + offset
        return address

    def value(self, i: int, ins: Instruction, symbol: str, kind: Relocation) -> int:
        """The checked value S of a hole of instruction i (a PatchError says what is wrong with it)."""
        source, detail = _source_of(symbol)
        if source is _ValueSource.EXTERNAL:
            k = self.index[symbol]
            s = self.S[k]
            if s is None:
                reason = self.failures.get(symbol, "not resolved")
                raise PatchError(f"cannot resolve symbol {symbol}: {reason}")
            return (self.B[k] or self.veneer_for(k)) if kind.reach else s
        if source is _ValueSource.OPERAND:
            family, number = detail
            values = getattr(ins, family.field)
            if number >= len(values):
                raise PatchError(f"missing hole value: Instruction.{family.field} has no item {number}")
            value = values[number]
            if not isinstance(value, int) or not family.low <= value <= family.high:
                raise PatchError(
                    f"{family.field}[{number}] = {value!r} out of range [{family.low:#x}, {family.high:#x}]")
            value = family.encode(value)
            return self.near(value, kind.reach) if kind.reach and family.prefix == _OPERAND else value
        addresses = self.addresses
        n = len(addresses)
        if source is _ValueSource.CONTINUE:
            if i + 1 >= n:
                raise PatchError("_JIT_CONTINUE of the last instruction has no next instruction")
            return addresses[i + 1]
        if source is _ValueSource.CONTROL:
            target = getattr(ins, detail)
            if target is None:
                raise PatchError(f"missing hole value: Instruction.{detail} is None")
            if not isinstance(target, int) or not 0 <= target < n:
                raise PatchError(f"{detail} {target!r} is not an instruction index in [0, {n})")
            return addresses[target]
        return self.base + self.D[i]  # _ValueSource.DATA

    def patch_hole(self, buf: bytearray, i: int, ins: Instruction, hole: Hole, kind: Relocation, at: int) -> None:
        """Patch one hole of instruction i, whose code (or data) starts at offset ``at``, with its checked routine."""
        s = self.value(i, ins, hole.symbol, kind)
        g = 0
        if kind.got is GotEntry.SYMBOL:
            g = self.got(s)
        elif kind.got is GotEntry.SYMBOL_ADDEND:
            g = self.got(s + hole.addend)
        kind.patch(buf, at + hole.offset, s, hole.addend, self.base + at + hole.offset, g)

    def patch_steps(self, buf: bytearray, i: int, ins: Instruction, at: int, variant: _Variant) -> None:
        """Copy the variant's code to offset ``at`` of ``buf`` and patch every hole in plan order, checked.

        The slow path: into a copy of the image, to name the hole that failed and why.
        """
        buf[at : at + variant.size] = variant.code
        data_at = self.D[i] if self.D else 0
        for hole, kind, in_data in variant.plan:
            try:
                self.patch_hole(buf, i, ins, hole, kind, data_at if in_data else at)
            except PatchError as error:
                raise error.in_context(
                    stencil=variant.name, index=i, hole=hole.symbol, kind=hole.kind, offset=hole.offset
                ) from None

    @property
    def end(self) -> int:
        """Where the image ends: after the last veneer, GOT slot or data block used."""
        if self.veneers:
            return self.veneer_at + _VENEER_SIZE * len(self.veneers)
        if self.got_slots:
            return self.got_at + _GOT_SLOT * len(self.got_slots)
        return self.data_end


class PreparedTarget:
    """A target's stencil tables, preprocessed for stitching."""

    def __init__(
        self,
        name: str,
        stencils: Mapping[str, Stencil],
        info: TargetInfo | None = None,
        *,
        generate_after: int = GENERATE_AFTER,
    ) -> None:
        self.name = name
        self.info = info
        self.arch = arch_of(name)
        # A StencilTable decodes each stencil at its first use; anything else is copied.
        self.stencils: Mapping[str, Stencil] = stencils if isinstance(stencils, StencilTable) else dict(stencils)
        self.generate_after = generate_after  # generic uses of a variant before its routine is generated
        names: set[str] = set()
        branch: dict[str, int] = {}
        self.has_got = self.has_operand_branches = False
        for symbol, kind_name in sorted(symbol_kinds(self.stencils)):
            kind = relocation(kind_name)  # unknown kinds fail here, at load
            if kind.got is not GotEntry.NONE:
                self.has_got = True
            if kind.reach and symbol.startswith(_OPERAND):
                self.has_operand_branches = True
            if _is_external(symbol):
                names.add(symbol)
                if kind.reach:
                    branch[symbol] = min(kind.reach, branch.get(symbol, kind.reach))
        self.externals = sorted(names)
        self.index = {name: k for k, name in enumerate(self.externals)}
        # The externals that are the helpers of stencils/helpers.c: stencils of this table, emitted at run time.
        self.helper_names = frozenset(name for name in self.externals if name in self.stencils)
        self.branch_reach = {self.index[name]: reach for name, reach in sorted(branch.items())}
        # Stencil name -> (whole variant, variant without its tail jump), each pair made at the stencil's first use.
        self.variants: dict[str, tuple[_Variant, _Variant]] = {}

    def resolve_all(self, resolve: Callable[[str], int]) -> tuple[list[Any], dict[str, str]]:
        """Values of the external symbols (None where ``resolve`` failed) and why they failed."""
        values: list[Any] = []
        failures: dict[str, str] = {}
        for name in self.externals:
            try:
                values.append(int(resolve(name)))
            except Exception as exc:
                values.append(None)
                failures[name] = f"{type(exc).__name__}: {exc}"
        return values, failures

    def layout(self, instructions: Sequence[Instruction]) -> _Layout:
        """Offsets of everything in the blob; independent of where it will live."""
        n = len(instructions)
        if n == 0:
            raise PatchError("cannot emit an empty instruction sequence")
        table = self.variants
        try:
            variants = [table[ins.stencil][1] for ins in instructions]
        except (KeyError, AttributeError, TypeError):
            self._prepare(instructions)
            variants = [table[ins.stencil][1] for ins in instructions]
        variants[-1] = table[instructions[-1].stencil][0]  # nothing follows the last one
        offsets = [0] * n
        position = 0
        with_data = []
        for i, variant in enumerate(variants):
            offsets[i] = position
            position += variant.size
            if variant.data_size:
                with_data.append(i)
        code_size = position
        data = [0] * n if with_data else []
        blocks: list[tuple[int, bytes]] = []
        shared: dict[tuple[bytes, int], int] = {}
        for i in with_data:
            variant = variants[i]
            key = (variant.data, variant.data_align)
            where = shared.get(key) if variant.shared_data else None
            if where is None:
                where = -(-position // variant.data_align) * variant.data_align
                position = where + variant.data_size
                blocks.append((where, variant.data))
                if variant.shared_data:
                    shared[key] = where
            data[i] = where
        data_end = position
        got = -(-position // _GOT_SLOT) * _GOT_SLOT
        position = got
        if self.has_got:
            position += _GOT_SLOT * sum(v.got_slots for v in variants)
        veneers = -(-position // _VENEER_SIZE) * _VENEER_SIZE
        count = len(self.branch_reach)
        if self.has_operand_branches:
            count += sum(v.operand_branches for v in variants)
        bound = veneers + _VENEER_SIZE * count
        return _Layout(variants, offsets, code_size, data, blocks, data_end, got, veneers, bound)

    def _prepare(self, instructions: Sequence[Instruction]) -> None:
        """Make the variants of the stencils ``instructions`` use for the first time; PatchError for unknown ones.

        Off the hot path: ``variants`` stays an exact dict, whose lookups the interpreter specializes.
        """
        for i, ins in enumerate(instructions):
            name = getattr(ins, "stencil", None)
            if not isinstance(name, str) or name not in self.stencils:
                raise PatchError(f"unknown stencil {name!r} for target {self.name}", index=i, stencil=str(name))
            if name not in self.variants:
                self.variants[name] = _variants(self, self.stencils[name])

    def patch(
        self,
        layout: _Layout,
        instructions: Sequence[Instruction],
        base: int,
        symbols: list[Any],
        failures: Mapping[str, str] | None = None,
    ) -> StitchedImage:
        """Fill the blob for address ``base``."""
        buf = bytearray(layout.bound)
        for offset, block in layout.blocks:
            buf[offset : offset + len(block)] = block
        blob = _Blob(self, layout, buf, base, symbols, failures or {})
        addresses = blob.addresses
        functions = [v.fn or v.routine() for v in layout.variants]
        i = 0
        try:
            for i, ins in enumerate(instructions):
                functions[i](buf, i, ins, addresses, base, blob)
        except Exception as exc:
            error = _explain(layout, instructions, blob, i)
            if error is None:
                raise
            raise error from exc
        image = bytes(buf[: blob.end])
        return StitchedImage(image, base, layout.offsets, [v.name for v in layout.variants], layout.code_size)

    def stitch(self, instructions: Sequence[Instruction], base: int, resolve: Callable[[str], int]) -> StitchedImage:
        symbols, failures = self.resolve_all(resolve)
        return self.patch(self.layout(instructions), instructions, base, symbols, failures)


def _is_external(symbol: str) -> bool:
    internal = symbol in (CONTINUE, _DATA) or symbol in _CONTROL
    return not (internal or _operand_family(symbol) is not None)


class _OperandFamily:
    """Holes whose values come from an Instruction's operands: which field, which range, which encoding."""

    __slots__ = ("encode", "encoding", "field", "high", "local", "low", "prefix")

    def __init__(
        self,
        prefix: str,
        field: str,  # the Instruction field holding the values
        local: str,  # prefix of the generated code's local variable
        low: int,
        high: int,
        encoding: str,  # an in-place Python statement tail ("*= 8"), empty for none: the generated routine's
        encode: Callable[[int], int],  # the same, for the generic routine
    ) -> None:
        self.prefix = prefix
        self.field = field
        self.local = local
        self.low = low
        self.high = high
        self.encoding = encoding
        self.encode = encode


_OPERAND_FAMILIES = (
    _OperandFamily(_OPARG, "opargs", "o", 0, 0xFFFFFFFF, "", lambda v: v),
    _OperandFamily(_SLOT, "opargs", "q", 0, _SLOT_LIMIT, f"*= {SLOT_BYTES}", lambda v: v * SLOT_BYTES),
    _OperandFamily(_OPERAND, "operands", "d", -(1 << 63), U64, f"&= {U64}", lambda v: v & U64),
)


@functools.cache  # asked for every hole the generic routine patches
def _operand_family(symbol: str) -> _OperandFamily | None:
    return next((family for family in _OPERAND_FAMILIES if symbol.startswith(family.prefix)), None)


@functools.cache
def _operand_number(symbol: str, prefix: str) -> int:
    suffix = symbol[len(prefix) :]
    if not suffix.isdigit():
        raise PatchError(f"malformed operand hole {symbol!r}", hole=symbol)
    return int(suffix)


class _ValueSource:
    """Where a hole's value comes from (see _source_of); plain objects compared by identity."""

    EXTERNAL = object()  # a C-API symbol, resolved once per emitter
    OPERAND = object()  # an operand of the instruction (detail: its family and number)
    CONTINUE = object()  # the next instruction
    CONTROL = object()  # a branch target (detail: the Instruction field)
    DATA = object()  # the instruction's own read-only data


@functools.cache  # asked for every hole the generic routine patches
def _source_of(symbol: str) -> tuple[object, Any]:
    """Where the value of holes named ``symbol`` comes from, and the detail that finds it."""
    if symbol == CONTINUE:
        return _ValueSource.CONTINUE, None
    if symbol in _CONTROL:
        return _ValueSource.CONTROL, _CONTROL[symbol]
    if symbol == _DATA:
        return _ValueSource.DATA, None
    family = _operand_family(symbol)
    if family is not None:
        return _ValueSource.OPERAND, (family, _operand_number(symbol, family.prefix))
    return _ValueSource.EXTERNAL, None


# --- Code generation ---------------------------------------------------------


class _Source:
    """Python source for one function: statements, and the names already bound."""

    def __init__(self, target: PreparedTarget) -> None:
        self.target = target
        self.lines: list[str] = []
        self.bound: set[str] = set()
        self.constants: dict[str, object] = {}

    def constant(self, value: object) -> str:
        name = f"K{len(self.constants)}"
        self.constants[name] = value
        return name

    def value(self, symbol: str, kind: Relocation) -> str:
        """An expression for the hole's symbol value S (binding locals on first use)."""
        if symbol == CONTINUE:
            return self.bind("nxt", "addr[i + 1]")
        if symbol in _CONTROL:
            local = symbol.lower()[5:]
            if local not in self.bound:
                self.lines.append(f"t = ins.{_CONTROL[symbol]}")
                self.lines.append("if t < 0: raise Fast")  # None fails here too
            return self.bind(local, "addr[t]")
        if symbol == _DATA:
            return self.bind("data", "base + cx.D[i]")
        family = _operand_family(symbol)
        if family is not None:
            n = _operand_number(symbol, family.prefix)
            local = f"{family.local}{n}"
            if local not in self.bound:
                self.bind(local, f"ins.{family.field}[{n}]")
                self.lines.append(f"if not {family.low} <= {local} <= {family.high}: raise Fast")
                if family.encoding:
                    self.lines.append(f"{local} {family.encoding}")
            if kind.reach and family.prefix == _OPERAND:
                return self.bind(f"{local}_{kind.reach}", f"cx.near({local}, {kind.reach})")
            return local
        k = self.target.index[symbol]
        if kind.reach:
            return self.bind(f"b{k}", f"cx.B[{k}] or cx.veneer_for({k})")
        return self.bind(f"s{k}", f"cx.S[{k}]")

    def bind(self, local: str, expression: str) -> str:
        if local not in self.bound:
            self.bound.add(local)
            self.lines.append(f"{local} = {expression}")
        return local

    def call(self, hole: Hole, kind: Relocation, at: str, place: str) -> None:
        """Patch one hole through its relocation routine."""
        s = self.value(hole.symbol, kind)
        routine = self.constant(kind.patch)
        if kind.got is GotEntry.SYMBOL:
            g = f"cx.got({s})"
        elif kind.got is GotEntry.SYMBOL_ADDEND:
            g = f"cx.got({s} + {hole.addend})"
        else:
            g = "0"
        self.lines.append(f"{routine}(buf, {at} + {hole.offset}, {s}, {hole.addend}, {place} + {hole.offset}, {g})")


def _generate(variant: _Variant) -> Callable[..., None]:
    """The variant's own patch routine: the generic routine's work, specialized into straight-line code."""
    source = _Source(variant.target)
    source.lines.append("here = addr[i]")
    source.lines.append("at = here - base")
    args = [
        source.constant(piece) if isinstance(piece, bytes)
        else piece[2].expression(source.value(piece[0].symbol, piece[1]), piece[0].addend, "here", piece[0].offset)
        for piece in variant.pieces
    ]
    if args:
        source.lines.append(f"{source.constant(variant.pack)}(buf, at, {', '.join(args)})")
    data_calls = [(hole, kind) for hole, kind, in_data in variant.calls if in_data]
    for hole, kind, in_data in variant.calls:
        if not in_data:
            source.call(hole, kind, "at", "here")
    if data_calls:
        source.lines.append("dat = cx.D[i]")
        for hole, kind in data_calls:
            source.call(hole, kind, "dat", "base + dat")
    body = "\n    ".join(source.lines)
    text = f"def patch_{variant.name}(buf, i, ins, addr, base, cx):\n    {body}\n"
    namespace = _exec_namespace(source.constants)
    exec(compile(text, f"<stencil {variant.name}>", "exec"), namespace)
    function: Callable[..., None] = namespace[f"patch_{variant.name}"]
    return function


def _exec_namespace(constants: Mapping[str, object]) -> dict[str, Any]:
    """The globals a generated routine runs in: the compiler's builtins, not the user's (a rebound abs or id
    would patch wrong values: jit/_isolation.py), the fast path's failure signal and the routine's constants."""
    return {"__builtins__": BUILTINS, "Fast": _FastPathFailed, **constants}


# --- The slow path: find and name what failed -------------------------------


def _explain(layout: _Layout, instructions: Sequence[Instruction], blob: _Blob, i: int) -> PatchError | None:
    """The PatchError for instruction i, or None if every hole patches (the failure was elsewhere).

    Patches a copy of the image hole by hole, in the plan's order, with the checked routines.
    """
    try:
        blob.patch_steps(bytearray(blob.buf), i, instructions[i], layout.offsets[i], layout.variants[i])
    except PatchError as error:
        return error
    return None


# --- Results -------------------------------------------------------------------


class StitchedImage:
    """A stitched blob for address ``base``: code, data, GOT and veneers as laid out."""

    def __init__(self, image: bytes, base: int, offsets: list[int], stencils: list[str], code_size: int) -> None:
        self.image = image
        self.base = base
        self._offsets = offsets
        self._stencils = stencils
        self.code_size = code_size  # the instructions' code: image[:code_size]

    def address_of(self, index: int) -> int:
        return self.base + self._offsets[index]

    def stencil_offsets(self) -> list[tuple[int, str, int]]:
        return [(i, name, offset) for i, (name, offset) in enumerate(zip(self._stencils, self._offsets, strict=True))]

    def record_perf_map(self) -> None:
        perf_map.record(self.base, self._offsets, self._stencils, self.code_size)


class CompiledCode:
    """Stitched code in executable memory; the memory goes back to the arena when this is collected."""

    def __init__(self, arena: Arena, allocation: Allocation, image: StitchedImage) -> None:
        self._arena = arena
        self._allocation = allocation
        self._image = image
        self.entry = image.address_of(0)
        self.size = allocation.size
        self._finalizer = weakref.finalize(self, arena.release, allocation)

    def address_of(self, index: int) -> int:
        return self._image.address_of(index)

    def code_bytes(self) -> bytes:
        """The stencils' patched code as it is in memory (without data, GOT and veneers)."""
        return self._arena.read(self._allocation, self._image.base - self._allocation.address,
                                self._image.code_size)

    def stencil_offsets(self) -> list[tuple[int, str, int]]:
        return self._image.stencil_offsets()

    def free(self) -> None:
        """Return the memory now; the code must not run again."""
        self._finalizer()

    @property
    def alive(self) -> bool:
        return self._finalizer.alive


# --- Entry points --------------------------------------------------------------------


@functools.cache
def resolve_capi(name: str) -> int:
    """The address of a function or data symbol exported by the running CPython."""
    try:
        return ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, name))
    except ValueError:
        raise LookupError(f"{name} is not exported by this CPython") from None


@functools.cache
def prepared_target(target: str) -> PreparedTarget:
    """The generated tables of ``target``, loaded and prepared once."""
    info, stencils = load_tables(target)
    return PreparedTarget(target, stencils, info)


def stitch(target: str, instructions: Sequence[Instruction], base: int, resolve: Callable[[str], int]) -> StitchedImage:
    """Lay out and patch ``instructions`` for address ``base`` exactly as Emitter.emit would; no memory."""
    return prepared_target(target).stitch(instructions, base, resolve)


@functools.cache
def default_arena() -> Arena:
    """The process's arena of executable memory."""
    return Arena()


# Cache colouring (Emitter._color): a blob's start steps by COLOR_STEP bytes (a prime number of 64-byte lines,
# so that the offsets cover the span before they repeat) through COLOR_SPAN, the span one way of a 32 KiB 8-way
# instruction cache covers.
COLOR_STEP = 11 * 64
COLOR_SPAN = 4096


class Emitter:
    """Emits instruction sequences into executable memory of the running process."""

    def __init__(
        self,
        target: str | None = None,
        memory: Arena | None = None,
        *,
        tables: Mapping[str, Stencil] | None = None,
    ) -> None:
        host_target = target_name(detect_host())
        target = target or host_target
        if target != host_target:
            raise UnsupportedHostError(f"cannot execute {target} code on a {host_target} host; use stitch()")
        self.target = PreparedTarget(target, tables) if tables is not None else prepared_target(target)
        self.arena = memory if memory is not None else default_arena()
        self._symbols, self._failures = self.target.resolve_all(resolve_capi)
        # The helpers the stencils call (stencils/helpers.c; no CPython exports them): each emitted once, before
        # the first blob whose stencils call it, and kept as long as the emitter.
        self.helpers: dict[str, CompiledCode] = {}
        self._colors = 0

    def _color(self) -> int:
        """Where in its first page the next blob starts: blobs start on pages of their own (see arena.py), so at
        one offset their entries and first stencils would all fall in the same sets of the instruction cache
        (8 ways of 64-byte lines, a set per line of a 4 KiB span), and code called in turn from many blobs
        would evict itself.  Successive blobs step through the page instead (cache colouring)."""
        self._colors += 1
        return (self._colors * COLOR_STEP) % COLOR_SPAN

    def _resolve_helpers(self, layout: _Layout) -> None:
        for variant in layout.variants:
            for name in variant.helpers:
                if name not in self.helpers:
                    code = self.helpers[name] = self.emit([Instruction(name)])
                    self._symbols[self.target.index[name]] = code.entry
                    self._failures.pop(name, None)

    def stitch(self, instructions: Sequence[Instruction], base: int) -> StitchedImage:
        """What ``emit`` would write at ``base``, without memory (for jit.explain and measurements)."""
        layout = self.target.layout(instructions)
        self._resolve_helpers(layout)
        return self.target.patch(layout, instructions, base, self._symbols, self._failures)

    def emit(self, instructions: Sequence[Instruction]) -> CompiledCode:
        """Stitch, copy into executable memory, flush, protect."""
        layout = self.target.layout(instructions)
        self._resolve_helpers(layout)
        color = self._color()
        allocation = self.arena.allocate(layout.bound + color)
        try:
            image = self.target.patch(layout, instructions, allocation.address + color, self._symbols,
                                      self._failures)
            self.arena.write(allocation, image.image, color)
            self.arena.seal(allocation)
        except BaseException:
            self.arena.release(allocation)
            raise
        if perf_map.ENABLED:
            image.record_perf_map()
        return CompiledCode(self.arena, allocation, image)
