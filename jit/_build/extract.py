"""ELF object -> stencil records (code, read-only data, holes), refusing what the runtime cannot patch.

One stencil per global function; each function sits in its own executable
section (build_stencils.py gives the IR explicit sections), selected by the
SHF_EXECINSTR flag rather than by name because x86-64's larger code models use
``.ltext``.  See docs/stencils.md for the conventions and the refusals.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.enums import ENUM_RELOC_TYPE_AARCH64, ENUM_RELOC_TYPE_x64
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from jit import ops
from jit.backend.relocations import RELOCATIONS
from jit.backend.schema import Hole, Stencil

__all__ = [
    "CONSTANT_SECTION_PREFIX",
    "CONTINUE",
    "OWN_DATA",
    "BuildError",
    "Refusal",
    "extract",
    "hole_names",
    "hole_size",
    "is_terminal",
    "jump_tables",
    "reloc_name",
    "tail_jump",
]

CONTINUE = "_JIT_CONTINUE"
OWN_DATA = ".data"  # the symbol of holes against the stencil's own read-only data
CONSTANT_SECTION_PREFIX = ".rodata"  # sections of the IR's constants (build_stencils.py names them)
CAPI_PREFIXES = ("Py", "_Py")
STACK_PROTECTOR_PREFIXES = ("__stack_chk", "__security_")
# Stencils after which control never reaches the next one (returns, the entry, the slow-path call, the
# unconditional jump...): the registry of micro-ops says which (jit/ops.py).
TERMINAL_NAMES = ops.terminal_stencils()

# ELF relocation type numbers -> names; pyelftools 0.33 lacks a few.
_RELOC_NAMES: dict[str, dict[int, str]] = {
    "x86_64": {number: name for name, number in ENUM_RELOC_TYPE_x64.items() if name != "_default_"}
    | {41: "R_X86_64_GOTPCRELX", 42: "R_X86_64_REX_GOTPCRELX"},
    "aarch64": {number: name for name, number in ENUM_RELOC_TYPE_AARCH64.items() if name != "_default_"}
    | {299: "R_AARCH64_LDST128_ABS_LO12_NC"},
}
_WIDE_KINDS = frozenset({"R_X86_64_64", "R_AARCH64_ABS64"})
_AARCH64_BR = 0xD61F0000  # br xN, with N in bits 5-9


def reloc_name(arch: str, number: int) -> str:
    """The ELF name of relocation type ``number`` on ``arch`` ("x86_64" or "aarch64")."""
    return _RELOC_NAMES[arch].get(number, f"type {number}")


def hole_size(kind: str) -> int:
    """Bytes a hole of ``kind`` patches: 8 for a 64-bit data word, else one 4-byte field or instruction."""
    return 8 if kind in _WIDE_KINDS else 4


def is_terminal(name: str) -> bool:
    """Whether stencil ``name`` never continues to the next stencil (so needs no _JIT_CONTINUE)."""
    return name in TERMINAL_NAMES


def hole_names(header: str) -> frozenset[str]:
    """The control and operand holes the shared header declares (``extern ... _JIT_*``)."""
    return frozenset(
        name
        for line in header.splitlines()
        if line.lstrip().startswith("extern")
        for name in re.findall(r"\b_JIT_[A-Z0-9_]+\b", line)
    )


@dataclass(frozen=True)
class Refusal:
    """Why one stencil cannot be used on one target."""

    target: str
    stencil: str
    symbol: str
    reason: str

    def __str__(self) -> str:
        return f"{self.target}: stencil {self.stencil}: {self.reason} (symbol {self.symbol!r})"


class BuildError(Exception):
    """The build cannot produce tables: a compile error, or refusals (all of them listed)."""

    def __init__(self, message: str, refusals: Sequence[Refusal] = ()) -> None:
        super().__init__(message)
        self.refusals = tuple(refusals)


def jump_tables(asm: str) -> dict[str, list[str]]:
    """Function name -> its jump-table labels, from an assembly listing.

    On AArch64 a jump table holds code offsets without relocations, so the
    object alone does not show it; the listing names every table ``.LJTI*``.
    """
    found: dict[str, list[str]] = {}
    function = ""
    for line in asm.splitlines():
        typed = re.match(r"\s*\.type\s+([^,\s]+),\s*[@%]function", line)
        if typed:
            function = typed.group(1).strip('"')
        label = re.match(r"(\.?L?JTI\d+_\d+):", line)
        if label:
            found.setdefault(function, []).append(label.group(1))
    return found


def tail_jump(arch: str, code: bytes, holes: Iterable[Hole]) -> int:
    """Size of the jump to _JIT_CONTINUE that ends ``code``; 0 if its last instruction is not that jump."""
    holes = tuple(holes)
    end = len(code)
    at = {h.offset: h for h in holes if h.symbol == CONTINUE}
    last = at.get(end - 4)
    if arch == "x86_64":
        if last is None:
            return 0
        if last.kind in ("R_X86_64_PLT32", "R_X86_64_PC32") and code[end - 5 : end - 4] == b"\xe9":
            return 5  # jmp rel32
        if last.kind.startswith("R_X86_64_GOTPCREL") and code[end - 6 : end - 4] == b"\xff\x25":
            return 6  # jmp *slot(%rip)
        return 0
    if last is not None and last.kind == "R_AARCH64_JUMP26":
        return 4  # b
    word = int.from_bytes(code[end - 4 : end], "little") if end >= 4 else 0
    if word & 0xFFFFFC1F == _AARCH64_BR:
        # br xN (Windows): it jumps to the continuation if the last GOT load into xN before it loads the
        # continuation's slot; an earlier load into xN may be for another target (a branch, an error exit).
        register = (word >> 5) & 0x1F
        loads = [
            hole for hole in holes
            if hole.kind == "R_AARCH64_LD64_GOT_LO12_NC" and hole.offset < end - 4
            and int.from_bytes(code[hole.offset : hole.offset + 4], "little") & 0x1F == register
        ]
        if loads and max(loads, key=lambda hole: hole.offset).symbol == CONTINUE:
            return 4
    return 0


def _sorted_holes(holes: Iterable[Hole | None]) -> tuple[Hole, ...]:
    return tuple(sorted((h for h in holes if h is not None), key=lambda h: (h.offset, h.kind, h.symbol, h.addend)))


@dataclass
class _Layout:
    """One stencil's read-only data, built section by section as its code (transitively) reaches them."""

    data: bytearray = field(default_factory=bytearray)
    placed: dict[int, int] = field(default_factory=dict)  # section index -> offset in data
    queue: list[int] = field(default_factory=list)  # placed sections whose relocations are still unread
    align: int = 1

    def place(self, index: int, content: bytes, align: int) -> int:
        if index not in self.placed:
            align = max(align, 1)
            self.data.extend(bytes(-len(self.data) % align))
            self.placed[index] = len(self.data)
            self.data.extend(content)
            self.queue.append(index)
            self.align = max(self.align, align)
        return self.placed[index]


