"""Process-level performance settings for long runs (benchmarks, reproductions).

Every step of training allocates and frees arrays of a few MB.  glibc's malloc hands
such blocks back to the operating system and page-faults them in again on the next
step, which on some machines (virtual machines especially) costs more than the
arithmetic: we measured 32 ms vs 14 ms per 1-layer LSA training step at batch 2048
on the 2-core CI machine.  ``tune_allocator`` raises glibc's mmap and trim
thresholds so freed blocks are reused.  It changes only this process, does nothing
off glibc, and is called by the command-line runs and benchmarks, never on import.
"""
from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_allocator(threshold_bytes: int = 1 << 28) -> bool:
    """Keep freed blocks up to ``threshold_bytes`` in the heap; True if applied."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, threshold_bytes)) and \
        bool(mallopt(_M_MMAP_THRESHOLD, min(threshold_bytes, 1 << 25)))
