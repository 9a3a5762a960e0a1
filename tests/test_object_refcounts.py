"""Reference counts stay exact on the object tier's paths, over many calls.

Each path is a compiled function called on fresh objects: attribute loads and stores, subscripts, displays, calls
with keywords, ``*args`` and ``**kwargs``, method calls, ``for`` over a list, unpacking, comprehensions,
f-strings, globals, closures, and exceptions raised in compiled code and caught by the caller.  After the calls
the reference counts of the objects passed in (and of what they hold) are what they were, the interpreter's count
of allocated memory blocks is flat, and no frame slot is left in use.  The default run makes CALLS calls per
path; the ``slow`` run a million.
"""

# ruff: noqa: B007, C400, C416, C420, F841, PIE800, PIE804, PLW0603, RUF059, UP031
# (the constructs under test, written as the interpreter must run them, not as a linter would rewrite them)

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from refcounting import call_many, frozen_heap  # noqa: F401 - frozen_heap: an autouse fixture

import jit

CALLS = 20_000
MANY_CALLS = 1_000_000
BLOCK_NOISE = 2_000  # allocated blocks that may come and go around the loop (a leak per call is one per call)


class Holder:
    def __init__(self, value: Any) -> None:
        self.value = value
        self.other: Any = None

    def method(self, x: Any, scale: Any = 1) -> Any:
        return x


def keywords_target(a: Any, b: Any = None, c: Any = None) -> Any:
    return c


def variadic(*args: Any, **kwargs: Any) -> Any:
    return args[0] if args else None


def load_attribute(holder: Any, unused: Any) -> Any:
    return holder.value


def store_attribute(holder: Any, value: Any) -> Any:
    holder.other = value
    holder.other = holder.value  # the previous value released
    return None


def delete_and_restore_attribute(holder: Any, value: Any) -> Any:
    holder.extra = value
    del holder.extra


def augment_attribute(holder: Any, value: Any) -> Any:
    holder.value += value  # a list grown in place and stored back
    del holder.value[1:]
    holder.other = (holder.value,)
    holder.other += (value,)  # a tuple made anew, the old one released
    holder.other = None


def subscripts(items: Any, key: Any) -> Any:
    items[0] = key
    first = items[0]
    for i in range(2):  # an index held as an int64
        items[i - 1] = key
        first = items[i]
    items[1:2] = [first]
    part = items[::2]
    del items[-1]
    items.append(key)
    return part


def dict_subscripts(mapping: Any, key: Any) -> Any:
    mapping[key] = mapping.get(key, 0)
    value = mapping[key]
    del mapping[key]
    mapping[key] = value
    return value


def displays(a: Any, b: Any) -> Any:
    return [a, b, (a, b), {a: b}, {a}, [*b, a], (*b,), {**{a: b}, "k": a}]


def calls_with_keywords(a: Any, b: Any) -> Any:
    return keywords_target(a, c=b), sorted(b, key=len, reverse=True), Holder(value=a)


def calls_with_star(a: Any, b: Any) -> Any:
    return variadic(*b), variadic(a, *b, a), variadic(**{"k": a}), variadic(*b, **{"k": a}), max(*b, key=len)


def method_calls(holder: Any, b: Any) -> Any:
    return holder.method(b), holder.method(b, scale=2), b.count(holder), "-".join(b)


def methods_looked_up_first(holder: Any, b: Any) -> Any:
    """Arguments that run code: the method is looked up first (unbound: self kept; bound: an instance's own
    callable, a class's function), then called (LOAD_METHOD, CALL_LOADED)."""
    holder.other = keywords_target
    return (holder.method(len(b)), holder.method(b[0], scale=len(b)), b.count(b[0]), holder.other(b[1], c=b[0]),
            type(holder).method(holder, b[1]), "-".join(list(b)))


def raises_in_a_method_argument(holder: Any, a: Any) -> Any:
    return holder.method(a[5])


