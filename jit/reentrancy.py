"""A lock that its own thread never re-enters, for work a signal handler or a finalizer may interrupt.

Signal handlers run between any two bytecodes of the main thread, and finalizers (``__del__``, weakref
callbacks, gc callbacks) at any allocation of any thread: either may compile a function or call compiled
code while the compiler, on the same thread, is half way through its own work.  A plain lock would
deadlock there, a re-entrant one would let the nested call see and change half-updated state.  A
``Guard`` does neither: code that finds ``busy()`` true (this thread is inside the guarded work) must not
enter, and does something that touches none of the guarded state instead (runs the interpreter,
allocates apart).  Other threads simply wait for the lock.

The thread's mark is set *before* the lock is taken and cleared *after* it is released, so that a
handler running in between sees the thread as busy: the safe side.
"""

from __future__ import annotations

import threading


class Guard:
    """``with guard:`` the guarded work (never by a thread that is ``busy()``); ``try_enter``/``exit``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    def busy(self) -> bool:
        """Whether this thread is inside the guarded work (or about to enter or leave it)."""
        return bool(getattr(self._local, "inside", False))

    def __enter__(self) -> None:
        if self.busy():
            raise RuntimeError("re-entered guarded work on the same thread")  # a bug: callers check busy()
        self._local.inside = True
        self._lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.exit()

    def try_enter(self) -> bool:
        """Enter if nobody (this thread included) is inside; never blocks."""
        if self.busy():
            return False
        self._local.inside = True
        if self._lock.acquire(blocking=False):
            return True
        self._local.inside = False
        return False

    def exit(self) -> None:
        self._lock.release()
        self._local.inside = False
