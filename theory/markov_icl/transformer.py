"""Edelman et al. 2024's two-layer attention-only transformer with relative positions, with a
hand-written backward pass (the model of their ``mingpt/model_rpe.py``, read for its settings).

Tokens x (B, T) → ``X⁰ = wte[x]`` (no absolute positions).  Each layer ℓ = 1, 2 (layer 1 with
H heads, layer 2 with one; head size ``h = d/H``):

    U = LN_ℓ(X),   Q, K, V = U W_Q, U W_K, U W_V                       (no biases)
    S[t, j] = (q_t · k_j + q_t · r_{t−j}) / √h   for j ≤ t,  −∞ for j > t   (r_o: a learned vector
    A = softmax_j S,   X ← X + concat_heads(A V) W_O                        per offset o, split by head)

then ``logits = LN_f(X) W_U``; the loss is the mean next-token cross-entropy at every position.
Initialisation as theirs: every matrix and embedding N(0, 0.02²) except W_O ~ N(0, 0.01²),
LayerNorm gains 1 and biases 0.  Left out: their dropout (0.1 on embeddings, attention and
residuals) — our runs are deterministic given the seed.  Matrices act on rows (``x W``; torch's
``Linear`` stores the transpose).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import array, as_rng, cache as _cache, finite_result, integer_array, positive_int
from ..core.nn import LayerNormCache, _layer_norm, _layer_norm_backward, _logsumexp

__all__ = ["LAYER_KEYS", "LayerCache", "TransformerCache", "init_transformer", "transformer_forward", "transformer_backward", "transformer_loss",
           "attention_maps"]

LAYER_KEYS = ("ln_g", "ln_b", "Wq", "Wk", "Wv", "Wo", "wpe")


def init_transformer(rng, k: int, T: int, d: int = 16, heads: int = 1) -> dict:
    """Parameters ``{"wte", "l1.*", "l2.*", "lnf_g", "lnf_b", "W_U"}`` initialised as the authors'."""
    rng = as_rng(rng)
    k, T, d, heads = positive_int("k", k), positive_int("T", T), positive_int("d", d), positive_int("heads", heads)
    if d % heads:
        raise ValueError(f"d must be a multiple of heads; got d = {d}, heads = {heads}")
    p = {"wte": 0.02 * rng.standard_normal((k, d))}
    for l in (1, 2):
        p.update({f"l{l}.ln_g": np.ones(d), f"l{l}.ln_b": np.zeros(d),
                  **{f"l{l}.{w}": 0.02 * rng.standard_normal((d, d)) for w in ("Wq", "Wk", "Wv")},
                  f"l{l}.Wo": 0.01 * rng.standard_normal((d, d)), f"l{l}.wpe": 0.02 * rng.standard_normal((T, d))})
    p.update({"lnf_g": np.ones(d), "lnf_b": np.zeros(d), "W_U": 0.02 * rng.standard_normal((d, k))})
    return p


def _skewed(P):
    """The relative-position logits ``rel[..., t, j] = q_t · r_{t−j}`` as a view of
    ``P[..., t, o'] = q_t · r_{T−1−o'}`` (P contiguous, (..., T, T)); no gather.

    Row t of ``rel`` starts at entry (t, T−1−t) of P, so in P's flat (T·T) layout it begins
    at ``t(T−1) + T−1`` and steps by 1: a (T, T) view with row stride T−1 from offset T−1.
    Every entry read lies inside P's block; those with j > t are not q_t · r_{t−j} and are
    the ones the causal mask drops."""
    T = P.shape[-1]
    flat = P.reshape(P.shape[:-2] + (T * T,))[..., T - 1:]
    step = P.strides[-1]
    return np.lib.stride_tricks.as_strided(flat, shape=P.shape, strides=P.strides[:-2] + ((T - 1) * step, step),
                                           writeable=False)


class LayerCache(NamedTuple):
    """One layer's values for the backward pass (heads batched: (B, H, T, h))."""
    U: np.ndarray               # (B, T, d) LN(X)
    ln: LayerNormCache
    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    R: np.ndarray               # (H, T, h) r_o by head
    A: np.ndarray               # (B, H, T, T) attention weights
    Y: np.ndarray               # (B, T, d) heads concatenated


class TransformerCache(NamedTuple):
    """What :func:`transformer_backward` needs."""
    E: np.ndarray               # (B, T, k) one-hot inputs
    layer1: LayerCache
    layer2: LayerCache
    Z: np.ndarray               # (B, T, d) LN_f(X)
    ln_f: LayerNormCache
    params: dict
    heads: int


