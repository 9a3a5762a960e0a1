"""The functions under test of tests/test_objects.py, and the arguments of their error paths.

A plain module: pytest rewrites the asserts of test modules, and the compiler refuses a function whose code is not
the code of its source, so the functions with ``assert`` statements must live outside one; and the ARM64 run
(tests/test_arm64_qemu.py) imports these in an ARM64 CPython that has neither pytest nor hypothesis.  Annotated
with Any: the compiler specializes on the argument types it is called with.
"""

# ruff: noqa: B023, B905, C400, C408, C416, C420, PLC3002, PLE0704, PLW0120, PLW0602, PLW0603, PLW1641, UP032
# (the constructs under test, written as the interpreter must run them, not as a linter would rewrite them)

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# --- values ---------------------------------------------------------------------------------------------------


@dataclass
class Box:
    """A small class with attributes (equal by value, so effects compare)."""

    a: Any = 0
    b: Any = "b"
    inner: Any = None
    kind = "box"  # a class attribute

    def scaled(self, factor: Any) -> Any:
        return self.a * factor

    def describe(self, prefix: Any = "", suffix: Any = "") -> Any:
        return f"{prefix}{self.a}/{self.b}{suffix}"

    @classmethod
    def made(cls, a: Any) -> Any:
        return cls.__name__, a

    @staticmethod
    def twice(a: Any) -> Any:
        return a * 2


class Slotted:
    __slots__ = ("a",)

    def __init__(self, a: Any) -> None:
        self.a = a

    def __eq__(self, other: object) -> bool:
        return type(other) is Slotted and getattr(self, "a", None) == getattr(other, "a", None)

    def __repr__(self) -> str:
        return f"Slotted({getattr(self, 'a', '<unset>')!r})"


class Guarded:
    """Attributes that run code: a property that raises, a computed fallback, a refused store."""

    @property
    def broken(self) -> Any:
        raise ValueError("the property refuses")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("dyn_"):
            return name[4:]
        raise AttributeError(f"Guarded has no {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "frozen":
            raise TypeError("frozen is read-only")
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"Guarded({sorted(vars(self).items())!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Guarded and vars(self) == vars(other)


class Sequence3:
    """A sequence by __getitem__ alone: iteration and unpacking through the old protocol."""

    def __getitem__(self, index: int) -> int:
        if index >= 3:
            raise IndexError(index)
        return index * 10

    def __eq__(self, other: object) -> bool:
        return type(other) is Sequence3

    def __repr__(self) -> str:
        return "Sequence3()"


# --- attributes ----------------------------------------------------------------------------------------------


def load_attribute(o: Any) -> Any:
    return o.a


def load_class_attribute(o: Any) -> Any:
    return o.kind, Box.kind


def load_chain(o: Any) -> Any:
    return o.inner.a


def store_attribute(o: Any, value: Any) -> Any:
    o.a = value
    o.c = [value]
    return o


def augment_attribute(o: Any, value: Any) -> Any:
    o.a += value
    return o.a


def delete_attribute(o: Any) -> Any:
    del o.a
    return o


def load_dynamic(o: Any) -> Any:
    return o.dyn_value, o.broken


def store_frozen(o: Any) -> Any:
    o.thawed = 1
    o.frozen = 2


ATTRIBUTE_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (load_attribute, (5,)), (load_attribute, (None,)), (load_attribute, (Slotted.__new__(Slotted),)),
    (load_attribute, (Guarded(),)), (load_attribute, (types.SimpleNamespace(b=1),)),
    (load_chain, (Box(inner=None),)), (load_chain, (Box(inner=Box(a=3)),)),
    (store_attribute, (5, 1)), (store_attribute, ("text", 1)), (store_attribute, (Slotted(1), 2)),
    (store_attribute, (types.SimpleNamespace(), 2)),
    (augment_attribute, (Box(a="x"), 1)), (augment_attribute, (Box(a=[1]), [2])), (augment_attribute, (3, 1)),
    (delete_attribute, (Box(),)), (delete_attribute, (types.SimpleNamespace(),)), (delete_attribute, (5,)),
    (delete_attribute, (Slotted.__new__(Slotted),)), (delete_attribute, (Guarded(),)),
    (load_dynamic, (Guarded(),)), (store_frozen, (Guarded(),)), (load_class_attribute, (Box(),)),
    (load_class_attribute, (5,)),
]

# --- subscripts and slices -----------------------------------------------------------------------------------


def load_item(container: Any, key: Any) -> Any:
    return container[key]


def store_item(container: Any, key: Any, value: Any) -> Any:
    container[key] = value
    return container


def delete_item(container: Any, key: Any) -> Any:
    del container[key]
    return container


def augment_item(container: Any, key: Any, value: Any) -> Any:
    container[key] += value
    return container


def load_slice(container: Any, start: Any, stop: Any) -> Any:
    return container[start:stop], container[:stop], container[start:], container[:]


def load_extended_slice(container: Any, start: Any, stop: Any, step: Any) -> Any:
    return container[start:stop:step], container[::step]


def store_slice(container: Any, start: Any, stop: Any, value: Any) -> Any:
    container[start:stop] = value
    return container


def delete_slice(container: Any, start: Any, step: Any) -> Any:
    del container[start::step]
    return container


def tuple_key(grid: Any, row: Any, column: Any) -> Any:
    grid[row, column] = row
    return grid[row, column], grid


def items_at_computed_indices(container: Any, n: Any, value: Any) -> Any:
    """Indices the specialized tier holds as int64s (a range's counter, int arithmetic), and bools."""
    seen = []
    for i in range(n):
        seen.append(container[i - 1])
        container[i * 2 - n] = value
    flag = n > 1
    seen.append(container[flag])
    container[not flag] = value
    return seen, container