def for_over_a_list(items: Any, unused: Any) -> Any:
    last = None
    for item in items:
        if item is None:
            continue
        last = item
    last = [last]
    for item in items:
        break
    return last


def unpacking(items: Any, pair: Any) -> Any:
    first, *rest = items
    a, b = pair
    (c, d), e = pair, first
    for _ in range(2):  # the second time, each target already holds its item
        a, b = items
    b, b = pair  # noqa: PLW0128 - a target named twice
    return rest, a, c, e, b


def comprehensions(items: Any, key: Any) -> Any:
    return [x for x in items if x], {x for x in items}, {x: key for x in items}, [[y for y in x] for x in items]


def formatting(text: Any, number: Any) -> Any:
    return f"{text}-{number!r}:{number:>10}|{text!a}", "%s/%s" % (text, number), text + str(number)


def membership(items: Any, key: Any) -> Any:
    return key in items, key not in items, items is key


GLOBAL_SLOT: Any = None


def store_global(value: Any, unused: Any) -> Any:
    global GLOBAL_SLOT
    GLOBAL_SLOT = value
    GLOBAL_SLOT = None


def closure_factory(start: Any) -> Callable[[Any, Any], Any]:
    cell = start

    def use(value: Any, unused: Any) -> Any:
        nonlocal cell
        previous = cell
        cell = value
        cell = previous
        return [cell]

    return use


def raises_value_error(value: Any, unused: Any) -> Any:
    raise ValueError(value, [value])


def raises_attribute_error(holder: Any, unused: Any) -> Any:
    return holder.missing


def raises_key_error(mapping: Any, key: Any) -> Any:
    return mapping[(key, "absent")]


def raises_from(value: Any, cause: Any) -> Any:
    raise KeyError(value) from cause


def raises_from_none(value: Any, unused: Any) -> Any:
    raise KeyError(value) from None


def raises_in_unpacking(items: Any, unused: Any) -> Any:
    a, b = items
    return a


def raises_in_a_call(a: Any, b: Any) -> Any:
    return keywords_target(a, d=b)  # type: ignore[call-arg]


