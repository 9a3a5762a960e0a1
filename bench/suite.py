"""One kernel at a time: check every variant's result against the interpreter's, compile, time.

Variants: the interpreter (the original function), cpjit (``jit.compile``),
and, where available, LLVM -O0 and -O2 on the same IR (bench.llvm_baseline)
and Numba (bench.numba_baseline).  A variant whose result differs from the
interpreter's is not timed; for cpjit that is a compiler bug and the suite
reports it.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jit
from bench import llvm_baseline, measure, numba_baseline
from bench.kernels import Kernel

INTERPRETER = "interpreter"
CPJIT = "cpjit"
LLVM_O0 = "LLVM -O0"
LLVM_O2 = "LLVM -O2"
NUMBA = "Numba"
BASELINES = (LLVM_O0, LLVM_O2, NUMBA)

COMPILED = "compiled"
GENERIC = "compiled, generic tier only"
FALLBACK = "interpreter"
WRONG = "WRONG RESULT"


@dataclass(frozen=True)
class Settings:
    quick: bool = False
    rounds: int = 9
    min_sample: float = 0.05  # seconds: short kernels are timed over as many calls as that takes
    compiles: int = 5  # fresh compiles per kernel, median reported
    baselines: bool = True

    @property
    def label(self) -> str:
        return "quick" if self.quick else "full"


def median_ratio(baseline: measure.Samples, other: measure.Samples) -> float:
    """The median over rounds of ``baseline``'s time over ``other``'s in the same round (a speedup of ``other``).

    Both samples of a round ran back to back, so a slow spell of a shared
    machine slows both: their ratio is steadier than a ratio of medians.
    """
    pairs = zip(baseline.seconds, other.seconds, strict=True)
    return statistics.median(first / second for first, second in pairs)


@dataclass
class KernelResult:
    kernel: Kernel
    args: tuple[object, ...]
    result: object  # the interpreter's
    status: str
    reason: str = ""  # why it runs in the interpreter / only in the generic tier
    timings: dict[str, measure.Samples] = field(default_factory=dict)
    compile_seconds: dict[str, float] = field(default_factory=dict)  # median per compiler
    code_bytes: int = 0
    stencils: int = 0
    notes: dict[str, str] = field(default_factory=dict)  # variant -> why it is absent or not timed

    def speedup(self, variant: str = CPJIT) -> float | None:
        """The median over rounds of the interpreter's time over the variant's in the same round (median_ratio)."""
        if variant not in self.timings or INTERPRETER not in self.timings:
            return None
        return median_ratio(self.timings[INTERPRETER], self.timings[variant])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.kernel.name,
            "description": self.kernel.description,
            "args": list(self.args),
            "result": repr(self.result),
            "status": self.status,
            "reason": self.reason,
            "timings": {
                name: {"calls_per_sample": s.number, "median_seconds": s.median, "min_seconds": s.minimum,
                       "samples_seconds": s.seconds}
                for name, s in self.timings.items()
            },
            "speedup": {name: self.speedup(name) for name in self.timings if name != INTERPRETER},
            "compile_seconds": self.compile_seconds,
            "code_bytes": self.code_bytes,
            "stencils": self.stencils,
            "notes": self.notes,
        }


def same_result(expected: object, got: object) -> bool:
    """Equal and of the same type (a float NaN equals a NaN)."""
    if type(expected) is not type(got):
        return False
    if isinstance(expected, float) and isinstance(got, float) and math.isnan(expected):
        return math.isnan(got)
    return expected == got


def without_paths(text: str, kernel: Kernel) -> str:
    """A reason as shown: file names relative to the kernels' folder, so no machine's path is recorded."""
    folder = os.path.dirname(kernel.function.__code__.co_filename)
    return text.replace(folder + os.sep, "")


def cpjit_status_of(compiled: object, args: Sequence[object]) -> tuple[str, str]:
    """Whether the call with ``args`` ran machine code, and if not, why (the reason as cpjit gives it)."""
    dispatcher = measure.dispatcher_of(compiled)
    key = tuple(type(value) for value in args)
    signature = dispatcher.signature_of(key)
    spec = dispatcher.specializations.get(signature) if signature is not None else None
    if spec is None:
        return FALLBACK, dispatcher.fallbacks.get(key) or dispatcher.fallbacks.get(None) or "not compiled"
    if not spec.facts.specializable:
        return GENERIC, spec.facts.generic_reason
    return COMPILED, ""


def cpjit_status(compiled: object, args: Sequence[object], kernel: Kernel) -> tuple[str, str]:
    """cpjit_status_of a kernel, its reason without the kernels' folder."""
    status, reason = cpjit_status_of(compiled, args)
    return status, without_paths(reason, kernel)


