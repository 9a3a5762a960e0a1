"""build_stencils.py: golden hole listings, the refusals, determinism, x18, --check and --clang.

The golden listings in tests/golden/<target>.txt are regenerated with
``CPJIT_UPDATE_GOLDEN=1 python -m pytest tests/test_build_stencils.py``.
The deliberately bad stencils of stencils/test/bad/ say in their leading
comment what must be refused, where, and with which extra flags.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import capstone
import pytest

import build_stencils as bs
from jit import records
from jit._build import ffi
from jit._build.extract import BuildError, hole_size, tail_jump
from jit._build.tables import GENERATED, render_table
from jit.backend.schema import Hole
from jit.backend.stencil_tables import StencilTable, header_line

TEST_DIR = bs.STENCILS_DIR / "test"
GOLDEN_SOURCE = TEST_DIR / "golden.c"
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
BAD_SOURCES = sorted((TEST_DIR / "bad").glob("*.c"))
UPDATE_GOLDEN = os.environ.get("CPJIT_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def toolchain() -> bs.Toolchain:
    return bs.find_toolchain()


# ---------------------------------------------------------------- golden


def golden_listing(result: bs.TargetResult) -> str:
    """What the golden file of one target records: sizes, and each hole's place, width, kind, symbol, addend."""
    (stencil,) = result.stencils
    lines = [
        f"# {stencil.name} from stencils/test/golden.c on {result.target}",
        "# regenerate: CPJIT_UPDATE_GOLDEN=1 python -m pytest tests/test_build_stencils.py",
        f"code {len(stencil.code)} bytes, tail jump {stencil.tail_jump}",
        f"data {len(stencil.data)} bytes, align {stencil.data_align}",
    ]
    for where, holes in (("code", stencil.code_holes), ("data", stencil.data_holes)):
        lines += [f"{where} {h.offset:#06x} size {hole_size(h.kind)} {h.kind} {h.symbol} {h.addend:+d}" for h in holes]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("target", list(bs.TARGETS))
def test_golden_holes(target: str, toolchain: bs.Toolchain) -> None:
    result = bs.build_target(target, [GOLDEN_SOURCE], toolchain)
    assert result.refusals == ()
    listing = golden_listing(result)
    path = GOLDEN_DIR / f"{target}.txt"
    if UPDATE_GOLDEN:
        path.write_text(listing)
    assert listing == path.read_text()
    # Whatever the code model, every hole of the source is there.
    (stencil,) = result.stencils
    symbols = {h.symbol for h in stencil.code_holes}
    assert symbols >= {
        "_JIT_SLOT0",
        "_JIT_SLOT1",
        "_JIT_OPARG2",
        "_JIT_OPERAND0",
        "_JIT_SIDE_EXIT",
        "_JIT_ERROR",
        "_JIT_CONTINUE",
        "PyFloat_FromDouble",
    }
    for hole in stencil.code_holes:
        assert 0 <= hole.offset <= len(stencil.code) - hole_size(hole.kind)


def test_golden_build_is_deterministic(toolchain: bs.Toolchain) -> None:
    first = bs.build_target("aarch64-unknown-linux", [GOLDEN_SOURCE], toolchain)
    second = bs.build_target("aarch64-unknown-linux", [GOLDEN_SOURCE], toolchain)
    data = render_table(first.info, first.stencils)
    assert data == render_table(second.info, second.stencils)
    assert data.startswith(header_line(first.info)) and f"# {GENERATED}.".encode() in header_line(first.info)
    assert str(bs.ROOT).encode() not in data and tempfile.gettempdir().encode() not in data
    table = StencilTable(data)
    assert table.info == first.info and [table[name] for name in table] == list(first.stencils)


def test_inputs_hash_covers_sources_and_flags(toolchain: bs.Toolchain, tmp_path: Path) -> None:
    target = bs.TARGETS["x86_64-unknown-linux"]
    header = bs.HEADER.read_text()
    source = tmp_path / "golden.c"
    shutil.copy(GOLDEN_SOURCE, source)
    base = bs.inputs_hash(target, target.all_flags, [source], header, toolchain)
    assert base == bs.inputs_hash(target, target.all_flags, [source], header, toolchain)
    assert base != bs.inputs_hash(target, (*target.all_flags, "-fjump-tables"), [source], header, toolchain)
    assert base != bs.inputs_hash(target, target.all_flags, [source], header + "\n", toolchain)
    source.write_text(source.read_text() + "\n")
    assert base != bs.inputs_hash(target, target.all_flags, [source], header, toolchain)


