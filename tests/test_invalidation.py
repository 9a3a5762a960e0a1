"""What compiled code assumed about functions is checked as the interpreter would see it: code and defaults."""

from __future__ import annotations

import ctypes
import gc
import linecache
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_differential import outcome

import jit
from jit import compiler
from jit.backend import layout
from jit.backend.emitter import default_arena


@pytest.fixture
def restore() -> Iterator[Callable[[object, str], None]]:
    """restore(obj, name): put obj.name back as it is now when the test ends."""
    saved: list[tuple[object, str, object]] = []
    yield lambda obj, name: saved.append((obj, name, getattr(obj, name)))
    for obj, name, value in reversed(saved):
        setattr(obj, name, value)


def add(x: Any, y: Any = 1) -> Any:
    return x + y


def double(x: Any) -> Any:
    return x * 2


def triple(x: Any) -> Any:
    return x * 3


def test_changed_defaults_are_used(restore: Any) -> None:
    restore(add, "__defaults__")
    fast: Any = jit.compile(add)
    assert fast(1) == add(1) == 2
    assert fast(1, 2) == 3
    add.__defaults__ = (5,)
    assert fast(1) == add(1) == 6
    assert fast(1, 2) == 3
    add.__defaults__ = None
    assert not fast.__jit_dispatcher__.fallbacks
    for func in (add, fast):
        try:
            func(1)
        except TypeError as error:
            message = str(error)
        else:
            raise AssertionError("no TypeError")
        assert message == "add() missing 1 required positional argument: 'y'"


def test_replaced_code_runs(restore: Any) -> None:
    restore(double, "__code__")
    fast: Any = jit.compile(double)
    assert fast(5) == 10
    double.__code__ = triple.__code__
    assert fast(5) == double(5) == 15
    assert fast(2.5) == 7.5


def add_three(x: Any, y: Any, z: Any) -> Any:
    return x + y + z


def test_replaced_code_with_more_parameters_than_the_defaults_fill(restore: Any) -> None:
    # f(1) leaves out a default: with the new code's three parameters and one default, the interpreter's
    # TypeError, not a call with the old binding's arguments filled in.
    restore(add, "__code__")
    fast: Any = jit.compile(add)
    assert fast(1) == add(1) == 2
    add.__code__ = add_three.__code__
    messages = []
    for func in (add, fast):
        try:
            func(1)
        except TypeError as error:
            messages.append(str(error))
        else:
            raise AssertionError("no TypeError")
    assert messages[0] == messages[1]
    assert "missing 1 required positional argument: 'y'" in messages[0]
    assert fast(1, 2) == add(1, 2) == 4


def caller(x: Any) -> Any:
    return double(x) + 1


def test_replaced_code_of_a_directly_called_callee_runs(restore: Any) -> None:
    restore(double, "__code__")
    fast: Any = jit.compile(caller)
    assert fast(5) == 11
    assert fast.__jit_dispatcher__.specializations  # int -> int: double is called directly, unboxed
    double.__code__ = triple.__code__
    assert fast(5) == caller(5) == 16


def keyword_defaults(x: Any, *, k: Any = 1) -> Any:
    return x + k


def test_changed_keyword_defaults_are_used(restore: Any) -> None:
    restore(keyword_defaults, "__kwdefaults__")
    fast: Any = jit.compile(keyword_defaults)
    assert fast(1) == 2
    keyword_defaults.__kwdefaults__ = {"k": 10}
    assert fast(1) == keyword_defaults(1) == 11


SCALE = 1


def scaled(x: Any) -> Any:
    return x * SCALE


def test_a_data_global_rebound_again_and_again_is_read_at_run_time_and_memory_stays_flat() -> None:
    fast: Any = jit.compile(scaled)
    dispatcher = fast.__jit_dispatcher__
    mapped: list[int] = []
    namespace = globals()  # the module's globals, as another module or a signal handler would rebind them
    try:
        for i in range(20_000):
            namespace["SCALE"] = i % 5 + 1
            assert fast(3) == scaled(3)
            if i % 5000 == 4999:
                mapped.append(default_arena().bytes_mapped)
    finally:
        namespace["SCALE"] = 1
    # SCALE, an int, is data: the code reads it when it runs, so a rebinding compiles nothing.
    assert dispatcher.refusal is None and dispatcher.invalidations == 0
    assert dispatcher.specializations and dispatcher.fallbacks == {}
    assert len(dispatcher.codes) <= 3  # no dispatcher per call
    assert mapped[1:] == mapped[:-1], mapped  # executable memory reached its plateau


def rebound_reader(x: Any) -> Any:
    total = 0
    for i in range(x):
        total += i * SCALE
    return total


