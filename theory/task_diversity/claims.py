"""The ledger entries of the task-diversity topic (collected by ``theory/claims.py``)."""
from __future__ import annotations

import numpy as np

from ..core.registry import EXACT, Claim
from .asymptotics import icl_limit, ridgeless_icl
from .bayes import dmmse_weights, ridge_predictions
from .error import expected_error, monte_carlo_error, optimal_error, optimal_gamma
from .model import _design, lsa_gamma, lsa_prediction, predict, pretrain_gd, pretrain_ridge

LU = "Lu et al. 2024"
RAVENTOS = "Raventós et al. 2023"
PAPERS = {"lu": LU, "raventos": RAVENTOS}

__all__ = ["LU", "RAVENTOS", "PAPERS", "CLAIMS"]


def _check_limits(rng) -> float:
    """``lu-limits``: at τ = κ = ∞ the formula is ``(1+ρ)/(α+1+ρ) + ρ`` (relative error, random α, ρ);
    tests add that it approaches the limit continuously, tends to 1 + ρ as τ → 0 and diverges at τ = 1."""
    from ..core._validate import as_rng
    rng = as_rng(rng)
    alpha, rho = float(rng.uniform(0.2, 20)), float(rng.uniform(0, 1))
    want = icl_limit(alpha, rho)
    return abs(ridgeless_icl(alpha, np.inf, np.inf, rho) - want) / want


def _check_estimators(rng) -> float:
    """``raventos-estimators``: the dMMSE weights against Bayes' rule with the Gaussian likelihoods
    multiplied out (no logs), and ridge with λ = σ²/s² against the Gaussian posterior mean in
    kernel form ``s² Xᵀ(s² XXᵀ + σ² I)⁻¹ y`` (Woodbury) — worst relative error."""
    from ..core._validate import as_rng
    rng = as_rng(rng)
    n, K, D, M = 8, int(rng.integers(2, 7)), int(rng.integers(1, 5)), int(rng.integers(1, 6))
    s2, tau2 = float(rng.uniform(0.5, 2.0)), float(rng.uniform(0.5, 2.0))
    X, pool = rng.standard_normal((n, K, D)), rng.standard_normal((M, D))
    y = np.einsum("nkd,nd->nk", X, pool[rng.integers(0, M, n)]) + np.sqrt(s2) * rng.standard_normal((n, K))
    pi = dmmse_weights(X, y, pool, s2)
    dens = np.exp(-(y[:, :, None] - np.einsum("nkd,md->nkm", X, pool)) ** 2 / (2 * s2)) / np.sqrt(2 * np.pi * s2)
    lik = np.concatenate([np.ones((n, 1, M)), np.cumprod(dens, axis=1)[:, :-1]], 1)   # Π_{i<k} N(y_i; x_iᵀw, σ²)
    bayes = lik / lik.sum(2, keepdims=True)
    err = np.abs(pi - bayes).max()
    ridge = ridge_predictions(X, y, s2 / tau2)
    for k in range(1, K):
        Xk, yk = X[:, :k], y[:, :k]
        kernel = tau2 * np.einsum("nid,njd->nij", Xk, Xk) + s2 * np.eye(k)
        w = tau2 * np.einsum("nid,ni->nd", Xk, np.linalg.solve(kernel, yk[..., None])[..., 0])
        err = max(err, np.abs(np.einsum("nd,nd->n", X[:, k], w) - ridge[:, k]).max()
                  / np.abs(ridge[:, k]).max())
    return float(err)


def _check_error_formula(rng, samples: int = 40000) -> float:
    """``lu-error``: Monte Carlo against :func:`expected_error` for a random Γ, d, ℓ, ρ and task law
    (Gaussian, sphere, or a pool of 1-6 tasks): ``|ê − e| / (4 SE)``, below 1 passes."""
    from ..core._validate import as_rng
    from .data import task_pool
    rng = as_rng(rng)
    d, ell, rho = int(rng.integers(1, 6)), int(rng.integers(1, 10)), float(rng.choice([0.0, 0.25, 1.0]))
    kind = ("gaussian", "sphere", "pool")[int(rng.integers(3))]
    tasks = task_pool(rng, int(rng.integers(1, 7)), d, "gaussian") if kind == "pool" else kind
    G = rng.standard_normal((d, d + 1)) / d
    mean, se = monte_carlo_error(rng, G, ell, rho, samples, tasks)
    return abs(mean - expected_error(G, ell, rho, tasks)) / (4 * se)


def _check_optimum_is_one_gd_step(rng) -> float:
    """``lu-optimum``: for fresh Gaussian tasks the minimiser of the exact error is
    ``[γ* I | 0]``, ``γ* = 1/((1+ρ)/α + 1 + 1/ℓ)``, and ``d γ* I`` is the one-layer optimum Γ* of
    the preconditioned-GD topic at Σ = I/d, noise variance σ² = ρ; the minimum is ``1 + ρ − γ*`` (relative error)."""
    from ..core._validate import as_rng
    from ..preconditioned_gd.optimum import optimal_gamma as ahn_gamma
    rng = as_rng(rng)
    d, ell, rho = int(rng.integers(1, 9)), int(rng.integers(1, 40)), float(rng.uniform(0, 2))
    gamma = 1.0 / ((1 + rho) / (ell / d) + 1 + 1 / ell)
    G = optimal_gamma(d, ell, rho)
    want = np.hstack([gamma * np.eye(d), np.zeros((d, 1))])
    ahn = ahn_gamma(np.eye(d) / d, ell, noise_var=rho)
    return max(np.abs(G - want).max() / gamma, np.abs(ahn - d * want[:, :d]).max() / (d * gamma),
               abs(optimal_error(d, ell, rho) - (1 + rho - gamma)) / (1 + rho - gamma))


