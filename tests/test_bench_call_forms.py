"""bench.call_forms: every call form checked against the plain call, timed side by side, and its table."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import jit
from bench import call_forms
from jit import compiler


def test_every_form_gives_the_plain_calls_result_and_a_ratio() -> None:
    results = call_forms.measure_call_forms(rounds=1, quick=True)
    assert [r.name for r in results] == [form.name for form in call_forms.forms()]
    assert all(r.plain_seconds > 0 and r.compiled_seconds > 0 and r.ratio > 0 for r in results)
    table = call_forms.call_forms_table(results)
    assert "budget 1.1x" in table and all(r.name in table for r in results)
    out = io.StringIO()
    assert call_forms.main(["--rounds", "1", "--quick"], out=out) == 0
    assert "keywords" in out.getvalue()


def test_the_calls_suite_runs_alone_from_python_m_bench(tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--suite", "calls", "--repeat", "1",
                           "--json", str(results), "--png", str(tmp_path / "c.png")],
                          capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert "Call forms" in done.stdout and "geometric mean" not in done.stdout
    forms = json.loads(results.read_text())["call_forms"]
    assert [f["form"] for f in forms] == [form.name for form in call_forms.forms()]


def test_the_function_that_cannot_compile_runs_in_the_interpreter() -> None:
    # The form must measure what its name says: a function cpjit refuses (its match statement), which
    # jit.compile hands back as it is.
    fast = jit.compile(call_forms.not_compiled)
    assert fast is call_forms.not_compiled and fast(1, b=3) == 3
    assert "'match' is not supported" in str(compiler.refusal_of(call_forms.not_compiled))
