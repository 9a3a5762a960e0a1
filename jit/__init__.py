"""cpjit: a copy-and-patch JIT compiler for CPython functions (import name ``jit``).

``fast = jit.compile(func)`` (or ``@jit.compile``) returns a drop-in
replacement for ``func`` that runs machine code stitched from precompiled
stencils.  See README.md and docs/architecture.md.
"""

import sys

# First of all: the compiler's own modules resolve builtins in a snapshot taken now (docs/architecture.md).
from jit import _isolation

_isolation.install(sys.modules[__name__])

from jit.api import compile, explain, stats  # noqa: E402 - after the snapshot, on purpose
from jit.errors import UnsupportedError  # noqa: E402

__version__ = "0.1.0"

__all__ = ["UnsupportedError", "__version__", "compile", "explain", "stats"]
