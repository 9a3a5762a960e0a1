"""Frontend: a Python function's source -> the micro-op IR.

It reads the function's source with ``ast`` and ``symtable``, not its bytecode:
the AST barely changes between CPython releases, so one frontend serves 3.11 to
3.14.
"""

from jit.frontend.builder import build_ir
from jit.frontend.source import FunctionSource, read_source

__all__ = ["FunctionSource", "build_ir", "read_source"]
