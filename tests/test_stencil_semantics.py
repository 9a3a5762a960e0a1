"""Python semantics of the pure-arithmetic stencils, checked without the runtime.

The stencil C files are compiled for x86-64 Linux into ELF objects, linked by a
tiny loader below (every hole gets a fixed value: slot indices for the
operands, distinct sentinel addresses for the control holes), and each stencil
is run on its own under unicorn with a frame of slots.  Hypothesis then checks
the result against Python itself: the value written, and which way control
left (continue, branch, side exit).  A side exit must leave the frame
untouched, since the generic tier re-executes the micro-op.

Stencils that call the C API (boxing, the generic tier, entry) are exercised by
the compiler's tests with a real interpreter; here they only have to link,
except the generic tier's bitwise operators and identity tests, which are run
natively (last section) on real objects against Python's own operators.
"""

from __future__ import annotations

import ctypes
import io
import math
import operator
import struct
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from elftools.elf.elffile import ELFFile  # type: ignore[import-untyped]
from elftools.elf.relocation import RelocationSection  # type: ignore[import-untyped]
from elftools.elf.sections import SymbolTableSection  # type: ignore[import-untyped]
from hypothesis import example, given, settings
from hypothesis import strategies as st
from unicorn import UC_ARCH_X86, UC_HOOK_CODE, UC_MODE_64, Uc
from unicorn.x86_const import UC_X86_REG_RAX, UC_X86_REG_RDI, UC_X86_REG_RSP

import build_stencils as bs
from jit import ops
from jit.backend import layout
from jit.backend.emitter import CompiledCode, Emitter, Instruction

# The families written by the stencil helper; the first five hold the
# pure-arithmetic stencils this file runs, the others only have to link.
FAMILIES = ("frame", "int", "float", "compare", "control", "box", "generic", "entry")
TARGET = "x86_64-unknown-linux"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
FRAME_SLOTS = 8
# Slot indices the operand holes are patched with: distinct and not in order,
# so that a stencil reading or writing the wrong slot is caught.
OPARGS = {"_JIT_OPARG0": 4, "_JIT_OPARG1": 1, "_JIT_OPARG2": 6, "_JIT_OPARG3": 3}
OPERANDS = {"_JIT_OPERAND0": 0x0123456789ABCDEF, "_JIT_OPERAND1": 0xFEDCBA9876543210}
# A recognizable filler for slots a stencil must not touch.
FILLER = 0x5A5A5A5A5A5A5A5A

IMAGE_BASE = 0x100000
SENTINEL_BASE = 0x800000
FRAME_BASE = 0x900000
STACK_BASE = 0xA00000
STACK_SIZE = 0x10000
PAGE = 0x1000
CONTROL_HOLES = ("_JIT_CONTINUE", "_JIT_JUMP_TARGET", "_JIT_SIDE_EXIT", "_JIT_ERROR")
# Where a plain `ret` of a terminal stencil (or of the entry's caller) lands.
RETURNED = "return"

R_X86_64_64 = 1
R_X86_64_PC32 = 2
R_X86_64_PLT32 = 4
R_X86_64_32 = 10
R_X86_64_32S = 11


def _compile() -> list[bytes]:
    """The families' ELF objects for TARGET, made exactly as the build makes them."""
    target = bs.TARGETS[TARGET]
    sources = [bs.STENCILS_DIR / f"{name}.c" for name in FAMILIES]
    irs = bs.compile_to_ir(target, sources, bs.find_toolchain())
    return [bs.emit(target, ir)[0] for _, ir in sorted(irs.items())]


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


@dataclass
class Image:
    """Every allocated section of the objects, laid out and relocated."""

    code: bytes
    functions: dict[str, int]  # stencil name -> address
    externals: dict[str, int]  # undefined non-hole symbol (C API) -> stub address


def _patch(image: bytearray, offset: int, kind: int, value: int, place: int) -> None:
    if kind == R_X86_64_64:
        image[offset : offset + 8] = struct.pack("<Q", value % 2**64)
    elif kind in (R_X86_64_PC32, R_X86_64_PLT32):
        image[offset : offset + 4] = struct.pack("<i", value - place)
    elif kind == R_X86_64_32:
        image[offset : offset + 4] = struct.pack("<I", value)
    elif kind == R_X86_64_32S:
        image[offset : offset + 4] = struct.pack("<i", value)
    else:
        raise AssertionError(f"relocation type {kind} outside the x86-64 Linux conventions")


