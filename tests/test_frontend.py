"""The frontend: source -> IR, and its refusals naming file, line and construct."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

import jit
from jit import ir
from jit.errors import UnsupportedError
from jit.frontend import build_ir

LIMIT = 10


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def uses_yield(n: int) -> Iterator[int]:
    yield n


def uses_match(n: int) -> int:
    match n:
        case 1:
            return 0
    return n


def uses_global_constant(x: float) -> float:
    return x * LIMIT + math.pi


def chained(a: int, b: int, c: int) -> bool:
    return a < b < c


def test_tuple_assignment_is_three_ops_in_the_loop() -> None:
    function = build_ir(fib)
    text = function.format()
    assert "FOR_ITER_RANGE" in text
    loop_start = next(i for i, op in enumerate(function.ops) if op.opcode is ir.Opcode.FOR_ITER_RANGE)
    loop_end = next(i for i, op in enumerate(function.ops) if op.opcode is ir.Opcode.CHECK_SIGNALS)
    # a, b = b, a + b: one add, then two stores (b is copied first so that a's store cannot change it).
    body = function.ops[loop_start + 1:loop_end]
    assert [op.opcode for op in body].count(ir.Opcode.BINARY_OP) == 1
    assert len(body) <= 4


def test_refusals_name_file_line_and_construct() -> None:
    with pytest.raises(UnsupportedError) as error:
        build_ir(uses_yield)
    assert error.value.line == uses_yield.__code__.co_firstlineno + 1
    assert "uses_yield is a generator function: generators, coroutines and async generators run in the interpreter" \
        in str(error.value)
    assert error.value.filename.endswith("test_frontend.py")
    with pytest.raises(UnsupportedError, match=r"line \d+: 'match' is not supported"):
        build_ir(uses_match)


def test_modules_and_their_attributes_become_guarded_constants_and_data_is_read_when_it_runs() -> None:
    function = build_ir(uses_global_constant)
    constants = {op.args[1].value for op in function.ops
                 if op.opcode is ir.Opcode.BINARY_OP and isinstance(op.args[1], ir.Const)}
    assert math.pi in constants and LIMIT not in constants
    names = {guard.name for guard in function.guards}
    assert {"math", "pi"} <= names and "LIMIT" not in names
    assert all(guard.holds() for guard in function.guards)
    # LIMIT, an int, is data: a loop sees a rebinding (by a callee, another thread) at its next read.
    assert [op.arg for op in function.ops if op.opcode is ir.Opcode.LOAD_GLOBAL] == ["LIMIT"]


def test_chained_comparison_evaluates_each_operand_once() -> None:
    function = build_ir(chained)
    compares = [op for op in function.ops if op.opcode is ir.Opcode.COMPARE_OP]
    assert len(compares) == 2
    assert any(op.opcode is ir.Opcode.POP_JUMP_IF_FALSE for op in function.ops)


def test_lambda_is_refused() -> None:
    with pytest.raises(UnsupportedError, match=r"lambda|plain 'def'"):
        build_ir(lambda x: x)  # type: ignore[arg-type]


def annotated(n: int) -> float:
    total: float = 0.5
    step: float
    for _ in range(n):
        step = 1.5
        total += step
    return total


def test_annotated_assignment_is_an_assignment() -> None:
    function = build_ir(annotated)
    assert not any("AnnAssign" in str(op) for op in function.ops)
    fast: Any = jit.compile(annotated)
    assert fast(3) == annotated(3) == 5.0
    assert not fast.__jit_dispatcher__.fallbacks


def computed_assignments(a: Any, b: Any) -> Any:
    x = a + b
    y: Any = x * 2
    y += a
    z = w = a - b  # two targets: one value, stored into each
    v = a if b else x  # a temporary two ops write: copied
    return x, y, z, w, v


def test_a_computed_value_goes_straight_into_its_local() -> None:
    function = build_ir(computed_assignments)
    by_destination = {str(op.dst): op for op in function.ops if op.dst is not None}
    for name, operator in [("x", "+"), ("y", "+=")]:
        assert by_destination[name].opcode is ir.Opcode.BINARY_OP and by_destination[name].arg == operator
    copies = [op for op in function.ops if op.opcode is ir.Opcode.COPY]
    copied = {str(op.dst) for op in copies}
    assert {"z", "w", "v"} <= copied and not {"x", "y"} & copied, function.format()
    fast: Any = jit.compile(computed_assignments)
    for args in [(3, 4), (2.5, 0), ("a", "b"), ([1], [])]:
        try:
            expected = computed_assignments(*args)
        except TypeError as error:
            with pytest.raises(TypeError, match=re.escape(str(error))):
                fast(*args)
        else:
            assert fast(*args) == expected
