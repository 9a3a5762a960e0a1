"""What a run leaves behind: the tables on the terminal, the JSON results, the PNG chart."""

from __future__ import annotations

import json
import os
import platform
import textwrap
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

import jit
from bench.scaling import ScalingPoint
from bench.suite import BASELINES, CPJIT, FALLBACK, INTERPRETER, LLVM_O0, LLVM_O2, NUMBA, KernelResult, Settings
from bench.suite import geometric_mean as geomean

CHART_HINT = "bar chart: pip install cpjit[bench] (matplotlib) to get it as a PNG"
JSON_SCHEMA = 1


def cpu_name() -> str:
    """The processor's model name where the system tells it, else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    return {
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "cpu": cpu_name(),
        "cpus": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_build": f"{' '.join(platform.python_build())}, {platform.python_compiler()}",
        "cpjit": jit.__version__,
        "llvmlite": package_version("llvmlite"),
        "numba": package_version("numba"),
    }


def format_machine(info: dict[str, Any]) -> str:
    versions = ", ".join(f"{name} {info[name]}" for name in ("llvmlite", "numba") if info.get(name))
    return (f"{info['python']} ({info['python_build']}) on {info['system']} {info['machine']}, "
            f"{info['cpu']}, {info['cpus']} CPUs; cpjit {info['cpjit']}" + (f", {versions}" if versions else ""))


def format_seconds(seconds: float | None) -> str:
    """Three significant digits with a unit that fits: 49.3 ns, 1.52 ms, 0.512 s."""
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio: float | None) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3g}x"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Text columns: the first left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths,
                                                                                               strict=True)))

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def median(result: KernelResult, variant: str) -> float | None:
    return result.timings[variant].median if variant in result.timings else None


def minimum(result: KernelResult, variant: str) -> float | None:
    return result.timings[variant].minimum if variant in result.timings else None


def speedups(results: Sequence[KernelResult]) -> dict[str, float | None]:
    """Geometric means of cpjit's speedup: over every kernel, and over those that ran machine code."""
    every = [s for r in results if (s := r.speedup()) is not None]
    compiled = [s for r in results if (s := r.speedup()) is not None and r.status != FALLBACK]
    return {"all": geomean(every), "compiled": geomean(compiled)}


def main_table(results: Sequence[KernelResult]) -> str:
    headers = ["kernel", "interpreter", "(min)", "cpjit", "(min)", "speedup", "compile", "code bytes", "runs as"]
    rows = []
    notes: list[str] = []
    for result in results:
        runs = result.status
        if result.reason or CPJIT in result.notes:
            notes.append(f"[{len(notes) + 1}] {result.kernel.name}: {result.reason or result.notes[CPJIT]}")
            runs += f" [{len(notes)}]"
        rows.append([
            result.kernel.name,
            format_seconds(median(result, INTERPRETER)), format_seconds(minimum(result, INTERPRETER)),
            format_seconds(median(result, CPJIT)), format_seconds(minimum(result, CPJIT)),
            format_ratio(result.speedup()),
            format_seconds(result.compile_seconds.get(CPJIT)),
            f"{result.code_bytes:,}" if result.code_bytes else "-",
            runs,
        ])
    means = speedups(results)
    compiled_count = sum(1 for r in results if r.status != FALLBACK and r.speedup() is not None)
    summary = (f"geometric mean speedup: {format_ratio(means['all'])} over all {len(results)} kernels, "
               f"{format_ratio(means['compiled'])} over the {compiled_count} that run machine code")
    return "\n".join([format_table(headers, rows), "", summary, *notes])


