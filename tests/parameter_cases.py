"""The functions under test of tests/test_parameters.py: parameters of every kind (a plain module, for the reason
tests/object_cases.py gives)."""

from __future__ import annotations

from typing import Any


def every_kind(a: Any, b: Any = 2, /, c: Any = 3, *args: Any, d: Any, e: Any = 5, **kwargs: Any) -> Any:
    return (a, b, c, args, d, e, sorted(kwargs.items()))


def star_args(*args: Any) -> Any:
    total = 0
    for value in args:
        total += value
    return total, args


def star_kwargs(first: Any, **kwargs: Any) -> Any:
    kwargs["first"] = first
    return sorted(kwargs.items())


def keyword_only(*, x: Any, y: Any = 10) -> Any:
    return x * y


def positional_only_and_kwargs(a: Any, /, **kwargs: Any) -> Any:
    return a, kwargs


def forwards(*args: Any, **kwargs: Any) -> Any:
    return every_kind(*args, **kwargs)


class Shape:
    def __init__(self, *sides: Any, name: Any = "shape", **extra: Any) -> None:
        self.sides = sides
        self.name = name
        self.extra = extra

    def scaled(self, *factors: Any, offset: Any = 0) -> Any:
        return [side * factor + offset for side in self.sides for factor in factors]


def uses_shapes(count: Any) -> Any:
    made = []
    for index in range(count):
        shape = Shape(index, index + 1, name=f"s{index}", colour="red")
        made.append((shape.scaled(2, offset=index), shape.name, shape.extra))
    return made


FUNCTIONS = [every_kind, star_args, star_kwargs, keyword_only, positional_only_and_kwargs, forwards]