SUBSCRIPT_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (items_at_computed_indices, ([1, 2, 3, 4], 2, "v")), (items_at_computed_indices, ([1, 2, 3], 5, 0)),
    (items_at_computed_indices, ((1, 2, 3), 2, 0)), (items_at_computed_indices, ({-1: "a", 0: "b", -2: 0}, 2, 1)),
    (items_at_computed_indices, ({-1: "a", 0: "b", -2: 0, True: 5}, 2, 1)), (items_at_computed_indices, ("ab", 1, 0)),
    (items_at_computed_indices, (Sequence3(), 2, 0)), (items_at_computed_indices, ([], 1, 0)),
    (items_at_computed_indices, ([1, 2], 1, 0)), (items_at_computed_indices, ([1, 2, 3], -1, 0)),
    (items_at_computed_indices, (None, 1, 0)),
    (load_item, ([1, 2], 5)), (load_item, ((1,), -3)), (load_item, ("ab", 9)), (load_item, ([1], "a")),
    (load_item, ({}, "k")), (load_item, ({}, [1])), (load_item, (5, 0)), (load_item, (None, 0)),
    (load_item, (Box(), 0)), (load_item, (int, 0)), (load_item, (list, int)), (load_item, (Sequence3(), 7)),
    (store_item, ([1], 3, 0)), (store_item, ((1,), 0, 0)), (store_item, ("ab", 0, "c")), (store_item, (5, 0, 1)),
    (store_item, ({}, [], 1)), (store_item, (None, 0, 1)),
    (delete_item, ([1], 4)), (delete_item, ((1,), 0)), (delete_item, ({}, "k")), (delete_item, (5, 0)),
    (augment_item, ({}, "k", 1)), (augment_item, ([1], 0, "s")), (augment_item, ([[1]], 0, [2])),
    (load_slice, (5, 0, 1)), (load_slice, ([1, 2], "a", 1)), (load_slice, ({}, 0, 1)),
    (load_extended_slice, ([1, 2, 3], None, None, 0)), (load_extended_slice, ("abc", 0, 3, 1.5)),
    (store_slice, ([1, 2], 0, 1, 5)), (store_slice, ([1, 2], 0, 1, "xy")), (store_slice, ((1, 2), 0, 1, [3])),
    (delete_slice, ([1, 2, 3], 0, 0)), (delete_slice, ("ab", 0, 1)), (delete_slice, ([1, 2, 3, 4], 1, 2)),
    (tuple_key, ({}, 1, 2)), (tuple_key, ([], 1, 2)),
]

# --- displays --------------------------------------------------------------------------------------------------


def list_display(a: Any, b: Any) -> Any:
    return [a, b, [a], (b,)]


def tuple_display(a: Any, b: Any) -> Any:
    return (a, b), (a,), ()


def set_display(a: Any, b: Any) -> Any:
    return {a, b}


def dict_display(a: Any, b: Any) -> Any:
    return {a: b, b: a, "fixed": a}


def starred_list(a: Any, b: Any) -> Any:
    return [*a, b, *a]


def starred_tuple(a: Any, b: Any) -> Any:
    return (b, *a), (*a,)


def starred_set(a: Any, b: Any) -> Any:
    return {*a, b}


def double_starred(m: Any, n: Any) -> Any:
    return {**m}, {"k": 1, **m, **n}, {**m, "k": 2, "z": 3}


def star_of(value: Any) -> Any:
    return [*value]


def star_in_set(value: Any) -> Any:
    return {*value}


def double_star_of(value: Any) -> Any:
    return {**value}


DISPLAY_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (star_of, (5,)), (star_of, (None,)), (star_of, (Box(),)), (star_of, (Sequence3(),)), (star_in_set, (5,)),
    (star_in_set, ([[1]],)), (double_star_of, (5,)), (double_star_of, ([1],)), (double_star_of, ([("a", 1)],)),
    (double_star_of, ("ab",)), (set_display, ([1], 2)), (dict_display, ([1], 2)), (dict_display, (1, {})),
    (starred_tuple, (5, 1)), (double_starred, ({}, 5)),
]

# --- calls ---------------------------------------------------------------------------------------------------


def target(a: Any, b: Any = "b", c: Any = "c") -> Any:
    return (a, b, c)


def variadic(*args: Any, **kwargs: Any) -> Any:
    return args, sorted(kwargs.items())


def call_with_keywords(x: Any, y: Any) -> Any:
    return target(x, c=y), target(a=y, b=x), target(x, y, c=x)


def call_builtin_with_keywords(xs: Any, flag: Any) -> Any:
    return sorted(xs, reverse=flag), sorted(xs, key=str, reverse=not flag)


def call_class(a: Any, b: Any) -> Any:
    return Box(a, b=b), dict(a=a, b=b), Slotted(a=a)


def call_star(xs: Any) -> Any:
    return variadic(*xs), variadic(1, *xs, 2), target(*xs)


def call_double_star(m: Any) -> Any:
    return variadic(**m), target(**m)


def call_star_and_double_star(xs: Any, m: Any) -> Any:
    return variadic(*xs, **m)


def call_star_with_keywords(xs: Any, y: Any) -> Any:
    return variadic(*xs, key=y, other=1)


def call_value(f: Any, x: Any) -> Any:
    return f(x), f(x, x)


def call_value_with_keywords(f: Any, x: Any) -> Any:
    return f(x, b=x)


def call_bound_method(o: Any, x: Any) -> Any:
    bound = o.scaled
    return bound(x), bound(factor=x)


def call_star_of(value: Any) -> Any:
    return target(*value)


def call_double_star_of(value: Any) -> Any:
    return variadic(**value)


def call_builtin_star_of(value: Any) -> Any:
    return max(*value)


CALL_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (call_star_of, (5,)), (call_star_of, (None,)), (call_star_of, ([],)), (call_star_of, ([1, 2, 3, 4],)),
    (call_double_star_of, (5,)), (call_double_star_of, ({1: 2},)), (call_double_star_of, ([("a", 1)],)),
    (call_builtin_star_of, (5,)), (call_builtin_star_of, ([],)), (call_builtin_star_of, ([1, "a"],)),
    (call_double_star, ({"d": 1},)), (call_double_star, ({},)), (call_star, ((1, 2, 3, 4),)),
    (call_with_keywords, (1, 2)), (call_value, (5, 1)), (call_value, (None, 1)), (call_value, ("s", 1)),
    (call_value, (len, [1])), (call_value, (target, 1)), (call_value_with_keywords, (len, 1)),
    (call_value_with_keywords, (target, 1)), (call_value_with_keywords, (print, 1)), (call_class, ([], 1)),
    (call_bound_method, (Box(a="ab"), 2)), (call_bound_method, (Box(a="ab"), "x")), (call_bound_method, (5, 1)),
    (call_star_and_double_star, ((1,), {"a": 2})), (call_star_and_double_star, (5, {})),
    (call_star_and_double_star, ((), 5)), (call_star_with_keywords, ((1,), 2)), (call_star_with_keywords, (5, 2)),
]

