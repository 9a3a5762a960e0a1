"""bench.pyperformance_suite: compile_module on a module of its own, and pyperformance's benchmarks in both modes."""

from __future__ import annotations

import io
import json
import os.path
import textwrap
import types
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import measure
from bench import pyperformance_suite as suite
from bench.suite import CPJIT, INTERPRETER, WRONG
from jit import compiler

SHAPES = textwrap.dedent("""
    from os.path import join  # imported: not this module's, stays as it is

    SCALE = 3


    def triple(x):
        return x * SCALE


    def total(n):
        s = 0
        for i in range(n):
            s += triple(i)
        return s


    def countdown(n):  # a generator: runs in the interpreter
        while n:
            yield n
            n -= 1


    def never_called():
        return 0


    square = lambda x: x * x  # noqa: E731
    alias = triple


    class Shape:
        def __init__(self, side):
            self.side = side

        def area(self):
            return self.side * self.side

        @staticmethod
        def doubled(x):
            return 2 * x

        @classmethod
        def unit(cls):
            return cls(1)

        @property
        def perimeter(self):
            return 4 * self.side

        class Corner:
            def angle(self):
                return 90


    Square = Shape  # the same class under another name: compiled once
""")


def is_compiled(value: object) -> bool:
    """Whether ``value`` is what jit.compile returned: a compiled function, or a function cpjit cannot compile
    at all, handed back as it is (a generator here)."""
    if isinstance(value, types.FunctionType):
        return compiler.refusal_of(value) is not None
    return hasattr(value, "__jit_dispatcher__")


def uses(module: types.ModuleType) -> tuple[object, ...]:
    shape = module.Shape(3)
    return (module.total(10), list(module.countdown(3)), module.square(5), module.alias(2), shape.area(),
            module.Shape.doubled(4), shape.doubled(5), module.Shape.unit().side, shape.perimeter,
            module.Shape.Corner().angle(), module.Square(2).area())


def test_compile_module_replaces_every_function_and_method_and_gives_the_same_results(module_dir: Path) -> None:
    path = module_dir / "shapes.py"
    path.write_text(SHAPES)
    plain, compiled = suite.load_module(path, "shapes_plain"), suite.load_module(path, "shapes_compiled")
    functions = suite.compile_module(compiled)
    assert sorted(f.qualname for f in functions) == sorted([
        "triple", "total", "countdown", "never_called", "<lambda>", "Shape.__init__", "Shape.area", "Shape.doubled",
        "Shape.unit", "Shape.perimeter", "Shape.Corner.angle"])
    assert all(is_compiled(f.compiled) for f in functions)
    for name in ("triple", "total", "countdown", "square"):
        assert is_compiled(getattr(compiled, name)) and not is_compiled(getattr(plain, name))
    assert compiled.countdown is not plain.countdown and "generator" in str(compiler.refusal_of(compiled.countdown))
    assert compiled.alias is compiled.triple
    members = vars(compiled.Shape)
    assert is_compiled(members["__init__"]) and is_compiled(members["area"])
    assert isinstance(members["doubled"], staticmethod) and is_compiled(members["doubled"].__func__)
    assert isinstance(members["unit"], classmethod) and is_compiled(members["unit"].__func__)
    assert isinstance(members["perimeter"], property) and is_compiled(members["perimeter"].fget)
    assert is_compiled(vars(compiled.Shape.Corner)["angle"])
    assert compiled.join is os.path.join and isinstance(vars(plain.Shape)["area"], types.FunctionType)
    assert uses(compiled) == uses(plain) == (135, [3, 2, 1], 25, 6, 9, 8, 10, 1, 12, 90, 4)
    statuses = {f.qualname: suite.function_status(f) for f in functions}
    assert statuses["total"] == statuses["triple"] == (suite.COMPILED, "")  # numbers only: machine code
    assert statuses["countdown"][0] == suite.FALLBACK and "generator" in statuses["countdown"][1]
    assert statuses["never_called"] == (suite.NOT_CALLED, "")


