"""von Oswald et al. 2023b: causal linear self-attention on the tokens of a linear
dynamical system — one layer as one GD step on the mesa-objective, and the deep models
the paper trains, with their hand-written backward.

- **Tokens** (Sec. 3): ``e_t = (0, s_t, s_t, s_{t-1})`` with ``s_0 = 0``; a model predicts
  ``s_{t+1}`` in the first block (no minus sign, unlike the ICML paper's tokens); attention
  is causal and includes the current token.
- **Mesa-objective** ``L_t(W) = ½ Σ_{t'<=t} ||s_{t'} - W s_{t'-1}||²`` (Sec. 3, Eq. (4)).
- **Causal linear self-attention**: ``e_t ← e_t + P Σ_{t'<=t} (W_V e_{t'})(W_K e_{t'})^T (W_Q e_t)``;
  with key ← s_{t'-1}, query ← s_t, value ← s_{t'} into the first block and ``P = η I`` it is
  one GD step on ``L_t`` from W = 0 at every t (Sec. 4, Prop. 1 of the ICML paper in the
  autoregressive setting): ``ŝ_{t+1} = η Σ_{t'<=t} s_{t'} s_{t'-1}^T s_t``.
- **Deep causal linear attention** (Secs. 3–4, the trained models): several layers of
  several heads on the residual stream, no MLP or layer norm, the stream optionally
  clipped after each layer; hand-written backward; loss ``Σ_{t<T} ||s_{t+1} − ŝ||²/(2B(T − 1))``.

Rows are tokens: ``E`` is (B, T, 4D); matrices act on columns as in the paper.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import nn
from ..core._validate import array, as_rng, cache as _cache, finite_result, finite_scalar, params as _params, positive_int

__all__ = ["HEAD_KEYS", "LSA_KEYS", "CausalLSACache", "CausalAttentionCache", "tokens", "causal_lsa_forward", "gd_construction", "gd_prediction", "init_layer",
           "causal_attention_forward", "causal_attention_backward", "residual_streams", "next_state_loss"]

LSA_KEYS = ("W_K", "W_Q", "W_V", "P")


# --------------------------------------------------------------------------- tokens
@finite_result
def tokens(S) -> np.ndarray:
    """``e_t = (0, s_t, s_t, s_{t-1})`` for states S (B, T, D), ``s_0 = 0``: (B, T, 4D)."""
    S = array("S", S, ndim=3)
    B, T, D = S.shape
    E = np.zeros((B, T, 4 * D))
    E[:, :, D:2 * D] = S
    E[:, :, 2 * D:3 * D] = S
    E[:, 1:, 3 * D:] = S[:, :-1]                           # s_{t-1}; s_0 = 0
    return E


# --------------------------------------------------------------------------- causal LSA = one GD step
class CausalLSACache(NamedTuple):
    """The input tokens, the weights and the attention's cache of :func:`causal_lsa_forward`."""
    E: np.ndarray               # (B, T, D)
    params: dict
    attention: nn.AttentionCache


@finite_result(with_cache=True)
def causal_lsa_forward(E, params):
    """One causal linear self-attention layer, current token included:
    ``e_t ← e_t + P Σ_{t'<=t} (W_V e_{t'})(W_K e_{t'})^T (W_Q e_t)``.  E: (B, T, D); params
    ``{"W_K", "W_Q", "W_V", "P"}``, each (D, D).  Returns the new tokens and a cache."""
    E = array("E", E, ndim=3)
    D = E.shape[2]
    p = _params("params", params, {k: (D, D) for k in LSA_KEYS})
    T = E.shape[1]
    H, cache = nn._linear_attention(E @ p["W_Q"].T, E @ p["W_K"].T, E @ p["W_V"].T,
                                    mask=nn.attention_mask(T, causal=True))
    return E + H @ p["P"].T, CausalLSACache(E, p, cache)