def _link(objects: list[bytes]) -> Image:
    """Lay out every SHF_ALLOC section at IMAGE_BASE and apply the relocations.

    Undefined symbols are holes: operand holes get OPARGS/OPERANDS, control
    holes their sentinels, and C-API names stub addresses (one `ret` each)."""
    image = bytearray()
    functions: dict[str, int] = {}
    externals: dict[str, int] = {}
    holes = dict(OPARGS)
    # A slot hole is the byte offset of the slot its operand names (the emitter's convention).
    holes.update({f"_JIT_SLOT{n}": 8 * OPARGS[f"_JIT_OPARG{n}"] for n in range(4)})
    holes.update(OPERANDS)
    holes.update({name: SENTINEL_BASE + 16 * i for i, name in enumerate(CONTROL_HOLES)})
    pending = []
    for obj in objects:
        elf = ELFFile(io.BytesIO(obj))
        bases: dict[int, int] = {}
        for index, section in enumerate(elf.iter_sections()):
            if section["sh_flags"] & 2 and section.data_size:  # SHF_ALLOC
                start = _align(len(image), max(16, section["sh_addralign"]))
                image.extend(bytes(start - len(image)))
                bases[index] = IMAGE_BASE + start
                image.extend(section.data())
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        for symbol in symtab.iter_symbols():
            if symbol["st_info"]["type"] == "STT_FUNC":
                functions[symbol.name] = bases[symbol["st_shndx"]] + symbol["st_value"]
        for section in elf.iter_sections():
            if not isinstance(section, RelocationSection) or section["sh_info"] not in bases:
                continue
            target = bases[section["sh_info"]]
            for reloc in section.iter_relocations():
                symbol = symtab.get_symbol(reloc["r_info_sym"])
                if symbol["st_shndx"] != "SHN_UNDEF":
                    value = bases[symbol["st_shndx"]] + symbol["st_value"]
                elif symbol.name in holes:
                    value = holes[symbol.name]
                else:
                    assert symbol.name.startswith(("Py", "_Py")) or symbol.name in ops.HELPER_STENCILS, symbol.name
                    value = externals.setdefault(symbol.name, SENTINEL_BASE + PAGE + 16 * len(externals))
                place = target + reloc["r_offset"]
                pending.append((place, reloc["r_info_type"], value + reloc["r_addend"]))
    for place, kind, value in pending:
        _patch(image, place - IMAGE_BASE, kind, value, place)
    return Image(bytes(image), functions, externals)


@dataclass
class Outcome:
    exit: str  # a control hole's name, or RETURNED
    frame: list[int]  # the slots' raw bits afterwards
    calls: list[str]  # C-API functions called, in order


