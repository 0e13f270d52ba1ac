"""The process settings of theory.core._workers: numpy's BLAS thread count, held for a block."""
import numpy as np
import pytest

from theory.core import _workers


def test_blas_threads_holds_the_count_for_the_block_and_restores_it():
    found = _workers._openblas()
    if found is None:
        pytest.skip("numpy's BLAS here is not an OpenBLAS this process can reach")
    set_threads, get_threads = found
    before = int(get_threads())
    with _workers.blas_threads(1) as applied:
        assert applied and int(get_threads()) == 1
        a = np.random.default_rng(0).random((300, 300))
        assert np.allclose(a @ np.eye(300), a)                # BLAS still works on one thread
    assert int(get_threads()) == before
    with pytest.raises(RuntimeError), _workers.blas_threads(1):
        raise RuntimeError("the count comes back after an error too")
    assert int(get_threads()) == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_blas_threads_refuses_a_bad_count(bad):
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        with _workers.blas_threads(bad):
            pass


def _seen_threads(monkeypatch, runnable: int, own: int, cpus: int = 2):
    """The BLAS thread count a load-adapted kernel runs with, for a faked machine state."""
    found = _workers._openblas()
    if found is None:
        pytest.skip("numpy's BLAS here is not an OpenBLAS this process can reach")
    set_threads, get_threads = found
    monkeypatch.setattr(_workers, "_runnable", lambda: runnable)
    monkeypatch.setattr(_workers, "_own_running", lambda: own)
    monkeypatch.setattr(_workers, "usable_cpus", lambda: cpus)
    before = int(get_threads())
    set_threads(2)
    try:
        seen = _workers.load_adapted_blas(lambda: int(get_threads()))()
        assert int(get_threads()) == 2                          # restored after the kernel
    finally:
        set_threads(before)
    return seen


def test_a_load_adapted_kernel_takes_the_idle_cpus_and_gives_them_back(monkeypatch):
    assert _seen_threads(monkeypatch, runnable=1, own=1) == 2       # idle machine: every thread
    assert _seen_threads(monkeypatch, runnable=3, own=1) == 1       # two busy processes beside it
    assert _seen_threads(monkeypatch, runnable=3, own=3) == 2       # our own spinning threads are not load
    assert _seen_threads(monkeypatch, runnable=9, own=1) == 1       # never fewer than one
    _workers.adapt_blas_to_load(False)
    try:
        assert _seen_threads(monkeypatch, runnable=3, own=1) == 2   # --fixed-blas
    finally:
        _workers.adapt_blas_to_load(True)
    with pytest.raises(ValueError, match="on must be True or False"):
        _workers.adapt_blas_to_load("no")


def test_idle_cpus_is_between_one_and_the_usable_cpus():
    assert 1 <= _workers.idle_cpus() <= _workers.usable_cpus()