class _Object:
    """One ELF object: its sections, symbols and relocations, indexed."""

    def __init__(self, obj: bytes, arch: str) -> None:
        elf = ELFFile(io.BytesIO(obj))
        self.arch = arch
        self.sections = list(elf.iter_sections())
        symtab = elf.get_section_by_name(".symtab")
        self.symbols = list(symtab.iter_symbols()) if isinstance(symtab, SymbolTableSection) else []
        self.relocations: dict[int, list[Any]] = {}
        for section in self.sections:
            if isinstance(section, RelocationSection):
                if not section.is_RELA():
                    raise BuildError(f"REL relocations in {section.name}: only RELA is read")
                relocs = sorted(section.iter_relocations(), key=lambda r: r["r_offset"])
                self.relocations[section["sh_info"]] = relocs

    def flags(self, index: int) -> int:
        return int(self.sections[index]["sh_flags"])

    def is_code(self, index: int) -> bool:
        return bool(self.flags(index) & SH_FLAGS.SHF_EXECINSTR)

    def symbol_name(self, symbol: Any) -> str:
        if symbol["st_info"]["type"] == "STT_SECTION":
            return str(self.sections[symbol["st_shndx"]].name)
        return str(symbol.name)

    def functions(self) -> list[tuple[str, int]]:
        """(name, section index) of each global function, each alone in its section."""
        found = []
        for index, section in enumerate(self.sections):
            if not self.is_code(index) or section["sh_size"] == 0:
                continue
            symbols = [s for s in self.symbols if s["st_shndx"] == index and s["st_info"]["type"] == "STT_FUNC"]
            if len(symbols) != 1 or symbols[0]["st_value"] != 0 or symbols[0]["st_size"] != section["sh_size"]:
                raise BuildError(f"section {section.name} is not exactly one function: {[s.name for s in symbols]}")
            if symbols[0]["st_info"]["bind"] == "STB_GLOBAL":
                found.append((str(symbols[0].name), index))
        return found


