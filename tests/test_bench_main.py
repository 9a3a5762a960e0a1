"""``python -m bench``: options, output, JSON, exit status."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import scaling

REPOSITORY = Path(__file__).resolve().parents[1]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = bench_main.main(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_quick_run_of_two_kernels_prints_tables_and_writes_json_and_chart(tmp_path: Path) -> None:
    results, chart = tmp_path / "r.json", tmp_path / "c.png"
    status, out, err = run(["--quick", "--kernels", "call_add1,sieve", "--repeat", "2", "--no-startup",
                            "--json", str(results), "--png", str(chart)])
    assert status == 0
    assert "CPython" in out and "python -m bench --quick --kernels call_add1,sieve" in out
    assert "geometric mean speedup" in out and "LLVM -O2 compile" in out and "per stencil" in out
    assert "[1/2] call_add1: timing" in err and "[2/2] sieve: timing" in err
    data = json.loads(results.read_text())
    assert [k["name"] for k in data["kernels"]] == ["call_add1", "sieve"]
    assert data["settings"] == {"quick": True, "rounds": 2, "min_sample": bench_main.QUICK.min_sample,
                                "compiles": bench_main.QUICK.compiles, "baselines": True}
    assert data["startup"] is None  # --no-startup; bench.startup has its own tests
    assert data["stitch"]["stencils"] > 1000 and 0 < data["stitch"]["seconds_per_stencil"] < 1e-3
    assert [len(k["timings"]["interpreter"]["samples_seconds"]) for k in data["kernels"]] == [2, 2]
    assert data["kernels"][1]["status"] == "compiled"  # lists and subscripts: the object tier
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_python_dash_m_bench_runs_as_a_module(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--kernels", "fib_rec", "--no-baselines", "--no-startup",
         "--json", str(results),
         "--png", str(tmp_path / "c.png")],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "fib_rec" in done.stdout
    kernel = json.loads(results.read_text())["kernels"][0]
    assert kernel["status"] == "compiled" and set(kernel["timings"]) == {"interpreter", "cpjit"}
    assert kernel["speedup"]["cpjit"] > 0 and kernel["code_bytes"] > 0


@pytest.mark.slow
def test_the_full_report_ends_with_the_start_up_table(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    status, out, err = run(["--quick", "--kernels", "call_add1", "--repeat", "1", "--no-baselines",
                            "--json", str(results), "--png", str(tmp_path / "c.png")])
    assert status == 0
    assert "Start-up (fresh processes, median of 1 interleaved rounds" in out and "start-up: fresh processes" in err
    startup = json.loads(results.read_text())["startup"]
    assert startup["rounds"] == 1 and startup["wrong_results"] == []
    assert {entry["kernel"] for entry in startup["first_compile"]} == {"fib_rec", "mandelbrot"}


@pytest.mark.parametrize(("argv", "message"), [
    (["--kernels", "fib_rec,nope"], "unknown kernel(s) nope"),
    (["--repeat", "0"], "--repeat must be at least 1"),
])
def test_bad_options_are_refused_with_a_message(argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench_main.parse_arguments(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_kernels_keep_the_order_given() -> None:
    assert [k.name for k in bench_main.select_kernels("sieve, fib_rec")] == ["sieve", "fib_rec"]
    assert len(bench_main.select_kernels(None)) == len(bench_main.KERNELS)


def test_the_scaling_suite_runs_alone_and_checks_each_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scaling, "QUICK_SIZES", (20, 40))  # the series' shape, in a fraction of a second
    results = tmp_path / "r.json"
    status, out, err = run(["--quick", "--suite", "scaling", "--json", str(results), "--png", str(tmp_path / "c.png")])
    assert status == 0
    assert "Compile scaling" in out and "geometric mean speedup" not in out and "chart" not in out
    assert "compile scaling: 40 statements" in err
    data = json.loads(results.read_text())
    assert data["kernels"] == [] and [p["statements"] for p in data["compile_scaling"]] == [20, 40]
    assert all(p["status"] == "compiled" and len(p["samples_seconds"]) == bench_main.QUICK.compiles
               for p in data["compile_scaling"])
    assert not (tmp_path / "c.png").exists()