# --- method calls (CALL_METHOD) --------------------------------------------------------------------------------


def list_methods(xs: Any, value: Any) -> Any:
    xs.append(value)
    xs.insert(0, value)
    count = xs.count(value)
    last = xs.pop()
    return xs, count, last


def string_methods(s: Any, sep: Any) -> Any:
    return s.split(sep), s.replace(sep, "-"), s.upper().strip(), s.split(sep=sep, maxsplit=1)


def dict_methods(d: Any, key: Any) -> Any:
    got = d.get(key, "missing")
    d.setdefault(key, 0)
    return got, sorted(d.items(), key=repr), d.pop(key)


def user_methods(o: Any, value: Any) -> Any:
    return o.scaled(value), o.describe("<", suffix=">"), o.describe(suffix=value)


def method_with_computed_argument(xs: Any) -> Any:
    xs.append(len(xs))  # an argument that runs code: looked up first, then evaluated
    xs.extend([len(xs), *xs[:1]])
    return xs


def missing_method(o: Any) -> Any:
    return o.no_such_method(1)


# --- methods looked up before arguments that run code (LOAD_METHOD, then CALL_LOADED) ------------------------------

def missing_method_then_argument(o: Any) -> Any:
    """The AttributeError comes before the argument runs."""
    NOTES.clear()
    try:
        return o.no_such_method(noted(1))
    except AttributeError as error:
        return str(error), list(NOTES)


def rebound_by_the_argument(o: Any) -> Any:
    """The argument rebinds the method on the instance: the call still calls what was looked up first."""
    first = o.scaled((setattr(o, "scaled", lambda x: ("instance", x)), 2)[1])
    return first, o.scaled(3), o.__dict__.pop("scaled", None) is not None


def method_kinds(o: Any, x: Any) -> Any:
    """Functions, classmethods, staticmethods, an instance's own callable, builtins' methods and a class's
    function, each with an argument that runs code."""
    NOTES.clear()
    o.callback = lambda y: ("own", y)
    kinds = (o.scaled(noted(x)), o.made(noted(x)), o.twice(noted(x)), o.callback(noted(x)),
             type(o).made(noted(x)), type(o).twice(noted(x)), type(o).scaled(o, noted(x)),
             [x].index(noted(x)), "a-b".split(noted("-")), o.describe(noted("<"), suffix=noted(">")))
    del o.callback
    return kinds, list(NOTES)


def methods_of_numbers(n: Any, x: Any) -> Any:
    """Methods of ints and floats (unboxed in the specialized tier), arguments that compute."""
    return (n * 2).__add__(n + 1), (x * 1.5).__mul__(x - 1), (n + 1).to_bytes(n % 3 + 2, "little"), \
        (n > 0).__or__(n < 0)


METHOD_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (missing_method, (5,)), (missing_method, (None,)), (missing_method, (Box(),)), (missing_method, (Guarded(),)),
    (list_methods, ("text", 1)), (list_methods, ((1,), 1)), (string_methods, ("a,b", 5)), (string_methods, (5, ",")),
    (string_methods, ("a", "")), (dict_methods, ({}, [1])), (dict_methods, ([], 1)), (user_methods, (Box(), "x")),
    (user_methods, (Box(a=None), 2)), (method_with_computed_argument, ((),)), (method_with_computed_argument, ("",)),
    (missing_method_then_argument, (Box(),)), (missing_method_then_argument, (5,)),
    (missing_method_then_argument, (Guarded(),)), (rebound_by_the_argument, (Box(a=2),)),
    (method_kinds, (Box(a=[1]), None)), (methods_of_numbers, (-1, 0.0)), (methods_of_numbers, (300, 1.0)),
]

# --- for over any iterable -----------------------------------------------------------------------------------


def for_sum(items: Any) -> Any:
    total = []
    for item in items:
        total.append(item)
    return total


def for_else_break(items: Any, wanted: Any) -> Any:
    for item in items:
        if item == wanted:
            break
    else:
        return "not found"
    return item


def for_continue(items: Any) -> Any:
    kept = []
    for item in items:
        if not item:
            continue
        kept.append(item)
    else:
        kept.append("done")
    return kept


def for_nested(rows: Any) -> Any:
    cells = []
    for row in rows:
        for cell in row:
            if cell == 0:
                break
            cells.append(cell)
    return cells


def for_unpacking_target(pairs: Any) -> Any:
    seen = []
    for key, value in pairs:
        seen.append((value, key))
    return seen


def for_starred_target(rows: Any) -> Any:
    seen = []
    for first, *rest in rows:
        seen.append((first, rest))
    return seen


def for_attribute_and_item_targets(o: Any, items: Any) -> Any:
    slots = {}
    for o.a in items:
        pass
    for slots["k"] in items:
        pass
    return o, slots


def for_over_builtins(xs: Any) -> Any:
    out: list[Any] = []
    for i, x in enumerate(xs):
        out.append((i, x))
    for a, b in zip(xs, reversed(xs)):
        out.append(a == b)
    span = range(len(out))
    for i in span:
        out.append(i)
    return out


def for_over_dict(d: Any) -> Any:
    out = []
    for key in d:
        out.append(key)
    for key, value in d.items():
        out.append((key, value))
    return out


def for_mutating(xs: Any) -> Any:
    for x in xs:
        if len(xs) < 6:
            xs.append(x)
    return xs