@dataclass
class _Extraction:
    """Turns one function of an object into a Stencil, recording refusals as it goes."""

    target: str
    holes: frozenset[str]
    obj: _Object
    stencil: str
    layout: _Layout = field(default_factory=_Layout)
    refusals: list[Refusal] = field(default_factory=list)

    def refuse(self, symbol: str, reason: str) -> None:
        refusal = Refusal(self.target, self.stencil, symbol, reason)
        if refusal not in self.refusals:  # one per symbol and reason, not per relocation
            self.refusals.append(refusal)

    def hole(self, reloc: Any, offset: int, in_code: bool) -> Hole | None:
        """The hole for one relocation, or None after recording a refusal."""
        obj = self.obj
        symbol = obj.symbols[reloc["r_info_sym"]]
        name = obj.symbol_name(symbol)
        kind = reloc_name(obj.arch, reloc["r_info_type"])
        addend = int(reloc["r_addend"])
        if kind not in RELOCATIONS:
            self.refuse(name, f"unknown relocation kind {kind}: no patch routine in jit.backend.relocations")
            return None
        index = symbol["st_shndx"]
        if index == "SHN_UNDEF":
            if name in self.holes or name.startswith(CAPI_PREFIXES) or name in ops.HELPER_STENCILS:
                return Hole(offset, kind, name, addend)  # (a helper: emitted once, at run time)
            if name.startswith(STACK_PROTECTOR_PREFIXES):
                self.refuse(name, "stack-protector reference")
            elif name.startswith("_JIT_"):
                self.refuse(name, "unknown hole: not declared in jit_stencil.h")
            else:
                self.refuse(name, "hidden library function: only _JIT_* holes and Py*/_Py* C-API names may be used")
            return None
        if not isinstance(index, int):
            self.refuse(name, f"symbol in special section {index}")
            return None
        if obj.is_code(index):
            if in_code:
                self.refuse(name, "reference to code outside the stencil (a local function or another stencil)")
            else:
                self.refuse(name, "jump table: read-only data refers back into code")
            return None
        section = obj.sections[index]
        flags = obj.flags(index)
        if not flags & SH_FLAGS.SHF_ALLOC:
            self.refuse(name, f"reference to the non-loaded section {section.name}")
            return None
        # A constant holding addresses is "relro" to a PIC target, flagged
        # writable though the source declared it const: the section name (which
        # build_stencils.py gives every IR constant) tells such data apart.
        constant = str(section.name).startswith(CONSTANT_SECTION_PREFIX)
        if (flags & SH_FLAGS.SHF_WRITE and not constant) or section["sh_type"] == "SHT_NOBITS":
            self.refuse(name, "writable data: stencils may only read constants")
            return None
        placed = self.layout.place(index, section.data(), int(section["sh_addralign"]))
        return Hole(offset, kind, OWN_DATA, placed + int(symbol["st_value"]) + addend)

    def run(self, index: int) -> Stencil:
        code = bytes(self.obj.sections[index].data())
        holes = _sorted_holes(self.hole(r, r["r_offset"], True) for r in self.obj.relocations.get(index, []))
        data_holes: list[Hole | None] = []
        while self.layout.queue:
            data_index = self.layout.queue.pop(0)
            base = self.layout.placed[data_index]
            data_holes += [self.hole(r, base + r["r_offset"], False) for r in self.obj.relocations.get(data_index, [])]
        if not is_terminal(self.stencil) and not any(h.symbol == CONTINUE for h in holes):
            self.refuse(CONTINUE, "does not end in its continuation: a non-terminal stencil must reach _JIT_CONTINUE")
        return Stencil(
            name=self.stencil,
            code=code,
            data=bytes(self.layout.data),
            code_holes=holes,
            data_holes=_sorted_holes(data_holes),
            tail_jump=tail_jump(self.obj.arch, code, holes),
            data_align=self.layout.align,
        )


def extract(target: str, arch: str, obj: bytes, asm: str, holes: frozenset[str]) -> tuple[list[Stencil], list[Refusal]]:
    """The stencils of one object file (``asm``: its assembly listing), and the refusals among them."""
    elf = _Object(obj, arch)
    tables = jump_tables(asm)
    stencils: list[Stencil] = []
    refusals: list[Refusal] = []
    for name, index in elf.functions():
        job = _Extraction(target, holes, elf, name)
        for label in tables.get(name, []):
            job.refuse(label, "jump table: a switch lowered to an indirect branch through a table")
        stencils.append(job.run(index))
        refusals += job.refusals
    return stencils, refusals
