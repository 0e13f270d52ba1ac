"""Tian et al. 2023, the real-data experiments: the word-level language model the authors train on
WikiText (luckmatters ``decoder_wiki_util.TransformerModel``, the PyTorch word-LM
tutorial's model), forward and hand-written backward.

Row vectors (tokens are rows of ``(B, T, d)``)::

    x⁰_t = √d · E[w_t] + p_t                          embedding × √d + sinusoidal position
    for each layer l (post-LN, torch's TransformerEncoderLayer, one head, ReLU):
        q, k, v = x W_inᵀ + b_in  (split in three)    (B, T, d) each
        A = softmax_{t' ≤ t}(q_t · k_t' / √d)         (B, T, T) causal
        x ← LN₁(x + (A v) W_outᵀ + b_out)
        x ← LN₂(x + relu(x W₁ᵀ + b₁) W₂ᵀ + b₂)
    logits = x W_decᵀ + b_dec                         (B, T, V)
    L = mean_{b,t} −log softmax(logits_{b,t})[w_{b,t+1}]

Dropout (the authors' 0.2) sits where torch puts it: after the embedding and position,
on the attention weights A, after the attention block, after the ReLU and after the
feed-forward block; each is ``x ⊙ m / (1 − p)`` with ``m ~ Bernoulli(1 − p)`` drawn from
the ``rng`` given, so a fixed seed makes the forward deterministic (the gradient check
uses that).  The attention reported (``attention``) is the softmax before its dropout.

Initialisation as torch and the tutorial: E and W_dec ~ U(±0.1), b_dec = 0; W_in Xavier
uniform (bound √(6 / (d + 3d))), b_in = b_out = 0; W_out, W₁, W₂ and b₁, b₂ ~ U(±1/√fan_in);
LayerNorm gain 1, bias 0, ε = 1e-5.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..core import nn
from ..core._validate import as_rng, integer_array, params as _params, positive_int, probability

__all__ = ["LAYER_KEYS", "LayerCache", "LMCache", "init_lm", "lm_shapes", "lm_forward", "lm_loss", "lowest_attention"]

LAYER_KEYS = ("W_in", "b_in", "W_out", "b_out", "ln1.g", "ln1.b", "W1", "b1", "W2", "b2", "ln2.g", "ln2.b")


def lm_shapes(vocab: int, d: int, d_hid: int, layers: int) -> dict:
    """The parameter names and shapes: ``E``, ``l{i}.<key>`` for each layer, ``W_dec``, ``b_dec``."""
    vocab, d, d_hid, layers = (positive_int(n, v) for n, v in
                               (("vocab", vocab), ("d", d), ("d_hid", d_hid), ("layers", layers)))
    shapes = {"E": (vocab, d)}
    for i in range(layers):
        shapes.update({f"l{i}.{k}": s for k, s in zip(LAYER_KEYS, [
            (3 * d, d), (3 * d,), (d, d), (d,), (d,), (d,), (d_hid, d), (d_hid,), (d, d_hid), (d,), (d,), (d,)])})
    shapes.update(W_dec=(vocab, d), b_dec=(vocab,))
    return shapes


def _sizes(params: dict) -> tuple:
    """(vocab, d, d_hid, layers) read from the parameters, which are then checked by name and shape."""
    if not isinstance(params, dict) or "E" not in params or "l0.W1" not in params:
        got = sorted(params)[:6] if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be the dict init_lm makes (E, l0.W_in, ..., W_dec, b_dec); got {got}")
    layers = sum(1 for k in params if k.endswith(".W_in"))
    E, W1 = np.shape(params["E"]), np.shape(params["l0.W1"])
    if len(E) != 2 or len(W1) != 2 or min(E + W1) < 1:
        raise ValueError(f"params['E'] must be (vocab, d) and params['l0.W1'] (d_hid, d); got shapes {E}, {W1}")
    return E[0], E[1], W1[0], layers


def _checked(params) -> tuple[dict, tuple]:
    V, d, d_hid, layers = _sizes(params)
    return _params("params", params, lm_shapes(V, d, d_hid, layers)), (V, d, d_hid, layers)


def _inputs(params, tokens) -> tuple:
    """The checked parameters, their sizes and the token ids (B, T) every public entry takes."""
    p, sizes = _checked(params)
    tokens = integer_array("tokens", tokens, low=0, high=sizes[0])
    if tokens.ndim != 2:
        raise ValueError(f"tokens must be (B, T) token ids; got shape {tokens.shape}")
    return p, sizes, tokens


def init_lm(rng, vocab: int, d: int = 200, d_hid: int = 200, layers: int = 1) -> dict:
    """Parameters at torch's and the tutorial's initialisation (module docstring); the
    defaults are the authors' (emsize 200, d_hid 200, one layer)."""
    rng = as_rng(rng)
    vocab, d, d_hid, layers = (positive_int(n, v) for n, v in
                               (("vocab", vocab), ("d", d), ("d_hid", d_hid), ("layers", layers)))
    u = lambda bound, shape: rng.uniform(-bound, bound, shape)
    p = {"E": u(0.1, (vocab, d))}
    for i in range(layers):
        p.update({f"l{i}.W_in": u(np.sqrt(6.0 / (4 * d)), (3 * d, d)), f"l{i}.b_in": np.zeros(3 * d),
                  f"l{i}.W_out": u(1 / math.sqrt(d), (d, d)), f"l{i}.b_out": np.zeros(d),
                  f"l{i}.ln1.g": np.ones(d), f"l{i}.ln1.b": np.zeros(d),
                  f"l{i}.W1": u(1 / math.sqrt(d), (d_hid, d)), f"l{i}.b1": u(1 / math.sqrt(d), d_hid),
                  f"l{i}.W2": u(1 / np.sqrt(d_hid), (d, d_hid)), f"l{i}.b2": u(1 / np.sqrt(d_hid), d),
                  f"l{i}.ln2.g": np.ones(d), f"l{i}.ln2.b": np.zeros(d)})
    p.update(W_dec=u(0.1, (vocab, d)), b_dec=np.zeros(vocab))
    return p


