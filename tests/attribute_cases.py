"""The functions and worlds under test of tests/test_attribute_caches.py.

A plain module, for the reason tests/object_cases.py gives.  Each test makes a fresh world (classes and an
instance) for the interpreter and another for the compiled function, so that what one run changes (a class
rebound, a dict made) cannot leak into the other.  A mutation is applied from inside the running loop, through a
callback: the attribute caches filled before it must not answer after it.
"""



from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

MUTATE_AT = 3  # the loop step whose callback changes the world


def make_world() -> types.SimpleNamespace:
    class Base:
        def __init__(self, x: Any) -> None:
            self.x = x
            self.y = "y"

        def method(self, i: Any) -> Any:
            return ("method", self.x, i)

    class Sub(Base):
        pass

    class Other(Base):
        def method(self, i: Any) -> Any:
            return ("other", i)

    class Slots:
        __slots__ = ("x", "y")

        def __init__(self, x: Any) -> None:
            self.x = x

        def method(self, i: Any) -> Any:
            return ("slots", self.x, i)

    class Lazy(Base):
        def __getattr__(self, name: str) -> Any:
            return ("missing", name)

    class Prop:
        @property
        def x(self) -> Any:
            return "property"

        def method(self, i: Any) -> Any:
            return ("prop", i)

    class Plain:
        pass

    class Listy(list):  # a managed dict, no values: no dict until an attribute is set
        def method(self, i: Any) -> Any:
            self.append(i)
            return ("listy", len(self), i)

    return types.SimpleNamespace(Base=Base, Sub=Sub, Other=Other, Slots=Slots, Lazy=Lazy, Prop=Prop, Plain=Plain,
                                 Listy=Listy)


def objects(world: types.SimpleNamespace) -> list[Any]:
    """Instances of every kind, for one polymorphic site (more kinds than a cache keeps)."""
    made = [world.Base(1), world.Sub(2), world.Other(3), world.Slots(4), world.Lazy(5), world.Prop()]
    with_dict = world.Base(6)
    with_dict.__dict__  # noqa: B018 - a dict made of its values
    bare = world.Slots(7)
    del bare.x
    lazy = world.Lazy(8)
    del lazy.x
    return [*made, with_dict, bare, lazy, world.Sub(9), world.Base(10), world.Listy()]


# --- mutations, applied to (world, obj) at MUTATE_AT ------------------------------------------------------------

def _many_attributes(world: Any, obj: Any) -> None:
    for index in range(40):
        setattr(obj, f"extra{index}", index)


def _dict_then_delete(world: Any, obj: Any) -> None:
    obj.__dict__  # noqa: B018 - a dict made of its values
    vars(obj).pop("x", None)


def _dict_then_many_keys(world: Any, obj: Any) -> None:
    vars(obj).pop("x", None)
    for index in range(20):  # the dict grows: its entries move
        vars(obj)[f"key{index}"] = index
    vars(obj)["x"] = "back"


MUTATIONS: dict[str, Callable[[Any, Any], None]] = {
    "a dict made, the attribute deleted from it": _dict_then_delete,
    "a dict made, grown, the attribute put back": _dict_then_many_keys,
    "nothing": lambda world, obj: None,
    "delete the attribute": lambda world, obj: delattr(obj, "x"),
    "a property on the class": lambda world, obj: setattr(type(obj), "x", property(lambda self: "prop")),
    "a property on the base": lambda world, obj: setattr(world.Base, "x", property(lambda self: "base prop")),
    "a plain class attribute": lambda world, obj: setattr(type(obj), "x", "class"),
    "a dict made": lambda world, obj: obj.__dict__,
    "the dict replaced": lambda world, obj: setattr(obj, "__dict__", {"x": "new", "y": "new y"}),
    "the class changed": lambda world, obj: setattr(obj, "__class__", world.Other),
    "__getattribute__ on the class": lambda world, obj: setattr(type(obj), "__getattribute__",
                                                                lambda self, name: ("got", name)),
    "__setattr__ on the class": lambda world, obj: setattr(type(obj), "__setattr__",
                                                           lambda self, name, value: None),
    "many attributes": _many_attributes,
    "the method shadowed": lambda world, obj: setattr(obj, "method", lambda i: ("shadow", i)),
    "the method rebound": lambda world, obj: setattr(type(obj), "method", lambda self, i: ("rebound", i)),
    "the method deleted from the class": lambda world, obj: delattr(world.Base, "method"),
}


def _attempt(step: Callable[[], Any]) -> Any:
    try:
        return step()
    except (AttributeError, TypeError) as error:
        return (type(error).__name__, str(error))


