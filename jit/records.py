"""Record classes: the subset of ``dataclasses`` the compiler uses, at a small part of its import cost.

``@dataclass`` made 23 classes of the compiler and cost about 20 ms of ``import jit`` (issue 12's budget is
25 ms for all of it): it imports ``inspect``, and compiles a source per generated method after working out
what each annotation means.  ``@record`` compiles one source per class, of the methods that run per object
or per dictionary lookup (``__init__``, ``__eq__``, ``__hash__``: as fast as hand-written ones); ``__repr__``
and the frozen ``__setattr__`` are shared functions.  What it keeps of dataclasses' meaning: fields are the
class's annotations in order (not ``ClassVar``, the bases' first), a class attribute is the default,
``field(default_factory=f)`` calls ``f`` per object, methods the class defines itself are kept, ``frozen``
instances refuse assignment, ``eq=False`` keeps identity.
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


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__qualname__}")


def _frozen_delattr(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__qualname__}")


def _is_class_var(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", "")
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _generated_methods(cls: type, fields: dict[str, Any], frozen: bool, eq: bool) -> dict[str, Any]:
    """``__init__``, and with ``eq`` ``__eq__`` (and ``__hash__`` when frozen) over the fields' tuple, written as
    source and compiled together: they run per object or per dictionary lookup, as fast as hand-written."""
    namespace: dict[str, Any] = {"__builtins__": {}, "_FACTORY": _FACTORY, "_set": object.__setattr__,
                                 "NotImplemented": NotImplemented}
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
    source = [f"def __init__(self, {', '.join(parameters)}):", *(f"    {line}" for line in body or ["pass"])]

    def values(of: str) -> str:
        return "(" + "".join(f"{of}.{name}, " for name in fields) + ")"

    if eq:
        source += ["def __eq__(self, other):",
                   "    if other.__class__ is not self.__class__:",
                   "        return NotImplemented",
                   f"    return {values('self')} == {values('other')}"]
    if eq and frozen:
        source += ["def __hash__(self):", f"    return {values('self')}.__hash__()"]
    exec("\n".join(source) + "\n", namespace)  # from the class's own field names
    methods: dict[str, Any] = {name: namespace[name] for name in ("__init__", "__eq__", "__hash__")
                               if name in namespace}
    for name, method in methods.items():
        method.__qualname__ = f"{cls.__qualname__}.{name}"
    return methods


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
    methods: dict[str, object] = {"__repr__": _repr, **_generated_methods(cls, fields, frozen, eq)}
    if eq and not frozen:
        methods["__hash__"] = None  # compared by value and mutable: unhashable
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