def llvm_variants(kernel: Kernel, args: tuple[object, ...], settings: Settings,
                  outcome: KernelResult) -> dict[str, Callable[..., object]]:
    why_not = llvm_baseline.available()
    if why_not is not None:
        outcome.notes[LLVM_O0] = outcome.notes[LLVM_O2] = why_not
        return {}
    try:
        module = llvm_baseline.translate(kernel.function, args)
    except llvm_baseline.BaselineUnsupported as error:
        outcome.notes[LLVM_O0] = outcome.notes[LLVM_O2] = without_paths(str(error), kernel)
        return {}
    found: dict[str, Callable[..., object]] = {}
    for name, level in ((LLVM_O0, 0), (LLVM_O2, 2)):
        builds = [llvm_baseline.compile_module(module, level) for _ in range(settings.compiles)]
        outcome.compile_seconds[name] = statistics.median(b.compile_seconds for b in builds)
        found[name] = builds[-1]
    return found


def numba_variant(kernel: Kernel, args: tuple[object, ...], outcome: KernelResult) -> dict[str, Callable[..., object]]:
    why_not = numba_baseline.available()
    if why_not is not None:
        outcome.notes[NUMBA] = why_not
        return {}
    try:
        compiled = numba_baseline.compile_kernel(kernel.function, args)
    except Exception as error:  # Numba refuses in many ways (typing, lowering ...): the table shows which
        outcome.notes[NUMBA] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        return {}
    outcome.compile_seconds[NUMBA] = compiled.compile_seconds
    return {NUMBA: compiled.function}


def run_kernel(kernel: Kernel, settings: Settings, progress: Callable[[str], None]) -> KernelResult:
    args = kernel.quick_args if settings.quick else kernel.args
    progress("interpreter result")
    expected = kernel.function(*args)
    compiled = jit.compile(kernel.function)
    outcome = KernelResult(kernel, args, expected, COMPILED)
    variants: dict[str, Callable[..., object]] = {INTERPRETER: kernel.function, CPJIT: compiled}
    progress("cpjit compile and result")
    got = compiled(*args)
    outcome.status, outcome.reason = cpjit_status(compiled, args, kernel)
    if not same_result(expected, got):
        outcome.status = WRONG
        outcome.notes[CPJIT] = f"returned {got!r}, the interpreter {expected!r}"
        del variants[CPJIT]
    fresh = measure.compile_fresh(kernel.function, args, settings.compiles)
    if fresh.fallback is None:
        outcome.compile_seconds[CPJIT] = fresh.median
        outcome.code_bytes, outcome.stencils = fresh.code_bytes, fresh.stencils
    if settings.baselines and outcome.status in (COMPILED, WRONG):
        progress("LLVM baseline")
        variants.update(llvm_variants(kernel, args, settings, outcome))
    if settings.baselines:
        progress("Numba")
        variants.update(numba_variant(kernel, args, outcome))
    for name in BASELINES:
        if name in variants:
            got = variants[name](*args)
            if not same_result(expected, got):
                outcome.notes[name] = f"returned {got!r}, the interpreter {expected!r}: not timed"
                del variants[name]
    names = ", ".join(variants)
    outcome.timings = measure.interleaved(
        variants, args, settings.rounds, settings.min_sample,
        on_round=lambda done: progress(f"timing {names}: round {done}/{settings.rounds}"))
    return outcome


def geometric_mean(values: Sequence[float]) -> float | None:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else None
