"""Reference counts are exact: a million calls of compiled code leak nothing and free nothing twice.

Each path is called a million times: the specialized tier (unboxed values, boxed result), the generic tier
(PyObject* through the C API), a guard failing on every call (deoptimization boxes the live values), an exception
raised on every call (from a stencil, from the generic tier, from a boxed C call, through a compiled callee), and
compiled-to-compiled calls.  Afterwards the reference counts of the argument and result objects are unchanged, the
interpreter's count of allocated memory blocks is flat, and the resident set did not grow beyond noise.
"""

from __future__ import annotations

import functools
import gc
import math
import resource
import sys
import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from refcounting import call_many, frozen_heap  # noqa: F401 - frozen_heap: an autouse fixture

import jit

CALLS = 1_000_000
BLOCK_NOISE = 2_000  # allocated blocks that may come and go around the loop (a leak per call is a million)
RSS_NOISE_KIB = 16 * 1024  # a leaked float per call would be 24 MiB

HUGE = 2**70  # a constant the generic tier returns by reference


def add_floats(x: Any, y: Any) -> Any:
    return x * y + 3.5


def add_one(x: Any) -> Any:
    return x + 1


def compare(x: Any, y: Any) -> Any:
    return x < y


def larger(x: Any, y: Any) -> Any:
    return max(x, y)


def return_huge(x: Any) -> Any:
    return x + 1 if x < 0 else HUGE


def generic_mix(x: Any, y: Any) -> Any:
    z = x
    if y:
        z = 1.5
    for i in range(3):
        z = z + i
    return z + x


def overflows(x: Any, y: Any) -> Any:
    return x * y + 1


def loop_overflows(n: Any, x: Any) -> Any:
    flag = x > 0
    half = x * 0.5
    total = 0
    for _ in range(n):
        total += 4611686018427387904  # 2**62: the second addition overflows
        flag = not flag
    return total if flag else half


def divide(x: Any, y: Any) -> Any:
    return x // y


def float_modulo(x: Any, y: Any) -> Any:
    return x % y


def root(x: Any) -> Any:
    return math.sqrt(x)


def floor(x: Any) -> Any:
    return math.floor(x)


def generic_raise(x: Any, y: Any) -> Any:
    z = x
    if y:
        z = 2.5
    return z / y


def inner(x: Any) -> Any:
    return 10 // x


def outer(x: Any) -> Any:
    return inner(x) + inner(x + 1)


def square(x: Any) -> Any:
    return x * x


def sum_of_squares(x: Any) -> Any:
    return square(x) + square(x + 1.5)


def objects_in_a_loop(n: Any) -> Any:
    total = HUGE  # an object in the specialized tier: every addition on objects
    for i in range(n % 8):  # n itself is no cached small int: its count is this test's alone
        total += i
    return total


def int_then_float(n: Any) -> Any:
    s = 0
    for i in range(n % 8):
        s += i * 0.5
    return s


def none_then_value(x: Any) -> Any:
    best = None
    for i in range(3):
        if best is None or x * i > best:
            best = x * i
    return best


def object_live_at_deopt(x: Any, y: Any) -> Any:
    big = HUGE + x  # an object, live across the overflowing product
    product = x * y
    return product + big


def object_raises(x: Any) -> Any:
    value = None
    if x > 0:
        value = HUGE
    return value + x  # None + int: TypeError from the specialized tier's object code


def shifts(x: Any, y: Any) -> Any:
    return (x << y) ^ (x >> 1) | ~x


def concatenate(a: Any, b: Any) -> Any:
    return a + b


def returns_argument(a: Any, n: Any) -> Any:
    if n > 0:
        return a  # an object parameter returned: its reference moves to the caller
    return None


def object_argument_raises(a: Any) -> Any:
    return a + 1  # str + int: TypeError, the argument released on the way out


@dataclass(frozen=True)
class Path:
    name: str
    func: Callable[..., Any]
    args: tuple[object, ...]
    raises: type[BaseException] | None = None

    def __str__(self) -> str:
        return self.name


