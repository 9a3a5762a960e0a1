"""Argument binding and wrapper metadata for the dispatcher, without inspect and functools.

``inspect.Signature.bind`` and ``functools.update_wrapper`` are Python code that resolves ``next``,
``isinstance``, ``getattr``... in the real builtins, which user code may rebind after ``import jit``; this
module resolves them in the compiler's snapshot (jit/_isolation.py).  A call that does not bind is left to
the interpreter, which raises its own TypeError.
"""

from __future__ import annotations

import functools
import inspect
import types

_COROUTINE_FLAGS = inspect.CO_COROUTINE  # as inspect.iscoroutinefunction
_MISSING = object()


def bind(func: types.FunctionType, args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...] | None:
    """What ``inspect.signature(func).bind(*args, **kwargs)`` with defaults gives as ``args`` (the positional
    parameters, then the excess of ``*args``); None when the call does not bind and the interpreter raises."""
    code = func.__code__
    count = code.co_argcount
    var_positional = bool(code.co_flags & inspect.CO_VARARGS)
    var_keyword = bool(code.co_flags & inspect.CO_VARKEYWORDS)
    if len(args) > count and not var_positional:
        return None
    values = [*args[:count], *[_MISSING] * (count - len(args))]
    names = code.co_varnames[:count]
    keyword_only = code.co_varnames[count : count + code.co_kwonlyargcount]
    for name, value in kwargs.items():
        index = names.index(name) if name in names else -1
        if index >= code.co_posonlyargcount:
            if values[index] is not _MISSING:
                return None  # multiple values for one argument
            values[index] = value
        elif name not in keyword_only and not var_keyword:
            return None  # an unexpected keyword (or a positional-only one given by name)
    defaults = func.__defaults__ or ()
    first_default = count - len(defaults)
    for index in range(count):
        if values[index] is _MISSING:
            if index < first_default:
                return None
            values[index] = defaults[index - first_default]
    keyword_defaults = func.__kwdefaults__ or {}
    if any(name not in kwargs and name not in keyword_defaults for name in keyword_only):
        return None
    return (*values, *args[count:])


def is_generator(func: types.FunctionType) -> bool:
    return bool(func.__code__.co_flags & (inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR))


def is_coroutine(func: types.FunctionType) -> bool:
    return bool(func.__code__.co_flags & _COROUTINE_FLAGS)


def copy_metadata(wrapper: object, func: types.FunctionType) -> None:
    """What functools.update_wrapper does: the function's name, docs, dict, and ``__wrapped__``."""
    for name in functools.WRAPPER_ASSIGNMENTS:
        if hasattr(func, name):
            setattr(wrapper, name, getattr(func, name))
    vars(wrapper).update(vars(func))
    wrapper.__wrapped__ = func  # type: ignore[attr-defined]
