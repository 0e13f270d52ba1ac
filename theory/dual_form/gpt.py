"""A small causal softmax transformer for Dai et al.'s experiments, with a hand-written backward.

Token features x (B, T, d_tok) → ``h⁰ = x W_E + P[:T]`` (learned absolute positions, as GPT).
Each layer ℓ = 1..L, pre-LayerNorm, H heads of size ``s = D/H``, no MLP (attention only):

    U = LN_ℓ(h),   Q, K, V = U W_Q, U W_K, U W_V                     (no biases)
    S[t, j] = q_t · k_j / √s,   A = softmax_j S over j ≤ t              (causal)
    Y_t = Σ_j A[t, j] v_j  (+ Σ_{i<t} η^{t−i} v_i: Dai's momentum attention, if η > 0)
    O = concat_heads(Y) W_O,   h ← h + O

then ``logits = LN_f(h) W_U``.  The pieces Dai et al.'s analysis records are kept in the
cache: ``S`` (the scores *before* the mask and softmax, as fairseq's ``record_attn_map``) and
``O`` (the attention layer's output after ``W_O``, before the residual sum, as fairseq's
``self_attn_out_hidden``).

``W_Q``, ``W_K``, ``W_V`` and ``W_O`` may carry one matrix per sequence, shape (B, D, D):
finetuning many test tasks at once (one copy of the weights per task) is then one batched
forward, and their gradients stay per sequence (shape (B, D, D); nothing is summed).
Matrices act on rows (``x W``).  The momentum term ``Σ_{i<t} η^{t−i} v_i`` is
:func:`theory.dual_form.momentum.momentum_attention`'s, inside a softmax head.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import array, as_rng, cache as _cache, finite_scalar, integer_array, positive_int
from ..core.nn import LayerNormCache, _layer_norm, _layer_norm_backward, _logsumexp

__all__ = ["WEIGHTS", "init_gpt", "gpt_forward", "gpt_backward", "gpt_loss", "GPTCache"]

WEIGHTS = ("W_Q", "W_K", "W_V", "W_O")          # the matrices of each layer, "l1.W_K" etc.


def init_gpt(rng, d_tok: int, n_out: int, *, D: int = 32, layers: int = 2, heads: int = 2, T: int = 64) -> dict:
    """Parameters ``{"W_E", "P", "l1.ln_g", "l1.ln_b", "l1.W_Q", …, "lnf_g", "lnf_b", "W_U"}``,
    GPT-2's initialisation: every matrix N(0, 0.02²), ``W_O`` N(0, 0.02²/(2L)), gains 1, biases 0."""
    rng = as_rng(rng)
    d_tok, n_out, D = positive_int("d_tok", d_tok), positive_int("n_out", n_out), positive_int("D", D)
    layers, heads, T = positive_int("layers", layers), positive_int("heads", heads), positive_int("T", T)
    if D % heads:
        raise ValueError(f"D must be a multiple of heads; got D = {D}, heads = {heads}")
    n = lambda *shape, std=0.02: std * rng.standard_normal(shape)
    p = {"W_E": n(d_tok, D), "P": n(T, D)}
    for l in range(1, layers + 1):
        p.update({f"l{l}.ln_g": np.ones(D), f"l{l}.ln_b": np.zeros(D),
                  f"l{l}.W_Q": n(D, D), f"l{l}.W_K": n(D, D), f"l{l}.W_V": n(D, D),
                  f"l{l}.W_O": n(D, D, std=0.02 / np.sqrt(2 * layers))})
    p.update({"lnf_g": np.ones(D), "lnf_b": np.zeros(D), "W_U": n(D, n_out)})
    return p