class Machine:
    """Runs one stencil at a time on a frame, under unicorn."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self.uc = Uc(UC_ARCH_X86, UC_MODE_64)
        self.uc.mem_map(IMAGE_BASE, _align(len(image.code), PAGE))
        self.uc.mem_write(IMAGE_BASE, image.code)
        # A `ret` at every sentinel and stub: stubs return to their caller,
        # and the hooks below stop the run at the sentinels.
        self.uc.mem_map(SENTINEL_BASE, 2 * PAGE)
        self.uc.mem_write(SENTINEL_BASE, b"\xc3" * (2 * PAGE))
        self.uc.mem_map(FRAME_BASE, PAGE)
        self.uc.mem_map(STACK_BASE, STACK_SIZE)
        self.exits = {SENTINEL_BASE + 16 * i: name for i, name in enumerate(CONTROL_HOLES)}
        self.exits[SENTINEL_BASE + 16 * len(CONTROL_HOLES)] = RETURNED
        self.stubs = {address: name for name, address in image.externals.items()}
        self.stub_results: dict[str, int] = {}
        self.exit = ""
        self.calls: list[str] = []
        self.uc.hook_add(UC_HOOK_CODE, self._at_sentinel, begin=SENTINEL_BASE,
                         end=SENTINEL_BASE + PAGE - 1)  # fmt: skip
        self.uc.hook_add(UC_HOOK_CODE, self._at_stub, begin=SENTINEL_BASE + PAGE,
                         end=SENTINEL_BASE + 2 * PAGE - 1)  # fmt: skip

    def _at_sentinel(self, uc: Uc, address: int, size: int, data: object) -> None:
        self.exit = self.exits[address]
        uc.emu_stop()

    def _at_stub(self, uc: Uc, address: int, size: int, data: object) -> None:
        name = self.stubs[address]
        self.calls.append(name)
        if name not in self.stub_results:  # a pure stencil calling out: stop, and fail on the exit
            self.exit = f"unexpected call of {name}"
            uc.emu_stop()
            return
        uc.reg_write(UC_X86_REG_RAX, self.stub_results[name] % 2**64)

    def run(self, stencil: str, slots: dict[int, int]) -> Outcome:
        """Run `stencil` with the given raw slot bits (others hold FILLER)."""
        frame = [slots.get(i, FILLER) for i in range(FRAME_SLOTS)]
        self.uc.mem_write(FRAME_BASE, struct.pack(f"<{FRAME_SLOTS}Q", *frame))
        # As after a call: the return address on a 16-byte aligned stack.
        rsp = STACK_BASE + STACK_SIZE - 8
        self.uc.mem_write(rsp, struct.pack("<Q", SENTINEL_BASE + 16 * len(CONTROL_HOLES)))
        self.uc.reg_write(UC_X86_REG_RSP, rsp)
        self.uc.reg_write(UC_X86_REG_RDI, FRAME_BASE)
        self.exit = ""
        self.calls = []
        self.uc.emu_start(self.image.functions[stencil], 0, count=10_000)
        assert self.exit, f"{stencil} never reached a sentinel"
        raw = self.uc.mem_read(FRAME_BASE, 8 * FRAME_SLOTS)
        return Outcome(self.exit, list(struct.unpack(f"<{FRAME_SLOTS}Q", raw)), self.calls)


@pytest.fixture(scope="session")
def machine() -> Machine:
    return Machine(_link(_compile()))


# --- values as slot bits ----------------------------------------------------


def ibits(value: int) -> int:
    return value % 2**64


def fbits(value: float) -> int:
    return int.from_bytes(struct.pack("<d", value), "little")


def as_int(bits: int) -> int:
    return bits - 2**64 if bits >= 2**63 else bits


def as_float(bits: int) -> float:
    return float(struct.unpack("<d", bits.to_bytes(8, "little"))[0])


def fits_int64(value: int) -> bool:
    return INT64_MIN <= value <= INT64_MAX


def same_float(bits: int, expected: float) -> bool:
    """Bit-identical, except that any NaN matches any NaN (payloads are not
    Python-visible)."""
    if math.isnan(expected):
        return math.isnan(as_float(bits))
    return bits == fbits(expected)


# Slot indices as the stencils see them: SLOT(n) is frame[OPARGS[n]] (its hole, the byte offset).
S0, S1, S2, S3 = (OPARGS[f"_JIT_OPARG{n}"] for n in range(4))

# The edges where int64 arithmetic goes wrong, mixed with uniform draws.
INT_EDGES = [0, 1, -1, 2, -2, 3, -3, 7, -7, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1,
             2**31, -(2**31), 2**32, 2**53, 2**53 + 1, -(2**53), -(2**53) - 1, 2**62, -(2**62),
             3037000499, 3037000500, -3037000500]  # fmt: skip
int64s = st.one_of(
    st.sampled_from(INT_EDGES),
    st.integers(INT64_MIN, INT64_MAX),
    st.integers(-1000, 1000),
    st.integers(-(2**54), 2**54),
)
TWO_63 = 2.0**63
FLOAT_EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, math.inf, -math.inf, math.nan,
               -math.nan, 5e-324, -5e-324, TWO_63, -TWO_63, math.nextafter(TWO_63, 0.0),
               math.nextafter(-TWO_63, -math.inf), math.nextafter(-TWO_63, 0.0),
               2.0**53, 2.0**53 + 2.0, 1e308, -1e308, 3.0, -7.0]  # fmt: skip
floats = st.one_of(st.sampled_from(FLOAT_EDGES), st.floats(), st.floats(-1e6, 1e6))

SETTINGS = settings(max_examples=150, deadline=None)


def assert_continue(out: Outcome, before: dict[int, int], writes: dict[int, int]) -> None:
    """Control went on to the next stencil and only `writes` changed."""
    assert out.exit == "_JIT_CONTINUE"
    expected = [writes.get(i, before.get(i, FILLER)) for i in range(FRAME_SLOTS)]
    assert out.frame == expected


def assert_untouched(out: Outcome, where: str, before: dict[int, int]) -> None:
    """Control went to `where` and no slot changed."""
    assert out.exit == where
    assert out.frame == [before.get(i, FILLER) for i in range(FRAME_SLOTS)]


def run_and_check_int_result(machine: Machine, stencil: str, operands: dict[int, int], expected: int | None) -> None:
    """dst (slot 0) gets `expected`, or None means the stencil must side-exit."""
    before = {slot: ibits(value) for slot, value in operands.items()}
    out = machine.run(stencil, before)
    if expected is None:
        assert_untouched(out, "_JIT_SIDE_EXIT", before)
    else:
        assert_continue(out, before, {S0: ibits(expected)})


# --- int.c --------------------------------------------------------------------


def _checked(value: int) -> int | None:
    return value if fits_int64(value) else None


def _left_shift(a: int, b: int) -> int | None:
    """a << b where it is an int64; None where Python raises (negative count) or the result is larger.
    (Python's own a << 2**62 would need 2**59 bytes: any count past 64 is answered without it.)"""
    if b < 0 or (b >= 64 and a != 0):
        return None
    return 0 if a == 0 else _checked(a << b)


INT_BINARY: dict[str, Callable[[int, int], int | None]] = {
    "BINARY_OP_ADD_INT": lambda a, b: _checked(a + b),
    "BINARY_OP_SUBTRACT_INT": lambda a, b: _checked(a - b),
    "BINARY_OP_MULTIPLY_INT": lambda a, b: _checked(a * b),
    # The catalog's contract: b == 0 and INT64_MIN / -1 leave (C would trap),
    # everything else is Python's floor semantics.
    "BINARY_OP_FLOOR_DIVIDE_INT": lambda a, b: None if b == 0 or (a, b) == (INT64_MIN, -1) else a // b,
    "BINARY_OP_REMAINDER_INT": lambda a, b: None if b == 0 or (a, b) == (INT64_MIN, -1) else a % b,
    "BINARY_OP_AND_INT": operator.and_,
    "BINARY_OP_OR_INT": operator.or_,
    "BINARY_OP_XOR_INT": operator.xor,
    "BINARY_OP_LSHIFT_INT": _left_shift,
    "BINARY_OP_RSHIFT_INT": lambda a, b: None if b < 0 else a >> b,
    "MIN_INT": min,
    "MAX_INT": max,
}


@pytest.mark.parametrize("stencil", sorted(INT_BINARY))
@SETTINGS
@given(a=int64s, b=int64s)
@example(a=INT64_MIN, b=-1)
@example(a=INT64_MAX, b=1)
@example(a=-7, b=2)
@example(a=7, b=-2)
@example(a=-7, b=-2)
@example(a=5, b=0)
@example(a=INT64_MIN, b=INT64_MIN)
@example(a=-3, b=-3)
def test_int_binary(machine: Machine, stencil: str, a: int, b: int) -> None:
    run_and_check_int_result(machine, stencil, {S1: a, S2: b}, INT_BINARY[stencil](a, b))


SHIFTS = ("BINARY_OP_LSHIFT_INT", "BINARY_OP_RSHIFT_INT")
SHIFTED = [0, 1, -1, 3, -3, 2**62 - 1, 2**62, -(2**62), -(2**62) - 1, INT64_MAX, INT64_MIN, INT64_MIN + 1]
COUNTS = [0, 1, 2, 31, 32, 61, 62, 63, 64, 65, 127, 128, 2**31, 2**32, INT64_MAX, -1, -2, -64, INT64_MIN]


@pytest.mark.parametrize("stencil", SHIFTS)
def test_shift_edges(machine: Machine, stencil: str) -> None:
    """Every count where C's shifts are undefined or Python's answer changes shape, on the values whose bits
    reach the sign."""
    for a in SHIFTED:
        for b in COUNTS:
            run_and_check_int_result(machine, stencil, {S1: a, S2: b}, INT_BINARY[stencil](a, b))


@pytest.mark.parametrize("stencil", SHIFTS)
@SETTINGS
@given(a=int64s, b=st.integers(-3, 70))
def test_shift_counts_near_the_width(machine: Machine, stencil: str, a: int, b: int) -> None:
    run_and_check_int_result(machine, stencil, {S1: a, S2: b}, INT_BINARY[stencil](a, b))


EXACT = 2**53


@SETTINGS
@given(a=int64s, b=int64s)
@example(a=EXACT, b=3)
@example(a=EXACT + 1, b=3)
@example(a=1, b=-EXACT - 1)
@example(a=0, b=-5)
@example(a=1, b=0)
def test_true_divide_int(machine: Machine, a: int, b: int) -> None:
    before = {S1: ibits(a), S2: ibits(b)}
    out = machine.run("BINARY_OP_TRUE_DIVIDE_INT", before)
    if b == 0 or abs(a) > EXACT or abs(b) > EXACT:
        assert_untouched(out, "_JIT_SIDE_EXIT", before)
    else:
        # Bit-exact, -0.0 included (0 / -5 is -0.0 in Python).
        assert_continue(out, before, {S0: fbits(a / b)})


INT_UNARY: dict[str, Callable[[int], int | None]] = {
    "UNARY_NEGATIVE_INT": lambda a: _checked(-a),
    "UNARY_ABS_INT": lambda a: _checked(abs(a)),
    "UNARY_NOT_INT": lambda a: int(not a),
    "UNARY_INVERT_INT": operator.invert,
}


@pytest.mark.parametrize("stencil", sorted(INT_UNARY))
@SETTINGS
@given(a=int64s)
@example(a=INT64_MIN)
@example(a=INT64_MIN + 1)
@example(a=0)
def test_int_unary(machine: Machine, stencil: str, a: int) -> None:
    run_and_check_int_result(machine, stencil, {S1: a}, INT_UNARY[stencil](a))


@SETTINGS
@given(a=int64s)
@example(a=EXACT)
@example(a=EXACT + 1)
@example(a=-EXACT)
@example(a=-EXACT - 1)
def test_guard_int_fits_float(machine: Machine, a: int) -> None:
    before = {S0: ibits(a)}
    out = machine.run("GUARD_INT_FITS_FLOAT", before)
    # Within 2**53 every int is exactly a double: what the guard promises.
    assert_untouched(out, "_JIT_CONTINUE" if abs(a) <= EXACT else "_JIT_SIDE_EXIT", before)


# --- float.c ------------------------------------------------------------------


def _divide(a: float, b: float) -> float | None:
    return None if b == 0.0 else a / b


FLOAT_BINARY: dict[str, Callable[[float, float], float | None]] = {
    "BINARY_OP_ADD_FLOAT": lambda a, b: a + b,
    "BINARY_OP_SUBTRACT_FLOAT": lambda a, b: a - b,
    "BINARY_OP_MULTIPLY_FLOAT": lambda a, b: a * b,
    "BINARY_OP_TRUE_DIVIDE_FLOAT": _divide,
    "MIN_FLOAT": min,
    "MAX_FLOAT": max,
}


@pytest.mark.parametrize("stencil", sorted(FLOAT_BINARY))
@SETTINGS
@given(a=floats, b=floats)
@example(a=0.0, b=-0.0)
@example(a=-0.0, b=0.0)
@example(a=math.nan, b=1.0)
@example(a=1.0, b=math.nan)
@example(a=1.0, b=-0.0)
def test_float_binary(machine: Machine, stencil: str, a: float, b: float) -> None:
    expected = FLOAT_BINARY[stencil](a, b)
    before = {S1: fbits(a), S2: fbits(b)}
    out = machine.run(stencil, before)
    if expected is None:
        assert_untouched(out, "_JIT_SIDE_EXIT", before)
        return
    assert out.exit == "_JIT_CONTINUE"
    assert same_float(out.frame[S0], expected)
    if stencil.startswith(("MIN", "MAX")):
        # Python returns one of its arguments: the very bits, NaN included.
        assert out.frame[S0] == fbits(expected)
    assert_continue(out, before, {S0: out.frame[S0]})


FLOAT_UNARY: dict[str, Callable[[float], float | None]] = {
    "UNARY_NEGATIVE_FLOAT": lambda a: -a,
    "UNARY_ABS_FLOAT": abs,
    "SQRT_FLOAT": lambda a: None if a < 0.0 else math.sqrt(a),
}


@pytest.mark.parametrize("stencil", sorted(FLOAT_UNARY))
@SETTINGS
@given(a=floats)
@example(a=-0.0)
@example(a=-math.inf)
@example(a=math.nan)
def test_float_unary(machine: Machine, stencil: str, a: float) -> None:
    expected = FLOAT_UNARY[stencil](a)
    before = {S1: fbits(a)}
    out = machine.run(stencil, before)
    if expected is None:
        assert_untouched(out, "_JIT_SIDE_EXIT", before)
        return
    if stencil == "SQRT_FLOAT":
        assert same_float(out.frame[S0], expected)
        assert_continue(out, before, {S0: out.frame[S0]})
    else:
        # Sign-bit operations: exactly Python's bits, NaN's sign included.
        assert_continue(out, before, {S0: fbits(expected)})


@SETTINGS
@given(a=floats)
def test_unary_not_float(machine: Machine, a: float) -> None:
    before = {S1: fbits(a)}
    out = machine.run("UNARY_NOT_FLOAT", before)
    assert_continue(out, before, {S0: int(not a)})


@SETTINGS
@given(a=int64s)
def test_int_to_float(machine: Machine, a: int) -> None:
    before = {S1: ibits(a)}
    out = machine.run("INT_TO_FLOAT", before)
    assert_continue(out, before, {S0: fbits(float(a))})


@SETTINGS
@given(a=floats)
def test_float_to_int(machine: Machine, a: float) -> None:
    before = {S1: fbits(a)}
    out = machine.run("FLOAT_TO_INT", before)
    if math.isnan(a) or math.isinf(a) or not fits_int64(int(a)):
        assert_untouched(out, "_JIT_SIDE_EXIT", before)
    else:
        assert_continue(out, before, {S0: ibits(int(a))})


# --- compare.c ----------------------------------------------------------------

COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
    "EQ": lambda a, b: a == b,
    "NE": lambda a, b: a != b,
}
TYPES: dict[str, st.SearchStrategy[float]] = {"INT": int64s, "FLOAT": floats}


