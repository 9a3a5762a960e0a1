"""cpjit: a copy-and-patch JIT compiler for CPython functions (import name ``jit``).

``fast = jit.compile(func)`` (or ``@jit.compile``) returns a drop-in
replacement for ``func`` that runs machine code stitched from precompiled
stencils.  See README.md and docs/architecture.md.
"""

from jit.api import compile, explain, stats
from jit.errors import UnsupportedError

__version__ = "0.1.0"

__all__ = ["UnsupportedError", "__version__", "compile", "explain", "stats"]
