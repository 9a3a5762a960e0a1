"""The compile-scaling series: first-call compile time of straight-line functions of 100 to 5000 statements.

Each size is a function of bench.long_functions, compiled fresh (bench.measure.compile_fresh, the median of
``compiles`` compiles, end to end from the source) after its compiled result has been checked against the
interpreter's.  What the series shows is the cost per statement, which must stay flat as the function grows
(compile time linear in its length); the ratio column divides each size's cost per statement by the
smallest size's, measured in the same run.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jit
from bench import long_functions, measure
from bench.suite import COMPILED, WRONG, cpjit_status_of, same_result

SIZES = (100, 250, 500, 1000, 2000, 5000)
QUICK_SIZES = (100, 250, 500, 1000)
ARGS = (5, 1.5)  # n, x of long_function


@dataclass
class ScalingPoint:
    statements: int
    status: str  # COMPILED, WRONG, or why it was not compiled
    seconds: list[float]  # each fresh compile, end to end
    stencils: int
    code_bytes: int

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def per_statement(self) -> float:
        return self.median / self.statements

    def to_json(self) -> dict[str, Any]:
        return {"statements": self.statements, "status": self.status, "median_seconds": self.median,
                "seconds_per_statement": self.per_statement, "samples_seconds": self.seconds,
                "stencils": self.stencils, "code_bytes": self.code_bytes}


def measure_size(statements: int, compiles: int) -> ScalingPoint:
    function = long_functions.function(statements, tag=" (bench)")
    expected = function(*ARGS)
    compiled = jit.compile(function)
    got = compiled(*ARGS)
    status, reason = cpjit_status_of(compiled, ARGS)
    if not same_result(expected, got):
        status = WRONG
    elif status != COMPILED:
        status = f"{status}: {reason}"
    fresh = measure.compile_fresh(function, ARGS, compiles)
    return ScalingPoint(statements, status, fresh.seconds, fresh.stencils, fresh.code_bytes)


def run_series(sizes: Sequence[int], compiles: int, progress: Callable[[str], None]) -> list[ScalingPoint]:
    points = []
    for statements in sizes:
        progress(f"{statements} statements")
        points.append(measure_size(statements, compiles))
    return points
