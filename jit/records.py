"""Record classes: the subset of ``dataclasses`` the compiler uses, at a small part of its import cost.

``@dataclass`` made 23 classes of the compiler and cost about 20 ms of ``import jit`` (issue 12's budget is
25 ms for all of it), most of it in generating, as source, methods that could be generic, and it imports
``inspect`` with it.  ``@record`` writes only ``__init__`` as source (it runs once per object, so it must be as
fast as a hand-written one); ``__repr__``, ``__eq__`` and ``__hash__`` are shared functions over the class's
field names.  What it keeps of dataclasses' meaning: fields are the class's annotations in order (not
``ClassVar``), a class attribute is the default, ``field(default_factory=f)`` calls ``f`` per object, methods
the class defines itself are kept, ``frozen`` instances refuse assignment, ``eq=False`` keeps identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T", bound=type)

_NO_DEFAULT: Any = object()
_FACTORY: Any = object()  # the __init__ default of a field with a default_factory: "call the factory"


class FrozenRecordError(AttributeError):
    """Assigning or deleting a field of a frozen record."""


class _Field:
    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], object]) -> None:
        self.default_factory = default_factory


def _field_with_factory(*, default_factory: Callable[[], Any]) -> Any:
    """A field whose default is made per object by ``default_factory()``."""
    return _Field(default_factory)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_fields__)
    return f"{type(self).__qualname__}({shown})"


def _values(self: Any) -> tuple[object, ...]:
    return tuple(getattr(self, name) for name in type(self).__record_fields__)


def _eq(self: Any, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _values(self) == _values(other)


def _hash(self: Any) -> int:
    return _values(self).__hash__()


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__qualname__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__qualname__}")


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _make_init(cls: type, fields: dict[str, Any], frozen: bool) -> Callable[..., None]:
    namespace: dict[str, Any] = {"__builtins__": {}, "_FACTORY": _FACTORY, "_set": object.__setattr__}
    parameters, body = [], []
    for name, default in fields.items():
        value = name
        if isinstance(default, _Field):
            namespace[f"_factory_{name}"] = default.default_factory
            parameters.append(f"{name}=_FACTORY")
            value = f"_factory_{name}() if {name} is _FACTORY else {name}"
        elif default is not _NO_DEFAULT:
            namespace[f"_default_{name}"] = default
            parameters.append(f"{name}=_default_{name}")
        else:
            parameters.append(name)
        body.append(f"_set(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    source = f"def __init__(self, {', '.join(parameters)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    exec(source, namespace)  # from the class's own field names
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


def _finish(cls: T, frozen: bool, eq: bool) -> T:
    # Field name -> its default (_NO_DEFAULT, or a _Field): the bases' fields first, in their order (a field
    # the class declares again keeps its place), then the class's own annotations (3.10+: only its own; 3.14
    # evaluates them lazily), as dataclasses order them.
    fields: dict[str, Any] = {}
    for base in reversed(cls.__mro__[1:]):
        fields.update(getattr(base, "__record_defaults__", {}))
    defined = cls.__dict__
    for name, annotation in cls.__annotations__.items():
        if not _is_class_var(annotation):
            fields[name] = defined.get(name, _NO_DEFAULT)
    names = list(fields)
    methods: dict[str, object] = {"__init__": _make_init(cls, fields, frozen), "__repr__": _repr}
    if eq:
        methods["__eq__"] = _eq
        methods["__hash__"] = _hash if frozen else None
    if frozen:
        methods["__setattr__"] = _frozen_setattr
        methods["__delattr__"] = _frozen_delattr
    for name, method in methods.items():
        if name not in defined:
            setattr(cls, name, method)
    for name in names:  # the class attributes that were defaults are the instances' values now
        if isinstance(defined.get(name), _Field):
            delattr(cls, name)
    cls.__record_defaults__ = fields  # type: ignore[attr-defined]
    cls.__record_fields__ = tuple(names)  # type: ignore[attr-defined]
    cls.__match_args__ = tuple(names)  # type: ignore[misc,attr-defined]
    return cls


def _record(cls: Any = None, /, *, frozen: bool = False, eq: bool = True) -> Any:
    """Make ``cls`` a record class: ``@record``, ``@record(frozen=True)``, ``@record(eq=False)``."""
    if cls is None:
        return lambda c: _finish(c, frozen, eq)
    return _finish(cls, frozen, eq)


def _replace(instance: Any, **changes: object) -> Any:
    """A copy of a record with some fields changed (as ``dataclasses.replace``)."""
    values = {name: getattr(instance, name) for name in type(instance).__record_fields__}
    values.update(changes)
    return type(instance)(**values)


if TYPE_CHECKING:  # type checkers know dataclasses' meaning, which records keep
    from dataclasses import dataclass as record
    from dataclasses import field, replace
else:
    record, field, replace = _record, _field_with_factory, _replace
