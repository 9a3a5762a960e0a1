"""Call forms: what calling a compiled function costs, per way of calling it (``python -m bench.call_forms``).

Each form calls a small function the same way twice, once as the plain Python function and once as what
``jit.compile`` returned, in interleaved rounds of ``timeit`` in this process, so that a busy machine slows both
alike.  Reported per form: the median time per call of each, and the median over rounds of their ratio (compiled
over plain: below 1 the compiled call is cheaper).  Issue 12's budget is at most 1.1x for every form.

The forms: positional arguments (compiled), keywords, defaults, ``*args``, a method called on an instance,
argument types that have no specialization (str), and a function that cannot be compiled at all, called
positionally and with keywords.  Every compiled call is checked against the plain one first.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import jit

BUDGET = 1.1  # compiled call / plain call
NUMBER = 20_000  # calls per timing
QUICK_NUMBER = 2_000


def add(a: Any, b: Any = 1) -> Any:
    return a + b


def not_compiled(a: Any, b: Any = 1) -> Any:
    match a:  # a match statement, which cpjit does not compile: the whole function runs in the interpreter
        case _:
            return b


class Point:
    def __init__(self) -> None:
        self.x = 1

    def shifted(self, dx: Any) -> Any:
        return dx + 1


class CompiledPoint(Point):
    shifted = jit.compile(Point.shifted)


@dataclass(frozen=True)
class Form:
    name: str
    statement: str  # calls `f` with `t` as *args, or the method of `p` (see namespaces)
    plain: Callable[..., Any]
    compiled: Callable[..., Any]


def forms() -> list[Form]:
    fast_add: Any = jit.compile(add)
    fast_not_compiled: Any = jit.compile(not_compiled)
    return [
        Form("positional", "f(1, 2)", add, fast_add),
        Form("keywords", "f(1, b=2)", add, fast_add),
        Form("defaults", "f(1)", add, fast_add),
        Form("*args", "f(*t)", add, fast_add),
        Form("method", "p.shifted(1)", Point.shifted, CompiledPoint.shifted),
        Form("argument types without specialization", "f('a', 'b')", add, fast_add),
        Form("function that cannot compile", "f(1, 2)", not_compiled, fast_not_compiled),
        Form("function that cannot compile, keywords", "f(1, b=2)", not_compiled, fast_not_compiled),
    ]


@dataclass(frozen=True)
class FormResult:
    name: str
    plain_seconds: float  # median per call
    compiled_seconds: float
    ratio: float  # median of the rounds' compiled / plain

    def to_json(self) -> dict[str, object]:
        return {"form": self.name, "plain_ns": self.plain_seconds * 1e9, "compiled_ns": self.compiled_seconds * 1e9,
                "ratio": self.ratio, "budget": BUDGET}


def namespaces(form: Form) -> tuple[dict[str, object], dict[str, object]]:
    if form.name == "method":
        return {"p": Point()}, {"p": CompiledPoint()}
    return {"f": form.plain, "t": (1, 2)}, {"f": form.compiled, "t": (1, 2)}


def check(form: Form) -> None:
    plain, compiled = namespaces(form)
    if eval(form.statement, plain) != eval(form.statement, compiled):
        raise AssertionError(f"{form.name}: the compiled call gave another result")


def measure_form(form: Form, rounds: int, number: int) -> FormResult:
    check(form)
    plain_ns, compiled_ns = namespaces(form)
    plain_times, compiled_times, ratios = [], [], []
    for _ in range(rounds):
        plain = timeit.timeit(form.statement, globals=plain_ns, number=number) / number
        compiled = timeit.timeit(form.statement, globals=compiled_ns, number=number) / number
        plain_times.append(plain)
        compiled_times.append(compiled)
        ratios.append(compiled / plain)
    return FormResult(form.name, statistics.median(plain_times), statistics.median(compiled_times),
                      statistics.median(ratios))


def measure_call_forms(rounds: int, quick: bool = False) -> list[FormResult]:
    number = QUICK_NUMBER if quick else NUMBER
    return [measure_form(form, rounds, number) for form in forms()]


def call_forms_table(results: list[FormResult]) -> str:
    header = (f"Call forms (median of interleaved timeit rounds in one process; ratio: compiled / plain, "
              f"the median of the rounds'; budget {BUDGET}x)")
    widths = (max(len(r.name) for r in results), 9, 9, 7, 10)
    names = ("form", "plain", "compiled", "ratio", "budget")
    lines = [header, "  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    for r in results:
        verdict = "within" if r.ratio <= BUDGET else "OVER"
        cells = (r.name, f"{r.plain_seconds * 1e9:.1f} ns", f"{r.compiled_seconds * 1e9:.1f} ns",
                 f"{r.ratio:.2f}x", verdict)
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)))
    return "\n".join(lines)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.call_forms", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args(argv)
    print(call_forms_table(measure_call_forms(arguments.rounds, arguments.quick)), file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
