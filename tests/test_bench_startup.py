"""bench.startup: fresh processes side by side, their medians and differences, the table and the JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bench import startup


def test_pair_reports_medians_of_the_rounds_differences_and_ratios() -> None:
    pair = startup.Pair(subject=[0.05, 0.09, 0.06], baseline=[0.03, 0.05, 0.03])
    assert pair.difference == pytest.approx(0.03)  # the rounds' differences 0.02, 0.04, 0.03
    assert pair.ratio == pytest.approx(1.8)  # the rounds' ratios 5/3, 9/5, 2
    data = pair.to_json()
    assert data["median_seconds"] == 0.06 and data["baseline_median_seconds"] == 0.03
    assert data["samples_seconds"] == pair.subject and data["baseline_samples_seconds"] == pair.baseline


def test_settings_control_bytecode_writing_and_the_import_path() -> None:
    base = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": "elsewhere", "HOME": "h"}
    cached, dont_write, fresh = startup.SETTINGS
    assert cached.environment(base) == {"HOME": "h"}
    assert dont_write.environment(base) == fresh.environment(base) == {"HOME": "h", "PYTHONDONTWRITEBYTECODE": "1"}
    assert fresh.fresh_copy and not cached.fresh_copy and not dont_write.fresh_copy
    with startup.working_directories() as directories:
        copy = directories[fresh.name]
        assert directories[cached.name] == startup.ROOT != copy
        assert (copy / "jit" / "_stencils" / "x86_64_unknown_linux.bin").exists()
        assert not list(copy.rglob("__pycache__"))  # nothing of cpjit is cached there


def test_one_round_measures_every_setting_and_checks_the_results(tmp_path: Path) -> None:
    rounds: list[int] = []
    result = startup.measure_startup(1, ["call_add1"], on_round=rounds.append)
    assert rounds == [1] and result.wrong == []
    assert set(result.imports) == {s.name for s in startup.SETTINGS}
    assert set(result.compiles) == {(s.name, "call_add1") for s in startup.SETTINGS}
    for pair in [*result.imports.values(), *result.compiles.values()]:
        assert len(pair.subject) == len(pair.baseline) == 1 and min(pair.subject + pair.baseline) > 0
    table = startup.startup_table(result)
    assert "import jit (no .pyc of cpjit)" in table and "python -c pass" in table
    assert "first compile+call of call_add1 (bytecode cached)" in table and "3.0 ms: " in table
    data = result.to_json()
    assert data["import_budget_seconds"] == startup.IMPORT_BUDGET and len(data["first_compile"]) == 3
    json.dumps(data)


def test_main_prints_the_table_writes_json_and_refuses_bad_options(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert startup.main(["--rounds", "1", "--kernels", "call_add1", "--json", str(tmp_path / "s.json")], out, err) == 0
    assert "Start-up (fresh processes, median of 1 interleaved rounds" in out.getvalue()
    assert "round 1/1" in err.getvalue()
    assert json.loads((tmp_path / "s.json").read_text())["rounds"] == 1
    for argv in (["--rounds", "0"], ["--kernels", "nope"]):
        with pytest.raises(SystemExit):
            startup.main(argv)
        assert "--kernels among" in capsys.readouterr().err