# Arguments are made at run time so that they are fresh objects whose counts only these calls touch.
PATHS = [
    Path("specialized-float", add_floats, (2.5, float("1.25"))),
    Path("specialized-int", add_one, (int("1000007"),)),
    Path("specialized-bool-result", compare, (int("1000007"), float("2.5"))),
    Path("specialized-returns-argument", larger, (float("2.5"), float("7.5"))),
    Path("generic-constant-result", return_huge, (int("1000007"),)),
    Path("generic-mix", generic_mix, (int("1000007"), True)),
    Path("generic-big-int-arguments", add_one, (int("1" + "0" * 30),)),
    Path("deopt-every-call", overflows, (int("4611686018427387904"), int("1000007"))),
    Path("deopt-mid-loop", loop_overflows, (int("5"), float("3.5"))),
    Path("raise-zero-division-specialized", divide, (int("1000007"), int("0")), ZeroDivisionError),
    Path("raise-from-float-stencil", float_modulo, (float("2.5"), float("0.0")), ZeroDivisionError),
    Path("raise-sqrt-domain", root, (float("-2.5"),), ValueError),
    Path("raise-from-boxed-call", floor, (float("nan"),), ValueError),
    Path("raise-generic", generic_raise, (int("1000007"), False), ZeroDivisionError),
    Path("raise-through-compiled-callee", outer, (int("-1"),), ZeroDivisionError),
    Path("compiled-calls-compiled", sum_of_squares, (float("2.5"),)),
    Path("objects-in-the-specialized-tier", objects_in_a_loop, (int("1000007"),)),
    Path("versions-int-then-float", int_then_float, (int("1000007"),)),
    Path("none-then-value", none_then_value, (float("2.5"),)),
    Path("deopt-with-an-object-live", object_live_at_deopt, (int("4611686018427387904"), int("1000007"))),
    Path("raise-from-object-code", object_raises, (int("-1000007"),), TypeError),
    Path("shift-past-int64-deopts", shifts, (int("1000007"), int("60"))),
    Path("object-arguments", concatenate, ("".join(["a", "b"]), "".join(["c", "d"]))),
    Path("object-argument-returned", returns_argument, ([1, 2], int("1000007"))),
    Path("object-argument-raises", object_argument_raises, ("".join(["a", "b"]),), TypeError),
]


def rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_a_million_calls_leak_nothing(path: Path) -> None:
    fast: Any = jit.compile(path.func)
    call_many(fast, path.args, path.raises, 1000)  # compile, fill caches
    assert fast.__jit_dispatcher__.fallbacks == {}, fast.__jit_dispatcher__.fallbacks
    gc.collect()
    counts = [sys.getrefcount(a) for a in path.args]
    constant = sys.getrefcount(HUGE)  # a constant the code holds: loaded as an object, returned, added to
    blocks = sys.getallocatedblocks()
    rss = rss_kib()
    call_many(fast, path.args, path.raises, CALLS)
    gc.collect()
    assert [sys.getrefcount(a) for a in path.args] == counts
    assert sys.getrefcount(HUGE) == constant
    grown = sys.getallocatedblocks() - blocks
    assert abs(grown) < BLOCK_NOISE, f"{grown} memory blocks more after {CALLS} calls"
    assert rss_kib() - rss < RSS_NOISE_KIB
    assert jit.stats()["frame_slots_in_use"] == 0


@pytest.mark.parametrize("path", [p for p in PATHS if p.raises is None], ids=str)
def test_results_are_owned_by_the_caller_alone(path: Path) -> None:
    fast: Any = jit.compile(path.func)
    expected = path.func(*path.args)
    result = fast(*path.args)
    assert type(result) is type(expected) and result == expected
    if result is HUGE or any(result is a for a in path.args) or type(result) is bool:
        # A shared object: its count is back where it was once the result is dropped.
        before = sys.getrefcount(result)
        for _ in range(1000):
            fast(*path.args)
        assert sys.getrefcount(result) == before
    else:
        assert sys.getrefcount(result) == 2  # the local name and getrefcount's argument


