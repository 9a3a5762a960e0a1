"""How the suite measures: interleaved timing, and fresh compiles of a kernel and what it calls.

Timing: every variant of a kernel (the interpreter, cpjit, the baselines) is
warmed up, calibrated to a number of calls per sample (so that tiny kernels
such as a trivial call are timed over many calls), then sampled in rounds; each
round runs every variant once, in an order rotated from round to round, so
that a noisy machine slows all variants alike and their ratio holds.  The
median and the minimum of the samples are reported.

Compile time: ``jit.compile`` caches per function, so a fresh compile uses
copies of the kernel and of every function of its module (the callees) in a
new globals dictionary; the library itself is already warm by then.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import jit
from jit import compiler, ir
from jit.backend.emitter import Emitter
from jit.ir import constant_type

CALIBRATION_STEPS = (1, 2, 5)  # numbers of calls tried: 1, 2, 5, 10, 20, 50 ... as timeit.autorange does


@dataclass
class Samples:
    """The seconds per call of one variant, one value per round."""

    number: int  # calls per sample
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def minimum(self) -> float:
        return min(self.seconds)


@contextmanager
def no_gc() -> Iterator[None]:
    """Collect now and keep the collector out of a sample, as timeit does."""
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_calls(function: Callable[..., object], args: Sequence[object], number: int) -> float:
    """Seconds taken by ``number`` calls of ``function(*args)``."""
    loop = itertools.repeat(None, number)
    with no_gc():
        start = time.perf_counter()
        for _ in loop:
            function(*args)
        return time.perf_counter() - start


def calibrate(function: Callable[..., object], args: Sequence[object], min_sample: float) -> int:
    """The smallest number of calls in 1, 2, 5, 10, 20, 50 ... that lasts ``min_sample`` seconds."""
    scale = 1
    while True:
        for step in CALIBRATION_STEPS:
            number = step * scale
            if time_calls(function, args, number) >= min_sample:
                return number
        scale *= 10


def interleaved(variants: Mapping[str, Callable[..., object]], args: Sequence[object], rounds: int,
                min_sample: float, on_round: Callable[[int], None] | None = None) -> dict[str, Samples]:
    """Time every variant ``rounds`` times, rotating their order each round.

    Calibration calls each variant at least once more after the caller's
    warm-up, so every variant is warm when sampling starts.
    """
    names = list(variants)
    samples = {name: Samples(calibrate(variants[name], args, min_sample)) for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            entry = samples[name]
            entry.seconds.append(time_calls(variants[name], args, entry.number) / entry.number)
        if on_round is not None:
            on_round(round_index + 1)
    return samples


def copy_function(func: types.FunctionType, namespace: dict[str, Any]) -> types.FunctionType:
    copy = types.FunctionType(func.__code__, namespace, func.__name__, func.__defaults__, func.__closure__)
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__qualname__ = func.__qualname__
    return copy


def fresh_copy(func: Callable[..., object],
               wrap: Callable[[types.FunctionType], object] = lambda f: f) -> object:
    """``func`` again, with every function of its module copied into a new globals dict, each through ``wrap``.

    A compiler that caches per function object (cpjit) or needs its callees
    compiled too (Numba: ``wrap=numba.njit``) then starts from nothing.
    """
    if not isinstance(func, types.FunctionType):
        raise TypeError(f"a kernel is a plain Python function, not {type(func).__name__}")
    original = func.__globals__
    namespace = dict(original)
    own_name = None
    for name, value in original.items():
        if isinstance(value, types.FunctionType) and value.__globals__ is original:
            namespace[name] = wrap(copy_function(value, namespace))
            if value is func:
                own_name = name
    return namespace[own_name] if own_name is not None else wrap(copy_function(func, namespace))


def dispatcher_of(func: object) -> Any:
    """What cpjit keeps for ``func``: its specializations and fallbacks (compiling it lazily if needed).  For a
    function jit.compile hands back as it is (it cannot be compiled at all), a dispatcher of its own, refused
    with the reason (what compiled callers of the function use)."""
    compiled: Any = jit.compile(cast(Callable[..., object], func))
    dispatcher = getattr(compiled, "__jit_dispatcher__", None)
    if dispatcher is None:
        dispatcher = compiler.dispatcher_of(compiled)
        dispatcher.prepared()
    return dispatcher


@dataclass
class Compilation:
    """A fresh compile of a kernel for one signature, callees included."""

    seconds: list[float]  # wall clock of each fresh compile, end to end
    code_bytes: int  # machine code of the kernel's specializations and its callees'
    stencils: int  # instructions stitched for them
    fallback: str | None  # why the kernel runs in the interpreter, or None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def specializations(compiled: object, signature: tuple[ir.Type, ...]) -> list[Any]:
    """The specialization of ``compiled`` for ``signature``, and those of the functions it calls."""
    found: list[Any] = []
    pending: list[tuple[object, tuple[ir.Type, ...]]] = [(compiled, signature)]
    while pending:
        function, types_in = pending.pop()
        dispatcher = dispatcher_of(function)
        spec = dispatcher.specializations.get(types_in)
        if spec is None or any(spec is seen for seen in found):
            continue
        found.append(spec)
        for op in spec.function.ops:
            if op.opcode is ir.Opcode.CALL_FUNCTION:
                pending.append((op.callee, tuple(
                    spec.facts.types[a] if isinstance(a, ir.Var) else constant_type(a.value) for a in op.args)))
    return found


def compile_fresh(func: Callable[..., object], args: Sequence[object], times: int) -> Compilation:
    """Compile copies of ``func`` ``times`` times for the types of ``args``, without running them."""
    key = tuple(type(value) for value in args)
    seconds: list[float] = []
    compiled: object = None
    signature: tuple[ir.Type, ...] | None = None
    for _ in range(times):
        copy = fresh_copy(func)
        start = time.perf_counter()
        dispatcher = dispatcher_of(copy)
        compiled = dispatcher.callable
        # What the first call does, without running the kernel.
        signature = dispatcher.signature_of(key)
        if signature is not None:
            dispatcher.specialize(signature)
        seconds.append(time.perf_counter() - start)
        if signature is None or signature not in dispatcher.specializations:
            fallback = dispatcher.fallbacks.get(key) or dispatcher.fallbacks.get(None) or "not compiled"
            return Compilation(seconds, 0, 0, fallback)
    assert signature is not None
    found = specializations(compiled, signature)
    code = sum(len(spec.code.code_bytes()) for spec in found)
    stencils = sum(len(spec.lowered.instructions) for spec in found)
    return Compilation(seconds, code, stencils, None)


def stitching(rounds: int, min_sample: float) -> dict[str, Any]:
    """Copy-and-patch alone, on bench.bench_stitch's sequence of 1000 stencils: seconds per stencil.

    ``stitch`` lays out and patches into bytes; ``emit`` adds the arena, the
    copy into executable memory and mprotect: what a compile pays.
    """
    from bench import bench_stitch  # noqa: PLC0415 - the backend's own benchmark module, needs pytest

    emitter = Emitter()
    instructions = bench_stitch.program(sorted(name for name in emitter.target.stencils if name != "RETURN_NULL"))
    samples = interleaved({"stitch": lambda: emitter.stitch(instructions, bench_stitch.BASE),
                           "emit": lambda: emitter.emit(instructions)}, (), rounds, min_sample)
    count = len(instructions)
    return {
        "stencils": count,
        "seconds_per_stencil": samples["stitch"].median / count,
        "min_seconds_per_stencil": samples["stitch"].minimum / count,
        "emit_seconds_per_stencil": samples["emit"].median / count,
        "emit_min_seconds_per_stencil": samples["emit"].minimum / count,
    }
