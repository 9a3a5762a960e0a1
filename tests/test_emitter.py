"""The emitter: layout, fall-through, data, GOT, veneers, errors, and native execution of real stencils."""

from __future__ import annotations

import ctypes
import gc
import random
import struct
import sys
from collections.abc import Callable, Iterator, Sequence

import capstone
import pytest

from jit.backend.arena import Arena
from jit.backend.emitter import (
    GENERATE_AFTER,
    CompiledCode,
    Emitter,
    Instruction,
    PreparedTarget,
    StitchedImage,
    prepared_target,
    resolve_capi,
    stitch,
)
from jit.backend.errors import PatchError, UnsupportedHostError
from jit.backend.memory import PosixMemory, host_memory
from jit.backend.schema import Hole, Stencil
from jit.backend.target import TARGETS, arch_of, detect_host, target_name

BASE = 0x7F00_0000_0000
NEAR_C = BASE + 0x10_0000  # a C function within every branch's reach
FAR_C = 0x5555_0000_0000  # a C function out of every branch's reach
DISASSEMBLERS = {
    "x86_64": capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64),
    "aarch64": capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM),
}
C = "_JIT_CONTINUE"


def H(offset: int, kind: str, symbol: str, addend: int = 0) -> Hole:
    return Hole(offset, f"R_X86_64_{kind}" if not kind.startswith("R_") else kind, symbol, addend)


def A(offset: int, kind: str, symbol: str, addend: int = 0) -> Hole:
    return Hole(offset, f"R_AARCH64_{kind}", symbol, addend)


def S(
    name: str,
    code: bytes,
    holes: Sequence[Hole],
    tail: int = 0,
    data: bytes = b"",
    data_holes: Sequence[Hole] = (),
    align: int = 1,
) -> Stencil:
    return Stencil(name, code, data, tuple(holes), tuple(data_holes), tail, align)


