"""What the reference-count tests share: a heap frozen out of the collector's sight, and calls in a loop."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="module")
def frozen_heap() -> Iterator[None]:
    # Objects left by earlier tests (thousands of compiled programs) would make every gc.collect() here slow:
    # freeze them out of the collector's sight; what these tests make is still collected.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def call_many(fast: Callable[..., Any], args: tuple[object, ...], raises: type[BaseException] | None,
              count: int) -> None:
    if raises is None:
        for _ in range(count):
            fast(*args)
        return
    for _ in range(count):
        try:  # noqa: SIM105 - contextlib.suppress costs a context manager per call in this hot loop
            fast(*args)
        except raises:
            pass