def test_a_global_read_at_run_time_has_the_interpreters_values_and_errors() -> None:
    fast: Any = jit.compile(rebound_reader)
    namespace = globals()
    try:
        for value in (2, 3, 4, 2.5, 2**70, True, "ab", None):  # the bet on its type fails: deoptimizations
            namespace["SCALE"] = value
            assert outcome(fast, (4,)) == outcome(rebound_reader, (4,)), value
        del namespace["SCALE"]
        assert outcome(fast, (4,)) == outcome(rebound_reader, (4,))  # NameError: name 'SCALE' is not defined
    finally:
        namespace["SCALE"] = 1
    assert fast.__jit_dispatcher__.invalidations == 0
    assert fast.__jit_dispatcher__.refusal is None


def first_helper(x: Any) -> Any:
    return x + 1


def second_helper(x: Any) -> Any:
    return x + 2


HELPER = first_helper


def calls_helper(x: Any) -> Any:
    return HELPER(x)


def test_a_function_global_rebound_again_and_again_is_read_at_run_time() -> None:
    # A function is a definition: folded (a direct call), guarded; rebound twice, it is read when the code runs.
    fast: Any = jit.compile(calls_helper)
    dispatcher = fast.__jit_dispatcher__
    namespace = globals()
    try:
        for i in range(100):
            namespace["HELPER"] = (first_helper, second_helper)[i % 2]
            assert fast(i) == calls_helper(i)
    finally:
        namespace["HELPER"] = first_helper
    assert dispatcher.refusal is None and dispatcher.read_globals == {"HELPER"}
    assert dispatcher.invalidations == compiler.REBINDS_BEFORE_READ
    assert len(dispatcher.codes) <= 3 * (compiler.REBINDS_BEFORE_READ + 1)


CHURN_SOURCE = "def f{i}(x, y):\n    s = 0\n    for k in range(x):\n        s += k * y + {i}\n    return s\n"


def compile_and_free(round_: int, count: int) -> None:
    for i in range(count):
        name = f"<churn {round_} {i}>"
        text = CHURN_SOURCE.format(i=i)
        linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        namespace: dict[str, Any] = {}
        exec(compile(text, name, "exec"), namespace)
        plain = namespace[f"f{i}"]
        assert jit.compile(plain)(10, 2) == plain(10, 2)
        del linecache.cache[name]
    gc.collect()


@pytest.mark.slow
def test_rounds_of_compiling_and_freeing_functions_reach_a_plateau() -> None:
    arena = default_arena()
    blocks, mapped = [], []
    for round_ in range(5):
        compile_and_free(round_, 1000)
        blocks.append(sys.getallocatedblocks())
        mapped.append(arena.bytes_mapped)
    # After two rounds of warming up (caches, patch routines), the rounds leave the heap and the executable
    # memory where they found them.
    assert max(blocks[2:]) - min(blocks[2:]) < 0.02 * blocks[2], blocks
    assert len(set(mapped[2:])) == 1, mapped


def test_the_layout_probes_find_one_word_each() -> None:
    def probe(a: Any = 1) -> Any:
        return a

    for name in ("__code__", "__defaults__", "__kwdefaults__"):
        offset = layout.function_field_offset(name)
        value = getattr(probe, name)
        assert ctypes.c_void_p.from_address(id(probe) + offset).value == (None if value is None else id(value))
    items = layout.tuple_items_offset()
    pair = (probe, layout)
    assert ctypes.c_void_p.from_address(id(pair) + items).value == id(probe)
    assert ctypes.c_void_p.from_address(id(pair) + items + ctypes.sizeof(ctypes.c_void_p)).value == id(layout)


# --- globals rebound while compiled code runs: seen at the next read, as the interpreter sees them ---------------

STOP = False
LIMIT = 10


def spin_until_stopped() -> Any:
    spins = 0
    while not STOP:
        spins += 1
    return spins > 0


def lower_the_limit() -> None:
    global LIMIT  # noqa: PLW0603 - the rebinding under test
    LIMIT = 3


def loop_whose_callee_rebinds_its_bound() -> Any:
    total = i = 0
    while i < LIMIT:
        if i == 1:
            lower_the_limit()
        total += i
        i += 1
    return total


def test_a_callee_that_rebinds_a_global_is_seen_at_the_next_read() -> None:
    namespace = globals()
    try:
        expected = loop_whose_callee_rebinds_its_bound()
        namespace["LIMIT"] = 10
        fast: Any = jit.compile(loop_whose_callee_rebinds_its_bound, strict=True)
        assert fast() == expected == 3
    finally:
        namespace["LIMIT"] = 10


def test_a_loop_ends_when_another_thread_sets_its_global() -> None:
    namespace = globals()
    fast: Any = jit.compile(spin_until_stopped, strict=True)
    namespace["STOP"] = True
    assert fast() is False  # compiled, with STOP true: it returns at once
    namespace["STOP"] = False
    stopper = threading.Timer(0.2, namespace.__setitem__, ("STOP", True))
    stopper.start()
    try:
        result: list[Any] = []
        runner = threading.Thread(target=lambda: result.append(fast()), daemon=True)
        runner.start()
        runner.join(30)
        assert not runner.is_alive(), "the compiled loop did not see STOP rebound by another thread"
        assert result == [True]
    finally:
        stopper.cancel()
        namespace["STOP"] = True
