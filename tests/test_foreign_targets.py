"""Every target's stencils, stitched and executed under unicorn with that platform's calling convention.

The Windows and macOS tables cannot run on this machine, so each chain is
stitched for a fixed base address (jit.backend.emitter.stitch, the emitter's
own layout and patching) and run in an emulated CPU: the frame pointer in the
first argument register (rdi for System V x86-64, rcx for Windows x64, x0 on
AArch64), a sentinel return address (on the stack, or in x30), a 16-byte
aligned stack with the 32-byte shadow space that Windows x64 callers owe.
C-API functions resolve to stubs (a bare `ret` each) whose hook records the
call's first argument and sets the return register.

Besides the results, every run checks what the ABI asks of a callee: callee-
saved registers keep their values, and x18 (the platform register of Apple
and Windows ARM64) is never touched.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from chains import RAW, SIDE_EXIT_MARK, Chain, Step, arithmetic, const, op
from unicorn import UC_ARCH_ARM64, UC_ARCH_X86, UC_HOOK_CODE, UC_MODE_64, UC_MODE_ARM, Uc, UcError
from unicorn import arm64_const as a64
from unicorn import x86_const as x86

from jit.backend.emitter import Instruction, prepared_target, stitch
from jit.backend.target import TARGETS, arch_of
from jit.layouts import OBSERVED_BOOL, OBSERVED_FLOAT, OBSERVED_INT, OBSERVED_LOST, OBSERVED_OTHER

CODE = 0x1000_0000
STUBS = 0x1100_0000  # within branch reach of CODE: C calls are direct
FRAME = 0x2000_0000
FRAME_SLOTS = 32
STACK = 0x3000_0000
STACK_SIZE = 0x10000
SENTINEL = 0x4000_0000  # the return address: execution stops when it gets there
PAGE = 0x1000
STUB_SIZE = 16
MAX_INSTRUCTIONS = 5_000_000
CALLER_FRAME = 256
CANARY = bytes(range(CALLER_FRAME))
POISON = 0x5A5A_0000_0000_0000  # base of the values given to callee-saved registers


@dataclass(frozen=True)
class Abi:
    """What a caller of a chain does on one platform."""

    arch: str
    uc: tuple[int, int]
    stack_pointer: int
    program_counter: int
    first_argument: int  # the chain's frame pointer, and the first argument of the C calls it makes
    result_register: int
    callee_saved: tuple[int, ...]
    stub: bytes  # a function that returns at once
    shadow_space: int = 0  # bytes above the return address that the callee may use
    link_register: int | None = None  # where the return address goes when not on the stack
    platform_register: int | None = None  # reserved register no stencil may touch


SYSV_X64 = Abi(
    "x86_64",
    (UC_ARCH_X86, UC_MODE_64),
    x86.UC_X86_REG_RSP,
    x86.UC_X86_REG_RIP,
    x86.UC_X86_REG_RDI,
    x86.UC_X86_REG_RAX,
    (x86.UC_X86_REG_RBX, x86.UC_X86_REG_RBP, x86.UC_X86_REG_R12, x86.UC_X86_REG_R13, x86.UC_X86_REG_R14,
     x86.UC_X86_REG_R15),
    b"\xc3",
)
WINDOWS_X64 = Abi(
    "x86_64",
    (UC_ARCH_X86, UC_MODE_64),
    x86.UC_X86_REG_RSP,
    x86.UC_X86_REG_RIP,
    x86.UC_X86_REG_RCX,
    x86.UC_X86_REG_RAX,
    (*SYSV_X64.callee_saved, x86.UC_X86_REG_RDI, x86.UC_X86_REG_RSI),
    b"\xc3",
    shadow_space=32,
)
_AAPCS64_SAVED = tuple(getattr(a64, f"UC_ARM64_REG_X{n}") for n in range(19, 30))  # x19-x28 and x29 (fp)
AAPCS64 = Abi(
    "aarch64",
    (UC_ARCH_ARM64, UC_MODE_ARM),
    a64.UC_ARM64_REG_SP,
    a64.UC_ARM64_REG_PC,
    a64.UC_ARM64_REG_X0,
    a64.UC_ARM64_REG_X0,
    _AAPCS64_SAVED,
    struct.pack("<I", 0xD65F03C0),  # ret
    link_register=a64.UC_ARM64_REG_X30,
)
AAPCS64_X18_RESERVED = Abi(**{**AAPCS64.__dict__, "platform_register": a64.UC_ARM64_REG_X18})

ABIS: dict[str, Abi] = {
    "x86_64-unknown-linux": SYSV_X64,
    "x86_64-apple-darwin": SYSV_X64,
    "x86_64-pc-windows": WINDOWS_X64,
    "aarch64-unknown-linux": AAPCS64,
    "aarch64-apple-darwin": AAPCS64_X18_RESERVED,
    "aarch64-pc-windows": AAPCS64_X18_RESERVED,
}


@dataclass
class Run:
    """The outcome of one chain: what it returned, its frame afterwards, the C calls it made."""

    returned: int
    frame: list[int]
    calls: list[tuple[str, int]] = field(default_factory=list)

    def slot_as(self, index: int, like: object) -> int | float | bool:
        raw = self.frame[index]
        if isinstance(like, float):
            value: float = struct.unpack("<d", struct.pack("<q", raw))[0]
            return value
        return bool(raw) if isinstance(like, bool) else raw


def _align(size: int) -> int:
    return -(-size // PAGE) * PAGE


def execute(target: str, chain: Chain, c_results: Mapping[str, int] | None = None) -> Run:
    """Stitch ``chain`` for ``target`` at CODE and run it from a fresh emulated CPU."""
    abi = ABIS[target]
    c_results = c_results or {}
    externals = prepared_target(target).externals
    stubs = {name: STUBS + STUB_SIZE * k for k, name in enumerate(externals)}
    instructions = [Instruction(s, o, tuple(int(v) for v in d), j, x, e) for s, o, d, j, x, e in chain]
    image = stitch(target, instructions, CODE, stubs.__getitem__)

    uc = Uc(*abi.uc)
    uc.mem_map(CODE, _align(len(image.image)))
    uc.mem_write(CODE, image.image)
    uc.mem_map(STUBS, _align(STUB_SIZE * max(1, len(externals))))
    for address in stubs.values():
        uc.mem_write(address, abi.stub)
    uc.mem_map(FRAME, PAGE)
    uc.mem_map(STACK, STACK_SIZE)
    uc.mem_map(SENTINEL, PAGE)  # mapped so that a stray fetch there is not an error before the stop

    names = {address: name for name, address in stubs.items()}
    run = Run(0, [])
    unexpected: list[str] = []

    def on_stub(uc: Uc, address: int, size: int, user_data: object) -> None:
        name = names[address]
        if name not in c_results:
            unexpected.append(name)
            uc.emu_stop()
            return
        run.calls.append((name, uc.reg_read(abi.first_argument)))
        uc.reg_write(abi.result_register, c_results[name])

    for address in stubs.values():
        uc.hook_add(UC_HOOK_CODE, on_stub, begin=address, end=address)

    # The caller's own frame starts at `caller`: the callee may use the shadow space below it, never
    # the frame itself (checked through a canary).  A call leaves sp 16-byte aligned before it pushes
    # the return address (x86-64) or branches (AArch64).
    caller = STACK + STACK_SIZE - CALLER_FRAME
    uc.mem_write(caller, CANARY)
    sp = caller - abi.shadow_space
    if abi.link_register is None:
        sp -= 8
        uc.mem_write(sp, struct.pack("<Q", SENTINEL))
    else:
        uc.reg_write(abi.link_register, SENTINEL)
    uc.reg_write(abi.stack_pointer, sp)
    uc.reg_write(abi.first_argument, FRAME)
    saved = {reg: POISON + n for n, reg in enumerate(abi.callee_saved)}
    if abi.platform_register is not None:
        saved[abi.platform_register] = POISON - 1
    for reg, value in saved.items():
        uc.reg_write(reg, value)

    try:
        uc.emu_start(CODE, SENTINEL, count=MAX_INSTRUCTIONS)
    except UcError as error:
        raise AssertionError(f"{target}: {error} at {uc.reg_read(abi.program_counter):#x}") from error
    pc = uc.reg_read(abi.program_counter)
    assert not unexpected, f"{target}: unexpected call of {unexpected[0]}"
    assert pc == SENTINEL, f"{target}: stopped at {pc:#x}, not at the return address (instruction limit?)"
    assert uc.reg_read(abi.stack_pointer) == sp + (8 if abi.link_register is None else 0), "unbalanced stack"
    assert uc.mem_read(caller, CALLER_FRAME) == CANARY, f"{target}: the caller's frame was written"
    for reg, value in saved.items():
        assert uc.reg_read(reg) == value, f"{target}: callee-saved or reserved register {reg} was clobbered"
    run.returned = uc.reg_read(abi.result_register)
    run.frame = list(struct.unpack(f"<{FRAME_SLOTS}q", uc.mem_read(FRAME, 8 * FRAME_SLOTS)))
    return run


CHAINS = arithmetic(RAW)


def test_every_target_has_an_abi() -> None:
    assert set(ABIS) == set(TARGETS)
    assert all(ABIS[t].arch == arch_of(t) for t in TARGETS)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", list(CHAINS))
def test_chain(target: str, name: str) -> None:
    chain, expected = CHAINS[name]
    run = execute(target, chain)
    assert run.returned == FRAME, "RETURN_RAW returns the frame"
    assert run.slot_as(0, expected) == expected
    assert run.calls == []


@pytest.mark.parametrize("target", TARGETS)
def test_side_exit_leaves_the_destination_untouched(target: str) -> None:
    # The generic tier re-executes the operation that exited: its destination must still hold the old value.
    chain = [const(3, 77), const(1, 2**62), const(2, 2**62), op("BINARY_OP_ADD_INT", 3, 1, 2, exit_to=5),
             op("RETURN_RAW", 3), op("RETURN_NULL")]
    run = execute(target, chain)
    assert run.returned == 0
    assert run.frame[3] == 77


# A stand-in object address for what the C stub "returns".
FAKE_OBJECT = 0x6000_1230


@pytest.mark.parametrize("target", TARGETS)
def test_c_call_gets_its_argument_by_the_platform_convention(target: str) -> None:
    chain = [const(1, -(2**40) - 5), op("BOX_INT", 0, 1, error=3), op("RETURN_OBJECT", 0), op("RETURN_NULL")]
    run = execute(target, chain, {"PyLong_FromLongLong": FAKE_OBJECT})
    assert run.calls == [("PyLong_FromLongLong", (-(2**40) - 5) & (2**64 - 1))]
    assert run.returned == FAKE_OBJECT
    assert run.frame[0] == 0  # RETURN_OBJECT moves the reference out of the slot


@pytest.mark.parametrize("target", TARGETS)
def test_c_call_failure_takes_the_error_path(target: str) -> None:
    chain = [const(1, 7), op("BOX_INT", 0, 1, error=4), const(0, SIDE_EXIT_MARK), op("RETURN_RAW", 0),
             op("RETURN_NULL")]
    run = execute(target, chain, {"PyLong_FromLongLong": 0})
    assert run.calls == [("PyLong_FromLongLong", 7)]
    assert run.returned == 0


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("type_name", "observed"), [("PyFloat_Type", OBSERVED_FLOAT), ("PyLong_Type", OBSERVED_INT),
                                                     ("PyBool_Type", OBSERVED_BOOL), (None, OBSERVED_OTHER)])
@pytest.mark.parametrize("bet", [0, OBSERVED_FLOAT])  # a loss in the specialized tier; the generic tier's note
def test_a_bet_notes_the_type_it_saw(target: str, type_name: str | None, observed: int, bet: int) -> None:
    # An object in slots 10-11 (refcount, type); NOTE_TYPE or-s what it is into slot 12, and sets slot 13 where it
    # is not what was bet on (always, for the specialized tier's loss, which slot 12 then says too).
    externals = prepared_target(target).externals
    type_address = STUBS + STUB_SIZE * externals.index(type_name) if type_name else FAKE_OBJECT
    chain = [const(0, FRAME + 80), const(11, type_address), const(12, 32), const(13, 0),
             op("NOTE_TYPE", 0, bet, operands=(FRAME + 96, FRAME + 104)), RAW(0)]
    run = execute(target, chain)
    assert run.frame[12:14] == [32 | observed | (OBSERVED_LOST if bet == 0 else 0), int(observed != bet)]
    assert run.calls == []


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("count", "limit"), [(5, 6), (6, 6), (-1, 0), (2**40, 3)])
def test_guard_below_leaves_once_a_count_reaches_its_limit(target: str, count: int, limit: int) -> None:
    chain = [const(10, count), const(0, 0), op("GUARD_BELOW", operands=(FRAME + 80, limit), exit_to=5),
             const(0, 1), RAW(0), const(0, 2), RAW(0)]
    run = execute(target, chain)
    assert run.frame[0] == (1 if count < limit else 2)


# A list at slots 8-11 (refcount, type, size 2, its items' array at slot 12), a tuple at 24-28 (its items inline,
# 24 bytes in), both holding the objects at slots 16 and 18 (refcount, type); the object at slot 20 is stored.
LIST, TUPLE, ITEMS, STORED = FRAME + 8 * 8, FRAME + 24 * 8, (FRAME + 16 * 8, FRAME + 18 * 8), FRAME + 20 * 8


def sequences(target: str) -> list[Step]:
    externals = prepared_target(target).externals
    type_of = {name: STUBS + STUB_SIZE * externals.index(name) for name in ("PyList_Type", "PyTuple_Type")}
    words = {8: 1, 9: type_of["PyList_Type"], 10: 2, 11: FRAME + 12 * 8, 12: ITEMS[0], 13: ITEMS[1],
             16: 1, 17: FAKE_OBJECT, 18: 1, 19: FAKE_OBJECT, 20: 1, 21: FAKE_OBJECT,
             24: 1, 25: type_of["PyTuple_Type"], 26: 2, 27: ITEMS[0], 28: ITEMS[1]}
    return [const(slot, value) for slot, value in words.items()]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("container", [LIST, TUPLE, FRAME + 16 * 8])  # the last of no type it takes inline
@pytest.mark.parametrize("index", [0, 1, -1, -2, 2, -3, 2**40])
def test_item_of_an_unboxed_index(target: str, container: int, index: int) -> None:
    chain = [*sequences(target), const(0, 0), const(1, container), const(2, index),
             op("BINARY_SUBSCR_INT", 0, 1, 2, operands=(24,), jump=0), RAW(0)]
    general = len(chain)
    chain[-2] = op("BINARY_SUBSCR_INT", 0, 1, 2, operands=(24,), jump=general)
    chain += [const(0, SIDE_EXIT_MARK), RAW(0)]
    run = execute(target, chain)
    inline = container != FRAME + 16 * 8 and -2 <= index < 2
    item = ITEMS[index % 2]
    assert run.frame[0] == (item if inline else SIDE_EXIT_MARK)
    assert [run.frame[16], run.frame[18]] == [1 + (inline and item == ITEMS[0]), 1 + (inline and item == ITEMS[1])]
    assert run.calls == []


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("container", [LIST, TUPLE])  # a tuple's items are not assigned: the general path
@pytest.mark.parametrize("index", [0, -1, 2, -3])
def test_store_at_an_unboxed_index(target: str, container: int, index: int) -> None:
    chain = [*sequences(target), const(16, 2), const(18, 2), const(1, container), const(2, index), const(3, STORED),
             op("STORE_SUBSCR_INT", 1, 2, 3, jump=0), const(0, 1), RAW(0)]
    general = len(chain)
    chain[-3] = op("STORE_SUBSCR_INT", 1, 2, 3, jump=general)
    chain += [const(0, SIDE_EXIT_MARK), RAW(0)]
    run = execute(target, chain)
    inline = container == LIST and -2 <= index < 2
    assert run.frame[0] == (1 if inline else SIDE_EXIT_MARK)
    if inline:  # the old item released (2 -> 1, not freed), the stored one counted
        assert run.frame[12 + index % 2] == STORED and run.frame[16 + 2 * (index % 2)] == 1 and run.frame[20] == 2
    else:
        assert run.frame[12:14] == list(ITEMS) and run.frame[20] == 1
    assert run.calls == []


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("held", [0, ITEMS[1]])  # the destination empty, or holding an object it releases
def test_a_move_takes_over_the_reference(target: str, held: int) -> None:
    chain = [*sequences(target), const(18, 2), const(1, ITEMS[0]), const(0, held), op("MOVE_OBJECT", 0, 1),
             RAW(0)]
    run = execute(target, chain)
    assert run.frame[0:2] == [ITEMS[0], 0]
    assert [run.frame[16], run.frame[18]] == [1, 1 if held else 2]  # nothing counted but the release
    assert run.calls == []
