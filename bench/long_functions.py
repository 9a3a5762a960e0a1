"""Long straight-line functions: the input of the compile-scaling series (issue 15).

``source(n)`` writes a function ``long_function(n, x)`` (an int and a float) of ``n`` top-level statements
that the compiler accepts: int and float assignments over earlier variables, augmented assignments,
comparisons, builtin and ``math`` calls, and every so often an if/else that assigns on both sides, a short
``for`` loop, a division by ``n + k`` (a ZeroDivisionError in the interpreter for ``n == -k``) and a product
with ``n`` (int64 overflow for big ``n``), so that long functions also leave the specialized tier from deep
inside; then one return.  Ints stay below 10**4 (every int statement ends in ``% 1009``) unless ``n`` is big,
floats stay small, so the interpreter and the compiled code agree exactly for any arguments.

``function(n)`` makes it a real function whose source the frontend finds: the text is registered with
linecache under a file name of its own, as if imported from a file.
"""

from __future__ import annotations

import linecache
import math
import random
from collections.abc import Callable
from typing import cast

NAME = "long_function"
SEED = 15
REUSE = 0.2  # chance that a statement assigns an existing variable instead of a new one
IF_EVERY = 10  # statements between two if/else
LOOP_EVERY = 25  # statements between two loops
DIVISION_EVERY = 50  # statements between two divisions by ``n + k``
PRODUCT_EVERY = 40  # statements between two products with ``n``


class Writer:
    """The source of one long function (deterministic for ``n``)."""

    def __init__(self, statements: int) -> None:
        self.statements = statements
        self.rng = random.Random(SEED)
        self.lines = [f"def {NAME}(n, x):", "    acc = n % 1009", "    i0 = 1", "    f0 = x * 0.5"]
        self.ints = ["i0", "acc"]
        self.floats = ["f0"]
        self.count = 0

    def target(self, names: list[str], prefix: str) -> str:
        """A variable to assign: sometimes an existing one (not ``acc``), usually a new one."""
        existing = [name for name in names if name != "acc"]
        if self.rng.random() < REUSE:
            return self.rng.choice(existing)
        self.count += 1
        name = f"{prefix}{self.count}"
        names.append(name)
        return name

    def int_value(self) -> str:
        return self.rng.choice(self.ints[-30:])

    def float_value(self) -> str:
        return self.rng.choice(self.floats[-30:])

    def statement(self, index: int) -> list[str]:
        """The lines of statement ``index`` (1-based), at function-body indentation."""
        # Every operand is chosen before the target is: a new variable is not read before it is assigned.
        if index % DIVISION_EVERY == 0:
            a = self.int_value()
            return [f"{self.target(self.ints, 'i')} = ({a} + 7) // (n + {index})"]
        if index % PRODUCT_EVERY == 0:
            a = self.int_value()
            return [f"{self.target(self.ints, 'i')} = ({a} * n + {index}) % 1009"]
        if index % LOOP_EVERY == 0:
            step = self.int_value()
            return ["for t in range(3):", f"    acc = (acc + t * {step} + 1) % 1009"]
        if index % IF_EVERY == 0:
            left, right = self.int_value(), self.int_value()
            name = self.target(self.ints, "i")
            return [f"if {left} > {right}:", f"    {name} = {left} - {right}", "else:",
                    f"    {name} = ({right} - {left} + 3) % 1009"]
        kind = self.rng.choice(("int", "int", "float", "float", "mixed", "augmented", "compare", "call"))
        if kind == "int":
            a, b = self.int_value(), self.int_value()
            return [f"{self.target(self.ints, 'i')} = ({a} * {self.rng.randint(2, 9)} + {b} - {index}) % 1009"]
        if kind == "float":
            a, b = self.float_value(), self.float_value()
            return [f"{self.target(self.floats, 'f')} = ({a} + {b}) * 0.5 - {self.rng.randint(1, 9)}.25"]
        if kind == "mixed":
            a, b = self.float_value(), self.int_value()
            return [f"{self.target(self.floats, 'f')} = {a} * 0.75 + {b} / 8"]
        if kind == "augmented":
            return [f"acc += {self.int_value()}", "acc %= 1009"]
        if kind == "compare":
            # A bool from a comparison, used as an int at once so that every int variable stays an int.
            a, b, c = self.int_value(), self.float_value(), self.int_value()
            return [f"{self.target(self.ints, 'i')} = {a} + ({a} < {b}) - ({c} == {index % 7})"]
        a = self.float_value()
        call = self.rng.choice((f"math.sqrt(abs({a}) + 1.0)", f"max({a}, {self.float_value()})",
                                f"min({a}, -0.5) * 2.0", f"float(abs({self.int_value()}))"))
        return [f"{self.target(self.floats, 'f')} = {call}"]

    def write(self) -> str:
        for index in range(1, self.statements + 1):
            self.lines.extend("    " + line for line in self.statement(index))
        self.lines.append(f"    return acc + {self.ints[-1]} + int({self.floats[-1]} * 100.0)")
        return "\n".join(self.lines) + "\n"


def source(statements: int) -> str:
    """The text of a function of ``statements`` top-level statements (plus three to start and a return)."""
    return Writer(statements).write()


def function(statements: int, tag: str = "") -> Callable[[int, float], int]:
    """A new function object of ``statements`` statements, its source findable through linecache.

    Each call makes a new function (so the compiler starts from nothing); ``tag`` keeps the file names of
    callers apart.
    """
    text = source(statements)
    filename = f"<cpjit long function {statements}{tag}>"
    lines = text.splitlines(keepends=True)
    # An entry without a modification time: linecache.checkcache keeps it (as for a module's loader).
    linecache.cache[filename] = (len(text), None, lines, filename)
    namespace: dict[str, object] = {"math": math}
    exec(compile(text, filename, "exec"), namespace)
    return cast(Callable[[int, float], int], namespace[NAME])