def read_loop(obj: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            seen.append(obj.x)
            seen.append(obj.y)
        except AttributeError as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(obj)
    return seen


def write_loop(obj: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            obj.x = i
            obj.y = (i, "y")
            seen.append(obj.x)
        except AttributeError as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(obj)
    return seen


def call_loop(obj: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            seen.append(obj.method(i))
        except (AttributeError, TypeError) as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(obj)
    return seen


def call_computed_loop(obj: Any, steps: Any, mutate: Any) -> Any:
    """An argument that runs code: the method looked up before it (LOAD_METHOD, CALL_LOADED)."""
    seen = []
    for i in range(steps):
        try:
            seen.append(obj.method(i + 0))
        except (AttributeError, TypeError) as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(obj)
    return seen


def bound_loop(obj: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            bound = obj.method
            seen.append(bound(i))
        except (AttributeError, TypeError) as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(obj)
    return seen


LOOPS = {"read": read_loop, "write": write_loop, "call": call_loop, "call, its argument computed": call_computed_loop,
         "bound method": bound_loop}


def read_all(items: Any) -> Any:
    seen = []
    for _ in range(3):
        for obj in items:
            try:
                seen.append(obj.x)
            except AttributeError as error:
                seen.append(str(error))
    return seen


def write_all(items: Any) -> Any:
    for step in range(3):
        for obj in items:
            try:
                obj.x = step
            except AttributeError as error:
                return str(error)
    return [getattr(obj, "x", None) for obj in items]


def call_all(items: Any) -> Any:
    seen = []
    for _ in range(3):
        for obj in items:
            seen.append(obj.method(len(seen)))
    return seen


def store_new_attributes(obj: Any, count: Any) -> Any:
    obj.b = count
    obj.a = count + 1
    obj.x = count + 2
    return list(vars(obj))


def store_through(obj: Any, value: Any) -> Any:
    obj.x = value
    obj.y = value
    return obj.x


def builtin_methods(items: Any, text: Any) -> Any:
    for i in range(5):
        items.append(text.upper())
        items.append(text.count("a") + i)
    return items


def read_x(obj: Any, unused: Any) -> Any:
    return obj.x


def method_of(obj: Any, i: Any) -> Any:
    return obj.method(i)


def store_in_orders(make: Any, count: Any) -> Any:
    """Fresh instances given their attributes in changing orders, some more than the type's shared keys hold."""
    made = []
    for step in range(count):
        obj = make()
        if step % 3 == 0:
            obj.a1 = step
            obj.a2 = step
        elif step % 3 == 1:
            obj.a2 = step
            obj.a1 = step
        obj.a3 = step
        if step % 4 == 0:
            obj.a1 = -step
        made.append(list(vars(obj).items()))
    return made


def store_wide(obj: Any, value: Any) -> Any:
    obj.w00 = obj.w01 = obj.w02 = obj.w03 = obj.w04 = obj.w05 = obj.w06 = obj.w07 = obj.w08 = obj.w09 = value
    obj.w10 = obj.w11 = obj.w12 = obj.w13 = obj.w14 = obj.w15 = obj.w16 = obj.w17 = obj.w18 = obj.w19 = value
    obj.w20 = obj.w21 = obj.w22 = obj.w23 = obj.w24 = obj.w25 = obj.w26 = obj.w27 = obj.w28 = obj.w29 = value
    obj.w30 = obj.w31 = obj.w32 = obj.w33 = obj.w34 = obj.w35 = obj.w36 = obj.w37 = obj.w38 = obj.w39 = value
    return list(vars(obj).items())


def class_attributes(cls: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            seen.append((cls.limit, cls.__name__))
        except AttributeError as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(cls)
    return seen


def make_classes() -> types.SimpleNamespace:
    class Base:
        limit = 10

    class Sub(Base):
        pass

    class Meta(type):
        pass

    class WithMeta(metaclass=Meta):
        limit = 20

    class Described:
        limit = staticmethod(len)

    return types.SimpleNamespace(Base=Base, Sub=Sub, WithMeta=WithMeta, Meta=Meta, Described=Described)


CLASS_MUTATIONS: dict[str, Callable[[Any, Any], None]] = {
    "nothing": lambda classes, cls: None,
    "rebound on the class": lambda classes, cls: setattr(cls, "limit", 99),
    "rebound on the base": lambda classes, cls: setattr(classes.Base, "limit", 77),
    "deleted from the base": lambda classes, cls: delattr(classes.Base, "limit"),
    "a property on the metaclass": lambda classes, cls: setattr(classes.Meta, "limit", property(lambda c: "meta")),
    "a descriptor on the class": lambda classes, cls: setattr(cls, "limit", staticmethod(abs)),
}


def class_calls(cls: Any, steps: Any, mutate: Any) -> Any:
    seen = []
    for i in range(steps):
        try:
            seen.append(cls.combine(i, 1))
        except (AttributeError, TypeError) as error:
            seen.append(str(error))
        if i == MUTATE_AT:
            mutate(cls)
    return seen


def make_callers() -> types.SimpleNamespace:
    class Static:
        @staticmethod
        def combine(a: Any, b: Any) -> Any:
            return ("static", a + b)

    class Plain:
        def combine(a: Any, b: Any) -> Any:
            return ("plain", a - b)

    class ClassMethod:
        @classmethod
        def combine(cls, a: Any, b: Any) -> Any:
            return (cls.__name__, a * b)

    class Sub(Static):
        pass

    return types.SimpleNamespace(Static=Static, Plain=Plain, ClassMethod=ClassMethod, Sub=Sub)


CALLER_MUTATIONS: dict[str, Callable[[Any, Any], None]] = {
    "nothing": lambda callers, cls: None,
    "rebound": lambda callers, cls: setattr(cls, "combine", staticmethod(lambda a, b: ("new", a))),
    "rebound on the base": lambda callers, cls: setattr(callers.Static, "combine", staticmethod(max)),
    "a plain value": lambda callers, cls: setattr(cls, "combine", 5),
}