def _check_gd_reaches_ridge(rng) -> float:
    """``lu-pretraining``: GD on the pretraining loss against the closed-form ridge Γ (relative
    Frobenius), with enough steps that the contraction ``(1 − μ/L)^steps`` is below 1e-14."""
    from ..core._validate import as_rng
    from .data import sequences
    rng = as_rng(rng)
    d, ell = int(rng.integers(2, 5)), int(rng.integers(2, 9))
    S = sequences(rng, int(rng.integers(40, 120)), ell, d, rho=0.1, pool=None)
    lam = float(rng.uniform(0.05, 1.0))
    Phi = _design(S.X, S.y, S.x_q)
    n = len(Phi)
    s = np.linalg.eigvalsh(2 * Phi.T @ Phi / n + 2 * lam / d * np.eye(Phi.shape[1]))
    steps = int(np.ceil(np.log(1e-15) / np.log1p(-s[0] / s[-1]))) + 1
    G_gd = pretrain_gd(S.X, S.y, S.x_q, S.y_q, lam, steps, lr=1.0 / s[-1])
    G = pretrain_ridge(S.X, S.y, S.x_q, S.y_q, lam)
    return float(np.linalg.norm(G_gd - G) / np.linalg.norm(G))


def _check_lsa_reduction(rng) -> float:
    """``lu-lsa-reduction``: an LSA layer with value row ``(0, v_y)`` against ``⟨Γ, H_Z⟩``,
    ``Γ = v_y (D W[:, :d])ᵀ`` (relative error), random d, ℓ, V, W, data."""
    from ..core._validate import as_rng
    rng = as_rng(rng)
    d, ell, n = int(rng.integers(1, 7)), int(rng.integers(1, 12)), 16
    X, y, x_q = rng.standard_normal((n, ell, d)), rng.standard_normal((n, ell)), rng.standard_normal((n, d))
    V, W = rng.standard_normal((d + 1, d + 1)), rng.standard_normal((d + 1, d + 1))
    V[d, :d] = 0.0
    a = lsa_prediction(V, W, X, y, x_q)
    b = predict(lsa_gamma(V[d, d], W), X, y, x_q)
    return float(np.abs(a - b).max() / np.abs(a).max())


CLAIMS = (
    Claim("lu-lsa-reduction", LU,
          "one linear self-attention layer with value row (0, v_y), read at the query's label, is the reduced model "
          "ŷ = ⟨Γ, H_Z⟩, Γ = v_y (D W[:, :d])ᵀ, D = diag(1/d, …, 1/d, 1)",
          EXACT, "task_diversity", _check_lsa_reduction),
    Claim("lu-pretraining", LU,
          "gradient descent on the pretraining loss from Γ = 0 converges to the closed-form ridge Γ",
          EXACT, "task_diversity", _check_gd_reaches_ridge, tol=1e-12, max_instances=5,
          tol_note="GD run until its contraction bound (1 − μ/L)^t is below 1e-15"),
    Claim("lu-error", LU,
          "the exact finite-d error of any Γ, e = ρ + (1/d)[tr(Γ E[vvᵀ] Γᵀ) − 2 tr(Γ E[vwᵀ]) + E‖w‖²], for fresh "
          "Gaussian tasks, tasks on the sphere ‖w‖ = √d, and a finite pool (vs Monte Carlo)",
          EXACT, "task_diversity", _check_error_formula, tol=1.0, max_instances=8,
          measured_by="Monte Carlo", tol_note="passes when the Monte Carlo error (4e4 sequences) is within 4 standard errors of the formula"),
    Claim("lu-optimum", LU,
          "for fresh Gaussian tasks the best Γ is one GD step [γ* I | 0], γ* = 1/((1+ρ)/α + 1 + 1/ℓ), the "
          "preconditioned-GD topic's one-layer optimum at Σ = I/d; its error 1 + ρ − γ*",
          EXACT, "task_diversity", _check_optimum_is_one_gd_step),
    Claim("lu-limits", LU,
          "Result 1's ridgeless ICL error at τ = κ = ∞ is (1+ρ)/(α+1+ρ) + ρ, the d → ∞ error of the optimal "
          "one-step predictor",
          EXACT, "task_diversity", _check_limits),
    Claim("raventos-estimators", RAVENTOS,
          "dMMSE is the posterior mean over the task pool (Bayes' rule, no logs), ridge with λ = σ²/s² the "
          "Gaussian posterior mean (kernel form)",
          EXACT, "task_diversity", _check_estimators),
)