FOR_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (for_sum, (5,)), (for_sum, (None,)), (for_sum, (Box(),)), (for_sum, (Sequence3(),)), (for_sum, ({1, 2},)),
    (for_unpacking_target, ([(1, 2, 3)],)), (for_unpacking_target, ([5],)), (for_unpacking_target, ([(1,)],)),
    (for_unpacking_target, ({"ab": 1, "c": 2},)), (for_starred_target, ([()],)), (for_starred_target, ([1],)),
    (for_nested, ([[1, 2], 3],)), (for_attribute_and_item_targets, (5, [1])), (for_over_dict, ([1, 2],)),
    (for_mutating, ([1, 2],)), (for_over_builtins, (5,)), (for_else_break, ("", "a")),
]

# --- unpacking -------------------------------------------------------------------------------------------------


def unpack_two(value: Any) -> Any:
    a, b = value
    return b, a


def unpack_starred(value: Any) -> Any:
    first, *middle, last = value
    return first, middle, last


def unpack_star_first(value: Any) -> Any:
    *init, last = value
    return init, last


def unpack_star_only(value: Any) -> Any:
    [*everything] = value
    return everything


def unpack_nested(value: Any) -> Any:
    (a, b), [c, *d] = value
    return a, b, c, d


def unpack_into_targets(o: Any, value: Any) -> Any:
    slots: dict[str, Any] = {}
    o.a, slots["x"] = value
    return o, slots


def unpack_many(value: Any) -> Any:
    """Many targets in a row (one TUPLE_ITEMS stencil), then targets of other kinds break the row."""
    a, b, c, d, e, f = value
    slots: dict[str, Any] = {}
    g, h, slots["x"], i, j, k = value
    return f, e, d, c, b, a, g, h, slots, i, j, k


class Released:
    """A value that notes when its last reference goes: stores release what the targets held, in order."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __del__(self) -> None:
        NOTES.append(self.name)


def stores_release_in_order(count: Any) -> Any:
    """Stores release what the targets held, in the interpreter's order: `a, b, c = x, y, z` stores c first
    (CPython exchanges the stores of two or three locals for a SWAP), four targets and an unpacked sequence
    store left to right.  The values are each held by one local only (a call's result goes straight there)."""
    NOTES.clear()
    pool = [Released(str(n)) for n in range(count)]
    a = pool.pop(0)
    b = pool.pop(0)
    c = pool.pop(0)
    x = pool.pop(0)
    y = pool.pop(0)
    z = pool.pop(0)
    a, b, c = x, y, z
    NOTES.append("|")
    d = pool.pop(0)
    e = pool.pop(0)
    d, e = e, d
    w = pool.pop(0)
    a, b, c, d = w, x, y, e
    NOTES.append("|")
    b, c, e = pool
    return list(NOTES), a.name, b.name, c.name, d.name, e.name


def rotations(a: Any, b: Any, c: Any) -> Any:
    """Stores of two or three locals in the interpreter's order (the last first) read the values of before."""
    a, b = b, a
    a, b, c = c, a, b
    c, a, b = b + a, c, a
    return a, b, c


def unpack_again(pairs: Any) -> Any:
    """Unpackings that store values their targets already hold (left in place), and a target named twice
    (its last item wins), for tuples and lists."""
    a = b = None
    seen = []
    for pair in pairs:
        a, b = pair
        seen.append((a, b))
        a, b = pair
        b, a = pair
        seen.append((a, b))
        a, a = pair  # noqa: PLW0128 - a target named twice
        seen.append(a)
    return seen


def locals_live_to_the_end(n: Any) -> Any:
    """A local's value lives until the local is rebound or deleted, or the function returns, even when the
    local is never read again: a slot given to a later value must not release it."""
    NOTES.clear()
    thing = Released("thing")
    watch = weakref.ref(thing)
    kept = Released("kept")
    numbers = [n, n + 1]
    text = f"{n}"
    alive = watch() is not None, list(NOTES)
    kept = None  # released here, as the interpreter releases it
    after = list(NOTES)
    made = Released("made")
    del made  # and here
    return alive, after, list(NOTES), numbers, text, kept


def releases_of_temporaries(rounds: Any) -> Any:
    """Values computed into temporaries (the items of a display, a call's result passed on) are released
    when the targets let them go, as the interpreter's stack holds them no longer."""
    NOTES.clear()
    a = b = c = d = e = f = g = None
    for r in range(rounds):
        d, e, f, g = Released(f"d{r}"), Released(f"e{r}"), Released(f"f{r}"), Released(f"g{r}")
        a, g = Released(f"x{r}"), Released(f"y{r}")
        b, d, e = (Released(f"p{r}"), Released(f"q{r}"), Released(f"s{r}")) if r % 2 else [*"pqs"]
    del a, b, c, d, e, f, g
    return list(NOTES)


def temporaries_released_in_order(rounds: Any, scale: Any) -> Any:
    """An unread result, an attribute's owner, a display's item, a subscript's container, a call's argument and
    a value passed on to a local each let go where the interpreter's stack does, in the specialized tier (an
    int ``scale``) and the generic one (a float, or after the bet on ``*`` is lost)."""
    NOTES.clear()
    kept = None
    for r in range(rounds):
        NOTES.append(len([Released(f"a{r}"), [Released(f"x{r}"), Released(f"y{r}")], Released(f"z{r}")]) * scale)
        NOTES.append("|")
        Released(f"u{r}")
        NOTES.append(Released(f"b{r}").name)
        NOTES.append([Released(f"c{r}")][0].name)
        NOTES.append(len(str(Released(f"d{r}"))) * scale > 0)
        kept = Released(f"e{r}")
        NOTES.append(kept.name)
    del kept
    return list(NOTES)


UNPACK_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (unpack_two, ([1],)), (unpack_two, ([1, 2, 3],)), (unpack_two, ((),)), (unpack_two, ((1, 2, 3, 4),)),
    (unpack_two, ("abc",)), (unpack_two, ({1: 2, 3: 4, 5: 6},)), (unpack_two, ({1, 2, 3},)), (unpack_two, (5,)),
    (unpack_two, (None,)), (unpack_two, (Sequence3(),)), (unpack_two, (range(3),)),
    (unpack_starred, ([1],)), (unpack_starred, ((),)), (unpack_starred, (5,)), (unpack_starred, ("a",)),
    (unpack_star_first, ([],)), (unpack_star_first, (5.5,)), (unpack_nested, (((1, 2), [3]),)),
    (unpack_nested, (((1,), [3]),)), (unpack_nested, ((1, [3]),)), (unpack_nested, (((1, 2), []),)),
    (unpack_into_targets, (5, (1, 2))), (unpack_into_targets, (Box(), (1, 2, 3))), (unpack_star_only, (7,)),
    (unpack_many, (tuple(range(6)),)), (unpack_many, (list("abcdef"),)), (unpack_many, (tuple(range(5)),)),
    (unpack_many, ("abcdefg",)), (unpack_many, (range(6),)), (stores_release_in_order, (12,)),
    (stores_release_in_order, (11,)),
    (locals_live_to_the_end, (3,)), (locals_live_to_the_end, ("x",)), (rotations, (1, 2, 3)),
    (rotations, ("a", "b", "c")), (rotations, ([], (), 5)),
    (unpack_again, ([(1, 2), (1, 2), [3, 4], ("x", "x"), [None, 5], (2, 1), ((), [])],)), (unpack_again, ([(1,)],)),
]

