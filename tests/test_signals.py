"""Compiled loops answer Ctrl-C: signals are checked on back edges, in both tiers, and other threads run.

Each loop would run for about three seconds; KeyboardInterrupt is made to arrive after 0.2 s, from a timer thread
(``_thread.interrupt_main`` or ``os.kill``), from another process (SIGINT, as Ctrl-C in a terminal) or from a
SIGALRM whose handler raises.  The exception must come out of the compiled function within a second, as the
interpreter would raise it, with the frame stack released, and the function must work normally afterwards.
Meanwhile other Python threads get the GIL, and compiled code running in several threads gives each its answer.
"""

from __future__ import annotations

import _thread
import io
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

import jit

DELAY = 0.2
PROMPT = 1.0
UNINTERRUPTED_SECONDS = 3.0


def spin(n: Any) -> Any:
    total = 0
    for i in range(n):
        total += i % 7
    return total


def spin_objects(n: Any) -> Any:
    total = 2**70  # no int64 holds it: the loop adds objects, in the specialized tier
    for i in range(n):
        total += i % 7
    return total


def spin_after_deopt(n: Any) -> Any:
    total = 9223372036854775000  # overflows within the first iterations: the rest runs in the generic tier
    for i in range(n):
        total += i % 7
    return total


def spin_while(n: Any) -> Any:
    count = 0
    x = 0.0
    while count < n:
        count += 1
        x = x * 0.5 + 1.0
    return x


def spin_in_callee(n: Any) -> Any:
    return spin(n) + 1


def tree(n: Any) -> Any:
    """About 2n calls, no loop, recursion log2(n) deep: only polls at function entries can interrupt it."""
    if n <= 1:
        return n
    half = n // 2
    return tree(half) + tree(n - half)


@dataclass(frozen=True)
class Loop:
    name: str
    func: Callable[..., Any]
    tier: str  # what jit.explain must say runs it

    def __str__(self) -> str:
        return self.name


LOOPS = [
    Loop("specialized", spin, "specialized tier"),
    Loop("objects", spin_objects, "specialized tier"),
    Loop("deoptimized", spin_after_deopt, "specialized tier"),
    Loop("while", spin_while, "specialized tier"),
    Loop("callee", spin_in_callee, "specialized tier"),
    Loop("recursion", tree, "specialized tier"),
]


class Alarm(Exception):
    """Raised by a SIGALRM handler."""


# Each sender makes KeyboardInterrupt arrive DELAY seconds after entry, and on exit waits until it has been
# delivered (or cancels it), so that a late interrupt lands in the test, never in pytest.


@contextmanager
def timer_thread(action: Callable[[], object]) -> Iterator[None]:
    # A Python thread needs the GIL to run: this one can only fire if compiled loops let other threads run.
    timer = threading.Timer(DELAY, action)
    timer.start()
    try:
        yield
    finally:
        timer.join()


def timer_thread_interrupt_main() -> AbstractContextManager[None]:
    return timer_thread(_thread.interrupt_main)


def timer_thread_sigint() -> AbstractContextManager[None]:
    return timer_thread(lambda: os.kill(os.getpid(), signal.SIGINT))


@contextmanager
def sigint_from_another_process() -> Iterator[None]:
    # Ctrl-C in a terminal: the kernel delivers SIGINT whatever the process is doing.
    sender = subprocess.Popen(["sh", "-c", f"sleep {DELAY}; kill -INT {os.getpid()}"])
    try:
        yield
    finally:
        sender.wait()


@contextmanager
def sigalrm_with_the_default_int_handler() -> Iterator[None]:
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.setitimer(signal.ITIMER_REAL, DELAY)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


SENDERS: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "timer-thread-interrupt-main": timer_thread_interrupt_main,
    "timer-thread-sigint": timer_thread_sigint,
    "sigint-from-another-process": sigint_from_another_process,
    "sigalrm": sigalrm_with_the_default_int_handler,
}