class _LayerCache(NamedTuple):
    """One layer's values (heads batched: (B, H, T, s))."""
    U: np.ndarray               # (B, T, D) LN_ℓ(h)
    ln: LayerNormCache
    Q: np.ndarray
    K: np.ndarray
    V: np.ndarray
    S: np.ndarray               # (B, H, T, T) q_t · k_j / √s before the mask (recorded)
    A: np.ndarray               # (B, H, T, T) attention weights
    Y: np.ndarray               # (B, T, D) heads concatenated
    O: np.ndarray               # (B, T, D) the layer's output Y W_O (recorded)


class GPTCache(NamedTuple):
    """What :func:`gpt_backward` needs, and what the analysis reads (``layers[ℓ].S``, ``.O``)."""
    x: np.ndarray               # (B, T, d_tok)
    layers: tuple
    Z: np.ndarray               # (B, T, D) LN_f(h)
    ln_f: LayerNormCache
    params: dict
    heads: int
    eta: float


def _n_layers(params) -> int:
    return sum(1 for k in params if k.endswith(".W_Q"))


def _decay(T: int, eta: float) -> np.ndarray:
    """``M[t, i] = η^{t−i}`` for i < t, else 0 (T, T): the momentum term is ``M V``."""
    age = np.arange(T)[:, None] - np.arange(T)[None, :]
    return np.where(age > 0, eta ** np.maximum(age, 0), 0.0)


def _wgrad(U, dY, W):
    """``∂/∂W`` of ``Σ dY ⊙ (U W)``: summed over the batch for a shared W, per sequence otherwise."""
    if W.ndim == 2:
        return U.reshape(-1, U.shape[-1]).T @ dY.reshape(-1, dY.shape[-1])
    return U.transpose(0, 2, 1) @ dY


def _layer(h, p, l, H, causal, M):
    B, T, D = h.shape
    s = D // H
    U, c_ln = _layer_norm(h, p[f"l{l}.ln_g"], p[f"l{l}.ln_b"])
    split = lambda X: X.reshape(B, T, H, s).transpose(0, 2, 1, 3)             # (B, H, T, s)
    Q, K, V = (split(U @ p[f"l{l}.{w}"]) for w in ("W_Q", "W_K", "W_V"))       # W: (D, D) or (B, D, D)
    S = Q @ K.transpose(0, 1, 3, 2) / np.sqrt(s)                              # S = q_t·k_j/√s
    Z = np.where(causal, S, -np.inf)                                          # j ≤ t only
    A = np.exp(Z - Z.max(-1, keepdims=True))
    A /= A.sum(-1, keepdims=True)                                             # A = softmax_j S
    Yh = A @ V
    if M is not None:
        Yh = Yh + M @ V                                                       # + Σ_{i<t} η^{t−i} v_i
    Y = Yh.transpose(0, 2, 1, 3).reshape(B, T, D)
    O = Y @ p[f"l{l}.W_O"]                                                    # O = Y W_O
    return h + O, _LayerCache(U, c_ln, Q, K, V, S, A, Y, O)


def _layer_backward(dh_out, c, p, l, H, M, signals=None):
    B, T, D = dh_out.shape
    s = D // H
    g = {f"l{l}.W_O": _wgrad(c.Y, dh_out, p[f"l{l}.W_O"])}
    dY = (dh_out @ np.swapaxes(p[f"l{l}.W_O"], -1, -2)).reshape(B, T, H, s).transpose(0, 2, 1, 3)
    W = c.A if M is None else c.A + M
    dV = W.transpose(0, 1, 3, 2) @ dY                                         # (A + M)ᵀ dY
    dA = dY @ c.V.transpose(0, 1, 3, 2)
    dS = c.A * (dA - (c.A * dA).sum(-1, keepdims=True)) / np.sqrt(s)          # softmax backward, /√s
    dQ, dK = dS @ c.K, dS.transpose(0, 1, 3, 2) @ c.Q
    merge = lambda X: X.transpose(0, 2, 1, 3).reshape(B, T, D)
    dU = 0.0
    for w, dX in (("W_Q", merge(dQ)), ("W_K", merge(dK)), ("W_V", merge(dV))):
        g[f"l{l}.{w}"] = _wgrad(c.U, dX, p[f"l{l}.{w}"])
        if signals is not None:
            signals[f"l{l}.{w}"] = dX                                         # ∂L/∂(U W) (B, T, D)
        dU = dU + dX @ np.swapaxes(p[f"l{l}.{w}"], -1, -2)
    dh, g[f"l{l}.ln_g"], g[f"l{l}.ln_b"] = _layer_norm_backward(dU, c.ln)
    return dh_out + dh, g


