"""The functions under test of tests/test_bets.py: arithmetic on objects whose types the compiler bets on.

A plain module, as tests/object_cases.py: the ARM64 run (tests/test_arm64_qemu.py) imports it in an ARM64 CPython
without pytest or hypothesis.  Every function reads objects (a list's items, attributes, a tuple's items, a loop's
values, a call's result) only with arithmetic and comparisons: the values the types pass bets on.
"""

from __future__ import annotations

from typing import Any


class Point:
    def __init__(self, x: Any, y: Any) -> None:
        self.x = x
        self.y = y

    def __repr__(self) -> str:
        return f"Point({self.x!r}, {self.y!r})"

    def norm(self) -> Any:
        return self.x * self.x + self.y * self.y


class Int(int):
    def __add__(self, other: object) -> Any:
        return "Int.__add__"

    def __mul__(self, other: object) -> Any:
        return 7


class Float(float):
    def __sub__(self, other: object) -> Any:
        return "Float.__sub__"


def items(values: Any) -> Any:
    return values[0] * 2.0 - values[1] / 4


def item_plus_one(values: Any) -> Any:
    return values[0] + 1 < values[1] - 1


def loop_sum(values: Any) -> Any:
    total = 0.0
    for value in values:
        total = total + value * value
    return total


def loop_count(values: Any) -> Any:
    count = 0
    for value in values:
        if value > 2:
            count += 1
    return count


def attributes(point: Any, other: Any) -> Any:
    return (point.x - other.x) * (point.y - other.y) + point.norm() - other.norm()


def unpacked(pairs: Any) -> Any:
    result = 0
    for a, b in pairs:
        result = result * 3 + (a - b)
    return result


def powers(values: Any) -> Any:
    x = values[0]
    return x ** -1.5 * 2 + values[1] ** 2


def in_place(values: Any) -> Any:
    values[0] += values[1] * 0.5
    values[1] -= 1
    return values


def guarded(values: Any) -> Any:
    try:
        return values[0] / values[1] + 1
    except ZeroDivisionError:
        return -(values[0] - 1)
    except TypeError as error:
        return str(error)


def negated(values: Any) -> Any:
    return -values[0] + abs(values[1])


FUNCTIONS = [items, item_plus_one, loop_sum, loop_count, attributes, unpacked, powers, in_place, guarded, negated]


def point_pair(a: Any, b: Any) -> tuple[Point, Point]:
    return Point(a, b), Point(b, a)


# Per function, the arguments of calls made one after the other on one compiled function: bets won, lost to
# another number (learned at the next call), lost to something else, lost again.
FLOATS, INTS, BIG, BOOLS, TEXTS = [1.5, -2.25], [3, 7], [2**70, 5], [True, False], ["ab", "c"]
SEQUENCES: dict[str, list[tuple[Any, ...]]] = {
    "items": [(FLOATS,), (FLOATS,), (INTS,), (INTS,), (BIG,), (BOOLS,), ([Int(3), Float(2.0)],), (FLOATS,)],
    "item_plus_one": [(INTS,), (FLOATS,), (FLOATS,), (BIG,), ([None, 1],), (INTS,)],
    "loop_sum": [(FLOATS * 3,), (INTS * 3,), (INTS,), ([1.0, 2, True],), (TEXTS,), (BIG,), (FLOATS,)],
    "loop_count": [(INTS * 2,), (FLOATS,), ([1, 2.5, 3, True],), ([Int(5), 1],), (TEXTS,), (INTS,)],
    "unpacked": [([(1, 2), (3, 4)],), ([(1.5, 2), (3, 4.5)],), ([(2**64, 1)],), ([("a", "b")],), ([(1, 2)],)],
    "powers": [(FLOATS,), ([4.0, 3],), ([4, 3],), ([-8.0, 2],), ([Float(2.0), 1],), ([0.0, 1],), (FLOATS,)],
    "in_place": [([1.0, 2.0],), ([1, 2],), ([1, 2],), ([True, 2**63],), (["a", 1],), ([1.0, 2.0],)],
    "guarded": [(FLOATS,), ([1, 0],), ([1.0, 0.0],), ([1, "a"],), ([2**80, 3],), (INTS,)],
    "negated": [(FLOATS,), (INTS,), ([True, -3],), ([Int(1), Float(-2.0)],), (["a", 1],), (FLOATS,)],
    "attributes": [point_pair(1.0, 2.0), point_pair(1, 2), point_pair(1, 2), point_pair(2**65, 1),
                   point_pair(True, 1.5), point_pair("a", "b"), point_pair(1.0, 2.0)],
}
