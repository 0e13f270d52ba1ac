"""Why a training loop frees one 30 MB block before its first step.

A training step allocates arrays of one to a few MB (attention scores, caches, gradients),
uses them and frees them all.  glibc's malloc serves a block above its *mmap threshold*
with a fresh ``mmap`` (returned to the system on ``free``), and returns the free memory at
the top of its heap to the system once it exceeds the *trim threshold*; either way, the
next step's arrays are new pages that the kernel must fault in and zero.  Both thresholds
are adaptive: freeing an mmapped block raises the mmap threshold to that block's size (up
to 32 MB) and the trim threshold to twice it.  A step whose largest array is a few MB
leaves them low, so every step pays: the Markov transformer's step at batch 64 faulted
about 4,900 pages (48 ms a step, 34 ms without the faults), Ahn's 3-layer step about 4,000.

:func:`prime_heap` allocates and frees one block of :data:`PRIME_BYTES` (30 MB, under the
32 MB cap), so that glibc keeps blocks up to 30 MB in its heap and up to 60 MB of freed
memory at its top: the step's arrays are reused pages, and the faults are gone (measured:
4,870 → 0 a step).  It sets nothing — it is glibc's own heuristic, used as designed; other
allocators (macOS, musl) ignore it, and a process whose thresholds were set explicitly
(``mallopt``, ``MALLOC_TRIM_THRESHOLD_``; the command line's ``tune_allocator``) keeps
them.  The cost: the process may hold up to 60 MB of freed memory.  The training loops
call it before their first step (``train_network``, ``train_markov``, ``train_sgd``, the
mesa and preconditioned-GD ``train``; ``train_lsa`` reuses its own buffers instead), and
so do the benchmarks, so a notebook trains as fast as the command line.
"""
from __future__ import annotations

import numpy as np

__all__ = ["PRIME_BYTES", "prime_heap"]

PRIME_BYTES = 30 << 20


def prime_heap() -> None:
    """Allocate and free one :data:`PRIME_BYTES` block (see the module's docstring)."""
    block = np.empty(PRIME_BYTES // 8)           # malloc: above any default threshold, so an mmap
    del block                                     # free: munmap, and glibc raises its thresholds
