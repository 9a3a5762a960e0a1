"""Stamps of namespaces: whether anything changed in a dict since the guards on its globals last held.

A dispatcher guards every global its code folded (``ir.GlobalGuard``: the namespace still binds the name to
the value).  Looking each one up at every call costs a dict lookup per global; a method that reads five
globals paid more for its guards than for its body.  So the guards of one namespace are checked only when the
namespace may have changed since they last held, as CPython's own optimizer watches the globals it folds:

* 3.12 and later: a dict watcher (``PyDict_AddWatcher``; its callback is the ``NAMESPACE_WATCHER`` stencil,
  emitted once) counts up one epoch at every change of any watched dict, and a stamp is that epoch;
* 3.11: a stamp is the dict's own version tag (``ma_version_tag``), which every change renews.

``GUARD_NAMESPACE`` compares the stamp with the one saved when the guards last held, and skips them when it is
the same; otherwise they are checked one by one and ``REFRESH_NAMESPACE`` saves the new stamp.
"""

from __future__ import annotations

import atexit
import ctypes
import sys
from collections.abc import Callable

from jit import layouts
from jit.backend.emitter import CompiledCode, Instruction

WATCHES_DICTS = sys.version_info >= (3, 12)
# Looked up now: ctypes finds a C function through Python code that calls the builtins, which user code may
# rebind later (jit/_isolation.py).
if WATCHES_DICTS:
    _add_watcher, _watch, _clear_watcher = (ctypes.pythonapi.PyDict_AddWatcher, ctypes.pythonapi.PyDict_Watch,
                                            ctypes.pythonapi.PyDict_ClearWatcher)
    _add_watcher.argtypes, _add_watcher.restype = [ctypes.c_void_p], ctypes.c_int
    _watch.argtypes, _watch.restype = [ctypes.c_int, ctypes.py_object], ctypes.c_int
    _clear_watcher.argtypes, _clear_watcher.restype = [ctypes.c_int], ctypes.c_int
NEVER = (1 << 64) - 1  # the stamp of a cell whose guards have not held yet
STOPPED = 1 << 63  # an epoch with this bit never passes GUARD_NAMESPACE


class Stamps:
    """The process's watcher and epoch (3.12+), made at the first dispatcher that stamps a namespace."""

    def __init__(self, emit: Callable[[list[Instruction]], CompiledCode]) -> None:
        self.epoch = ctypes.c_uint64(0)
        self.watcher = -1
        self.code: CompiledCode | None = None
        self.watched: set[int] = set()
        if not WATCHES_DICTS:
            return
        self.code = emit([Instruction("NAMESPACE_WATCHER", (), (ctypes.addressof(self.epoch),))])
        try:
            self.watcher = _add_watcher(self.code.entry)
        except Exception:
            self.watcher = -1
            return
        # Before the interpreter tears the modules down (and the watcher's code may be freed): no more calls.
        atexit.register(self.stop)

    def stop(self) -> None:
        """No more watching (at exit, before the watcher's code may be freed): every stamp fails from now on,
        so the guards are checked one by one."""
        self.epoch.value = STOPPED
        if self.watcher >= 0:
            _clear_watcher(self.watcher)
            self.watcher = -1

    @property
    def available(self) -> bool:
        return not WATCHES_DICTS or (self.watcher >= 0 and self.epoch.value < STOPPED)

    def cell(self, namespace: dict[str, object]) -> layouts.NamespaceStamp:
        """A stamp cell for ``namespace`` (watched from now on, where dicts are watched)."""
        if WATCHES_DICTS and id(namespace) not in self.watched:
            _watch(self.watcher, namespace)
            self.watched.add(id(namespace))  # a dict stays watched; a new dict at this address is watched again
        epoch = ctypes.addressof(self.epoch) if WATCHES_DICTS else 0
        return layouts.NamespaceStamp(id(namespace), epoch, NEVER)
