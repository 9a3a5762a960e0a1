"""The kernel suite: plain Python functions a user would write, with their arguments."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


def fib_iter(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def fib_iter_repeat(times: int, n: int) -> int:
    total = 0
    for _ in range(times):
        total += fib_iter(n) % 1000
    return total


def fib_rec(n: int) -> int:
    if n < 2:
        return n
    return fib_rec(n - 1) + fib_rec(n - 2)


def sum_squares_mod(n: int, p: int) -> int:
    total = 0
    for i in range(n):
        total += i * i % p
    return total


def sum_squares(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def mandelbrot(size: int, iterations: int) -> int:
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


def spectral_norm_entry(i: int, j: int) -> float:
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def spectral_norm_times_at_a(n: int, u: list[float], out: list[float]) -> None:
    # out = transpose(A) * A * u
    temporary = [0.0] * n
    for i in range(n):
        total = 0.0
        for j in range(n):
            total += spectral_norm_entry(i, j) * u[j]
        temporary[i] = total
    for i in range(n):
        total = 0.0
        for j in range(n):
            total += spectral_norm_entry(j, i) * temporary[j]
        out[i] = total


def spectral_norm(n: int) -> float:
    u = [1.0] * n
    v = [0.0] * n
    for _ in range(10):
        spectral_norm_times_at_a(n, u, v)
        spectral_norm_times_at_a(n, v, u)
    v_b_v = 0.0
    v_v = 0.0
    for i in range(n):
        v_b_v += u[i] * v[i]
        v_v += v[i] * v[i]
    return math.sqrt(v_b_v / v_v)


def nbody(steps: int) -> float:
    # The sun and the four giant planets: positions in AU, velocities in AU per day, masses in solar masses.
    solar_mass = 4 * math.pi * math.pi
    days_per_year = 365.24
    x = [0.0, 4.84143144246472090e00, 8.34336671824457987e00, 1.28943695621391310e01, 1.53796971148509165e01]
    y = [0.0, -1.16032004402742839e00, 4.12479856412430479e00, -1.51111514016986312e01, -2.59193146099879641e01]
    z = [0.0, -1.03622044471123109e-01, -4.03523417114321381e-01, -2.23307578892655734e-01, 1.79258772950371181e-01]
    vx = [0.0, 1.66007664274403694e-03, -2.76742510726862411e-03, 2.96460137564761618e-03, 2.68067772490389322e-03]
    vy = [0.0, 7.69901118419740425e-03, 4.99852801234917238e-03, 2.37847173959480950e-03, 1.62824170038242295e-03]
    vz = [0.0, -6.90460016972063023e-05, 2.30417297573763929e-05, -2.96589568540237556e-05, -9.51592254519715870e-05]
    mass = [1.0, 9.54791938424326609e-04, 2.85885980666130812e-04, 4.36624404335156298e-05, 5.15138902046611451e-05]
    bodies = len(mass)
    for i in range(bodies):
        vx[i] *= days_per_year
        vy[i] *= days_per_year
        vz[i] *= days_per_year
        mass[i] *= solar_mass
    # Give the sun the momentum that makes the system's total zero.
    px = py = pz = 0.0
    for i in range(bodies):
        px += vx[i] * mass[i]
        py += vy[i] * mass[i]
        pz += vz[i] * mass[i]
    vx[0] = -px / solar_mass
    vy[0] = -py / solar_mass
    vz[0] = -pz / solar_mass
    dt = 0.01
    for _ in range(steps):
        for i in range(bodies):
            for j in range(i + 1, bodies):
                dx = x[i] - x[j]
                dy = y[i] - y[j]
                dz = z[i] - z[j]
                distance2 = dx * dx + dy * dy + dz * dz
                magnitude = dt / (distance2 * math.sqrt(distance2))
                vx[i] -= dx * mass[j] * magnitude
                vy[i] -= dy * mass[j] * magnitude
                vz[i] -= dz * mass[j] * magnitude
                vx[j] += dx * mass[i] * magnitude
                vy[j] += dy * mass[i] * magnitude
                vz[j] += dz * mass[i] * magnitude
        for i in range(bodies):
            x[i] += dt * vx[i]
            y[i] += dt * vy[i]
            z[i] += dt * vz[i]
    energy = 0.0
    for i in range(bodies):
        energy += 0.5 * mass[i] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i])
        for j in range(i + 1, bodies):
            dx = x[i] - x[j]
            dy = y[i] - y[j]
            dz = z[i] - z[j]
            energy -= mass[i] * mass[j] / math.sqrt(dx * dx + dy * dy + dz * dz)
    return energy


def sieve(n: int) -> int:
    is_prime = [True] * (n + 1)
    is_prime[0] = is_prime[1] = False
    for i in range(2, int(n**0.5) + 1):
        if is_prime[i]:
            for multiple in range(i * i, n + 1, i):
                is_prime[multiple] = False
    count = 0
    for flag in is_prime:
        if flag:
            count += 1
    return count


def mixed_sum(n: int) -> float:
    # s starts as an int and becomes a float in the first iteration: types per value (block versions).
    s = 0
    for i in range(n):
        s += i * 0.5
    return s


def bit_count_xorshift(n: int) -> int:
    # xorshift over 32 bits and a count of set bits: & | ^ << >> on ints.
    x = 2463534242
    bits = 0
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        y = x
        while y:
            y &= y - 1
            bits += 1
    return bits


def add1(x: int) -> int:
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
    Kernel("spectral_norm", spectral_norm, (200,), (40,), "spectral norm n=200 (lists of floats)"),
    Kernel("nbody", nbody, (100_000,), (5_000,), "n-body, 5 bodies, 100k steps (lists of floats)"),
    Kernel("sieve", sieve, (2 * 10**6,), (10**5,), "prime sieve, list, n=2*10**6"),
    Kernel("mixed_sum", mixed_sum, (10**7,), (10**6,), "s = 0; s += i * 0.5: an int, then a float"),
    Kernel("xorshift_bits", bit_count_xorshift, (300_000,), (30_000,), "xorshift32 and set-bit counts"),
    Kernel("call_add1", add1, (41,), (41,), "call of a trivial function"),
]
