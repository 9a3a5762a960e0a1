"""jit/optimizer/bets.py: bets on the types of objects that arithmetic reads, what lost bets teach, and the
interpreter's results whatever the values turn out to be."""

from __future__ import annotations

import copy
import math
import sys
import types
from fractions import Fraction
from typing import Any

import bet_cases
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jit
from jit import compiler, ir, ops
from jit.ir import Opcode, Type
from jit.layouts import OBSERVED_FLOAT, OBSERVED_INT, OBSERVED_LOST, OBSERVED_OTHER
from jit.optimizer import bets


def fresh(func: Any) -> Any:
    """A copy of ``func`` of its own (its own dispatcher), compiled."""
    copied = types.FunctionType(func.__code__, func.__globals__, func.__name__, func.__defaults__, func.__closure__)
    return jit.compile(copied, strict=True)


def outcome(func: Any, args: tuple[Any, ...]) -> tuple[str, str, str]:
    try:
        value = func(*args)
    except Exception as error:
        return ("raise", type(error).__name__, str(error))
    return ("ok", type(value).__name__, repr((value, args)))


def guesses_of(func: Any) -> dict[str, Type]:
    """The first bets of ``func``, by the opcode and destination of the op bet on."""
    function = compiler.function_ir(func, frozenset()).function
    return {f"{function.ops[site].opcode.value} {function.ops[site].dst}": kind
            for site, kind in bets.guesses(function).items()}


def test_values_only_arithmetic_reads_are_bet_on_with_what_their_operands_say() -> None:
    def mixed(values: Any, scale: Any) -> Any:
        a = values[0]
        b = values[1]
        c = values[2]
        d = values[3]
        print(d)  # read by a call: left an object
        return a * 0.5 + (b - 1) + c * scale + d

    found = {name: kind for name, kind in guesses_of(mixed).items() if name.startswith("BINARY_SUBSCR")}
    assert found == {"BINARY_SUBSCR a": Type.FLOAT, "BINARY_SUBSCR b": Type.INT, "BINARY_SUBSCR c": Type.UNKNOWN}


def test_builtins_that_compute_unboxed_read_as_arithmetic() -> None:
    def pivot(values: Any) -> Any:
        a = values[0]
        b = values[1]
        c = values[2]
        return abs(a) > max(b, 0.5) and math.sin(c) > 0

    found = {name: kind for name, kind in guesses_of(pivot).items() if name.startswith("BINARY_SUBSCR")}
    assert found == {"BINARY_SUBSCR a": Type.UNKNOWN, "BINARY_SUBSCR b": Type.FLOAT}  # math.sin boxes c again


def test_operations_that_are_not_a_numbers_are_not_bet_on() -> None:
    def text(values: Any) -> Any:
        a = values[0]
        b = values[1]
        c = values[2]
        return (a + "!", "%d" % b, c is None)  # noqa: UP031 - the operator under test

    assert guesses_of(text) == {}


def test_a_range_counter_and_a_global_hint_an_int() -> None:
    def counted(values: Any, n: Any) -> Any:
        total = 0
        for i in range(n):
            total += values[i] * i
        return total

    assert set(guesses_of(counted).values()) == {Type.INT}


