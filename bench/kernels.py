"""The kernel suite: plain Python functions a user would write, with their arguments."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def fib_iter(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def fib_iter_repeat(times, n):
    total = 0
    for _ in range(times):
        total += fib_iter(n) % 1000
    return total


def fib_rec(n):
    if n < 2:
        return n
    return fib_rec(n - 1) + fib_rec(n - 2)


def sum_squares_mod(n, p):
    total = 0
    for i in range(n):
        total += i * i % p
    return total


def sum_squares(n):
    total = 0
    for i in range(n):
        total += i * i
    return total


def mandelbrot(size, iterations):
    inside = 0
    for y in range(size):
        ci = 2.0 * y / size - 1.0
        for x in range(size):
            cr = 2.5 * x / size - 2.0
            zr = 0.0
            zi = 0.0
            escaped = False
            for _ in range(iterations):
                zr, zi = zr * zr - zi * zi + cr, 2.0 * zr * zi + ci
                if zr * zr + zi * zi > 4.0:
                    escaped = True
                    break
            if not escaped:
                inside += 1
    return inside


def add1(x):
    return x + 1


@dataclass(frozen=True)
class Kernel:
    name: str
    function: Callable[..., object]
    args: tuple[object, ...]
    quick_args: tuple[object, ...]
    description: str


KERNELS = [
    Kernel("fib_iter", fib_iter_repeat, (100_000, 90), (10_000, 90), "iterative fibonacci(90), 100k times"),
    Kernel("fib_rec", fib_rec, (27,), (20,), "recursive fibonacci(27)"),
    Kernel("sum_squares_mod", sum_squares_mod, (10**7, 1_000_003), (10**6, 1_000_003), "sum of i*i % p, i < 10**7"),
    Kernel("mandelbrot", mandelbrot, (200, 200), (60, 100), "mandelbrot 200x200, 200 iterations"),
    Kernel("call_add1", add1, (41,), (41,), "call of a trivial function"),
]
