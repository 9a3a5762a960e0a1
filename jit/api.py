"""The public API: compile, explain, stats (re-exported by the jit package)."""

from __future__ import annotations

import linecache
import sys
import types
from collections.abc import Callable
from typing import IO, Any, TypeVar, overload

from jit import compiler
from jit.backend import frames

F = TypeVar("F", bound=Callable[..., Any])


_NOT_GIVEN: Any = object()  # jit.compile(strict=...) without a function: a decorator


@overload
def compile(func: F, *, strict: bool = False) -> F: ...
@overload
def compile(*, strict: bool = False) -> Callable[[F], F]: ...


def compile(func: Any = _NOT_GIVEN, *, strict: bool = False) -> Any:
    """A drop-in replacement for ``func`` that runs machine code.

    Machine code is compiled at the first call of each signature of argument types (int, float and bool
    unboxed, any other type as an object); the function is read and checked now.  Without ``strict``, what
    cannot be compiled runs in the interpreter and ``jit.explain`` tells why (a function that cannot be compiled
    at all is returned as it is); with ``strict=True``, it raises :class:`jit.UnsupportedError` naming the file,
    line and construct.
    Usable as ``jit.compile(f)``, ``@jit.compile`` or ``@jit.compile(strict=True)``.
    """
    if not isinstance(strict, bool):
        raise TypeError(f"jit.compile() argument 'strict' must be True or False, not {type(strict).__name__}")
    if func is _NOT_GIVEN:
        return lambda f: compiler.compile_function(f, strict)
    return compiler.compile_function(func, strict)


def _dispatcher(func: object) -> compiler.Dispatcher:
    dispatcher = getattr(func, "__jit_dispatcher__", None)
    if not isinstance(dispatcher, compiler.Dispatcher):
        raise TypeError(f"{func!r} is not a function returned by jit.compile()")
    return dispatcher


def explain(func: object, file: IO[str] | None = None) -> str:
    """Print (and return) what cpjit made of a compiled function.

    For each specialization: every source line with its micro-ops, the
    stencils each tier runs for it with their machine-code bytes, the guards;
    for signatures that run in the interpreter, why.
    """
    refusal = compiler.refusal_of(func) if isinstance(func, types.FunctionType) else None
    if isinstance(func, types.FunctionType) and refusal is not None:  # jit.compile handed it back as it is
        out = [_heading(func),
               f"  any signature: runs in the interpreter (jit.compile returned the function itself): {refusal}"]
    else:
        out = _explain_dispatcher(_dispatcher(func))
    text = "\n".join(out) + "\n"
    print(text, end="", file=file if file is not None else sys.stdout)
    return text


def _heading(function: types.FunctionType) -> str:
    code = function.__code__
    return f"{function.__qualname__} ({code.co_filename}, line {code.co_firstlineno})"


def _explain_dispatcher(dispatcher: compiler.Dispatcher) -> list[str]:
    out = [_heading(dispatcher.func)]
    if not dispatcher.specializations and not dispatcher.fallbacks:
        out.append("  not called yet: specializations are compiled at the first call of each signature")
    for spec in dispatcher.specializations.values():
        out.extend(_explain_specialization(spec))
    for key, reason in dispatcher.fallbacks.items():
        shown = "any signature" if key is None else "(" + ", ".join(t.__name__ for t in key) + ")"
        out.append(f"  {shown}: runs in the interpreter: {reason}")
    return out


def _explain_specialization(spec: compiler.Specialization) -> list[str]:
    facts = spec.facts
    signature = ", ".join(t.value for t in spec.signature)
    assert spec.code is not None and spec.lowered is not None
    lowered = spec.lowered
    objects = sum(kind is compiler.ir.Type.OBJECT for kind in facts.kinds)
    tier = (f"specialized tier (unboxed; {objects} variables as objects, {facts.versions} block versions), "
            "generic tier after a deopt") if facts.specializable else f"generic tier only: {facts.generic_reason}"
    code_bytes = spec.code.code_bytes()
    out = [f"  ({signature}) -> {facts.return_type.value}: {len(code_bytes)} bytes of machine code "
           f"({spec.code.size} mapped), "
           f"compiled in {spec.compile_seconds * 1e3:.2f} ms, {spec.deopt_counter.value} deoptimizations",
           f"    runs: {tier}"]
    for guard in spec.function.guards:
        value = "unbound" if guard.value is compiler.ir.MISSING else repr(guard.value)
        kind = "the function's" if isinstance(guard, compiler.ir.MetadataGuard) else "global"
        out.append(f"    guard: {kind} {guard.name!r} is {value}")
    read = sorted({str(op.arg) for op in spec.function.ops if op.opcode is compiler.ir.Opcode.LOAD_GLOBAL})
    if read:
        out.append(f"    read when it runs (rebound again and again): {', '.join(map(repr, read))}")
    if spec.bets:
        kinds = ", ".join(f"{sum(k is kind for k in spec.bets.values())} {kind.value}"
                          for kind in dict.fromkeys(spec.bets.values()))
        lost = sum(compiler.bets.lost(spec.bets[site], word) for site, word in spec.observed().items())
        out.append(f"    bets on the types of {len(spec.bets)} objects ({kinds}; jit/optimizer/bets.py): "
                   f"{lost} lost" + (", compiled again at the next call" if lost else ""))
    offsets = [offset for _, _, offset in spec.code.stencil_offsets()] + [len(code_bytes)]
    by_line: dict[int, list[int]] = {}
    for index, line in enumerate(lowered.lines):
        by_line.setdefault(line, []).append(index)
    filename = spec.function.filename
    ops_by_line: dict[int, list[str]] = {}
    for op in spec.function.ops:
        ops_by_line.setdefault(op.line, []).append(str(op))
    for line in sorted(set(by_line) | set(ops_by_line)):
        source = linecache.getline(filename, line).strip() if line else "(entry, exits and epilogues)"
        out.append(f"    line {line}: {source}" if line else f"    {source}")
        for text in ops_by_line.get(line, []):
            out.append(f"      ir  {text}")
        for index in by_line.get(line, []):
            instruction = lowered.instructions[index]
            machine = code_bytes[offsets[index]:offsets[index + 1]]
            shown = machine[:16].hex(" ") + (" ..." if len(machine) > 16 else "")
            out.append(f"      {lowered.tiers[index] or 'entry':<11} {instruction.stencil:<28} {shown}")
    return out


def stats() -> dict[str, float | int]:
    """Counters of this process: compiles, compile time, code bytes, deoptimizations, fallbacks."""
    deopts = compiler.deoptimization_count()
    return {
        "compiles": compiler.STATISTICS.compiles,
        "compile_seconds": compiler.STATISTICS.compile_seconds,
        "code_bytes": compiler.STATISTICS.code_bytes,  # machine code of the specializations
        "deoptimizations": deopts,
        "fallbacks": compiler.STATISTICS.fallbacks,
        "frame_slots_in_use": frames.frames_in_use(),
    }
