"""The types pass (jit/optimizer/versions.py): block versions, one type per variable, boxing where they meet."""

from __future__ import annotations

from collections.abc import Callable

from jit import ir
from jit.frontend import build_ir
from jit.ir import Opcode, Type
from jit.optimizer import Facts, function_passes, optimize, signature_passes
from jit.optimizer.versions import MAX_VERSIONS


def typed(func: Callable[..., object], *signature: Type,
          returns: dict[tuple[object, tuple[Type, ...]], Type] | None = None) -> tuple[ir.Function, Facts]:
    base = build_ir(func)
    optimize(base, Facts(()), function_passes())
    function = base.copy()
    facts = Facts(signature, callee_returns=dict(returns or {}))
    optimize(function, facts, signature_passes())
    return function, facts


def kinds(facts: Facts, prefix: str) -> dict[str, Type]:
    return {var.name: kind for var, kind in facts.types.items() if var.name.split("$")[0] == prefix}


def int_then_float(n: int) -> float:
    s = 0
    for i in range(n):
        s += i * 0.5
    return s


def test_a_loop_whose_variable_changes_type_has_a_version_per_type() -> None:
    function, facts = typed(int_then_float, Type.INT)
    assert kinds(facts, "s") == {"s": Type.INT, "s$float": Type.FLOAT}
    loops = [op for op in function.ops if op.opcode is Opcode.FOR_ITER_RANGE]
    assert len(loops) == 2  # the first iteration (s an int), then the loop on s a float
    assert facts.return_type is Type.OBJECT  # an int or a float, by path: each boxes its own
    assert facts.specializable


def test_the_signatures_copy_is_rewritten_not_the_functions() -> None:
    base = build_ir(int_then_float)
    optimize(base, Facts(()), function_passes())
    before = [str(op) for op in base.ops]
    copy = base.copy()
    optimize(copy, Facts((Type.INT,)), signature_passes())
    assert [str(op) for op in base.ops] == before
    assert len(copy.ops) > len(base.ops)


def one_type(n: int) -> int:
    total = 0
    for i in range(n):
        total += i
    return total


def test_a_function_of_stable_types_keeps_one_version_per_block() -> None:
    base = build_ir(one_type)
    optimize(base, Facts(()), function_passes())
    function, facts = typed(one_type, Type.INT)
    assert [op.opcode for op in function.ops] == [op.opcode for op in base.ops]
    assert all("$" not in var.name or var.name.startswith("$t") for var in facts.types)


def shifts_floats_in(n: int) -> object:
    # The loop head sees (int, int, int, int), (int, int, int, float) ... (float, float, float, float): one
    # state more than MAX_VERSIONS.
    a, b, c, d = 0, 0, 0, 0
    for _ in range(n):
        a, b, c, d = b, c, d, 0.5
    return a + b + c + d


def test_past_the_limit_a_block_takes_its_general_version_where_values_are_objects() -> None:
    function, facts = typed(shifts_floats_in, Type.INT)
    assert any(Type.OBJECT in kinds(facts, name).values() for name in "abcd")
    boxes = [op for op in function.ops if op.opcode is Opcode.BOX]
    assert boxes, "the edges into the general version box what they bring unboxed"
    heads = [op for op in function.ops if op.opcode is Opcode.FOR_ITER_RANGE]
    assert len(heads) == MAX_VERSIONS + 1
    assert facts.specializable


def loop_variable_after_loop(n: int) -> float:
    i = 0.5
    for i in range(n):  # noqa: B007 - the loop variable read after the loop is the point
        pass
    return i


def test_a_loops_exit_keeps_the_old_value_and_type_of_its_target() -> None:
    function, facts = typed(loop_variable_after_loop, Type.INT)
    returns = [op for op in function.ops if op.opcode is Opcode.RETURN_VALUE]
    types = {facts.kinds[op.args[0].slot] for op in returns if type(op.args[0]) is ir.Var}
    assert types == {Type.FLOAT, Type.INT}  # no iteration: still 0.5; else the last i


def calls(n: int) -> int:
    return one_type(n) + 1


def test_a_calls_return_type_is_asked_of_the_driver() -> None:
    _, facts = typed(calls, Type.INT)
    assert facts.callees_wanted == {(one_type, (Type.INT,))}
    _, facts = typed(calls, Type.INT, returns={(one_type, (Type.INT,)): Type.INT})
    assert facts.callees_wanted == set()
    assert facts.return_type is Type.INT
    _, facts = typed(calls, Type.INT, returns={(one_type, (Type.INT,)): Type.OBJECT})
    assert facts.return_type is Type.OBJECT and facts.specializable  # the call's result is an object


def test_the_general_version_gives_the_interpreters_values() -> None:
    import jit  # noqa: PLC0415 - the pass's tests above need no machine code

    fast = jit.compile(shifts_floats_in, strict=True)
    for n in range(9):
        got, expected = fast(n), shifts_floats_in(n)
        assert (type(got), got) == (type(expected), expected), n