# --------------------------------------------------------------------------- dropout
def _dropout(x: np.ndarray, p: float, rng):
    """``x ⊙ m / (1 − p)``, m ~ Bernoulli(1 − p); returns (y, m / (1 − p)) (None when off)."""
    if p == 0.0:
        return x, None
    keep = (rng.random(x.shape) >= p) * x.dtype.type(1.0 / (1.0 - p))   # the same masks in float32 and float64
    return x * keep, keep


def _undrop(dy: np.ndarray, keep):
    return dy if keep is None else dy * keep


# --------------------------------------------------------------------------- forward
class LayerCache(NamedTuple):
    """One layer's intermediate values for the backward pass."""
    x: np.ndarray               # (B, T, d) the layer's input
    q: np.ndarray               # (B, T, d)
    k: np.ndarray
    v: np.ndarray
    A: np.ndarray               # (B, T, T) the softmax weights (before dropout)
    A_keep: object              # dropout scale on A, or None
    o: np.ndarray               # (B, T, d) (dropped A) v
    sa_keep: object
    ln1: nn.LayerNormCache
    h: np.ndarray               # (B, T, d) after LN₁
    u: np.ndarray               # (B, T, d_hid) relu(h W₁ᵀ + b₁), before dropout
    u_keep: object
    f_keep: object
    ln2: nn.LayerNormCache


class LMCache(NamedTuple):
    """What :func:`lm_loss`'s backward needs, and the attention of every layer."""
    tokens: np.ndarray          # (B, T) integers
    emb_keep: object
    layers: tuple               # LayerCache per layer
    top: np.ndarray             # (B, T, d) the last layer's output

    @property
    def attention(self) -> list:
        """The softmax attention of each layer, (B, T, T), before dropout."""
        return [c.A for c in self.layers]


