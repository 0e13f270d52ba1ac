"""Building blocks as forward/backward pairs, float64, batched.

Every layer comes as ``y, cache = f_forward(x, ...)`` and
``dx, ... = f_backward(dy, cache)``; the backward is hand-written right under the
formula it differentiates, and never updates anything in place.

Caches are small named tuples (:class:`LinearCache`, :class:`AttentionCache`, ...): a
backward pass refuses a cache that its forward did not make, and ``cache.weights`` reads
better than ``cache[-1]``.

Row-vector convention.  The papers write tokens as *columns* (``y = W x``,
``LinearAttn(V, K, q) = V K^T q``).  Here tokens are *rows* of arrays shaped
``(..., T, D)`` (batch first), so every formula appears transposed:
``y = x W^T`` and ``out = (Q K^T) V`` with one query per row of ``Q``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import array, cache as _cache, finite_result, finite_scalar, flag, integer_array, positive_int, same_size
from ._validate import choice, params as _params

__all__ = [
    "LinearCache", "LayerNormCache", "AttentionCache", "SelfAttentionCache", "SquaredErrorCache", "CrossEntropyCache",
    "linear_forward", "linear_backward",
    "softmax", "softmax_backward", "logsumexp", "log_softmax",
    "relu_forward", "relu_backward",
    "layer_norm_forward", "layer_norm_backward",
    "sinusoidal_positions", "attention_mask",
    "linear_attention_forward", "linear_attention_backward",
    "softmax_attention_forward", "softmax_attention_backward",
    "self_attention_forward", "self_attention_backward",
    "squared_error_forward", "squared_error_backward",
    "cross_entropy_forward", "cross_entropy_backward",
]


def _check_dy(dy, like: np.ndarray, name: str = "dy") -> np.ndarray:
    return array(name, dy, shape=like.shape)


def _axis(axis, ndim: int) -> int:
    """An axis of an array with ``ndim`` dimensions (negative counts from the end)."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"axis must be an integer in [-{ndim}, {ndim}); got {axis!r}")
    return int(axis)


# --------------------------------------------------------------------------- caches
class LinearCache(NamedTuple):
    """What :func:`linear_backward` needs: the input rows, the weight, whether there was a bias."""
    x: np.ndarray               # (..., D_in)
    W: np.ndarray               # (D_out, D_in)
    has_bias: bool


class LayerNormCache(NamedTuple):
    """What :func:`layer_norm_backward` needs: the normalised rows, 1/√(σ² + ε), the gain."""
    xhat: np.ndarray            # (..., n)
    inv: np.ndarray             # (..., 1)
    gain: np.ndarray            # (n,)


class AttentionCache(NamedTuple):
    """What the attention backward passes need.  ``weights`` are the masked scores
    ``scale Q Kᵀ ⊙ M`` (``kind="linear"``) or the softmax weights P (``kind="softmax"``)."""
    kind: str                   # "linear" or "softmax"
    Q: np.ndarray               # (..., T, d_k)
    K: np.ndarray               # (..., S, d_k)
    V: np.ndarray               # (..., S, d_v)
    mask: np.ndarray | None     # (..., T, S) booleans
    scale: float
    weights: np.ndarray         # (..., T, S)


class SelfAttentionCache(NamedTuple):
    """The three projections' caches and the attention's."""
    q: LinearCache
    k: LinearCache
    v: LinearCache
    attention: AttentionCache


class SquaredErrorCache(NamedTuple):
    residual: np.ndarray        # pred − target (..., D)
    n: int                      # rows


class CrossEntropyCache(NamedTuple):
    probs: np.ndarray           # softmax(z) (..., C)
    labels: np.ndarray          # (...,)
    n: int                      # rows


# --------------------------------------------------------------------------- linear
@finite_result(with_cache=True)
def linear_forward(x, W, b=None):
    """Affine map ``y = W x + b`` applied to every row: ``y = x W^T + b``.

    x: (..., D_in); W: (D_out, D_in); b: (D_out,) or None.  Returns y: (..., D_out).
    """
    W = array("W", W, ndim=2)
    x = array("x", x, min_ndim=1)
    same_size("input width", x=x.shape[-1], W=W.shape[1])
    if b is not None:
        b = array("b", b, shape=(W.shape[0],))
    return _linear(x, W, b)


