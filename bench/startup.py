"""Start-up: what ``import jit`` and the first compile cost a fresh process (``python -m bench.startup``).

Two comparisons, each between runs made side by side so that a busy machine
slows both alike:

- ``python -c "import jit"`` against ``python -c pass``: wall clock of the
  whole process, in three settings: bytecode cached (``.pyc`` files written and
  read as usual), ``PYTHONDONTWRITEBYTECODE=1`` (what some machines and CI set:
  existing ``.pyc`` files are still read), and no ``.pyc`` of cpjit at all (a
  copy of the sources that is never cached, as in a fresh checkout on such a
  machine: every module of the package is compiled from source).
- the first ``jit.compile(kernel)(*args)`` in a fresh process (after ``import
  jit``) against a warm one: the median of later compiles and calls of fresh
  copies of the kernel in the same process, once the process has warmed up
  (WARM_UP_COMPILES uncounted compiles first, so that every stencil the kernel
  uses has its generated patch routine: the steady state), in the same three
  settings.

Each round runs every process once, in an order rotated from round to round;
reported are the medians, and the median over rounds of each round's
difference (import minus pass, first minus warm).  The budgets of issue 12 are
shown beside them: import at most 25 ms over ``pass``, the first compile at
most 3 ms over a warm one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import jit
from bench.kernels import KERNELS
from jit.backend.emitter import GENERATE_AFTER

IMPORT_BUDGET = 0.025  # seconds over `python -c pass`
FIRST_COMPILE_BUDGET = 0.003  # seconds over a warm compile and call
# Compiles after the first one that are not counted: then every stencil the kernel uses has been used
# GENERATE_AFTER times and has its generated patch routine, as in a process that has been compiling for a while.
WARM_UP_COMPILES = GENERATE_AFTER
WARM_COMPILES = 9  # then compiles in the same process whose median is "warm"
DEFAULT_KERNELS = ("fib_rec", "mandelbrot")
ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("jit", "bench")  # what a process of the suite imports from the repository

# The child that measures compiles: import jit (not timed), then compile and call fresh copies of a kernel.
# The result is checked against the interpreter's, so a wrong answer cannot pass for a fast one.
COMPILE_CHILD = f"""
import json, sys, time
import jit
from bench import measure
from bench.kernels import KERNELS
from bench.suite import same_result
kernel = {{k.name: k for k in KERNELS}}[sys.argv[1]]
args = kernel.quick_args

def compile_and_call():
    copy = measure.fresh_copy(kernel.function)
    with measure.no_gc():
        start = time.perf_counter()
        result = jit.compile(copy)(*args)
        return time.perf_counter() - start, result

first, result = compile_and_call()
for _ in range({WARM_UP_COMPILES}):
    compile_and_call()
warm = [compile_and_call()[0] for _ in range({WARM_COMPILES})]
print(json.dumps({{"first": first, "warm": warm, "same_result": same_result(kernel.function(*args), result)}}))
"""


@dataclass(frozen=True)
class Setting:
    """How the processes of one column run: their environment and whether cpjit's sources are a fresh copy."""

    name: str
    dont_write_bytecode: bool
    fresh_copy: bool = False

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {key: value for key, value in base.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env.pop("PYTHONPATH", None)  # the processes import from their working directory, first on sys.path
        if self.dont_write_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env


SETTINGS = (
    Setting("bytecode cached", dont_write_bytecode=False),
    Setting("PYTHONDONTWRITEBYTECODE=1", dont_write_bytecode=True),
    Setting("no .pyc of cpjit", dont_write_bytecode=True, fresh_copy=True),
)


@dataclass
class Pair:
    """Seconds of two things measured side by side in each round: the subject and its baseline."""

    subject: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)

    @property
    def difference(self) -> float:
        """The median over rounds of subject minus baseline in the same round."""
        return statistics.median(s - b for s, b in zip(self.subject, self.baseline, strict=True))

    @property
    def ratio(self) -> float:
        return statistics.median(s / b for s, b in zip(self.subject, self.baseline, strict=True))

    def to_json(self) -> dict[str, Any]:
        return {"median_seconds": statistics.median(self.subject),
                "baseline_median_seconds": statistics.median(self.baseline),
                "median_difference_seconds": self.difference, "median_ratio": self.ratio,
                "samples_seconds": self.subject, "baseline_samples_seconds": self.baseline}


@dataclass
class StartupResult:
    rounds: int
    imports: dict[str, Pair]  # setting -> import jit (subject) against python -c pass (baseline)
    compiles: dict[tuple[str, str], Pair]  # (setting, kernel) -> first compile and call against a warm one
    wrong: list[str] = field(default_factory=list)  # kernels whose compiled result differed from the interpreter's

    def to_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "import_budget_seconds": IMPORT_BUDGET,
            "first_compile_budget_seconds": FIRST_COMPILE_BUDGET,
            "import": {setting: pair.to_json() for setting, pair in self.imports.items()},
            "first_compile": [{"setting": setting, "kernel": kernel, **pair.to_json()}
                              for (setting, kernel), pair in self.compiles.items()],
            "wrong_results": self.wrong,
        }