# --- comprehensions --------------------------------------------------------------------------------------------


def list_comprehension(xs: Any) -> Any:
    return [x * 2 for x in xs if x]


def set_comprehension(xs: Any) -> Any:
    return {x for x in xs}


def dict_comprehension(xs: Any) -> Any:
    return {x: i for i, x in enumerate(xs)}


def nested_comprehension(xs: Any, ys: Any) -> Any:
    return [(x, y) for x in xs if x != 0 for y in ys if y != x]


def comprehension_in_comprehension(rows: Any) -> Any:
    return [[cell for cell in row] for row in rows]


def comprehension_scope(xs: Any) -> Any:
    x = "outer"
    ys = [x for x in xs]
    return x, ys


def comprehension_reads_locals(xs: Any, offset: Any) -> Any:
    scale = 3
    return [x * scale + offset for x in xs], {x: offset for x in xs}


def comprehension_raises(xs: Any) -> Any:
    return [10 // x for x in xs]


def comprehension_unpacks(pairs: Any) -> Any:
    return {value: key for key, value in pairs}


COMPREHENSION_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (list_comprehension, (5,)), (list_comprehension, ([[1], "a"],)), (set_comprehension, ([[1]],)),
    (dict_comprehension, ([[1]],)), (comprehension_raises, ([1, 0],)), (comprehension_raises, (["a"],)),
    (comprehension_unpacks, ([(1, 2), (3,)],)), (comprehension_unpacks, ([(1, [])],)), (nested_comprehension, ([1], 5)),
    (comprehension_reads_locals, (["a"], 1)), (comprehension_in_comprehension, ([[1], 2],)),
]

# --- in, not in, is, is not --------------------------------------------------------------------------------------


def membership(item: Any, container: Any) -> Any:
    return item in container, item not in container


def membership_branch(item: Any, container: Any) -> Any:
    if item in container:
        return "in"
    if item not in container:
        return "not in"
    return "neither"


def identity(a: Any, b: Any) -> Any:
    same_object = a
    return a is b, a is not b, a is same_object, a is None, b is not None


def identity_of_numbers(a: Any, b: Any) -> Any:
    c = a
    return a is b, a is c, a is not None


def identity_branch(a: Any, b: Any) -> Any:
    if a is b:
        return "same"
    return "different" if a is not None else "none"


class RaisingContainer:
    def __contains__(self, item: object) -> bool:
        raise LookupError(f"cannot look for {item!r}")

    def __repr__(self) -> str:
        return "RaisingContainer()"


class RaisingEquality:
    def __eq__(self, other: object) -> bool:
        raise ArithmeticError("no equality")

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return "RaisingEquality()"


MEMBERSHIP_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (membership, (1, 5)), (membership, (1, None)), (membership, ([], {})), (membership, ([], set())),
    (membership, (1, "abc")), (membership, ("a", RaisingContainer())), (membership, (1, [RaisingEquality()])),
    (membership, (1, Sequence3())), (membership, (10, Sequence3())), (membership_branch, (1, 5)),
    (membership_branch, ({}, {1: 2})),
]

# --- f-strings and string operations ------------------------------------------------------------------------------


def formatted(value: Any) -> Any:
    return f"<{value}>", f"{value!r}", f"{value!s}|{value!a}", f"{value=}"


def formatted_with_spec(value: Any, width: Any) -> Any:
    return f"{value:>{width}}", f"[{value!r:^{width}}]"


def formatted_number(value: Any) -> Any:
    return f"{value:.2f}", f"{value:+d}", f"{value:#x}"


def formatted_text(value: Any) -> Any:
    return f"{value:d}"


def concatenate(a: Any, b: Any) -> Any:
    return a + b, b + a


def percent(template: Any, values: Any) -> Any:
    return template % values


def repeat(text: Any, count: Any) -> Any:
    text *= count
    return text, count * "-"


def format_calls(value: Any) -> Any:
    return format(value, ""), str(value), repr(value), "{}-{!r}".format(value, value)


STRING_ERRORS: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (formatted_with_spec, ("x", "q")), (formatted_with_spec, ("x", -1)), (formatted_with_spec, (1.5, "!")),
    (formatted_number, ("s",)), (formatted_number, (1.5,)), (formatted_number, (7,)), (formatted_text, ("s",)),
    (formatted_text, (None,)), (formatted_text, (3,)), (concatenate, ("a", 1)), (concatenate, ([1], (2,))),
    (concatenate, (None, None)), (percent, ("%d-%s", (1, "a"))), (percent, ("%d", "x")), (percent, ("%s %s", (1,))),
    (percent, ("%s", (1, 2))), (percent, ("%(k)s", {"k": 1})), (percent, ("%(k)s", {})), (percent, (5, 1)),
    (repeat, ("ab", "c")), (repeat, ("ab", 2.5)), (repeat, ([1], 2)), (formatted, (Box(),)),
]

# --- raise and assert -------------------------------------------------------------------------------------------


def raise_value(exception: Any) -> Any:
    raise exception


def raise_made(message: Any) -> Any:
    raise ValueError(message)


def raise_from(exception: Any, cause: Any) -> Any:
    raise exception from cause


def raise_from_none(message: Any) -> Any:
    raise KeyError(message) from None


