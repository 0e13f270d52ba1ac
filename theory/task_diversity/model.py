"""Lu et al. 2024's reduced linear-attention model and its pretraining.

One layer of linear self-attention, read at the query's label slot, predicts

    ŷ = ⟨Γ, H_Z⟩,   H_Z = x_q [ (d/ℓ) Σ_i y_i x_iᵀ ,  (1/ℓ) Σ_i y_i² ]  ∈ R^{d×(d+1)},       (Lu et al., Sec. II)

i.e. ``ŷ = x_qᵀ Γ v`` with ``v = [(d/ℓ) Σ y_i x_i ; (1/ℓ) Σ y_i²]`` ∈ R^{d+1}
(:func:`context_vector`).  :func:`lsa_prediction` is the layer itself
``ŷ = [Z + (1/ℓ) V Z Zᵀ W Z]_{d+1, q}`` (tokens ``z = (x, y)``, the query ``(x_q, 0)`` among
them): when V's last row is ``(0, …, 0, v_y)`` it equals ``⟨Γ, H_Z⟩`` with
``Γ = v_y (D W[:, :d])ᵀ``, ``D = diag(1/d, …, 1/d, 1)`` (:func:`lsa_gamma`; claim
``lu-lsa-reduction``).

Pretraining on n sequences minimises ``Σ_μ (y_μ − ⟨Γ, H_μ⟩)² + (n/d) λ ‖Γ‖²_F`` (the
authors' ridge scaling): a least-squares problem in the p = d(d+1) entries of Γ,
solved in closed form (:func:`pretrain_ridge`: O(n p² + p³) = O(n d⁴ + d⁶) time, O(n d²)
memory in chunks; λ = 0 gives the minimum-norm solution, the ridgeless limit λ → 0⁺), or
by gradient descent from Γ = 0 (:func:`pretrain_gd`, hand-written gradient), which converges
to the same Γ.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, positive_int
from ..core._workers import load_adapted_blas

__all__ = ["context_vector", "features", "predict", "lsa_prediction", "lsa_gamma", "pretraining_loss",
           "pretrain_ridge", "pretrain_gd"]


def _context(X, y):
    X = array("X", X, ndim=3)
    y = array("y", y, shape=X.shape[:2])
    return X, y


def context_vector(X, y) -> np.ndarray:
    """``v = [(d/ℓ) Σ_i y_i x_i ; (1/ℓ) Σ_i y_i²]`` (n, d+1) of contexts X (n, ℓ, d), y (n, ℓ)."""
    X, y = _context(X, y)
    n, ell, d = X.shape
    return np.concatenate([(d / ell) * np.einsum("ni,nid->nd", y, X),           # (d/ℓ) Σ y_i x_i   (n, d)
                           (np.einsum("ni,ni->n", y, y) / ell)[:, None]], 1)     # (1/ℓ) Σ y_i²      (n, 1)


def features(X, y, x_q) -> np.ndarray:
    """``H_Z = x_q vᵀ`` (n, d, d+1)."""
    v = context_vector(X, y)
    x_q = array("x_q", x_q, shape=v[:, :-1].shape)
    return np.einsum("na,nb->nab", x_q, v)


def _gamma(Gamma, d):
    return array("Gamma", Gamma, shape=(d, d + 1))


@finite_result
def predict(Gamma, X, y, x_q) -> np.ndarray:
    """``ŷ = ⟨Γ, H_Z⟩ = x_qᵀ Γ v`` (n,)."""
    v = context_vector(X, y)
    d = v.shape[1] - 1
    x_q = array("x_q", x_q, shape=(len(v), d))
    return np.einsum("na,ab,nb->n", x_q, _gamma(Gamma, d), v)


@finite_result
def lsa_prediction(V, W, X, y, x_q) -> np.ndarray:
    """One linear self-attention layer ``Z + (1/ℓ) V Z Zᵀ W Z`` (tokens as columns, the query
    ``(x_q, 0)`` the last one and among the keys), read at the query's label slot (n,).
    V, W are (d+1, d+1)."""
    X, y = _context(X, y)
    n, ell, d = X.shape
    V, W = array("V", V, shape=(d + 1, d + 1)), array("W", W, shape=(d + 1, d + 1))
    x_q = array("x_q", x_q, shape=(n, d))
    Z = np.concatenate([np.concatenate([X, y[:, :, None]], 2),
                        np.concatenate([x_q, np.zeros((n, 1))], 1)[:, None]], 1)   # (n, ℓ+1, d+1) tokens as rows
    M = np.einsum("nia,nib->nab", Z, Z)                                            # Σ_i z_i z_iᵀ  (n, d+1, d+1)
    z_q = Z[:, -1]
    return z_q[:, d] + np.einsum("b,nbc,cd,nd->n", V[d], M, W, z_q) / ell


def lsa_gamma(v_y: float, W) -> np.ndarray:
    """``Γ = v_y (D W[:, :d])ᵀ``, ``D = diag(1/d, …, 1/d, 1)``: the reduced model of the layer
    whose value matrix has last row ``(0, …, 0, v_y)``."""
    v_y = finite_scalar("v_y", v_y)
    W = array("W", W, ndim=2)
    d = W.shape[0] - 1
    if W.shape != (d + 1, d + 1) or d < 1:
        raise ValueError(f"W must be square of size d + 1 >= 2; got shape {W.shape}")
    D = np.r_[np.full(d, 1.0 / d), 1.0]
    return v_y * (D[:, None] * W[:, :d]).T


def _design(X, y, x_q):
    H = features(X, y, x_q)
    return H.reshape(len(H), -1)                       # (n, p), p = d(d+1), row-major vec(H)


@finite_result
def pretraining_loss(Gamma, X, y, x_q, y_q, lam: float = 0.0):
    """``(1/n) Σ_μ (⟨Γ, H_μ⟩ − y_μ)² + (λ/d) ‖Γ‖²_F`` and its gradient
    ``(2/n) Σ_μ r_μ H_μ + (2λ/d) Γ`` (the ridge objective divided by n)."""
    H = features(X, y, x_q)
    G = _gamma(Gamma, H.shape[1])
    y_q = array("y_q", y_q, shape=(len(H),))
    return _pretraining_loss(G, H, y_q, finite_scalar("lam", lam, nonnegative=True))


def _pretraining_loss(G, H, y_q, lam: float):
    """Unchecked kernel of :func:`pretraining_loss`, on the features H (n, d, d+1)."""
    n, d = H.shape[:2]
    r = np.einsum("nab,ab->n", H, G) - y_q                           # residuals (n,)
    loss = float(r @ r / n + lam / d * np.sum(G * G))
    return loss, 2.0 / n * np.einsum("n,nab->ab", r, H) + 2.0 * lam / d * G


@finite_result
@load_adapted_blas                                 # a dense solve: fewer BLAS threads when the cores are busy
def pretrain_ridge(X, y, x_q, y_q, lam: float = 0.0, *, chunk: int = 4096) -> np.ndarray:
    """The pretrained Γ (d, d+1): ``argmin Σ (y_μ − ⟨Γ, H_μ⟩)² + (n/d) λ ‖Γ‖²_F``.
    λ > 0, or λ = 0 with n ≥ p = d(d+1): the normal equations ``(ΦᵀΦ + (n/d) λ I) vec Γ = Φᵀ y``
    accumulated in chunks of sequences; λ = 0 with n < p: the minimum-norm interpolator
    ``Φᵀ(ΦΦᵀ)⁻¹ y``, the limit λ → 0⁺.  (The interpolation threshold is n = p = d(d+1), i.e.
    τ = 1 + 1/d at finite d.)"""
    lam = finite_scalar("lam", lam, nonnegative=True)
    chunk = positive_int("chunk", chunk)
    X, y = _context(X, y)
    n, _, d = X.shape
    y_q = array("y_q", y_q, shape=(n,))
    x_q = array("x_q", x_q, shape=(n, d))
    p = d * (d + 1)
    if lam == 0.0 and n < p:                       # under-determined: Γ = Φᵀ(ΦΦᵀ)⁻¹ y, the minimum norm
        Phi = _design(X, y, x_q)
        return (Phi.T @ np.linalg.solve(Phi @ Phi.T, y_q)).reshape(d, d + 1)
    G, b = (n / d) * lam * np.eye(p), np.zeros(p)
    for s in range(0, n, chunk):
        Phi = _design(X[s:s + chunk], y[s:s + chunk], x_q[s:s + chunk])    # (c, p)
        G += Phi.T @ Phi
        b += Phi.T @ y_q[s:s + chunk]
    return np.linalg.solve(G, b).reshape(d, d + 1)


def pretrain_gd(X, y, x_q, y_q, lam: float, steps: int, lr: float | None = None) -> np.ndarray:
    """Gradient descent on :func:`pretraining_loss` from Γ = 0 (``lr`` defaults to 1/smoothness,
    ``1 / (2 σ_max(ΦᵀΦ)/n + 2λ/d)``).  It converges to :func:`pretrain_ridge` (λ > 0), or to
    the minimum-norm solution (λ = 0: GD from 0 stays in the row space of Φ)."""
    steps = positive_int("steps", steps)
    lam = finite_scalar("lam", lam, nonnegative=True)
    H = features(X, y, x_q)                                          # (n, d, d+1), once
    n, d = H.shape[:2]
    y_q = array("y_q", y_q, shape=(n,))
    if lr is None:
        lr = 1.0 / (2.0 * np.linalg.norm(H.reshape(n, -1), 2) ** 2 / n + 2.0 * lam / d)
    lr = finite_scalar("lr", lr, positive=True)
    G = np.zeros((d, d + 1))
    for _ in range(steps):
        G = G - lr * _pretraining_loss(G, H, y_q, lam)[1]
    return G