def _attention(X, p, l, H):
    """One layer's forward: ``(X + attention, cache)``."""
    B, T, d = X.shape
    hs = d // H
    U, c_ln = _layer_norm(X, p[f"l{l}.ln_g"], p[f"l{l}.ln_b"])
    split = lambda M: M.reshape(B, T, H, hs).transpose(0, 2, 1, 3)      # (B, H, T, hs)
    Q, K, V = split(U @ p[f"l{l}.Wq"]), split(U @ p[f"l{l}.Wk"]), split(U @ p[f"l{l}.Wv"])
    R = p[f"l{l}.wpe"][:T].reshape(T, H, hs).transpose(1, 0, 2)          # r_o by head (H, T, hs)
    S = Q @ K.transpose(0, 1, 3, 2)                                       # q_t · k_j  (B, H, T, T)
    S += _skewed(Q @ R[:, ::-1].transpose(0, 2, 1)[None])                 # + q_t · r_{t−j}
    S[..., ~np.tri(T, dtype=bool)] = -np.inf                              # j > t
    S *= 1 / np.sqrt(hs)
    S -= S.max(-1, keepdims=True)                                         # A = softmax_j S, in place
    A = np.exp(S, out=S)
    A /= A.sum(-1, keepdims=True)
    Y = (A @ V).transpose(0, 2, 1, 3).reshape(B, T, d)
    return X + Y @ p[f"l{l}.Wo"], LayerCache(U, c_ln, Q, K, V, R, A, Y)


def _attention_backward(dX_out, cache, p, l, H):
    U, c_ln, Q, K, V, R, A, Y = cache
    B, T, d = dX_out.shape
    hs = d // H
    g = {f"l{l}.Wo": Y.reshape(-1, d).T @ dX_out.reshape(-1, d)}
    dY = (dX_out @ p[f"l{l}.Wo"].T).reshape(B, T, H, hs).transpose(0, 2, 1, 3)
    dV = A.transpose(0, 1, 3, 2) @ dY
    # dS lives in the right half of a (T, 2T−1) row padded with T−1 zeros on the left, so that
    # dP[t, o'] = dS[t, t − (T−1) + o'] (the gradient of P above; 0 where that j < 0) is a view
    padded = np.zeros((B, H, T, 2 * T - 1))
    dS = padded[..., T - 1:]
    np.matmul(dY, V.transpose(0, 1, 3, 2), out=dS)                        # dA
    dS -= np.einsum("bhtj,bhtj->bht", A, dS)[..., None]                  # softmax backward, in place:
    dS *= A                                                               # dS = A (dA − Σ_j A dA) / √h
    dS *= 1 / np.sqrt(hs)                                                 # (masked entries: A = 0)
    dQ = dS @ K
    dK = dS.transpose(0, 1, 3, 2) @ Q
    st = padded.strides
    dP = np.lib.stride_tricks.as_strided(padded, shape=(B, H, T, T), strides=st[:2] + (st[2] + st[3], st[3]),
                                         writeable=False)
    dQ += dP @ R[:, ::-1][None]                                           # Σ_j dS[t, j] r_{t−j}
    dR = (dP.transpose(0, 1, 3, 2) @ Q).sum(0)[:, ::-1]                  # Σ_{b,t} dS[t, t−o] q_t  (H, T, hs)
    wpe = np.zeros_like(p[f"l{l}.wpe"])
    wpe[:T] = dR.transpose(1, 0, 2).reshape(T, d)
    g[f"l{l}.wpe"] = wpe
    merge = lambda M: M.transpose(0, 2, 1, 3).reshape(B, T, d)
    dQ, dK, dV = merge(dQ), merge(dK), merge(dV)
    U2 = U.reshape(-1, d).T
    g.update({f"l{l}.Wq": U2 @ dQ.reshape(-1, d), f"l{l}.Wk": U2 @ dK.reshape(-1, d), f"l{l}.Wv": U2 @ dV.reshape(-1, d)})
    dU = dQ @ p[f"l{l}.Wq"].T + dK @ p[f"l{l}.Wk"].T + dV @ p[f"l{l}.Wv"].T
    dX, g[f"l{l}.ln_g"], g[f"l{l}.ln_b"] = _layer_norm_backward(dU, c_ln)
    return dX_out + dX, g