@pytest.fixture(autouse=True)
def default_sigint_handler() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupted_call(fast: Callable[[int], object], iterations: int, sender: str) -> float | None:
    """Seconds until KeyboardInterrupt came out of the compiled call; None if it came only after the call."""
    started = time.perf_counter()
    elapsed = None
    try:
        with SENDERS[sender]():
            try:
                fast(iterations)
            except KeyboardInterrupt:
                elapsed = time.perf_counter() - started
    except KeyboardInterrupt:
        pass  # delivered after the compiled call returned: the failure this test is there to catch
    return elapsed


def iterations_for(fast: Callable[[int], object], seconds: float) -> int:
    """How many iterations the compiled loop runs in ``seconds``."""
    count = 100_000
    while True:
        started = time.perf_counter()
        fast(count)
        elapsed = time.perf_counter() - started
        if elapsed > 0.05:
            return int(count * seconds / elapsed)
        count *= 4


@pytest.mark.parametrize("sender", SENDERS, ids=str)
@pytest.mark.parametrize("loop", LOOPS, ids=str)
def test_long_compiled_loop_is_interrupted_promptly(loop: Loop, sender: str) -> None:
    fast: Any = jit.compile(loop.func)
    iterations = iterations_for(fast, UNINTERRUPTED_SECONDS)
    assert loop.tier in jit.explain(fast, file=io.StringIO())
    elapsed = interrupted_call(fast, iterations, sender)
    assert elapsed is not None, "KeyboardInterrupt came only after the compiled loop had finished"
    assert elapsed < DELAY + PROMPT, f"the signal took {elapsed - DELAY:.2f} s to be answered"
    assert jit.stats()["frame_slots_in_use"] == 0
    assert fast.__jit_dispatcher__.fallbacks == {}
    assert fast(1000) == loop.func(1000)  # still works after the interruption


def test_exception_of_a_signal_handler_comes_out_of_compiled_code() -> None:
    def handler(signum: int, frame: object) -> None:
        raise Alarm(signum)

    fast: Any = jit.compile(spin_while)
    iterations = iterations_for(fast, UNINTERRUPTED_SECONDS)
    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, DELAY)
        started = time.perf_counter()
        with pytest.raises(Alarm) as raised:
            fast(iterations)
        assert time.perf_counter() - started < DELAY + PROMPT
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert raised.value.args == (signal.SIGALRM,)
    assert jit.stats()["frame_slots_in_use"] == 0


def mix(n: Any, seed: Any) -> Any:
    total = seed
    for i in range(n):
        total = (total * 31 + i) % 1000003
    return total


@pytest.mark.parametrize("func", [spin, tree], ids=["loop", "recursion"])
def test_other_threads_run_while_a_compiled_loop_runs(func: Callable[[int], int]) -> None:
    # As in the interpreter, a long compiled loop or recursion gives the GIL to threads that ask for it.
    fast: Any = jit.compile(func)
    iterations = iterations_for(fast, 1.0)
    ticks: list[float] = []
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.01)

    thread = threading.Thread(target=ticker)
    thread.start()
    try:
        time.sleep(0.05)
        started = time.perf_counter()
        fast(iterations)
        ended = time.perf_counter()
    finally:
        stop.set()
        thread.join()
    during = [t for t in ticks if started < t < ended]
    assert len(during) >= (ended - started) / 0.1, f"{len(during)} ticks in {ended - started:.2f} s"


def test_compiled_code_in_several_threads_gives_each_its_answer() -> None:
    fast: Any = jit.compile(mix)
    iterations = 300_000
    expected = {seed: mix(iterations, seed) for seed in range(4)}
    answers: dict[int, list[object]] = {seed: [] for seed in expected}

    def run(seed: int) -> None:
        for _ in range(10):
            answers[seed].append(fast(iterations, seed))

    threads = [threading.Thread(target=run, args=(seed,)) for seed in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {seed: [value] * 10 for seed, value in expected.items()}
    assert jit.stats()["frame_slots_in_use"] == 0