def _linear(x, W, b=None):
    """Unchecked kernel of :func:`linear_forward` (one 2-d GEMM over all rows)."""
    y = (x.reshape(-1, W.shape[1]) @ W.T).reshape(x.shape[:-1] + (W.shape[0],))  # (..., D_out)
    if b is not None:
        y = y + b
    return y, LinearCache(x, W, b is not None)


@finite_result
def linear_backward(dy, cache):
    """Gradients of ``y = x W^T + b``: dx = dy W, dW = sum_rows dy^T x, db = sum_rows dy.

    Returns ``dx, {"W": dW, "b": db}`` (``"b"`` only if the forward had a bias).
    """
    x, W, _ = _cache("cache", cache, LinearCache, "linear_forward")
    return _linear_backward(array("dy", dy, shape=x.shape[:-1] + (W.shape[0],)), cache)


def _linear_backward(dy, cache):
    """Unchecked kernel of :func:`linear_backward`."""
    x, W, has_b = cache
    dy2 = dy.reshape(-1, W.shape[0])                       # (rows, D_out)
    x2 = x.reshape(-1, W.shape[1])                         # (rows, D_in)
    dx = (dy2 @ W).reshape(x.shape)                        # (..., D_in)
    grads = {"W": dy2.T @ x2}                              # (D_out, D_in) = sum_i dy_i x_i^T
    if has_b:
        grads["b"] = dy2.sum(axis=0)                       # (D_out,)
    return dx, grads


