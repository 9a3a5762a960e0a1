"""Compile time linear in the length of a function (issue 15), and long functions against the interpreter.

The bounds are structural, not timings: the deoptimization tables, the frame, and the work of the passes'
fixpoints must grow with the function's statements no faster than linearly.  (Before, every exit's table had
one entry per variable and constant of the function: its bytes per statement grew with the length.)
"""

from __future__ import annotations

import ctypes
import gc
import math
from typing import Any

import pytest
from test_differential import outcome

import jit
from bench import long_functions
from jit import ir
from jit.frontend import build_ir
from jit.optimizer import Facts, function_passes, optimize, signature_passes
from jit.optimizer.blocks import basic_blocks
from jit.optimizer.liveness import analyse

SIZES = (100, 200, 400, 800)
# n, x: plain values; n + k == 0 for a division by n + 50 (ZeroDivisionError); products with n beyond int64
# (big ints from there on); x NaN (int() of NaN raises) and infinite.
ARGUMENTS = [(5, 1.5), (0, -2.25), (-50, 0.5), (2**62, 3.0), (-(2**40), 1e300), (7, math.nan), (3, -math.inf),
             (True, 0.0)]


def specialization(function: Any, args: tuple[object, ...]) -> Any:
    """The specialization that runs ``function(*args)`` (compiled by that call if need be)."""
    compiled: Any = jit.compile(function)
    compiled(*args)
    dispatcher = compiled.__jit_dispatcher__
    return dispatcher.specializations[dispatcher.signature_of(tuple(type(a) for a in args))]


def deopt_table_bytes(spec: Any) -> int:
    """The bytes of the deoptimization tables the specialization keeps."""
    return sum(len(item) for item in spec.keep_alive if isinstance(item, ctypes.Array) and item._type_ is ctypes.c_char)


def test_deopt_tables_and_frame_grow_linearly_with_statements() -> None:
    per_statement = []
    slots = []
    for statements in SIZES:
        spec = specialization(long_functions.function(statements, tag=" (tables)"), (5, 1.5))
        assert spec.facts.specializable
        per_statement.append(deopt_table_bytes(spec) / statements)
        slots.append(spec.facts.liveness.variable_slots)
    # Eight times the statements: about the same table bytes per statement (quadratic growth gave 8x).
    assert per_statement[-1] < 1.5 * per_statement[0], per_statement
    # The frame holds the values live at once, not one slot per variable (the function has thousands).
    variables = len(build_ir(long_functions.function(SIZES[-1], tag=" (tables)")).variables)
    assert slots[-1] < 2 * slots[0] and slots[-1] * 20 < variables, (slots, variables)


def test_fixpoints_do_work_linear_in_the_function() -> None:
    for statements in SIZES:
        base = build_ir(long_functions.function(statements, tag=" (fixpoints)"))
        optimize(base, Facts(()), function_passes())
        function = base.copy()
        typed = Facts((ir.Type.INT, ir.Type.FLOAT))
        optimize(function, typed, signature_passes())
        assert typed.liveness is not None
        blocks = len(typed.liveness.blocks)
        assert typed.liveness.rounds <= 3 * blocks, (statements, typed.liveness.rounds, blocks)
        # Types by block versions: a few versions per block at most, whatever the length.
        original = len(basic_blocks(base))
        assert typed.versions <= 2 * original, (statements, typed.versions, original)
        assert len(function.ops) <= 3 * len(base.ops), (statements, len(function.ops), len(base.ops))


@pytest.mark.parametrize("statements", [150, 400])
def test_long_functions_give_the_interpreters_outcome(statements: int) -> None:
    function = long_functions.function(statements, tag=" (differential)")
    compiled: Any = jit.compile(function)
    spec = specialization(function, (5, 1.5))
    assert spec.facts.specializable
    for args in ARGUMENTS:
        assert outcome(compiled, args) == outcome(function, args), args
    # The zero divisor and the overflows left the specialized tier (its own counter: the process-wide sum
    # drops when an earlier test's functions are collected).
    assert spec.deopt_counter.value >= 3
    assert jit.stats()["frame_slots_in_use"] == 0


@pytest.mark.slow
def test_a_2000_statement_function_compiles_and_gives_the_interpreters_outcome() -> None:
    function = long_functions.function(2000, tag=" (slow)")
    compiled: Any = jit.compile(function)
    for args in ARGUMENTS:
        assert outcome(compiled, args) == outcome(function, args), args
    spec = specialization(function, (5, 1.5))
    assert spec.facts.specializable and spec.facts.liveness.variable_slots < 100


def test_generated_source_is_what_the_interpreter_runs() -> None:
    text = long_functions.source(60)
    assert text.startswith(f"def {long_functions.NAME}(n, x):") and text.rstrip().splitlines()[-1].startswith(
        "    return ")
    assert "for t in range(3):" in text and "if " in text and "// (n + 50)" in text and "math.sqrt" in text
    assert long_functions.function(60)(5, 1.5) == long_functions.function(60)(5, 1.5)


def webs_of(source_function: Any) -> tuple[ir.Function, Any]:
    function = build_ir(source_function)
    optimize(function, Facts(()), function_passes()[:2])  # what liveness runs after
    return function, analyse(function)


def straight(a: int) -> int:
    b = a + 1
    c = b * 2
    d = c - 3
    e = d * d
    return e + 1


def test_values_never_live_at_once_share_slots() -> None:
    function, liveness = webs_of(straight)
    assert len(function.variables) >= 8
    assert liveness.variable_slots <= 2


def reassigned(n: int) -> int:
    total = n
    x = n * 2
    total += x
    x = n - 1  # a second web of x: its own value
    return total + x


def test_a_variable_assigned_twice_is_two_webs_and_parameters_keep_their_slots() -> None:
    function, liveness = webs_of(reassigned)
    (n,) = function.params
    assert liveness.home(n.slot, 0) == 0  # op 0 reads n where the argument arrived
    assert jit.compile(reassigned)(10) == reassigned(10)


def loop_carried(n: int, step: int) -> int:
    last = -1
    total = 0
    for i in range(n):
        total += i * step
        last = i
    return total + last


def test_values_live_around_a_loop_keep_one_slot_and_survive_deopts() -> None:
    function, liveness = webs_of(loop_carried)
    total = next(v for v in function.variables if v.name == "total")
    homes = {liveness.home(total.slot, index) for index, op in enumerate(function.ops)
             if total in op.args or op.dst == total}
    assert len(homes) == 1
    compiled: Any = jit.compile(loop_carried)
    for args in [(10, 3), (0, 3), (5, 2**62), (3000, 2**50)]:
        assert outcome(compiled, args) == outcome(loop_carried, args), args


@pytest.mark.parametrize("enabled", [True, False])
def test_compiling_leaves_the_collector_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert jit.compile(long_functions.function(20, tag=f" (gc {enabled})"))(5, 1.5) == \
            long_functions.function(20)(5, 1.5)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
