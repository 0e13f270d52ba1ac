"""von Oswald et al. 2023b, Sec. 4: reading what a trained model computes.

1. **RevAlg-1**: the 1-layer, 2-head model's products ``W_K^T W_Q`` and ``P W_V`` read as
   block-scalar × identity on the channel blocks (12 scalars: per head 4 for the
   query/key blocks {s_t, s_{t−1}}² and 2 for the value blocks into block 0); the model
   rebuilt from those scalars alone (:func:`revalg_layer`).
2. **Linear probes**: least squares from each layer's residual stream at each t to
   ``s_{t+1}`` and to the preconditioned input ``(S_{t−1} + λ I)^{-1} s_t``, fitted on one
   set of sequences and scored (R²) on another (the authors fit and score on one batch;
   docs/papers.md says so).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, positive_int
from .attention import _check_layer

__all__ = ["revalg_scalars", "revalg_layer", "probe_scores", "norm_inliers", "preconditioned_inputs"]


# --------------------------------------------------------------------------- RevAlg-1
def _block_means(M, D, rows, cols):
    """Mean diagonal of each D×D block (r, c) of M (width × width)."""
    return np.array([[np.trace(M[r * D:(r + 1) * D, c * D:(c + 1) * D]) / D for c in cols] for r in rows])


QK_BLOCKS, V_BLOCKS = (2, 3), (2, 3)       # blocks s_t, s_{t−1} (block 1 is zeroed in the 1-layer runs)


def revalg_scalars(layer, D: int) -> dict:
    """The 12 scalars of RevAlg-1 from a 1-layer, 2-head model: per head, the mean diagonals
    of ``W_K^T W_Q`` on key blocks × query blocks {s_t, s_{t−1}} (2×2) and of ``P W_V`` from
    those blocks into block 0 (2); and the fraction of each product's squared norm that the
    block-scalar form keeps (1 = the product is exactly block scalar × identity)."""
    D = positive_int("D", D)
    try:
        layer = _check_layer(np.zeros((1, 1, 4 * D)), layer)[1]
    except ValueError as err:
        raise ValueError(f"layer: {err}") from None
    kq = np.einsum("hkd,hke->hde", layer["W_K"], layer["W_Q"])         # (H, width, width): e'^T M e
    pv = np.einsum("hdk,hke->hde", layer["P"], layer["W_V"])
    out = dict(qk=[], pv=[], qk_kept=[], pv_kept=[])
    for h in range(kq.shape[0]):
        a = _block_means(kq[h], D, QK_BLOCKS, QK_BLOCKS)
        b = _block_means(pv[h], D, (0,), V_BLOCKS)[0]
        out["qk"].append(a)
        out["pv"].append(b)
        out["qk_kept"].append(np.sum(a ** 2) * D / np.sum(kq[h] ** 2))
        out["pv_kept"].append(np.sum(b ** 2) * D / np.sum(pv[h] ** 2))
    return {k: np.array(v) for k, v in out.items()}


@finite_result
def revalg_layer(scalars: dict, D: int) -> dict:
    """A layer whose products are exactly the block-scalar form of ``scalars``: per head
    ``W_K = I``, ``W_Q = Σ a_{rc} I`` on blocks (r, c), ``W_V = Σ b_c I`` from block c into
    block 0, ``P = I`` (key size = width; attention depends on the weights only through
    ``W_K^T W_Q`` and ``P W_V``)."""
    if not isinstance(scalars, dict) or not {"qk", "pv"} <= set(scalars):
        raise ValueError(f"scalars must be a dict with 'qk' and 'pv' (from revalg_scalars); got {scalars!r:.60}")
    qk = array("scalars['qk']", scalars["qk"], shape=(None, 2, 2))
    pv = array("scalars['pv']", scalars["pv"], shape=(qk.shape[0], 2))
    D = positive_int("D", D)
    H, width, I = qk.shape[0], 4 * D, np.eye(D)
    W_Q, W_V = np.zeros((H, width, width)), np.zeros((H, width, width))
    for h in range(H):
        for i, r in enumerate(QK_BLOCKS):
            for j, c in enumerate(QK_BLOCKS):
                W_Q[h, r * D:(r + 1) * D, c * D:(c + 1) * D] = qk[h, i, j] * I
        for j, c in enumerate(V_BLOCKS):
            W_V[h, :D, c * D:(c + 1) * D] = pv[h, j] * I
    eye = np.broadcast_to(np.eye(width), (H, width, width)).copy()
    return {"W_Q": W_Q, "W_K": eye, "W_V": W_V, "P": eye.copy()}


# --------------------------------------------------------------------------- linear probes
@finite_result
def preconditioned_inputs(S, lam: float = 1e-3) -> np.ndarray:
    """``(S_{t−1} + λ I)^{-1} s_t`` with ``S_{t−1} = Σ_{t'<t} s_{t'} s_{t'}^T`` (S_0 = 0): the
    vector the mesa-layer's query becomes (λ = 0.001 as in the authors' probes).  (B, T, D)."""
    S = array("S", S, ndim=3)
    B, T, D = S.shape
    lam = finite_scalar("lam", lam, positive=True)
    outer = np.cumsum(S[:, :, :, None] * S[:, :, None, :], axis=1)
    prev = np.concatenate([np.zeros((B, 1, D, D)), outer[:, :-1]], axis=1) + lam * np.eye(D)
    return np.linalg.solve(prev, S[..., None])[..., 0]


@finite_result
def probe_scores(X_fit, Y_fit, X_test, Y_test, *, keep_fit=None, keep_test=None) -> np.ndarray:
    """Held-out R² of least-squares probes (with a bias) fitted per position:
    X (N, T, w) residual streams, Y (N, T, D) targets; returns (T,) with
    ``R² = 1 − Σ||Y − X W||² / Σ||Y − Ȳ||²`` on the test set (Ȳ its mean).  ``keep_fit`` /
    ``keep_test`` (N, T) booleans: the sequences that count at each t (default all)."""
    X_fit = array("X_fit", X_fit, ndim=3)
    Y_fit = array("Y_fit", Y_fit, shape=X_fit.shape[:2] + (None,))
    X_test = array("X_test", X_test, shape=(None, X_fit.shape[1], X_fit.shape[2]))
    Y_test = array("Y_test", Y_test, shape=X_test.shape[:2] + (Y_fit.shape[2],))
    w_fit = _keep("keep_fit", keep_fit, X_fit.shape[:2])
    w_test = _keep("keep_test", keep_test, X_test.shape[:2])
    add1 = lambda X: np.concatenate([X, np.ones(X.shape[:2] + (1,))], axis=2).transpose(1, 0, 2)   # (T, N, w+1)
    Xf, Xt, Yf, Yt = add1(X_fit), add1(X_test), Y_fit.transpose(1, 0, 2), Y_test.transpose(1, 0, 2)
    wf, wt = w_fit.T[..., None], w_test.T[..., None]                    # (T, N, 1)
    W = np.linalg.pinv(wf * Xf, rcond=1e-10) @ (wf * Yf)               # (T, w+1, D) least squares on the kept
    mean = (wt * Yt).sum(axis=1, keepdims=True) / wt.sum(axis=1, keepdims=True)
    sse = np.sum(wt * (Yt - Xt @ W) ** 2, axis=(1, 2))
    sst = np.sum(wt * (Yt - mean) ** 2, axis=(1, 2))
    return 1.0 - sse / sst


def _keep(name, keep, shape):
    if keep is None:
        return np.ones(shape)
    keep = np.asarray(keep)
    if keep.dtype != bool or keep.shape != shape:
        raise ValueError(f"{name} must be a boolean array of shape {shape}; got {keep.dtype} {keep.shape}")
    if not keep.any(axis=0).all():
        raise ValueError(f"{name} must keep at least one sequence at every position")
    return keep.astype(float)


@finite_result
def norm_inliers(Y, z: float = 3.0) -> np.ndarray:
    """``|z-score of ||y||| <= z`` at each position, over the sequences: (N, T) booleans (the
    authors' outlier rule for the preconditioned target, whose norm has a heavy tail)."""
    Y = array("Y", Y, ndim=3)
    z = finite_scalar("z", z, positive=True)
    n = np.linalg.norm(Y, axis=2)
    sd = n.std(axis=0)
    return np.abs(n - n.mean(axis=0)) <= z * np.where(sd > 0, sd, 1.0)