# --------------------------------------------------------------------------- softmax
def softmax(z, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax: ``p_j = exp(z_j - max z) / sum_k exp(z_k - max z)``.

    ``-inf`` entries (masked logits) get probability 0; a slice that is all ``-inf``
    has no softmax and raises ``ValueError``.
    """
    z = _logits("z", z)
    axis = _axis(axis, z.ndim)
    if np.isneginf(np.max(z, axis=axis)).any():
        raise ValueError(f"softmax over an all -inf (fully masked) slice; logits shape {z.shape}")
    return _softmax(z, axis)


def _logits(name: str, z) -> np.ndarray:
    """Logits: a float64 array of at least one dimension, finite or -inf (masked)."""
    if z is None or isinstance(z, (str, bytes)):
        raise ValueError(f"{name} must be a numeric array; got {z!r}")
    try:
        z = np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array; got {type(z).__name__}: {err}") from None
    if z.ndim == 0 or 0 in z.shape:
        raise ValueError(f"{name} must have at least one dimension and no empty axis; got shape {z.shape}")
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError(f"{name} must be finite or -inf (masked); got nan/+inf in shape {z.shape}")
    return z


def _softmax(z, axis: int = -1) -> np.ndarray:
    """Unchecked kernel of :func:`softmax`."""
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@finite_result
def logsumexp(z, axis: int = -1) -> np.ndarray:
    """Stable ``log Σ_j exp(z_j) = m + log Σ_j exp(z_j - m)``, m = max z; the axis is kept (size 1)."""
    z = array("z", z, min_ndim=1)
    return _logsumexp(z, _axis(axis, z.ndim))


def _logsumexp(z, axis: int = -1) -> np.ndarray:
    """Unchecked kernel of :func:`logsumexp`."""
    m = np.max(z, axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


@finite_result
def log_softmax(z, axis: int = -1) -> np.ndarray:
    """Stable ``log softmax(z) = z - logsumexp(z)``."""
    z = array("z", z, min_ndim=1)
    return z - _logsumexp(z, _axis(axis, z.ndim))


@finite_result
def softmax_backward(dp, p, axis: int = -1) -> np.ndarray:
    """Vector-Jacobian product of softmax: ``dz = p * (dp - <dp, p>)``."""
    p = array("p", p, min_ndim=1)
    if p.min() < 0 or p.max() > 1:
        raise ValueError(f"p must be softmax probabilities in [0, 1]; got range [{p.min():.3g}, {p.max():.3g}]")
    return _softmax_backward(_check_dy(dp, p, "dp"), p, _axis(axis, p.ndim))


def _softmax_backward(dp, p, axis: int = -1) -> np.ndarray:
    """Unchecked kernel of :func:`softmax_backward` (entries with p = 0 get dz = 0)."""
    return p * (dp - np.sum(dp * p, axis=axis, keepdims=True))


# --------------------------------------------------------------------------- layer norm
@finite_result(with_cache=True)
def layer_norm_forward(x, gain, bias, eps: float = 1e-5):
    """``y = g ⊙ (x − μ)/√(σ² + ε) + b`` over the last axis (μ, σ² the row's mean and biased
    variance, as torch.nn.LayerNorm); returns ``(y, cache)``."""
    x = array("x", x, min_ndim=1)
    n = x.shape[-1]
    gain, bias = array("gain", gain, shape=(n,)), array("bias", bias, shape=(n,))
    eps = finite_scalar("eps", eps, positive=True)
    return _layer_norm(x, gain, bias, eps)


def _layer_norm(x, gain, bias, eps=1e-5):
    """Unchecked kernel of :func:`layer_norm_forward`.  The row means are products with
    ``w = (1/n, …, 1/n)``: numpy's ``mean`` over a short last axis (n = 16: a step's rows
    are 16 wide) is several times slower than one matrix–vector product."""
    w = np.full(x.shape[-1], 1.0 / x.shape[-1], dtype=x.dtype)        # float32 rows stay float32
    xc = x - (x @ w)[..., None]                                         # x − μ
    inv = 1.0 / np.sqrt((xc * xc) @ w + eps)[..., None]                 # 1/√(σ² + ε)
    xhat = xc * inv
    y = xhat * gain
    y += bias
    return y, LayerNormCache(xhat, inv, gain)


@finite_result
def layer_norm_backward(dy, cache):
    """``(dx, dgain, dbias)``: with x̂ the normalised row and n its length,
    ``dx = (1/√(σ²+ε)) (ĝ − mean(ĝ) − x̂ mean(ĝ ⊙ x̂))``, ``ĝ = dy ⊙ g``; ``dgain = Σ dy ⊙ x̂``,
    ``dbias = Σ dy`` over every axis but the last."""
    xhat = _cache("cache", cache, LayerNormCache, "layer_norm_forward").xhat
    return _layer_norm_backward(_check_dy(dy, xhat), cache)


def _layer_norm_backward(dy, cache):
    """Unchecked kernel of :func:`layer_norm_backward`."""
    xhat, inv, gain = cache
    n = dy.shape[-1]
    w = np.full(n, 1.0 / n, dtype=dy.dtype)                             # row means as products (see above)
    gh = dy * gain
    dx = gh - (gh @ w)[..., None]                                       # ĝ − mean(ĝ)
    dx -= xhat * ((gh * xhat) @ w)[..., None]                           #   − x̂ mean(ĝ ⊙ x̂)
    dx *= inv
    rows_dy, rows_xhat = dy.reshape(-1, n), xhat.reshape(-1, n)
    return dx, np.einsum("rn,rn->n", rows_dy, rows_xhat), np.ones(len(rows_dy), dtype=dy.dtype) @ rows_dy


# --------------------------------------------------------------------------- relu
@finite_result
def relu_forward(x):
    """``y = max(x, 0)`` elementwise."""
    x = array("x", x)
    return np.maximum(x, 0.0), x > 0


def relu_backward(dy, cache):
    """``dx = dy * [x > 0]`` (the subgradient 0 is used at x = 0)."""
    mask = cache
    if not isinstance(mask, np.ndarray) or mask.dtype != bool:
        raise ValueError(f"cache must be the boolean mask returned by relu_forward; got {type(mask).__name__}")
    return _check_dy(dy, mask) * mask


# --------------------------------------------------------------------------- positions
def sinusoidal_positions(T: int, width: int) -> np.ndarray:
    """Sinusoidal positions (T, width): ``p_t[2i] = sin(t ω_i)``, ``p_t[2i+1] = cos(t ω_i)``,
    ``ω_i = 10000^{−2i/width}``, t = 0 … T − 1 (Vaswani et al. 2017; the authors' encoding)."""
    T, width = positive_int("T", T), positive_int("width", width)
    t = np.arange(T)[:, None]
    omega = np.exp(np.arange(0, width, 2) * (-np.log(10000.0) / width))
    pe = np.zeros((T, width))
    pe[:, 0::2] = np.sin(t * omega)
    pe[:, 1::2] = np.cos(t * omega)[:, :width // 2]
    return pe


# --------------------------------------------------------------------------- attention
def attention_mask(n_queries: int, n_keys: int | None = None, *, causal: bool = False,
                   exclude_self: bool = False, keys_only_first: int | None = None) -> np.ndarray:
    """Boolean mask ``M[t, s]``: may query ``t`` attend to key ``s``?

    - ``causal``: only keys ``s <= t`` (self-attention order).
    - ``exclude_self``: not the key at the query's own position, ``s != t``.
    - ``keys_only_first=N``: only the first ``N`` tokens serve as keys/values, e.g. the
      context tokens of von Oswald et al. 2023, where the query token is never a key.

    Returns an array of shape (n_queries, n_keys), ``n_keys`` defaulting to ``n_queries``.
    """
    T = positive_int("n_queries", n_queries)
    S = T if n_keys is None else positive_int("n_keys", n_keys)
    causal, exclude_self = flag("causal", causal), flag("exclude_self", exclude_self)
    t = np.arange(T)[:, None]
    s = np.arange(S)[None, :]
    mask = np.ones((T, S), dtype=bool)
    if causal:
        mask &= s <= t
    if exclude_self:
        mask &= s != t
    if keys_only_first is not None:
        n = positive_int("keys_only_first", keys_only_first)
        if n > S:
            raise ValueError(f"keys_only_first must be <= n_keys = {S}; got {n}")
        mask &= s < n
    return mask


def _attention_inputs(Q, K, V, mask, scale):
    Q = array("Q", Q, min_ndim=2)
    K = array("K", K, min_ndim=2)
    V = array("V", V, min_ndim=2)
    same_size("key width", Q=Q.shape[-1], K=K.shape[-1])
    same_size("number of key/value tokens", K=K.shape[-2], V=V.shape[-2])
    try:
        lead = np.broadcast_shapes(Q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise ValueError(f"batch shapes of Q {Q.shape}, K {K.shape}, V {V.shape} do not match") from None
    scale = finite_scalar("scale", scale)
    if mask is not None:
        if not isinstance(mask, (np.ndarray, list, tuple)):
            raise ValueError(f"mask must be None or a boolean array; got {type(mask).__name__}")
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be a boolean array; got dtype {mask.dtype}")
        want = lead + (Q.shape[-2], K.shape[-2])
        try:
            if np.broadcast_shapes(mask.shape, want) != want:
                raise ValueError
        except ValueError:
            raise ValueError(f"mask must broadcast to (..., T, S) = {want}; got shape {mask.shape}") from None
    return Q, K, V, mask, scale


@finite_result(with_cache=True)
def linear_attention_forward(Q, K, V, mask=None, scale: float = 1.0):
    """Linear attention ``LinearAttn(V, K, q) = V K^T q`` for every query row.

    Rows: ``out = (scale * Q K^T ⊙ M) V``.
    Q: (..., T, d_k); K: (..., S, d_k); V: (..., S, d_v); mask M: (T, S) or (..., T, S)
    booleans.  Returns out: (..., T, d_v).
    """
    return _linear_attention(*_attention_inputs(Q, K, V, mask, scale))


def _linear_attention(Q, K, V, mask=None, scale=1.0):
    """Unchecked kernel of :func:`linear_attention_forward`."""
    A = Q @ np.swapaxes(K, -1, -2)                         # (..., T, S) scores
    if scale != 1.0:
        A = scale * A
    if mask is not None:
        A = np.where(mask, A, 0.0)
    return A @ V, AttentionCache("linear", Q, K, V, mask, scale, A)   # (..., T, d_v)


def _reduce_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast gradient back to the shape of the input it came from."""
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _scores_backward(dA, Q, K, scale):
    """Given dL/d(scale * Q K^T), return dQ = scale dA K and dK = scale dA^T Q."""
    if scale != 1.0:
        dA = scale * dA
    dQ = dA @ K                                            # (..., T, d_k)
    dK = np.swapaxes(dA, -1, -2) @ Q                       # (..., S, d_k)
    return _reduce_to(dQ, Q.shape), _reduce_to(dK, K.shape)


@finite_result
def linear_attention_backward(dout, cache):
    """Gradients of ``out = (scale Q K^T ⊙ M) V``:
    dV = A^T dout, dA = (dout V^T) ⊙ M, dQ = scale dA K, dK = scale dA^T Q."""
    c = _attention_cache(cache, "linear", "linear_attention_forward")
    return _linear_attention_backward(array("dout", dout, shape=c.weights.shape[:-1] + (c.V.shape[-1],)), c)


def _linear_attention_backward(dout, cache):
    """Unchecked kernel of :func:`linear_attention_backward`."""
    _, Q, K, V, mask, scale, A = cache
    dV = np.swapaxes(A, -1, -2) @ dout                     # (..., S, d_v)
    dA = dout @ np.swapaxes(V, -1, -2)                     # (..., T, S)
    if mask is not None:
        dA = np.where(mask, dA, 0.0)
    dQ, dK = _scores_backward(dA, Q, K, scale)
    return dQ, dK, _reduce_to(dV, V.shape)


@finite_result(with_cache=True)
def softmax_attention_forward(Q, K, V, mask=None, scale: float = 1.0):
    """Softmax attention: ``out = softmax(scale * Q K^T, masked) V``, softmax over keys.

    Shapes as in :func:`linear_attention_forward`.  Masked keys get weight exactly 0;
    a query row with no key left raises ``ValueError`` (its softmax is undefined).
    The weights ``P`` (..., T, S) are in the cache as ``cache.weights``.
    """
    Q, K, V, mask, scale = _attention_inputs(Q, K, V, mask, scale)
    if mask is not None and not np.all(np.any(mask, axis=-1)):
        raise ValueError("mask leaves a query with no key: softmax attention is undefined there")
    return _softmax_attention(Q, K, V, mask, scale)


def _softmax_attention(Q, K, V, mask=None, scale=1.0):
    """Unchecked kernel of :func:`softmax_attention_forward` (every query has a key)."""
    S = Q @ np.swapaxes(K, -1, -2)                         # (..., T, S) logits
    if scale != 1.0:
        S = scale * S
    if mask is not None:
        S = np.where(mask, S, -np.inf)
    P = _softmax(S)                                        # (..., T, S) weights over the keys
    return P @ V, AttentionCache("softmax", Q, K, V, mask, scale, P)   # (..., T, d_v)


@finite_result
def softmax_attention_backward(dout, cache):
    """Gradients of ``out = P V``, ``P = softmax(scale Q K^T)``:
    dV = P^T dout, dP = dout V^T, dS = P ⊙ (dP - rowsum(dP ⊙ P)), then as linear attention."""
    c = _attention_cache(cache, "softmax", "softmax_attention_forward")
    return _softmax_attention_backward(array("dout", dout, shape=c.weights.shape[:-1] + (c.V.shape[-1],)), c)


def _softmax_attention_backward(dout, cache):
    """Unchecked kernel of :func:`softmax_attention_backward`."""
    _, Q, K, V, mask, scale, P = cache
    dV = np.swapaxes(P, -1, -2) @ dout                     # (..., S, d_v)
    dP = dout @ np.swapaxes(V, -1, -2)                     # (..., T, S)
    dS = _softmax_backward(dP, P)                          # masked entries: P = 0 -> dS = 0
    dQ, dK = _scores_backward(dS, Q, K, scale)
    return dQ, dK, _reduce_to(dV, V.shape)


def _attention_cache(cache, kind: str, made_by: str) -> AttentionCache:
    """An :class:`AttentionCache` of this ``kind``; ValueError for any other cache (the linear
    and the softmax backward read ``weights`` differently)."""
    c = _cache("cache", cache, AttentionCache, made_by)
    if c.kind != kind:
        raise ValueError(f"cache must be the cache returned by {made_by}; got the cache of {c.kind} attention")
    return c


_ATTENTION = {
    "linear": (linear_attention_forward, linear_attention_backward),
    "softmax": (softmax_attention_forward, softmax_attention_backward),
}


@finite_result(with_cache=True)
def self_attention_forward(X, params, *, kind: str = "softmax", mask=None, scale: float = 1.0):
    """Single-head self-attention with projections ``q = W_Q x, k = W_K x, v = W_V x``.

    X: (..., T, D); params ``{"W_Q": (d_k, D), "W_K": (d_k, D), "W_V": (d_v, D)}``;
    ``kind`` is ``"softmax"`` or ``"linear"``; ``mask`` as from :func:`attention_mask`.
    Returns the attention output (..., T, d_v) (no residual, no output projection).
    """
    choice("kind", kind, tuple(_ATTENTION))
    X = array("X", X, min_ndim=2)
    p = _params("params", params, {"W_Q": (None, X.shape[-1]), "W_K": (None, X.shape[-1]),
                                   "W_V": (None, X.shape[-1])})
    same_size("key width", **{"params['W_Q']": p["W_Q"].shape[0], "params['W_K']": p["W_K"].shape[0]})
    Q, cq = _linear(X, p["W_Q"])                            # (..., T, d_k)
    K, ck = _linear(X, p["W_K"])                            # (..., T, d_k)
    V, cv = _linear(X, p["W_V"])                            # (..., T, d_v)
    out, ca = _ATTENTION[kind][0](Q, K, V, mask=mask, scale=scale)
    return out, SelfAttentionCache(cq, ck, cv, ca)


@finite_result
def self_attention_backward(dout, cache):
    """Returns ``dX, {"W_Q": ..., "W_K": ..., "W_V": ...}`` for :func:`self_attention_forward`."""
    cq, ck, cv, ca = _cache("cache", cache, SelfAttentionCache, "self_attention_forward")
    dQ, dK, dV = _ATTENTION[ca.kind][1](dout, ca)
    dXq, gq = _linear_backward(dQ, cq)
    dXk, gk = _linear_backward(dK, ck)
    dXv, gv = _linear_backward(dV, cv)
    return dXq + dXk + dXv, {"W_Q": gq["W"], "W_K": gk["W"], "W_V": gv["W"]}


# --------------------------------------------------------------------------- losses
@finite_result(with_cache=True)
def squared_error_forward(pred, target):
    """``L = 1/(2n) sum_i ||pred_i - target_i||^2`` over the n rows of (..., D) arrays."""
    pred = array("pred", pred, min_ndim=1)
    return _squared_error(pred, array("target", target, shape=pred.shape))


def _squared_error(pred, target):
    """Unchecked kernel of :func:`squared_error_forward`."""
    n = pred.size // pred.shape[-1]
    r = pred - target                                      # (..., D) residuals
    return 0.5 * float(np.sum(r * r)) / n, SquaredErrorCache(r, n)


@finite_result
def squared_error_backward(dloss, cache):
    """``dL/dpred_i = dloss * (pred_i - target_i) / n`` (``dloss`` is 1.0 at the top)."""
    _cache("cache", cache, SquaredErrorCache, "squared_error_forward")
    return _squared_error_backward(finite_scalar("dloss", dloss), cache)


def _squared_error_backward(dloss: float, cache):
    """Unchecked kernel of :func:`squared_error_backward`."""
    r, n = cache
    return dloss * r / n


@finite_result(with_cache=True)
def cross_entropy_forward(logits, labels):
    """Softmax cross-entropy ``L = -1/n sum_i log softmax(z_i)[y_i]``.

    logits: (..., C); labels: integers in [0, C) of shape logits.shape[:-1].
    """
    z = array("logits", logits, min_ndim=1)
    y = integer_array("labels", labels, shape=z.shape[:-1], low=0, high=z.shape[-1])
    return _cross_entropy(z, y)


def _cross_entropy(z, y):
    """Unchecked kernel of :func:`cross_entropy_forward`."""
    logp = z - _logsumexp(z)                                # (..., C)
    picked = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    n = y.size
    return -float(picked.sum()) / n, CrossEntropyCache(np.exp(logp), y, n)


@finite_result
def cross_entropy_backward(dloss, cache):
    """``dL/dz_i = dloss * (softmax(z_i) - onehot(y_i)) / n`` (``dloss`` is 1.0 at the top)."""
    _cache("cache", cache, CrossEntropyCache, "cross_entropy_forward")
    return _cross_entropy_backward(finite_scalar("dloss", dloss), cache)


def _cross_entropy_backward(dloss: float, cache):
    """Unchecked kernel of :func:`cross_entropy_backward`."""
    p, y, n = cache
    g = p.copy()
    np.put_along_axis(g, y[..., None], np.take_along_axis(g, y[..., None], axis=-1) - 1.0, axis=-1)
    return dloss * g / n
