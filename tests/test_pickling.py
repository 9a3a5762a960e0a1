"""A compiled function pickles by reference like the function it wraps; copies are the function itself."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from typing import Any

import pytest

import jit


@jit.compile
def decorated(x: Any) -> Any:
    return x * 3 + 1


def plain(x: Any) -> Any:
    return x - 1


COMPILED_PLAIN: Any = jit.compile(plain)


class Holder:
    @jit.compile
    def method(self: Any, x: Any) -> Any:
        return x + 2


def test_pickle_round_trip_gives_the_same_compiled_function() -> None:
    for fast in (decorated, COMPILED_PLAIN, Holder.method):
        restored = pickle.loads(pickle.dumps(fast))
        assert restored is fast
    assert pickle.loads(pickle.dumps(COMPILED_PLAIN))(5) == 4


def test_copies_are_the_function_itself() -> None:
    assert copy.copy(decorated) is decorated
    assert copy.deepcopy(decorated) is decorated
    assert copy.deepcopy({"f": decorated})["f"] is decorated


def test_a_local_function_cannot_be_pickled_as_a_function_cannot() -> None:
    def local(x: Any) -> Any:
        return x

    fast: Any = jit.compile(local)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(fast)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(local)


def test_a_multiprocessing_pool_maps_a_compiled_function() -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        assert pool.map(decorated, range(5)) == [decorated(i) for i in range(5)] == [1, 4, 7, 10, 13]
