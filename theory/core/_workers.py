"""Process-level settings for the long command-line runs (``python -m theory
reproduce``, benchmarks).  Nothing here runs on import.

**Worker processes.**  A reproduction is a handful of independent training jobs, each a
long loop of small batched matrix products that keeps one core busy.  Two such jobs in
two processes run at nearly the speed of one alone — if each process keeps to one BLAS
thread.  With the BLAS default (one thread per core in every process) two processes
oversubscribe the cores: a 3-layer LSA step took 50 ms in each of two processes against
18 ms with one thread each (16–17 ms for one process alone) on the 2-core CI machine.
OpenBLAS reads its thread count when numpy is imported, so the setting has to be in a
worker's environment when it starts: :func:`worker_pool` sets it, starts every worker,
and puts the parent's environment back.  The parent's own BLAS is untouched.

**The allocator.**  A training step that allocates and frees arrays of a few MB makes
glibc hand the blocks back to the system and page-fault them in again on the next step.
The training loops prevent that themselves (:mod:`theory.core.heap`: they prime glibc's
adaptive thresholds before the first step; ``train_lsa`` reuses its buffers), so a library
call trains as fast as the command line.  The command line also calls
:func:`tune_allocator`, which sets the thresholds explicitly with ``mallopt`` (mmap 32 MB,
trim 256 MB, for the parent and every worker) and so keeps steps whose freed memory
exceeds the primed 60 MB from faulting as well.

**BLAS threads in a block.**  :func:`blas_threads` holds numpy's OpenBLAS to n threads for
the duration of a ``with`` block (a training step split over Python threads wants one).

**BLAS threads on a loaded machine.**  OpenBLAS splits a matrix product or a factorisation
over all its threads and waits for the slowest at each barrier; when other processes keep
the cores busy, one of its threads is often descheduled and the others wait (spinning).
On the 2-core machine with two busy processes beside it, the task-diversity solve (LU of
a 1056 × 1056 system) took 83–240 ms on two OpenBLAS threads against 18 ms on one, and
Reddy's float32 step lost a quarter of its speed.  :func:`load_adapted_blas` runs a kernel
on as many threads as there are idle CPUs at the moment it starts (MKL's "dynamic" threads
do the same; torch uses MKL): the runnable tasks of /proc/loadavg, less this process's own.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_allocator(threshold_bytes: int = 1 << 28) -> bool:
    """Keep freed blocks up to ``threshold_bytes`` in the heap; True if applied (glibc only)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, threshold_bytes)) and \
        bool(mallopt(_M_MMAP_THRESHOLD, min(threshold_bytes, 1 << 25)))


_BLAS_SETTERS = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads", "openblas_set_num_threads64_",
                 "openblas_set_num_threads")


@functools.lru_cache(maxsize=1)
def _openblas():
    """numpy's OpenBLAS as ``(set_num_threads, get_num_threads)`` (ctypes functions), found
    among this process's loaded libraries (Linux's /proc/self/maps); None elsewhere or for
    another BLAS."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _BLAS_SETTERS:
            if hasattr(lib, name):
                return getattr(lib, name), getattr(lib, name.replace("set_", "get_"))
    return None


@contextlib.contextmanager
def blas_threads(n: int):
    """Run the block with numpy's OpenBLAS on ``n`` threads, then restore its count; yields
    True if applied, False where it cannot be (another BLAS, not Linux: the block runs
    unchanged).  Used by a training loop that splits its batch over Python threads
    (``theory.mesa``'s ``threads``): two such threads each calling a two-thread BLAS run
    slower than one thread alone."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1; got {n!r}")
    found = _openblas()
    if found is None:
        yield False
        return
    set_threads, get_threads = found
    old = int(get_threads())
    set_threads(n)
    try:
        yield True
    finally:
        set_threads(old)


def _runnable() -> int | None:
    """Runnable tasks on the machine right now (/proc/loadavg's fourth field), or None."""
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None


def _own_running() -> int:
    """This process's threads that are runnable right now (at least this one)."""
    own = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/stat") as f:
                own += f.read().rpartition(")")[2].split()[0] == "R"
        except (OSError, IndexError):              # the thread ended meanwhile
            continue
    return max(own, 1)


def idle_cpus() -> int:
    """CPUs of this process not taken by other processes' runnable tasks right now (at least
    1): :func:`usable_cpus` less the runnable tasks of /proc/loadavg that are not this
    process's threads.  Linux only; elsewhere :func:`usable_cpus`."""
    cpus, runnable = usable_cpus(), _runnable()
    return cpus if runnable is None else _idle(cpus, runnable)


def _idle(cpus: int, runnable: int) -> int:
    """``cpus`` less the runnable tasks that are not this process's threads, at least 1."""
    return max(1, min(cpus, cpus - (runnable - _own_running())))


_ADAPTATION = {"on": True}


def adapt_blas_to_load(on: bool = True) -> None:
    """Switch :func:`load_adapted_blas` on or off for the whole process (the benchmarks'
    ``--fixed-blas`` turns it off, to show what it buys)."""
    if not isinstance(on, bool):
        raise ValueError(f"on must be True or False; got {on!r}")
    _ADAPTATION["on"] = on


def load_adapted_blas(kernel):
    """Decorator: run ``kernel`` with numpy's OpenBLAS on :func:`idle_cpus` threads (never
    more than it has), then restore the count (module docstring: a loaded machine).  Where
    the count cannot be set (another BLAS, not Linux) the kernel runs unchanged.  On an idle
    machine it costs one read of /proc/loadavg (about 10 µs)."""
    @functools.wraps(kernel)
    def adapted(*args, **kwargs):
        if not _ADAPTATION["on"]:
            return kernel(*args, **kwargs)
        found, runnable = _openblas(), _runnable()
        if found is None or runnable is None:
            return kernel(*args, **kwargs)
        old, cpus = int(found[1]()), usable_cpus()
        n = old if runnable - 1 <= cpus - old else min(old, _idle(cpus, runnable))   # fast path: room for all
        if n == old:
            return kernel(*args, **kwargs)
        with blas_threads(n):
            return kernel(*args, **kwargs)
    return adapted


def usable_cpus() -> int:
    """The number of CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                     # not on Linux
        return os.cpu_count() or 1


def worker_pool(n_workers: int, initializer=None) -> ProcessPoolExecutor:
    """A pool of ``n_workers`` fresh ("spawn") processes with one BLAS thread each.

    The workers are started here, under the one-thread environment, so tasks submitted
    later run in them; each runs ``initializer()`` first.  The caller shuts the pool down
    (``with worker_pool(2) as pool:``).
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an int >= 1; got {n_workers!r}")
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update({k: "1" for k in THREAD_VARIABLES})
    try:
        pool = ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=initializer)
        # a spawn pool starts a worker per submit while none is idle: start them all now
        started = [pool.submit(os.getpid) for _ in range(n_workers)]
        for f in started:
            f.result()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return pool


def thread_settings(_=None) -> tuple:
    """This process's BLAS thread variables (run in a worker to see what it started with)."""
    return tuple(os.environ.get(k) for k in THREAD_VARIABLES)