def compile_table(results: Sequence[KernelResult], stitch: dict[str, Any] | None) -> str:
    """The copy-and-patch paper's comparison: compile time and the speed of the code, cpjit against LLVM."""
    compilers = [CPJIT, *BASELINES]
    shown = [c for c in compilers if c == CPJIT or any(c in r.compile_seconds for r in results)]
    headers = ["kernel", *(f"{c} compile" for c in shown), *(f"{c} speed" for c in shown)]
    rows = []
    notes: dict[str, list[str]] = {}  # note -> kernels it applies to
    for result in results:
        rows.append([result.kernel.name,
                     *(format_seconds(result.compile_seconds.get(c)) for c in shown),
                     *(format_ratio(result.speedup(c)) for c in shown)])
        for variant, note in result.notes.items():
            if variant in BASELINES:
                notes.setdefault(f"{variant}: {note}", []).append(result.kernel.name)
    lines = ["Compile time (median of fresh compiles; cpjit end to end from the source, LLVM from its IR)\n"
             "and speed (times faster than the interpreter, median of the rounds' ratios; LLVM's code is called "
             "through ctypes: see call_add1)",
             format_table(headers, rows)]
    if stitch is not None:
        lines.append(f"copy-and-patch of a {stitch['stencils']}-stencil sequence: "
                     f"{format_seconds(stitch['seconds_per_stencil'])} per stencil stitched into bytes, "
                     f"{format_seconds(stitch['emit_seconds_per_stencil'])} emitted into executable memory")
    per_stencil = [r.compile_seconds[CPJIT] / r.stencils for r in results if r.stencils and CPJIT in r.compile_seconds]
    if per_stencil:
        lines.append(f"cpjit end to end: {format_seconds(sum(per_stencil) / len(per_stencil))} per stencil on "
                     "average (frontend, optimizer, lowering, stitching)")
    for note, kernels in notes.items():
        where = "every kernel" if len(kernels) == len(results) > 1 else ", ".join(kernels)
        lines.append(f"  {where}: {note}")
    return "\n".join(lines)


def scaling_table(points: Sequence[ScalingPoint]) -> str:
    """The compile-scaling series: compile time per statement must stay flat as functions grow."""
    if not points:
        return ""
    first = points[0].per_statement
    rows = [[f"{p.statements:,}", format_seconds(p.median), format_seconds(p.per_statement),
             format_ratio(p.per_statement / first), f"{p.stencils:,}" if p.stencils else "-", p.status]
            for p in points]
    headers = ["statements", "compile", "per statement", f"vs {points[0].statements:,}", "stencils", "result"]
    return "\n".join([
        "Compile scaling: first-call compile of a straight-line function (bench.long_functions), median of "
        "fresh compiles, end to end;\nthe cost per statement stays flat when compile time is linear in the "
        "function's length",
        format_table(headers, rows)])


def to_json(results: Sequence[KernelResult], settings: Settings, machine: dict[str, Any], command: str,
            date: str, stitch: dict[str, Any] | None, scaling: Sequence[ScalingPoint] = ()) -> dict[str, Any]:
    return {
        "schema": JSON_SCHEMA,
        "date": date,
        "command": command,
        "settings": asdict(settings),
        "machine": machine,
        "geometric_mean_speedup": speedups(results),
        "stitch": stitch,
        "kernels": [r.to_json() for r in results],
        "compile_scaling": [p.to_json() for p in scaling],
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def write_chart(path: Path, results: Sequence[KernelResult], title: str) -> str | None:
    """Bars of each compiler's speedup over the interpreter, per kernel (log scale); None without matplotlib."""
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415 - optional (bench extra)
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]  # noqa: PLC0415 - after use()

    variants = [v for v in (CPJIT, LLVM_O0, LLVM_O2, NUMBA) if any(r.speedup(v) for r in results)]
    names = [r.kernel.name for r in results]
    width = 0.8 / max(1, len(variants))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.1 * len(names) + 2), 4.5))
    for index, variant in enumerate(variants):
        positions = [k + (index - (len(variants) - 1) / 2) * width for k in range(len(names))]
        values = [r.speedup(variant) or 0.0 for r in results]
        bars = axes.bar(positions, values, width, label=variant)
        if variant == CPJIT:
            for bar, result in zip(bars, results, strict=True):
                if result.status == FALLBACK:
                    bar.set_hatch("//")
                    bar.set_alpha(0.5)
                    axes.annotate("interpreter", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                                  xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                                  rotation=90, fontsize=7)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(names)), names, rotation=30, ha="right")
    axes.set_ylabel("speedup over the interpreter")
    axes.set_title(textwrap.fill(title, 100), fontsize=8)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return str(path)

