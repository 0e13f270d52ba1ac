"""theory.core.heap: after prime_heap, a loop that allocates and frees a few MB a step
stops faulting pages in (glibc only; other allocators ignore the priming)."""
import platform
import subprocess
import sys

import pytest

from theory.core.heap import PRIME_BYTES, prime_heap

LOOP = """
import resource, sys
import numpy as np
from theory.core.heap import prime_heap

def faults_per_step(steps=10):
    def step():
        arrays = [np.ones(2 ** 20 // 8 * k) for k in (1, 2, 4, 3, 2)]   # 1-4 MB, freed at the end
        return sum(float(a[0]) for a in arrays)
    step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps

cold = faults_per_step()
prime_heap()
print(cold, faults_per_step())
"""


def test_prime_heap_stops_the_page_faults_of_a_step():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("the adaptive thresholds primed here are glibc's")
    out = subprocess.run([sys.executable, "-c", LOOP], capture_output=True, text=True, check=True).stdout
    cold, primed = map(float, out.split())
    assert cold > 1000 and primed < cold / 20, (cold, primed)      # 12 MB a step: ~3,000 faults cold


def test_prime_heap_is_cheap_and_under_glibc_s_cap():
    assert PRIME_BYTES <= 32 << 20                              # glibc adapts to freed blocks up to 32 MB
    prime_heap()                                                # runs anywhere; nothing to return
