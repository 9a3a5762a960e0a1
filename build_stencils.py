#!/usr/bin/env python3
"""Build the stencil tables: C -> LLVM IR -> ELF object -> holes -> jit/_stencils/<target>.bin.

Every ``stencils/*.c`` is compiled for each of the six targets by the clang of
the pinned ``ziglang`` wheel (``-S -emit-llvm``); llvmlite (pinned, LLVM 22)
verifies the IR and emits an ELF object; pyelftools reads its sections,
symbols and relocations.  Each global function becomes one stencil: its code,
the read-only data its code reaches, and one hole per relocation.  Whatever
the runtime could not patch safely is refused with a message naming the
target, the stencil and the symbol.  See docs/stencils.md.

It also writes the other generated files, and ``--check`` checks them too:
stencils/jit_layouts.h (the C side of jit/layouts.py, see jit/_build/layouts.py),
written before anything is compiled, and jit/backend/_memory_ffi.py (cffi's
pre-parsed declarations of jit/backend/memory.py, see jit/_build/ffi.py).

Usage: ``python build_stencils.py [--target NAME]... [--check] [--clang PATH]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import importlib.metadata
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import llvmlite
import llvmlite.binding as llvm

from jit import ops
from jit._build import ffi, layouts
from jit._build.extract import CONSTANT_SECTION_PREFIX, BuildError, Refusal, extract, hole_names
from jit._build.tables import compare_tables, render_loader, render_table, table_file
from jit.backend.schema import Stencil, TargetInfo

ROOT = Path(__file__).resolve().parent
STENCILS_DIR = ROOT / "stencils"
HEADER = STENCILS_DIR / "jit_stencil.h"
LAYOUTS_HEADER = layouts.HEADER_PATH  # generated, included by HEADER
OUTPUT_DIR = ROOT / "jit" / "_stencils"

# Bumped when the extraction itself changes meaning, so that the inputs hash
# (and hence --check) notices tables written by an older extractor.
FORMAT_VERSION = 1

# -ffunction-sections / -fdata-sections are absent on purpose: they steer
# clang's own code generator, which is not used; llvmlite's TargetMachine has
# no such option, so the IR is given explicit sections instead (see sectioned()).
COMMON_FLAGS: tuple[str, ...] = (
    "-O3",
    "-nostdinc",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-jump-tables",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-fomit-frame-pointer",
    "-fno-math-errno",
)


@dataclass(frozen=True)
class Target:
    """One of the six targets: how to compile for it."""

    name: str
    triple: str
    flags: tuple[str, ...]  # clang flags beyond COMMON_FLAGS
    code_model: str  # llvmlite's codemodel for the TargetMachine
    # IR code_model given to the stencils' own globals (x86-64 only): it picks
    # an addressing the runtime can honour with data laid out beside code (see
    # docs/stencils.md, "Targets and code models").
    data_code_model: str | None

    @property
    def arch(self) -> str:
        return self.name.split("-", 1)[0]

    @property
    def table_file(self) -> str:
        """Its table's file name in jit/_stencils/."""
        return table_file(self.name)

    @property
    def all_flags(self) -> tuple[str, ...]:
        return ("-target", self.triple, *COMMON_FLAGS, *self.flags)


_X86_FLAGS = ("-mcmodel=medium", "-fno-pic")
_ARM_FLAGS = ("-mno-outline-atomics",)
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("x86_64-unknown-linux", "x86_64-unknown-linux-elf", _X86_FLAGS, "medium", "large"),
        Target("x86_64-apple-darwin", "x86_64-apple-darwin-elf", _X86_FLAGS, "medium", "small"),
        Target("x86_64-pc-windows", "x86_64-pc-windows-elf", _X86_FLAGS, "medium", "large"),
        Target(
            "aarch64-unknown-linux",
            "aarch64-unknown-linux-elf",
            ("-mcmodel=large", "-fno-pic", *_ARM_FLAGS),
            "large",
            None,
        ),
        Target("aarch64-apple-darwin", "aarch64-apple-darwin-elf", _ARM_FLAGS, "small", None),
        Target("aarch64-pc-windows", "aarch64-pc-windows-elf", _ARM_FLAGS, "small", None),
    )
}


@dataclass(frozen=True)
class Toolchain:
    """The C front end and the back end; ``clang``/``llvm`` are what the tables record."""

    clang_command: tuple[str, ...]
    clang: str
    llvm: str


