"""One patch routine per relocation kind found in the six targets' stencil tables.

Every routine has the signature ``patch(buf, offset, s, a, p, g)``:

- ``buf``: the image being built; the hole's field starts at ``buf[offset]``;
- ``s``: the symbol's value (an address, or an operand's value: 0 <= s < 2**64);
- ``a``: the relocation's addend;
- ``p``: the run-time address of the field (the ELF "place" P);
- ``g``: the run-time address of the blob's GOT slot for this hole (GOT kinds only, else 0).

Each routine checks its range with an explicit test on every call and raises
:class:`PatchError` naming the kind, the offset and the value; none relies on
``assert``.  Kinds whose field is a plain little-endian integer also describe
that field (:class:`IntField`) so that the emitter can fill it in its
one-``struct``-call-per-stencil fast path; the routine and the fast path are
both derived from that one description.

Relaxations follow the ELF psABIs' rules for linkers (x86-64 GOTPCRELX,
AArch64 GOT loads): an instruction that loads an address from the GOT becomes
one that computes it, when the value is near or small, and the GOT slot is
used otherwise.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from enum import Enum

from jit.backend.errors import PatchError
from jit.records import record

__all__ = ["RELOCATIONS", "GotEntry", "IntField", "PatchFn", "Relocation", "relocation"]

PatchFn = Callable[[bytearray, int, int, int, int, int], None]

U64 = (1 << 64) - 1
_INT32 = (-(1 << 31), (1 << 31) - 1)
_UINT32 = (0, (1 << 32) - 1)
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")


class GotEntry(Enum):
    """What a kind's GOT slot holds, if it uses one."""

    NONE = "none"
    SYMBOL = "S"  # x86-64 GOTPCREL*: the slot holds S, A adjusts for the PC
    SYMBOL_ADDEND = "S+A"  # AArch64 *_GOT_*: the slot holds S+A (GDAT(S+A))


@record(frozen=True)
class IntField:
    """A field that is a whole little-endian integer: the value (minus P if PC-relative) stored as is.

    ``fmt`` is the struct code of the field; its range is exactly [lo, hi], so
    that ``struct.pack`` enforces the same range as the checked routine.  With
    ``wrap64`` the field takes S+A modulo 2**64 (C's unsigned arithmetic on an
    address plus a folded constant) and the check is on S alone.
    """

    fmt: str
    pc_relative: bool
    lo: int
    hi: int
    wrap64: bool = False

    def expression(self, s: str, a: int, p: str, offset: int) -> str:
        """Python source for the field, given expressions for S and for P - offset (fast path)."""
        constant = a - offset if self.pc_relative else a
        text = f"{s} - {p}" if self.pc_relative else s
        if constant:
            text = f"{text} {'-' if constant < 0 else '+'} {abs(constant)}"
        return f"({text}) & {U64:#x}" if self.wrap64 else f"({text})"


@record(frozen=True)
class Relocation:
    """One relocation kind: its routine and what the emitter must know about it."""

    name: str
    patch: PatchFn
    got: GotEntry = GotEntry.NONE
    reach: int = 0  # a branch: targets in [p - reach, p + reach) are reachable directly; far externals need a veneer
    field: IntField | None = None


def _fail(kind: str, offset: int, value: int, why: str) -> PatchError:
    return PatchError(why, kind=kind, offset=offset, value=value)


def _check_s64(kind: str, offset: int, s: int) -> None:
    if not -(1 << 63) <= s <= U64:
        raise _fail(kind, offset, s, "value does not fit in 64 bits")


def _int_field_patch(kind: str, spec: IntField) -> PatchFn:
    packer = struct.Struct("<" + spec.fmt)

    def patch(buf: bytearray, offset: int, s: int, a: int, p: int, g: int) -> None:
        if spec.wrap64:
            _check_s64(kind, offset, s)
            packer.pack_into(buf, offset, (s + a) & U64)
            return
        value = s + a - p if spec.pc_relative else s + a
        if not spec.lo <= value <= spec.hi:
            raise _fail(kind, offset, value, f"value out of range [{spec.lo:#x}, {spec.hi:#x}]")
        packer.pack_into(buf, offset, value)

    patch.__name__ = f"patch_{kind}"
    return patch


