"""bench.report: tables, JSON and the chart, from hand-made results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import report, suite
from bench.kernels import Kernel, add1, sieve
from bench.measure import Samples
from bench.scaling import ScalingPoint


def results() -> list[suite.KernelResult]:
    compiled = suite.KernelResult(
        Kernel("add1", add1, (41,), (41,), "a call"), (41,), 42, suite.COMPILED,
        timings={suite.INTERPRETER: Samples(1000, [50e-9, 40e-9, 60e-9]), suite.CPJIT: Samples(1000, [10e-9] * 3),
                 suite.LLVM_O2: Samples(10, [400e-9] * 3)},
        compile_seconds={suite.CPJIT: 300e-6, suite.LLVM_O0: 2e-3, suite.LLVM_O2: 6e-3}, code_bytes=1349,
        stencils=25, notes={suite.NUMBA: "Numba is not installed", suite.LLVM_O0: "returned 7: not timed"})
    fallback = suite.KernelResult(
        Kernel("sieve", sieve, (100,), (100,), "a sieve"), (100,), 25, suite.FALLBACK,
        reason="kernels.py, line 3: '[True]' is not supported [frontend]",
        timings={suite.INTERPRETER: Samples(1, [1e-3] * 3), suite.CPJIT: Samples(1, [1.25e-3] * 3)},
        notes={suite.NUMBA: "Numba is not installed"})
    return [compiled, fallback]


@pytest.mark.parametrize(("seconds", "text"), [
    (0.5123, "512 ms"), (1.5, "1.5 s"), (2.5e-6, "2.5 us"), (49.3e-9, "49.3 ns"), (None, "-"),
])
def test_seconds_get_a_unit_that_fits(seconds: float | None, text: str) -> None:
    assert report.format_seconds(seconds) == text


def test_table_aligns_the_first_column_left_and_the_others_right() -> None:
    table = report.format_table(["name", "value"], [["a", "1"], ["long name", "22"]])
    assert table.splitlines() == ["name       value", "---------  -----", "a              1", "long name     22"]


def test_main_table_shows_times_speedups_and_why_a_kernel_runs_in_the_interpreter() -> None:
    text = report.main_table(results())
    assert "add1" in text and "50 ns" in text and "5x" in text and "1,349" in text and "300 us" in text
    assert "interpreter [1]" in text
    assert "[1] sieve: kernels.py, line 3: '[True]' is not supported" in text
    assert "geometric mean speedup: 2x over all 2 kernels, 5x over the 1 that run machine code" in text


def test_compile_table_sets_cpjit_beside_llvm_and_gathers_the_notes() -> None:
    text = report.compile_table(results(), {"stencils": 1001, "seconds_per_stencil": 0.7e-6,
                                            "emit_seconds_per_stencil": 0.8e-6})
    header = next(line for line in text.splitlines() if line.startswith("kernel"))
    assert header.split("  ")[0] == "kernel"
    for column in ("cpjit compile", "LLVM -O0 compile", "LLVM -O2 compile", "cpjit speed", "LLVM -O2 speed"):
        assert column in header
    assert "Numba compile" not in header  # no kernel has a Numba time
    assert "0.125x" in text  # LLVM -O2 through ctypes: 50 ns / 400 ns
    assert "700 ns per stencil stitched into bytes" in text
    assert "12 us per stencil on average" in text  # 300 us / 25 stencils
    assert "every kernel: Numba: Numba is not installed" in text
    assert "add1: LLVM -O0: returned 7: not timed" in text


def test_json_has_the_run_the_machine_and_every_kernel(tmp_path: Path) -> None:
    settings = suite.Settings(quick=True)
    data = report.to_json(results(), settings, report.machine_info(), "python -m bench --quick", "2026-01-01", None)
    path = tmp_path / "out.json"
    report.write_json(path, data)
    loaded = json.loads(path.read_text())
    assert loaded["schema"] == report.JSON_SCHEMA and loaded["settings"]["quick"] is True
    assert loaded["geometric_mean_speedup"] == {"all": pytest.approx(2.0), "compiled": pytest.approx(5.0)}
    assert {"python", "cpu", "cpus", "system", "cpjit"} <= set(loaded["machine"])
    first = loaded["kernels"][0]
    assert first["timings"]["cpjit"] == {"calls_per_sample": 1000, "median_seconds": 10e-9, "min_seconds": 10e-9,
                                         "samples_seconds": [10e-9] * 3}
    assert first["speedup"]["cpjit"] == pytest.approx(5.0) and first["status"] == "compiled"


def test_machine_line_names_python_and_the_processor() -> None:
    line = report.format_machine(report.machine_info())
    assert sys.version.split()[0] in line and "CPUs" in line


def test_chart_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    assert report.write_chart(path, results(), "title") == str(path)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_without_matplotlib_there_is_no_chart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # what an import finds when it is not installed
    path = tmp_path / "chart.png"
    assert report.write_chart(path, results(), "title") is None
    assert not path.exists()
    assert "pip install cpjit[bench]" in report.CHART_HINT


def scaling_points() -> list[ScalingPoint]:
    return [ScalingPoint(100, suite.COMPILED, [0.015, 0.016, 0.014], 1700, 90_000),
            ScalingPoint(1000, suite.COMPILED, [0.18, 0.16, 0.17], 17_000, 900_000)]


def test_scaling_table_shows_the_cost_per_statement_and_its_ratio_to_the_smallest_size() -> None:
    text = report.scaling_table(scaling_points())
    header = next(line for line in text.splitlines() if line.startswith("statements"))
    assert "per statement" in header and "vs 100" in header
    row = next(line for line in text.splitlines() if line.startswith("1,000"))
    assert "170 ms" in row and "170 us" in row and "1.13x" in row and "17,000" in row and "compiled" in row
    assert report.scaling_table([]) == ""


def test_json_has_the_scaling_series() -> None:
    data = report.to_json([], suite.Settings(), report.machine_info(), "python -m bench --suite scaling",
                          "2026-01-01", None, scaling_points())
    first = data["compile_scaling"][0]
    assert first["statements"] == 100 and first["median_seconds"] == pytest.approx(0.015)
    assert first["seconds_per_statement"] == pytest.approx(150e-6) and first["stencils"] == 1700