# ---------------------------------------------------------------- refusals


@dataclass(frozen=True)
class BadStencil:
    """A deliberately bad stencil and, from its leading comment, what the build must say about it."""

    path: Path
    name: str
    reason: str
    symbol: str  # a regular expression
    flags: tuple[str, ...]
    targets: frozenset[str]  # where it is refused; elsewhere it builds cleanly ...
    clang_rejects: frozenset[str]  # ... except where clang itself rejects the source

    @classmethod
    def read(cls, path: Path) -> BadStencil:
        text = path.read_text()
        fields = dict(re.findall(r"^ \* (\w[\w-]*): (.*)$", text, re.MULTILINE))
        (name,) = re.findall(r"STENCIL\((\w+)\)", text)
        return cls(
            path,
            name,
            fields["expect"],
            fields["symbol"],
            tuple(fields.get("flags", "").split()),
            frozenset(fields["targets"].split()) if "targets" in fields else frozenset(bs.TARGETS),
            frozenset(fields.get("clang-rejects", "").split()),
        )


BAD = [BadStencil.read(path) for path in BAD_SOURCES]


def test_every_refusal_has_a_bad_stencil() -> None:
    reasons = {bad.reason for bad in BAD}
    assert reasons >= {
        "unknown relocation kind",
        "hidden library function",
        "jump table",
        "stack-protector reference",
        "does not end in its continuation",
        "writable data",
        "reference to code outside the stencil",
        "unknown hole",
        "inline assembly",
    }
    symbols = " ".join(bad.symbol for bad in BAD)
    for name in ("memcpy", "__chkstk", "_fltused", "__divti3", "__aarch64_", "fmod", "__stack_chk_fail"):
        assert name in symbols


@pytest.mark.parametrize("target", list(bs.TARGETS))
@pytest.mark.parametrize("bad", BAD, ids=[bad.path.stem for bad in BAD])
def test_bad_stencil_is_refused(bad: BadStencil, target: str, toolchain: bs.Toolchain) -> None:
    if target in bad.clang_rejects:
        with pytest.raises(BuildError, match="clang failed"):
            bs.build_target(target, [bad.path], toolchain, bad.flags)
        return
    result = bs.build_target(target, [bad.path], toolchain, bad.flags)
    if target not in bad.targets:
        assert result.refusals == ()
        return
    assert result.refusals, f"{bad.path.name} was not refused on {target}"
    for refusal in result.refusals:
        assert refusal.target == target
        assert refusal.stencil == bad.name
        message = str(refusal)
        assert target in message and bad.name in message and repr(refusal.symbol) in message
    assert any(
        bad.reason in refusal.reason and re.fullmatch(bad.symbol, refusal.symbol) for refusal in result.refusals
    ), [str(r) for r in result.refusals]


def test_refusals_are_fatal_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    shutil.copy(GOLDEN_SOURCE, sources)
    shutil.copy(TEST_DIR / "bad" / "memcpy.c", sources)
    out = tmp_path / "out"
    argv = ["--target", "x86_64-unknown-linux", "--jobs", "1", "--source-dir", str(sources), "--output-dir", str(out),
            "--ffi-output", str(tmp_path / "ffi.py")]
    assert bs.main(argv) == 1
    err = capsys.readouterr().err
    assert "x86_64-unknown-linux: stencil BAD_MEMCPY: hidden library function" in err
    assert "'memcpy'" in err
    assert not out.exists() and not (tmp_path / "ffi.py").exists()


# ---------------------------------------------------------------- ABI facts


def registers_used(code: bytes) -> set[str]:
    disassembler = capstone.Cs(capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM)
    disassembler.detail = True
    names: set[str] = set()
    for insn in disassembler.disasm(code, 0):
        read, written = insn.regs_access()
        names |= {insn.reg_name(r) for r in (*read, *written)}
    return names


