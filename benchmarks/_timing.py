"""Shared by the benchmarks: the median wall time of a step function, and ``--profile``,
where a numpy step's time goes.

``--profile`` (every benchmark) runs the numpy step a few more times under ``cProfile`` and
prints, for the package's functions and numpy's Python-level calls, the calls per step, the
milliseconds per step spent in each (its own time, not its callees') and the share of the
step; and the minor page faults per step, counted with ``getrusage``.  A step with thousands
of faults is paying for glibc returning freed memory to the system and faulting it in again
(see ``theory/core/heap.py``: the training loops, and these benchmarks unless
``--no-prime``, prime the heap so that it does not).  numpy's matrix products and elementwise passes are C calls
that ``cProfile`` does not see: their time is inside the function that calls them, which is
why the package's kernels are small functions.  ``--bound`` (``bench_gd_step.py``,
``bench_markov_icl.py``) goes further: the step's array operations listed by shape, each timed
alone (:func:`print_bound`), with their FLOPs, bytes and the rates they reach.
"""
from __future__ import annotations

import cProfile
import pstats
import resource
import statistics
import time

import numpy as np

SETTINGS = {"profile": False}


def add_options(parser, *, tune_allocator: bool = True):
    """``--profile`` and (unless the benchmark has its own) ``--tune-allocator``."""
    parser.add_argument("--profile", action="store_true",
                        help="also profile the numpy step: calls, time and share per function, page faults per step")
    parser.add_argument("--no-prime", action="store_true",
                        help="skip theory.core.heap.prime_heap, which every training loop calls first: shows "
                             "what the step costs when glibc returns its memory to the system every step")
    parser.add_argument("--fixed-blas", action="store_true",
                        help="keep numpy's BLAS threads fixed where a kernel would adapt them to the load "
                             "(theory.core._workers.load_adapted_blas): shows what the adaptation buys")
    if tune_allocator:
        parser.add_argument("--tune-allocator", action="store_true",
                            help="set glibc's trim/mmap thresholds with mallopt first (the command line's "
                                 "setting; off by default, so the numbers are the library's as a notebook calls it)")


def setup(args) -> bool:
    """Apply the options, priming the heap as the training loops do (unless ``--no-prime``);
    True if the allocator was tuned."""
    from theory.core._workers import tune_allocator
    from theory.core._workers import adapt_blas_to_load
    from theory.core.heap import prime_heap
    SETTINGS["profile"] = bool(getattr(args, "profile", False))
    adapt_blas_to_load(not getattr(args, "fixed_blas", False))
    if not getattr(args, "no_prime", False):
        prime_heap()
    return tune_allocator() if getattr(args, "tune_allocator", False) else False


def median_time(step, steps: int, warmup: int, label: str | None = None) -> float:
    """Median seconds of ``step(i)`` over ``steps`` calls after ``warmup`` untimed ones; with
    ``--profile`` and a ``label`` (the numpy steps), then the profile of that step."""
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    t = statistics.median(times[warmup:])
    if SETTINGS["profile"] and label:
        profile(step, label, t, n=max(1, min(steps, 20)))
    return t


