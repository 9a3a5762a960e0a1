"""The optimizer passes: constant folding, definite assignment, type inference."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import jit
from jit import ir
from jit.errors import UnsupportedError
from jit.frontend import build_ir
from jit.ir import Type
from jit.optimizer import Facts, optimize


def mixed(n: int) -> float:
    x: float = 0
    for i in range(n):
        x = x + i / 2
    return x


def ints(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def maybe_unbound(n: int) -> int:
    for i in range(n):  # noqa: B007 - reading the loop variable after the loop is the point
        pass
    return i


def folded() -> int:
    return 2 * 3 + 1


def run(func: Callable[..., object], *signature: Type) -> tuple[ir.Function, Facts]:
    function = build_ir(func)
    return function, optimize(function, Facts(signature))


def test_int_loop_is_all_int() -> None:
    function, facts = run(ints, Type.INT)
    assert facts.specializable
    assert facts.return_type is Type.INT
    assert all(facts.types[v] in (Type.INT, Type.UNKNOWN) for v in function.variables)


def test_variable_of_two_types_makes_the_function_generic() -> None:
    _, facts = run(mixed, Type.INT)
    assert not facts.specializable
    assert "'x'" in facts.generic_reason
    _, facts = run(mixed, Type.FLOAT)  # n float: range() of a float is the generic tier's TypeError
    assert not facts.specializable


def test_read_of_maybe_unbound_local_is_refused_by_its_pass() -> None:
    with pytest.raises(UnsupportedError) as error:
        run(maybe_unbound, Type.INT)
    assert error.value.stage == "optimizer:definite-assignment"
    assert "'i'" in str(error.value)


def test_constant_folding_uses_python_arithmetic() -> None:
    function, facts = run(folded)
    assert facts.return_type is Type.INT
    loads = [op for op in function.ops if op.opcode is ir.Opcode.LOAD_CONST]
    assert any(op.args[0] == ir.Const(7) for op in loads)


def constant_then_loop(n: int) -> int:
    x = 1 + 1
    t = 0
    for _ in range(n):
        t += x - 2
    return t


def test_a_range_counter_is_not_a_constant() -> None:
    # FOR_ITER_RANGE advances its counter in place: propagating the counter's initial 0 would make the loop
    # advance the shared constant slot of 0 (found by the benchmark suite's LLVM baseline).
    function, _ = run(constant_then_loop, Type.INT)
    loop = next(op for op in function.ops if op.opcode is ir.Opcode.FOR_ITER_RANGE)
    assert isinstance(loop.args[0], ir.Var)
    assert loop.args[0] in loop.written()
    assert jit.compile(constant_then_loop)(5) == constant_then_loop(5) == 0