def test_x18_is_left_alone_where_the_platform_reserves_it(toolchain: bs.Toolchain) -> None:
    source = TEST_DIR / "pressure.c"
    used = {
        target: registers_used(bs.build_target(target, [source], toolchain).stencils[0].code)
        for target in ("aarch64-unknown-linux", "aarch64-apple-darwin", "aarch64-pc-windows")
    }
    # Under enough pressure Linux allocates x18, so the check below can see it ...
    assert "x18" in used["aarch64-unknown-linux"]
    # ... and the Apple and Windows ABIs keep it reserved.
    assert not used["aarch64-apple-darwin"] & {"x18", "w18"}
    assert not used["aarch64-pc-windows"] & {"x18", "w18"}


# ---------------------------------------------------------------- pieces


def test_tail_jump_recognizes_the_final_continuation() -> None:
    cont = "_JIT_CONTINUE"
    x86 = b"\x90" + b"\xe9\0\0\0\0"
    assert tail_jump("x86_64", x86, [Hole(2, "R_X86_64_PLT32", cont, -4)]) == 5
    assert tail_jump("x86_64", x86, [Hole(2, "R_X86_64_PLT32", "_JIT_ERROR", -4)]) == 0
    assert tail_jump("x86_64", b"\xff\x25\0\0\0\0", [Hole(2, "R_X86_64_GOTPCRELX", cont, -4)]) == 6
    b_insn = (0x14000000).to_bytes(4, "little")
    assert tail_jump("aarch64", b"\0" * 4 + b_insn, [Hole(4, "R_AARCH64_JUMP26", cont, 0)]) == 4
    assert tail_jump("aarch64", b_insn + b"\0" * 4, [Hole(0, "R_AARCH64_JUMP26", cont, 0)]) == 0
    # Windows: adrp x16; ldr x16, [x16]; br x16, the load patched with the continuation's GOT slot.
    adrp, ldr, br = 0x90000010, 0xF9400210, 0xD61F0200
    code = b"".join(w.to_bytes(4, "little") for w in (adrp, ldr, br))
    got = [Hole(0, "R_AARCH64_ADR_GOT_PAGE", cont, 0), Hole(4, "R_AARCH64_LD64_GOT_LO12_NC", cont, 0)]
    assert tail_jump("aarch64", code, got) == 4
    other = code[:8] + (0xD61F0220).to_bytes(4, "little")  # br x17: not the register loaded
    assert tail_jump("aarch64", other, got) == 0
    # The continuation loaded into x16 first, then a branch target into x16: the br goes to the target.
    words = (adrp, ldr, adrp, ldr, br)
    code = b"".join(w.to_bytes(4, "little") for w in words)
    both = [*got, Hole(8, "R_AARCH64_ADR_GOT_PAGE", "_JIT_JUMP_TARGET", 0),
            Hole(12, "R_AARCH64_LD64_GOT_LO12_NC", "_JIT_JUMP_TARGET", 0)]
    assert tail_jump("aarch64", code, both) == 0
    swapped = [Hole(h.offset ^ 8, h.kind, h.symbol, h.addend) for h in both]  # the continuation last
    assert tail_jump("aarch64", code, swapped) == 4


SAMPLE_IR = """\
@table = internal unnamed_addr constant [2 x i64] [i64 1, i64 2], align 16
@.str = private unnamed_addr constant [3 x i8] c"hi\\00", align 1
@counter = internal global i64 0, align 8
@_JIT_OPARG0 = external global i8, code_model "small", align 1
@llvm.compiler.used = appending global [1 x ptr] [ptr @table], section "llvm.metadata"
define dso_local ptr @STEP(ptr noundef %0) local_unnamed_addr #0 {
  ret ptr null
}
"""


def test_sectioned_gives_each_function_and_constant_its_section() -> None:
    lines = bs.sectioned(SAMPLE_IR, "large").splitlines()
    assert lines[0].endswith(', section ".rodata.table", align 16, code_model "large"')
    assert lines[1].endswith(', section ".rodata..str", align 1, code_model "large"')
    assert lines[2] == '@counter = internal global i64 0, align 8, code_model "large"'  # mutable: refused later
    assert lines[3] == '@_JIT_OPARG0 = external global i8, code_model "small", align 1'
    assert lines[4] == '@llvm.compiler.used = appending global [1 x ptr] [ptr @table], section "llvm.metadata"'
    assert lines[5] == 'define dso_local ptr @STEP(ptr noundef %0) local_unnamed_addr #0 section ".text.STEP" {'
    assert bs.sectioned(SAMPLE_IR, None).splitlines()[0].endswith('section ".rodata.table", align 16')
    with pytest.raises(BuildError, match="unexpected shape"):
        bs.sectioned("define void @F() {\n}\n", None)


