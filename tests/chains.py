"""Chains of real stencils with their expected results, shared by the tests that execute them.

test_arm64_qemu.py runs them in an ARM64 CPython (results boxed by RETURN_INT,
RETURN_FLOAT, RETURN_BOOL); test_foreign_targets.py runs them under unicorn
on every target (results left unboxed in frame[0] by RETURN_RAW).  A chain is a
list of steps, each the fields of one jit.backend.Instruction; slot numbers
are frame slots, and slot 0 holds the result.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

# (stencil, opargs, operands, jump_target, side_exit, error); an operand may be a
# string naming an object of the process that runs the chain.
Step = tuple[str, tuple[int, ...], tuple[int | str, ...], int | None, int | None, int | None]
Chain = list[Step]

# What a chain returns when a guard fails: the side exit path loads it into slot 0.
SIDE_EXIT_MARK = -12345


def op(
    stencil: str,
    *opargs: int,
    operands: tuple[int | str, ...] = (),
    jump: int | None = None,
    exit_to: int | None = None,
    error: int | None = None,
) -> Step:
    return (stencil, opargs, operands, jump, exit_to, error)


def double_bits(value: float) -> int:
    """The int64 whose bits are ``value``'s (as LOAD_CONST takes doubles)."""
    bits: int = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits


def const(slot: int, value: int | float) -> Step:
    """LOAD_CONST of an int64 or of a double's bits (through the 64-bit operand hole)."""
    return op("LOAD_CONST", slot, operands=(double_bits(value) if isinstance(value, float) else value,))


class Returns:
    """How chains end: the return stencil for an int, float or bool result in a slot."""

    def __init__(self, by_kind: Mapping[str, str]) -> None:
        self.by_kind = dict(by_kind)

    def __call__(self, value: int | float | bool, slot: int = 0) -> Step:
        """The return of ``slot``, which holds a result of ``value``'s type."""
        kind = "bool" if isinstance(value, bool) else "float" if isinstance(value, float) else "int"
        return op(self.by_kind[kind], slot)


BOXED = Returns({"int": "RETURN_INT", "float": "RETURN_FLOAT", "bool": "RETURN_BOOL"})
RAW = Returns({"int": "RETURN_RAW", "float": "RETURN_RAW", "bool": "RETURN_RAW"})


def binary(ret: Returns, stencil: str, a: int | float, b: int | float, result: int | float | bool) -> Chain:
    """slot0 = a OP b, returned; a side exit returns SIDE_EXIT_MARK instead."""
    return [
        const(1, a),
        const(2, b),
        op(stencil, 0, 1, 2, exit_to=4),
        ret(result),
        const(0, SIDE_EXIT_MARK),  # 4
        ret(SIDE_EXIT_MARK),
    ]


def range_sum(ret: Returns, start: int, stop: int, step: int) -> Chain:
    """acc = 0; for i in range(start, stop, step): acc += i; return acc."""
    return [
        const(4, 0),
        const(1, start),
        const(2, stop),
        const(3, step),
        op("FOR_ITER_RANGE", 5, 1, 2, 3, jump=7),  # 4
        op("BINARY_OP_ADD_INT", 4, 4, 5, exit_to=8),
        op("JUMP", jump=4),
        ret(0, 4),  # 7: loop exit
        const(0, SIDE_EXIT_MARK),  # 8: side exit
        ret(SIDE_EXIT_MARK),
    ]


def count_below(ret: Returns, limit: float, step: float) -> Chain:
    """n = 0; x = 0.0; while x < limit: x += step; n += 1; return n (float compare, backward branch)."""
    return [
        const(0, 0),
        const(1, 0.0),
        const(2, limit),
        const(3, step),
        const(4, 1),
        op("JUMP_IF_NOT_FLOAT_LT", 1, 2, jump=9),  # 5
        op("BINARY_OP_ADD_FLOAT", 1, 1, 3),
        op("BINARY_OP_ADD_INT", 0, 0, 4, exit_to=10),
        op("JUMP", jump=5),
        ret(0),  # 9
        const(0, SIDE_EXIT_MARK),  # 10
        ret(SIDE_EXIT_MARK),
    ]