def reraise() -> Any:
    raise


class Odd(Exception):
    def __init__(self, code: Any) -> None:
        super().__init__(f"odd {code}")
        self.code = code


RAISE_CASES: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (raise_value, (ValueError("made"),)), (raise_value, (ValueError,)), (raise_value, (KeyError("k"),)),
    (raise_value, (5,)), (raise_value, (None,)), (raise_value, (int,)), (raise_value, ("text",)),
    (raise_value, (Odd(3),)), (raise_value, (Exception,)), (raise_value, (StopIteration(4),)),
    (raise_made, ("message",)), (raise_made, (5,)), (raise_made, (None,)),
    (raise_from, (ValueError("a"), KeyError("b"))), (raise_from, (ValueError, KeyError)),
    (raise_from, (ValueError("a"), None)), (raise_from, (ValueError("a"), 5)), (raise_from, (5, None)),
    (raise_from, (ValueError("a"), int)), (raise_from_none, ("gone",)), (reraise, ()),
]


# --- global, nonlocal, free variables ---------------------------------------------------------------------------

COUNTER: Any = 0


def bump_global(step: Any) -> Any:
    global COUNTER
    COUNTER += step
    return COUNTER


DEFINED_LATER: Any  # declared, not bound: define_global() binds it, delete_global() unbinds it


def define_global(value: Any) -> Any:
    global DEFINED_LATER
    DEFINED_LATER = [value]
    return DEFINED_LATER


def delete_global() -> Any:
    global DEFINED_LATER
    del DEFINED_LATER


def read_undefined_global() -> Any:
    return NEVER_DEFINED_ANYWHERE  # type: ignore[name-defined]  # noqa: F821


def read_assigned_global() -> Any:
    global COUNTER
    return COUNTER


def counter_factory(start: Any) -> Callable[[Any], Any]:
    count = start

    def advance(step: Any) -> Any:
        nonlocal count
        count += step
        return count

    return advance


def reader_factory() -> tuple[Callable[[], Any], Callable[[Any], None]]:
    value = None
    del value  # a cell without a value, until write() gives it one

    def read() -> Any:
        return [value, value]  # noqa: F821 - deleted above on purpose

    def write(new: Any) -> None:
        nonlocal value
        value = new

    return read, write


def cell_holder_factory(items: Any) -> Callable[[Any], Any]:
    def add(item: Any) -> Any:
        items.append(item)
        return len(items), items

    return add


# Numbers stored into objects the function does not hold in a variable (a global's list, a global instance): no
# variable of the function is an object, yet the ops on objects need the frame's spare object slots.
SINK: list[Any] = [0, 0, 0]
SINK_OBJECT = types.SimpleNamespace()


def store_number_into_global_list(n: Any) -> Any:
    SINK[0] = n


def store_number_into_global_attribute(n: Any) -> Any:
    SINK_OBJECT.number = n


def delete_at_number(n: Any) -> Any:
    del SINK[n]


def compare_number_with_text(n: Any) -> Any:
    if n == "text":
        return 1
    return 2


def store_number_into_global(n: Any) -> Any:
    global COUNTER
    COUNTER = n
    COUNTER += n


# --- walrus (outside comprehensions) ----------------------------------------------------------------------------


def walrus_in_condition(xs: Any) -> Any:
    if (n := len(xs)) > 2:
        return n, xs[:n]
    return n


def walrus_in_loop(xs: Any) -> Any:
    out = []
    while (item := xs.pop() if xs else None) is not None:
        out.append(item)
    return out, item


def walrus_values(x: Any) -> Any:
    return [(y := x), y, (y := [y]), y]


def walrus_right_of_binary(x: Any) -> Any:
    return x + (x := 5)


def walrus_right_of_comparison(x: Any) -> Any:
    return x < (x := 5)


def walrus_right_of_augmented(x: Any) -> Any:
    x += (x := 5)
    return x


def walrus_right_of_membership(x: Any) -> Any:
    return x in [(x := 3)]


def walrus_in_tuple_assignment(x: Any) -> Any:
    a, b = x, (x := 5)
    return a, b


def dict_items_after_double_star(m: Any, key: Any) -> Any:
    # The interpreter evaluates every key and value after the ** before it stores any (one BUILD_MAP).
    return {**m, key: 1, "later": noted("evaluated")}


class SuperBase:
    def value(self) -> Any:
        return "base"


class SuperInComprehension(SuperBase):
    def values(self) -> Any:
        return [super().value() for _ in range(2)]


# --- assert ----------------------------------------------------------------------------------------------------


def assert_plain(value: Any) -> Any:
    assert value
    return value


def assert_with_message(value: Any, message: Any) -> Any:
    assert value, message
    return value


NOTES: list[object] = []


def noted(text: Any) -> Any:
    NOTES.append(text)
    return text


def assert_message_only_on_failure(value: Any) -> Any:
    assert value, noted(f"failed on {value!r}")
    return len(NOTES)


def traced_multiline_assert(value: Any) -> Any:
    assert (
        value), "message"
    return value


ASSERT_CASES: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (assert_plain, (0,)), (assert_plain, ([],)), (assert_plain, ("x",)), (assert_with_message, (0, "message")),
    (assert_with_message, ("", 5)), (assert_with_message, (None, None)), (assert_with_message, (1, "unused")),
    (assert_with_message, ((), Box())),
]

# Each group: (function, arguments) whose calls mostly raise, with the interpreter's messages.
ERROR_CASES = {
    "attributes": ATTRIBUTE_ERRORS, "subscripts": SUBSCRIPT_ERRORS, "displays": DISPLAY_ERRORS, "calls": CALL_ERRORS,
    "methods": METHOD_ERRORS, "for": FOR_ERRORS, "unpacking": UNPACK_ERRORS, "comprehensions": COMPREHENSION_ERRORS,
    "membership": MEMBERSHIP_ERRORS, "strings": STRING_ERRORS, "raise": RAISE_CASES, "assert": ASSERT_CASES,
}

