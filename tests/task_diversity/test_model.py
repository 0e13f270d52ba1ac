"""The reduced model of Lu et al.: its features, the layer it comes from, its pretraining —
each with a wrong variant it catches."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.core.gradcheck import rel_error
from theory.task_diversity import data as D, model as M
from theory.task_diversity import claims as C
from tests.helpers import rng_from, seeds

EXACT = 1e-12


@settings(max_examples=25)
@given(seeds, st.integers(1, 6), st.integers(1, 9))
def test_features_are_the_papers_sums(seed, d, ell):
    rng = rng_from(seed)
    S = D.sequences(rng, 3, ell, d, rho=0.2)
    H = M.features(S.X, S.y, S.x_q)
    for b in range(3):
        h = sum(S.y[b, i] * S.X[b, i] for i in range(ell)) * d / ell
        s = sum(S.y[b, i] ** 2 for i in range(ell)) / ell
        assert rel_error(H[b], np.outer(S.x_q[b], np.r_[h, s])) < EXACT
    G = rng.standard_normal((d, d + 1))
    assert rel_error(M.predict(G, S.X, S.y, S.x_q), np.einsum("nab,ab->n", H, G)) < EXACT


@settings(max_examples=25)
@given(seeds)
def test_the_layer_is_the_reduced_model_and_the_wrong_forms_are_not(seed):
    assert C._check_lsa_reduction(rng_from(seed)) < EXACT
    rng = rng_from(seed)
    d, ell = 3, 4
    X, y, x_q = rng.standard_normal((5, ell, d)), rng.standard_normal((5, ell)), rng.standard_normal((5, d))
    V, W = rng.standard_normal((d + 1, d + 1)), rng.standard_normal((d + 1, d + 1))
    V[d, :d] = 0.0
    a = M.lsa_prediction(V, W, X, y, x_q)
    assert rel_error(M.predict(V[d, d] * W[:, :d].T, X, y, x_q), a) > 1e-3       # without D's 1/d
    V[d, :d] = 1.0                                                                 # the value row reads x too
    assert rel_error(M.predict(M.lsa_gamma(V[d, d], W), X, y, x_q), M.lsa_prediction(V, W, X, y, x_q)) > 1e-3


@settings(max_examples=15)
@given(seeds, st.integers(1, 4), st.sampled_from([0.0, 0.3]))
def test_pretraining_gradient_matches_finite_differences(seed, d, lam):
    rng = rng_from(seed)
    S = D.sequences(rng, 6, 3, d, rho=0.1)
    G = rng.standard_normal((d, d + 1))
    _, grad = M.pretraining_loss(G, S.X, S.y, S.x_q, S.y_q, lam)
    fd = np.zeros_like(G)
    for i in np.ndindex(G.shape):
        E = np.zeros_like(G)
        E[i] = 1e-6
        fd[i] = (M.pretraining_loss(G + E, S.X, S.y, S.x_q, S.y_q, lam)[0]
                 - M.pretraining_loss(G - E, S.X, S.y, S.x_q, S.y_q, lam)[0]) / 2e-6
    assert rel_error(grad, fd) < 1e-7


def test_gd_reaches_the_ridge_solution():
    for seed in range(3):
        assert C._check_gd_reaches_ridge(rng_from(seed)) < 1e-12


def test_ridge_solves_its_normal_equations_and_ridgeless_is_the_minimum_norm():
    rng = rng_from(0)
    d = 3
    for n in (5, 40):                                          # p = d(d+1) = 12: under- and over-determined
        S = D.sequences(rng, n, 4, d, rho=0.1)
        Phi = M.features(S.X, S.y, S.x_q).reshape(n, -1)
        lam = 0.2
        G = M.pretrain_ridge(S.X, S.y, S.x_q, S.y_q, lam, chunk=3)
        assert rel_error(G.ravel(), np.linalg.solve(Phi.T @ Phi + n / d * lam * np.eye(12), Phi.T @ S.y_q)) < 1e-10
        G0 = M.pretrain_ridge(S.X, S.y, S.x_q, S.y_q, 0.0)
        assert rel_error(G0.ravel(), np.linalg.pinv(Phi) @ S.y_q) < 1e-8
        wrong = np.linalg.solve(Phi.T @ Phi + lam * np.eye(12), Phi.T @ S.y_q)      # the penalty without n/d
        assert rel_error(G.ravel(), wrong) > 1e-4


def test_pools_balanced_and_uniform():
    rng = rng_from(1)
    pool = D.task_pool(rng, 4, 3, "sphere")
    assert np.allclose(np.linalg.norm(pool, axis=1), np.sqrt(3))
    S = D.sequences(rng, 10, 2, 3, pool=pool, assign="balanced")
    counts = [(np.abs(S.w - w).sum(1) == 0).sum() for w in pool]
    assert sorted(counts) == [2, 2, 3, 3]
    S = D.sequences(rng, 2000, 2, 3, scale="lu")
    assert abs(np.mean(S.X ** 2) - 1 / 3) < 0.02                               # x ~ N(0, I/d)
