"""Random programs over objects, compiled and compared with the interpreter.

The generator of tests/test_program_generator.py, extended: the generated function takes, besides its numbers, a
list of numbers ``xs``, a string ``s``, a dict ``d`` of strings to numbers, a tuple ``t`` and ``c``, an instance of
a small class ``Cell`` (attributes ``value`` and ``items``).  Its expressions read them (``len``, subscripts,
``d.get``, ``in``, attributes, ``sum``, method calls, f-strings); its statements mutate them (append, pop, item and
attribute stores, ``del``), loop over them (``for`` over a list, a tuple, a dict's items, ``enumerate``), unpack
them (``a, b = t``, ``a, *rest = xs``), build lists, tuples, dicts and strings from them (displays,
comprehensions, slices, ``%``) into object locals, and raise ``ValueError`` or ``KeyError`` under a condition.
Many programs fail on some arguments (an index out of range, a missing key, a tuple of the wrong length, a
float index): the compiled function must raise the interpreter's exception with its message, or return its value,
and leave the arguments as the interpreter does.

Nothing explodes: objects are built from the arguments and constants only, never from each other, so they stay
small; a list is never grown while a loop runs over it; numbers obey the base generator's rules.
"""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from test_differential import outcome
from test_program_generator import ProgramGenerator, Scope, load, random_argument

import jit

PROGRAMS_PER_BATCH = 12
BATCHES = 16
SLOW_SEEDS = (PROGRAMS_PER_BATCH * BATCHES, 2600)  # beyond the seeds of the fast batches
ARGUMENT_SETS = 8
NUMBER_TYPES = ["int", "float", "bool"]
OBJECT_PARAMETERS = ["xs", "s", "d", "t", "c"]
KEY_CONSTANTS = ["'a'", "'b'", "'z'", "''"]  # single quotes: an f-string (before 3.12) cannot hold its own
CELL_CLASS = '''class Cell:
    """A small class whose attributes the generated code reads and writes."""

    def __init__(self, value, items):
        self.value = value
        self.items = items

    def __repr__(self):
        return f"Cell({vars(self)!r})"


'''


