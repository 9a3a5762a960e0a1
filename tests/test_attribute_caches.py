"""Attribute caches (stencils/objects.c: the hit stencils, LOAD_ATTR_CACHED, STORE_ATTR_CACHED, CALL_METHOD_CACHED,
LOAD_METHOD_CACHED) against the interpreter.

Each loop reads, writes or calls an attribute of an instance of each kind the worlds of tests/attribute_cases.py
make (values, a base class's values, __slots__, a dict made, __getattr__, a property), while a callback changes
the world mid-loop in each way that must invalidate what a cache knows: the same outcome as the interpreter's,
step by step.  Then polymorphic sites with more types than a cache keeps, stores of new attributes (the values'
order), a dict that shares the values (3.13+), reference counts, and the probe of the running interpreter.
"""

from __future__ import annotations

import io
import sys
import types
from typing import Any

import attribute_cases as cases
import pytest
from refcounting import call_many

import jit
from jit.backend import layout

KINDS = ["Base", "Sub", "Other", "Slots", "Lazy", "Prop", "Listy"]
STEPS = 8



def fresh(function: Any) -> Any:
    """``function`` compiled anew, with caches of its own: a cache shared by every test would have used up its
    refills on earlier tests' worlds (each world's classes are new types)."""
    copy = types.FunctionType(function.__code__, function.__globals__, function.__name__)
    copy.__qualname__ = function.__qualname__
    return jit.compile(copy, strict=True)


def outcome(function: Any, *args: Any) -> Any:
    try:
        return ("ok", function(*args))
    except Exception as error:
        return ("raise", type(error), str(error))


def same_in_fresh_worlds(function: Any, make: Any, subject: Any, mutations: Any, mutation: str) -> None:
    """``function(subject(world), STEPS, mutate)`` gives the interpreter's outcome compiled, each run in a world
    of its own (``make()``), the mutation applied to it mid-loop."""

    def run(callee: Any) -> Any:
        world = make()
        mutate = mutations[mutation]
        return outcome(callee, subject(world), STEPS, lambda target: mutate(world, target))

    expected = run(function)
    assert run(fresh(function)) == expected


def instance_of(kind: str) -> Any:
    return lambda world: getattr(world, kind)() if kind in ("Prop", "Listy") else getattr(world, kind)(1)


def test_the_probe_finds_this_interpreters_layout() -> None:
    found = layout.object_layout()
    assert found is not None, "attribute caches are off on this interpreter"
    assert found.values_mode in (1, 2, 3)
    assert found.version_offset > 0
    assert found.appends_values == 1, "stores of new attributes take the generic path on this interpreter"
    assert found.dict_keys_offset > 0 and found.keys_unicode != 0


@pytest.mark.parametrize("mutation", sorted(cases.MUTATIONS))
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("loop", sorted(cases.LOOPS))
def test_a_change_mid_loop_is_seen_as_the_interpreter_sees_it(loop: str, kind: str, mutation: str) -> None:
    same_in_fresh_worlds(cases.LOOPS[loop], cases.make_world, instance_of(kind), cases.MUTATIONS, mutation)


@pytest.mark.parametrize("function", [cases.read_all, cases.write_all, cases.call_all])
def test_polymorphic_sites_with_more_types_than_a_cache_keeps(function: Any) -> None:
    fast = jit.compile(function, strict=True)
    for _ in range(30):  # past the cache's refills
        expected = outcome(function, cases.objects(cases.make_world()))
        assert outcome(fast, cases.objects(cases.make_world())) == expected


def test_new_attributes_keep_the_interpreters_order() -> None:
    fast = jit.compile(cases.store_new_attributes, strict=True)
    for count in range(5):
        world = cases.make_world()
        assert fast(world.Base(0), count) == cases.store_new_attributes(world.Base(0), count)


def test_a_dict_made_of_the_values_sees_stores() -> None:
    fast = jit.compile(cases.store_through, strict=True)
    world = cases.make_world()
    obj = world.Base(0)
    for value in range(5):
        fast(obj, value)  # fills the cache
    shared = obj.__dict__
    fast(obj, "after")
    assert shared == {"x": "after", "y": "after"}
    assert obj.x == "after"