def raises_in_a_comprehension(items: Any, unused: Any) -> Any:
    return [10 // x for x in items]


def raises_in_a_loop(items: Any, divisor: Any) -> Any:
    total = []
    for item in items:
        total.append(item // divisor)
    return total


def raises_mid_display(a: Any, bad: Any) -> Any:
    return [a, [a, *bad], a]  # the partly built lists released


def raises_in_dict_update(a: Any, bad: Any) -> Any:
    return {"k": a, **bad}


def raises_in_call_ex(a: Any, bad: Any) -> Any:
    return variadic(a, *[a], **bad)


def raises_in_f_string(a: Any, spec: Any) -> Any:
    return f"{a}{a!r}{a:{spec}}"


def raises_in_method_call(holder: Any, a: Any) -> Any:
    return holder.method(a, a, a, a)


def raises_in_store_attribute(target: Any, a: Any) -> Any:
    target.value = [a]


def raises_in_starred_unpacking(items: Any, unused: Any) -> Any:
    first, second, *rest = items
    return rest


def raises_in_nested_comprehension(rows: Any, unused: Any) -> Any:
    return [[10 // cell for cell in row] for row in rows]


def generator_expressions(items: Any, k: Any) -> Any:
    pairs = list((item, k) for item in items if item)
    return pairs, any(item is k for item in items), (item for item in items)


def raises_in_generator_expression(items: Any, unused: Any) -> Any:
    return sum(10 // item for item in items)


def maybe_unbound(items: Any, value: Any) -> Any:
    for item in items:
        if item is None:
            last = value
    try:
        return last
    except UnboundLocalError:
        return value


class Parent:
    def __init__(self, value: Any) -> None:
        self.value = value


class Child(Parent):
    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.copy = [value]


def construct_with_super(value: Any, unused: Any) -> Any:
    return Child(value)


@dataclass(frozen=True)
class Path:
    name: str
    func: Callable[..., Any]
    make_args: Callable[[], tuple[object, ...]]  # fresh objects: their counts are these calls' alone
    raises: type[BaseException] | None = None

    def __str__(self) -> str:
        return self.name


def fresh_text(tag: str) -> str:
    return "".join([tag, "-", "text"])  # not interned, not shared with the code's constants


def bets_on_items(items: Any, holder: Any) -> Any:
    # Bets on floats (a list's items, an attribute, a loop's values), won or lost and learned.
    total = items[0] * 2.0 + holder.value
    for item in items:
        total = total - item
    return total


def bets_lost_mid_loop(items: Any, unused: Any) -> Any:
    # Floats, then values of other types: the bet on the loop's values is lost in the middle of the loop, whose
    # rest runs in the generic tier (in the first calls: to an int, then, betting on ints, to a float).
    total = 0.0
    for item in items:
        total = total + item * 0.5
    return total


def returns_parameter(holder: Any, unused: Any) -> Any:
    return holder  # a borrowed parameter returned: the caller gets a reference of its own


def deopts_with_a_borrowed_parameter(holder: Any, n: Any) -> Any:
    total = n * n  # overflows int64: deoptimizes while holder is borrowed
    return (holder, total)


def raises_after_a_deopt(holder: Any, n: Any) -> Any:
    total = n * n  # deoptimizes, then the generic tier raises with holder its own
    return holder.missing + total


def assigns_parameter(holder: Any, other: Any) -> Any:
    holder = other  # assigned: owned from entry on, not borrowed
    return holder


PATHS = [
    Path("bets-won", bets_on_items, lambda: ([float(7) / 3, 1.5], Holder(float(5) / 3))),
    Path("bets-lost", bets_on_items, lambda: ([10**20, 3], Holder(2))),
    Path("bets-lost-mid-loop", bets_lost_mid_loop, lambda: ([float(7) / 3, 2, Fraction(1, 3), 2**70], None)),
    Path("load-attribute", load_attribute, lambda: (Holder([1]), None)),
    Path("borrowed-parameter-returned", returns_parameter, lambda: (Holder([1]), None)),
    Path("borrowed-parameter-deopt", deopts_with_a_borrowed_parameter, lambda: (Holder([1]), 2**40)),
    Path("borrowed-parameter-deopt-error-caught", raises_after_a_deopt, lambda: (Holder([1]), 2**40),
         AttributeError),
    Path("assigned-parameter", assigns_parameter, lambda: (Holder([1]), [fresh_text("b")])),
    Path("store-attribute", store_attribute, lambda: (Holder([1]), [2])),
    Path("delete-attribute", delete_and_restore_attribute, lambda: (Holder([1]), [2])),
    Path("augment-attribute", augment_attribute, lambda: (Holder([fresh_text("a")]), [fresh_text("b")])),
    Path("subscripts", subscripts, lambda: ([1, 2, 3], fresh_text("k"))),
    Path("dict-subscripts", dict_subscripts, lambda: ({}, fresh_text("k"))),
    Path("displays", displays, lambda: (fresh_text("a"), [fresh_text("b"), fresh_text("c")])),
    Path("calls-with-keywords", calls_with_keywords, lambda: (fresh_text("a"), [fresh_text("bb"), fresh_text("c")])),
    Path("calls-with-star", calls_with_star, lambda: (fresh_text("a"), [fresh_text("bb"), fresh_text("c")])),
    Path("method-calls", method_calls, lambda: (Holder(1), [fresh_text("b"), fresh_text("c")])),
    Path("methods-looked-up-first", methods_looked_up_first,
         lambda: (Holder(fresh_text("v")), [fresh_text("b"), fresh_text("c")])),
    Path("for-over-a-list", for_over_a_list, lambda: ([fresh_text("a"), None, fresh_text("b")], None)),
    Path("unpacking", unpacking, lambda: ([fresh_text("a"), fresh_text("b")], (fresh_text("c"), fresh_text("d")))),
    Path("comprehensions", comprehensions, lambda: ([fresh_text("a"), fresh_text("b")], fresh_text("k"))),
    Path("f-strings", formatting, lambda: (fresh_text("é"), 10**20 + 7)),
    Path("membership", membership, lambda: ([fresh_text("a")], fresh_text("b"))),
    Path("global", store_global, lambda: ([1], None)),
    Path("closure", closure_factory([0]), lambda: ([1], None)),
    Path("raise-caught", raises_value_error, lambda: (fresh_text("v"), None), ValueError),
    Path("attribute-error-caught", raises_attribute_error, lambda: (Holder(1), None), AttributeError),
    Path("key-error-caught", raises_key_error, lambda: ({}, fresh_text("k")), KeyError),
    Path("raise-from-caught", raises_from, lambda: (fresh_text("v"), ValueError(fresh_text("cause"))), KeyError),
    Path("raise-from-none-caught", raises_from_none, lambda: (fresh_text("v"), None), KeyError),
    Path("unpacking-error-caught", raises_in_unpacking, lambda: ([fresh_text("a")] * 3, None), ValueError),
    Path("call-error-caught", raises_in_a_call, lambda: (fresh_text("a"), fresh_text("b")), TypeError),
    Path("comprehension-error-caught", raises_in_a_comprehension, lambda: ([1, 0], None), ZeroDivisionError),
    Path("loop-error-caught", raises_in_a_loop, lambda: ([10**20, 10**21], 0), ZeroDivisionError),
    Path("display-error-caught", raises_mid_display, lambda: (fresh_text("a"), 5), TypeError),
    Path("dict-update-error-caught", raises_in_dict_update, lambda: (fresh_text("a"), [1]), TypeError),
    Path("call-ex-error-caught", raises_in_call_ex, lambda: (fresh_text("a"), [fresh_text("b")]), TypeError),
    Path("f-string-error-caught", raises_in_f_string, lambda: (fresh_text("a"), fresh_text("d")), ValueError),
    Path("method-call-error-caught", raises_in_method_call, lambda: (Holder(1), fresh_text("a")), TypeError),
    Path("method-argument-error-caught", raises_in_a_method_argument, lambda: (Holder(1), [fresh_text("a")]),
         IndexError),
    Path("store-attribute-error-caught", raises_in_store_attribute, lambda: ((fresh_text("t"),), fresh_text("a")),
         AttributeError),
    Path("starred-unpacking-error-caught", raises_in_starred_unpacking, lambda: ([fresh_text("a")], None),
         ValueError),
    Path("nested-comprehension-error-caught", raises_in_nested_comprehension, lambda: ([[1, 2], [3, 0]], None),
         ZeroDivisionError),
    Path("super-init", construct_with_super, lambda: ([fresh_text("a")], None)),
    Path("maybe-unbound", maybe_unbound, lambda: ([fresh_text("a"), None], fresh_text("v"))),
    Path("maybe-unbound-error-caught", maybe_unbound, lambda: ([fresh_text("a")], fresh_text("v"))),
    Path("generator-expressions", generator_expressions, lambda: ([fresh_text("a"), None], fresh_text("k"))),
    Path("generator-expression-error-caught", raises_in_generator_expression, lambda: ([1, 0], None),
         ZeroDivisionError),
]


def watched(args: tuple[object, ...]) -> list[object]:
    """The arguments and the objects they hold (a list's items, an instance's attributes)."""
    found: list[object] = []
    for argument in args:
        found.append(argument)
        if isinstance(argument, list | tuple):
            found.extend(argument)
        elif isinstance(argument, dict):
            found.extend(argument.values())
        elif isinstance(argument, Holder):
            found.extend(vars(argument).values())
    return found


def assert_path_leaks_nothing(path: Path, calls: int) -> None:
    if path.func is construct_with_super:  # the methods compiled too, for the time of the test
        compile_methods()
    fast: Any = jit.compile(path.func, strict=True)
    args = path.make_args()
    call_many(fast, args, path.raises, 100)  # compile, fill caches
    assert fast.__jit_dispatcher__.specializations and not fast.__jit_dispatcher__.fallbacks
    objects = watched(args)
    gc.collect()
    counts = [sys.getrefcount(o) for o in objects]
    blocks = sys.getallocatedblocks()
    call_many(fast, args, path.raises, calls)
    gc.collect()
    assert [sys.getrefcount(o) for o in objects] == counts, f"reference counts changed after {calls} calls"
    grown = sys.getallocatedblocks() - blocks
    assert abs(grown) < BLOCK_NOISE, f"{grown} memory blocks more after {calls} calls"
    assert jit.stats()["frame_slots_in_use"] == 0


COMPILED_METHODS: list[Any] = []


def compile_methods() -> None:
    if not COMPILED_METHODS:
        for cls in (Parent, Child):
            compiled = jit.compile(cls.__dict__["__init__"], strict=True)
            COMPILED_METHODS.append(compiled)
            setattr(cls, "__init__", compiled)  # noqa: B010 - assigning a method is what this does


@pytest.mark.parametrize("path", PATHS, ids=str)
def test_object_paths_leak_nothing(path: Path) -> None:
    assert_path_leaks_nothing(path, CALLS)


@pytest.mark.slow
@pytest.mark.parametrize("path", PATHS, ids=str)
def test_a_million_calls_of_object_paths_leak_nothing(path: Path) -> None:
    assert_path_leaks_nothing(path, MANY_CALLS)


@pytest.mark.parametrize("path", [p for p in PATHS if p.raises is None], ids=str)
def test_results_are_owned_by_the_caller_alone(path: Path) -> None:
    fast: Any = jit.compile(path.func, strict=True)
    args = path.make_args()
    fast(*args)
    result, expected = fast(*args), path.func(*args)
    if shared(result, args):
        return  # its count belongs to others too
    # Counted against the interpreter's own result (from 3.14, getrefcount of a local may not count the local;
    # both are plain locals here: no closure holds them).
    assert sys.getrefcount(result) == sys.getrefcount(expected)


def shared(result: object, args: tuple[object, ...]) -> bool:
    return result is None or any(result is o for o in watched(args))


def drop(holder: list[BaseException]) -> tuple[int, list[int]]:
    """The count of the only reference to an exception (``holder``'s), and how many references to each of its
    arguments, cause and context dropping it releases."""
    error = holder.pop()
    error.__traceback__ = None  # it holds the frames that hold the exception
    parts = [*error.args, error.__cause__, error.__context__]
    own = sys.getrefcount(error)
    before = [sys.getrefcount(part) for part in parts]
    del error
    return own, [count - sys.getrefcount(part) for count, part in zip(before, parts, strict=True)]


@pytest.mark.parametrize("path", [p for p in PATHS if p.raises is not None], ids=str)
def test_a_caught_exception_is_released_with_its_arguments(path: Path) -> None:
    fast: Any = jit.compile(path.func, strict=True)
    args = path.make_args()
    call_many(fast, args, path.raises, 10)
    compiled_error, interpreted_error = caught_from(fast, args), caught_from(path.func, args)
    assert type(compiled_error) is type(interpreted_error) is path.raises
    # Nothing but the caller holds the compiled code's exception, and it holds what it holds once: as the
    # interpreter's.
    assert drop([compiled_error]) == drop([interpreted_error])


def caught_from(fast: Callable[..., Any], args: tuple[object, ...]) -> BaseException:
    try:
        fast(*args)
    except Exception as error:
        return error
    raise AssertionError("it did not raise")
