"""von Oswald et al. 2023b, the rest of Sec. 4–5 on the trained constructed-token models:
how sparse their weights are, the path from the trained 1-layer model to RevAlg-1, and
supervised few-shot regression with the autoregressive model, without retraining.

1. **Sparsity.**  Each head's products ``W_K^T W_Q`` and ``P W_V`` (the matrices the
   attention depends on), and the share of their entries above ``threshold`` × the largest
   entry of that product (:func:`weight_sparsity`).  The paper reports the trained weights
   "extremely sparse"; the threshold it applies is not in the authors' code, so ours is a
   named setting (1 % of the largest entry by default).
2. **Interpolation.**  A layer reads its weights only through those products, so the
   trained layer and RevAlg-1 (:func:`theory.mesa.analysis.revalg_layer`) can be joined on a
   straight line of products, ``(1 − α) M_trained + α M_RevAlg``, realised as a layer with
   ``W_K = P = I`` (:func:`interpolated_layer`; α = 0 is the trained model to round-off, α = 1
   RevAlg-1).  The authors' interpolation experiment averages the two models' attention
   logits (α = 0.5 on ``W_K^T W_Q``) while it retrains; the whole line is ours.
3. **Few-shot regression.**  Pairs ``(x_i, y_i = W x_i)``, ``x_i ~ U(−1, 1)^D``, W random
   orthogonal (the training distribution's matrices), laid out as the sequence
   ``x_1, y_1, x_2, y_2, …`` (:func:`fewshot_sequences`) and read by the autoregressive model
   as it was trained: its prediction at the position of ``x_i`` is its guess of ``y_i``.
   The error after i − 1 pairs is set beside least squares on those pairs and one GD step
   from W = 0 (η fitted): :func:`fewshot_losses`.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, finite_result, finite_scalar, positive_int, probability
from .attention import _check_layer
from .data import _random_orthogonal
from .training import MesaConfig, _config, predict

__all__ = ["weight_sparsity", "interpolated_layer", "fewshot_sequences", "fewshot_losses", "FEWSHOT_ETA_GRID"]

FEWSHOT_ETA_GRID = tuple(float(e) for e in np.geomspace(1e-3, 3.0, 41))


def _products(layer):
    """Each head's ``W_K^T W_Q`` and ``P W_V`` (the layer's width read from its ``W_Q``)."""
    if not isinstance(layer, dict) or "W_Q" not in layer:
        raise ValueError(f"a layer must be a dict of W_Q, W_K, W_V, P (init_layer); got {layer!r:.60}")
    width = np.shape(layer["W_Q"])[-1] if np.ndim(layer["W_Q"]) == 3 else 0
    layer = _check_layer(np.zeros((1, 1, max(width, 1))), layer)[1]
    kq = np.einsum("hkd,hke->hde", layer["W_K"], layer["W_Q"])         # W_K^T W_Q per head (H, width, width)
    pv = np.einsum("hdk,hke->hde", layer["P"], layer["W_V"])           # P W_V per head
    return kq, pv


def weight_sparsity(layer, threshold: float = 0.01) -> dict:
    """Per head, the share of the entries of ``W_K^T W_Q`` and of ``P W_V`` whose magnitude
    exceeds ``threshold`` × the largest magnitude in that product: ``{"qk": (H,), "pv": (H,)}``."""
    threshold = probability("threshold", threshold)
    try:
        kq, pv = _products(layer)
    except ValueError as err:
        raise ValueError(f"layer: {err}") from None
    share = lambda M: (np.abs(M) > threshold * np.abs(M).max(axis=(1, 2), keepdims=True)).mean(axis=(1, 2))
    return {"qk": share(kq), "pv": share(pv)}


@finite_result
def interpolated_layer(trained, revalg, alpha: float) -> dict:
    """The layer whose products are ``(1 − α)`` × the trained layer's plus ``α`` × RevAlg-1's,
    head by head (the two must have as many heads): ``W_K = P = I``, ``W_Q``, ``W_V`` the
    mixed products (key size = width)."""
    alpha = finite_scalar("alpha", alpha)
    try:
        kq_t, pv_t = _products(trained)
        kq_r, pv_r = _products(revalg)
    except ValueError as err:
        raise ValueError(f"trained or revalg: {err}") from None
    if kq_t.shape != kq_r.shape:
        raise ValueError(f"trained and revalg must have as many heads and the same width; got products "
                         f"{kq_t.shape} and {kq_r.shape}")
    eye = np.broadcast_to(np.eye(kq_t.shape[-1]), kq_t.shape).copy()
    return {"W_Q": (1 - alpha) * kq_t + alpha * kq_r, "W_K": eye, "W_V": (1 - alpha) * pv_t + alpha * pv_r,
            "P": eye.copy()}


def fewshot_sequences(rng, batch: int, n_pairs: int, D: int):
    """``(S, W)``: S (batch, 2 n_pairs, D) the sequences ``x_1, W x_1, x_2, W x_2, …``, W
    (batch, D, D) random orthogonal, ``x_i ~ U(−1, 1)^D``."""
    rng = as_rng(rng)
    B, n, D = positive_int("batch", batch), positive_int("n_pairs", n_pairs), positive_int("D", D)
    W = _random_orthogonal(rng, B, D)
    X = rng.uniform(-1.0, 1.0, size=(B, n, D))
    S = np.empty((B, 2 * n, D))
    S[:, 0::2], S[:, 1::2] = X, np.einsum("bij,bnj->bni", W, X)          # y_i = W x_i
    return S, W


def _lsq(X, Y, lam=1e-6):
    """Least squares on the pairs before each query: ŷ_i = Ŵ_{i−1} x_i, Ŵ fitted on j < i
    (ridge λ = 1e-6 keeps the under-determined start finite): (B, n, D)."""
    B, n, D = X.shape
    XX = np.cumsum(X[:, :, :, None] * X[:, :, None, :], axis=1)          # Σ_{j≤i} x_j x_jᵀ
    YX = np.cumsum(Y[:, :, :, None] * X[:, :, None, :], axis=1)          # Σ_{j≤i} y_j x_jᵀ
    XX = np.concatenate([np.zeros((B, 1, D, D)), XX[:, :-1]], axis=1) + lam * np.eye(D)
    YX = np.concatenate([np.zeros((B, 1, D, D)), YX[:, :-1]], axis=1)
    W_hat = np.swapaxes(np.linalg.solve(np.swapaxes(XX, -1, -2), np.swapaxes(YX, -1, -2)), -1, -2)  # YX XX⁻¹
    return np.einsum("bnij,bnj->bni", W_hat, X)


def _gd(X, Y):
    """One GD step from W = 0 on the pairs before each query, unit rate: Σ_{j<i} y_j x_jᵀ x_i."""
    YX = np.cumsum(Y[:, :, :, None] * X[:, :, None, :], axis=1)
    YX = np.concatenate([np.zeros_like(YX[:, :1]), YX[:, :-1]], axis=1)
    return np.einsum("bnij,bnj->bni", YX, X)


def fewshot_losses(config: MesaConfig, layers, S_fit, S_test) -> dict:
    """The error ``Σ_b ||y_i − ŷ_i||² / (2B)`` at each query i = 1 … n (after i − 1 pairs) of
    the trained model (its prediction at the position of x_i), least squares on the pairs
    before, one GD step with the η of :data:`FEWSHOT_ETA_GRID` best on ``S_fit``, and
    predicting 0; S (B, 2n, D) from :func:`fewshot_sequences`."""
    config = _config(config)
    S_fit = array("S_fit", S_fit, shape=(None, None, config.D))
    S_test = array("S_test", S_test, shape=(None, S_fit.shape[1], config.D))
    if S_test.shape[1] % 2:
        raise ValueError(f"S must hold whole pairs (an even length); got {S_test.shape[1]}")
    err = lambda pred, Y: 0.5 * np.sum((pred - Y) ** 2, axis=(0, 2)) / Y.shape[0]
    Xf, Yf, X, Y = S_fit[:, 0::2], S_fit[:, 1::2], S_test[:, 0::2], S_test[:, 1::2]
    g_fit = _gd(Xf, Yf)
    eta = FEWSHOT_ETA_GRID[int(np.argmin([err(e * g_fit, Yf).sum() for e in FEWSHOT_ETA_GRID]))]
    model = predict(config, layers, S_test)[:, 0::2]                        # ŝ after s_t = x_i: ŷ_i
    return dict(eta=eta, model=err(model, Y), lsq=err(_lsq(X, Y), Y), gd=err(eta * _gd(X, Y), Y),
                zero=err(np.zeros_like(Y), Y))