def _layer_forward(x, p, i, mask, dropout, rng):
    B, T, d = x.shape
    g = lambda k: p[f"l{i}.{k}"]
    qkv = _affine(x, g("W_in"), g("b_in"))                             # (B, T, 3d)
    q, k, v = qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
    S = np.where(mask, (q @ k.transpose(0, 2, 1)) / math.sqrt(d), -np.inf)   # (B, T, T) q_t·k_t'/√d, t' ≤ t
    A = nn._softmax(S)
    Ad, A_keep = _dropout(A, dropout, rng)
    o = Ad @ v                                                       # (B, T, d)
    sa, sa_keep = _dropout(_affine(o, g("W_out"), g("b_out")), dropout, rng)
    h, ln1 = nn._layer_norm(x + sa, g("ln1.g"), g("ln1.b"))          # x ← LN₁(x + SA(x))
    u = np.maximum(_affine(h, g("W1"), g("b1")), 0.0)                     # (B, T, d_hid) relu(h W₁ᵀ + b₁)
    ud, u_keep = _dropout(u, dropout, rng)
    f, f_keep = _dropout(_affine(ud, g("W2"), g("b2")), dropout, rng)
    y, ln2 = nn._layer_norm(h + f, g("ln2.g"), g("ln2.b"))          # x ← LN₂(h + FFN(h))
    return y, LayerCache(x, q, k, v, A, A_keep, o, sa_keep, ln1, h, u, u_keep, f_keep, ln2)


def _forward(p, tokens, sizes, dropout=0.0, rng=None, upto=None):
    """Unchecked forward; ``upto`` stops after that many layers (no decoder)."""
    V, d, d_hid, layers = sizes
    T = tokens.shape[1]
    x = math.sqrt(d) * p["E"][tokens] + nn.sinusoidal_positions(T, d).astype(p["E"].dtype) # (B, T, d) √d E[w_t] + p_t
    x, emb_keep = _dropout(x, dropout, rng)
    mask = np.tri(T, dtype=bool)                                     # key t' ≤ query t
    caches = []
    for i in range(layers if upto is None else upto):
        x, c = _layer_forward(x, p, i, mask, dropout, rng)
        caches.append(c)
    return x, emb_keep, caches


def lm_forward(params, tokens, *, dropout: float = 0.0, rng=None):
    """``(logits (B, T, V), cache)`` for token ids (B, T); ``dropout`` > 0 needs ``rng``."""
    p, sizes, tokens = _inputs(params, tokens)
    dropout, rng = _drop_args(dropout, rng)
    x, emb_keep, caches = _forward(p, tokens, sizes, dropout, rng)
    logits = _affine(x, p["W_dec"], p["b_dec"])                         # (B, T, V)
    return logits, LMCache(tokens, emb_keep, tuple(caches), x)


def _drop_args(dropout, rng):
    dropout = probability("dropout", dropout)
    if dropout >= 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout!r}")
    if dropout > 0.0 and rng is None:
        raise ValueError("dropout > 0 needs rng (a seed or a numpy Generator) to draw its masks")
    return dropout, None if rng is None else as_rng(rng)


# --------------------------------------------------------------------------- backward
def _layer_backward(dy, p, i, c, grads):
    """Gradients of one layer: returns dx and writes the layer's parameter gradients."""
    g = lambda k: p[f"l{i}.{k}"]
    d = c.x.shape[-1]
    dz2, grads[f"l{i}.ln2.g"], grads[f"l{i}.ln2.b"] = nn._layer_norm_backward(dy, c.ln2)   # z₂ = h + f
    df = _undrop(dz2, c.f_keep)                                      # f = drop(ud W₂ᵀ + b₂)
    ud = c.u if c.u_keep is None else c.u * c.u_keep
    grads[f"l{i}.W2"] = _rows(df).T @ _rows(ud)
    grads[f"l{i}.b2"] = _rows(df).sum(axis=0)
    du = _undrop(_times(df, g("W2")), c.u_keep) * (c.u > 0)                 # through the dropout and the ReLU
    grads[f"l{i}.W1"] = _rows(du).T @ _rows(c.h)
    grads[f"l{i}.b1"] = _rows(du).sum(axis=0)
    dh = dz2 + _times(du, g("W1"))
    dz1, grads[f"l{i}.ln1.g"], grads[f"l{i}.ln1.b"] = nn._layer_norm_backward(dh, c.ln1)    # z₁ = x + sa
    dsa = _undrop(dz1, c.sa_keep)                                    # sa = drop(o W_outᵀ + b_out)
    grads[f"l{i}.W_out"] = _rows(dsa).T @ _rows(c.o)
    grads[f"l{i}.b_out"] = _rows(dsa).sum(axis=0)
    do = _times(dsa, g("W_out"))                                            # o = (drop A) v
    Ad = c.A if c.A_keep is None else c.A * c.A_keep
    dv = Ad.transpose(0, 2, 1) @ do
    dA = _undrop(do @ c.v.transpose(0, 2, 1), c.A_keep)
    dS = nn._softmax_backward(dA, c.A) / math.sqrt(d)                  # masked entries have A = 0 → dS = 0
    dq, dk = dS @ c.k, dS.transpose(0, 2, 1) @ c.q
    dqkv = np.concatenate([dq, dk, dv], axis=-1)                     # (B, T, 3d)
    grads[f"l{i}.W_in"] = _rows(dqkv).T @ _rows(c.x)
    grads[f"l{i}.b_in"] = _rows(dqkv).sum(axis=0)
    return dz1 + _times(dqkv, g("W_in"))


