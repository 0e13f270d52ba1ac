"""Edelman et al. 2024's minimal model of a statistical induction head: two layers, one
learnable scalar per relative offset in the first and a k × k matrix in the second.

Tokens one-hot ``e_t = e_{x_t}`` (batch, T, k); positions t, j = 0 … T−1.

    layer 1:  A[t, j] = softmax_{j ≤ t} v[t − j],     f_t = Σ_{j ≤ t} A[t, j] e_j        (attention by offset)
    layer 2:  S[t, j] = e_tᵀ W f_j  (j ≤ t),          logits_t = Σ_{j ≤ t} S[t, j] e_j   (linear attention)

With ``A`` on the previous token (``f_j = e_{j−1}``) and ``W = I`` the logits are the context's
bigram counts ``c_t(x_t → s)`` (plus the self term): the statistical induction head.  The loss
is the mean next-token cross-entropy over positions 0 … T−2 and the batch.

**The mask.**  ``mask="causal"`` (ours) lets position t attend to j ≤ t only.  The authors'
code builds the mask but does not apply it (``masked_fill`` is not in place) and maps every
future offset to offset 0, so ``mask="authors"`` gives position t weights ``v[max(t − j, 0)]``
over all T positions: each f_t then mixes in future tokens with the weight of the current
one (our reading of their code; :func:`offset_attention` builds both).

**At initialisation** (``v = 0``, all entries of W equal to c): ``Σ_c f_{j,c} = 1`` for any
attention weights, so ``S[t, j] = c`` whatever v is — the loss does not depend on v there and
its gradient in v is exactly 0 (``proofs/statistical_induction_head.py``); only W moves
first, toward the unigram statistics ``logits_t = c Σ_{j≤t} e_j + …``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import array, cache as _cache, choice, finite_result, finite_scalar, integer_array, positive_int
from ..core.nn import _logsumexp, _softmax

__all__ = ["MASKS", "MinimalCache", "init_minimal", "offset_attention", "minimal_forward", "minimal_backward", "minimal_loss",
           "minimal_sgd"]

MASKS = ("causal", "authors")


def init_minimal(T: int, k: int, w0: float = 0.01) -> dict:
    """The authors' initialisation: ``v = 0`` (T,), every entry of W equal to ``w0`` (k, k)."""
    T, k = positive_int("T", T), positive_int("k", k)
    return {"v": np.zeros(T), "W": np.full((k, k), finite_scalar("w0", w0))}


def offset_attention(v, T: int, mask: str = "causal") -> np.ndarray:
    """Layer 1's weights A (T, T): ``softmax_j v[t − j]`` over ``j ≤ t`` (causal), or over all j
    with ``v[max(t − j, 0)]`` (the authors' unmasked code)."""
    T = positive_int("T", T)
    v = array("v", v, ndim=1)
    if len(v) < T:
        raise ValueError(f"v must hold at least T = {T} offsets; got {len(v)}")
    return _offset_attention(v, T, choice("mask", mask, MASKS))


def _offset_attention(v, T: int, mask: str) -> np.ndarray:
    """Unchecked kernel of :func:`offset_attention`."""
    off = np.arange(T)[:, None] - np.arange(T)[None, :]                   # t − j
    z = v[np.maximum(off, 0)]
    if mask == "causal":
        z = np.where(off >= 0, z, -np.inf)
    return _softmax(z, axis=1)


def _inputs(params, tokens):
    p = {"v": array("params['v']", params.get("v") if isinstance(params, dict) else None, ndim=1),
         "W": array("params['W']", params.get("W") if isinstance(params, dict) else None, ndim=2)}
    k = p["W"].shape[0]
    if p["W"].shape != (k, k):
        raise ValueError(f"params['W'] must be square (k, k); got {p['W'].shape}")
    x = integer_array("tokens", tokens, low=0, high=k)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"tokens must be a (batch, T) array with T >= 2; got shape {x.shape}")
    if len(p["v"]) < x.shape[1]:
        raise ValueError(f"params['v'] must hold at least T = {x.shape[1]} offsets; got {len(p['v'])}")
    return p, x, k


