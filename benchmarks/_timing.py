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
why the package's kernels are small functions.  ``bench_lsa.py --bound`` goes further for
the LSA step: each array operation timed alone, with its FLOPs and bytes.
"""
from __future__ import annotations

import cProfile
import pstats
import resource
import statistics
import time

SETTINGS = {"profile": False}


def add_options(parser, *, tune_allocator: bool = True):
    """``--profile`` and (unless the benchmark has its own) ``--tune-allocator``."""
    parser.add_argument("--profile", action="store_true",
                        help="also profile the numpy step: calls, time and share per function, page faults per step")
    parser.add_argument("--no-prime", action="store_true",
                        help="skip theory.core.heap.prime_heap, which every training loop calls first: shows "
                             "what the step costs when glibc returns its memory to the system every step")
    if tune_allocator:
        parser.add_argument("--tune-allocator", action="store_true",
                            help="set glibc's trim/mmap thresholds with mallopt first (the command line's "
                                 "setting; off by default, so the numbers are the library's as a notebook calls it)")


def setup(args) -> bool:
    """Apply the options, priming the heap as the training loops do (unless ``--no-prime``);
    True if the allocator was tuned."""
    from theory.core._workers import tune_allocator
    from theory.core.heap import prime_heap
    SETTINGS["profile"] = bool(getattr(args, "profile", False))
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