@finite_result
def gd_construction(D: int, eta: float) -> dict:
    """The weights that make :func:`causal_lsa_forward` one GD step on ``L_t`` from W = 0
    on the tokens of :func:`tokens` (state size D, width 4D): keys read ``s_{t'-1}``
    (block 3), queries read ``s_t`` (block 1), values copy ``s_{t'}`` (block 2) into block
    0, ``P = η I``."""
    D, eta = positive_int("D", D), finite_scalar("eta", eta)
    I, Z = np.eye(D), np.zeros((4 * D, 4 * D))
    W_K, W_Q, W_V = Z.copy(), Z.copy(), Z.copy()
    W_K[3 * D:, 3 * D:] = I                                # key:   s_{t'-1}
    W_Q[3 * D:, D:2 * D] = I                               # query: s_t, in the key's block
    W_V[:D, 2 * D:3 * D] = I                               # value: s_{t'} into block 0
    return {"W_K": W_K, "W_Q": W_Q, "W_V": W_V, "P": eta * np.eye(4 * D)}


@finite_result
def gd_prediction(S, eta: float) -> np.ndarray:
    """``ŝ_{t+1} = W_1 s_t`` after one GD step on ``L_t(W) = ½ Σ_{t'<=t} ||s_{t'} - W s_{t'-1}||²``
    from W = 0 with rate η: ``W_1 = η Σ_{t'<=t} s_{t'} s_{t'-1}^T`` (s_0 = 0).  (B, T, D)."""
    S = array("S", S, ndim=3)
    eta = finite_scalar("eta", eta)
    prev = np.concatenate([np.zeros_like(S[:, :1]), S[:, :-1]], axis=1)   # s_{t-1}
    W1 = eta * np.cumsum(S[:, :, :, None] * prev[:, :, None, :], axis=1)   # (B, T, D, D)
    return np.einsum("btij,btj->bti", W1, S)


# --------------------------------------------------------------------------- deep causal linear attention
HEAD_KEYS = ("W_Q", "W_K", "W_V", "P")


def init_layer(rng, width: int, heads: int, key_size: int, *, scale: float = 2e-4) -> dict:
    """One multi-head causal linear-attention layer, weights ~ N(0, scale²) (the authors'
    init std 2e-4): ``W_Q, W_K`` (H, d_k, width), ``W_V`` (H, d_k, width), ``P`` (H, width, d_k)."""
    rng = as_rng(rng)
    width, heads, key_size = positive_int("width", width), positive_int("heads", heads), positive_int("key_size", key_size)
    scale = finite_scalar("scale", scale, positive=True)
    shapes = {"W_Q": (heads, key_size, width), "W_K": (heads, key_size, width), "W_V": (heads, key_size, width),
              "P": (heads, width, key_size)}
    return {k: scale * rng.standard_normal(v) for k, v in shapes.items()}


def _check_layer(E, p):
    E = array("E", E, ndim=3)
    width = E.shape[2]
    if not isinstance(p, dict) or set(p) != set(HEAD_KEYS):
        raise ValueError(f"params must be a dict with keys {list(HEAD_KEYS)}; got {p!r:.60}")
    H, dk = array("params['W_Q']", p["W_Q"], ndim=3).shape[:2]
    shapes = {"W_Q": (H, dk, width), "W_K": (H, dk, width), "W_V": (H, dk, width), "P": (H, width, dk)}
    return E, _params("params", p, shapes)


class CausalAttentionCache(NamedTuple):
    """What :func:`causal_attention_backward` needs (heads batched)."""
    E: np.ndarray               # (B, T, width) the residual stream in
    params: dict
    mask: np.ndarray            # (T, T) 1 where t' <= t
    Q: np.ndarray               # (B, H, T, d_k)
    K: np.ndarray
    V: np.ndarray
    A: np.ndarray               # (B, H, T, T) causal scores
    Hh: np.ndarray              # (B, H, T, d_k) A V


