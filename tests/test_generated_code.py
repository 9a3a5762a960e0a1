"""The machine code generated for a fixed set of functions, against golden digests (tests/golden/generated-code.txt).

Work on the compiler's speed must not change what it generates.  Each function is compiled for a few
signatures, with the x86-64 Linux tables whatever the host (lowering needs only which control holes a
stencil has) and 3.11's int layout whatever the version, then stitched at a fixed address with fixed symbol
values.  The addresses that differ from run to run are replaced by stable stand-ins: a deoptimization table by
a digest of its contents (the addresses in it replaced in turn), any other address by the order in which it
first appears.  What is
digested is every instruction (stencil, opargs, operands, targets), the source lines and tiers, the
entries, the frame size, and the stitched bytes.  (The source lines count from each function's ``def``.)

A deliberate change of the generated code regenerates the file:
``CPJIT_UPDATE_GOLDEN=1 python -m pytest tests/test_generated_code.py``, and the diff shows which
functions changed.
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import long_functions
from jit import ir, layouts
from jit.backend import layout, lowering
from jit.backend.emitter import Instruction, prepared_target, stitch
from jit.frontend import build_ir
from jit.optimizer import Facts, function_passes, optimize, signature_passes

TARGET = "x86_64-unknown-linux"
GOLDEN = Path(__file__).resolve().parent / "golden" / "generated-code.txt"
UPDATE_GOLDEN = os.environ.get("CPJIT_UPDATE_GOLDEN") == "1"
BASE = 0x7F0000000000  # where the code is stitched; stand-in addresses follow it
STAND_INS = BASE + 0x10000000
SMALL = 1 << 20  # operands below this (or this close to 2**64) are values, not addresses
UINT64 = (1 << 64) - 1


def arithmetic(a: float, b: float) -> float:
    c = a * 3 + b
    d = (c - a) // 2 if c > b else c % 7
    e = -d + abs(c) - min(a, b) + max(c, d)
    return e / 2 + a


def loops(n: int, step: int) -> int:
    total = 0
    for i in range(n):
        if i % 3 == 0 and total < 1000:
            continue
        total += i * step
        if total > 10**6:
            break
    else:
        total -= 1
    while n > 0:
        n -= 1
        total += n
    return total


def mixed(x: float, y: float) -> float:
    s = math.sqrt(abs(x)) + float(y)
    t = math.floor(s) + int(x)
    u = x if x < y else y
    return s * t + (u > 2.5) - (not x) + math.hypot(x, y)


def chained(a: float, b: float) -> float:
    x = 1 < a <= b
    y = 2**10 + 0.5 * a
    a, b = b, a + b
    return x or (a > b and y > 3) or a ** 2


FUNCTIONS: dict[str, Callable[..., object]] = {
    "arithmetic": arithmetic, "loops": loops, "mixed": mixed, "chained": chained,
    "long_function(5)": long_functions.function(5, tag=" (golden)"),
    "long_function(300)": long_functions.function(300, tag=" (golden)"),
}
SIGNATURES = {
    "int": (ir.Type.INT, ir.Type.INT), "float": (ir.Type.FLOAT, ir.Type.FLOAT),
    "int,float": (ir.Type.INT, ir.Type.FLOAT), "bool": (ir.Type.BOOL, ir.Type.BOOL),
}


class Addresses:
    """Stand-ins for the addresses in one specialization's code, in the order they first appear."""

    def __init__(self, tables: dict[int, bytes]) -> None:
        self.tables = tables  # address -> contents of each deoptimization table the code keeps
        self.seen: dict[int, int] = {}

    def __call__(self, value: int) -> int:
        if value < SMALL or UINT64 - value < SMALL:
            return value
        if value in self.tables:
            return STAND_INS + 16 * int.from_bytes(self.table_digest(self.tables[value])[:3], "little")
        return self.seen.setdefault(value, STAND_INS + 0x8000000 + 16 * len(self.seen))

    def table_digest(self, data: bytes) -> bytes:
        # The header (entries, counter address), then (slot u32, kind u32, constant u64) entries: the counter
        # and the constants' addresses get stand-ins.
        words = bytearray(data)
        for at in range(8, len(words) - 7, 16):
            stand_in = self(int.from_bytes(words[at : at + 8], "little"))
            words[at : at + 8] = stand_in.to_bytes(8, "little")
        return hashlib.sha256(bytes(words)).digest()