def _int_relocation(name: str, spec: IntField, *, reach: int = 0) -> Relocation:
    return Relocation(name, _int_field_patch(name, spec), reach=reach, field=spec)


# --- x86-64 ---------------------------------------------------------------

_X86_REX_W = 0x08


def _fits_i32(value: int) -> bool:
    return _INT32[0] <= value <= _INT32[1]


def _x86_got_load(kind: str, relax: bool) -> PatchFn:
    """GOTPCREL / GOTPCRELX / REX_GOTPCRELX: disp32 to the GOT slot, or a relaxed instruction.

    Relaxations (only for the X kinds, whose instruction forms the assembler
    guarantees): ``mov foo@GOTPCREL(%rip), %r`` becomes ``lea foo(%rip), %r``
    when foo is within +-2 GiB, else ``mov $foo, %r`` when foo fits the
    immediate; ``call``/``jmp *foo@GOTPCREL(%rip)`` become direct ``call``/``jmp``.
    """

    def patch(buf: bytearray, offset: int, s: int, a: int, p: int, g: int) -> None:
        rip_relative = offset >= 2 and buf[offset - 1] & 0xC7 == 0x05  # ModRM: [rip + disp32]
        if relax and rip_relative and _x86_relax(kind, buf, offset, s, a, p):
            return
        value = g + a - p
        if not _fits_i32(value):
            raise _fail(kind, offset, value, "GOT slot out of +-2 GiB reach")
        _I32.pack_into(buf, offset, value)

    patch.__name__ = f"patch_{kind}"
    return patch


def _x86_relax(kind: str, buf: bytearray, offset: int, s: int, a: int, p: int) -> bool:
    opcode, modrm = buf[offset - 2], buf[offset - 1]
    direct = s + a - p
    rex = buf[offset - 3] if kind == "R_X86_64_REX_GOTPCRELX" and offset >= 3 else 0
    if opcode == 0x8B:  # mov r, [rip + slot]
        if _fits_i32(direct):
            buf[offset - 2] = 0x8D  # lea r, [rip + s]
            _I32.pack_into(buf, offset, direct)
            return True
        wide = bool(rex & _X86_REX_W)
        if wide and not (s < (1 << 31) or s >= (1 << 64) - (1 << 31)):
            return False  # the sign-extended imm32 of a 64-bit mov cannot hold it
        if rex:  # ModRM.reg moves to ModRM.rm: REX.R moves to REX.B
            buf[offset - 3] = 0x40 | (rex & _X86_REX_W) | ((rex >> 2) & 1)
        buf[offset - 2] = 0xC7  # mov r/m, imm32
        buf[offset - 1] = 0xC0 | ((modrm >> 3) & 7)
        _U32.pack_into(buf, offset, s & 0xFFFFFFFF)
        return True
    if opcode == 0xFF and modrm in (0x15, 0x25) and not rex and _fits_i32(direct + 1):
        if modrm == 0x15:  # call *[rip + slot] -> addr32 call rel32 (same length, same end)
            buf[offset - 2 : offset] = b"\x67\xe8"
            _I32.pack_into(buf, offset, direct)
        else:  # jmp *[rip + slot] -> jmp rel32; nop (the jmp ends one byte earlier)
            buf[offset - 2] = 0xE9
            _I32.pack_into(buf, offset - 1, direct + 1)
            buf[offset + 3] = 0x90
        return True
    return False


# --- AArch64 --------------------------------------------------------------


def _page(address: int) -> int:
    return address & ~0xFFF


