"""theory.core.parallel.batch_parallel: the slices' losses and gradients, weighted by their
sizes, are the whole batch's (a mean loss), whatever the nesting of the gradients."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from theory.core import _workers
from theory.core.parallel import batch_parallel, batch_threads
from tests.helpers import rng_from


def _mean_loss(X, y):
    """½ mean (X w − y)² at w = 1, with gradients in a dict, a list and a tuple."""
    r = X.sum(1) - y
    g = X.T @ r / len(y)
    return 0.5 * float(r @ r) / len(y), {"w": g, "parts": [g[:1], (2 * g,)]}


@pytest.mark.parametrize("chunks", [1, 2, 3, 7])
def test_slices_on_threads_give_the_whole_batch(chunks):
    rng = rng_from(chunks)
    X, y = rng.standard_normal((7, 3)), rng.standard_normal(7)
    whole = _mean_loss(X, y)
    with ThreadPoolExecutor(2) as pool:
        loss, g = batch_parallel(_mean_loss, (X, y), pool, chunks)
    assert loss == pytest.approx(whole[0], rel=1e-13)
    assert np.allclose(g["w"], whole[1]["w"], rtol=1e-13, atol=0)
    assert np.allclose(g["parts"][1][0], 2 * whole[1]["w"], rtol=1e-13, atol=0)
    assert isinstance(g["parts"], list) and isinstance(g["parts"][1], tuple)
    assert batch_parallel(_mean_loss, (X, y), None, chunks)[0] == whole[0]      # no pool: one call


def test_batch_threads_gives_a_pool_with_blas_on_one_thread_or_none():
    with batch_threads(1) as pool:
        assert pool is None
    found = _workers._openblas()
    before = int(found[1]()) if found else None
    with batch_threads(2) as pool:
        assert list(pool.map(abs, [-1, 2])) == [1, 2]
        if found:
            assert int(found[1]()) == 1
    if found:
        assert int(found[1]()) == before
