"""von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers"
(arXiv 2309.05858): the mesa-layer, with its hand-written backward.

**Mesa-layer** (Sec. 5, Eq. (9)): per head, the ridge solution of in-context regression
from keys to values, ``Ŵ_t = (Σ_{t'<=t} v_{t'} k_{t'}^T)(Σ_{t'<=t} k_{t'} k_{t'}^T + I/λ)^{-1}``,
applied to the query: ``y_t = Ŵ_t q_t``.  ``R_t = (Σ_{t'<=t} k k^T + I/λ)^{-1}`` is updated
causally by Sherman–Morrison, ``R_0 = λ I``,
``R_t = R_{t-1} - R_{t-1} k_t k_t^T R_{t-1} / (1 + k_t^T R_{t-1} k_t)``; the backward
pass walks back in time with the downdate (:func:`downdate`).  The mesa-layer is causal
linear attention with the preconditioned query ``R_t q_t`` (the claim ``mesa-attention``).

Rows are tokens: ``K, V, Q`` are (B, T, d) arrays; matrices act on columns as in the paper.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import array, cache as _cache, finite_result, finite_scalar

__all__ = ["MAX_CONDITION", "MesaCache", "mesa_layer_forward", "mesa_layer_backward", "ridge_predictions", "downdate"]


# --------------------------------------------------------------------------- the mesa-layer
MAX_CONDITION = 1e10     # λ ||Σ k k^T|| above this: the ridge system is too close to singular


def _mesa_inputs(K, V, Q, lam):
    K = array("K", K, ndim=3)
    V = array("V", V, shape=K.shape[:2] + (None,))
    Q = array("Q", Q, shape=K.shape)
    lam = finite_scalar("lam", lam, positive=True)
    # ||C_t|| <= Σ_t ||k_t||²; with the ridge term I/λ tiny against it, the system is nearly
    # singular where the keys do not yet span (t < d_k), and the recursion from R_0 = λI
    # cancels: its relative error grows like 1e-16 · λ ||C|| (measured: 2e-4 at 1e12·24).
    scale = lam * float(np.max(np.sum(K * K, axis=(1, 2)), initial=0.0))
    if scale > MAX_CONDITION:
        raise ValueError(f"lam = {lam:.3g} makes the ridge term I/lam negligible against Σ k k^T "
                         f"(lam · ||Σ k k^T|| up to {scale:.3g} > {MAX_CONDITION:.0e}): the system is nearly "
                         f"singular and Sherman–Morrison would lose more than 6 digits; use lam <= "
                         f"{MAX_CONDITION / scale * lam:.3g}")
    return K, V, Q, lam


class MesaCache(NamedTuple):
    """What :func:`mesa_layer_backward` needs."""
    K: np.ndarray               # (B, T, d_k)
    V: np.ndarray               # (B, T, d_v)
    Q: np.ndarray               # (B, T, d_k)
    lam: float
    R: np.ndarray               # (B, T, d_k, d_k) R_t for t = 1..T
    scores: np.ndarray          # (B, T, T) causal u_t · k_{t'}
    u: np.ndarray               # (B, T, d_k) R_t q_t


@finite_result(with_cache=True)
def mesa_layer_forward(K, V, Q, lam: float):
    """One mesa-layer head: ``y_t = Ŵ_t q_t``, ``Ŵ_t = A_t R_t`` with ``A_t = Σ_{t'<=t} v k^T``
    and ``R_t = (Σ_{t'<=t} k k^T + I/λ)^{-1}`` by Sherman–Morrison from ``R_0 = λ I``.

    K, Q: (B, T, d_k) keys and queries; V: (B, T, d_v) values; λ > 0 (the ridge term is
    I/λ).  Returns ``y`` (B, T, d_v) and the cache for :func:`mesa_layer_backward`.

    Memory: the cache stores every ``R_t`` (B·T·d_k² floats: 10 MB at B = 256, T = 50,
    d_k = 10) and the causal scores (B·T² floats), and recomputes nothing in the backward
    pass; ``A_t`` is never formed (``y_t = A_t u_t`` is causal attention with query ``u_t``).  (The authors' code instead
    walks back with the downdate :func:`downdate` to keep only ``R_T``; with these sizes
    storing is cheaper than the extra T rank-one updates and avoids the downdate's
    cancellation when ``k^T R_t k`` is near 1.)
    """
    return _mesa_forward(*_mesa_inputs(K, V, Q, lam))


def _mesa_forward(K, V, Q, lam):
    """Unchecked kernel of :func:`mesa_layer_forward`."""
    B, T, dk = K.shape
    Kt = np.ascontiguousarray(K.transpose(1, 0, 2))        # (T, B, d_k): k_t contiguous per step
    R_by_t = np.empty((T, B, dk, dk), dtype=K.dtype)       # R_t for t = 1..T (K's precision: float64, or
    prev = np.broadcast_to(lam * np.eye(dk, dtype=K.dtype), (B, dk, dk))   # longdouble for a reference)  R_0 = λ I
    for t in range(T):                                     # Sherman–Morrison, causal
        k, Rt = Kt[t], R_by_t[t]
        Rk = np.einsum("bij,bj->bi", prev, k)              # (B, d_k) R_{t-1} k_t
        denom = 1.0 + np.einsum("bi,bi->b", k, Rk)         # 1 + k_t^T R_{t-1} k_t  (>= 1)
        np.multiply(Rk[:, :, None], (Rk / denom[:, None])[:, None, :], out=Rt)
        np.subtract(prev, Rt, out=Rt)                      # R_t = R_{t-1} − R k kᵀ R / denom
        prev = Rt
    R = R_by_t.transpose(1, 0, 2, 3)                       # (B, T, d_k, d_k) view
    u = (R @ Q[..., None])[..., 0]                         # (B, T, d_k) u_t = R_t q_t
    # y_t = A_t u_t with A_t = Σ_{t'<=t} v k^T, computed as causal attention (no A_t stored):
    scores = u @ np.swapaxes(K, 1, 2)                      # (B, T, T) u_t · k_{t'}
    scores *= np.tril(np.ones((T, T)))                     # t' <= t
    y = scores @ V                                         # (B, T, d_v)
    return y, MesaCache(K, V, Q, lam, R, scores, u)


@finite_result
def mesa_layer_backward(dy, cache):
    """Gradients ``(dK, dV, dQ, dλ)`` of :func:`mesa_layer_forward`.

    With ``M_t = C_t + I/λ`` (``C_t = Σ_{t'<=t} k k^T``), ``R_t = M_t^{-1}``, ``u_t = R_t q_t`` and
    the causal scores ``a_{tt'} = u_t · k_{t'}`` (t' <= t), ``y_t = Σ_{t'} a_{tt'} v_{t'}``:
    dv_{t'} = Σ_t a_{tt'} dy_t, da_{tt'} = dy_t · v_{t'}, du_t = Σ_{t'} da_{tt'} k_{t'},
    dq_t = R_t du_t (R symmetric), dM_t = -R_t du_t q_t^T R_t = -dq_t u_t^T, and with
    ``b_{tt'} = dq_t · k_{t'}`` (t' <= t):
    dk_{t'} = Σ_t da_{tt'} u_t + Σ_{t>=t'} (dM_t + dM_t^T) k_{t'} = Σ_t (da_{tt'} − b_{tt'}) u_t − a_{tt'} dq_t;
    dλ = -(1/λ²) Σ_t tr dM_t = (1/λ²) Σ_t dq_t · u_t.  Every sum over t is one batched
    (T × T) product, so no (B, T, d, d) array besides the stored R_t is formed.
    """
    _cache("cache", cache, MesaCache, "mesa_layer_forward")
    return _mesa_backward(array("dy", dy, shape=cache.V.shape), cache)


def _mesa_backward(dy, cache):
    """Unchecked kernel of :func:`mesa_layer_backward`."""
    K, V, Q, lam, R, scores, u = cache
    T = K.shape[1]
    mask = np.tril(np.ones((T, T)))
    dV = np.swapaxes(scores, 1, 2) @ dy                    # Σ_t a_{tt'} dy_t
    da = dy @ np.swapaxes(V, 1, 2)                         # (B, T, T) dy_t · v_{t'}
    da *= mask
    du = da @ K                                            # (B, T, d_k)
    dQ = (R @ du[..., None])[..., 0]                       # R_t du_t
    b = dQ @ np.swapaxes(K, 1, 2)                          # dq_t · k_{t'}
    b *= mask
    dK = np.swapaxes(da - b, 1, 2) @ u - np.swapaxes(scores, 1, 2) @ dQ
    dlam = float(np.einsum("bti,bti->", dQ, u)) / lam ** 2
    return dK, dV, dQ, dlam


@finite_result
def ridge_predictions(K, V, Q, lam: float) -> np.ndarray:
    """The same ``y_t = Ŵ_t q_t`` by solving ``(C_t + I/λ) u_t = q_t`` at every t directly
    (the batch ridge solve the recursion must equal).  (B, T, d_v)."""
    K, V, Q, lam = _mesa_inputs(K, V, Q, lam)
    dk = K.shape[2]
    C = np.cumsum(K[:, :, :, None] * K[:, :, None, :], axis=1) + np.eye(dk) / lam   # (B, T, d_k, d_k)
    u = np.linalg.solve(C, Q[..., None])[..., 0]
    A = np.cumsum(V[:, :, :, None] * K[:, :, None, :], axis=1)
    return np.einsum("btij,btj->bti", A, u)


@finite_result
def downdate(R, k) -> np.ndarray:
    """``R_{t-1} = R_t + R_t k k^T R_t / (1 - k^T R_t k)``: undo one Sherman–Morrison update
    (R (B, d, d), k (B, d)); ValueError where ``k^T R_t k`` is not below 1."""
    R = array("R", R, ndim=3)
    k = array("k", k, shape=R.shape[:2])
    Rk = np.einsum("bij,bj->bi", R, k)
    denom = 1.0 - np.einsum("bi,bi->b", k, Rk)
    if np.any(denom <= 0):
        raise ValueError("k^T R k must be < 1 for R to come from a Sherman–Morrison update with k; "
                         f"got {float(np.max(1 - denom)):.3g}")
    return R + Rk[:, :, None] * Rk[:, None, :] / denom[:, None, None]


def _mesa_instance(rng):
    B, T, dk, dv = 2, int(rng.integers(2, 12)), int(rng.integers(1, 6)), int(rng.integers(1, 4))
    K = rng.standard_normal((B, T, dk)) / np.sqrt(dk)
    return K, rng.standard_normal((B, T, dv)), rng.standard_normal((B, T, dk)), float(rng.uniform(0.1, 3.0))