def profile(step, label: str, t_step: float, n: int = 20, top: int = 10) -> None:
    """Print where ``step``'s time goes over ``n`` calls (see the module's docstring)."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for i in range(n):
        step(i)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / n
    prof = cProfile.Profile()
    prof.enable()
    for i in range(n):
        step(i)
    prof.disable()
    stats = pstats.Stats(prof).stats                       # (file, line, name) -> (cc, nc, tottime, cumtime, callers)
    rows = []
    for (path, line, name), (_, calls, own, _, _) in stats.items():
        where = name if path == "~" else f"{path.split('/theory/')[-1] if '/theory/' in path else path.rsplit('/', 1)[-1]}:{name}"
        rows.append((own / n, calls / n, where))
    rows.sort(reverse=True)
    total = sum(r[0] for r in rows)
    print(f"profile of the {label} step ({n} steps under cProfile, {1e3 * total:.2f} ms/step there against "
          f"{1e3 * t_step:.2f} ms timed; {faults:.0f} minor page faults a step):")
    for own, calls, where in rows[:top]:
        print(f"  {1e3 * own:8.3f} ms  {100 * own / total:5.1f} %  {calls:6.1f} calls  {where}")
    if rows and "acquire" in rows[0][2]:
        print("  (the step waits on its worker threads, which cProfile does not follow: rerun with --threads 1 "
              "to see their functions)")


# --------------------------------------------------------------------------- --bound
def time_operation(kind: str, dims: tuple, repeat: int = 20) -> float:
    """Seconds for one array operation of a step, alone, on arrays of its shapes:
    ``"batched"`` (B products (m×k)·(k×n): dims (B, m, k, n)), ``"large"`` (one such product:
    dims (1, m, k, n)), ``"stream"`` (an elementwise pass over n numbers touching 2 or 3
    arrays: dims (n, arrays)), ``"exp"`` (n exponentials: dims (n,)), ``"rowsum"`` (sums of
    rows of length c: dims (rows, c))."""
    rng = np.random.default_rng(0)
    if kind == "stream":
        n, arrays = dims
        x, y, z = rng.random(n), rng.random(n), np.empty(n)
        run = (lambda: np.add(x, y, out=z)) if arrays == 3 else (lambda: np.copyto(z, x))
    elif kind == "exp":
        x, z = rng.random(dims[0]), np.empty(dims[0])
        run = lambda: np.exp(x, out=z)
    elif kind == "rowsum":
        x = rng.random(dims)
        run = lambda: x.sum(-1)
    else:
        b, m, k, n = dims
        x, y, z = rng.random((b, m, k)), rng.random((b, k, n)), np.empty((b, m, n))
        if b == 1:
            x, y, z = x[0], y[0], z[0]
        run = lambda: np.matmul(x, y, out=z)
    run()
    t0 = time.perf_counter()
    for _ in range(repeat):
        run()
    return (time.perf_counter() - t0) / repeat


def _flops_bytes(kind: str, dims: tuple) -> tuple:
    if kind in ("batched", "large"):
        b, m, k, n = dims
        return 2 * b * m * k * n, 8 * b * (m * k + k * n + m * n)
    if kind == "stream":
        return 0, 8 * dims[0] * dims[1]
    if kind == "exp":
        return 0, 16 * dims[0]
    return 0, 8 * dims[0] * dims[1]                    # rowsum


def print_bound(ops: list, t_step: float, rest: str) -> None:
    """What bounds a step: its array operations ``(what, kind, dims)`` (see
    :func:`time_operation`), each timed alone, summed by kind with their FLOPs, bytes and
    the rates they reach, beside the measured step time."""
    rows = {}
    for _, kind, dims in ops:
        flops, nbytes = _flops_bytes(kind, dims)
        r = rows.setdefault(kind, [0, 0, 0, 0.0])
        r[0] += 1
        r[1] += flops
        r[2] += nbytes
        r[3] += time_operation(kind, dims)
    total = sum(r[3] for r in rows.values())
    print(f"what bounds the numpy step ({len(ops)} array operations, each timed alone; {rest}):")
    for kind, (n, flops, nbytes, t) in rows.items():
        print(f"  {kind:<8} {n:3d} ops  {flops / 1e6:8.1f} MFLOP  {nbytes / 1e6:7.1f} MB  {1e3 * t:6.2f} ms"
              f"  ({flops / t / 1e9 if flops else 0:5.1f} GFLOP/s, {nbytes / t / 1e9:5.1f} GB/s)")
    print(f"  sum {1e3 * total:.2f} ms of the measured {1e3 * t_step:.2f} ms step "
          f"({100 * rows.get('batched', [0, 0, 0, 0])[3] / t_step:.0f}% in batched small products)")