def digest(func: Callable[..., object], signature: tuple[ir.Type, ...]) -> str:
    """The digest of the code of ``func`` for ``signature``, or why it has none."""
    stencils = prepared_target(TARGET).stencils

    def holes_of(name: str) -> frozenset[str]:
        found = stencils[name]
        return frozenset(hole.symbol for hole in found.code_holes + found.data_holes)

    base = build_ir(func)
    optimize(base, Facts(()), function_passes())
    function = base.copy()  # the signature's own IR, as the driver makes it
    typed = Facts(signature)
    optimize(function, typed, signature_passes())
    keep: list[object] = []
    context = lowering.Context(frame_stack=0x7E0000001000, call_countdown=0x7E0000002000, holes_of=holes_of,
                               keep_alive=keep, deopt_counter=0x7E0000003000)
    lowered = lowering.lower(function, typed, context)
    # The deoptimization tables by content (not other buffers the code keeps, such as the traceback entry's
    # file name, which differs between checkouts).
    deopt_operands = {v for i in lowered.instructions if i.stencil == "DEOPT" for v in i.operands}
    tables = {ctypes.addressof(item): bytes(item) for item in keep
              if isinstance(item, ctypes.Array) and item._type_ is ctypes.c_char
              and ctypes.addressof(item) in deopt_operands}
    stand_in = Addresses(tables)
    instructions = [Instruction(i.stencil, i.opargs, tuple(stand_in(v) for v in i.operands), i.jump_target,
                                i.side_exit, i.error) for i in lowered.instructions]
    symbols = {name: number for number, name in enumerate(prepared_target(TARGET).externals)}
    image = stitch(TARGET, instructions, BASE, lambda symbol: BASE + 0x20000000 + 64 * symbols[symbol])
    hasher = hashlib.sha256(repr(instructions).encode())
    lines = [line - function.first_line if line else 0 for line in lowered.lines]  # wherever the def is
    hasher.update(repr((lines, lowered.tiers, lowered.internal_entry, lowered.generic_entry,
                        lowered.frame_size, typed.return_type, typed.specializable)).encode())
    hasher.update(image.image)
    return f"{len(instructions)} stencils {hasher.hexdigest()[:32]}"


def listing() -> str:
    lines = ["# regenerate: CPJIT_UPDATE_GOLDEN=1 python -m pytest tests/test_generated_code.py"]
    for name, func in FUNCTIONS.items():
        for kinds, signature in SIGNATURES.items():
            lines.append(f"{name} ({kinds}): {digest(func, signature)}")
    return "\n".join(lines) + "\n"


def test_generated_code_is_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    # How the running CPython keeps an int's size is an oparg of the stencils that read compact ints (3.11 and
    # 3.12+ differ): a fixed stand-in, so that the digests are those of every version.
    monkeypatch.setattr(layout, "int_layout", lambda: layouts.INT_SIGNED_SIZE)
    monkeypatch.setattr(layout, "subscript_int_mode", lambda: layouts.INT_SIGNED_SIZE)
    found = listing()
    if UPDATE_GOLDEN:
        GOLDEN.write_text(found)
    assert found.splitlines() == GOLDEN.read_text().splitlines()


def test_an_instruction_without_a_target_for_its_hole_is_refused_where_it_is_made() -> None:
    holes = {"EXITS": frozenset({"_JIT_SIDE_EXIT", "_JIT_OPARG"}), "PLAIN": frozenset({"_JIT_OPARG"})}
    assembler = lowering.Assembler(holes.__getitem__)
    assembler.emit("PLAIN", 1, exit="ignored")  # a target for a hole the stencil lacks is dropped
    assembler.emit("EXITS", 2, exit="out")
    with pytest.raises(AssertionError, match=r"instruction 2 \(EXITS\) needs a target for _JIT_SIDE_EXIT"):
        assembler.emit("EXITS", 3)
    assembler.label("out")
    instructions, lines, tiers = assembler.finish()
    assert instructions == [Instruction("PLAIN", (1,)), Instruction("EXITS", (2,), side_exit=2)]
    assert lines == [0, 0] and tiers == ["", ""]