def slot_bits(value: float) -> int:
    return ibits(value) if isinstance(value, int) else fbits(value)


@pytest.mark.parametrize("type_name", sorted(TYPES))
@pytest.mark.parametrize("op", sorted(COMPARISONS))
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_comparisons(machine: Machine, type_name: str, op: str, data: st.DataObject) -> None:
    values = TYPES[type_name]
    a = data.draw(values)
    b = data.draw(st.one_of(values, st.just(a)))
    truth = COMPARISONS[op](a, b)
    operands = {S1: slot_bits(a), S2: slot_bits(b)}
    out = machine.run(f"COMPARE_OP_{type_name}_{op}", operands)
    assert_continue(out, operands, {S0: int(truth)})
    # Branches take their operands from slots 0 and 1.
    branch_operands = {S0: slot_bits(a), S1: slot_bits(b)}
    for prefix, jumps in (("JUMP_IF", truth), ("JUMP_IF_NOT", not truth)):
        out = machine.run(f"{prefix}_{type_name}_{op}", branch_operands)
        assert_untouched(out, "_JIT_JUMP_TARGET" if jumps else "_JIT_CONTINUE", branch_operands)


@pytest.mark.parametrize("type_name", sorted(TYPES))
@SETTINGS
@given(data=st.data())
def test_truth_branches(machine: Machine, type_name: str, data: st.DataObject) -> None:
    values = TYPES[type_name]
    a = data.draw(values)
    before = {S0: slot_bits(a)}
    for stencil, jumps in (("JUMP_IF_TRUE", bool(a)), ("JUMP_IF_FALSE", not a)):
        out = machine.run(f"{stencil}_{type_name}", before)
        assert_untouched(out, "_JIT_JUMP_TARGET" if jumps else "_JIT_CONTINUE", before)


