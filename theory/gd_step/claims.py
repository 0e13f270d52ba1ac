"""The ledger entries of von Oswald et al. 2023 and of Zhang, Frei & Bartlett 2024's
one-layer optimum (collected by ``theory/claims.py``)."""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng, positive_int
from ..core.gradcheck import norm, rel_error
from ..core.registry import EMPIRICAL, EXACT, Claim
from .closed_forms import (_expected_S_squared, exact_one_step, optimal_one_step, random_covariance,
    single_input_moments, zfb_gamma)
from .comparison import compare_to_gd
from .construction import _random_regression, gd_construction, gd_predict, gdpp_construction, gdpp_predict
from .data import uniform_moments
from .lsa import readout, stack_forward, tokens
from .training import train_lsa

VO = "von Oswald et al. 2023"
ZFB = "Zhang, Frei & Bartlett 2024"
PAPERS = {"vo": VO, "zfb": ZFB}

__all__ = ["VO", "ZFB", "PAPERS", "CLAIMS"]


LSA_RESTARTS = 3      # quick runs per instance; the check reads the best


def _trained_lsa_excess(rng) -> float:
    """Relative excess loss of a quickly trained 1-layer LSA over GD at the closed-form η*: the
    smallest over :data:`LSA_RESTARTS` runs from independent seeds.  Measured over 120 seeds
    at these settings, 20 runs (17 %) stay on the plateau of the zero predictor (loss ≈ 0.4,
    excess 0.7–1.0) for all 400 steps — larger or smaller inits and rates 1e-3 … 1e-2 do not
    remove it, and one such seed (11) is still there after 2,000 steps at the authors' lr 1e-3
    and batch 2048 — so one run is not a measurement of what training reaches.  What decides
    it (measured on the 15 of the first 120 seeds that stay): the data, not the initial
    weights — the same init with another task stream escapes in 13 of 15, and replacing only
    the *first* of the 400 batches by another stream's frees 11 of 15 (init scales 0.002, 0.02
    and 0.1 each leave 11–13 % stuck).  A stuck run is not at zero: its K, Q and the values'
    y-row grow to ~0.2 while the two entries the GD solution needs, tr(W_KᵀW_Q)/d on the x block
    and W_V[y, y], stay below 0.01.  Why the first batch sends it there is unknown."""
    best = np.inf
    for _ in range(LSA_RESTARTS):
        seed = int(rng.integers(2**31))
        r = train_lsa(1, steps=400, batch=512, lr=3e-3, rng=seed)
        c = compare_to_gd(r, n_tasks=4000, rng=seed + 1)
        best = min(best, (c.tf_loss - c.gd_loss) / c.gd_loss)
    return float(best)


def _check_optimal_step(rng: np.random.Generator) -> float:
    """Relative error of :func:`optimal_one_step` (the closed form) against
    :func:`exact_one_step` (quadrature) for random 2 <= d, N <= 10 and a in [0.2, 2]: both
    ``b*`` and ``L*``.  Exact up to round-off (the Monte Carlo version is in the tests)."""
    rng = as_rng(rng)
    d, N = int(rng.integers(2, 11)), int(rng.integers(2, 11))
    a = float(rng.uniform(0.2, 2.0))
    b_star, loss_star = optimal_one_step(d, N, *uniform_moments(a))
    b_exact, loss_exact = exact_one_step(d, N, a)
    return max(abs(b_exact - b_star) / b_star, abs(loss_exact - loss_star) / loss_star)


def _check_zfb_moment(rng: np.random.Generator) -> float:
    """``E[Ŝ²] = Λ Γ`` for x ~ N(0, Λ), 1 <= d <= 4, 1 <= N <= 8: relative error of the
    closed form against the exact expectation (quadrature).  Exact up to round-off."""
    rng = as_rng(rng)
    d, N = int(rng.integers(1, 5)), int(rng.integers(1, 9))
    cov = random_covariance(rng, d)
    M2, M4 = single_input_moments(d, cov=cov)
    return rel_error(_expected_S_squared(M2, M4, N), cov @ zfb_gamma(cov, N))