Z4, Z8 = bytes(4), bytes(8)
MOV_ECX = b"\xb9"  # mov ecx, imm32
STORE = b"\x48\x89\x04\xcf"  # mov [rdi + rcx*8], rax
X86_TABLES = {
    # frame[OPARG0] = OPERAND0
    "SET": S(
        "SET",
        b"\x48\xb8" + Z8 + MOV_ECX + Z4 + STORE + b"\xe9" + Z4,
        [H(2, "64", "_JIT_OPERAND0"), H(11, "32", "_JIT_OPARG0"), H(20, "PLT32", C, -4)],
        tail=5,
    ),
    # frame[OPARG0] = the constant 2 in hole-free data
    "CONST": S(
        "CONST",
        MOV_ECX + Z4 + b"\x48\x8b\x05" + Z4 + STORE + b"\xe9" + Z4,
        [H(1, "32", "_JIT_OPARG0"), H(8, "PC32", ".data", -4), H(17, "PLT32", C, -4)],
        tail=5,
        data=struct.pack("<q", 2),
        align=8,
    ),
    # frame[OPARG0] = OPERAND0, read from data that holds it (a data hole)
    "PTR": S(
        "PTR",
        MOV_ECX + Z4 + b"\x48\x8b\x05" + Z4 + STORE + b"\xe9" + Z4,
        [H(1, "32", "_JIT_OPARG0"), H(8, "PC32", ".data", -4), H(17, "PLT32", C, -4)],
        tail=5,
        data=Z8,
        data_holes=[H(0, "64", "_JIT_OPERAND0")],
        align=8,
    ),
    # return PyLong_FromLongLong(frame[OPARG0])
    "RET": S(
        "RET",
        MOV_ECX + Z4 + b"\x48\x8b\x3c\xcf\xe9" + Z4,
        [H(1, "32", "_JIT_OPARG0"), H(10, "PLT32", "PyLong_FromLongLong", -4)],
    ),
    "BR": S("BR", b"\xe9" + Z4, [H(1, "PLT32", "_JIT_JUMP_TARGET", -4)]),
    "NOP": S("NOP", b"\xe9" + Z4, [H(1, "PLT32", C, -4)], tail=5),
    # call OPERAND0 (a function address per instruction); then continue
    "CALLOP": S(
        "CALLOP", b"\xe8" + Z4 + b"\xe9" + Z4, [H(1, "PLT32", "_JIT_OPERAND0", -4), H(6, "PLT32", C, -4)], tail=5
    ),
    # on side exit / error paths
    "EXITS": S(
        "EXITS", b"\x0f\x84" + Z4 + b"\xe9" + Z4, [H(2, "PLT32", "_JIT_SIDE_EXIT", -4), H(7, "PLT32", "_JIT_ERROR", -4)]
    ),
    # mov rax, PyLong_Type@GOT; mov r8, OPARG0@GOT; call *PyErr_Occurred@GOT; jmp continue (Darwin-style)
    "GOTS": S(
        "GOTS",
        b"\x48\x8b\x05" + Z4 + b"\x4c\x8b\x05" + Z4 + b"\xff\x15" + Z4 + b"\xe9" + Z4,
        [
            H(3, "REX_GOTPCRELX", "PyLong_Type", -4),
            H(10, "REX_GOTPCRELX", "_JIT_OPARG0", -4),
            H(16, "GOTPCRELX", "PyErr_Occurred", -4),
            H(21, "PLT32", C, -4),
        ],
        tail=5,
    ),
}
A64_TABLES = {
    # bl PyLong_FromLongLong; bl OPERAND0; b continue
    "CALLS": S(
        "CALLS",
        bytes.fromhex("000000940000009400000014"),
        [A(0, "CALL26", "PyLong_FromLongLong"), A(4, "CALL26", "_JIT_OPERAND0"), A(8, "JUMP26", C)],
        tail=4,
    ),
    # adrp x0, OPARG0@GOT; ldr x0, [x0]; adrp x1, PyLong_Type@GOT; ldr x1, [x1]; b continue
    "GOTS": S(
        "GOTS",
        bytes.fromhex("00000090000040f901000090210040f900000014"),
        [
            A(0, "ADR_GOT_PAGE", "_JIT_OPARG0"),
            A(4, "LD64_GOT_LO12_NC", "_JIT_OPARG0"),
            A(8, "ADR_GOT_PAGE", "PyLong_Type"),
            A(12, "LD64_GOT_LO12_NC", "PyLong_Type"),
            A(16, "JUMP26", C),
        ],
        tail=4,
    ),
    "RET": S("RET", bytes.fromhex("c0035fd6"), []),
}


def resolver(**addresses: int) -> Callable[[str], int]:
    table = {"PyLong_FromLongLong": NEAR_C, "PyLong_Type": FAR_C + 0x100, "PyErr_Occurred": FAR_C + 0x200}
    table.update(addresses)
    return lambda name: table[name]


X86 = PreparedTarget("x86_64-unknown-linux", X86_TABLES)
A64 = PreparedTarget("aarch64-apple-darwin", A64_TABLES)
NEVER = sys.maxsize  # generate_after: the generic routine only


