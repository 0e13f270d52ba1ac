"""Raventós et al. 2023's two Bayes estimators, at every position of a sequence.

For a sequence ``(x_1, y_1), …, (x_K, y_K)`` with ``y = wᵀx + ε``, ``ε ~ N(0, σ²)``, the
prediction at position k uses the k − 1 pairs before it:

- **dMMSE** (the posterior mean when w is uniform over the pretraining pool
  ``w^(1), …, w^(M)``): ``ŵ_k = Σ_m π_{k,m} w^(m)``,
  ``π_{k,m} ∝ exp(−Σ_{i<k} (y_i − x_iᵀw^(m))² / (2σ²))`` (a stable log-sum-exp); at k = 1 the
  plain pool mean.
- **Ridge** (the posterior mean when ``w ~ N(0, s² I)``): ``ŵ_k = (X_{<k}ᵀX_{<k} + λI)⁻¹
  X_{<k}ᵀ y_{<k}`` with ``λ = σ²/s²``; at k = 1 it predicts 0.

Their metric is the squared error against the noiseless target ``x_kᵀw``, divided by the
dimension D, per position (:func:`position_errors`).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, positive_int

__all__ = ["dmmse_weights", "dmmse_predictions", "dmmse_query", "ridge_predictions", "position_errors"]


def _sequence(X, y):
    X = array("X", X, ndim=3)
    return X, array("y", y, shape=X.shape[:2])


@finite_result
def dmmse_weights(X, y, pool, noise_var: float) -> np.ndarray:
    """``π_{k,m}`` (n, K, M): the posterior over the pool after the k − 1 pairs before position k."""
    X, y = _sequence(X, y)
    pool = array("pool", pool, ndim=2)
    if pool.shape[1] != X.shape[2]:
        raise ValueError(f"pool must have D = {X.shape[2]} columns; got shape {pool.shape}")
    s2 = finite_scalar("noise_var", noise_var, positive=True)
    r = y[:, :, None] - np.einsum("nkd,md->nkm", X, pool)                        # residuals (n, K, M)
    loglik = -np.cumsum(r * r, axis=1) / (2 * s2)                                # Σ_{i≤k}  (n, K, M)
    loglik = np.concatenate([np.zeros_like(loglik[:, :1]), loglik[:, :-1]], 1)  # Σ_{i<k}
    loglik -= loglik.max(axis=2, keepdims=True)                                  # log-sum-exp shift
    p = np.exp(loglik)
    return p / p.sum(axis=2, keepdims=True)


@finite_result
def dmmse_predictions(X, y, pool, noise_var: float) -> np.ndarray:
    """``ŷ_k = x_kᵀ ŵ_k`` (n, K) with the dMMSE ``ŵ_k = Σ_m π_{k,m} w^(m)``."""
    pi = dmmse_weights(X, y, pool, noise_var)
    return np.einsum("nkm,md,nkd->nk", pi, np.asarray(pool, float), np.asarray(X, float))


@finite_result
def dmmse_query(X, y, x_q, pool, noise_var: float, *, chunk: int = 512) -> np.ndarray:
    """The dMMSE prediction at the query after all ℓ pairs (n,), from the sufficient statistics
    ``‖y − Xw‖² = yᵀy − 2 wᵀXᵀy + wᵀXᵀXw`` (O(n k d²) time, no (n, ℓ, k) array)."""
    X, y = _sequence(X, y)
    pool = array("pool", pool, shape=(None, X.shape[2]))
    x_q = array("x_q", x_q, shape=(X.shape[0], X.shape[2]))
    s2 = finite_scalar("noise_var", noise_var, positive=True)
    chunk = positive_int("chunk", chunk)
    out = np.empty(len(X))
    for s in range(0, len(X), chunk):
        Xc, yc = X[s:s + chunk], y[s:s + chunk]
        XtX, Xty = np.einsum("nid,nie->nde", Xc, Xc), np.einsum("nid,ni->nd", Xc, yc)
        sq = (np.einsum("ni,ni->n", yc, yc)[:, None] - 2 * Xty @ pool.T
              + np.einsum("md,nde,me->nm", pool, XtX, pool, optimize=True))           # ‖y − X w_m‖²  (c, k)
        logp = -sq / (2 * s2)
        p = np.exp(logp - logp.max(1, keepdims=True))
        out[s:s + chunk] = np.einsum("nm,md,nd->n", p / p.sum(1, keepdims=True), pool, x_q[s:s + chunk])
    return out


@finite_result
def ridge_predictions(X, y, lam: float) -> np.ndarray:
    """``ŷ_k = x_kᵀ (X_{<k}ᵀX_{<k} + λI)⁻¹ X_{<k}ᵀ y_{<k}`` (n, K); ŷ_1 = 0 (λ = σ²/s²)."""
    X, y = _sequence(X, y)
    lam = finite_scalar("lam", lam, positive=True)
    n, K, D = X.shape
    outer = np.cumsum(np.einsum("nkd,nke->nkde", X, X), axis=1)                 # Σ_{i≤k} x xᵀ (n, K, D, D)
    xy = np.cumsum(X * y[:, :, None], axis=1)                                    # Σ_{i≤k} y x   (n, K, D)
    w = np.linalg.solve(outer[:, :-1] + lam * np.eye(D), xy[:, :-1, :, None])[..., 0]   # ŵ_k, k ≥ 2
    return np.concatenate([np.zeros((n, 1)), np.einsum("nkd,nkd->nk", X[:, 1:], w)], 1)


@finite_result
def position_errors(predictions, X, w) -> np.ndarray:
    """``E (ŷ_k − x_kᵀw)² / D`` per position (K,): Raventós et al.'s metric."""
    X = array("X", X, ndim=3)
    P = array("predictions", predictions, shape=X.shape[:2])
    w = array("w", w, shape=(X.shape[0], X.shape[2]))
    return ((P - np.einsum("nkd,nd->nk", X, w)) ** 2).mean(0) / X.shape[2]