def _check_gd_step(rng: np.random.Generator, steps: int | None = None) -> float:
    """Relative error of "K constructed LSA layers = K GD steps from W0 ≠ 0" on the
    prediction and on every context token's y-slot (``y_i - (W_K - W0) x_i``)."""
    rng = as_rng(rng)
    K = None if steps is None else positive_int("steps", steps)
    X, Y, xq = _random_regression(rng)
    d, d_out, N = X.shape[2], Y.shape[2], X.shape[1]
    K = int(rng.integers(2, 5)) if K is None else K
    W0 = rng.standard_normal((d_out, d))
    eta = float(rng.uniform(0.1, 1.5))
    out, _ = stack_forward(tokens(X, Y, xq, W0), gd_construction(d, d_out, N, eta, W0), K, N,
                           shared=True)
    y_hat, W = gd_predict(X, Y, xq, eta, K, W0)
    moved = X @ np.swapaxes(W - W0, 1, 2)                  # (W_K - W0) x_i
    residual = Y - moved                                   # y_i - (W_K - W0) x_i: may cancel, so
    operands = max(norm(Y), norm(moved))                   # measured against its operands
    return max(rel_error(readout(out, d), y_hat), rel_error(out[:, :N, d:], residual, scale=operands),
               rel_error(out[:, :, :d], np.concatenate([X, xq[:, None]], axis=1)))


def _check_gdpp(rng: np.random.Generator) -> float:
    """Relative error of an L-layer GD++ construction against :func:`gdpp_predict`."""
    rng = as_rng(rng)
    X, Y, xq = _random_regression(rng, d_out_max=1)
    d, N = X.shape[2], X.shape[1]
    L = int(rng.integers(1, 4))
    etas, gammas = rng.uniform(0.1, 1.5, L), rng.uniform(0.0, 0.5, L)
    params = {}
    for layer in range(L):
        params.update({k + str(layer): v for k, v in gdpp_construction(d, 1, N, etas[layer], gammas[layer]).items()})
    out, _ = stack_forward(tokens(X, Y, xq), params, L, N)
    y_hat, (Xs, R, xqs) = gdpp_predict(X, Y, xq, etas, gammas, return_state=True)
    state = tokens(Xs, R, xqs)                             # context (x_i, r_i), query (x_q, 0)
    state[:, -1, d:] = -y_hat                              # ... and the query's y-slot is -ŷ
    return rel_error(out, state)                           # the whole token state


CLAIMS = (
    Claim("vo-gd-step", VO,
          "constructed LSA layer = one GD step from W0 ≠ 0: ŷ = (W0 + ΔW) x_q, y-slots y_i - ΔW x_i",
          EXACT, "gd_step", lambda rng: _check_gd_step(rng, steps=1)),
    Claim("vo-k-steps", VO,
          "the same layer applied K times (K = 2..4) = K GD steps",
          EXACT, "gd_step", _check_gd_step),
    Claim("vo-gdpp", VO,
          "GD++ layers: x ← (I - γ Σ x_i x_i^T) x for every token, then GD on the new inputs",
          EXACT, "gd_step", _check_gdpp),
    Claim("vo-optimal-eta", VO,
          "best one-step η: b* = N s²/(m4 + (d+N-2)s⁴), L* = ½ d s² (1 - s⁴/c) (vs exact quadrature)",
          EXACT, "gd_step", _check_optimal_step),
    Claim("zfb-moment", ZFB,
          "x ~ N(0, Λ): E[Ŝ²] = Λ Γ, Γ = (1 + 1/N) Λ + (tr Λ / N) I (vs exact quadrature)",
          EXACT, "gd_step", _check_zfb_moment),
    Claim("vo-trained-lsa", VO,
          "a 1-layer LSA trained by Adam reaches the loss of one GD step at η* (quick run)",
          EMPIRICAL, "gd_step", _trained_lsa_excess, tol=0.05, max_instances=1,
          measured_by="training run", tol_note="quick runs (400 steps, batch 512, the best of 3 seeds: about one run in six stays on the "
                   "zero predictor's plateau for all 400 steps): relative excess of the trained loss over GD at η*; "
                   "`python -m theory reproduce gd-step` gives the full figures"),
)
