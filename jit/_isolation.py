"""The compiler's own builtins: a snapshot of the builtins namespace, taken at ``import jit``.

User code may rebind names in the ``builtins`` module (``builtins.abs = ...``) at any moment, and the
interpreter honours that for every function whose globals use the real namespace.  The compiler's
machinery must not: a patch routine that called a user's ``abs`` would patch wrong addends, an ``id``
that returned another number would give machine code a bad address.  So every module of the ``jit``
package resolves builtins in ``BUILTINS``, a private copy made before any other jit module runs:

* this module rebinds its own ``__builtins__`` first (functions take their builtins from their globals
  when they are created, so everything defined below uses the copy);
* ``install()`` puts a finder on ``sys.meta_path`` that loads the package's submodules with
  ``__builtins__`` preset to the copy in their namespace, before their code runs (the import system
  only adds the real one when the key is missing);
* code the compiler generates with ``exec`` gets the copy explicitly (``BUILTINS``).

A builtin that was *already* rebound when jit was imported is in the copy too: ``problem()`` says so
(for the names the package's code actually reads), and the compiler then runs the interpreter.
"""

from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence
from typing import cast

BUILTINS: dict[str, object] = dict(vars(builtins))
globals()["__builtins__"] = BUILTINS

_PACKAGE = __name__.rpartition(".")[0]
_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: classes made by Python code; the genuine builtins are static types
_HOME_MODULES = ("builtins", "io", "_io")  # builtins.open is io.open
_ALIASES = frozenset({"EnvironmentError", "IOError", "WindowsError"})  # names of OSError
# LOAD_FROM_DICT_OR_GLOBALS: 3.12+ annotation scopes in class bodies (3.14: `__annotate__`).
_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"})
_IMPLICIT = {"LOAD_BUILD_CLASS": "__build_class__", "IMPORT_NAME": "__import__"}  # builtins that opcodes call
_METADATA = frozenset({"__name__", "__doc__", "__package__", "__loader__", "__spec__", "__debug__"})


# Not types.BuiltinFunctionType: the types module computes it as type(len), which is wrong if the program rebound
# len before the types module was first imported (3.13 imports it late).  sys's own functions are genuine.
_BUILTIN_FUNCTION = cast(type[types.BuiltinFunctionType], type(sys.intern))


def _genuine(name: str, value: object) -> bool:
    """Whether ``value`` is what a fresh interpreter has under ``builtins.name``.

    The genuine callables are C functions of the builtins (or io) module and C types, under their own name;
    a user's rebinding is a Python function, a class, a callable object or a C function of another name.
    """
    if name in _METADATA:
        return True  # the builtins module's own attributes: the compiler reads none of them
    if isinstance(value, _BUILTIN_FUNCTION):
        return value.__name__ == name and getattr(value.__self__, "__name__", None) in _HOME_MODULES
    if isinstance(value, type):
        made_in_c = not value.__flags__ & _HEAPTYPE or issubclass(value, BaseException)  # ExceptionGroup
        return made_in_c and value.__module__ == "builtins" and (value.__name__ == name or name in _ALIASES)
    if callable(value):
        return type(value).__module__ == "_sitebuiltins"  # help, exit, quit, copyright...
    return True  # constants: Ellipsis, NotImplemented, __debug__


_rebound = {name: value for name, value in BUILTINS.items() if not _genuine(name, value)}
_needed: dict[str, str] = {}  # builtin read by the package's code -> the first module that reads it


def _global_reads(code: types.CodeType) -> Iterator[str]:
    """The names a code object (and the code nested in it) reads as globals or builtins."""
    import dis  # noqa: PLC0415 - only when a builtin was rebound before import: dis costs 1.5 ms of `import jit`

    for instruction in dis.get_instructions(code):
        if instruction.opname in _LOADS:
            yield instruction.argval
        elif instruction.opname in _IMPLICIT:
            yield _IMPLICIT[instruction.opname]
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _global_reads(constant)


def _record(module: str, code: types.CodeType) -> None:
    # Only a module that names a builtin rebound before import needs the (slower) instruction walk.
    if _rebound and not _rebound.keys().isdisjoint({*_all_names(code), *_IMPLICIT.values()}):
        for name in _global_reads(code):
            if name in _rebound:
                _needed.setdefault(name, module)


def _all_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _all_names(constant)


def genuine(name: str) -> object | None:
    """``builtins.name`` as a fresh interpreter has it; None when it was rebound before ``import jit`` (then the
    frontend must not take a call of it for the builtin it compiles inline)."""
    return None if name in _rebound else BUILTINS.get(name)


def problem() -> str | None:
    """Why the compiler must not run: a builtin it reads was rebound before ``import jit``; or None."""
    if not _needed:
        return None
    name, module = next(iter(_needed.items()))
    return (f"builtins.{name} was rebound ({_rebound[name]!r}) before `import jit`, and {module} needs the "
            "genuine builtin")


class _Loader(importlib.abc.Loader):
    """Runs a submodule of the package with the private builtins (wraps the file loader found for it)."""

    def __init__(self, inner: importlib.machinery.SourceFileLoader | importlib.machinery.SourcelessFileLoader):
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object

    def is_package(self, fullname: str) -> bool:
        return self.inner.is_package(fullname)

    def get_source(self, fullname: str) -> str | None:  # for tracebacks and inspect
        return self.inner.get_source(fullname)

    def exec_module(self, module: types.ModuleType) -> None:
        code = self.inner.get_code(module.__name__)
        if code is None:  # pragma: no cover - file loaders always have code
            raise ImportError(f"no code for {module.__name__}", name=module.__name__)
        _record(module.__name__, code)
        namespace = vars(module)
        namespace["__builtins__"] = BUILTINS
        exec(code, namespace)


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the package's submodules as the path finder would, and gives them the private builtins."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(_PACKAGE + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or not isinstance(
            spec.loader, (importlib.machinery.SourceFileLoader, importlib.machinery.SourcelessFileLoader)
        ):
            return spec
        spec.loader = _Loader(spec.loader)
        return spec


def _record_loaded(module: types.ModuleType) -> None:
    """Record the builtins read by a module that the ordinary loader ran (the package and this module)."""
    loader = module.__spec__.loader if module.__spec__ is not None else None
    if isinstance(loader, importlib.abc.InspectLoader):
        code = loader.get_code(module.__name__)
        if code is not None:
            _record(module.__name__, code)


def install(package: types.ModuleType) -> None:
    """Give the package's own namespace and every submodule loaded from now on the private builtins."""
    vars(package)["__builtins__"] = BUILTINS
    _record_loaded(package)
    _record_loaded(sys.modules[__name__])
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
