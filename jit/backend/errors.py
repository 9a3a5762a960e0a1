"""Errors of the backend: patching, executable memory and host detection."""

from __future__ import annotations


class BackendError(Exception):
    """Base class of the errors the backend raises on purpose."""


class PatchError(BackendError):
    """A hole could not be patched: unknown symbol, missing value, value out of range.

    The message names everything known about the failure; the same facts are
    attributes (``None`` where unknown) so that callers can report them.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: str | None = None,
        offset: int | None = None,
        value: int | None = None,
        stencil: str | None = None,
        index: int | None = None,
        hole: str | None = None,
    ) -> None:
        self.reason = reason
        self.kind = kind
        self.offset = offset
        self.value = value
        self.stencil = stencil
        self.index = index
        self.hole = hole
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"instruction {self.index}")
        if self.stencil is not None:
            where.append(f"stencil {self.stencil}")
        if self.hole is not None:
            where.append(f"hole {self.hole}")
        if self.kind is not None:
            where.append(self.kind)
        if self.offset is not None:
            where.append(f"offset {self.offset:#x}")
        if self.value is not None:
            where.append(f"value {self.value:#x}")
        return f"{self.reason} ({', '.join(where)})" if where else self.reason

    def in_context(self, *, stencil: str, index: int, hole: str, kind: str, offset: int) -> PatchError:
        """The same failure, naming the instruction, the hole, its kind and its offset in the stencil."""
        return PatchError(
            self.reason,
            kind=kind,
            offset=offset,
            value=self.value,
            stencil=stencil,
            index=index,
            hole=hole,
        )


class UnsupportedHostError(BackendError):
    """The running interpreter is not one the stencil tables were built for."""


class ExecutableMemoryError(OSError):
    """The operating system refused to map or protect memory for code."""