def _inputs(params, tokens, heads):
    if not isinstance(params, dict) or "wte" not in params:
        raise ValueError(f"params must be the dict of init_transformer; got {type(params).__name__}")
    heads = positive_int("heads", heads)
    wte = array("params['wte']", params["wte"], ndim=2)
    k, d = wte.shape
    shapes = {"wte": (k, d), "lnf_g": (d,), "lnf_b": (d,), "W_U": (d, k)}
    for l in (1, 2):
        shapes.update({f"l{l}.ln_g": (d,), f"l{l}.ln_b": (d,), f"l{l}.wpe": (None, d),
                       **{f"l{l}.{w}": (d, d) for w in ("Wq", "Wk", "Wv", "Wo")}})
    missing = set(shapes) - set(params)
    if missing:
        raise ValueError(f"params is missing {sorted(missing)}")
    p = {n: array(f"params[{n!r}]", params[n], shape=s) for n, s in shapes.items()}
    if d % heads:
        raise ValueError(f"the width d = {d} must be a multiple of heads = {heads}")
    x = integer_array("tokens", tokens, low=0, high=k)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"tokens must be a (batch, T + 1) array with T + 1 >= 2; got shape {x.shape}")
    if min(len(p["l1.wpe"]), len(p["l2.wpe"])) < x.shape[1] - 1:
        raise ValueError(f"params' wpe must hold at least T = {x.shape[1] - 1} offsets")
    return p, x, heads


def transformer_forward(params, tokens, heads: int = 1):
    """``(logits, cache)``: logits (B, T, k) at the T = tokens.shape[1] − 1 input positions."""
    return _transformer_forward(*_inputs(params, tokens, heads))


def _transformer_forward(p, x, H):
    """Unchecked kernel of :func:`transformer_forward` (``x``: integer tokens (B, T + 1))."""
    k = p["wte"].shape[0]
    E = np.eye(k)[x[:, :-1]]                                              # one-hot inputs (B, T, k)
    X = E @ p["wte"]
    X1, c1 = _attention(X, p, 1, H)
    X2, c2 = _attention(X1, p, 2, 1)
    Z, c_f = _layer_norm(X2, p["lnf_g"], p["lnf_b"])
    return Z @ p["W_U"], TransformerCache(E, c1, c2, Z, c_f, p, H)


def transformer_backward(dlogits, cache) -> dict:
    """Gradients of every parameter of a scalar whose gradient in the logits is ``dlogits``."""
    E, p = _cache("cache", cache, TransformerCache, "transformer_forward")[::5]
    return _transformer_backward(array("dlogits", dlogits, shape=E.shape[:2] + (p["W_U"].shape[1],)), cache)


def _transformer_backward(dlogits, cache) -> dict:
    """Unchecked kernel of :func:`transformer_backward`."""
    E, c1, c2, Z, c_f, p, H = cache
    g = {"W_U": Z.reshape(-1, Z.shape[-1]).T @ dlogits.reshape(-1, dlogits.shape[-1])}
    dX2, g["lnf_g"], g["lnf_b"] = _layer_norm_backward(dlogits @ p["W_U"].T, c_f)
    dX1, g2 = _attention_backward(dX2, c2, p, 2, 1)
    dX, g1 = _attention_backward(dX1, c1, p, 1, H)
    g.update(g1)
    g.update(g2)
    g["wte"] = E.reshape(-1, E.shape[-1]).T @ dX.reshape(-1, dX.shape[-1])
    return g


@finite_result
def transformer_loss(params, tokens, heads: int = 1):
    """``(loss, grads)``: the mean cross-entropy of ``logits_t`` against ``x_{t+1}`` over every
    position and sequence."""
    return _transformer_loss(*_inputs(params, tokens, heads))


def _transformer_loss(p, x, H):
    """Unchecked kernel of :func:`transformer_loss` (the training loop's step)."""
    logits, cache = _transformer_forward(p, x, H)
    logp = logits - _logsumexp(logits, -1)
    target = np.eye(logits.shape[-1])[x[:, 1:]]
    n = logits.shape[0] * logits.shape[1]
    return float(-(target * logp).sum() / n), _transformer_backward((np.exp(logp) - target) / n, cache)


def attention_maps(params, tokens, heads: int = 1) -> dict:
    """The attention of both layers averaged over the batch (layer 1: (H, T, T); layer 2: (T, T))."""
    _, cache = transformer_forward(params, tokens, heads)
    return {"layer1": cache.layer1.A.mean(0), "layer2": cache.layer2.A.mean(0)[0]}
