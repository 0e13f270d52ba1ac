"""Shared by the benchmarks: the median wall time of a step function."""
from __future__ import annotations

import statistics
import time


def median_time(step, steps: int, warmup: int) -> float:
    """Median seconds of ``step(i)`` over ``steps`` calls after ``warmup`` untimed ones."""
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[warmup:])