def _rows(a: np.ndarray) -> np.ndarray:
    return a.reshape(-1, a.shape[-1])


def _affine(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``x Wᵀ + b`` on every row of x (..., n) as one 2-d product: numpy's stacked
    (B, T, n) @ (n, m) is several times slower than the same rows as one (B T, n) matrix."""
    y = _rows(x) @ W.T
    y += b
    return y.reshape(x.shape[:-1] + (W.shape[0],))


def _times(dy: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``dy W`` on every row (the input gradient of an affine map), as one 2-d product."""
    return (_rows(dy) @ W).reshape(dy.shape[:-1] + (W.shape[1],))


def _decoder_loss(logits: np.ndarray, targets: np.ndarray):
    """``(L, dL/dlogits)`` for logits (B, T, V), overwritten: ``L = −mean log P[target]``,
    ``P`` the softmax, ``dL/dlogits = (P − onehot(target)) / (B T)``, computed in place in
    the (B T, V) array (the decoder is most of a step's time)."""
    z = logits.reshape(-1, logits.shape[-1])                         # (B T, V)
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)                                # P, in place
    rows, t = np.arange(len(z)), targets.ravel()
    loss = -float(np.log(z[rows, t]).astype(np.float64).mean())
    z[rows, t] -= 1.0
    z /= len(z)
    return loss, z.reshape(logits.shape)


def _loss_and_grads(p, tokens, targets, sizes, dropout=0.0, rng=None):
    """Unchecked kernel of :func:`lm_loss`: (loss, grads, cache)."""
    V, d, _, _ = sizes
    x, emb_keep, caches = _forward(p, tokens, sizes, dropout, rng)
    loss, dlogits = _decoder_loss(_affine(x, p["W_dec"], p["b_dec"]), targets)
    grads = {"W_dec": _rows(dlogits).T @ _rows(x), "b_dec": _rows(dlogits).sum(axis=0)}
    dx = _times(dlogits, p["W_dec"])
    for i in reversed(range(len(caches))):
        dx = _layer_backward(dx, p, i, caches[i], grads)
    dx = _undrop(dx, emb_keep) * math.sqrt(d)                          # x⁰ = drop(√d E[w] + p)
    dE = np.zeros_like(p["E"])
    np.add.at(dE, tokens.ravel(), _rows(dx))                         # rows of E used more than once add up
    grads["E"] = dE
    return loss, {k: grads[k] for k in p}, LMCache(tokens, emb_keep, tuple(caches), x)


def lm_loss(params, tokens, targets, *, dropout: float = 0.0, rng=None):
    """``(L, grads, cache)``: the mean next-token cross-entropy of ids ``targets`` (B, T)
    given ``tokens`` (B, T) and its gradient in every parameter (module docstring).
    ``cache.attention`` holds every layer's attention."""
    p, sizes, tokens = _inputs(params, tokens)
    targets = integer_array("targets", targets, shape=tokens.shape, low=0, high=sizes[0])
    dropout, rng = _drop_args(dropout, rng)
    return _loss_and_grads(p, tokens, targets, sizes, dropout, rng)


def lowest_attention(params, tokens) -> np.ndarray:
    """The lowest layer's attention (B, T, T) on ``tokens`` (no dropout, as the authors'
    evaluation), without running the layers above or the decoder."""
    p, sizes, tokens = _inputs(params, tokens)
    return _forward(p, tokens, sizes, upto=1)[2][0].A
