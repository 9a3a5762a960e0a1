"""Every relocation kind, patched with an in-range and an out-of-range value.

Patched instructions are decoded back with capstone, so each test checks what
the processor will do, not just which bits moved.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import capstone
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jit.backend.errors import PatchError
from jit.backend.relocations import RELOCATIONS, U64, relocation

BASE = 0x7F12_3456_0000  # where the patched code pretends to live
X86 = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
ARM64 = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)


def decode(arch: capstone.Cs, code: bytes, address: int = BASE) -> list[str]:
    return [f"{i.mnemonic} {i.op_str}".strip() for i in arch.disasm(code, address)]


def word(value: int) -> bytes:
    return struct.pack("<I", value)


@dataclass(frozen=True)
class Case:
    """Patch ``kind`` in ``template`` (at BASE) at ``offset``; expect ``decoded`` (or ``raw`` bytes)."""

    kind: str
    template: bytes
    offset: int
    s: int
    a: int = 0
    g: int = 0
    decoded: tuple[str, ...] = ()
    raw: bytes | None = None

    def patch(self) -> bytearray:
        buf = bytearray(self.template)
        relocation(self.kind).patch(buf, self.offset, self.s, self.a, BASE + self.offset, self.g)
        return buf


FAR = BASE + (1 << 33)  # beyond every PC-relative reach
GOT = BASE + 0x2000  # a GOT slot near the code
MOVZ_X0 = 0xD2800000
MOVK_X0 = (0xF2800000, 0xF2A00000, 0xF2C00000, 0xF2E00000)  # movk x0, #0, lsl 0/16/32/48
V = 0x1122_3344_5566_7788

IN_RANGE = [
    # x86-64
    Case("R_X86_64_64", b"\x48\xb8" + bytes(8), 2, V, 8, decoded=(f"movabs rax, {V + 8:#x}",)),
    Case("R_X86_64_64", b"\x48\xb8" + bytes(8), 2, U64, 2, decoded=("movabs rax, 1",)),  # C's wrap-around
    Case("R_X86_64_32", b"\xb8" + bytes(4), 1, 0xFFFF_FFF0, 0xF, decoded=("mov eax, 0xffffffff",)),
    Case("R_X86_64_32S", b"\x48\xc7\xc0" + bytes(4), 3, -5, decoded=("mov rax, 0xfffffffffffffffb",)),
    Case("R_X86_64_PC32", b"\x48\x8d\x05" + bytes(4), 3, BASE + 0x1000, -4, decoded=("lea rax, [rip + 0xff9]",)),
    Case("R_X86_64_PLT32", b"\xe8" + bytes(4), 1, BASE - 0x7000_0000, -4, decoded=(f"call {BASE - 0x70000000:#x}",)),
    Case(
        "R_X86_64_GOTPCREL",
        b"\x48\x8b\x05" + bytes(4),
        3,
        BASE + 8,
        -4,
        GOT,
        decoded=("mov rax, qword ptr [rip + 0x1ff9]",),
    ),  # never relaxed
    Case(
        "R_X86_64_GOTPCRELX", b"\xff\x15" + bytes(4), 2, BASE + 0x100, -4, GOT, decoded=(f"call {BASE + 0x100:#x}",)
    ),  # addr32 call: same length
    Case(
        "R_X86_64_GOTPCRELX",
        b"\xff\x25" + bytes(4),
        2,
        BASE + 0x100,
        -4,
        GOT,
        decoded=(f"jmp {BASE + 0x100:#x}", "nop"),
    ),
    Case(
        "R_X86_64_GOTPCRELX", b"\xff\x15" + bytes(4), 2, FAR, -4, GOT, decoded=("call qword ptr [rip + 0x1ffa]",)
    ),  # too far to call directly: through the slot
    Case(
        "R_X86_64_GOTPCRELX", b"\x8b\x05" + bytes(4), 2, FAR, -4, GOT, decoded=(f"mov eax, {FAR & 0xFFFFFFFF:#x}",)
    ),  # a 32-bit load takes the low half
    Case(
        "R_X86_64_REX_GOTPCRELX",
        b"\x48\x8b\x05" + bytes(4),
        3,
        BASE + 0x40,
        -4,
        GOT,
        decoded=("lea rax, [rip + 0x39]",),
    ),
    Case(
        "R_X86_64_REX_GOTPCRELX", b"\x4c\x8b\x05" + bytes(4), 3, 7, -4, GOT, decoded=("mov r8, 7",)
    ),  # small value: an immediate, REX.R moved to REX.B
    Case(
        "R_X86_64_REX_GOTPCRELX",
        b"\x48\x8b\x05" + bytes(4),
        3,
        FAR,
        -4,
        GOT,
        decoded=("mov rax, qword ptr [rip + 0x1ff9]",),
    ),  # far and large: the GOT slot
    Case(
        "R_X86_64_REX_GOTPCRELX",
        b"\x48\x03\x05" + bytes(4),
        3,
        7,
        -4,
        GOT,
        decoded=("add rax, qword ptr [rip + 0x1ff9]",),
    ),  # no relaxation for other instructions
    # AArch64
    Case("R_AARCH64_ABS64", bytes(8), 0, V, 8, raw=struct.pack("<Q", V + 8)),
    Case("R_AARCH64_MOVW_UABS_G0", word(MOVZ_X0), 0, 0xFFFF, decoded=("mov x0, #0xffff",)),
    Case("R_AARCH64_MOVW_UABS_G0_NC", word(MOVZ_X0), 0, V, decoded=("mov x0, #0x7788",)),
    Case("R_AARCH64_MOVW_UABS_G1", word(MOVK_X0[1]), 0, 0xFFFF_FFFF, decoded=("movk x0, #0xffff, lsl #16",)),
    Case("R_AARCH64_MOVW_UABS_G1_NC", word(MOVK_X0[1]), 0, V, decoded=("movk x0, #0x5566, lsl #16",)),
    Case("R_AARCH64_MOVW_UABS_G2", word(MOVK_X0[2]), 0, 0xFFFF_0000_0000, decoded=("movk x0, #0xffff, lsl #32",)),
    Case("R_AARCH64_MOVW_UABS_G2_NC", word(MOVK_X0[2]), 0, V, decoded=("movk x0, #0x3344, lsl #32",)),
    Case("R_AARCH64_MOVW_UABS_G3", word(MOVK_X0[3]), 0, V, decoded=("movk x0, #0x1122, lsl #48",)),
    Case("R_AARCH64_ADR_PREL_LO21", word(0x10000000), 0, BASE - 0x1234, decoded=(f"adr x0, #{BASE - 0x1234:#x}",)),
    Case(
        "R_AARCH64_ADR_PREL_PG_HI21",
        word(0x90000000),
        0,
        BASE + 0x1234_5678,
        0x10,
        decoded=(f"adrp x0, #{(BASE + 0x12345688) & ~0xFFF:#x}",),
    ),
    Case("R_AARCH64_ADD_ABS_LO12_NC", word(0x91000000), 0, 0x1234_5678, 1, decoded=("add x0, x0, #0x679",)),
    Case("R_AARCH64_LDST8_ABS_LO12_NC", word(0x39400000), 0, 0x1234_5677, decoded=("ldrb w0, [x0, #0x677]",)),
    Case("R_AARCH64_LDST16_ABS_LO12_NC", word(0x79400000), 0, 0x1234_5676, decoded=("ldrh w0, [x0, #0x676]",)),
    Case("R_AARCH64_LDST32_ABS_LO12_NC", word(0xB9400000), 0, 0x1234_5674, decoded=("ldr w0, [x0, #0x674]",)),
    Case("R_AARCH64_LDST64_ABS_LO12_NC", word(0xF9400000), 0, 0x1234_5678, decoded=("ldr x0, [x0, #0x678]",)),
    Case("R_AARCH64_LDST128_ABS_LO12_NC", word(0x3DC00000), 0, 0x1234_5670, decoded=("ldr q0, [x0, #0x670]",)),
    Case("R_AARCH64_TSTBR14", word(0x36000000), 0, BASE - 0x8000, decoded=(f"tbz w0, #0, #{BASE - 0x8000:#x}",)),
    Case("R_AARCH64_CONDBR19", word(0x54000000), 0, BASE + 0xFFFFC, decoded=(f"b.eq #{BASE + 0xFFFFC:#x}",)),
    Case("R_AARCH64_JUMP26", word(0x14000000), 0, BASE + 0x7FF_FFFC, decoded=(f"b #{BASE + 0x7FFFFFC:#x}",)),
    Case("R_AARCH64_CALL26", word(0x94000000), 0, BASE - 0x800_0000, decoded=(f"bl #{BASE - 0x8000000:#x}",)),
    Case(
        "R_AARCH64_ADR_GOT_PAGE", word(0x90000000), 0, FAR, 0, BASE + 0x5008, decoded=(f"adrp x0, #{BASE + 0x5000:#x}",)
    ),
    Case("R_AARCH64_LD64_GOT_LO12_NC", word(0xF9400001), 0, 0x1234, decoded=("mov x1, #0x1234",)),  # small: movz
    Case("R_AARCH64_LD64_GOT_LO12_NC", word(0xF9400001), 0, BASE + 0x8000, decoded=(f"adr x1, #{BASE + 0x8000:#x}",)),
    Case(
        "R_AARCH64_LD64_GOT_LO12_NC", word(0xF9400001), 0, FAR, 0, BASE + 0x5008, decoded=("ldr x1, [x0, #8]",)
    ),  # far and large: the GOT slot
]

OUT_OF_RANGE = [
    Case("R_X86_64_64", b"\x48\xb8" + bytes(8), 2, 1 << 64),
    Case("R_X86_64_64", b"\x48\xb8" + bytes(8), 2, -(1 << 63) - 1),
    Case("R_X86_64_32", b"\xb8" + bytes(4), 1, 1 << 32),
    Case("R_X86_64_32", b"\xb8" + bytes(4), 1, 0, -1),
    Case("R_X86_64_32S", b"\x48\xc7\xc0" + bytes(4), 3, 1 << 31),
    Case("R_X86_64_PC32", b"\x48\x8d\x05" + bytes(4), 3, FAR, -4),
    Case("R_X86_64_PLT32", b"\xe8" + bytes(4), 1, BASE - (1 << 31) - 8, -4),
    Case("R_X86_64_GOTPCREL", b"\x48\x8b\x05" + bytes(4), 3, BASE, -4, FAR),
    Case("R_X86_64_GOTPCRELX", b"\xff\x15" + bytes(4), 2, FAR, -4, FAR),
    Case("R_X86_64_REX_GOTPCRELX", b"\x48\x8b\x05" + bytes(4), 3, FAR, -4, FAR),
    Case("R_AARCH64_ABS64", bytes(8), 0, 1 << 64),
    Case("R_AARCH64_MOVW_UABS_G0", word(MOVZ_X0), 0, 0x10000),
    Case("R_AARCH64_MOVW_UABS_G0_NC", word(MOVZ_X0), 0, 1 << 64),
    Case("R_AARCH64_MOVW_UABS_G1", word(MOVK_X0[1]), 0, 1 << 32),
    Case("R_AARCH64_MOVW_UABS_G1_NC", word(MOVK_X0[1]), 0, -(1 << 63) - 1),
    Case("R_AARCH64_MOVW_UABS_G2", word(MOVK_X0[2]), 0, 1 << 48),
    Case("R_AARCH64_MOVW_UABS_G2_NC", word(MOVK_X0[2]), 0, 1 << 64),
    Case("R_AARCH64_MOVW_UABS_G3", word(MOVK_X0[3]), 0, 1 << 64),
    Case("R_AARCH64_ADR_PREL_LO21", word(0x10000000), 0, BASE + (1 << 20)),
    Case("R_AARCH64_ADR_PREL_PG_HI21", word(0x90000000), 0, BASE + (1 << 32)),
    Case("R_AARCH64_ADD_ABS_LO12_NC", word(0x91000000), 0, 1 << 64),
    Case("R_AARCH64_LDST8_ABS_LO12_NC", word(0x39400000), 0, -(1 << 63) - 1),
    Case("R_AARCH64_LDST16_ABS_LO12_NC", word(0x79400000), 0, 0x1001),
    Case("R_AARCH64_LDST32_ABS_LO12_NC", word(0xB9400000), 0, 0x1002),
    Case("R_AARCH64_LDST64_ABS_LO12_NC", word(0xF9400000), 0, 0x1004),
    Case("R_AARCH64_LDST128_ABS_LO12_NC", word(0x3DC00000), 0, 0x1008),
    Case("R_AARCH64_TSTBR14", word(0x36000000), 0, BASE + 0x8000),
    Case("R_AARCH64_CONDBR19", word(0x54000000), 0, BASE - 0x100004),
    Case("R_AARCH64_JUMP26", word(0x14000000), 0, BASE + 0x800_0000),
    Case("R_AARCH64_JUMP26", word(0x14000000), 0, BASE + 2),  # misaligned
    Case("R_AARCH64_CALL26", word(0x94000000), 0, FAR),
    Case("R_AARCH64_ADR_GOT_PAGE", word(0x90000000), 0, 0, 0, FAR),
    Case("R_AARCH64_LD64_GOT_LO12_NC", word(0xF9400001), 0, FAR, 0, BASE + 0x5004),  # slot misaligned
]


def _case_id(case: Case) -> str:
    return f"{case.kind}:{case.template.hex()[:6]}:{case.s:#x}"


@pytest.mark.parametrize("case", IN_RANGE, ids=_case_id)
def test_in_range_values_patch_to_the_right_instruction(case: Case) -> None:
    patched = bytes(case.patch())
    if case.raw is not None:
        assert patched == case.raw
    else:
        arch = X86 if case.kind.startswith("R_X86_64") else ARM64
        assert tuple(decode(arch, patched)) == case.decoded, patched.hex()


@pytest.mark.parametrize("case", OUT_OF_RANGE, ids=_case_id)
def test_out_of_range_values_raise_patch_error_naming_kind_offset_value(case: Case) -> None:
    buf = bytearray(case.template)
    with pytest.raises(PatchError) as caught:
        relocation(case.kind).patch(buf, case.offset, case.s, case.a, BASE + case.offset, case.g)
    error = caught.value
    assert error.kind == case.kind
    assert error.offset == case.offset
    assert isinstance(error.value, int)
    assert case.kind in str(error) and f"offset {case.offset:#x}" in str(error)


def test_every_kind_has_an_in_range_and_an_out_of_range_case() -> None:
    assert {c.kind for c in IN_RANGE} == set(RELOCATIONS)
    assert {c.kind for c in OUT_OF_RANGE} == set(RELOCATIONS)


def test_unknown_kind_is_a_patch_error() -> None:
    with pytest.raises(PatchError, match=r"no patch routine .*R_X86_64_GOT64"):
        relocation("R_X86_64_GOT64")


def test_branch_kinds_declare_their_reach() -> None:
    reach = {name: r.reach for name, r in RELOCATIONS.items() if r.reach}
    assert reach == {
        "R_X86_64_PLT32": 1 << 31,
        "R_AARCH64_TSTBR14": 1 << 15,
        "R_AARCH64_CONDBR19": 1 << 20,
        "R_AARCH64_JUMP26": 1 << 27,
        "R_AARCH64_CALL26": 1 << 27,
    }


def test_x86_relaxed_mov_keeps_the_high_register_bit() -> None:
    # mov r15, [rip + slot] (REX.W + REX.R) -> mov r15, imm32 (REX.W + REX.B)
    buf = bytearray(b"\x4c\x8b\x3d" + bytes(4))
    relocation("R_X86_64_REX_GOTPCRELX").patch(buf, 3, 0xFFFF_FFFF_FFFF_FFF0, -4, BASE + 3, GOT)
    assert decode(X86, bytes(buf)) == ["mov r15, 0xfffffffffffffff0"]


_INT_FIELD_KINDS = sorted(name for name, r in RELOCATIONS.items() if r.field is not None)


@pytest.mark.parametrize("kind", _INT_FIELD_KINDS)
@given(
    s=st.one_of(st.integers(0, U64), st.integers(BASE - (1 << 32), BASE + (1 << 32))),
    a=st.integers(-64, 64),
    offset=st.integers(0, 64),
)
def test_fast_path_expression_agrees_with_the_routine(kind: str, s: int, a: int, offset: int) -> None:
    """The emitter's inline form of a field (expression + struct code) matches the checked routine."""
    spec = RELOCATIONS[kind].field
    assert spec is not None
    here = BASE
    size = struct.calcsize("<" + spec.fmt)
    slow = bytearray(offset + size)
    try:
        RELOCATIONS[kind].patch(slow, offset, s, a, here + offset, 0)
        slow_result: bytes | None = bytes(slow)
    except PatchError:
        slow_result = None
    fast = bytearray(offset + size)
    value = eval(spec.expression("s", a, "here", offset), {"s": s, "here": here})
    try:
        struct.pack_into("<" + spec.fmt, fast, offset, value)
        fast_result: bytes | None = bytes(fast)
    except struct.error:
        fast_result = None
    assert fast_result == slow_result