@finite_result(with_cache=True)
def causal_attention_forward(E, params):
    """``e_t ← e_t + Σ_h P_h Σ_{t'<=t} (W_V,h e_{t'})(W_K,h e_{t'})^T (W_Q,h e_t)``: H heads of
    causal linear attention (current token included) on the residual stream E (B, T, width)."""
    return _attention_forward(*_check_layer(E, params))


def _qkv_weights(p):
    """The three projections stacked for one matrix product: (3·H·d_k, width)."""
    H, dk, width = p["W_Q"].shape
    return np.concatenate([p["W_Q"], p["W_K"], p["W_V"]]).reshape(3 * H * dk, width)


def _attention_forward(E, p):
    """Unchecked kernel of :func:`causal_attention_forward` (each projection of every
    head in one matrix product; heads are batched in the attention products)."""
    B, T, width = E.shape
    H, dk, _ = p["W_Q"].shape
    mask = np.tril(np.ones((T, T)))                        # 1 where t' <= t
    qkv = (E.reshape(B * T, width) @ _qkv_weights(p).T).reshape(B, T, 3, H, dk).transpose(2, 0, 3, 1, 4)
    Q, K, V = qkv                                          # each (B, H, T, d_k)
    A = Q @ np.swapaxes(K, -1, -2)                         # (B, H, T, T) scores q_t · k_{t'}
    A *= mask                                              # causal: t' <= t
    Hh = A @ V                                             # (B, H, T, d_k)
    P_cat = p["P"].transpose(1, 0, 2).reshape(width, H * dk)
    out = (Hh.transpose(0, 2, 1, 3).reshape(B * T, H * dk) @ P_cat.T).reshape(B, T, width)
    out += E                                               # residual
    return out, CausalAttentionCache(E, p, mask, Q, K, V, A, Hh)


@finite_result
def causal_attention_backward(dout, cache):
    """Gradients ``(dE, {"W_Q", "W_K", "W_V", "P"})`` of :func:`causal_attention_forward`."""
    _cache("cache", cache, CausalAttentionCache, "causal_attention_forward")
    return _attention_backward(array("dout", dout, shape=cache.E.shape), cache)


def _attention_backward(dout, cache):
    """Unchecked kernel: dP = Σ dout^T H, dH = dout P, dA = dH V^T (masked), dV = A^T dH,
    dQ = dA K, dK = dA^T Q; each projection's gradient and the input's from Q, K, V."""
    E, p, mask, Q, K, V, A, Hh = cache
    B, T, width = E.shape
    H, dk, _ = p["W_Q"].shape
    d2 = dout.reshape(B * T, width)
    H_cat = Hh.transpose(0, 2, 1, 3).reshape(B * T, H * dk)
    P_cat = p["P"].transpose(1, 0, 2).reshape(width, H * dk)
    g = {"P": (d2.T @ H_cat).reshape(width, H, dk).transpose(1, 0, 2)}
    dH = (d2 @ P_cat).reshape(B, T, H, dk).transpose(0, 2, 1, 3)          # (B, H, T, d_k)
    dA = dH @ np.swapaxes(V, -1, -2)
    dA *= mask
    dQKV = np.empty((B, T, 3, H, dk))                      # dQ, dK, dV in the projections' layout
    by_head = dQKV.transpose(2, 0, 3, 1, 4)                # (3, B, H, T, d_k) view
    np.matmul(dA, K, out=by_head[0])                       # dQ = dA K
    np.matmul(np.swapaxes(dA, -1, -2), Q, out=by_head[1])  # dK = dA^T Q
    np.matmul(np.swapaxes(A, -1, -2), dH, out=by_head[2])  # dV = A^T dH
    dQKV = dQKV.reshape(B * T, 3 * H * dk)
    dW = (dQKV.T @ E.reshape(B * T, width)).reshape(3, H, dk, width)
    g["W_Q"], g["W_K"], g["W_V"] = dW
    dE = (dQKV @ _qkv_weights(p)).reshape(B, T, width)
    dE += dout
    return dE, g


