"""Random small programs over the supported subset, compiled and compared with the interpreter.

A seeded generator writes the source of a module: a function ``generated`` of one to three int, float or bool
parameters, with locals, bounded loops (for over range, while with a counter), break and continue, if/elif/else,
arithmetic, bitwise operators, comparisons, identity with None and True, None as a value, calls of builtins, of
math functions and of a second generated function, and returns.
The module is written to a file and imported, so that the compiler finds its source through linecache.  The
compiled function must give the interpreter's outcome (value or exception) on random arguments.  Programs that
read a local that may be unbound must run in the interpreter with a recorded reason instead.  Each program is
also called with arguments of two signatures in turn, through one compiled object.

Int values cannot explode: a product has a parameter or a constant on one side, parameters are never multiplied in
place, a power has a constant exponent and such a base, and loops run at most a few times, so ints stay far below a
million bits.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_differential import FLOAT_EDGES, INT_EDGES, assert_same, outcome

import jit

PROGRAMS_PER_BATCH = 15
BATCHES = 30
SLOW_SEEDS = (PROGRAMS_PER_BATCH * BATCHES, 2500)  # beyond the seeds of the fast batches
ARGUMENT_SETS = 8
MAX_LOOP_DEPTH = 2

INT_CONSTANTS = [0, 1, 2, 3, 7, -1, -4, 10, 255, 2**31, 2**62, 2**63 - 1, -(2**63) + 1]
FLOAT_CONSTANTS = [0.5, -0.0, 1.5, 2.0, -3.25, 1e300, 1e-320]
ARITHMETIC = ["+", "-", "/", "//", "%"]
COMPARISONS = ["<", "<=", ">", ">=", "==", "!="]
BITWISE = ["&", "|", "^"]
SHIFT_COUNTS = ["0", "1", "3", "13", "-1"]  # constants: a shift by a value would make million-bit ints
EXPONENTS = ["2", "3", "0", "-1", "0.5", "-2"]
UNARY_CALLS = ["abs", "int", "float", "math.sqrt", "math.floor", "math.fabs", "math.atan", "math.isnan"]
BINARY_CALLS = ["min", "max", "math.atan2", "math.hypot", "math.copysign"]
ARGUMENT_TYPES = ["int", "float", "bool"]


@dataclass
class Scope:
    """Names a generated expression may read: surely assigned ones, and ones assigned on some path only."""

    definite: list[str]
    maybe: list[str] = field(default_factory=list)

    def assign(self, name: str, conditional: bool) -> None:
        if name in self.definite:
            return
        if conditional:
            if name not in self.maybe:
                self.maybe.append(name)
        else:
            self.definite.append(name)
            if name in self.maybe:
                self.maybe.remove(name)


class ProgramGenerator:
    """Source text of one random module (deterministic for a seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.depth = 0  # indentation level inside the function
        self.loop_depth = 0
        self.conditional = 0  # > 0 inside an if or a loop: assignments there may not happen
        self.counter = 0
        self.has_helper = False
        self.parameters: list[str] = []
        self.scope = Scope([])

    # --- expressions ---------------------------------------------------------------------------------------------

    def name(self) -> str:
        if self.scope.maybe and self.rng.random() < 0.01:
            return self.rng.choice(self.scope.maybe)
        return self.rng.choice(self.scope.definite)

    def constant(self) -> str:
        roll = self.rng.random()
        if roll < 0.6:
            return repr(self.rng.choice(INT_CONSTANTS))
        if roll < 0.9:
            return repr(self.rng.choice(FLOAT_CONSTANTS))
        return self.rng.choice(["True", "False"])

    def leaf(self) -> str:
        """A value that grows at most additively from one loop iteration to the next."""
        if self.rng.random() < 0.6:
            return self.rng.choice(self.parameters)
        return self.constant()

    def expression(self, budget: int = 3) -> str:
        if budget <= 0:
            return self.name() if self.rng.random() < 0.7 else self.constant()
        sub = budget - 1
        kind = self.rng.choices(
            ["leaf", "arithmetic", "product", "power", "unary", "compare", "chain", "bool", "not", "ifexp",
             "call1", "call2", "helper", "bitwise", "shift", "invert", "identity", "optional"],
            weights=[4, 6, 3, 1, 2, 2, 1, 1, 1, 1, 2, 2, 1 if self.has_helper else 0, 1, 1, 1, 1, 1],
        )[0]
        if kind == "leaf":
            return self.name() if self.rng.random() < 0.6 else self.constant()
        if kind == "arithmetic":
            return f"({self.expression(sub)} {self.rng.choice(ARITHMETIC)} {self.expression(sub)})"
        if kind == "product":
            return f"({self.expression(sub)} * {self.leaf()})"
        if kind == "power":
            return f"({self.leaf()} ** {self.rng.choice(EXPONENTS)})"
        if kind == "unary":
            return f"(-{self.expression(sub)})"
        if kind == "compare":
            return f"({self.expression(sub)} {self.rng.choice(COMPARISONS)} {self.expression(sub)})"
        if kind == "chain":
            first, second = self.rng.choice(COMPARISONS), self.rng.choice(COMPARISONS)
            return f"({self.expression(sub)} {first} {self.expression(sub)} {second} {self.expression(sub)})"
        if kind == "bool":
            return f"({self.expression(sub)} {self.rng.choice(['and', 'or'])} {self.expression(sub)})"
        if kind == "not":
            return f"(not {self.expression(sub)})"
        if kind == "ifexp":
            return f"({self.expression(sub)} if {self.condition()} else {self.expression(sub)})"
        if kind == "bitwise":  # of floats: the interpreter's TypeError
            return f"({self.expression(sub)} {self.rng.choice(BITWISE)} {self.expression(sub)})"
        if kind == "shift":
            return f"({self.expression(sub)} {self.rng.choice(['<<', '>>'])} {self.rng.choice(SHIFT_COUNTS)})"
        if kind == "invert":
            return f"(~{self.expression(sub)})"
        if kind == "identity":
            # Of a name: `3 is None` would be a SyntaxWarning.
            return f"({self.name()} {self.rng.choice(['is', 'is not'])} {self.rng.choice(['None', 'True'])})"
        if kind == "optional":  # None as a value: arithmetic on it raises TypeError
            return f"({self.expression(sub)} if {self.condition()} else None)"
        if kind == "call1":
            return f"{self.rng.choice(UNARY_CALLS)}({self.expression(sub)})"
        if kind == "call2":
            return f"{self.rng.choice(BINARY_CALLS)}({self.expression(sub)}, {self.expression(sub)})"
        return f"helper({self.leaf()}, {self.expression(sub)})"

    def condition(self) -> str:
        if self.rng.random() < 0.7:
            return f"{self.expression(1)} {self.rng.choice(COMPARISONS)} {self.expression(1)}"
        return self.expression(2)

    # --- statements ----------------------------------------------------------------------------------------------

    def emit(self, text: str) -> None:
        self.lines.append("    " * (self.depth + 1) + text)

    @contextmanager
    def block(self, header: str, *, loop: bool = False) -> Iterator[None]:
        self.emit(header)
        self.depth += 1
        self.conditional += 1
        self.loop_depth += loop
        try:
            yield
        finally:
            self.depth -= 1
            self.conditional -= 1
            self.loop_depth -= loop

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def assign(self, name: str, value: str) -> None:
        self.emit(f"{name} = {value}")
        self.scope.assign(name, self.conditional > 0)

    def local_target(self) -> str:
        locals_ = [n for n in self.scope.definite + self.scope.maybe if n.startswith("v")]
        if locals_ and self.rng.random() < 0.6:
            return self.rng.choice(locals_)
        return self.fresh("v")

    def statements(self, count: int) -> None:
        for _ in range(count):
            self.statement()

    def statement(self) -> None:
        nested = self.depth < 3
        kind = self.rng.choices(
            ["assign", "augmented", "tuple", "if", "for", "while", "break", "return"],
            weights=[5, 3, 1, 2 if nested else 0, 2 if nested and self.loop_depth < MAX_LOOP_DEPTH else 0,
                     1 if nested and self.loop_depth < MAX_LOOP_DEPTH else 0, 2 if self.loop_depth else 0,
                     1 if self.conditional else 0],
        )[0]
        if kind == "assign":
            self.assign(self.local_target(), self.expression())
        elif kind == "augmented":
            operator = self.rng.choice([*ARITHMETIC, "*"])
            # A parameter stays a leaf that grows at most additively: it is never multiplied in place.
            targets = [n for n in self.scope.definite if n.startswith("v") or (operator != "*" and n.startswith("p"))]
            if not targets:
                self.assign(self.fresh("v"), self.expression())
                return
            value = self.leaf() if operator == "*" else self.expression(2)
            self.emit(f"{self.rng.choice(targets)} {operator}= {value}")
        elif kind == "tuple":
            # Sometimes a swap of two existing names, whose right side reads the old values.
            first = self.local_target()
            second = self.rng.choice([self.fresh("v"), *(n for n in self.scope.definite if n.startswith("v"))])
            if first == second:
                second = self.fresh("v")
            values = f"{second}, {self.expression(2)}" if second in self.scope.definite else \
                f"{self.expression(2)}, {self.expression(2)}"
            self.emit(f"{first}, {second} = {values}")
            self.scope.assign(first, self.conditional > 0)
            self.scope.assign(second, self.conditional > 0)
        elif kind == "if":
            self.if_statement()
        elif kind == "for":
            self.for_loop()
        elif kind == "while":
            self.while_loop()
        elif kind == "break":
            with self.block(f"if {self.condition()}:"):
                self.emit(self.rng.choice(["break", "continue"]))
        else:
            self.emit(f"return {self.expression()}")

    def if_statement(self) -> None:
        with self.block(f"if {self.condition()}:"):
            self.statements(self.rng.randint(1, 3))
        for _ in range(self.rng.randint(0, 2)):
            with self.block(f"elif {self.condition()}:"):
                self.statements(self.rng.randint(1, 2))
        if self.rng.random() < 0.5:
            with self.block("else:"):
                self.statements(self.rng.randint(1, 2))

    def range_arguments(self) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            return str(self.rng.randint(0, 5))
        if roll < 0.6:
            start = self.rng.randint(-4, 4)
            return f"{start}, {start + self.rng.randint(-2, 5)}"
        if roll < 0.8:
            start, step = self.rng.randint(-6, 6), self.rng.choice([-3, -2, -1, 1, 2, 3])
            return f"{start}, {start + step * self.rng.randint(-1, 4)}, {step}"
        # A bound computed from the arguments; int() of nan or inf raises as in the interpreter.
        return f"int({self.leaf()}) % {self.rng.randint(1, 4)}"

    def for_loop(self) -> None:
        variable = self.fresh("k")
        with self.block(f"for {variable} in range({self.range_arguments()}):", loop=True):
            self.scope.assign(variable, conditional=True)
            self.scope.definite.append(variable)  # inside the body the loop variable is bound
            self.statements(self.rng.randint(1, 3))
            self.scope.definite.remove(variable)
        if self.rng.random() < 0.2:
            with self.block("else:"):
                self.statements(1)

    def while_loop(self) -> None:
        counter = self.fresh("w")
        self.assign(counter, "0")
        extra = f" and {self.condition()}" if self.rng.random() < 0.4 else ""
        with self.block(f"while {counter} < {self.rng.randint(1, 4)}{extra}:", loop=True):
            self.emit(f"{counter} += 1")  # first, so that 'continue' cannot skip it
            self.statements(self.rng.randint(1, 3))
        if self.rng.random() < 0.2:
            with self.block("else:"):
                self.statements(1)

    # --- the module ----------------------------------------------------------------------------------------------

    def helper(self) -> list[str]:
        """A function the generated one calls; half of them recurse, at most 20 deep (nan stops at once)."""
        self.parameters = ["a", "b"]
        self.scope = Scope(["a", "b"])
        self.lines = []
        self.has_helper = False
        recursive = self.rng.random() < 0.5
        self.emit("if not 0 < b <= 20:" if recursive else f"if {self.condition()}:")
        self.lines.append("        " + f"return {self.expression(2)}")
        if recursive:
            self.emit(f"return helper({self.expression(1)}, b - {self.rng.choice(['1', '1.5', 'True'])}) "
                      f"{self.rng.choice(ARITHMETIC)} {self.expression(1)}")
        else:
            self.emit(f"return {self.expression(2)}")
        return ["def helper(a, b):", *self.lines, "", ""]

    def module(self, parameter_count: int) -> str:
        helper = self.helper() if self.rng.random() < 0.4 else []
        self.has_helper = bool(helper)
        self.parameters = [f"p{i}" for i in range(parameter_count)]
        self.scope = Scope(list(self.parameters))
        self.lines = []
        self.statements(self.rng.randint(2, 6))
        self.emit(f"return {self.expression()}")
        header = f"def generated({', '.join(self.parameters)}):"
        return "\n".join(["import math", "", "", *helper, header, *self.lines, ""])


def random_argument(rng: random.Random, kind: str) -> object:
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        roll = rng.random()
        if roll < 0.4:
            return rng.choice(INT_EDGES)
        return rng.randint(-20, 20) if roll < 0.8 else rng.randint(-(2**64), 2**64)
    roll = rng.random()
    return rng.choice(FLOAT_EDGES) if roll < 0.4 else rng.uniform(-50, 50) if roll < 0.8 else rng.uniform(-1e300, 1e300)


def load(path: Path, source: str) -> ModuleType:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Tally:
    compiled: int = 0
    fell_back: int = 0
    reasons: list[str] = field(default_factory=list)


def check_program(seed: int, directory: Path, tally: Tally) -> None:
    generator = ProgramGenerator(seed)
    parameter_count = generator.rng.randint(1, 3)
    source = generator.module(parameter_count)
    module = load(directory / f"generated_{seed}.py", source)
    kinds = [generator.rng.choice(ARGUMENT_TYPES) for _ in range(parameter_count)]
    fast: Any = None
    for _ in range(ARGUMENT_SETS):
        args = [random_argument(generator.rng, kind) for kind in kinds]
        try:
            fast = assert_same(module.generated, *args, compiled=False)
        except AssertionError as error:
            raise AssertionError(f"seed {seed}, program:\n{source}\n{error}") from None
    # One compiled object, two signatures in turn: the dispatcher picks the specialization by argument types.
    shared: Any = jit.compile(module.generated)
    other = [generator.rng.choice(ARGUMENT_TYPES) for _ in range(parameter_count)]
    for round_ in range(ARGUMENT_SETS):
        args = [random_argument(generator.rng, kind) for kind in (kinds, other)[round_ % 2]]
        expected, got = outcome(module.generated, args), outcome(shared, args)
        assert got == expected, f"seed {seed}, program:\n{source}\ngenerated{tuple(args)}: {expected} != {got}"
    for reason in shared.__jit_dispatcher__.fallbacks.values():
        assert f"generated_{seed}.py, line " in reason, f"seed {seed}: reason without a place: {reason!r}"
    dispatcher = fast.__jit_dispatcher__
    if dispatcher.fallbacks:
        # Never silently: each signature that runs in the interpreter says why, naming the generated file.
        for reason in dispatcher.fallbacks.values():
            assert f"generated_{seed}.py, line " in reason, f"seed {seed}: reason without a place: {reason!r}"
            tally.reasons.append(reason)
        tally.fell_back += 1
    else:
        assert dispatcher.specializations, f"seed {seed}: neither compiled nor fell back:\n{source}"
        tally.compiled += 1


@pytest.mark.parametrize("batch", range(BATCHES))
def test_random_programs_match_the_interpreter(batch: int, tmp_path: Path) -> None:
    tally = Tally()
    for seed in range(batch * PROGRAMS_PER_BATCH, (batch + 1) * PROGRAMS_PER_BATCH):
        check_program(seed, tmp_path, tally)
    # Every program compiles (a local that may be unbound is checked where it is read).
    assert tally.compiled == PROGRAMS_PER_BATCH and not tally.reasons, (tally, tally.reasons)


@pytest.mark.slow
def test_thousands_of_random_programs_match_the_interpreter(tmp_path: Path) -> None:
    tally = Tally()
    failures: list[str] = []
    for seed in range(*SLOW_SEEDS):
        try:
            check_program(seed, tmp_path, tally)
        except AssertionError as error:
            failures.append(str(error))
    assert not failures, f"{len(failures)} programs differ; the first:\n{failures[0]}"
    assert tally.compiled > tally.fell_back


def test_generated_programs_are_deterministic_and_varied() -> None:
    sources = [ProgramGenerator(seed).module(2) for seed in range(30)]
    assert sources == [ProgramGenerator(seed).module(2) for seed in range(30)]
    assert len(set(sources)) == 30
    text = "\n".join(sources)
    for construct in ("for ", "while ", "if ", "elif ", "else:", "break", "continue", "return", "+=", " and ",
                      " or ", "not ", "range(", "min(", "math.", "helper(", " ** ", ", v", " & ", " << ", "~",
                      " is None", "else None"):
        assert construct in text, construct


MAYBE_UNBOUND = {
    "read-after-if": "def generated(p0):\n    if p0 > 0:\n        v1 = p0\n    return v1\n",
    "self-assignment": "def generated(p0):\n    if p0 > 0:\n        v1 = 1\n    else:\n        v1 = v1\n"
                       "    return p0\n",
    "loop-variable-after-loop": "def generated(p0):\n    for k1 in range(int(p0)):\n        pass\n    return k1\n",
}


@pytest.mark.parametrize("name", MAYBE_UNBOUND)
def test_maybe_unbound_local_compiles_and_raises_the_interpreters_error(name: str, tmp_path: Path) -> None:
    module = load(tmp_path / f"{name.replace('-', '_')}.py", MAYBE_UNBOUND[name])
    for value in (1, -1, 2.5, -0.0):
        fast = assert_same(module.generated, value)
    assert not fast.__jit_dispatcher__.fallbacks
