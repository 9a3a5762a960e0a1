"""Python-callable objects whose calls land directly in machine code.

A compiled function must cost no more to call than a Python function.  A
Python-level wrapper (``def wrapper(*args): ...``) would double the cost, so
the object users get is an instance of a heap type created with the C API's
``PyType_FromSpecWithBases``: it has the vectorcall protocol, and its
vectorcall pointer is the address of the machine-code entry (the ENTRY
stencil).  Its base is a small Python class, which gives it a ``__dict__``
(for ``__name__``, ``__wrapped__`` ...), method binding and garbage collection.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import types
from collections.abc import Callable
from typing import Any, cast

Py_tp_call = 50
Py_tp_descr_get = 54
Py_tp_members = 72
Py_TPFLAGS_HAVE_VECTORCALL = 1 << 11
# `obj.method(x)` calls the descriptor with (obj, x) instead of binding it first, as for a function: no bound
# method object per call (the interpreter's LOAD_METHOD and the C API's PyObject_VectorcallMethod look at it).
Py_TPFLAGS_METHOD_DESCRIPTOR = 1 << 17
# Immutable, as a function's type is: the specializing interpreter only specializes a method call (LOAD_METHOD /
# LOAD_ATTR_METHOD_WITH_VALUES) whose descriptor's type is immutable; otherwise every `obj.method(x)` of a
# compiled method looks the name up in the type and the instance again (1.5x the call's cost, measured).
Py_TPFLAGS_IMMUTABLETYPE = 1 << 8
INHERITED_FLAGS = (1 << 4) | (1 << 3)  # MANAGED_DICT, MANAGED_WEAKREF (3.12+)
T_PYSSIZET = 19
READONLY = 1


class PyTypeSlot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("pfunc", ctypes.c_void_p)]


class PyTypeSpec(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("basicsize", ctypes.c_int),
        ("itemsize", ctypes.c_int),
        ("flags", ctypes.c_uint),
        ("slots", ctypes.POINTER(PyTypeSlot)),
    ]


class PyMemberDef(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("type", ctypes.c_int),
        ("offset", ctypes.c_ssize_t),
        ("flags", ctypes.c_int),
        ("doc", ctypes.c_char_p),
    ]


class JitFunctionBase:
    """What a compiled function has besides its calls: attributes, repr, pickling.  (Its binding as a method
    is the type's, in C: see _make_type.)"""

    __wrapped__: Any
    __qualname__: str

    def __repr__(self) -> str:
        return f"<jit-compiled function {self.__qualname__}>"

    # Pickled by reference, as a function is (its module and qualified name), and unpickled to the compiled
    # function of what that name holds then: multiprocessing pools can take it.  A copy is the object itself.
    def __reduce__(self) -> tuple[Callable[[str, str], object], tuple[str, str]]:
        module, qualname = self.__module__, self.__qualname__
        try:
            found = _find(module, qualname)
        except (ImportError, AttributeError):
            found = None
        if found is not self and found is not getattr(self, "__jit_original__", None):
            # What pickle says of a function it cannot find by name (a local function, a lambda).
            import pickle  # noqa: PLC0415 - only here: pickle costs 1.7 ms of `import jit`

            raise pickle.PicklingError(f"Can't pickle {self!r}: it's not found as {module}.{qualname}")
        return (compiled_by_name, (module, qualname))

    def __copy__(self) -> object:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> object:
        return self


def _find(module: str, qualname: str) -> object:
    obj: object = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def compiled_by_name(module: str, qualname: str) -> object:
    """What unpickling a compiled function gives: the object at ``module.qualname``, compiled if it is not."""
    obj = _find(module, qualname)
    if isinstance(obj, JitFunctionBase):
        return obj
    from jit import api  # noqa: PLC0415 - unpickling compiles: the one way back up to the public API

    return api.compile(cast(Callable[..., Any], obj))  # jit.compile says what else it was


_SPEC_BUFFERS: list[object] = []
# Where a type object keeps tp_flags: after 21 pointer-sized fields (ob_refcnt ... tp_as_buffer).
TP_FLAGS_OFFSET = 21 * ctypes.sizeof(ctypes.c_void_p)


def _make_immutable(cls: type) -> bool:
    """Give ``cls`` (a class nothing assigns attributes to) Py_TPFLAGS_IMMUTABLETYPE; False, changing nothing,
    where its flags are not found at TP_FLAGS_OFFSET."""
    word = ctypes.c_ulong.from_address(id(cls) + TP_FLAGS_OFFSET)
    if word.value != cls.__flags__:
        return False
    word.value |= Py_TPFLAGS_IMMUTABLETYPE
    return bool(cls.__flags__ & Py_TPFLAGS_IMMUTABLETYPE)


def _make_type() -> tuple[type, int]:
    """The heap type, and the offset of the vectorcall pointer in its instances."""
    api = ctypes.pythonapi
    base_size = JitFunctionBase.__basicsize__
    # Keep the spec's buffers alive for as long as the type: CPython may point into them.
    members = (PyMemberDef * 2)(PyMemberDef(b"__vectorcalloffset__", T_PYSSIZET, base_size, READONLY, None))
    call = ctypes.cast(api.PyVectorcall_Call, ctypes.c_void_p).value
    # Bound as a method the way a Python function is, by the function type's own C slot (a PyMethod of the
    # object and the instance): `obj.method` runs no Python code.
    api.PyType_GetSlot.restype = ctypes.c_void_p
    api.PyType_GetSlot.argtypes = [ctypes.py_object, ctypes.c_int]
    bind = api.PyType_GetSlot(types.FunctionType, Py_tp_descr_get)
    slots = (PyTypeSlot * 4)(
        PyTypeSlot(Py_tp_call, call),
        PyTypeSlot(Py_tp_descr_get, bind),
        PyTypeSlot(Py_tp_members, ctypes.cast(members, ctypes.c_void_p).value),
    )
    # The base's layout flags (managed __dict__ ...), not its state flags (ready, heap type); garbage
    # collection and its traverse function are inherited from the base when not asked for here.
    # An immutable type needs an immutable base (3.14+ refuses another): the base is made so first, when its
    # flags are where this interpreter's types keep them; otherwise the type stays mutable (only slower).
    immutable = Py_TPFLAGS_IMMUTABLETYPE if _make_immutable(JitFunctionBase) else 0
    flags = ((JitFunctionBase.__flags__ & INHERITED_FLAGS) | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR
             | immutable)
    spec = PyTypeSpec(b"jit.JitFunction", base_size + ctypes.sizeof(ctypes.c_void_p), 0, flags, slots)
    api.PyType_FromSpecWithBases.restype = ctypes.py_object
    api.PyType_FromSpecWithBases.argtypes = [ctypes.POINTER(PyTypeSpec), ctypes.py_object]
    new_type = api.PyType_FromSpecWithBases(ctypes.byref(spec), (JitFunctionBase,))
    _SPEC_BUFFERS.append((members, slots, spec))  # see above (the type is immutable: not on it)
    return new_type, base_size


@functools.cache
def jit_function_type() -> tuple[type, int]:
    """The type, made at the first compile (not at import: an unsupported interpreter may import jit)."""
    return _make_type()


def new_callable() -> Any:
    """A new object of the JIT function type, whose calls fail until ``set_entry`` gives it code."""
    new_type, _ = jit_function_type()
    return cast(Any, new_type).__new__(new_type)


def set_entry(callable_object: object, address: int) -> None:
    """Make calls of ``callable_object`` go to the machine code at ``address`` (the ENTRY stencil)."""
    _, offset = jit_function_type()
    ctypes.c_void_p.from_address(id(callable_object) + offset).value = address