def test_methods_of_builtin_types() -> None:
    fast = jit.compile(cases.builtin_methods, strict=True)
    assert fast([], "banana") == cases.builtin_methods([], "banana")


def test_the_type_changed_between_calls() -> None:
    fast_read, fast_call = jit.compile(cases.read_x, strict=True), jit.compile(cases.method_of, strict=True)
    world = cases.make_world()
    obj = world.Sub(1)
    for i in range(5):
        assert fast_read(obj, i) == 1
        assert fast_call(obj, i) == ("method", 1, i)
    world.Base.method = lambda self, i: ("new", i)
    world.Sub.x = property(lambda self: "property")
    assert fast_read(obj, 0) == "property"
    assert fast_call(obj, 0) == ("new", 0)
    del world.Sub.x
    obj.x = 7
    assert fast_read(obj, 0) == 7


def test_reference_counts_stay_exact() -> None:
    world = cases.make_world()
    value, holders = object(), [world.Base(0), world.Slots(0), world.Sub(0)]
    store = jit.compile(cases.store_through, strict=True)
    read = jit.compile(cases.read_x, strict=True)
    call = jit.compile(cases.method_of, strict=True)
    for holder in holders:
        store(holder, value)
    before = sys.getrefcount(value), sys.getrefcount(world.Base.method), [sys.getrefcount(h) for h in holders]
    for holder in holders:
        call_many(store, (holder, value), None, 20_000)
        call_many(read, (holder, None), None, 20_000)
        call_many(call, (holder, 1), None, 20_000)
    after = sys.getrefcount(value), sys.getrefcount(world.Base.method), [sys.getrefcount(h) for h in holders]
    assert after == before


def test_new_attributes_in_changing_orders_keep_the_interpreters_order() -> None:
    fast = jit.compile(cases.store_in_orders, strict=True)
    for _ in range(3):
        expected = cases.store_in_orders(cases.make_world().Plain, 12)
        assert fast(cases.make_world().Plain, 12) == expected


@pytest.mark.parametrize("rounds", [1, 3])
def test_more_attributes_than_shared_keys_hold(rounds: int) -> None:
    fast = jit.compile(cases.store_wide, strict=True)
    for value in range(rounds):
        world, other = cases.make_world(), cases.make_world()
        assert fast(world.Sub(0), value) == cases.store_wide(other.Sub(0), value)


def test_a_hint_into_one_instances_dict_is_checked_on_another() -> None:
    world = cases.make_world()
    items = []
    for order in (("x", "y"), ("y", "x"), ("z", "y", "x"), ("x",), ("y",)):
        obj = world.Base(0)
        obj.__dict__ = {name: f"{name}{len(items)}" for name in order}  # a dict of its own, in this order
        items.append(obj)
    fast = fresh(cases.read_all)
    for _ in range(3):
        assert fast(items) == cases.read_all(items)
    del items[1].__dict__["x"]
    items[0].__dict__.update({f"k{index}": index for index in range(30)})  # its entries move
    assert fast(items) == cases.read_all(items)


class CollidingKey:
    """A key of an instance's dict that the lookup of "x" meets (same hash) and compares with: once armed, that
    raises."""

    armed = False

    def __hash__(self) -> int:
        return hash("x")

    def __eq__(self, other: object) -> bool:
        if CollidingKey.armed:
            raise ValueError("compared")
        return False


def own_method(i: Any) -> Any:
    return ("own", i)


class DictWithItsOwnGetItem(dict):  # the generic path ignores the override: so must the cache
    def __getitem__(self, key: Any) -> Any:
        return "overridden"


def instances_with_dicts_of_their_own(world: Any) -> list[Any]:
    """Instances whose attributes are in a dict of their own, each in another order (no hint holds for all)."""
    made = []
    for index, order in enumerate((("x", "y"), ("y", "x"), ("z", "y", "x"), ("w", "x"), ("x",))):
        obj = world.Base(0)
        obj.__dict__ = {name: f"{name}{index}" for name in order}
        made.append(obj)
    subclassed = world.Base(0)
    subclassed.__dict__ = DictWithItsOwnGetItem(x="sub", method=own_method)
    lazy = world.Lazy(0)
    lazy.__dict__ = {"y": 1}  # no x: __getattr__ answers
    return [*made, subclassed, lazy, world.Base(5)]