def test_hole_names_come_from_the_header() -> None:
    names = bs.hole_names(bs.HEADER.read_text())
    assert names >= {
        "_JIT_CONTINUE",
        "_JIT_JUMP_TARGET",
        "_JIT_SIDE_EXIT",
        "_JIT_ERROR",
        "_JIT_OPARG0",
        "_JIT_OPARG3",
        "_JIT_SLOT0",
        "_JIT_SLOT3",
        "_JIT_OPERAND0",
        "_JIT_OPERAND1",
    }
    assert all(name.startswith("_JIT_") for name in names)


# ---------------------------------------------------------------- command line


def test_check_names_the_differing_stencils(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sources = tmp_path / "src"
    sources.mkdir()
    shutil.copy(GOLDEN_SOURCE, sources)
    out = tmp_path / "out"
    ffi_module = tmp_path / "memory_ffi.py"
    argv = ["--target", "x86_64-pc-windows", "--jobs", "1", "--source-dir", str(sources), "--output-dir", str(out),
            "--ffi-output", str(ffi_module)]
    assert bs.main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == ["__init__.py", "x86_64_pc_windows.bin"]
    assert ffi_module.read_text() == ffi.render()
    assert bs.main([*argv, "--check"]) == 0
    assert "check ok" in capsys.readouterr().out

    table = out / "x86_64_pc_windows.bin"
    committed = table.read_bytes()
    tables = StencilTable(committed)
    changed = [records.replace(s, tail_jump=99) if s.name == "GOLDEN" else s for s in tables.values()]
    table.write_bytes(render_table(tables.info, changed))
    assert bs.main([*argv, "--check"]) == 1
    assert "x86_64_pc_windows.bin: stencil GOLDEN differs" in capsys.readouterr().out

    table.write_bytes(b"# something else\n")
    assert bs.main([*argv, "--check"]) == 1
    assert "x86_64_pc_windows.bin: not a generated stencil table" in capsys.readouterr().out

    table.write_bytes(committed)
    ffi_module.write_text(ffi_module.read_text().replace("mmap", "mmap2"))
    assert bs.main([*argv, "--check"]) == 1
    assert "memory_ffi.py: stale" in capsys.readouterr().out

    ffi_module.write_text(ffi.render())
    (sources / "golden.c").write_text((sources / "golden.c").read_text().replace("0.1", "0.25"))
    assert bs.main([*argv, "--check"]) == 1
    printed = capsys.readouterr().out
    assert "TargetInfo differs in inputs_hash" in printed and "stencil GOLDEN differs" in printed

    table.unlink()
    assert bs.main([*argv, "--check"]) == 1
    assert "x86_64_pc_windows.bin: missing" in capsys.readouterr().out


def fake_clang(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"clang-{version}"
    path.write_text(f"#!/bin/sh\necho 'Debian clang version {version} (1)'\necho 'Target: x86_64-pc-linux-gnu'\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_clang_option_names_the_compiler(tmp_path: Path) -> None:
    chosen = bs.find_toolchain(str(fake_clang(tmp_path, "19.1.7")))
    assert chosen.clang == "clang version 19.1.7 (system clang)"
    assert chosen.clang_command == (str(tmp_path / "clang-19.1.7"),)
    with pytest.raises(BuildError, match="too old"):
        bs.find_toolchain(str(fake_clang(tmp_path, "18.1.8")))
    with pytest.raises(BuildError, match="cannot run clang"):
        bs.find_toolchain(str(tmp_path / "missing-clang"))
    default = bs.find_toolchain()
    assert re.fullmatch(r"clang version \d+\.\d+\.\d+ \(ziglang [\d.]+\)", default.clang)
    assert default.llvm.startswith("LLVM ") and "llvmlite" in default.llvm