def arithmetic(ret: Returns) -> dict[str, tuple[Chain, int | float | bool]]:
    """Chains that call no C function: name -> (chain, the value it returns)."""
    exits = SIDE_EXIT_MARK
    cases: list[tuple[str, str, int | float, int | float, int | float | bool]] = [
        ("add_64_bit_operands", "BINARY_OP_ADD_INT", 2**40 + 3, -7, 2**40 - 4),
        ("add_overflow_exits", "BINARY_OP_ADD_INT", 2**63 - 1, 1, exits),
        ("sub", "BINARY_OP_SUBTRACT_INT", -(2**62), 2**62, -(2**63)),
        ("sub_overflow_exits", "BINARY_OP_SUBTRACT_INT", -(2**63), 1, exits),
        ("mul_largest", "BINARY_OP_MULTIPLY_INT", 3037000499, -3037000499, -(3037000499**2)),
        ("mul_overflow_exits", "BINARY_OP_MULTIPLY_INT", 2**62, -4, exits),
        ("floor_divide_negative", "BINARY_OP_FLOOR_DIVIDE_INT", -7, 2, -7 // 2),
        ("floor_divide_both_negative", "BINARY_OP_FLOOR_DIVIDE_INT", -7, -2, -7 // -2),
        ("floor_divide_by_zero_exits", "BINARY_OP_FLOOR_DIVIDE_INT", 7, 0, exits),
        ("floor_divide_min_by_minus_one_exits", "BINARY_OP_FLOOR_DIVIDE_INT", -(2**63), -1, exits),
        ("remainder_negative_divisor", "BINARY_OP_REMAINDER_INT", 7, -2, 7 % -2),
        ("remainder_negative_dividend", "BINARY_OP_REMAINDER_INT", -7, 2, -7 % 2),
        ("remainder_exact", "BINARY_OP_REMAINDER_INT", -8, 2, 0),
        ("float_add", "BINARY_OP_ADD_FLOAT", 0.1, 0.2, 0.1 + 0.2),
        ("float_multiply", "BINARY_OP_MULTIPLY_FLOAT", 1.5, -2.25, 1.5 * -2.25),
        ("float_divide", "BINARY_OP_TRUE_DIVIDE_FLOAT", 1.0, 3.0, 1.0 / 3.0),
        ("float_divide_by_zero_exits", "BINARY_OP_TRUE_DIVIDE_FLOAT", 1.0, 0.0, exits),
        ("int_true_divide", "BINARY_OP_TRUE_DIVIDE_INT", -7, 2, -3.5),
        ("compare_int_lt", "COMPARE_OP_INT_LT", -5, 3, True),
        ("compare_int_ge", "COMPARE_OP_INT_GE", -5, 3, False),
        ("compare_float_nan_ne", "COMPARE_OP_FLOAT_NE", float("nan"), 1.0, True),
    ]
    chains: dict[str, tuple[Chain, int | float | bool]] = {
        name: (binary(ret, stencil, a, b, result), result) for name, stencil, a, b, result in cases
    }
    chains["range_sum"] = (range_sum(ret, 10, 100_000, 7), sum(range(10, 100_000, 7)))
    chains["range_sum_negative_step"] = (range_sum(ret, 100, -50, -9), sum(range(100, -50, -9)))
    chains["range_sum_empty"] = (range_sum(ret, 5, 5, 1), 0)
    chains["range_counter_overflow_ends_the_loop"] = (
        range_sum(ret, 2**63 - 3, 2**63 - 1, 5),
        2**63 - 3,
    )
    chains["float_loop"] = (count_below(ret, 10.0, 0.25), 40)
    chains["float_loop_nan_limit_exits_at_once"] = (count_below(ret, float("nan"), 1.0), 0)
    return chains
