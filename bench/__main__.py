"""``python -m bench``: the kernel suite in the interpreter and compiled, side by side; the compile-scaling series.

Prints the machine, progress while it runs, the table of times, speedups,
compile times and machine-code sizes, the geometric-mean speedup, the
compile-speed comparison with LLVM (and Numba when installed), the
compile-scaling series (compile time per statement of functions of 100 to
5000 statements, bench.scaling), the start-up costs (bench.startup, also
``python -m bench.startup`` alone) and the cost of each way of calling a
compiled function (bench.call_forms) and pyperformance's benchmarks with
every function compiled (bench.pyperformance_suite); writes the results as
JSON and the speedups as a PNG bar chart (with matplotlib).  ``--suite
kernels``, ``scaling``, ``startup``, ``calls`` or ``pyperformance`` runs one
of them alone.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from bench import call_forms, measure, pyperformance_suite, report, scaling, startup
from bench.kernels import KERNELS, Kernel
from bench.suite import WRONG, KernelResult, Settings, run_kernel

QUICK = Settings(quick=True, rounds=3, min_sample=0.005, compiles=3)
FULL = Settings()
SUITES = ("all", "kernels", "scaling", "startup", "calls", "pyperformance")


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="cpjit's kernel suite in the interpreter and compiled, side by side.")
    parser.add_argument("--quick", action="store_true", help="small inputs and fewer rounds (seconds, not minutes)")
    parser.add_argument("--suite", choices=SUITES, default="all",
                        help="one suite (kernels, compile scaling, start-up, call forms, pyperformance) or all "
                        "(default: %(default)s)")
    parser.add_argument("--kernels", metavar="A,B", help="run only these kernels: " +
                        ", ".join(k.name for k in KERNELS))
    parser.add_argument("--benchmarks", metavar="A,B", help="run only these pyperformance benchmarks: " +
                        ", ".join(b.name for b in pyperformance_suite.BENCHMARKS))
    parser.add_argument("--repeat", type=int, metavar="N", help="timed rounds per kernel "
                        f"(default {FULL.rounds}, {QUICK.rounds} with --quick)")
    parser.add_argument("--json", type=Path, default=Path("bench-results.json"), metavar="PATH",
                        help="where to write the results (default: %(default)s)")
    parser.add_argument("--png", type=Path, default=Path("bench-results.png"), metavar="PATH",
                        help="where to draw the speedup chart (default: %(default)s; needs matplotlib)")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip the compile-speed comparison (LLVM, Numba, stitching)")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the start-up measurements (import jit, first compile in a fresh process)")
    arguments = parser.parse_args(argv)
    if arguments.repeat is not None and arguments.repeat < 1:
        parser.error("--repeat must be at least 1")
    try:
        arguments.selected = select_kernels(arguments.kernels)
        arguments.benchmarks = select(arguments.benchmarks, pyperformance_suite.BENCHMARKS, "pyperformance benchmark")
    except ValueError as error:
        parser.error(str(error))
    return arguments


Named = TypeVar("Named", Kernel, pyperformance_suite.Benchmark)


def select(names: str | None, choices: Sequence[Named], what: str) -> list[Named]:
    """The entries named in ``names`` ("a,b"), in that order; all of them without names."""
    if not names:
        return list(choices)
    by_name = {choice.name: choice for choice in choices}
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ValueError(f"unknown {what}(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[n] for n in wanted]


def select_kernels(names: str | None) -> list[Kernel]:
    return select(names, KERNELS, "kernel")


def stitch_figures(settings: Settings, out: TextIO) -> dict[str, Any] | None:
    """The cost of stitching one stencil (bench.bench_stitch's sequence), or None with a line why not."""
    try:
        return measure.stitching(settings.rounds, settings.min_sample)
    except ImportError as error:  # bench_stitch is a pytest-benchmark module
        print(f"stitching speed not measured: {error} (pip install cpjit[test])", file=out)
        return None


class Progress:
    """One line per step on stderr, rewritten in place on a terminal."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self.stream = stream
        self.total = total
        self.prefix = ""
        self.inline = stream.isatty()

    def kernel(self, index: int, name: str) -> None:
        self.prefix = f"[{index}/{self.total}] {name}"

    def __call__(self, step: str) -> None:
        text = f"{self.prefix}: {step}"
        if self.inline:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self, status: str, seconds: float) -> None:
        self(f"{status} ({seconds:.1f} s)")
        if self.inline:
            self.stream.write("\n")


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    base = QUICK if arguments.quick else FULL
    settings = Settings(quick=base.quick, rounds=arguments.repeat or base.rounds, min_sample=base.min_sample,
                        compiles=base.compiles, baselines=not arguments.no_baselines)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    date = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    machine = report.machine_info()
    print(f"cpjit benchmarks, {date}: {command}", file=out)
    print(report.format_machine(machine), file=out)
    print(f"{settings.label} inputs; times per call: median (and minimum) of {settings.rounds} interleaved rounds; "
          "speedup: median of the rounds' ratios", file=out)
    kernels = arguments.selected if arguments.suite in ("all", "kernels") else []
    progress = Progress(err, len(kernels))
    results: list[KernelResult] = []
    for index, kernel in enumerate(kernels, 1):
        progress.kernel(index, kernel.name)
        started = time.perf_counter()
        result = run_kernel(kernel, settings, progress)
        progress.done(result.status, time.perf_counter() - started)
        results.append(result)
    stitch = None
    if kernels and settings.baselines:
        progress.prefix = "copy-and-patch"
        progress("stitching 1000 stencils")
        started = time.perf_counter()
        stitch = stitch_figures(settings, out)
        progress.done("measured", time.perf_counter() - started)
    points: list[scaling.ScalingPoint] = []
    if arguments.suite in ("all", "scaling"):
        progress.prefix = "compile scaling"
        started = time.perf_counter()
        points = scaling.run_series(scaling.QUICK_SIZES if settings.quick else scaling.SIZES, settings.compiles,
                                    progress)
        progress.done("measured", time.perf_counter() - started)
    started_up = None
    if arguments.suite in ("all", "startup") and not arguments.no_startup:
        progress.prefix = "start-up"
        started = time.perf_counter()
        started_up = startup.measure_startup(
            settings.rounds, on_round=lambda done: progress(f"fresh processes: round {done}/{settings.rounds}"))
        progress.done("measured", time.perf_counter() - started)
    calls: list[call_forms.FormResult] = []
    if arguments.suite in ("all", "calls"):
        progress.prefix = "call forms"
        started = time.perf_counter()
        calls = call_forms.measure_call_forms(settings.rounds, settings.quick)
        progress.done("measured", time.perf_counter() - started)
    benchmarks: list[pyperformance_suite.BenchmarkResult] = []
    missing = ""  # why the pyperformance suite could not run
    if arguments.suite in ("all", "pyperformance"):
        try:
            pyperformance_suite.benchmarks_folder()
        except ModuleNotFoundError as error:
            missing = f"pyperformance suite not run: {error}"
        else:
            progress = Progress(err, len(arguments.benchmarks))
            for index, benchmark in enumerate(arguments.benchmarks, 1):
                progress.kernel(index, benchmark.name)
                started = time.perf_counter()
                benchmarks.append(pyperformance_suite.run_benchmark(benchmark, settings, progress))
                progress.done(benchmarks[-1].status, time.perf_counter() - started)
    if kernels:
        print("", report.main_table(results), "", report.compile_table(results, stitch), sep="\n", file=out)
    if benchmarks or missing:
        print("", pyperformance_suite.table(benchmarks) if benchmarks else missing, sep="\n", file=out)
    if calls:
        print("", call_forms.call_forms_table(calls), sep="\n", file=out)
    if points:
        print("", report.scaling_table(points), sep="\n", file=out)
    if started_up is not None:
        print("", startup.startup_table(started_up), sep="\n", file=out)
    data = report.to_json(results, settings, machine, command, date, stitch, points)
    data["startup"] = started_up.to_json() if started_up is not None else None
    data["call_forms"] = [result.to_json() for result in calls]
    data["pyperformance"] = [result.to_json() for result in benchmarks]
    report.write_json(arguments.json, data)
    print(f"\nresults: {arguments.json}", file=out)
    if kernels:
        chart = report.write_chart(arguments.png, results, f"cpjit {date[:10]}: {report.format_machine(machine)}")
        print(f"chart: {chart}" if chart else report.CHART_HINT, file=out)
    wrong = [r.kernel.name for r in results if r.status == WRONG]
    wrong += [f"{p.statements}-statement function" for p in points if p.status == WRONG]
    wrong += started_up.wrong if started_up else []
    wrong += [f"pyperformance's {r.benchmark.name}" for r in benchmarks if r.status == WRONG]
    if wrong:
        print(f"cpjit gave a wrong result for: {', '.join(wrong)}", file=out)
        return 1
    return 1 if missing and arguments.suite == "pyperformance" else 0  # asked for, and could not run


if __name__ == "__main__":
    sys.exit(main())
