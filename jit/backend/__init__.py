"""The backend: targets, stencil tables, copy-and-patch emitter, relocation patchers, executable memory.

See docs/architecture.md (section "Backend") and the API in jit.backend.emitter.
"""

from __future__ import annotations

from jit.backend.emitter import CompiledCode, Emitter, Instruction, StitchedImage, stitch
from jit.backend.errors import ExecutableMemoryError, PatchError, UnsupportedHostError
from jit.backend.target import Host, detect_host, target_name

__all__ = [
    "CompiledCode",
    "Emitter",
    "ExecutableMemoryError",
    "Host",
    "Instruction",
    "PatchError",
    "StitchedImage",
    "UnsupportedHostError",
    "detect_host",
    "stitch",
    "target_name",
]