@pytest.mark.parametrize("function", [cases.read_all, cases.write_all, cases.call_all])
def test_instances_with_dicts_of_their_own(function: Any) -> None:
    """A site whose instances keep their attributes in dicts of their own looks them up there (the hint first),
    loads, stores and method calls alike, as the generic path would."""
    fast = fresh(function)
    for _ in range(3):
        expected_items, items = instances_with_dicts_of_their_own(cases.make_world()), \
            instances_with_dicts_of_their_own(cases.make_world())
        assert fast(items) == function(expected_items)
        assert [list(vars(obj).items()) for obj in items] == [list(vars(obj).items()) for obj in expected_items]
    for each in (items, expected_items):  # a dict that gains the names after the caches were filled
        vars(each[0])["method"] = own_method
        vars(each[-1])["x"] = "gained"
    assert fast(items) == function(expected_items)


def test_a_lookup_in_an_instances_dict_that_raises() -> None:
    def read(items: Any) -> Any:
        return [obj.x for obj in items]

    fast = fresh(read)
    world = cases.make_world()
    items = instances_with_dicts_of_their_own(world)[:5]
    for _ in range(3):
        assert fast(items) == read(items)
    del items[1].__dict__["x"]
    items[1].__dict__[CollidingKey()] = "colliding"  # where the lookup of "x" meets it first
    CollidingKey.armed = True
    try:
        assert outcome(fast, items) == outcome(read, items) == ("raise", ValueError, "compared")
    finally:
        CollidingKey.armed = False


class ErrorWithMethod(Exception):  # its instances' dict is at the type's tp_dictoffset, not a managed one
    def method(self, i: Any) -> Any:
        return ("error", self.args, i)


def test_methods_of_instances_whose_dict_is_at_the_types_offset() -> None:
    """CALL_METHOD on instances of a type with tp_dictoffset (an exception's subclass, StringIO): the type's method,
    called with self, while the instance's dict (none yet, or one without the name) does not shadow it."""

    def calls(items: Any, text: Any) -> Any:
        seen = []
        for round_ in range(3):
            for obj in items:
                seen.append(obj.method(round_))
            text.write(str(round_))
        return seen, text.getvalue()

    def made() -> tuple[list[Any], Any]:
        with_dict = ErrorWithMethod("dict")
        with_dict.note = "a note"
        shadowed = ErrorWithMethod("shadowed")
        shadowed.method = lambda i: ("shadow", i)
        return [ErrorWithMethod(1), with_dict, shadowed, ErrorWithMethod(2)], io.StringIO()

    fast = fresh(calls)
    for _ in range(3):
        assert fast(*made()) == calls(*made())
    items, text = made()
    expected_items, expected_text = made()
    for each in (items, expected_items):
        fast(each, io.StringIO()) if each is items else calls(each, io.StringIO())
        each[0].method = lambda i: ("gained", i)  # a dict made after the caches were filled, holding the name
        each[3].__dict__[CollidingKey()] = 0  # keys not all str: no lookup that could run code
    assert fast(items, text) == calls(expected_items, expected_text)


@pytest.mark.parametrize("mutation", sorted(cases.CLASS_MUTATIONS))
@pytest.mark.parametrize("kind", ["Base", "Sub", "WithMeta", "Described"])
def test_attributes_of_classes(kind: str, mutation: str) -> None:
    same_in_fresh_worlds(cases.class_attributes, cases.make_classes, lambda classes: getattr(classes, kind),
                         cases.CLASS_MUTATIONS, mutation)


@pytest.mark.parametrize("mutation", sorted(cases.CALLER_MUTATIONS))
@pytest.mark.parametrize("kind", ["Static", "Plain", "ClassMethod", "Sub"])
def test_calls_of_functions_of_classes(kind: str, mutation: str) -> None:
    same_in_fresh_worlds(cases.class_calls, cases.make_callers, lambda callers: getattr(callers, kind),
                         cases.CALLER_MUTATIONS, mutation)
