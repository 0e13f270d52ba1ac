"""von Oswald et al. 2023b, Sec. 4, "creating the mesa dataset": a model given the raw
states, not the constructed tokens, has to build the pairs ``(s_t, s_{t−1})`` itself.

**Raw tokens.**  ``e_t = (0, s_t, 0, 0)`` (B, T, 4D): the state alone, in the block where the
constructed token has it, so the prediction is read from block 0 as before and every
later layer is the constructed-token model's.  The authors learn a linear embedding of
``s_t`` instead (``use_emb``); ours is fixed, so that the two models differ only in the
first layer (a named alternative, docs/papers.md).

**The copy layer** (the authors' "hybrid first block": ``hybrid_first_block``,
``hybrid_sm``, ``use_pe_kq``): causal softmax attention whose queries and keys read the
token with sinusoidal positions concatenated, ``z_t = (e_t, p_t)``, and whose values read
``e_t``::

    q_t = W_Q z_t,  k_t = W_K z_t,  v_t = W_V e_t          (per head, d_k each)
    a_{t,t'} = softmax_{t' <= t}(q_t · k_{t'} / sqrt(d_k))
    e_t ← e_t + Σ_h P_h Σ_{t'} a_{t,t'} v_{t'}

(``p_t[2i] = sin(t / 10000^{2i/w})``, ``p_t[2i+1] = cos(…)``, t = 0, 1, …, as the authors'
``PositionalEncoding``).  A head that attends from t to t − 1 and writes ``s_{t−1}`` into
block 3 builds the constructed token's ``s_{t−1}``; the measures are the held-out R² of a
linear probe from the stream after the copy layer to ``s_{t−k}`` (the authors'
``TokenAnalyser``, k = 0 … 7) and the attention weight on the key t − 1.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import nn
from ..core._validate import array, cache as _cache, finite_result, params as _params, positive_int
from .attention import HEAD_KEYS

__all__ = ["COPY_KEYS", "CopyLayerCache", "raw_tokens", "positions", "init_copy_layer", "copy_layer_forward",
           "copy_layer_backward", "previous_weight"]

COPY_KEYS = HEAD_KEYS         # the linear layers' names: one flat parameter layout for the whole stack


@finite_result
def raw_tokens(S) -> np.ndarray:
    """``e_t = (0, s_t, 0, 0)`` for states S (B, T, D): (B, T, 4D)."""
    S = array("S", S, ndim=3)
    B, T, D = S.shape
    E = np.zeros((B, T, 4 * D))
    E[:, :, D:2 * D] = S
    return E


positions = nn.sinusoidal_positions    # the authors' PositionalEncoding (theory.core.nn)


def init_copy_layer(rng, width: int, heads: int, key_size: int, *, scale: float = 2e-4) -> dict:
    """Normal(0, scale²) weights: W_Q, W_K (H, d_k, 2·width) on ``(e_t, p_t)``, W_V (H, d_k,
    width), P (H, width, d_k)."""
    w, H, dk = positive_int("width", width), positive_int("heads", heads), positive_int("key_size", key_size)
    shapes = dict(W_Q=(H, dk, 2 * w), W_K=(H, dk, 2 * w), W_V=(H, dk, w), P=(H, w, dk))
    return {k: scale * rng.standard_normal(v) for k, v in shapes.items()}


class CopyLayerCache(NamedTuple):
    """What :func:`copy_layer_backward` needs."""
    E: np.ndarray               # (B, T, width) input tokens
    Z: np.ndarray               # (B, T, 2 width) tokens with positions
    params: dict
    attention: nn.AttentionCache
    Hh: np.ndarray              # (B, H, T, d_k) the heads' outputs


def _check(E, p):
    E = array("E", E, ndim=3)
    if not (isinstance(p, dict) and np.ndim(p.get("W_V")) == 3):
        raise ValueError(f"params must be a dict of W_Q, W_K (H, d_k, 2 width), W_V (H, d_k, width), P "
                         f"(init_copy_layer); got {p!r:.60}")
    H, dk, width = np.shape(p["W_V"])
    p = _params("params", p, dict(W_Q=(H, dk, 2 * width), W_K=(H, dk, 2 * width), W_V=(H, dk, width),
                                  P=(H, width, dk)))
    if E.shape[2] != width:
        raise ValueError(f"E must be {width} wide, as the layer's W_V; got shape {E.shape}")
    return E, p


@finite_result(with_cache=True)
def copy_layer_forward(E, params):
    """The copy layer on tokens E (B, T, width): ``(E + Σ_h P_h A_h V_h, cache)``."""
    return _copy_forward(*_check(E, params))


def _copy_forward(E, p):
    B, T, width = E.shape
    H, dk, _ = p["W_Q"].shape
    Z = np.concatenate([E, np.broadcast_to(positions(T, width), E.shape)], axis=2)   # z_t = (e_t, p_t)
    Q = np.einsum("btz,hkz->bhtk", Z, p["W_Q"])            # (B, H, T, d_k)
    K = np.einsum("btz,hkz->bhtk", Z, p["W_K"])
    V = np.einsum("btw,hkw->bhtk", E, p["W_V"])
    Hh, att = nn._softmax_attention(Q, K, V, nn.attention_mask(T, causal=True), 1.0 / np.sqrt(dk))
    out = E + np.einsum("bhtk,hwk->btw", Hh, p["P"])       # e_t + Σ_h P_h (A V)_t
    return out, CopyLayerCache(E, Z, p, att, Hh)


@finite_result
def copy_layer_backward(dout, cache):
    """Gradients ``(dE, {"W_Q", "W_K", "W_V", "P"})`` of :func:`copy_layer_forward`."""
    _cache("cache", cache, CopyLayerCache, "copy_layer_forward")
    return _copy_backward(array("dout", dout, shape=cache.E.shape), cache)


def _copy_backward(dout, cache):
    """dP = Σ dout^T H, dH = dout P, then softmax attention's backward; dE from V and from
    the first half of Z (the positions are fixed)."""
    E, Z, p, att, Hh = cache
    width = E.shape[2]
    g = {"P": np.einsum("btw,bhtk->hwk", dout, Hh)}
    dH = np.einsum("btw,hwk->bhtk", dout, p["P"])
    dQ, dK, dV = nn._softmax_attention_backward(dH, att)
    g["W_Q"] = np.einsum("bhtk,btz->hkz", dQ, Z)
    g["W_K"] = np.einsum("bhtk,btz->hkz", dK, Z)
    g["W_V"] = np.einsum("bhtk,btw->hkw", dV, E)
    dZ = np.einsum("bhtk,hkz->btz", dQ, p["W_Q"]) + np.einsum("bhtk,hkz->btz", dK, p["W_K"])
    dE = dout + dZ[:, :, :width] + np.einsum("bhtk,hkw->btw", dV, p["W_V"])
    return dE, g


@finite_result
def previous_weight(cache) -> np.ndarray:
    """Per head, the mean attention weight on the previous token, ``a_{t,t−1}``, over the
    batch and t = 2 … T: (H,).  1 for a head that only copies ``e_{t−1}``."""
    _cache("cache", cache, CopyLayerCache, "copy_layer_forward")
    A = cache.attention.weights                            # (B, H, T, T)
    return np.diagonal(A, offset=-1, axis1=2, axis2=3).mean(axis=(0, 2))