class ObjectProgramGenerator(ProgramGenerator):
    """ProgramGenerator with objects: object parameters, object locals (named o1, o2...) and their kinds."""

    def __init__(self, seed: int) -> None:
        super().__init__(seed)
        self.objects = Scope([])  # object locals and object parameters
        self.kinds: dict[str, str] = {}  # object name -> "numbers" (a list or tuple of numbers), "str", "dict"
        self.iterating: set[str] = set()  # lists a running loop iterates over: never grown meanwhile

    # --- expressions ---------------------------------------------------------------------------------------------

    def object_of(self, *kinds: str) -> str | None:
        names = [name for name in self.objects.definite if self.kinds[name] in kinds]
        if self.objects.maybe and self.rng.random() < 0.01:
            maybe = [name for name in self.objects.maybe if self.kinds[name] in kinds]
            names = maybe or names
        return self.rng.choice(names) if names else None

    def key(self) -> str:
        """A string: a constant, the string parameter, or a string local."""
        text = self.object_of("str")
        return text if text is not None and self.rng.random() < 0.4 else self.rng.choice(KEY_CONSTANTS)

    def index(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return str(self.rng.randint(-1, 1))
        return self.expression(1)  # a float or a big int sometimes: the interpreter's TypeError or IndexError

    def expression(self, budget: int = 3) -> str:
        if self.kinds and self.rng.random() < 0.3:
            made = self.object_expression(max(budget - 1, 0))
            if made is not None:
                return made
        return super().expression(budget)

    def object_expression(self, budget: int) -> str | None:
        """A number (or a bool) computed from objects."""
        numbers, text, mapping = self.object_of("numbers"), self.object_of("str"), self.object_of("dict")
        # The forms that may raise (an index, a key, min() of nothing, an attribute never set) are the rarer ones,
        # so that most calls get far.
        kind = self.rng.choices(
            ["len", "item", "get", "lookup", "in", "not-in", "count", "find", "value", "sum", "max", "min", "first",
             "extra", "items-item", "format-length"],
            weights=[4, 2, 4, 1, 3, 2, 2, 2, 4, 2, 2, 1, 3, 0.3, 1, 1],
        )[0]
        if kind == "len":
            return f"len({self.object_of('numbers', 'str', 'dict')})"
        if kind == "item" and numbers is not None:
            return f"{numbers}[{self.index()}]"
        if kind == "get" and mapping is not None:
            return f"{mapping}.get({self.key()}, {self.leaf()})"
        if kind == "lookup" and mapping is not None:
            return f"{mapping}[{self.key()}]"
        if kind == "in":
            return f"({self.key()} in {mapping})" if mapping is not None and self.rng.random() < 0.5 else \
                f"({self.expression(budget)} in {numbers})"
        if kind == "not-in" and numbers is not None:
            return f"({self.expression(budget)} not in {numbers})"
        if kind == "count" and numbers is not None:
            return f"{numbers}.count({self.expression(budget)})"
        if kind == "find" and text is not None:
            return f"{text}.find({self.key()})"
        if kind == "value":
            return "c.value"
        if kind == "sum" and numbers is not None:
            return f"sum({numbers})"
        if kind == "max" and numbers is not None:
            return f"max({numbers}, default={self.leaf()})"
        if kind == "min" and numbers is not None:
            return f"min({numbers})"  # ValueError when it is empty
        if kind == "first" and numbers is not None:
            return f"({numbers}[0] if {numbers} else {self.leaf()})"
        if kind == "extra":
            return "c.extra"  # AttributeError unless a statement set it
        if kind == "items-item":
            return f"c.items[{self.index()}]"
        if kind == "format-length":
            return f'len(f"{{{self.leaf()}!r:>4}}{{s}}")'
        return None

    def object_value(self) -> tuple[str, str]:
        """An expression making a new object from the arguments and constants, and its kind."""
        kind = self.rng.choice(["list", "tuple", "slice", "starred", "sorted", "comprehension", "f-string",
                                "concatenation", "percent", "upper", "merged", "dict-comprehension", "keywords"])
        if kind == "list":
            return f"[{self.expression(1)}, {self.expression(1)}]", "numbers"
        if kind == "tuple":
            return f"({self.expression(1)}, {self.leaf()})", "numbers"
        if kind == "slice":
            return f"{self.rng.choice(['xs', 't'])}[{self.rng.randint(-3, 3)}:{self.rng.choice(['', '2', '-1'])}]", \
                "numbers"
        if kind == "starred":
            return f"[*t, {self.expression(1)}, *xs]", "numbers"
        if kind == "sorted":
            return f"sorted(xs, reverse={self.rng.choice(['True', 'False'])})", "numbers"
        if kind == "comprehension":
            element = self.fresh("e")
            return (f"[{element} + {self.leaf()} for {element} in {self.rng.choice(['xs', 't', 'c.items'])} "
                    f"if {element} != {self.leaf()}]"), "numbers"
        if kind == "f-string":
            return f'f"{{s}}-{{{self.leaf()}}}:{{{self.leaf()}!r:>3}}"', "str"
        if kind == "concatenation":
            return f"s + {self.key()}", "str"
        if kind == "percent":
            return f'"%s=%d" % (s, {self.expression(1)})', "str"  # %d of a float nan or inf: ValueError
        if kind == "upper":
            return "s.upper().strip()", "str"
        if kind == "merged":
            return f"{{**d, {self.key()}: {self.expression(1)}}}", "dict"
        if kind == "dict-comprehension":
            element = self.fresh("e")
            return f"{{{element}: {self.leaf()} for {element} in s}}", "dict"
        return f"dict(d, z={self.expression(1)})", "dict"

    # --- statements ----------------------------------------------------------------------------------------------

    def statement(self) -> None:
        if self.kinds and self.rng.random() < 0.35:
            self.object_statement()
        else:
            super().statement()

    def grows(self, name: str) -> bool:
        return name not in self.iterating

    def object_statement(self) -> None:
        nested = self.depth < 3 and self.loop_depth < 2
        kind = self.rng.choices(
            ["append", "pop", "store-item", "delete-item", "store-key", "delete-key", "pop-key", "store-value",
             "augment-value", "append-item", "store-extra", "unpack", "unpack-starred", "object-local", "for-list",
             "for-dict", "for-enumerate", "for-string", "raise", "assert"],
            weights=[3, 1, 1, 0.5, 3, 0.5, 1, 2, 1, 1, 1, 0.5, 0.5, 4, 3 if nested else 0, 1 if nested else 0,
                     1 if nested else 0, 1 if nested else 0, 0.5, 0.5],
        )[0]
        if kind == "append" and self.grows("xs"):
            self.emit(f"xs.append({self.expression(2)})")
        elif kind == "pop" and self.grows("xs"):
            self.assign(self.local_target(), "xs.pop()" if self.rng.random() < 0.3 else  # IndexError if empty
                        f"xs.pop() if xs else {self.leaf()}")
        elif kind == "store-item":
            self.emit(f"xs[{self.index()}] = {self.expression(2)}")
        elif kind == "delete-item" and self.grows("xs"):
            self.emit(f"del xs[{self.index()}]")
        elif kind == "store-key":
            self.emit(f"d[{self.key()}] = {self.expression(2)}")
        elif kind == "delete-key":
            self.emit(f"del d[{self.key()}]")  # KeyError; or a dict changed during a loop over it: RuntimeError
        elif kind == "pop-key":
            self.assign(self.local_target(), f"d.pop({self.key()}, {self.leaf()})")
        elif kind == "store-value":
            self.emit(f"c.value = {self.expression(2)}")
        elif kind == "augment-value":
            self.emit(f"c.value += {self.leaf()}")
        elif kind == "append-item" and self.grows("c.items"):
            self.emit(f"c.items.append({self.expression(1)})")
        elif kind == "store-extra":
            self.emit(f"c.extra = {self.expression(1)}")
        elif kind == "unpack":
            first, second = self.fresh("v"), self.fresh("v")
            self.emit(f"{first}, {second} = {self.rng.choice(['t', 'xs', 'c.items'])}")  # ValueError if not 2
            self.scope.assign(first, self.conditional > 0)
            self.scope.assign(second, self.conditional > 0)
        elif kind == "unpack-starred":
            first, rest = self.fresh("v"), self.fresh("o")
            self.emit(f"{first}, *{rest} = {self.rng.choice(['t', 'xs'])}")
            self.scope.assign(first, self.conditional > 0)
            self.object_assigned(rest, "numbers")
        elif kind == "object-local":
            value, object_kind = self.object_value()
            name = self.fresh("o")
            self.emit(f"{name} = {value}")
            self.object_assigned(name, object_kind)
        elif kind == "for-list":
            self.for_over(self.rng.choice(["xs", "t", "c.items", *self.numbers_locals()]))
        elif kind == "for-dict":
            key, value = self.fresh("o"), self.fresh("v")
            self.kinds[key] = "str"
            with self.block(f"for {key}, {value} in d.items():", loop=True):
                self.loop_variables([value], [key], "d")
        elif kind == "for-enumerate":
            position, value = self.fresh("v"), self.fresh("v")
            with self.block(f"for {position}, {value} in enumerate(t):", loop=True):
                self.loop_variables([position, value], [], "t")
        elif kind == "for-string":
            character = self.fresh("o")
            self.kinds[character] = "str"
            with self.block(f"for {character} in s:", loop=True):
                self.loop_variables([], [character], "s")
        elif kind == "raise":
            with self.block(f"if {self.condition()}:"):
                if self.rng.random() < 0.5:
                    self.emit(f'raise ValueError(f"bad {{{self.leaf()}}}", {self.expression(1)})')
                else:
                    self.emit(f"raise KeyError({self.key()})")
        elif kind == "assert":
            self.emit(f'assert {self.condition()}, f"failed at {{{self.leaf()}}}"')
        else:
            self.emit(f"c.value = {self.expression(1)}")

    def numbers_locals(self) -> list[str]:
        return [name for name in self.objects.definite if self.kinds[name] == "numbers" and name.startswith("o")]

    def object_assigned(self, name: str, kind: str) -> None:
        self.kinds[name] = kind
        self.objects.assign(name, self.conditional > 0)

    def for_over(self, iterable: str) -> None:
        variable = self.fresh("v")
        with self.block(f"for {variable} in {iterable}:", loop=True):
            self.loop_variables([variable], [], iterable)
        if self.rng.random() < 0.2:
            with self.block("else:"):
                self.statements(1)

    def loop_variables(self, numbers: list[str], objects: list[str], iterable: str) -> None:
        """The body of a loop whose variables are bound inside it (numbers and objects) over ``iterable``."""
        for name in numbers:
            self.scope.assign(name, conditional=True)
            self.scope.definite.append(name)
        for name in objects:
            self.objects.assign(name, conditional=True)
            self.objects.definite.append(name)
        added = iterable not in self.iterating
        self.iterating.add(iterable)
        self.statements(self.rng.randint(1, 3))
        if added:
            self.iterating.discard(iterable)
        for name in numbers:
            self.scope.definite.remove(name)
        for name in objects:
            self.objects.definite.remove(name)

    # --- the module ----------------------------------------------------------------------------------------------

    def module(self, parameter_count: int) -> str:
        helper = self.helper() if self.rng.random() < 0.3 else []
        self.has_helper = bool(helper)
        self.parameters = [f"p{i}" for i in range(parameter_count)]
        self.scope = Scope(list(self.parameters))
        self.objects = Scope(list(OBJECT_PARAMETERS))
        self.kinds = {"xs": "numbers", "t": "numbers", "s": "str", "d": "dict", "c": "cell"}
        self.lines = []
        self.statements(self.rng.randint(3, 7))
        result = self.object_of("numbers", "str", "dict") or "s"
        self.emit(f"return {self.expression()}, {result}")
        header = f"def generated({', '.join([*self.parameters, *OBJECT_PARAMETERS])}):"
        return "\n".join(["import math", "", "", CELL_CLASS.rstrip("\n"), "", "", *helper, header, *self.lines, ""])


def object_arguments(rng: random.Random, cell_class: type) -> list[object]:
    xs = [rng.randint(-3, 5) for _ in range(rng.choice([0, 1, 2, 3, 3, 4, 5]))]
    s = rng.choice(["", "a", "ab,a", "zé", "b a"])
    d = {key: rng.randint(-2, 9) for key in rng.sample(["a", "b", "z", ""], rng.choice([0, 2, 3, 3, 4, 4]))}
    t = tuple(rng.randint(-2, 4) for _ in range(rng.choice([0, 1, 2, 2, 2, 3])))
    c = cell_class(rng.choice([0, 1, -2, 2.5, 10**20]), [rng.randint(0, 3) for _ in range(rng.randint(0, 3))])
    return [xs, s, d, t, c]


def held(args: list[Any]) -> list[int]:
    """The reference counts of the mutable arguments (fresh copies: only the call and the caller hold them)."""
    xs, _, d, _, c = args[-len(OBJECT_PARAMETERS):]
    return [sys.getrefcount(o) for o in (xs, d, c, c.items)]


def check_program(seed: int, directory: Path, tally: dict[str, int], reasons: list[str]) -> None:
    generator = ObjectProgramGenerator(seed)
    parameter_count = generator.rng.randint(1, 2)
    source = generator.module(parameter_count)
    module = load(directory / f"object_program_{seed}.py", source)
    kinds = [generator.rng.choice(NUMBER_TYPES) for _ in range(parameter_count)]
    fast: Any = jit.compile(module.generated)
    for round_ in range(ARGUMENT_SETS):
        # Mostly one signature of numbers; the last rounds another one, through the same compiled object.
        types = kinds if round_ < ARGUMENT_SETS - 2 else [generator.rng.choice(NUMBER_TYPES) for _ in kinds]
        args = [random_argument(generator.rng, kind) for kind in types] + object_arguments(generator.rng, module.Cell)
        plain_args, fast_args = copy.deepcopy(args), copy.deepcopy(args)
        expected, got = outcome(module.generated, plain_args), outcome(fast, fast_args)
        where = f"seed {seed}, program:\n{source}\ngenerated{tuple(args)!r}"
        assert got == expected, f"{where}: interpreter {expected}, compiled {got}"
        assert repr(fast_args) == repr(plain_args), f"{where}: arguments afterwards {plain_args} != {fast_args}"
        assert held(fast_args) == held(plain_args), f"{where}: reference counts of the arguments differ"
    dispatcher = fast.__jit_dispatcher__
    for reason in dispatcher.fallbacks.values():
        assert f"object_program_{seed}.py, line " in reason, f"seed {seed}: reason without a place: {reason!r}"
        reasons.append(reason)
    tally["fell back" if dispatcher.fallbacks else "compiled"] += 1
    if not dispatcher.fallbacks:
        assert dispatcher.specializations, f"seed {seed}: neither compiled nor fell back:\n{source}"


def run_seeds(seeds: range, directory: Path) -> tuple[dict[str, int], list[str]]:
    tally = {"compiled": 0, "fell back": 0}
    reasons: list[str] = []
    for seed in seeds:
        check_program(seed, directory, tally, reasons)
    return tally, reasons


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_object_programs_match_the_interpreter(batch: int, tmp_path: Path) -> None:
    tally, reasons = run_seeds(range(batch * PROGRAMS_PER_BATCH, (batch + 1) * PROGRAMS_PER_BATCH), tmp_path)
    # Every program compiles (a local that may be unbound is checked where it is read).
    assert tally["compiled"] == PROGRAMS_PER_BATCH and not reasons, (tally, reasons)


@pytest.mark.slow
def test_many_random_object_programs_match_the_interpreter(tmp_path: Path) -> None:
    failures: list[str] = []
    tally = {"compiled": 0, "fell back": 0}
    for seed in range(*SLOW_SEEDS):
        try:
            check_program(seed, tmp_path, tally, [])
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, f"{len(failures)} programs differ; the first:\n{failures[0]}"
    assert tally["compiled"] > tally["fell back"]


def test_object_programs_are_deterministic_and_use_every_construct() -> None:
    sources = [ObjectProgramGenerator(seed).module(2) for seed in range(60)]
    assert sources == [ObjectProgramGenerator(seed).module(2) for seed in range(60)]
    assert len(set(sources)) == 60
    text = "\n".join(sources)
    for construct in ("xs.append(", "xs.pop()", "del xs[", "del d[", "d.get(", "c.value", "c.items", "c.extra",
                      "for ", " in d.items():", "enumerate(t)", "sorted(xs", "[*t,", "f\"", "% (s,", "{**d,",
                      " for e", "*o", "raise ValueError(", "raise KeyError(", "assert ", " in ", "len(", "sum(",
                      "= t\n", "s.upper()", "dict(d,"):
        assert construct in text, construct
