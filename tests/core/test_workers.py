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