@SETTINGS
@given(a=st.sampled_from([OPERANDS["_JIT_OPERAND0"], 0, OPERANDS["_JIT_OPERAND0"] ^ 1, FILLER]))
def test_identity_with_an_operand(machine: Machine, a: int) -> None:
    """`x is C` against the constant object OPERAND0: an int 0/1, and branches on it; object slots are
    compared as addresses, nothing is called."""
    same = a == OPERANDS["_JIT_OPERAND0"]
    for stencil, truth in (("IS_OPERAND_INT", same), ("IS_NOT_OPERAND_INT", not same)):
        before = {S1: a}
        assert_continue(machine.run(stencil, before), before, {S0: int(truth)})
    for stencil, jumps in (("JUMP_IF_IS_OPERAND", same), ("JUMP_IF_IS_NOT_OPERAND", not same)):
        before = {S0: a}
        assert_untouched(machine.run(stencil, before), "_JIT_JUMP_TARGET" if jumps else "_JIT_CONTINUE", before)


@SETTINGS
@given(a=st.integers(0, 2**64 - 1), b=st.integers(0, 2**64 - 1), same=st.booleans())
def test_identity_branches_of_the_generic_tier(machine: Machine, a: int, b: int, same: bool) -> None:
    before = {S0: a, S1: a if same else b}
    same = before[S0] == before[S1]
    for stencil, jumps in (("JUMP_IF_IS", same), ("JUMP_IF_IS_NOT", not same)):
        out = machine.run(stencil, before)
        assert_untouched(out, "_JIT_JUMP_TARGET" if jumps else "_JIT_CONTINUE", before)
        assert out.calls == []