@contextmanager
def working_directories() -> Iterator[dict[str, Path]]:
    """Setting name -> the directory its processes run in: the repository, or a never-cached copy of it."""
    with tempfile.TemporaryDirectory(prefix="cpjit-startup-") as tmp:
        copy = Path(tmp)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__"))
        yield {s.name: copy if s.fresh_copy else ROOT for s in SETTINGS}


def run_process(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> tuple[float, str]:
    """Wall clock of one process from start to exit, and its output."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed: {done.stderr.strip()}")
    return seconds, done.stdout


def measure_startup(rounds: int, kernels: Sequence[str] = DEFAULT_KERNELS,
                    on_round: Callable[[int], None] | None = None) -> StartupResult:
    """Every setting's import and first-compile pairs, ``rounds`` times, in rotated order."""
    python = sys.executable
    imports = {s.name: Pair() for s in SETTINGS}
    compiles = {(s.name, k): Pair() for s in SETTINGS for k in kernels}
    wrong: set[str] = set()
    with working_directories() as directories:
        jobs: list[Callable[[], None]] = []
        for setting in SETTINGS:
            env, cwd = setting.environment(os.environ), directories[setting.name]

            def import_pair(pair: Pair = imports[setting.name], env: dict[str, str] = env, cwd: Path = cwd) -> None:
                pair.baseline.append(run_process([python, "-c", "pass"], env, cwd)[0])
                pair.subject.append(run_process([python, "-c", "import jit"], env, cwd)[0])

            jobs.append(import_pair)
            for kernel in kernels:

                def compile_pair(kernel: str = kernel, env: dict[str, str] = env, cwd: Path = cwd,
                                 pair: Pair = compiles[setting.name, kernel]) -> None:
                    report = json.loads(run_process([python, "-c", COMPILE_CHILD, kernel], env, cwd)[1])
                    pair.subject.append(report["first"])
                    pair.baseline.append(statistics.median(report["warm"]))
                    if not report["same_result"]:
                        wrong.add(kernel)

                jobs.append(compile_pair)
        for job in jobs:  # a round not counted: .pyc files written, files cached, as for every later round
            job()
        for pair in [*imports.values(), *compiles.values()]:
            pair.subject.clear()
            pair.baseline.clear()
        for round_index in range(rounds):
            shift = round_index % len(jobs)
            for job in jobs[shift:] + jobs[:shift]:
                job()
            if on_round is not None:
                on_round(round_index + 1)
    return StartupResult(rounds, imports, compiles, sorted(wrong))


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _within(difference: float, budget: float) -> str:
    return f"{_ms(budget)}: {'within' if difference <= budget else 'OVER'}"


def startup_table(result: StartupResult) -> str:
    """The two comparisons as text: medians, the median difference and ratio, and the budget."""
    from bench.report import format_table  # noqa: PLC0415 - report imports the kernel suite; keep this module light

    rows = [[f"import jit ({setting})", _ms(statistics.median(pair.subject)), "python -c pass",
             _ms(statistics.median(pair.baseline)), f"+{_ms(pair.difference)}", f"{pair.ratio:.2f}x",
             _within(pair.difference, IMPORT_BUDGET)] for setting, pair in result.imports.items()]
    rows += [[f"first compile+call of {kernel} ({setting})", _ms(statistics.median(pair.subject)), "warm",
              _ms(statistics.median(pair.baseline)), f"+{_ms(pair.difference)}", f"{pair.ratio:.2f}x",
              _within(pair.difference, FIRST_COMPILE_BUDGET)]
             for (setting, kernel), pair in result.compiles.items()]
    headers = ["start-up", "median", "against", "median", "difference", "ratio", "budget"]
    lines = [f"Start-up (fresh processes, median of {result.rounds} interleaved rounds; difference and ratio: "
             "median of the rounds')", format_table(headers, rows)]
    if result.wrong:
        lines.append(f"cpjit gave a wrong result for: {', '.join(result.wrong)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds (default %(default)s)")
    parser.add_argument("--kernels", default=",".join(DEFAULT_KERNELS), metavar="A,B",
                        help="kernels whose first compile is measured (default %(default)s)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    arguments = parser.parse_args(argv)
    known = {k.name for k in KERNELS}
    kernels = [name.strip() for name in arguments.kernels.split(",") if name.strip()]
    if arguments.rounds < 1 or not kernels or not set(kernels) <= known:
        parser.error(f"--rounds must be at least 1 and --kernels among {', '.join(sorted(known))}")
    print(f"cpjit {jit.__version__} start-up on {sys.version.split()[0]}", file=out)
    result = measure_startup(arguments.rounds, kernels,
                             on_round=lambda done: print(f"round {done}/{arguments.rounds}", file=err, flush=True))
    print(startup_table(result), file=out)
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return 1 if result.wrong else 0


if __name__ == "__main__":
    sys.exit(main())
