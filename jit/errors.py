"""Errors raised by cpjit, each naming where in the user's source it comes from."""

from __future__ import annotations


class UnsupportedError(Exception):
    """A construct cpjit cannot compile (yet).

    The message names the file, the line and the construct, and the compiler
    stage that refused it, e.g. ``fib.py, line 12: 'yield' is not supported``.
    """

    def __init__(self, construct: str, filename: str = "<unknown>", line: int = 0, stage: str = "frontend") -> None:
        self.construct = construct
        self.filename = filename
        self.line = line
        self.stage = stage
        super().__init__(f"{filename}, line {line}: {construct} [{stage}]")