def test_unconditional_jump(machine: Machine) -> None:
    assert_untouched(machine.run("JUMP", {}), "_JIT_JUMP_TARGET", {})


# --- frame.c ------------------------------------------------------------------


def test_load_const(machine: Machine) -> None:
    out = machine.run("LOAD_CONST", {})
    assert_continue(out, {}, {S0: OPERANDS["_JIT_OPERAND0"]})


@SETTINGS
@given(a=int64s)
def test_copy(machine: Machine, a: int) -> None:
    before = {S1: ibits(a)}
    assert_continue(machine.run("COPY", before), before, {S0: ibits(a)})


# --- control.c ----------------------------------------------------------------


def range_loop(machine: Machine, start: int, stop: int, step: int, limit: int,
               stencil: str = "FOR_ITER_RANGE") -> Iterator[int]:
    """Drive FOR_ITER_RANGE as a compiled loop does, yielding each target;
    at most `limit` iterations, so that a wrong loop fails instead of hanging."""
    slots = {S1: ibits(start), S2: ibits(stop), S3: ibits(step)}
    for _ in range(limit):
        out = machine.run(stencil, slots)
        if out.exit == "_JIT_JUMP_TARGET":
            assert_untouched(out, "_JIT_JUMP_TARGET", slots)
            return
        assert out.exit == "_JIT_CONTINUE"
        # Only target and counter change; stop and step stay.
        assert [out.frame[i] for i in (S2, S3)] == [slots[S2], slots[S3]]
        yield as_int(out.frame[S0])
        slots = {S0: out.frame[S0], S1: out.frame[S1], S2: slots[S2], S3: slots[S3]}