# Calls that return, one or more per construct (the error groups above return too, now and then).
VALUE_CASES: list[tuple[Callable[..., Any], tuple[object, ...]]] = [
    (load_attribute, (Box(a=[1]),)), (store_attribute, (Box(), "v")), (augment_attribute, (Box(a=2), 3)),
    (delete_attribute, (Box(),)), (load_chain, (Box(inner=Box(a=4)),)), (load_item, ([1, 2, 3], -1)),
    (load_item, ({"k": 1}, "k")), (store_item, ({}, "k", 2)), (delete_item, ([1, 2], 0)),
    (augment_item, ([1], 0, 5)),
    (load_slice, ("abcdef", 1, -1)), (load_extended_slice, ([1, 2, 3, 4, 5], 4, 0, -2)),
    (store_slice, ([1, 2, 3], 1, 2, (7, 8))), (delete_slice, ([1, 2, 3, 4], 1, 2)), (tuple_key, ({}, 1, "b")),
    (list_display, (1, "b")), (tuple_display, (None, [1])), (set_display, (1, "x")), (dict_display, ("k", 2)),
    (starred_list, ((1, 2), 3)), (starred_tuple, ("ab", 1)), (starred_set, ([1, 1], 2)),
    (double_starred, ({"a": 1}, {"b": 2})), (call_with_keywords, (1, 2)),
    (call_builtin_with_keywords, ([3, 1, 2], True)),
    (call_class, (1, "b")), (call_star, ((1, 2),)), (call_double_star, ({"a": 1, "b": 2},)),
    (call_star_and_double_star, ((1,), {"x": 2})), (call_star_with_keywords, ([1, 2], 3)), (call_value, (max, [1, 2])),
    (call_bound_method, (Box(a=3), 2)), (list_methods, ([1, 2], 1)), (string_methods, ("a,b,c", ",")),
    (dict_methods, ({"a": 1}, "b")), (user_methods, (Box(a=2), 3)), (method_with_computed_argument, ([5],)),
    (for_sum, ("abc",)), (for_else_break, ([1, 2, 3], 2)), (for_continue, ([0, 1, "", "x"],)),
    (for_nested, ([[1, 2, 0, 3], [4]],)), (for_unpacking_target, ([("a", 1), ("b", 2)],)),
    (for_starred_target, ([(1, 2, 3), "ab"],)), (for_attribute_and_item_targets, (Box(), [1, 2])),
    (for_over_builtins, ([1, 2],)), (for_over_dict, ({"a": 1},)), (for_mutating, ([1, 2],)),
    (unpack_two, ("ab",)), (unpack_starred, (range(5),)), (unpack_star_first, ([1],)), (unpack_star_only, ("xyz",)),
    (unpack_nested, (((1, 2), [3, 4, 5]),)), (unpack_into_targets, (Box(), (1, 2))),
    (unpack_many, ((1, [2], "3", None, 5.0, (6,)),)), (stores_release_in_order, (12,)),
    (list_comprehension, ([0, 1, 2],)), (set_comprehension, ("abca",)), (dict_comprehension, ("abc",)),
    (nested_comprehension, ([1, 2], [2, 3])), (comprehension_in_comprehension, (["ab", "c"],)),
    (comprehension_scope, ([1, 2],)), (comprehension_reads_locals, ([1, 2], 10)),
    (comprehension_unpacks, ([(1, 2)],)),
    (membership, ("b", "abc")), (membership_branch, (2, {2: 0})), (identity, ([], None)),
    (identity_branch, (None, None)),
    (formatted, ("é",)), (formatted_with_spec, ("x", 5)), (formatted_number, (255,)), (concatenate, ("a", "b")),
    (percent, ("%s-%d", ("x", 3))), (repeat, ("ab", 3)), (format_calls, ([1, "a"],)),
    (walrus_in_condition, ([1, 2, 3],)),
    (walrus_in_loop, ([1, 2],)), (walrus_values, ("v",)), (read_assigned_global, ()),
]




def big_dict_display(key: Any) -> Any:
    # 36 pairs: CPython's compiler stores the pairs of a run longer than 16 one by one (a key that cannot be
    # hashed stops the evaluation there), and a shorter run at once.
    n = noted
    return {
        n(0): n(-0), n(1): n(-1), n(2): n(-2), key: n(-3), n(4): n(-4), n(5): n(-5),
        n(6): n(-6), n(7): n(-7), n(8): n(-8), n(9): n(-9), n(10): n(-10), n(11): n(-11),
        n(12): n(-12), n(13): n(-13), n(14): n(-14), n(15): n(-15), n(16): n(-16), n(17): n(-17),
        n(18): n(-18), n(19): n(-19), n(20): n(-20), n(21): n(-21), n(22): n(-22), n(23): n(-23),
        n(24): n(-24), n(25): n(-25), n(26): n(-26), n(27): n(-27), n(28): n(-28), n(29): n(-29),
        n(30): n(-30), n(31): n(-31), n(32): n(-32), n(33): n(-33), n(34): n(-34), n(35): n(-35),
    }


def big_dict_display_after_double_star(m: Any, key: Any) -> Any:
    n = noted
    return {
        **m,
        n(0): n(-0), n(1): n(-1), n(2): n(-2), n(3): n(-3), n(4): n(-4), n(5): n(-5),
        n(6): n(-6), n(7): n(-7), n(8): n(-8), n(9): n(-9), n(10): n(-10), n(11): n(-11),
        n(12): n(-12), n(13): n(-13), n(14): n(-14), n(15): n(-15), n(16): n(-16), n(17): n(-17),
        n(18): n(-18), n(19): n(-19), key: n(-20), n(21): n(-21),
    }


def big_set_display(key: Any) -> Any:
    n = noted
    return {
        n(0), n(1), n(2), key, n(4), n(5),
        n(6), n(7), n(8), n(9), n(10), n(11),
        n(12), n(13), n(14), n(15), n(16), n(17),
        n(18), n(19), n(20), n(21), n(22), n(23),
        n(24), n(25), n(26), n(27), n(28), n(29),
        n(30), n(31), n(32),
    }


def walrus_everywhere(x: Any) -> Any:
    d = {"a": 1, "b": 2}
    return (two(x, (x := 2)), [x, (x := 3)], x < (x := 4) < 9, d.get(x, (x := 5)), two(x, b=(x := 6)),
            "abcdefghij"[x - 6:(x := 8)], f"{x}{(x := 9)}", {x: (x := 10)}, (x, *[(x := 11)]), x)


