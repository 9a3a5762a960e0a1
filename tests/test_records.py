"""Record classes keep the meaning of the dataclasses they replaced (jit/records.py)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from jit import records


@records.record
class Point:
    x: int
    y: int = 0
    tags: list[str] = records.field(default_factory=list)
    ORIGIN: ClassVar[str] = "not a field"

    def norm(self) -> int:
        return abs(self.x) + abs(self.y)


@records.record(frozen=True)
class Frozen:
    name: str
    size: int = 1


@records.record(eq=False)
class Identity:
    value: object


@records.record(frozen=True, eq=False)
class OwnEquality:
    value: int

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OwnEquality) and self.value % 10 == other.value % 10

    def __hash__(self) -> int:
        return self.value % 10


@dataclasses.dataclass
class DataPoint:  # the same class as a dataclass: the oracle
    x: int
    y: int = 0
    tags: list[str] = dataclasses.field(default_factory=list)
    ORIGIN: ClassVar[str] = "not a field"


def test_fields_defaults_and_factories_are_a_dataclasses() -> None:
    for args, kwargs in [((1,), {}), ((1, 2), {}), ((), {"x": 3, "tags": ["a"]}), ((4,), {"y": 5})]:
        point, data = Point(*args, **kwargs), DataPoint(*args, **kwargs)  # type: ignore[arg-type]
        assert (point.x, point.y, point.tags) == (data.x, data.y, data.tags)
        assert repr(point) == repr(data).replace("DataPoint", "Point")
    assert Point(1).tags is not Point(1).tags  # a new list per object
    assert records.replace(Point(1, 2, ["t"]), y=7) == Point(1, 7, ["t"])
    assert Point.__match_args__ == DataPoint.__match_args__ == ("x", "y", "tags")  # type: ignore[attr-defined]
    assert Point.ORIGIN == "not a field" and Point(2, -3).norm() == 5


def test_the_call_errors_are_pythons() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        Point(1, z=2)  # type: ignore[call-arg]


def test_equality_and_hashing_follow_eq_and_frozen() -> None:
    assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
    assert Point(1) != DataPoint(1)  # another class is never equal
    with pytest.raises(TypeError, match="unhashable"):
        hash(Point(1))  # mutable and compared by value: unhashable, as a dataclass
    assert Frozen("a", 2) == Frozen("a", 2) and hash(Frozen("a", 2)) == hash(Frozen("a", 2))
    assert len({Frozen("a"), Frozen("a"), Frozen("b")}) == 2
    first, second = Identity(1), Identity(1)
    assert first != second and first == first and len({first, second}) == 2
    assert OwnEquality(3) == OwnEquality(13) and hash(OwnEquality(13)) == 3  # the class's own methods kept


def test_frozen_records_refuse_assignment_and_deletion() -> None:
    frozen = Frozen("a")
    with pytest.raises(AttributeError, match="cannot assign to field 'name'"):
        frozen.name = "b"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'size'"):
        del frozen.size  # type: ignore[misc]
    assert (frozen.name, frozen.size) == ("a", 1)


def test_a_subclass_adds_its_fields_after_the_bases() -> None:
    @records.record(frozen=True)
    class Sized(Frozen):
        unit: str = "B"

    sized = Sized("f", 3, "KB")
    assert (sized.name, sized.size, sized.unit) == ("f", 3, "KB") and Sized("g").unit == "B"
    assert repr(sized) == "test_a_subclass_adds_its_fields_after_the_bases.<locals>.Sized(name='f', size=3, unit='KB')"


def test_fields_are_ordered_as_dataclasses_order_them() -> None:
    @records.record
    class Base:
        a: int
        b: list[int] = records.field(default_factory=list)
        c: int = 3

    @records.record
    class Derived(Base):
        b: list[int] = records.field(default_factory=lambda: [1])  # declared again: keeps its place
        d: str = "d"

    @dataclasses.dataclass
    class DataBase:
        a: int
        b: list[int] = dataclasses.field(default_factory=list)
        c: int = 3

    @dataclasses.dataclass
    class DataDerived(DataBase):
        b: list[int] = dataclasses.field(default_factory=lambda: [1])
        d: str = "d"

    assert Derived.__match_args__ == DataDerived.__match_args__  # type: ignore[attr-defined]
    assert repr(Derived(0)).split("(")[1] == repr(DataDerived(0)).split("(")[1] == "a=0, b=[1], c=3, d='d')"
    assert Base(0).b == [] and Derived(0).b is not Derived(0).b