def test_a_site_learns_the_number_it_saw_once_then_gives_up() -> None:
    made = {1: Type.FLOAT, 2: Type.INT, 3: Type.FLOAT, 4: Type.INT}
    learned: dict[int, Type] = {}
    lost: set[int] = set()
    # Site 1 lost to an int in the specialized tier; the generic tier then saw ints at site 3, and at site 2 ints
    # (its bet: nothing to learn); site 4 saw an int and a float.
    bets.learn(made, learned, lost, {1: OBSERVED_INT | OBSERVED_LOST, 2: OBSERVED_INT, 3: OBSERVED_INT,
                                     4: OBSERVED_INT | OBSERVED_FLOAT})
    assert learned == {1: Type.INT, 3: Type.INT, 4: Type.OBJECT}
    made.update(learned)
    bets.learn(made, learned, lost, {1: OBSERVED_FLOAT | OBSERVED_LOST})  # lost twice: no more bets there
    assert learned[1] is Type.OBJECT
    bets.learn(made, learned, lost, {2: OBSERVED_INT | OBSERVED_LOST})  # an int too big for int64: what it bet
    assert learned[2] is Type.OBJECT
    fresh: dict[int, Type] = {}
    bets.learn({5: Type.FLOAT}, fresh, set(), {5: OBSERVED_OTHER | OBSERVED_LOST})  # a str, say
    assert fresh == {5: Type.OBJECT}
    assert not bets.lost(Type.FLOAT, OBSERVED_FLOAT) and bets.lost(Type.FLOAT, OBSERVED_FLOAT | OBSERVED_LOST)


def test_a_lost_bet_compiles_the_function_again_at_the_next_call() -> None:
    fast = fresh(bet_cases.items)
    assert fast([1.5, 2]) == bet_cases.items([1.5, 2])  # a float times 2.0, an int divided by 4: both bets won
    dispatcher = compiler.dispatcher_of(fast)
    (spec,) = dispatcher.specializations.values()
    assert any(op.opcode is Opcode.UNBOX for op in spec.function.ops)
    deopts, compiles = jit.stats()["deoptimizations"], jit.stats()["compiles"]
    assert fast([3, 8]) == bet_cases.items([3, 8])  # ints where floats were bet: the generic tier's result
    assert jit.stats()["deoptimizations"] == deopts + 1 and spec.bets_lost()
    assert fast([5, 4]) == bet_cases.items([5, 4])  # compiled again, betting on ints
    assert jit.stats()["compiles"] == compiles + 1
    (again,) = dispatcher.specializations.values()
    assert again is not spec and set(again.bets.values()) == {Type.INT}
    for _ in range(10):
        assert fast([7, 9]) == bet_cases.items([7, 9])
    assert jit.stats()["deoptimizations"] == deopts + 1  # won from then on


def test_recompiling_for_lost_bets_is_bounded() -> None:
    def churn(values: Any, k: Any) -> Any:
        return values[0] - values[1] * 2 + values[2] * 0.5 + k

    fast = fresh(churn)
    kinds = [[1.5, 2.5, 3.5], [1, 2, 3], [True, False, True], [2**70, 1, 2], [Fraction(1, 3)] * 3]
    for round_ in range(6):
        for values in kinds:
            assert outcome(fast, (values, round_)) == outcome(churn, (values, round_))
    dispatcher = compiler.dispatcher_of(fast)
    assert dispatcher.rebets <= compiler.MAX_REBETS
    compiles = jit.stats()["compiles"]
    for values in kinds * 3:
        fast(values, 1)
    assert jit.stats()["compiles"] == compiles  # settled: nothing compiled again


@pytest.mark.parametrize("name", sorted(bet_cases.SEQUENCES))
def test_a_sequence_of_calls_gives_the_interpreters_results(name: str) -> None:
    func = getattr(bet_cases, name)
    fast = fresh(func)
    for args in bet_cases.SEQUENCES[name]:
        assert outcome(fast, copy.deepcopy(args)) == outcome(func, copy.deepcopy(args))
        assert fast.__jit_dispatcher__.refusal is None


def test_the_object_a_lost_bet_saw_is_released_once() -> None:
    text, number = "".join(["t", "ext"]), 10**30
    values = [text, number]
    before = sys.getrefcount(text), sys.getrefcount(number)
    for _ in range(50):  # a new dispatcher each time: every call loses its first bet
        fast = fresh(bet_cases.item_plus_one)
        with pytest.raises(TypeError):
            fast(values)
        fast = fresh(bet_cases.loop_sum)
        with pytest.raises(TypeError):
            fast([1.0, text])
        fast = fresh(bet_cases.powers)
        assert fast([2.0, number]) == bet_cases.powers([2.0, number])
    assert (sys.getrefcount(text), sys.getrefcount(number)) == before