def walrus_subscript_owner(xs: Any) -> Any:
    original = xs
    xs[0] = (xs := [7, 8])[1]  # the target after the value: the new list's item
    xs[(xs := original)[0] - 1] += (xs := [5])[0]
    return xs, original


def two(a: Any, b: Any) -> Any:
    return (a, b)


# --- generator expressions: generators of their own code, run by the interpreter as they are consumed -----------

def genexp_sum(xs: Any, k: Any) -> Any:
    return sum(
        x * k for x in xs)


def genexp_clauses(rows: Any) -> Any:
    return list((x, y) for row in rows if row for x in row for y in (x, -x) if y != 2)


def genexp_stops_early(xs: Any) -> Any:
    # any() stops the generator at the first true item: the later items are never looked at.
    return any(noted(x) > 1 for x in xs), all(noted(x) < 3 for x in xs)


def genexp_late_binding(xs: Any) -> Any:
    k = 1
    items = (x + k for x in xs)
    k = 10  # the generator reads k when it runs: the cell's value then
    return list(items)


def genexp_first_iterable_now(xs: Any) -> Any:
    # The first iterable is evaluated (and iter() called on it) when the expression is; the rest when it runs.
    items = (x for x in noted(xs))
    noted("made")
    return list(items)


def genexp_returned(xs: Any) -> Any:
    return (x * 2 for x in xs)


def genexp_nested(xs: Any) -> Any:
    return [sum(x for x in xs if x > limit) for limit in (0, 1)], tuple(x for x in (y for y in xs))


def genexp_joined(words: Any) -> Any:
    return ", ".join(word.upper() for word in words), max(len(word) for word in words)


def genexp_two_on_a_line(xs: Any) -> Any:
    return list(x for x in xs), list(-x for x in xs), (lambda: list(x + 1 for x in xs))()


def genexp_raises(xs: Any) -> Any:
    return sum(10 // x for x in xs)


class GenexpMethod:
    def __init__(self, scale: Any) -> None:
        self.scale = scale

    def scaled(self, xs: Any) -> Any:
        return list(self.scale * x for x in xs)


def comprehension_variable_in_cells(xs: Any) -> Any:
    # One cell per run of the comprehension, shared by the lambdas of its iterations (the interpreter's too).
    functions = [lambda: x for x in xs]
    return [f() for f in functions], {x: list(y for y in xs if y > x) for x in xs}


# --- locals that may be unbound: each read is checked when it runs (UnboundLocalError) --------------------------

def unbound_after_if(flag: Any, value: Any) -> Any:
    if flag:
        result = value * 2
    return result


def unbound_loop_variable(n: Any) -> Any:
    total = 0
    for i in range(n):
        total += i
    return total, i


def unbound_in_finally(path: Any) -> Any:
    try:
        handle = noted(path)
        if path is None:
            raise ValueError("no path")
    finally:
        noted(handle)  # unbound if noted() raised before the assignment
    return handle


def unbound_after_handler(value: Any) -> Any:
    try:
        1 / value
    except ZeroDivisionError as error:
        noted(type(error).__name__)
    return error  # noqa: F821 - the handler deletes its name: always unbound here, or never assigned


def unbound_after_del(flag: Any, value: Any) -> Any:
    x = value
    if flag:
        del x
    return x


def unbound_parameter(n: Any, flag: Any) -> Any:
    if flag:
        del n
    return n + 1


def unbound_in_a_hot_loop(n: Any) -> Any:
    # The maybe-unbound `last` is an object; the loop's other values stay numbers, and overflow to big ints.
    total = 0
    for i in range(n):
        if i % 3 == 0:
            last = total
        total = total * 3 + i
    return total, last


def unbound_delete_twice(value: Any) -> Any:
    x = value
    del x
    del x  # noqa: F821 - the second raises UnboundLocalError


def unbound_caught(flag: Any) -> Any:
    try:
        if flag:
            x = flag
        return x  # the check raises inside the try: its handler catches it
    except UnboundLocalError as error:
        return str(error)


def unbound_read_before_later_operands(flag: Any, divisor: Any) -> Any:
    # The interpreter reads `x` (and raises UnboundLocalError) before it evaluates `1 / divisor`.
    if flag:
        x = [1, 2]
    return x[0] + 1 / divisor, x[int(1 / divisor)]


def unbound_bare_name(flag: Any) -> Any:
    if flag:
        x = flag
    x  # noqa: B018 - read for its error
    return flag


# --- compact ints read inline (stencils' jit_compact_int): the edges of one 30-bit digit --------------------------

DIGIT_EDGES = [0, 1, -1, 2, -2, (1 << 30) - 1, -(1 << 30) + 1, 1 << 30, -(1 << 30), (1 << 30) + 1, 1 << 31,
               -(1 << 31), (1 << 62), -(1 << 63), 1 << 64, -(1 << 64), 3 ** 50]


def items_at(items: Any, keys: Any) -> Any:
    """items[k] for objects k: the inline list read, and the C API's path for the rest."""
    return [items[k] for k in keys]


def store_items_at(items: Any, keys: Any) -> Any:
    for position, k in enumerate(keys):
        items[k] = position
    return items


def compare_pairs(pairs: Any) -> Any:
    """a OP b as conditions (the branch stencils' inline compare of compact ints and floats)."""
    found = []
    for a, b in pairs:
        if a < b:
            found.append("<")
        if a <= b:
            found.append("<=")
        if a == b:
            found.append("==")
        if a != b:
            found.append("!=")
        if a > b:
            found.append(">")
        if a >= b:
            found.append(">=")
    return found


def arithmetic_pairs(pairs: Any) -> Any:
    """+ - * & | ^ (and augmented) of objects: two compact ints are computed inline, the rest by the C API."""
    found = []
    for a, b in pairs:
        c = a
        c += b
        d = a
        d ^= b
        found.append((a + b, a - b, a * b, a & b, a | b, a ^ b, c, d, a ** 2 if type(a) is int else a))
    return found
