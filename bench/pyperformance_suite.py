"""pyperformance's benchmarks in the interpreter and with every function and method compiled (--suite pyperformance).

Issue 9's yardstick for the object tier.  The benchmark code is pyperformance's own, as installed
(``pip install pyperformance``, in the ``bench`` and ``test`` extras): each ``bm_*/run_benchmark.py`` is imported by
path twice, as two separate modules, without running its ``__main__`` block (the pyperf runner).  One module stays
as it is; in the other, ``compile_module`` replaces every function and method defined there with
``jit.compile`` of it.  Each benchmark's entry below says how to run one workload of a given size on a module and
what to compare: the workload's value, what it printed, or the exception it raised, which must be the same in both
modes.  Then both modes are timed side by side in interleaved rounds (bench.measure) and the table gives the ratio
interpreter time / compiled time per benchmark, their geometric mean, and how many of the module's functions ran
machine code (the others ran in the interpreter, most of them today, with cpjit's reason in the JSON results).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import copy
import importlib.util
import io
import re
import tempfile
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jit
from bench import measure
from bench.report import format_ratio, format_seconds, format_table
from bench.suite import CPJIT, INTERPRETER, WRONG, Settings, geometric_mean, median_ratio

EQUAL = "equal"
INSTALL_HINT = "pip install pyperformance (in cpjit's bench and test extras)"

Workload = Callable[[], object]


@dataclass(frozen=True)
class Benchmark:
    """One pyperformance benchmark: its file, and how to make a workload of a given size on a module of it."""

    name: str
    folder: str  # its folder in pyperformance's data files: bm_<folder>/run_benchmark.py
    prepare: Callable[[types.ModuleType, int], Workload]  # the set-up (not timed) that returns the workload (timed)
    size: int
    quick_size: int
    measures: str  # what the size counts, and what is compared


# --- workloads: pyperformance's functions, called as its runner would, with a result to compare -------------------

def written_file(write: Callable[[str], object]) -> bytes:
    """What ``write(path)`` writes to a fresh file (the PPM pictures of chaos and raytrace)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "out")
        write(str(path))
        return path.read_bytes()


def nbody(module: Any, steps: int) -> Workload:
    module.offset_momentum(module.BODIES["sun"])

    def run() -> object:
        before = module.report_energy()
        module.advance(0.01, steps)
        return before, module.report_energy(), copy.deepcopy(module.SYSTEM)
    return run


def spectral_norm(module: Any, n: int) -> Workload:
    def run() -> object:
        u = [1] * n
        for _ in range(10):  # bench_spectral_norm's ten steps of the power method
            v = module.eval_AtA_times_u(u)
            u = module.eval_AtA_times_u(v)
        return u, v
    return run


def richards(module: Any, iterations: int) -> Workload:
    def run() -> object:
        area = module.taskWorkArea
        return module.Richards().run(iterations), area.holdCount, area.qpktCount
    return run


def deltablue(module: Any, n: int) -> Workload:
    def run() -> object:
        module.delta_blue(n)  # prints if a test fails
        return module.planner.current_mark
    return run


class CallingRunner:
    """Enough of pyperf.Runner for a benchmark's ``main(runner, args)``: it keeps the function it is given to time."""

    def __init__(self) -> None:
        self.metadata: dict[str, object] = {}
        self.timed: tuple[Callable[..., object], tuple[object, ...]] | None = None

    def bench_func(self, name: str, func: Callable[..., object], *args: object) -> None:
        self.timed = (func, args)


def chaos(module: Any, iterations: int) -> Workload:
    runner = CallingRunner()  # main() makes the splines and the Chaosgame, and hands create_image_chaos over
    module.main(runner, argparse.Namespace(thickness=module.DEFAULT_THICKNESS, width=module.DEFAULT_WIDTH,
                                           height=module.DEFAULT_HEIGHT, iterations=iterations, filename=None,
                                           rng_seed=module.DEFAULT_RNG_SEED))
    assert runner.timed is not None
    create_image, (width, height, _, _, seed) = runner.timed
    return lambda: written_file(lambda path: create_image(width, height, iterations, path, seed))


