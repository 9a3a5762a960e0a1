"""``pytest bench/bench_stitch.py``: copy-and-patch speed, the backend's budget of 1 us per stencil.

A sequence of 1000 instructions cycles through every stencil of the host's
table with operands, slots and branch targets of the right shape.  Three
measurements: ``stitch`` (layout and patching into a bytes image: the budget),
``emit`` (the same plus arena allocation, copy into executable memory, mprotect
and the CompiledCode), and the first stitch of a fresh target (preparing each
stencil at its first use and patching it with the generic routine, whose uses
lead to the generation of the stencils' own routines; paid once per process).
The per-stencil figure is in each benchmark's extra_info.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from jit.backend.emitter import Emitter, Instruction, PreparedTarget, resolve_capi
from jit.backend.target import detect_host, target_name

COUNT = 1000
BASE = 0x7F00_0000_0000


def program(stencils: list[str], count: int = COUNT, seed: int = 2024) -> list[Instruction]:
    """``count`` instructions over ``stencils`` (then a terminal one), targets within the sequence."""
    rng = random.Random(seed)
    body = []
    for i in range(count):
        body.append(
            Instruction(
                stencils[i % len(stencils)],
                opargs=tuple(rng.randrange(16) for _ in range(4)),
                operands=(rng.getrandbits(64), rng.getrandbits(48)),
                jump_target=rng.randrange(count + 1),
                side_exit=rng.randrange(count + 1),
                error=rng.randrange(count + 1),
            )
        )
    return [*body, Instruction("RETURN_NULL")]


@pytest.fixture(scope="module")
def emitter() -> Emitter:
    return Emitter()


@pytest.fixture(scope="module")
def instructions(emitter: Emitter) -> list[Instruction]:
    names = sorted(name for name in emitter.target.stencils if name != "RETURN_NULL")
    return program(names)


def per_stencil(benchmark: Any, count: int) -> None:
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["us_per_stencil"] = round(mean / count * 1e6, 3)


def test_stitch_1000_stencils(benchmark: Any, emitter: Emitter, instructions: list[Instruction]) -> None:
    image = benchmark(emitter.stitch, instructions, BASE)
    assert image.address_of(0) == BASE and image.code_size > COUNT
    per_stencil(benchmark, len(instructions))


def test_emit_1000_stencils(benchmark: Any, emitter: Emitter, instructions: list[Instruction]) -> None:
    code = benchmark(emitter.emit, instructions)
    assert code.size >= len(code.code_bytes())
    per_stencil(benchmark, len(instructions))


def test_first_stitch_of_a_fresh_target(benchmark: Any, emitter: Emitter, instructions: list[Instruction]) -> None:
    target = target_name(detect_host())
    tables = emitter.target.stencils

    def fresh() -> int:
        prepared = PreparedTarget(target, tables)
        return len(prepared.stitch(instructions, BASE, resolve_capi).image)

    assert benchmark.pedantic(fresh, rounds=5, iterations=1) > 0
    per_stencil(benchmark, len(instructions))