def _forward(p, x, heads, eta):
    """Unchecked kernel of :func:`gpt_forward`."""
    B, T, _ = x.shape
    causal = np.tri(T, dtype=bool)
    M = _decay(T, eta) if eta > 0 else None
    h = x @ p["W_E"] + p["P"][:T]                                             # h⁰ = x W_E + P
    layers = []
    for l in range(1, _n_layers(p) + 1):
        h, c = _layer(h, p, l, heads, causal, M)
        layers.append(c)
    Z, c_f = _layer_norm(h, p["lnf_g"], p["lnf_b"])
    return Z @ p["W_U"], GPTCache(x, tuple(layers), Z, c_f, p, heads, eta)


def _backward(dlogits, cache, signals=None):
    """Unchecked kernel of :func:`gpt_backward`; a dict ``signals`` receives each layer's
    ``∂L/∂Q``, ``∂L/∂K``, ``∂L/∂V`` (heads merged, (B, T, D)) under ``"l1.W_Q"`` etc."""
    x, layers, Z, c_f, p, H, eta = cache
    T = x.shape[1]
    M = _decay(T, eta) if eta > 0 else None
    g = {"W_U": Z.reshape(-1, Z.shape[-1]).T @ dlogits.reshape(-1, dlogits.shape[-1])}
    dh, g["lnf_g"], g["lnf_b"] = _layer_norm_backward(dlogits @ p["W_U"].T, c_f)
    for l in range(len(layers), 0, -1):
        dh, gl = _layer_backward(dh, layers[l - 1], p, l, H, M, signals)
        g.update(gl)
    g["W_E"] = x.reshape(-1, x.shape[-1]).T @ dh.reshape(-1, dh.shape[-1])
    P = np.zeros_like(p["P"])
    P[:T] = dh.sum(0)
    g["P"] = P
    return g


def _check_params(params, x=None, x_name: str = "x") -> dict:
    """The parameters as float64 arrays, every key of :func:`init_gpt` present with a
    consistent shape (a layer's matrices (D, D), or one per sequence (B, D, D) matching x)."""
    if not isinstance(params, dict) or "W_E" not in params or "l1.W_Q" not in params:
        raise ValueError(f"params must be the dict of init_gpt (keys W_E, P, l1.W_Q, …); got "
                         f"{type(params).__name__ if not isinstance(params, dict) else sorted(params)}")
    p = {k: array(f"params[{k!r}]", v, ndim=(1, 2, 3)) for k, v in params.items()}
    d_tok, D = array("params['W_E']", p["W_E"], ndim=2).shape
    L = _n_layers(p)
    want = {"P": (None, D), "lnf_g": (D,), "lnf_b": (D,), "W_U": (D, None)}
    for l in range(1, L + 1):
        want.update({f"l{l}.ln_g": (D,), f"l{l}.ln_b": (D,)})
        want.update({f"l{l}.{w}": None for w in WEIGHTS})
    missing, extra = set(want) - set(p), set(p) - set(want) - {"W_E"}
    if missing or extra:
        raise ValueError(f"params must hold the keys of init_gpt; missing {sorted(missing)}, unexpected {sorted(extra)}")
    B = None if x is None else x.shape[0]
    for k, shape in want.items():
        v = p[k]
        if shape is None:                                   # a layer's matrix: shared or per sequence
            ok = v.shape[-2:] == (D, D) and (v.ndim == 2 or (v.ndim == 3 and B in (None, v.shape[0])))
            if not ok:
                raise ValueError(f"params[{k!r}] must have shape ({D}, {D})" + (f" or ({B}, {D}, {D})" if B else
                                 " or (B, {D}, {D})") + f"; got {v.shape}")
        elif v.ndim != len(shape) or any(a is not None and a != b for a, b in zip(shape, v.shape)):
            raise ValueError(f"params[{k!r}] must have shape {tuple('·' if a is None else a for a in shape)}; got {v.shape}")
    if x is not None:
        if x.shape[-1] != d_tok:
            raise ValueError(f"{x_name} has {x.shape[-1]} features per token but params['W_E'] takes {d_tok}")
        if x.shape[1] > p["P"].shape[0]:
            raise ValueError(f"{x_name} has {x.shape[1]} positions but params['P'] has {p['P'].shape[0]}")
    return p


