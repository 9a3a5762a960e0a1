"""Argument binding and wrapper metadata for the dispatcher, without inspect and functools.

``inspect.Signature.bind`` and ``functools.update_wrapper`` are Python code that resolves ``next``,
``isinstance``, ``getattr``... in the real builtins, which user code may rebind after ``import jit``; this
module resolves them in the compiler's snapshot (jit/_isolation.py).  A call that does not bind is left to
the interpreter, which raises its own TypeError.
"""

from __future__ import annotations

import functools
import types

# Code flags (Include/cpython/code.h, the values of CO_*, which costs 3 ms of `import jit` to import).
CO_VARARGS = 0x0004
CO_VARKEYWORDS = 0x0008
CO_GENERATOR = 0x0020
CO_COROUTINE = 0x0080
CO_ASYNC_GENERATOR = 0x0200
_COROUTINE_FLAGS = CO_COROUTINE  # as inspect.iscoroutinefunction
_MISSING = object()


def bind(func: types.FunctionType, args: tuple[object, ...], kwargs: dict[str, object]) -> tuple[object, ...] | None:
    """The values of ``func``'s parameters for a call, in the order of its variables (as ENTRY binds them):
    positional, keyword-only, the tuple of ``*args``, the dict of ``**kwargs``; None when the call does not
    bind (the interpreter then raises its own TypeError)."""
    code = func.__code__
    count, keyword_count = code.co_argcount, code.co_kwonlyargcount
    var_positional, var_keyword = collectors(func)
    if len(args) > count and not var_positional:
        return None
    values = [*args[:count], *[_MISSING] * (count - len(args[:count]))]
    names = code.co_varnames[:count]
    keyword_only = code.co_varnames[count:count + keyword_count]
    keyword_values = dict.fromkeys(keyword_only, _MISSING)
    extra: dict[str, object] = {}
    for name, value in kwargs.items():
        index = names.index(name) if name in names else -1
        if index >= code.co_posonlyargcount:
            if values[index] is not _MISSING:
                return None  # multiple values for one argument
            values[index] = value
        elif name in keyword_values:
            keyword_values[name] = value
        elif var_keyword:
            extra[name] = value
        else:
            return None  # an unexpected keyword (or a positional-only one given by name)
    defaults = func.__defaults__ or ()
    first_default = count - len(defaults)
    for index in range(count):
        if values[index] is _MISSING:
            if index < first_default:
                return None
            values[index] = defaults[index - first_default]
    keyword_defaults = func.__kwdefaults__ or {}
    for name, value in keyword_values.items():
        if value is _MISSING:
            if name not in keyword_defaults:
                return None
            keyword_values[name] = keyword_defaults[name]
    rest: list[object] = [tuple(args[count:])] if var_positional else []
    if var_keyword:
        rest.append(extra)
    return (*values, *keyword_values.values(), *rest)


def collectors(func: types.FunctionType) -> tuple[bool, bool]:
    """Whether ``func`` has a ``*args`` parameter, and whether it has a ``**kwargs`` one."""
    flags = func.__code__.co_flags
    return bool(flags & CO_VARARGS), bool(flags & CO_VARKEYWORDS)


def binds_positionally(func: types.FunctionType) -> bool:
    """Whether the parameters of ``func`` are positional only: its compiled code's slots are then the call's
    positional arguments, as a direct call passes them."""
    return not func.__code__.co_kwonlyargcount and not any(collectors(func))


def parameter_count(func: types.FunctionType) -> int:
    """How many variables of ``func`` its parameters are: positional, keyword-only, ``*args``, ``**kwargs``."""
    code = func.__code__
    return code.co_argcount + code.co_kwonlyargcount + sum(collectors(func))


def is_generator(func: types.FunctionType) -> bool:
    return bool(func.__code__.co_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR))


def is_coroutine(func: types.FunctionType) -> bool:
    return bool(func.__code__.co_flags & _COROUTINE_FLAGS)


def copy_metadata(wrapper: object, func: types.FunctionType) -> None:
    """What functools.update_wrapper does: the function's name, docs, dict, and ``__wrapped__``."""
    for name in functools.WRAPPER_ASSIGNMENTS:
        if hasattr(func, name):
            setattr(wrapper, name, getattr(func, name))
    vars(wrapper).update(vars(func))
    wrapper.__wrapped__ = func  # type: ignore[attr-defined]