def test_observations_compare_values_types_output_and_exceptions() -> None:
    def noisy() -> int:
        print("hello")
        return 1

    def failing() -> None:
        raise ValueError("too many values to unpack (expected 10)")

    assert suite.observe(noisy) == suite.Observation(1, None, "hello\n")
    assert suite.observe(failing) == suite.Observation(
        None, "ValueError: too many values to unpack (expected 10)", "")
    assert not suite.observe(lambda: 1).same_as(suite.observe(lambda: 1.0))  # equal, but not the same type
    assert not suite.observe(noisy).same_as(suite.observe(lambda: 1))
    assert "raised ValueError" in suite.describe(suite.observe(failing))


def test_a_benchmark_missing_from_pyperformance_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no bm_nbody/run_benchmark\.py"):
        suite.benchmark_file(suite.BENCHMARKS[0], tmp_path)


def test_the_table_shows_ratios_counts_and_what_differed() -> None:
    def samples(*seconds: float) -> measure.Samples:
        return measure.Samples(1, list(seconds))

    functions = {"advance": (suite.COMPILED, ""), "combinations": (suite.NOT_CALLED, ""),
                 "report_energy": (suite.FALLBACK, "run_benchmark.py, line 3: 'x' [frontend]")}
    fast = suite.BenchmarkResult(suite.BENCHMARKS[0], 200, suite.EQUAL, functions=functions,
                                 timings={INTERPRETER: samples(2.0, 4.0, 3.0), CPJIT: samples(1.0, 1.0, 1.0)})
    wrong = suite.BenchmarkResult(suite.BENCHMARKS[1], 20, WRONG, difference="compiled: returned 1; interpreter: 2")
    assert fast.ratio() == 3.0 and wrong.ratio() is None
    text = suite.table([fast, wrong])
    assert "1 of 3" in text and "3x" in text and "WRONG RESULT [1]" in text
    assert "[1] spectral_norm: compiled: returned 1; interpreter: 2" in text
    assert "geometric mean of the ratios: 3x over 1 benchmarks; 1 of 3 functions" in text
    assert "     1  'x' [frontend]" in text  # the reasons without their file and line
    assert json.loads(json.dumps(fast.to_json()))["compiled"] == 1


def test_the_suite_asked_for_without_pyperformance_says_so_and_fails(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    def not_installed() -> Path:
        raise ModuleNotFoundError(f"pyperformance is not installed: {suite.INSTALL_HINT}")

    monkeypatch.setattr(suite, "benchmarks_folder", not_installed)
    out = io.StringIO()
    status = bench_main.main(["--quick", "--suite", "pyperformance", "--json", str(tmp_path / "r.json")],
                             out=out, err=io.StringIO())
    assert status == 1 and "pyperformance suite not run: pyperformance is not installed" in out.getvalue()


@pytest.mark.slow
def test_python_m_bench_runs_the_pyperformance_suite(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    out, err = io.StringIO(), io.StringIO()
    status = bench_main.main(["--quick", "--suite", "pyperformance", "--benchmarks", "fannkuch,richards",
                              "--repeat", "2", "--json", str(results)], out=out, err=err)
    assert status == 0
    assert "geometric mean of the ratios" in out.getvalue() and "[2/2] richards: equal" in err.getvalue()
    data = json.loads(results.read_text())["pyperformance"]
    assert [b["name"] for b in data] == ["fannkuch", "richards"]
    assert all(b["status"] == suite.EQUAL and b["ratio"] > 0 and b["functions"] > 0 for b in data)
    assert all(len(b["timings"][INTERPRETER]["samples_seconds"]) == 2 for b in data)


# Issue 9: "A test that runs the pyperformance subset above fully compiled with results equal to the interpreter's."
# A benchmark missing from the installed pyperformance fails here (FileNotFoundError), as a missing package does.
@pytest.mark.slow
@pytest.mark.parametrize("entry", suite.BENCHMARKS, ids=[b.name for b in suite.BENCHMARKS])
def test_every_benchmark_gives_the_interpreters_results_fully_compiled(entry: suite.Benchmark) -> None:
    modes = suite.load_modes(entry)  # not the benchmark's own name: pytest-benchmark's fixture has it
    assert modes.functions and all(is_compiled(f.compiled) for f in modes.functions)
    _, _, result = suite.check(entry, entry.quick_size, modes)
    assert result.status == suite.EQUAL, result.difference
    assert len(result.functions) == len(modes.functions)
    assert result.count(suite.NOT_CALLED) < len(result.functions)  # the workload ran the module's code