@st.composite
def short_ranges(draw: st.DrawFn) -> tuple[int, int, int]:
    """(start, stop, step) of at most a few dozen items, often ending at the
    int64 limits so that counter + step overflows."""
    step = draw(st.one_of(int64s, st.integers(-5, 5)).filter(lambda s: s != 0))
    start = draw(int64s)
    count = draw(st.integers(0, 12))
    offset = draw(st.integers(-abs(step), abs(step)))
    stop = max(INT64_MIN, min(INT64_MAX, start + count * step + offset))
    return start, stop, step


@SETTINGS
@given(bounds=short_ranges())
@example(bounds=(INT64_MAX - 3, INT64_MAX, 2))
@example(bounds=(INT64_MIN + 2, INT64_MIN, -3))
@example(bounds=(0, INT64_MAX, 2**62))
@example(bounds=(INT64_MAX, INT64_MIN, INT64_MIN))
@example(bounds=(5, 5, 1))
@example(bounds=(5, 5, -1))
def test_for_iter_range(machine: Machine, bounds: tuple[int, int, int]) -> None:
    start, stop, step = bounds
    expected = range(start, stop, step)
    assert len(expected) < 100
    assert list(range_loop(machine, start, stop, step, len(expected) + 2)) == list(expected)
    if step > 0:  # the variant for a step known to be positive
        assert list(range_loop(machine, start, stop, step, len(expected) + 2, "FOR_ITER_RANGE_UP")) == list(expected)