def _checked_layers(layers, E):
    if not isinstance(layers, (list, tuple)) or not layers:
        raise ValueError(f"layers must be a non-empty list of layer weights; got {type(layers).__name__}")
    checked = []
    for i, p in enumerate(layers):
        try:
            checked.append(_check_layer(E, p)[1])
        except ValueError as err:
            raise ValueError(f"layers[{i}]: {err}") from None
    return checked


def _clip_value(clip):
    return None if clip is None else finite_scalar("clip", clip, positive=True)


@finite_result
def residual_streams(layers, E, *, clip: float | None = None) -> list:
    """The residual stream before the first layer and after each: ``[E_0, E_1, …, E_L]``,
    each (B, T, width), for tokens E and a list of layer weights (the linear probes read
    these).  ``clip``: the stream is clipped to [−clip, clip] after every layer (the authors'
    forward activation clipping)."""
    E = array("E", E, ndim=3)
    return _stack_forward(_checked_layers(layers, E), E, _clip_value(clip))[0]


def _stack_forward(layers, E, clip):
    streams, caches = [E], []
    for p in layers:
        E, c = _attention_forward(E, p)
        if clip is not None:
            c = c + (np.abs(E) < clip,)                    # where the clip passes the gradient
            E = np.clip(E, -clip, clip)
        streams.append(E)
        caches.append(c)
    return streams, caches


@finite_result
def next_state_loss(layers, S, *, clip: float | None = None, E=None):
    """The training loss of a deep causal linear-attention model on states S (B, T, D):
    tokens E (default :func:`tokens` of S), the layers in turn (the stream clipped to
    [−clip, clip] after each if ``clip`` is given; gradient 0 where it clips), ŝ_{t+1} read
    from the first block, and ``L = Σ_{t<T} ||s_{t+1} − ŝ_{t+1}||² / (2 B (T − 1))``: the mean
    over the T − 1 targets, as the authors' code divides (``train.py``: 51 states, 50
    targets, ``/(2·B·50)``).  Returns ``(loss, grads)`` with one dict of gradients per layer."""
    S = array("S", S, ndim=3)
    E = tokens(S) if E is None else array("E", E, shape=S.shape[:2] + (None,))
    if E.shape[2] < S.shape[2]:
        raise ValueError(f"E must be at least D = {S.shape[2]} wide to hold the prediction; got {E.shape}")
    return _next_state_loss(_checked_layers(layers, E), S, E, _clip_value(clip))


def _next_state_loss(layers, S, E, clip=None, input_grad=False):
    """Kernel of :func:`next_state_loss`; ``input_grad``: also the gradient of the tokens E."""
    B, T, D = S.shape
    streams, caches = _stack_forward(layers, E, clip)
    E = streams[-1]
    r = E[:, :-1, :D] - S[:, 1:]                           # ŝ_{t+1} − s_{t+1}, t = 1..T−1
    n = B * (T - 1)                                        # the targets s_2 ... s_T of every sequence
    loss = 0.5 * float(np.sum(r * r)) / n
    dE = np.zeros_like(E)
    dE[:, :-1, :D] = r / n
    dE0, grads = _stack_backward(caches, dE, clip)
    return (loss, grads, dE0) if input_grad else (loss, grads)


def _stack_backward(caches, dE, clip):
    """Back through the layers of :func:`_stack_forward`: ``(dE_0, grads)`` for the
    gradient ``dE`` of the last stream (the clip passes the gradient where it did not clip)."""
    grads = []
    for c in reversed(caches):
        if clip is not None:
            dE = dE * c[-1]
            c = c[:-1]
        dE, g = _attention_backward(dE, c)
        grads.append(g)
    return dE, grads[::-1]
