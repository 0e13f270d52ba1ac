"""von Oswald et al. 2023's data: in-context regression tasks and the moments of U(-a, a)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds, sizes, small
from theory.core.gradcheck import rel_error
from theory.gd_step.data import regression_tasks, uniform_moments


@given(seeds, small, sizes, sizes, small, st.floats(0.1, 3.0))
def test_uniform_regression_tasks(seed, B, N, d, d_out, a):
    t = regression_tasks(rng_from(seed), B, N, d, d_out=d_out, a=a)
    assert t.X.shape == (B, N, d) and t.Y.shape == (B, N, d_out)
    assert t.xq.shape == (B, d) and t.yq.shape == (B, d_out) and t.W.shape == (B, d_out, d)
    assert t.n_context == N
    assert np.abs(t.X).max() <= a and np.abs(t.xq).max() <= a
    # y = W x, no noise: entrywise, to round-off relative to Σ_k |W_ok x_k| (sums can cancel)
    scale = np.einsum("bod,bnd->bno", np.abs(t.W), np.abs(t.X))
    assert np.all(np.abs(t.Y - np.einsum("bod,bnd->bno", t.W, t.X)) <= 1e-14 * scale)
    scale_q = np.einsum("bod,bd->bo", np.abs(t.W), np.abs(t.xq))
    assert np.all(np.abs(t.yq - np.einsum("bod,bd->bo", t.W, t.xq)) <= 1e-14 * scale_q)


def test_same_seed_same_tasks_and_noise():
    a = regression_tasks(7, 3, 4, 2, sigma=0.1)
    b = regression_tasks(np.random.default_rng(7), 3, 4, 2, sigma=0.1)
    assert np.array_equal(a.Y, b.Y)
    assert rel_error(a.Y, np.einsum("bod,bnd->bno", a.W, a.X)) > 1e-3


def test_moments_by_monte_carlo():
    t = regression_tasks(0, 20000, 5, 3, a=0.5)
    s2, m4 = uniform_moments(0.5)
    assert abs(np.mean(t.X ** 2) / s2 - 1) < 0.01 and abs(np.mean(t.X ** 4) / m4 - 1) < 0.02
    cov = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
    g = regression_tasks(1, 20000, 5, 3, inputs="gaussian", cov=cov)
    x = g.X.reshape(-1, 3)
    assert rel_error(x.T @ x / len(x), cov) < 0.02
    assert abs(np.mean(g.W ** 2) - 1) < 0.03


def test_bad_input():
    with pytest.raises(ValueError, match="n_context must be a positive integer; got 0"):
        regression_tasks(0, 2, 0, 3)
    with pytest.raises(ValueError, match="batch"):
        regression_tasks(0, -1, 2, 3)
    with pytest.raises(ValueError, match="inputs must be"):
        regression_tasks(0, 2, 2, 3, inputs="laplace")
    with pytest.raises(ValueError, match=r"cov must have shape \(3, 3\)"):
        regression_tasks(0, 2, 2, 3, inputs="gaussian", cov=np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        regression_tasks(0, 2, 2, 2, inputs="gaussian", cov=np.diag([1.0, -1.0]))
    with pytest.raises(ValueError, match="symmetric"):
        regression_tasks(0, 2, 2, 2, inputs="gaussian", cov=[[1.0, 0.5], [0.0, 1.0]])
    with pytest.raises(ValueError, match="cov is only used"):
        regression_tasks(0, 2, 2, 2, cov=np.eye(2))
    with pytest.raises(ValueError, match="sigma must be >= 0"):
        regression_tasks(0, 2, 2, 2, sigma=-0.1)
    with pytest.raises(ValueError, match="rng must be a numpy Generator"):
        regression_tasks("seed", 2, 2, 2)
