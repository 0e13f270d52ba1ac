"""The exact finite-d error, its optimum, the asymptotic theory and Raventós' estimators —
each with a wrong variant it catches."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.core.gradcheck import rel_error
from theory.task_diversity import asymptotics as A, bayes as B, data as D, error as E
from theory.task_diversity.simulation import pretrain_and_score
from theory.task_diversity import claims as C
from tests.helpers import rng_from, seeds


def test_the_error_formula_against_monte_carlo():
    for seed in range(6):
        assert C._check_error_formula(rng_from(seed)) < 1.0


def test_monte_carlo_catches_a_wrong_fourth_moment():
    """Only the (1 + 2/ℓ) of E[s²] weighs a Γ that reads only Σ y²; (1 + 1/ℓ) there is caught."""
    d, ell, rho = 2, 1, 0.25
    G = np.zeros((d, d + 1))
    G[:, d] = [0.6, -0.4]
    mean, se = E.monte_carlo_error(rng_from(3), G, ell, rho, 60000, "sphere")
    right = E.expected_error(G, ell, rho, "sphere")
    wrong = rho + (G[:, d] @ G[:, d]) * (1 + 1 / ell) * (1 + rho) ** 2 / d + 1
    assert abs(mean - right) < 4 * se < abs(mean - wrong)


@settings(max_examples=25)
@given(seeds, st.integers(1, 6), st.integers(1, 30), st.floats(0, 2))
def test_the_optimum_is_one_gd_step_and_a_minimum(seed, d, ell, rho):
    assert C._check_optimum_is_one_gd_step(rng_from(seed)) < 1e-12
    G = E.optimal_gamma(d, ell, rho)
    e = E.expected_error(G, ell, rho)
    rng = rng_from(seed)
    for _ in range(3):
        assert E.expected_error(G + 1e-3 * rng.standard_normal(G.shape), ell, rho) > e


def test_a_small_pool_is_memorised_by_its_own_optimum():
    rng = rng_from(2)
    d, ell, rho = 4, 8, 0.01
    pool = D.task_pool(rng, 2, d, "sphere")
    G = E.optimal_gamma(d, ell, rho, pool)
    assert E.expected_error(G, ell, rho, pool) < 0.5 * E.expected_error(G, ell, rho, "gaussian")
    assert E.optimal_error(d, ell, rho, "gaussian") < E.expected_error(G, ell, rho, "gaussian")


def test_gaussian_and_sphere_tasks_differ_only_through_E_q2():
    rng = rng_from(4)
    d, ell, rho = 3, 5, 0.2
    G = np.hstack([rng.standard_normal((d, d)), np.zeros((d, 1))])
    assert abs(E.expected_error(G, ell, rho, "gaussian") - E.expected_error(G, ell, rho, "sphere")) < 1e-12
    G[:, d] = 1.0
    assert E.expected_error(G, ell, rho, "gaussian") > E.expected_error(G, ell, rho, "sphere")


def test_the_stieltjes_transform_solves_its_quadratic():
    for x, kappa in ((0.3, 0.5), (2.0, 4.0), (0.01, 100.0)):
        m = A.stieltjes(x, kappa)
        assert abs(x / kappa * m * m + (x + 1 - 1 / kappa) * m - 1) < 1e-14
    assert A.stieltjes(0.7, np.inf) == pytest.approx(1 / 1.7, rel=1e-15)


@settings(max_examples=25)
@given(st.floats(0.2, 20), st.floats(0, 1), st.floats(0.1, 10))
def test_result_1_limits(alpha, rho, kappa):
    limit = A.icl_limit(alpha, rho)
    assert abs(A.ridgeless_icl(alpha, np.inf, np.inf, rho) - limit) < 1e-12 * limit
    assert abs(A.ridgeless_icl(alpha, 1e9, 1e9, rho) - limit) < 1e-6 * limit            # continuous there
    assert abs(A.ridgeless_icl(alpha, kappa, 1e-9, rho) - (1 + rho)) < 1e-6              # untrained: Γ = 0
    assert min(A.ridgeless_icl(alpha, kappa, t, rho) for t in (1 - 1e-6, 1 + 1e-6)) > 1e3  # τ = 1 diverges
    assert A.ridgeless_idg(alpha, kappa, 2.0, rho) < A.ridgeless_icl(alpha, kappa, 2.0, rho) + 1e-12


def test_the_simulation_approaches_result_1_as_d_grows():
    """Fig. 1's setting (α = 1, κ = 0.5, ρ = 0.01) at τ = 0.5: the mean over 3 pools of the exact
    ICL error at d = 8 and d = 32 (measured: 1.95 and 1.38 against the theory's 1.26)."""
    theory = A.ridgeless_icl(1.0, 0.5, 0.5, 0.01)
    gap = {d: np.mean([pretrain_and_score(s, d, 1.0, 0.5, 0.5, 0.01)["e_icl"] for s in range(3)]) - theory
           for d in (8, 32)}
    assert 0 < gap[32] < 0.5 * gap[8]


def test_raventos_estimators_are_the_posterior_means():
    for seed in range(4):
        assert C._check_estimators(rng_from(seed)) < 1e-12


def test_dmmse_with_one_task_knows_it_and_the_query_shortcut_agrees():
    rng = rng_from(5)
    X, w = rng.standard_normal((20, 6, 3)), rng.standard_normal((1, 3))
    y = X @ w[0]
    assert rel_error(B.dmmse_predictions(X, y, w, 0.25), y) < 1e-14
    pool = rng.standard_normal((5, 3))
    y = X @ pool[2] + 0.5 * rng.standard_normal((20, 6))
    last = B.dmmse_predictions(X, y, pool, 0.25)[:, -1]
    assert rel_error(B.dmmse_query(X[:, :-1], y[:, :-1], X[:, -1], pool, 0.25, chunk=7), last) < 1e-12
    # the wrong posterior: conditioning on the pair being predicted (i ≤ k) peeks at y_k
    pi = B.dmmse_weights(X, y, pool, 0.25)
    peek = np.exp(-np.cumsum((y[:, :, None] - np.einsum("nkd,md->nkm", X, pool)) ** 2, 1) / 0.5)
    peek /= peek.sum(2, keepdims=True)
    assert np.abs(pi - peek).max() > 1e-3


def test_dmmse_wins_on_the_pool_and_ridge_on_fresh_tasks():
    """Raventós et al.'s two regimes (D = 8, σ² = 0.25, a pool of 4): at the last of 16 positions
    dMMSE is better on pool tasks and ridge on fresh ones, by many standard errors."""
    rng = rng_from(6)
    pool = D.task_pool(rng, 4, 8)
    for p, dmmse_better in ((pool, True), (None, False)):
        S = D.sequences(rng, 1500, 15, 8, rho=0.25, pool=p, scale="raventos")
        X, y = np.concatenate([S.X, S.x_q[:, None]], 1), np.concatenate([S.y, S.y_q[:, None]], 1)
        target = np.einsum("nkd,nd->nk", X, S.w)[:, -1]
        e_d = (B.dmmse_predictions(X, y, pool, 0.25)[:, -1] - target) ** 2
        e_r = (B.ridge_predictions(X, y, 0.25)[:, -1] - target) ** 2
        diff = e_r - e_d if dmmse_better else e_d - e_r
        assert diff.mean() > 4 * diff.std() / np.sqrt(len(diff))