def _word_patch(kind: str, encode: Callable[[int, int, int, int, int, int], int]) -> PatchFn:
    """A routine that rewrites the 32-bit instruction word at offset."""

    def patch(buf: bytearray, offset: int, s: int, a: int, p: int, g: int) -> None:
        (word,) = _U32.unpack_from(buf, offset)
        _U32.pack_into(buf, offset, encode(word, offset, s, a, p, g))

    patch.__name__ = f"patch_{kind}"
    return patch


def _movw(kind: str, shift: int, checked: bool) -> PatchFn:
    """MOVW_UABS_Gn[_NC]: bits [shift, shift+16) of S+A into movz/movk's imm16."""

    def encode(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
        _check_s64(kind, offset, s)
        value = (s + a) & U64
        if checked and value >> (shift + 16):
            raise _fail(kind, offset, value, f"value does not fit in {shift + 16} bits")
        return (word & ~(0xFFFF << 5)) | (((value >> shift) & 0xFFFF) << 5)

    return _word_patch(kind, encode)


def _adr_immediate(word: int, imm21: int) -> int:
    """Set the 21-bit immediate of adr/adrp (immlo in bits 29-30, immhi in bits 5-23)."""
    imm21 &= 0x1FFFFF
    return (word & 0x9F00001F) | ((imm21 & 3) << 29) | ((imm21 >> 2) << 5)


def _adrp(kind: str, via_got: bool) -> PatchFn:
    def encode(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
        target = g if via_got else s + a
        delta = _page(target) - _page(p)
        if not -(1 << 32) <= delta < (1 << 32):
            raise _fail(kind, offset, delta, "page out of adrp's +-4 GiB reach")
        return _adr_immediate(word, delta >> 12)

    return _word_patch(kind, encode)


def _adr_lo21(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
    delta = s + a - p
    if not -(1 << 20) <= delta < (1 << 20):
        raise _fail("R_AARCH64_ADR_PREL_LO21", offset, delta, "target out of adr's +-1 MiB reach")
    return _adr_immediate(word, delta)


def _lo12(kind: str, shift: int) -> PatchFn:
    """ADD_ABS_LO12_NC (shift 0) and LDSTn_ABS_LO12_NC: the low 12 bits, scaled by the access size."""

    def encode(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
        _check_s64(kind, offset, s)
        low = (s + a) & 0xFFF
        if low & ((1 << shift) - 1):
            raise _fail(kind, offset, s + a, f"address not aligned to the {1 << shift}-byte access")
        return (word & ~(0xFFF << 10)) | ((low >> shift) << 10)

    return _word_patch(kind, encode)


def _branch(kind: str, bits: int, lsb: int) -> Relocation:
    """B/BL (26 bits at 0), B.cond/CBZ (19 bits at 5), TBZ (14 bits at 5): word offset to S+A."""
    reach = 1 << (bits + 1)  # bytes: a signed word count of `bits` bits
    mask = ((1 << bits) - 1) << lsb

    def encode(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
        delta = s + a - p
        if delta & 3 or not -reach <= delta < reach:
            raise _fail(kind, offset, delta, f"branch target out of +-{reach:#x} reach or misaligned")
        return (word & ~mask) | (((delta >> 2) << lsb) & mask)

    return Relocation(kind, _word_patch(kind, encode), reach=reach)


_LDR_X_IMM = 0xF9400000  # ldr Xt, [Xn, #imm12 * 8]
_MOVZ_X = 0xD2800000  # movz Xt, #imm16
_ADR = 0x10000000  # adr Xd, #imm21


def _ld64_got_lo12(word: int, offset: int, s: int, a: int, p: int, g: int) -> int:
    """LD64_GOT_LO12_NC: ``ldr Xt, [Xn, #:got_lo12:sym]``, relaxed to one instruction when it can be.

    The paired ``adrp Xn`` (ADR_GOT_PAGE) is left pointing at the GOT slot's
    page, so another load sharing it still works: each rewrite here is local.
    """
    kind = "R_AARCH64_LD64_GOT_LO12_NC"
    value = (s + a) & U64
    if word & 0xFFC00000 == _LDR_X_IMM:
        register = word & 0x1F
        if value < (1 << 16):
            return _MOVZ_X | (value << 5) | register
        delta = value - p
        if -(1 << 20) <= delta < (1 << 20):
            return _adr_immediate(_ADR | register, delta)
    if g & 7:
        raise _fail(kind, offset, g, "GOT slot not 8-byte aligned")
    return (word & ~(0xFFF << 10)) | (((g & 0xFFF) >> 3) << 10)


def _table() -> dict[str, Relocation]:
    x86_pc32 = IntField("i", True, *_INT32)
    relocations = [
        _int_relocation("R_X86_64_64", IntField("Q", False, 0, U64, wrap64=True)),
        _int_relocation("R_X86_64_32", IntField("I", False, *_UINT32)),
        _int_relocation("R_X86_64_32S", IntField("i", False, *_INT32)),
        _int_relocation("R_X86_64_PC32", x86_pc32),
        _int_relocation("R_X86_64_PLT32", x86_pc32, reach=1 << 31),
        Relocation("R_X86_64_GOTPCREL", _x86_got_load("R_X86_64_GOTPCREL", False), GotEntry.SYMBOL),
        Relocation("R_X86_64_GOTPCRELX", _x86_got_load("R_X86_64_GOTPCRELX", True), GotEntry.SYMBOL),
        Relocation("R_X86_64_REX_GOTPCRELX", _x86_got_load("R_X86_64_REX_GOTPCRELX", True), GotEntry.SYMBOL),
        _int_relocation("R_AARCH64_ABS64", IntField("Q", False, 0, U64, wrap64=True)),
        Relocation("R_AARCH64_ADR_PREL_LO21", _word_patch("R_AARCH64_ADR_PREL_LO21", _adr_lo21)),
        Relocation("R_AARCH64_ADR_PREL_PG_HI21", _adrp("R_AARCH64_ADR_PREL_PG_HI21", via_got=False)),
        Relocation("R_AARCH64_ADD_ABS_LO12_NC", _lo12("R_AARCH64_ADD_ABS_LO12_NC", 0)),
        _branch("R_AARCH64_TSTBR14", 14, 5),
        _branch("R_AARCH64_CONDBR19", 19, 5),
        _branch("R_AARCH64_JUMP26", 26, 0),
        _branch("R_AARCH64_CALL26", 26, 0),
        Relocation("R_AARCH64_ADR_GOT_PAGE", _adrp("R_AARCH64_ADR_GOT_PAGE", via_got=True), GotEntry.SYMBOL_ADDEND),
        Relocation(
            "R_AARCH64_LD64_GOT_LO12_NC",
            _word_patch("R_AARCH64_LD64_GOT_LO12_NC", _ld64_got_lo12),
            GotEntry.SYMBOL_ADDEND,
        ),
    ]
    for group, shift in (("G0", 0), ("G1", 16), ("G2", 32), ("G3", 48)):
        for suffix in ("", "_NC") if group != "G3" else ("",):
            name = f"R_AARCH64_MOVW_UABS_{group}{suffix}"
            relocations.append(Relocation(name, _movw(name, shift, checked=not suffix)))
    for bits, shift in ((8, 0), (16, 1), (32, 2), (64, 3), (128, 4)):
        name = f"R_AARCH64_LDST{bits}_ABS_LO12_NC"
        relocations.append(Relocation(name, _lo12(name, shift)))
    return {r.name: r for r in relocations}


RELOCATIONS: dict[str, Relocation] = _table()


def relocation(kind: str) -> Relocation:
    """The relocation kind named ``kind``; PatchError if no routine handles it."""
    try:
        return RELOCATIONS[kind]
    except KeyError:
        raise PatchError("no patch routine for this relocation kind", kind=kind) from None