def go(module: Any, games: int) -> Workload:
    module.GAMES = games  # play-outs per move (pyperformance: 200)
    return module.versus_cpu


def hexiom(module: Any, level: int) -> Workload:
    board = module.LEVELS[level][0].strip()

    def run() -> object:
        output = io.StringIO()
        module.solve_file(board, module.Done.FIRST_STRATEGY, module.DESCENDING, output)
        return output.getvalue()
    return run


def sor(module: Any, n: int) -> Workload:
    # A random grid rather than bench_SOR's zeros (the same work), so that the values say something.
    start = module.Random(7).RandomMatrix(module.Array2D(n, n))

    def run() -> object:
        grid = module.Array2D(n, n)
        grid.copy_data_from(start)
        module.SOR_execute(1.25, grid, 10, module.Array2D)
        return grid.data.tolist()
    return run


def sparse_mat_mult(module: Any, iterations: int) -> Workload:
    # A matrix of bench_SparseMatMult's shape (1000 x 1000, 50 entries a row) in compressed rows, of random values
    # rather than its zeros, so that the product says something.
    size, per_row = 1000, 50
    random = module.Random(7)
    values, x = random.RandomVector(per_row * size), random.RandomVector(size)
    rows = module.array("i", range(0, per_row * size + 1, per_row))
    columns = module.array("i", [(r + i * size // per_row) % size for r in range(size) for i in range(per_row)])

    def run() -> object:
        y = module.array("d", [0.0]) * size
        module.SparseCompRow_matmult(size, y, values, rows, columns, x, iterations)
        return y.tolist()
    return run


def lu(module: Any, n: int) -> Workload:
    matrix = module.Random(7).RandomMatrix(module.ArrayList(n, n))

    def run() -> object:
        factors, pivot = module.ArrayList(n, n), module.array("i", [0]) * n
        module.LU(factors, matrix, pivot)
        return [row.tolist() for row in factors.data], pivot.tolist()
    return run


def fft(module: Any, n: int) -> Workload:
    start = module.Random(7).RandomVector(2 * n)

    def run() -> object:
        data = module.copy_vector(start)
        for _ in range(50):  # bench_FFT's cycles
            module.FFT_transform(2 * n, data)
            module.FFT_inverse(2 * n, data)
        return data.tolist()
    return run


def unpack_sequence(module: Any, loops: int) -> Workload:
    def run() -> object:
        module.bench_all(loops)  # returns its own timing: what is compared is that it ran, and the error below
        try:
            module.do_unpacking(1, list(range(11)))
        except ValueError as error:
            return str(error)
        return None
    return run


def json_dumps(module: Any, repeat: int) -> Workload:
    # main()'s data for all the cases; json.dumps itself is C: the benchmark's own Python is its loop.
    data = [(obj, range(count * repeat)) for obj, count in (getattr(module, case) for case in module.CASES)]
    return lambda: module.bench_json_dumps(data)


# Full sizes are pyperformance's defaults (hexiom's level, go's 200 play-outs...), but for loop counts that its runner
# chooses; quick sizes take a few milliseconds.
BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("nbody", "nbody", nbody, 20_000, 200, "advance() steps; energies and bodies compared"),
    Benchmark("spectral_norm", "spectral_norm", spectral_norm, 130, 20, "vector length; vectors compared"),
    Benchmark("float", "float", lambda m, n: lambda: vars_of(m.benchmark(n)), 100_000, 2_000,
              "points; the maximum point compared"),
    Benchmark("fannkuch", "fannkuch", lambda m, n: lambda: m.fannkuch(n), 9, 6, "n; the flips compared"),
    Benchmark("nqueens", "nqueens", lambda m, n: lambda: list(m.n_queens(n)), 8, 5, "queens; solutions compared"),
    Benchmark("richards", "richards", richards, 1, 1, "iterations; verdict and counts compared"),
    Benchmark("deltablue", "deltablue", deltablue, 100, 20, "chain length; output and marks compared"),
    Benchmark("chaos", "chaos", chaos, 5000, 200, "iterations; the PPM picture compared"),
    Benchmark("raytrace", "raytrace", lambda m, n: lambda: written_file(lambda path: m.bench_raytrace(1, n, n, path)),
              100, 12, "width and height; the PPM picture compared"),
    Benchmark("go", "go", go, 200, 5, "play-outs; the move compared"),
    Benchmark("hexiom", "hexiom", hexiom, 25, 10, "level; the solution compared"),
    Benchmark("scimark_sor", "scimark", sor, 100, 12, "grid side; the grid compared"),
    Benchmark("scimark_sparse_mat_mult", "scimark", sparse_mat_mult, 10, 1, "products; the vector compared"),
    Benchmark("scimark_monte_carlo", "scimark", lambda m, n: lambda: m.MonteCarlo(n), 100_000, 2_000,
              "samples; the estimate of pi compared"),
    Benchmark("scimark_lu", "scimark", lu, 100, 12, "matrix side; factors and pivots compared"),
    Benchmark("scimark_fft", "scimark", fft, 1024, 16, "points; the data compared"),
    Benchmark("unpack_sequence", "unpack_sequence", unpack_sequence, 2000, 50,
              "loops of 400 unpackings; the error of a wrong length compared"),
    Benchmark("json_dumps", "json_dumps", json_dumps, 1, 1, "repeats of its cases; that it ran compared"),
)


def vars_of(point: Any) -> tuple[object, ...]:
    """The coordinates of bm_float's Point (it has __slots__, no __dict__)."""
    return tuple(getattr(point, name) for name in point.__slots__)


# --- the two modes --------------------------------------------------------------------------------------------------

def benchmarks_folder() -> Path:
    """Where the installed pyperformance keeps its benchmarks; ModuleNotFoundError when it is not installed."""
    spec = importlib.util.find_spec("pyperformance")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"pyperformance is not installed: {INSTALL_HINT}")
    return Path(spec.origin).parent / "data-files" / "benchmarks"


def benchmark_file(benchmark: Benchmark, folder: Path | None = None) -> Path:
    path = (folder or benchmarks_folder()) / f"bm_{benchmark.folder}" / "run_benchmark.py"
    if not path.is_file():
        raise FileNotFoundError(f"{benchmark.name}: the installed pyperformance has no bm_{benchmark.folder}/"
                                "run_benchmark.py")
    return path


def load_module(path: Path, name: str) -> types.ModuleType:
    """A new module object of the file at ``path`` (its ``__main__`` block does not run: its name is ``name``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class CompiledFunction:
    qualname: str
    compiled: Any  # what jit.compile returned


def compiled_member(value: object, found: list[CompiledFunction]) -> object | None:
    """``value`` with its Python functions compiled (a staticmethod, classmethod or property re-wrapped), or None
    if it holds none."""
    def compiled(func: Any) -> Any:
        if not isinstance(func, types.FunctionType):
            return func  # a property's missing setter
        result = jit.compile(func)
        found.append(CompiledFunction(func.__qualname__, result))
        return result

    if isinstance(value, types.FunctionType):
        return compiled(value)
    if isinstance(value, staticmethod | classmethod) and isinstance(value.__func__, types.FunctionType):
        return type(value)(compiled(value.__func__))
    if isinstance(value, property) and any(isinstance(f, types.FunctionType)
                                           for f in (value.fget, value.fset, value.fdel)):
        return property(compiled(value.fget), compiled(value.fset), compiled(value.fdel), value.__doc__)
    return None


def compile_module(module: types.ModuleType) -> list[CompiledFunction]:
    """Replace every function of ``module``, and every method of its classes, by ``jit.compile`` of it.

    Only what the module defines (``__module__`` is the module's name): imported functions and classes stay.
    Classes defined in a class are compiled too.  Returns what was compiled, once per function.
    """
    found: list[CompiledFunction] = []
    done: set[int] = set()  # classes already compiled (a class can be bound to several names)

    def compile_class(cls: type) -> None:
        done.add(id(cls))
        for name, value in list(vars(cls).items()):
            if isinstance(value, type) and value.__module__ == module.__name__ and id(value) not in done:
                compile_class(value)
                continue
            replacement = compiled_member(value, found)
            if replacement is not None:
                setattr(cls, name, replacement)

    for name, value in list(vars(module).items()):
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if isinstance(value, type):
            if id(value) not in done:
                compile_class(value)
        elif isinstance(value, types.FunctionType):
            setattr(module, name, compiled_member(value, found))
    unique = {id(f.compiled): f for f in found}  # a function bound to two names is compiled once
    return list(unique.values())


COMPILED = "compiled"
FALLBACK = "interpreter"
NOT_CALLED = "not called"


def function_status(function: CompiledFunction) -> tuple[str, str]:
    """Whether the function ran machine code (for some signature) in this process, ran in the interpreter only
    (and cpjit's reason), or was not called."""
    dispatcher = measure.dispatcher_of(function.compiled)
    if dispatcher.specializations:
        return COMPILED, ""
    if dispatcher.fallbacks:
        return FALLBACK, next(iter(dispatcher.fallbacks.values()))
    return NOT_CALLED, ""


@dataclass(frozen=True)
class Observation:
    """What a workload did: its value, or the exception it raised, and what it printed."""

    value: object
    raised: str | None
    printed: str

    def same_as(self, other: Observation) -> bool:
        return type(self.value) is type(other.value) and self == other


def observe(workload: Workload) -> Observation:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            value = workload()
        except Exception as error:  # the interpreter's exception must be the compiled code's
            return Observation(None, f"{type(error).__name__}: {error}", printed.getvalue())
    return Observation(value, None, printed.getvalue())


def describe(observation: Observation, limit: int = 120) -> str:
    text = f"raised {observation.raised}" if observation.raised else f"returned {observation.value!r}"
    if observation.printed:
        text += f", printed {observation.printed!r}"
    return text if len(text) <= limit else text[:limit] + "..."


# --- one benchmark, the suite, its table ----------------------------------------------------------------------------

@dataclass
class BenchmarkResult:
    benchmark: Benchmark
    size: int
    status: str  # EQUAL or WRONG
    difference: str = ""  # what the compiled run did instead, when WRONG
    functions: dict[str, tuple[str, str]] = field(default_factory=dict)  # qualname -> (status, reason)
    timings: dict[str, measure.Samples] = field(default_factory=dict)
    compile_seconds: float = 0.0  # jit.stats() over the first compiled run
    code_bytes: int = 0

    def count(self, status: str) -> int:
        return sum(1 for kind, _ in self.functions.values() if kind == status)

    def ratio(self) -> float | None:
        """Interpreter time over compiled time: the median of the rounds' ratios."""
        if CPJIT not in self.timings:
            return None
        return median_ratio(self.timings[INTERPRETER], self.timings[CPJIT])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.benchmark.name, "size": self.size, "measures": self.benchmark.measures,
            "status": self.status, "difference": self.difference, "ratio": self.ratio(),
            "functions": len(self.functions), "compiled": self.count(COMPILED), "interpreted": self.count(FALLBACK),
            "not_called": self.count(NOT_CALLED),
            "compile_seconds": self.compile_seconds, "code_bytes": self.code_bytes,
            "timings": {name: {"calls_per_sample": s.number, "median_seconds": s.median, "min_seconds": s.minimum,
                               "samples_seconds": s.seconds} for name, s in self.timings.items()},
            "function_status": {name: {"status": kind, "reason": reason}
                                for name, (kind, reason) in self.functions.items()},
        }


@dataclass
class Modes:
    """A benchmark's file loaded twice: as it is, and with every function compiled."""

    interpreted: types.ModuleType
    compiled: types.ModuleType
    functions: list[CompiledFunction]


def load_modes(benchmark: Benchmark, folder: Path | None = None) -> Modes:
    path = benchmark_file(benchmark, folder)
    interpreted = load_module(path, f"bm_{benchmark.name}_interpreted")
    compiled = load_module(path, f"bm_{benchmark.name}_compiled")
    return Modes(interpreted, compiled, compile_module(compiled))


def without_paths(text: str, modes: Modes) -> str:
    """cpjit's reasons as shown: the benchmark's file by its name, so that no machine's path is recorded."""
    filename = modes.compiled.__file__ or ""
    return text.replace(str(Path(filename).parent) + "/", "")


def check(benchmark: Benchmark, size: int, modes: Modes) -> tuple[Workload, Workload, BenchmarkResult]:
    """Run one workload in each mode from fresh modules and compare; the workloads, and the result so far."""
    interpreted = benchmark.prepare(modes.interpreted, size)
    compiled = benchmark.prepare(modes.compiled, size)
    expected = observe(interpreted)
    before = jit.stats()
    got = observe(compiled)
    after = jit.stats()
    result = BenchmarkResult(benchmark, size, EQUAL if got.same_as(expected) else WRONG,
                             compile_seconds=after["compile_seconds"] - before["compile_seconds"],
                             code_bytes=int(after["code_bytes"] - before["code_bytes"]))
    if result.status == WRONG:
        result.difference = f"compiled: {describe(got)}; interpreter: {describe(expected)}"
    for function in modes.functions:
        kind, reason = function_status(function)
        result.functions[function.qualname] = (kind, without_paths(reason, modes))
    return interpreted, compiled, result


def run_benchmark(benchmark: Benchmark, settings: Settings, progress: Callable[[str], None]) -> BenchmarkResult:
    size = benchmark.quick_size if settings.quick else benchmark.size
    progress("loading both modes")
    modes = load_modes(benchmark)
    progress("results in both modes")
    interpreted, compiled, result = check(benchmark, size, modes)
    if result.status == WRONG:
        return result  # not timed: a wrong result is a compiler bug, and the table says so
    with contextlib.redirect_stdout(io.StringIO()):  # what a workload prints was compared: keep it off the table
        result.timings = measure.interleaved(
            {INTERPRETER: interpreted, CPJIT: compiled}, (), settings.rounds, settings.min_sample,
            on_round=lambda done: progress(f"timing both modes: round {done}/{settings.rounds}"))
    return result


WHERE = re.compile(r"^[^,]+, line \d+: ")  # how most of cpjit's reasons start: the file and the line


def table(results: Sequence[BenchmarkResult]) -> str:
    headers = ["benchmark", "size", "interpreter", "compiled", "ratio", "functions compiled", "not called",
               "compile", "result"]
    rows = []
    notes: list[str] = []
    for r in results:
        interpreter, compiled = r.timings.get(INTERPRETER), r.timings.get(CPJIT)
        result = r.status
        if r.difference:
            notes.append(f"[{len(notes) + 1}] {r.benchmark.name}: {r.difference}")
            result += f" [{len(notes)}]"
        rows.append([r.benchmark.name, f"{r.size:,}", format_seconds(interpreter.median if interpreter else None),
                     format_seconds(compiled.median if compiled else None), format_ratio(r.ratio()),
                     f"{r.count(COMPILED)} of {len(r.functions)}", str(r.count(NOT_CALLED)),
                     format_seconds(r.compile_seconds or None), result])
    ratios = [ratio for ratio in (r.ratio() for r in results) if ratio is not None]
    ran_machine_code = sum(r.count(COMPILED) for r in results)
    total = sum(len(r.functions) for r in results)
    summary = (f"geometric mean of the ratios: {format_ratio(geometric_mean(ratios))} over {len(ratios)} benchmarks; "
               f"{ran_machine_code} of {total} functions and methods ran machine code")
    reasons = collections.Counter(WHERE.sub("", reason) for r in results
                                  for kind, reason in r.functions.values() if kind == FALLBACK)
    common = [f"  {count:>4}  {reason}" for reason, count in reasons.most_common(5)]
    return "\n".join([
        "pyperformance (its benchmarks as installed; every function and method of each compiled, side by side "
        "with the interpreter;\nratio: interpreter time / compiled time, the median of the rounds'; "
        "times: median per workload)",
        format_table(headers, rows), "", summary, *notes,
        *(["most frequent reasons for running in the interpreter:", *common] if common else [])])