def _model_args(params, heads, eta, x=None, x_name: str = "x"):
    """``(params, heads, eta)`` checked: heads must divide the width, 0 ≤ η < 1."""
    params = _check_params(params, x, x_name)
    heads = positive_int("heads", heads)
    if params["W_E"].shape[1] % heads:
        raise ValueError(f"heads = {heads} does not divide the width D = {params['W_E'].shape[1]}")
    return params, heads, finite_scalar("eta", eta, nonnegative=True, below=1.0)


def gpt_forward(params, x, *, heads: int = 2, eta: float = 0.0):
    """``(logits (B, T, n_out), cache)`` for token features x (B, T, d_tok); ``eta`` > 0 adds
    Dai's momentum term ``Σ_{i<t} η^{t−i} v_i`` to every head (η < 1)."""
    x = array("x", x, ndim=3)
    params, heads, eta = _model_args(params, heads, eta, x)
    return _forward(params, x, heads, eta)


def gpt_backward(dlogits, cache) -> dict:
    """The gradients of ``Σ dlogits ⊙ logits`` for every parameter (per-sequence weights
    get per-sequence gradients)."""
    cache = _cache("cache", cache, GPTCache, "gpt_forward")
    dlogits = array("dlogits", dlogits, shape=cache.x.shape[:2] + (cache.params["W_U"].shape[1],))
    return _backward(dlogits, cache)


def _xent(logits, labels, reduce):
    """Cross-entropy at the positions with ``labels ≥ 0``: mean over them (``"mean"``) or,
    per sequence summed, then summed over sequences (``"sum"``, finetuning: every sequence
    its own task); ``(loss, dlogits)``."""
    keep = labels >= 0
    logp = logits - _logsumexp(logits, axis=-1)           # log-softmax (keeps the axis)
    y = np.where(keep, labels, 0)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    scale = 1.0 / keep.sum() if reduce == "mean" else 1.0
    loss = -scale * picked[keep].sum()
    d = np.exp(logp)
    np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], -1) - 1.0, axis=-1)
    return loss, d * (scale * keep)[..., None]


def gpt_loss(params, x, labels, *, heads: int = 2, eta: float = 0.0, reduce: str = "mean"):
    """``(loss, grads)``: cross-entropy of the next label at every position with
    ``labels[b, t] ≥ 0`` (−1: no loss there), mean over those positions, or ``reduce="sum"``."""
    logits, cache = gpt_forward(params, x, heads=heads, eta=eta)
    labels = integer_array("labels", labels, shape=logits.shape[:2], low=-1, high=logits.shape[-1])
    if not (labels >= 0).any():
        raise ValueError("labels has no position with a label (all −1): the loss is undefined")
    if reduce not in ("mean", "sum"):
        raise ValueError(f"reduce must be 'mean' or 'sum'; got {reduce!r}")
    loss, dlogits = _xent(logits, labels, reduce)
    return loss, _backward(dlogits, cache)