@pytest.fixture(autouse=True, params=["generic", "generated"])
def routine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test of this module twice: stencils patched by the generic routine only, and by generated ones only."""
    targets = [X86, A64, *(prepared_target(t) for t in TARGETS)]
    saved = [t.generate_after for t in targets]
    for target in targets:
        target.generate_after = 0 if request.param == "generated" else NEVER
        target.variants.clear()
    yield request.param
    for target, generate_after in zip(targets, saved, strict=True):
        target.generate_after = generate_after


def decode(target: PreparedTarget, code: bytes, address: int) -> list[tuple[int, str]]:
    return [(i.address, f"{i.mnemonic} {i.op_str}".strip()) for i in DISASSEMBLERS[target.arch].disasm(code, address)]


def instance(image: StitchedImage, index: int, count: int) -> bytes:
    """The code of instruction ``index`` as stitched (it ends where the next begins)."""
    start = image.address_of(index) - image.base
    end = image.address_of(index + 1) - image.base if index + 1 < count else image.code_size
    return image.image[start:end]


# --- Layout -------------------------------------------------------------------------------


def test_tail_jumps_are_dropped_where_the_next_stencil_follows() -> None:
    program = [
        Instruction("SET", (0,), (7,)),
        Instruction("NOP"),
        Instruction("SET", (1,), (8,)),
        Instruction("RET", (1,)),
    ]
    image = X86.stitch(program, BASE, resolver())
    assert [image.address_of(i) - BASE for i in range(4)] == [0, 19, 19, 38]  # NOP vanishes entirely
    assert image.stencil_offsets() == [(0, "SET", 0), (1, "NOP", 19), (2, "SET", 19), (3, "RET", 38)]
    assert image.code_size == 38 + len(X86_TABLES["RET"].code)
    assert decode(X86, instance(image, 0, 4), BASE) == [
        (BASE, "movabs rax, 7"),
        (BASE + 10, "mov ecx, 0"),
        (BASE + 15, "mov qword ptr [rdi + rcx*8], rax"),
    ]


def test_the_last_instruction_keeps_its_tail_jump_and_needs_a_next_one() -> None:
    with pytest.raises(PatchError) as caught:
        X86.stitch([Instruction("SET", (0,), (7,)), Instruction("NOP")], BASE, resolver())
    error = caught.value
    assert (error.index, error.stencil, error.hole, error.kind) == (1, "NOP", C, "R_X86_64_PLT32")
    assert "no next instruction" in str(error)


def test_branches_land_on_instruction_addresses() -> None:
    program = [
        Instruction("NOP"),
        Instruction("BR", jump_target=3),
        Instruction("BR", jump_target=0),
        Instruction("EXITS", side_exit=2, error=1),
        Instruction("RET", (0,)),
    ]
    image = X86.stitch(program, BASE, resolver())
    assert decode(X86, instance(image, 1, 5), image.address_of(1)) == [(BASE, f"jmp {image.address_of(3):#x}")]
    assert decode(X86, instance(image, 2, 5), image.address_of(2)) == [(BASE + 5, f"jmp {BASE:#x}")]
    assert [text for _, text in decode(X86, instance(image, 3, 5), image.address_of(3))] == [
        f"je {image.address_of(2):#x}",
        f"jmp {image.address_of(1):#x}",
    ]


def test_hole_free_data_is_stored_once_and_data_with_holes_per_instruction() -> None:
    program = [
        Instruction("CONST", (0,)),
        Instruction("CONST", (1,)),
        Instruction("PTR", (2,), (-5,)),
        Instruction("PTR", (3,), (2**64 - 1,)),
        Instruction("RET", (0,)),
    ]
    image = X86.stitch(program, BASE, resolver())
    loads = []
    for index in range(4):
        text = decode(X86, instance(image, index, 5), image.address_of(index))[1][1]
        displacement = int(text.split("rip + ")[1].rstrip("]"), 16)
        loads.append(image.address_of(index) + 12 + displacement)  # the load ends 12 bytes into the stencil
    assert loads[0] == loads[1]  # one copy of the constant
    assert len(set(loads)) == 3
    assert all(address % 8 == 0 for address in loads)  # Stencil.data_align
    values = [struct.unpack_from("<q", image.image, address - BASE)[0] for address in loads]
    assert values == [2, 2, -5, -1]


def test_far_functions_are_called_through_one_veneer_each() -> None:
    program = [
        Instruction("CALLOP", (), (FAR_C + 8,)),
        Instruction("CALLOP", (), (FAR_C + 8,)),
        Instruction("CALLOP", (), (NEAR_C + 8,)),
        Instruction("RET", (0,)),
    ]
    image = X86.stitch(program, BASE, resolver(PyLong_FromLongLong=FAR_C))
    targets = [int(decode(X86, instance(image, i, 4), image.address_of(i))[-1][1].split()[1], 16) for i in range(4)]
    assert targets[0] == targets[1] != targets[3]  # one veneer per distinct far target
    assert targets[2] == NEAR_C + 8  # near: called directly
    for veneer, destination in ((targets[0], FAR_C + 8), (targets[3], FAR_C)):
        at = veneer - BASE
        assert at >= image.code_size
        assert decode(X86, image.image[at : at + 6], veneer) == [(veneer, "jmp qword ptr [rip]")]
        assert struct.unpack_from("<Q", image.image, at + 6)[0] == destination
    near = X86.stitch([Instruction("RET", (0,))], BASE, resolver())
    assert decode(X86, near.image, BASE)[-1][1] == f"jmp {NEAR_C:#x}"
    assert len(near.image) == near.code_size  # no veneer needed, none emitted


def test_aarch64_far_calls_use_ldr_br_veneers() -> None:
    program = [Instruction("CALLS", (), (NEAR_C,)), Instruction("RET")]
    image = A64.stitch(program, BASE, resolver(PyLong_FromLongLong=FAR_C))
    code = decode(A64, image.image[:12], BASE)
    veneer = int(code[0][1].split("#")[1], 16)
    assert code[1][1] == f"bl #{NEAR_C:#x}"
    assert decode(A64, image.image[veneer - BASE : veneer - BASE + 8], veneer) == [
        (veneer, f"ldr x16, #{veneer + 8:#x}"),
        (veneer + 4, "br x16"),
    ]  # x16: the intra-procedure-call scratch register
    assert struct.unpack_from("<Q", image.image, veneer - BASE + 8)[0] == FAR_C


def test_x86_got_loads_are_relaxed_or_use_one_slot_per_value() -> None:
    darwin = PreparedTarget("x86_64-apple-darwin", X86_TABLES)
    program = [Instruction("GOTS", (3,)), Instruction("GOTS", (4,)), Instruction("RET", (0,))]
    image = darwin.stitch(program, BASE, resolver())
    first = decode(darwin, instance(image, 0, 3), BASE)
    second = decode(darwin, instance(image, 1, 3), image.address_of(1))
    assert first[1][1] == "mov r8, 3" and second[1][1] == "mov r8, 4"  # small values: immediates
    slot_addresses = set()
    for ins in (first, second):
        for address, text in (ins[0], ins[2]):
            assert "qword ptr [rip + " in text  # far symbols: loaded from / called through their slot
            size = 7 if text.startswith("mov") else 6
            slot_addresses.add(address + size + int(text.split("rip + ")[1].rstrip("]"), 16))
    assert len(slot_addresses) == 2  # PyLong_Type and PyErr_Occurred, each once for both instructions
    slots = sorted(struct.unpack_from("<Q", image.image, a - BASE)[0] for a in slot_addresses)
    assert slots == [FAR_C + 0x100, FAR_C + 0x200]


def test_aarch64_got_loads_are_relaxed_or_use_one_slot_per_value() -> None:
    program = [Instruction("GOTS", (3,)), Instruction("GOTS", (70000,)), Instruction("RET")]
    image = A64.stitch(program, BASE, resolver())
    first = [text for _, text in decode(A64, instance(image, 0, 3), BASE)]
    second = [text for _, text in decode(A64, instance(image, 1, 3), image.address_of(1))]
    assert first[1] == "mov x0, #3"  # movz: no memory access for a small operand
    assert second[1].startswith("ldr x0, [x0")  # too big for movz: its slot
    assert first[3] == second[3]  # PyLong_Type: the same slot twice
    got = image.image[image.code_size :]
    assert struct.pack("<Q", FAR_C + 0x100) in got and struct.pack("<Q", 70000) in got


# --- Errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instruction", "hole", "message"),
    [
        (Instruction("SET", (0,), ()), "_JIT_OPERAND0", "operands has no item 0"),
        (Instruction("SET", (), (1,)), "_JIT_OPARG0", "opargs has no item 0"),
        (Instruction("SET", (-1,), (1,)), "_JIT_OPARG0", r"opargs\[0\] = -1 out of range"),
        (Instruction("SET", (2**32,), (1,)), "_JIT_OPARG0", r"opargs\[0\] = 4294967296 out of range"),
        (Instruction("SET", (0,), (2**64,)), "_JIT_OPERAND0", "operands.0. = 18446744073709551616 out of range"),
        (Instruction("SET", (0,), (-(2**63) - 1,)), "_JIT_OPERAND0", "out of range"),
        (Instruction("SET", (0,), (1.5,)), "_JIT_OPERAND0", "out of range"),  # type: ignore[arg-type]
        (Instruction("BR"), "_JIT_JUMP_TARGET", "Instruction.jump_target is None"),
        (Instruction("BR", jump_target=-1), "_JIT_JUMP_TARGET", r"jump_target -1 is not an instruction index"),
        (
            Instruction("BR", jump_target=9),
            "_JIT_JUMP_TARGET",
            r"jump_target 9 is not an instruction index in \[0, 3\)",
        ),
        (Instruction("EXITS", error=0), "_JIT_SIDE_EXIT", "side_exit is None"),
        (Instruction("EXITS", side_exit=0), "_JIT_ERROR", "error is None"),
        (Instruction("PTR", (0,), (2**64,)), "_JIT_OPERAND0", "out of range"),  # a data hole
    ],
)
def test_bad_hole_values_name_instruction_stencil_hole(instruction: Instruction, hole: str, message: str) -> None:
    program = [Instruction("NOP"), instruction, Instruction("RET", (0,))]
    with pytest.raises(PatchError, match=message) as caught:
        X86.stitch(program, BASE, resolver())
    error = caught.value
    assert (error.index, error.stencil, error.hole) == (1, instruction.stencil, hole)
    assert f"instruction 1, stencil {instruction.stencil}, hole {hole}" in str(error)


def test_unknown_symbols_stencils_and_sequences() -> None:
    def missing(name: str) -> int:
        raise LookupError(f"{name} is not exported")

    with pytest.raises(PatchError, match="cannot resolve symbol PyLong_FromLongLong: LookupError") as caught:
        X86.stitch([Instruction("RET", (0,))], BASE, missing)
    assert (caught.value.index, caught.value.kind) == (0, "R_X86_64_PLT32")
    with pytest.raises(PatchError, match="unknown stencil 'NOPE'") as caught:
        X86.stitch([Instruction("NOP"), Instruction("NOPE")], BASE, resolver())
    assert caught.value.index == 1
    with pytest.raises(PatchError, match="empty"):
        X86.stitch([], BASE, resolver())
    with pytest.raises(PatchError, match=r"no patch routine .*R_X86_64_GOT64"):
        PreparedTarget("x86_64-unknown-linux", {"X": S("X", Z8, [H(0, "GOT64", "PyLong_Type")])})


def test_overlapping_holes_are_refused() -> None:
    table = {"BAD": S("BAD", Z8, [H(0, "64", "_JIT_OPERAND0"), H(4, "32", "_JIT_OPARG0")])}
    with pytest.raises(PatchError, match="stencil BAD: holes overlap"):
        PreparedTarget("x86_64-unknown-linux", table).stitch([Instruction("BAD", (1,), (2,))], BASE, resolver())


def test_out_of_reach_values_name_kind_and_value() -> None:
    # A 32-bit PC-relative reference to data 8 GiB away cannot be patched.
    table = {"FAR": S("FAR", b"\x48\x8d\x05" + Z4 + b"\xc3", [H(3, "PC32", "PyLong_Type", -4)])}
    with pytest.raises(PatchError, match="value out of range") as caught:
        PreparedTarget("x86_64-unknown-linux", table).stitch([Instruction("FAR")], BASE, resolver())
    assert (caught.value.kind, caught.value.offset, caught.value.hole) == ("R_X86_64_PC32", 3, "PyLong_Type")
    assert caught.value.value == FAR_C + 0x100 - 4 - (BASE + 3)


# --- Real tables, every target -------------------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS)
def test_every_real_stencil_stitches_and_disassembles_on_every_target(target: str) -> None:
    prepared = prepared_target(target)
    names = sorted(prepared.stencils)
    program = [Instruction(name, (1, 2, 3, 4), (2**63 + 5, 7), jump_target=0, side_exit=1, error=2) for name in names]
    program.append(Instruction("RETURN_NULL"))
    image = stitch(target, program, BASE, lambda name: FAR_C + 16 * len(name))
    for index, name in enumerate(names):
        code = instance(image, index, len(program))
        decoded = list(DISASSEMBLERS[arch_of(target)].disasm(code, image.address_of(index)))
        assert sum(i.size for i in decoded) == len(code), f"{target} {name}: undecodable bytes"


def test_emit_writes_exactly_what_stitch_computes() -> None:
    emitter = Emitter()
    program = [Instruction("LOAD_CONST", (0,), (5,)), Instruction("RETURN_INT", (0,))]
    code = emitter.emit(program)
    image = stitch(emitter.target.name, program, code.entry, resolve_capi)
    assert code.code_bytes() == image.image[: image.code_size]
    assert code.stencil_offsets() == image.stencil_offsets()
    assert code.size >= len(image.image) and code.size % 4096 == 0


def test_emitter_refuses_a_foreign_target() -> None:
    foreign = next(t for t in TARGETS if t != target_name(detect_host()))
    with pytest.raises(UnsupportedHostError, match=f"cannot execute {foreign} code"):
        Emitter(foreign)


# --- Native execution of real stencils ------------------------------------------------------------


def run(code: CompiledCode, slots: int = 8) -> object:
    """Call a chain as the ENTRY stencil does: one argument, the frame; the GIL held; exceptions propagate.

    Taking the CompiledCode, not its entry address, keeps the code alive while it runs.
    """
    frame = (ctypes.c_int64 * slots)()
    return ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p)(code.entry)(ctypes.addressof(frame))


I = Instruction  # noqa: E741 - programs read better short


def test_native_int_arithmetic_with_64_bit_operands() -> None:
    emitter = Emitter()
    program = [
        I("LOAD_CONST", (0,), (2**40 + 3,)),
        I("LOAD_CONST", (1,), (2**64 - 7,)),  # -7, two's complement
        I("BINARY_OP_ADD_INT", (2, 0, 1), side_exit=4),
        I("RETURN_INT", (2,)),
        I("RETURN_NULL"),
    ]
    assert run(emitter.emit(program)) == 2**40 - 4


def test_native_loop_with_backward_jump_and_side_exit() -> None:
    emitter = Emitter()
    loop = [
        I("LOAD_CONST", (0,), (0,)),
        I("LOAD_CONST", (1,), (0,)),
        I("LOAD_CONST", (2,), (10,)),
        I("LOAD_CONST", (3,), (1,)),
        I("BINARY_OP_ADD_INT", (0, 0, 1), side_exit=8),  # 4: acc += i
        I("BINARY_OP_ADD_INT", (1, 1, 3), side_exit=8),  # i += 1
        I("JUMP_IF_INT_LT", (1, 2), jump_target=4),  # while i < 10
        I("RETURN_INT", (0,)),
        I("LOAD_CONST", (0,), (-1,)),
        I("RETURN_INT", (0,)),  # 8: the side exit
    ]
    assert run(emitter.emit(loop)) == 45
    overflow = [
        I("LOAD_CONST", (0,), (2**63 - 1,)),
        I("LOAD_CONST", (1,), (1,)),
        I("BINARY_OP_ADD_INT", (2, 0, 1), side_exit=4),
        I("RETURN_INT", (2,)),
        I("LOAD_CONST", (2,), (12345,)),
        I("RETURN_INT", (2,)),
    ]
    assert run(emitter.emit(overflow)) == 12345


def call_program(callback: object) -> list[Instruction]:
    return [
        I("LOAD_CONST", (2,), (20,)),
        I("BOX_INT", (1, 2), error=5),
        I("CALL_1", (0, 1), (id(callback),), error=5),  # the callable is borrowed: the test keeps it alive
        I("CLEAR", (1,)),
        I("RETURN_OBJECT", (0,)),
        I("RETURN_NULL"),  # 5: an exception is set
    ]


def test_native_call_into_a_python_callback_and_its_exception() -> None:
    emitter = Emitter()
    seen = []

    def callback(x: int) -> int:
        seen.append(x)
        return 2 * x + 1

    assert run(emitter.emit(call_program(callback))) == 41
    assert seen == [20]

    def failing(x: int) -> int:
        raise ValueError(f"boom {x}")

    with pytest.raises(ValueError, match="boom 20"):
        run(emitter.emit(call_program(failing)))


@pytest.mark.skipif(sys.platform == "win32", reason="address hints are the POSIX mmap's")
def test_native_far_call_into_c_goes_through_a_veneer() -> None:
    memory = host_memory()
    assert isinstance(memory, PosixMemory)
    memory.hint = 0x1000_0000_0000  # 16 TiB: far from the interpreter's code
    emitter = Emitter(memory=Arena(memory))
    function = resolve_capi("PyLong_FromLongLong")
    program = [I("LOAD_CONST", (0,), (2**62,)), I("RETURN_INT", (0,))]
    code = emitter.emit(program)
    assert abs(code.entry - function) > 2**32, "the kernel ignored the hint"
    arch = detect_host().arch
    instructions = list(DISASSEMBLERS[arch].disasm(code.code_bytes(), code.entry))
    branches = [i for i in instructions if i.mnemonic in ("jmp", "call", "b", "bl")]
    target = int(branches[-1].op_str.lstrip("#"), 16)
    assert code.entry <= target < code.entry + code.size  # into the blob's veneer, not straight to the function
    assert run(code) == 2**62


def rwx_mappings() -> set[str]:
    with open("/proc/self/maps") as maps:
        return {line.split()[0] for line in maps if line.split()[1].startswith("rwx")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/maps is Linux's")
def test_no_mapping_is_ever_writable_and_executable() -> None:
    # Test tools in the same process (unicorn's translation cache, LLVM) may keep rwx pages of
    # their own: what counts is that emitting adds none and that the code pages are r-x.
    before = rwx_mappings()
    emitter = Emitter(memory=Arena())
    codes = [emitter.emit([I("LOAD_CONST", (0,), (n,)), I("RETURN_INT", (0,))]) for n in range(20)]
    assert [run(c) for c in codes] == list(range(20))
    assert rwx_mappings() <= before
    with open("/proc/self/maps") as maps:
        for line in maps:
            bounds, perms = line.split()[:2]
            start, end = (int(x, 16) for x in bounds.split("-"))
            if any(start <= code.entry < end for code in codes):
                assert perms == "r-xp", line


UNPACKING = [I("UNPACK_TO_SLOTS", (0, 0, 0), (0,), jump_target=1), I("RETURN_NULL")]  # stitched, never run


def test_memory_returns_to_the_arena_when_code_is_collected_or_freed() -> None:
    arena = Arena(chunk_size=64 * 1024, spare_chunks=0)
    emitter = Emitter(memory=arena)
    emitter.emit(UNPACKING)  # (not run) its helper is emitted, and lives as long
    helpers = arena.bytes_in_use
    assert helpers == sum(helper.size for helper in emitter.helpers.values()) > 0
    program = [I("LOAD_CONST", (0,), (1,)), I("RETURN_INT", (0,))]
    code = emitter.emit(program)
    assert arena.bytes_in_use == helpers + code.size > helpers
    assert arena.bytes_mapped == 64 * 1024
    del code
    gc.collect()
    assert arena.bytes_in_use == helpers
    code = emitter.emit(program)
    code.free()
    assert not code.alive and arena.bytes_in_use == helpers
    with pytest.raises(ValueError, match="not live"):
        code.code_bytes()
    del emitter
    gc.collect()
    assert arena.bytes_in_use == 0 and arena.bytes_mapped == 0


def test_a_helper_is_emitted_once_and_called_by_its_stencils_copies() -> None:
    # UNPACK_TO_SLOTS calls UNPACK_TO_SLOTS_BODY (stencils/helpers.c): each copy of the stencil is a few
    # instructions, the body is the emitter's one copy, its address patched where the stencil calls it.
    emitter = Emitter(memory=Arena())
    emitter.emit([I("LOAD_CONST", (0,), (1,)), I("RETURN_INT", (0,))])
    assert emitter.helpers == {}  # none is emitted before a stencil calls it
    first = emitter.emit(UNPACKING)
    emitter.emit(UNPACKING)
    helper = emitter.helpers["UNPACK_TO_SLOTS_BODY"]
    assert list(emitter.helpers) == ["UNPACK_TO_SLOTS_BODY"] and first.alive  # once for both
    stencil = emitter.target.stencils["UNPACK_TO_SLOTS"]
    assert len(stencil.code) < len(emitter.target.stencils["UNPACK_TO_SLOTS_BODY"].code) // 2
    assert [h.symbol for h in stencil.code_holes].count("UNPACK_TO_SLOTS_BODY") == 1
    assert emitter._symbols[emitter.target.index["UNPACK_TO_SLOTS_BODY"]] == helper.entry
    assert "UNPACK_TO_SLOTS_BODY" not in emitter._failures


# --- The generic routine and the generated ones ------------------------------------------------------


def test_a_variant_is_patched_generically_then_by_its_generated_routine() -> None:
    target = PreparedTarget("x86_64-unknown-linux", X86_TABLES, generate_after=3)
    program = [Instruction("SET", (0,), (7,)), Instruction("RET", (0,))]
    images = [target.stitch(program, BASE, resolver()).image for _ in range(5)]
    whole, dropped = target.variants["SET"]
    assert dropped.uses == 4 and dropped.fn is not None  # generated at its 4th use, then used directly
    assert whole.uses == 0 and whole.fn is None  # never laid out last: never used, never generated
    assert len(set(images)) == 1
    assert PreparedTarget("x86_64-unknown-linux", X86_TABLES).generate_after == GENERATE_AFTER


def real_program(names: Sequence[str], rng: random.Random, count: int) -> list[Instruction]:
    """``count`` instructions over ``names`` with operands of every size and branch targets in range."""
    program = []
    for i in range(count):
        operands = (rng.choice([0, 1, 5, 2**15, 2**20 + 8, 2**40, 2**63 + 5, 2**64 - 1, FAR_C + 64, NEAR_C]),
                    rng.getrandbits(rng.choice([8, 16, 32, 48, 64])))
        opargs = tuple(rng.choice([0, 1, 3, 4095, 70000]) for _ in range(4))
        program.append(Instruction(names[i % len(names)], opargs, operands, jump_target=rng.randrange(count + 1),
                                   side_exit=rng.randrange(count + 1), error=rng.randrange(count + 1)))
    return [*program, Instruction("RETURN_NULL")]


@pytest.mark.parametrize("target", TARGETS)
def test_the_generic_routine_patches_the_bytes_of_the_generated_ones_for_every_stencil(target: str) -> None:
    tables = prepared_target(target).stencils
    rng = random.Random(target)
    names = sorted(tables)
    rng.shuffle(names)
    # C functions near the code and far from it: direct branches and veneers, relaxed GOT loads and GOT slots.
    addresses = {name: rng.choice([NEAR_C + 16 * k, FAR_C + 16 * k, 0x1000 + 16 * k]) for k, name in enumerate(names)}

    def resolve(name: str) -> int:
        return addresses.setdefault(name, rng.choice([NEAR_C, FAR_C]) + 16 * len(addresses))

    programs = [real_program(names, rng, len(names) * 2) for _ in range(3)]
    programs += [[Instruction(name, (1, 2, 3, 4), (2**63 + 5, 7), 0, 0, 0)] for name in names]  # whole, alone
    routines = [PreparedTarget(target, tables, generate_after=after) for after in (NEVER, 0, 3)]
    for program in programs:
        for base in (BASE, NEAR_C - 0x4000_0000):
            outcomes: list[tuple[bytes | str, list[tuple[int, str, int]]]] = []
            for prepared in routines:
                try:
                    image = prepared.stitch(program, base, resolve)
                    outcomes.append((image.image, image.stencil_offsets()))
                except PatchError as error:  # a lone non-terminal stencil has no next instruction
                    outcomes.append((str(error), []))
            assert outcomes[0] == outcomes[1] == outcomes[2], (target, program[0].stencil, hex(base))
    generated = routines[1].variants
    assert set(generated) == set(names) and all(v.fn is not None for pair in generated.values() for v in pair
                                                if v.uses)