def test_shared_singletons_keep_their_counts() -> None:
    fast: Any = jit.compile(compare)
    true_count, false_count = sys.getrefcount(True), sys.getrefcount(False)
    for _ in range(CALLS // 10):
        fast(1, 2.5)
        fast(3, 2.5)
    # Nothing else runs meanwhile; a reference leaked or lost per call would show as 100000.
    assert abs(sys.getrefcount(True) - true_count) < 100
    assert abs(sys.getrefcount(False) - false_count) < 100


def assert_calls_leak_nothing(run: Callable[[int], None], objects: list[object], count: int) -> None:
    """``run(n)`` makes n calls: the objects' counts and the heap's blocks are the same after ``count`` more."""
    run(1000)  # compile, record fallbacks, fill caches
    gc.collect()
    counts = [sys.getrefcount(o) for o in objects]
    blocks = sys.getallocatedblocks()
    run(count)
    gc.collect()
    assert [sys.getrefcount(o) for o in objects] == counts
    assert abs(sys.getallocatedblocks() - blocks) < BLOCK_NOISE
    assert jit.stats()["frame_slots_in_use"] == 0


def keyword_default(x: Any, y: Any = 1.25) -> Any:
    return x + y


def not_compiled(x: Any, y: Any = 1.25) -> Any:
    return [x, y][0]  # a list display: the function runs in the interpreter


def interpreted_raise(x: Any, y: Any) -> Any:
    return x / y


# Calls that ENTRY binds (keywords, defaults), that the slow path binds (a keyword name made at run time), that
# the machine code hands to the original function (argument types that fell back, CALL_ORIGINAL; a function
# that cannot compile, FORWARD), raising or not.
HANDED_ON: list[tuple[str, Callable[..., Any], tuple[object, ...], dict[str, object], type[BaseException] | None]] = [
    ("entry-binds-keywords", keyword_default, (float("2.5"),), {"y": float("0.5")}, None),
    ("entry-binds-defaults", keyword_default, (float("2.5"),), {}, None),
    ("slow-path-binds", add_floats, (float("2.5"),), {"".join(["y"]): float("1.5")}, None),
    ("call-original", keyword_default, ("text", "more"), {}, None),
    ("call-original-raises", interpreted_raise, ("text", "more"), {}, TypeError),
    ("forward", not_compiled, (float("2.5"),), {"y": float("0.5")}, None),
    ("forward-raises", not_compiled, (float("2.5"),), {"z": 1}, TypeError),
]


@pytest.mark.parametrize(("name", "func", "args", "kwargs", "raises"), HANDED_ON, ids=[h[0] for h in HANDED_ON])
def test_calls_bound_or_handed_on_leak_nothing(name: str, func: Callable[..., Any], args: tuple[object, ...],
                                               kwargs: dict[str, object], raises: type[BaseException] | None) -> None:
    fast: Any = jit.compile(func)
    call = functools.partial(fast, *args, **kwargs)

    def run(count: int) -> None:
        call_many(call, (), raises, count)

    assert_calls_leak_nothing(run, [*args, *kwargs.values()], CALLS // 10)


def compile_call_and_drop() -> tuple[weakref.ref[Any], weakref.ref[Any]]:
    """Compile a fresh function object (same source), call it, drop both: weak references to them."""
    copy = types.FunctionType(add_floats.__code__, add_floats.__globals__, add_floats.__name__)
    fast: Any = jit.compile(copy)
    assert fast(1.5, 2.5) == add_floats(1.5, 2.5)
    assert fast.__jit_dispatcher__.specializations
    return weakref.ref(copy), weakref.ref(fast)


def test_dropped_compiled_functions_are_freed() -> None:
    # Functions made at run time (closures of a factory, exec'd code) come and go: their machine code, dispatcher
    # and the function itself must go with them.
    references = [compile_call_and_drop() for _ in range(20)]
    gc.collect()
    assert [r() for pair in references for r in pair] == [None] * 40, "compiled functions are kept alive"
    blocks = sys.getallocatedblocks()
    for _ in range(300):
        compile_call_and_drop()
    gc.collect()
    grown = sys.getallocatedblocks() - blocks
    assert grown < BLOCK_NOISE, f"{grown} memory blocks more after 300 compiled functions were dropped"