def find_toolchain(clang_path: str | None = None) -> Toolchain:
    """The pinned ziglang clang, or the system clang at ``clang_path`` (>= 19), with llvmlite."""
    command: tuple[str, ...] = (clang_path,) if clang_path else (sys.executable, "-m", "ziglang", "clang")
    try:
        out = subprocess.run([*command, "--version"], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError(f"cannot run clang ({' '.join(command)}): {exc}") from exc
    first = out.splitlines()[0].strip() if out else ""
    match = re.search(r"clang version (\d+)\.(\d+)\.(\d+)", first)
    if match is None:
        raise BuildError(f"not a clang: {first!r}")
    if clang_path:
        if int(match.group(1)) < 19:
            raise BuildError(f"clang {match.group(0)} is too old: stencils need clang >= 19")
        clang = f"{match.group(0)} (system clang)"
    else:
        clang = f"{match.group(0)} (ziglang {importlib.metadata.version('ziglang')})"
    llvm_version = ".".join(map(str, llvm.llvm_version_info))
    return Toolchain(command, clang, f"LLVM {llvm_version} (llvmlite {llvmlite.__version__})")


def inputs_hash(
    target: Target, flags: Sequence[str], sources: Sequence[Path], header: str, toolchain: Toolchain
) -> str:
    """sha256 over the C sources and header, the flags and the toolchain versions (no paths)."""
    digest = hashlib.sha256()

    def add(text: str | bytes) -> None:
        data = text.encode() if isinstance(text, str) else text
        digest.update(len(data).to_bytes(8, "little") + data)

    add(f"cpjit stencils format {FORMAT_VERSION}")
    add(header)
    for source in sorted(sources, key=lambda p: p.name):
        add(source.name)
        add(source.read_bytes())
    for item in (*flags, target.code_model, str(target.data_code_model)):
        add(item)
    add(toolchain.clang)
    add(toolchain.llvm)
    return digest.hexdigest()


def headers_text() -> str:
    """The headers stencils include, as the inputs hash covers them."""
    others = sorted(path for path in STENCILS_DIR.glob("*.h") if path not in (HEADER, LAYOUTS_HEADER))
    return HEADER.read_text() + LAYOUTS_HEADER.read_text() + "".join(path.read_text() for path in others)


# ---------------------------------------------------------------- IR rewrite

_DEFINE = re.compile(r'^define [^@]*@(?P<name>[-\w$.]+|"[^"\\]+")\(')
_GLOBAL = re.compile(
    r'^@(?P<name>[-\w$.]+|"[^"\\]+") = (?P<quals>(?:[a-z_]+(?:\(\w*\))? )*?)(?P<kind>constant|global) '
)


def _bare(name: str) -> str:
    return name.strip('"')


def sectioned(ir: str, data_code_model: str | None) -> str:
    """Give every defined function and constant its own section.

    One function per executable section means every reference between
    functions is a relocation (never resolved silently by the assembler), and
    each stencil's code is exactly one section.  ``data_code_model`` is set on
    the module's own data so that its addressing suits data placed beside code.
    """
    lines = ir.splitlines()
    for i, line in enumerate(lines):
        define = _DEFINE.match(line)
        if define:
            attrs = re.search(r" #\d+(?= \{$)", line)
            if attrs is None or ' section "' in line:
                raise BuildError(f"unexpected shape of an IR function definition: {line}")
            section = f' section ".text.{_bare(define.group("name"))}"'
            lines[i] = line[: attrs.end()] + section + line[attrs.end() :]
            continue
        glob = _GLOBAL.match(line)
        # Declarations are holes; llvm.* globals (llvm.used ...) are metadata, not data.
        if glob is None or "external" in glob.group("quals") or _bare(glob.group("name")).startswith("llvm."):
            continue
        if ' section "' in line or ", code_model " in line:
            raise BuildError(f"stencil data takes no explicit section or code model: {line}")
        extra = f', code_model "{data_code_model}"' if data_code_model else ""
        if glob.group("kind") == "constant":
            align = re.search(r", align \d+$", line)
            head, tail = (line[: align.start()], align.group()) if align else (line, "")
            lines[i] = f'{head}, section "{CONSTANT_SECTION_PREFIX}.{_bare(glob.group("name"))}"{tail}{extra}'
        else:  # mutable data keeps its writable section, to be refused where referenced
            lines[i] = line + extra
    return "\n".join(lines) + "\n"


_INLINE_ASM = re.compile(r'\basm (?:sideeffect |alignstack |inteldialect |unwind )*"([^"]*)"')


def inline_assembly(ir: str) -> dict[str, list[str]]:
    """Function name (or "module asm") -> the inline assembly templates in its IR.

    llvmlite has no assembly parser for foreign targets (code generation would
    abort), and assembly would bypass every check here: stencils are C only.
    """
    found: dict[str, list[str]] = {}
    function = ""
    for line in ir.splitlines():
        define = _DEFINE.match(line)
        if define:
            function = _bare(define.group("name"))
        elif line.startswith("module asm "):
            found.setdefault("module asm", []).append(line[len("module asm ") :].strip('"'))
        elif function:
            found.setdefault(function, []).extend(_INLINE_ASM.findall(line))
        if line == "}":
            function = ""
    return {name: templates for name, templates in found.items() if templates}


# ---------------------------------------------------------------- compile

_TARGET_MACHINES: dict[str, Any] = {}


def _target_machine(target: Target) -> Any:
    if not _TARGET_MACHINES:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
    if target.name not in _TARGET_MACHINES:
        _TARGET_MACHINES[target.name] = llvm.Target.from_triple(target.triple).create_target_machine(
            opt=3, reloc="static", codemodel=target.code_model
        )
    return _TARGET_MACHINES[target.name]


def compile_to_ir(
    target: Target, sources: Sequence[Path], toolchain: Toolchain, extra_flags: Sequence[str] = ()
) -> dict[str, str]:
    """Source file name -> LLVM IR text, from one clang process per target."""
    stems = [s.stem for s in sources]
    if len(set(stems)) != len(stems):
        raise BuildError(f"stencil sources with the same name: {sorted(stems)}")
    with tempfile.TemporaryDirectory(prefix="cpjit-ir-") as tmp:
        command = [
            *toolchain.clang_command,
            *target.all_flags,
            *extra_flags,
            "-I",
            str(STENCILS_DIR),
            "-S",
            "-emit-llvm",
            *(str(s.resolve()) for s in sources),
        ]
        proc = subprocess.run(command, check=False, cwd=tmp, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise BuildError(f"{target.name}: clang failed:\n{proc.stderr.strip()}")
        return {s.name: (Path(tmp) / f"{s.stem}.ll").read_text() for s in sources}


def emit(target: Target, ir: str) -> tuple[bytes, str]:
    """The ELF object and the assembly listing of one module (verified first)."""
    tm = _target_machine(target)
    text = sectioned(ir, target.data_code_model)
    # Code generation rewrites the module, so each output gets a fresh parse.
    module = llvm.parse_assembly(text)
    module.verify()
    obj = bytes(tm.emit_object(module))
    asm = str(tm.emit_assembly(llvm.parse_assembly(text)))
    return obj, asm


@dataclass(frozen=True)
class TargetResult:
    """One target's tables, or the refusals that prevent them."""

    target: str
    info: TargetInfo
    stencils: tuple[Stencil, ...]
    refusals: tuple[Refusal, ...]
    seconds: float


def build_target(
    target_name: str,
    sources: Sequence[Path],
    toolchain: Toolchain,
    extra_flags: Sequence[str] = (),
) -> TargetResult:
    """Compile ``sources`` for one target; refusals are returned, not raised."""
    start = time.perf_counter()
    target = TARGETS[target_name]
    header = headers_text()
    holes = hole_names(header)
    stencils: dict[str, Stencil] = {}
    origin: dict[str, str] = {}
    refusals: list[Refusal] = []
    for file_name, ir in sorted(compile_to_ir(target, sources, toolchain, extra_flags).items()):
        assembly = inline_assembly(ir)
        if assembly:
            refusals += [
                Refusal(target.name, name, template, "inline assembly: stencils are C only")
                for name, templates in sorted(assembly.items())
                for template in dict.fromkeys(templates)
            ]
            continue
        obj, asm = emit(target, ir)
        found, refused = extract(target.name, target.arch, obj, asm, holes)
        refusals += refused
        for stencil in found:
            if stencil.name in stencils:
                refusals.append(
                    Refusal(
                        target.name,
                        stencil.name,
                        stencil.name,
                        f"defined twice, in {origin[stencil.name]} and {file_name}",
                    )
                )
            stencils[stencil.name] = stencil
            origin[stencil.name] = file_name
    flags = (*target.all_flags, *extra_flags)
    info = TargetInfo(
        name=target.name,
        triple=target.triple,
        inputs_hash=inputs_hash(target, flags, sources, header, toolchain),
        clang=toolchain.clang,
        llvm=toolchain.llvm,
        flags=flags,
    )
    ordered = tuple(stencils[name] for name in sorted(stencils))
    return TargetResult(target.name, info, ordered, tuple(refusals), time.perf_counter() - start)


# ---------------------------------------------------------------- main


def write_tables(results: Iterable[TargetResult], out_dir: Path) -> list[Path]:
    """Write the loader and one table file per result into ``out_dir``; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    loader = out_dir / "__init__.py"
    loader.write_text(render_loader())
    written = [loader]
    for result in results:
        path = out_dir / TARGETS[result.target].table_file
        path.write_bytes(render_table(result.info, result.stencils))
        written.append(path)
    return written


def table_files(names: Iterable[str]) -> list[str]:
    """The files of jit/_stencils/ that the tables of ``names`` consist of."""
    return ["__init__.py", *(TARGETS[n].table_file for n in names)]


def build(
    names: Sequence[str],
    sources: Sequence[Path],
    toolchain: Toolchain,
    jobs: int = 2,
    extra_flags: Sequence[str] = (),
    progress: Callable[[str], None] = lambda line: None,
) -> list[TargetResult]:
    """Build ``names`` in a process pool; BuildError listing every refusal if there is any."""
    results: list[TargetResult] = []
    if jobs <= 1:
        for i, name in enumerate(names, 1):
            results.append(build_target(name, sources, toolchain, extra_flags))
            progress(_progress_line(i, len(names), results[-1]))
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(build_target, name, sources, toolchain, extra_flags) for name in names]
            for i, future in enumerate(concurrent.futures.as_completed(futures), 1):
                results.append(future.result())
                progress(_progress_line(i, len(names), results[-1]))
    results.sort(key=lambda r: names.index(r.target))
    refusals = [refusal for result in results for refusal in result.refusals]
    if refusals:
        raise BuildError(f"{len(refusals)} refusal(s):\n" + "\n".join(f"  {r}" for r in refusals), refusals)
    return results


def _progress_line(i: int, n: int, result: TargetResult) -> str:
    status = f"{len(result.refusals)} refusal(s)" if result.refusals else "ok"
    return f"[{i}/{n}] {result.target}: {len(result.stencils)} stencils, {status} ({result.seconds:.1f} s)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", choices=list(TARGETS), help="build only this target (repeatable)")
    parser.add_argument(
        "--check", action="store_true", help="build into a temporary folder and fail if the committed tables differ"
    )
    parser.add_argument("--clang", metavar="PATH", help="use this system clang (>= 19) instead of ziglang's")
    parser.add_argument("--jobs", type=int, default=2, help="targets built in parallel (default 2)")
    parser.add_argument("--source-dir", type=Path, default=STENCILS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--ffi-output", type=Path, default=ffi.MODULE_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names: list[str] = args.target or list(TARGETS)
    start = time.perf_counter()

    def say(line: str) -> None:
        print(line, flush=True)

    try:
        toolchain = find_toolchain(args.clang)
        # The stencils include the layouts header: a check compiles the committed one (and fails if stale).
        stale_layouts = layouts.check() if args.check else None
        if not args.check:
            layouts.write()
        sources = sorted(args.source_dir.glob("*.c"))
        if not sources:
            raise BuildError(f"no stencil sources (*.c) in {args.source_dir.name}/")
        say(
            f"building {len(sources)} stencil files for {len(names)} target(s) with {toolchain.clang}, {toolchain.llvm}"
        )
        results = build(names, sources, toolchain, args.jobs, progress=say)
        if args.source_dir == STENCILS_DIR:
            # Every stencil the compiler may select (jit/ops.py's registry) exists in every target's table.
            missing, unselected = ops.catalog_problems(
                {result.target: [stencil.name for stencil in result.stencils] for result in results})
            if missing:
                raise BuildError("stencils the compiler selects are missing:\n" + "\n".join(
                    f"  {line}" for line in missing))
            for name in unselected:
                say(f"note: no micro-op or support code selects stencil {name} (jit/ops.py)")
        if args.check:
            with tempfile.TemporaryDirectory(prefix="cpjit-check-") as tmp:
                write_tables(results, Path(tmp))
                problems = compare_tables(Path(tmp), args.output_dir, table_files(names))
            stale_ffi = ffi.check(args.ffi_output)
            problems += [stale for stale in (stale_layouts, stale_ffi) if stale]
            if problems:
                say("committed stencil tables are stale (run python build_stencils.py):")
                for problem in problems:
                    say(f"  {problem}")
                return 1
            say(
                f"check ok: the committed tables of {len(names)} target(s), {LAYOUTS_HEADER.name} and "
                f"{args.ffi_output.name} match the sources ({time.perf_counter() - start:.1f} s)"
            )
            return 0
        written = write_tables(results, args.output_dir)
        ffi.write(args.ffi_output)
        say(
            f"wrote {LAYOUTS_HEADER.name}, {len(written)} files to {args.output_dir.name}/ and {args.ffi_output.name} "
            f"({time.perf_counter() - start:.1f} s)"
        )
        return 0
    except BuildError as exc:
        print(f"build_stencils: error: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