NUMBERS = st.one_of(st.floats(width=32), st.integers(-(2**70), 2**70), st.booleans(),
                    st.sampled_from([2**63 - 1, -(2**63), 2**31, -0.0, float("inf"), float("nan")]))
VALUES = st.one_of(NUMBERS, NUMBERS, st.none(), st.text(max_size=2), st.builds(bet_cases.Int, st.integers(-5, 5)),
                   st.builds(bet_cases.Float, st.floats(-5, 5)), st.fractions(max_denominator=5),
                   st.decimals(allow_nan=False, places=1), st.complex_numbers(max_magnitude=4, allow_nan=False))
COMPILED = {func.__name__: fresh(func) for func in bet_cases.FUNCTIONS}


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(bet_cases.FUNCTIONS), st.lists(VALUES, min_size=2, max_size=4),
       st.lists(st.tuples(VALUES, VALUES), min_size=1, max_size=3))
def test_any_values_give_the_interpreters_results(func: Any, values: list[Any],
                                                  pairs: list[tuple[Any, Any]]) -> None:
    if func is bet_cases.attributes:
        args: tuple[Any, ...] = bet_cases.point_pair(values[0], values[1])
    elif func is bet_cases.unpacked:
        args = (pairs,)
    else:
        args = (values,)
    assert outcome(COMPILED[func.__name__], copy.deepcopy(args)) == outcome(func, copy.deepcopy(args))


def test_unbox_is_declared_once_with_its_stencils() -> None:
    assert ops.lookup(ir.Opcode.UNBOX).stencils["missed"] == "NOTE_TYPE"
    assert "NOTE_TYPE" in ops.all_stencils()


def test_explain_shows_the_bets_and_the_losses() -> None:
    fast = fresh(bet_cases.items)
    fast([1.5, 2])
    assert "bets on the types of 2 objects (1 float, 1 int; jit/optimizer/bets.py): 0 lost" in jit.explain(fast)
    fast([1, 2])
    assert "1 lost, compiled again at the next call" in jit.explain(fast)


def test_code_that_keeps_deoptimizing_after_its_bets_bets_no_more() -> None:
    def hashed(values: Any) -> Any:
        h = values[0]
        return h * 31 + 7  # an int64 bet whose product overflows: a deoptimization at every call

    fast = fresh(hashed)
    dispatcher = compiler.dispatcher_of(fast)
    big = [2**62 - 1]
    for _ in range(compiler.DEOPTS_WHILE_BETTING + 2):
        assert fast(big) == hashed(big)
    (spec,) = dispatcher.specializations.values()
    assert spec.bets == {}  # compiled again without bets: the object tier's arithmetic, no deoptimization
    deopts = jit.stats()["deoptimizations"]
    for _ in range(10):
        assert fast(big) == hashed(big)
    assert jit.stats()["deoptimizations"] == deopts


WARM_UPS = st.sampled_from([[1.5, 2.5, 0.5], [1, 2, 3], [True, 2, 3.5]])


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(bet_cases.FUNCTIONS), WARM_UPS, st.integers(0, 2),
       st.lists(st.lists(VALUES, min_size=2, max_size=4), min_size=1, max_size=3))
def test_bets_made_on_one_kind_of_value_then_lost_give_the_interpreters_results(
        func: Any, warm_up: list[Any], warm_calls: int, calls: list[list[Any]]) -> None:
    fast = fresh(func)  # its own dispatcher: bets made on the warm-up's types, then lost to the values drawn
    for values in [warm_up] * warm_calls + calls:
        if func is bet_cases.attributes:
            args: tuple[Any, ...] = bet_cases.point_pair(values[0], values[1])
        elif func is bet_cases.unpacked:
            args = ([(value, values[0]) for value in values],)
        else:
            args = (values,)
        assert outcome(fast, copy.deepcopy(args)) == outcome(func, copy.deepcopy(args))
