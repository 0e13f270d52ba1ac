"""von Oswald et al. 2023b, the rest of Sec. 4–5 on the trained constructed-token models:
how sparse their weights are, the path from the trained 1-layer model to RevAlg-1,
supervised few-shot regression with the autoregressive model, without retraining, prompt
tuning of that regression with a learned EOS, RevAlg-d for the deeper models, and the
linear probes of the raw-token model's copy layer (:func:`copy_probes`; the model is
:mod:`theory.mesa.raw`).

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
4. **Prompt tuning** (the authors' ``EOSFineTuner``).  A learned state ``e`` (D,) after
   every pair, ``x_1, y_1, e, x_2, y_2, e, …`` (:func:`eos_sequences`), the model's weights
   fixed; only ``e`` is trained, by Adam from ``e ~ N(0, I)`` on fresh tasks, on the error
   of the predictions at the x positions, ``Σ ||y_i − ŷ_i||² / (2 B n)`` (their loss on
   positions ``0::3``): :func:`eos_loss` (with its gradient in ``e``), :func:`tune_eos`.
5. **RevAlg-d** (the authors' ``four_head_ks40`` for the deeper models).  Every head's
   ``W_K^T W_Q`` and ``P W_V`` replaced by their projection on the 4 × 4 grid of
   scalar × identity blocks (the mean diagonal of each D × D block), layer by layer:
   :func:`block_scalar_layer`.  The share of each product's squared norm the form keeps
   says how far the model is that algorithm.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, finite_result, finite_scalar, nonnegative_int, positive_int, probability
from ..core.optim import Adam
from .analysis import _block_means, probe_scores
from .attention import _check_layer, _checked_layers, _stack_backward, _stack_forward
from .data import _random_orthogonal
from .training import MesaConfig, _config, model_streams, model_tokens, predict

__all__ = ["weight_sparsity", "interpolated_layer", "fewshot_sequences", "fewshot_losses", "FEWSHOT_ETA_GRID",
           "eos_sequences", "eos_loss", "tune_eos", "block_scalar_layer", "COPY_LAGS", "copy_probes"]

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


def fewshot_sequences(rng, batch: int, n_pairs: int, D: int, *, sigma: float = 0.0):
    """``(S, W)``: S (batch, 2 n_pairs, D) the sequences ``x_1, y_1, x_2, y_2, …`` with
    ``y_i = W x_i + σ ε_i`` (the authors' ICL data: σ = their ``noise``), W (batch, D, D)
    random orthogonal, ``x_i ~ U(−1, 1)^D``, ``ε_i ~ N(0, I)``."""
    rng = as_rng(rng)
    B, n, D = positive_int("batch", batch), positive_int("n_pairs", n_pairs), positive_int("D", D)
    sigma = finite_scalar("sigma", sigma, nonnegative=True)
    W = _random_orthogonal(rng, B, D)
    X = rng.uniform(-1.0, 1.0, size=(B, n, D))
    S = np.empty((B, 2 * n, D))
    S[:, 0::2], S[:, 1::2] = X, np.einsum("bij,bnj->bni", W, X)          # y_i = W x_i
    if sigma:
        S[:, 1::2] += sigma * rng.standard_normal((B, n, D))
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


# --------------------------------------------------------------------------- prompt tuning
def _pairs(name, S, D):
    S = array(name, S, shape=(None, None, D))
    if S.shape[1] % 2:
        raise ValueError(f"{name} must hold whole pairs x_i, y_i (an even length); got {S.shape[1]}")
    return S


@finite_result
def eos_sequences(S, eos) -> np.ndarray:
    """``x_1, y_1, e, x_2, y_2, e, …``: the pairs of S (B, 2n, D) with the state ``eos`` (D,)
    after each: (B, 3n, D)."""
    S = array("S", S, ndim=3)
    S = _pairs("S", S, S.shape[2])
    eos = array("eos", eos, shape=(S.shape[2],))
    B, n2, D = S.shape
    out = np.empty((B, 3 * (n2 // 2), D))
    out[:, 0::3], out[:, 1::3], out[:, 2::3] = S[:, 0::2], S[:, 1::2], eos
    return out


def _eos_loss(config, layers, S, eos):
    """Kernel of :func:`eos_loss` (S (B, 2n, D) pairs, layers checked)."""
    S3 = eos_sequences(S, eos)
    B, T, D = S3.shape
    E = model_tokens(config, S3)
    streams, caches = _stack_forward(layers, E, config.resid_clip)
    r = streams[-1][:, 0::3, :D] - S3[:, 1::3]                  # ŷ_i − y_i at the x positions
    n = B * (T // 3)
    dE = np.zeros_like(E)
    dE[:, 0::3, :D] = r / n
    dE0 = _stack_backward(caches, dE, config.resid_clip)[0]
    # tokens e_t = (0, s_t, s_t, s_{t−1}) (block 1 zeroed if mask_copy): dL/ds_t collects all three
    dS = dE0[:, :, 2 * D:3 * D].copy()
    if not config.mask_copy:
        dS += dE0[:, :, D:2 * D]
    dS[:, :-1] += dE0[:, 1:, 3 * D:]
    per_query = 0.5 * np.sum(r * r, axis=(0, 2)) / B
    return per_query, dS[:, 2::3].sum(axis=(0, 1))


@finite_result
def eos_loss(config: MesaConfig, layers, S, eos):
    """``(errors, grad)``: the error ``Σ_b ||y_i − ŷ_i||² / (2B)`` at each query i of the
    constructed-token model of ``config`` on the pairs S (B, 2n, D) with ``eos`` after every
    pair (:func:`eos_sequences`), and the gradient in ``eos`` (D,) of their mean, the
    authors' fine-tuning loss ``Σ ||y − ŷ||² / (2 B n)``."""
    config = _config(config)
    if config.raw:
        raise ValueError("eos_loss takes a constructed-token model (config.raw is True)")
    S = _pairs("S", S, config.D)
    eos = array("eos", eos, shape=(config.D,))
    return _eos_loss(config, _checked_layers(layers, np.zeros((1, 1, 4 * config.D))), S, eos)


def tune_eos(config: MesaConfig, layers, rng, *, steps: int = 300, batch: int = 64, n_pairs: int = 16,
             lr: float = 1e-2, sigma: float = 0.0) -> dict:
    """Prompt tuning: ``e ~ N(0, I)``, then ``steps`` Adam steps (rate ``lr``) on
    :func:`eos_loss` with fresh tasks of ``n_pairs`` pairs (:func:`fewshot_sequences`); the
    model is not changed.  Returns ``{"eos": (D,), "init": (D,), "loss": (steps,)}``."""
    config, rng = _config(config), as_rng(rng)
    if config.raw:
        raise ValueError("tune_eos takes a constructed-token model (config.raw is True)")
    steps, batch, n_pairs = positive_int("steps", steps), positive_int("batch", batch), positive_int("n_pairs", n_pairs)
    lr = finite_scalar("lr", lr, positive=True)
    layers = _checked_layers(layers, np.zeros((1, 1, 4 * config.D)))
    init = rng.standard_normal(config.D)
    params, opt, losses = {"eos": init}, Adam(lr), np.empty(steps)
    for step in range(steps):
        S = fewshot_sequences(rng, batch, n_pairs, config.D, sigma=sigma)[0]
        err, g = _eos_loss(config, layers, S, params["eos"])
        losses[step] = err.mean()
        params = opt.step(params, {"eos": g})
    return {"eos": params["eos"], "init": init, "loss": losses}


# --------------------------------------------------------------------------- RevAlg-d
@finite_result
def block_scalar_layer(layer, D: int):
    """``(rebuilt, kept)``: the layer whose every head's ``W_K^T W_Q`` and ``P W_V`` are the
    projections of ``layer``'s on the 4 × 4 grid of scalar × I_D blocks (``W_K = P = I``,
    key size = width = 4D), and per head the share of each product's squared norm that
    projection keeps, ``{"qk": (H,), "pv": (H,)}`` (1: the product is of that form)."""
    D = positive_int("D", D)
    try:
        kq, pv = _products(layer)
    except ValueError as err:
        raise ValueError(f"layer: {err}") from None
    if kq.shape[-1] != 4 * D:
        raise ValueError(f"D = {D} needs a layer 4D = {4 * D} wide; got width {kq.shape[-1]}")
    blocks = range(4)
    project = lambda M: np.array([np.kron(_block_means(m, D, blocks, blocks), np.eye(D)) for m in M])
    kq_b, pv_b = project(kq), project(pv)
    share = lambda Mb, M: np.sum(Mb ** 2, axis=(1, 2)) / np.sum(M ** 2, axis=(1, 2))
    eye = np.broadcast_to(np.eye(4 * D), kq.shape).copy()
    return {"W_Q": kq_b, "W_K": eye, "W_V": pv_b, "P": eye.copy()}, {"qk": share(kq_b, kq), "pv": share(pv_b, pv)}


# --------------------------------------------------------------------------- raw tokens: the copy
COPY_LAGS = 8                      # s_t … s_{t−7}: the authors' probe_range 7


def copy_probes(config: MesaConfig, layers, S_fit, S_test, *, layer: int = 1) -> np.ndarray:
    """Held-out R² of linear probes from the residual stream after ``layer`` (0: the tokens)
    at position t to ``s_{t−k}``, k = 0 … 7 (:data:`COPY_LAGS`), averaged over the positions
    t > 7 that have all those states (:func:`theory.mesa.analysis.probe_scores`): (8,)."""
    config = _config(config)
    S_fit = array("S_fit", S_fit, shape=(None, None, config.D))
    if S_fit.shape[1] <= COPY_LAGS:
        raise ValueError(f"S_fit must have more than {COPY_LAGS} states; got {S_fit.shape[1]}")
    S_test = array("S_test", S_test, shape=(None, S_fit.shape[1], config.D))
    streams = [model_streams(config, layers, S) for S in (S_fit, S_test)]
    if nonnegative_int("layer", layer) >= len(streams[0]):
        raise ValueError(f"layer must be in 0 … {len(streams[0]) - 1}; got {layer!r}")
    X_fit, X_test = streams[0][layer][:, COPY_LAGS:], streams[1][layer][:, COPY_LAGS:]
    T = S_fit.shape[1]
    return np.array([probe_scores(X_fit, S_fit[:, COPY_LAGS - k:T - k], X_test, S_test[:, COPY_LAGS - k:T - k]).mean()
                     for k in range(COPY_LAGS)])