class MinimalCache(NamedTuple):
    """What :func:`minimal_backward` needs."""
    E: np.ndarray               # (B, T, k) one-hot tokens
    A: np.ndarray               # (T, T) layer 1's weights
    F: np.ndarray               # (B, T, k) f_t
    W: np.ndarray               # (k, k)
    n_v: int                    # len(v)
    mask: str


def minimal_forward(params, tokens, mask: str = "causal"):
    """``(logits, cache)``: logits (batch, T, k) of the module docstring."""
    p, x, _ = _inputs(params, tokens)
    return _minimal_forward(p, x, choice("mask", mask, MASKS))


def _minimal_forward(p, x, mask: str):
    """Unchecked kernel of :func:`minimal_forward` (``x``: integer tokens (batch, T))."""
    k, T = p["W"].shape[0], x.shape[1]
    E = np.eye(k)[x]                                                      # one-hot (B, T, k)
    A = _offset_attention(p["v"], T, mask)                               # (T, T)
    F = np.einsum("tj,bjc->btc", A, E)                                    # f_t = Σ_j A[t, j] e_j
    S = np.tril(np.einsum("bta,ac,bjc->btj", E, p["W"], F, optimize=True))  # S[t, j] = e_tᵀ W f_j, j ≤ t
    logits = np.einsum("btj,bjs->bts", S, E)                               # Σ_{j≤t} S[t, j] e_j
    return logits, MinimalCache(E, A, F, p["W"], len(p["v"]), mask)


def minimal_backward(dlogits, cache) -> dict:
    """Gradients ``{"v", "W"}`` of a scalar whose gradient in the logits is ``dlogits``."""
    E = _cache("cache", cache, MinimalCache, "minimal_forward").E
    return _minimal_backward(array("dlogits", dlogits, shape=E.shape), cache)


def _minimal_backward(dlogits, cache) -> dict:
    """Unchecked kernel of :func:`minimal_backward`."""
    E, A, F, W, n_v, mask = cache
    T = E.shape[1]
    dS = np.tril(np.einsum("bts,bjs->btj", dlogits, E))                    # through logits = S E
    dW = np.einsum("btj,bta,bjc->ac", dS, E, F, optimize=True)             # S = E W Fᵀ
    dF = np.einsum("btj,bta,ac->bjc", dS, E, W, optimize=True)
    dA = np.einsum("btc,bjc->tj", dF, E)                                   # F = A E
    dZ = A * (dA - (A * dA).sum(1, keepdims=True))                         # softmax rows
    off = np.arange(T)[:, None] - np.arange(T)[None, :]
    dv = np.zeros(n_v)
    keep = off >= 0 if mask == "causal" else np.ones_like(off, bool)
    np.add.at(dv, np.maximum(off, 0)[keep], dZ[keep])                      # z[t, j] = v[max(t − j, 0)]
    return {"v": dv, "W": dW}


@finite_result
def minimal_loss(params, tokens, mask: str = "causal"):
    """``(loss, grads)``: the mean cross-entropy of ``logits_t`` against ``x_{t+1}``, t = 0 … T−2."""
    p, x, _ = _inputs(params, tokens)
    return _minimal_loss(p, x, choice("mask", mask, MASKS))


def _minimal_loss(p, x, mask: str):
    """Unchecked kernel of :func:`minimal_loss` (the training loop's step)."""
    logits, cache = _minimal_forward(p, x, mask)
    z = logits[:, :-1]
    logp = z - _logsumexp(z, -1)
    target = np.eye(z.shape[-1])[x[:, 1:]]
    n = z.shape[0] * z.shape[1]
    loss = float(-(target * logp).sum() / n)
    dlogits = np.zeros_like(logits)
    dlogits[:, :-1] = (np.exp(logp) - target) / n
    return loss, _minimal_backward(dlogits, cache)


def minimal_sgd(params, tokens, *, lr_W: float = 1e-2, lr_v: float = 1.0, mask: str = "causal"):
    """One SGD step with the authors' rates (1e-2 for W, 1 for v): ``(new params, loss, grads)``."""
    lr_W, lr_v = finite_scalar("lr_W", lr_W, positive=True), finite_scalar("lr_v", lr_v, positive=True)
    loss, g = minimal_loss(params, tokens, mask)
    return {"v": params["v"] - lr_v * g["v"], "W": params["W"] - lr_W * g["W"]}, loss, g