def test_check_signals(machine: Machine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The back edge counts down and jumps to the loop head; when the count
    runs out it falls into POLL_SIGNALS, which restarts the count at OPARG1
    (patched to OPARGS["_JIT_OPARG1"] here) and polls; an error from the poll
    goes to ERROR."""
    interval = OPARGS["_JIT_OPARG1"]
    monkeypatch.setitem(machine.stub_results, "PyErr_CheckSignals", 0)
    out = machine.run("CHECK_SIGNALS", {S0: ibits(5)})
    assert out.exit == "_JIT_JUMP_TARGET"
    assert out.frame[S0] == ibits(4)
    assert out.calls == []
    out = machine.run("CHECK_SIGNALS", {S0: ibits(1)})
    assert_continue(out, {}, {S0: ibits(0)})
    assert out.calls == []
    # The poll calls a Python no-op (the interpreter's eval breaker runs), then checks for signals.
    polled = ["PyObject_Vectorcall", "PyErr_CheckSignals"]
    # The no-op's result (None): a fake object in mapped memory, whose count the poll then drops.
    monkeypatch.setitem(machine.stub_results, "PyObject_Vectorcall", FRAME_BASE + PAGE // 2)
    out = machine.run("POLL_SIGNALS", {S0: ibits(0)})
    assert_continue(out, {}, {S0: ibits(interval)})
    assert out.calls == polled
    monkeypatch.setitem(machine.stub_results, "PyErr_CheckSignals", -1)
    out = machine.run("POLL_SIGNALS", {S0: ibits(0)})
    assert out.exit == "_JIT_ERROR"
    assert out.calls == polled


# --- every family: the names the compiler emits -------------------------------


def catalog_names() -> set[str]:
    """The stencil names of the catalog the compiler emits from: the registry's (jit/ops.py)."""
    return set(ops.all_stencils())


def test_families_define_the_catalog(machine: Machine) -> None:
    """Every stencil of these families is one the compiler selects (the registry's catalog), linked against
    holes and C-API names only (the loader refuses anything else)."""
    assert set(machine.image.functions) <= catalog_names()
    assert {"PyNumber_Add", "PyObject_Vectorcall", "PyLong_FromLongLong"} <= set(machine.image.externals)


# --- the generic tier, natively: real objects, CPython's own C API --------------------------------

# The generic stencil of each bitwise operator and its augmented form, with Python's operators.
BITWISE = {"AND": (operator.and_, operator.iand), "OR": (operator.or_, operator.ior),
           "XOR": (operator.xor, operator.ixor), "LSHIFT": (operator.lshift, operator.ilshift),
           "RSHIFT": (operator.rshift, operator.irshift)}  # fmt: skip


class Augmented:
    """An operand whose augmented operators differ from the plain ones, to tell the two stencils apart."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def __and__(self, other: object) -> str:
        return f"{self.tag} & {other}"

    def __iand__(self, other: object) -> str:
        return f"{self.tag} &= {other}"

    def __or__(self, other: object) -> str:
        return f"{self.tag} | {other}"

    def __ior__(self, other: object) -> str:
        return f"{self.tag} |= {other}"

    def __xor__(self, other: object) -> str:
        return f"{self.tag} ^ {other}"

    def __ixor__(self, other: object) -> str:
        return f"{self.tag} ^= {other}"

    def __lshift__(self, other: object) -> str:
        return f"{self.tag} << {other}"

    def __ilshift__(self, other: object) -> str:
        return f"{self.tag} <<= {other}"

    def __rshift__(self, other: object) -> str:
        return f"{self.tag} >> {other}"

    def __irshift__(self, other: object) -> str:
        return f"{self.tag} >>= {other}"

    def __invert__(self) -> str:
        return f"~{self.tag}"


@pytest.fixture(scope="module")
def native() -> Emitter:
    return Emitter()


def run_generic(emitter: Emitter, stencil: str, *operands: object) -> object:
    """dst = stencil(operands) in the generic tier: slot 0 the result, slots 1.. the operands (owned, as
    LOAD_CONST_OBJECT makes them); every slot released on both paths, the error path returning NULL."""
    count = len(operands)
    slots = tuple(range(1, count + 1))
    program = [Instruction("LOAD_CONST_OBJECT", (slot,), (id(value),))
               for slot, value in zip(slots, operands, strict=True)]
    error = len(program) + 1 + count + 1
    # A binary op's OPARG3: how ints keep their size (the stencils that take compact ints inline read it).
    int_mode = (layout.int_layout(),) if count == 2 else ()
    program.append(Instruction(stencil, (0, *slots, *int_mode), error=error))
    program += [Instruction("CLEAR", (slot,)) for slot in slots]
    program.append(Instruction("RETURN_OBJECT", (0,)))
    program += [Instruction("CLEAR", (slot,)) for slot in (0, *slots)]
    program.append(Instruction("RETURN_NULL"))
    code: CompiledCode = emitter.emit(program)
    frame = (ctypes.c_void_p * 4)()
    return ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p)(code.entry)(ctypes.addressof(frame))


def outcome(compute: Callable[[], object]) -> tuple[str, object]:
    """A value, or the exception's type and message: what the generic tier must reproduce."""
    try:
        return "value", compute()
    except Exception as exc:  # any exception is an outcome to compare
        return type(exc).__name__, str(exc)


NATIVE_OPERANDS = [0, 1, -1, 5, -(2**70), 2**64 + 3, INT64_MIN, INT64_MAX, 63, 64, -64, True, 2.5, "s", None,
                   frozenset({1, 2}), Augmented("x")]  # fmt: skip


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_generic_bitwise_operators_are_pythons(native: Emitter, name: str) -> None:
    plain, augmented = BITWISE[name]
    for a in NATIVE_OPERANDS:
        for b in NATIVE_OPERANDS:
            if name == "LSHIFT" and isinstance(a, int) and a and isinstance(b, int) and b > 64:
                continue  # a huge int: nothing to learn
            for stencil, python in ((f"BINARY_OP_{name}", plain), (f"BINARY_OP_INPLACE_{name}", augmented)):
                got = outcome(lambda stencil=stencil, a=a, b=b: run_generic(native, stencil, a, b))
                assert got == outcome(lambda python=python, a=a, b=b: python(a, b)), (stencil, a, b)
    # Operands are released on both paths: objects of their own, whose counts nothing else moves.
    mine, big = Augmented("r"), 2**70 + 1
    references = sys.getrefcount(mine), sys.getrefcount(big)
    for stencil in (f"BINARY_OP_{name}", f"BINARY_OP_INPLACE_{name}"):
        for a, b in ((mine, big), (big, mine), (big, big), (big, "s")):
            outcome(lambda stencil=stencil, a=a, b=b: run_generic(native, stencil, a, b))
    del a, b  # the loop's last references
    assert (sys.getrefcount(mine), sys.getrefcount(big)) == references


def test_generic_invert_is_pythons(native: Emitter) -> None:
    for a in NATIVE_OPERANDS:
        assert outcome(lambda a=a: run_generic(native, "UNARY_INVERT", a)) == outcome(lambda a=a: ~a), a


def test_generic_identity_makes_a_bool(native: Emitter) -> None:
    x, y = object(), [1]
    for a, b in ((x, x), (x, y), (None, None), (None, 0), (1, True), (y, y)):
        assert run_generic(native, "IS_OP", a, b) is (a is b)
        assert run_generic(native, "IS_NOT_OP", a, b) is (a is not b)
