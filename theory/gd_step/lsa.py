"""von Oswald et al. 2023 (ICML), "Transformers learn in-context by gradient descent":
the linear self-attention (LSA) layer, its stacks and its loss, with hand-written backward.

Tokens ``e_i = (x_i, y_i)`` for the N context pairs and ``e_q = (x_q, -W0 x_q)`` for the
query.  A linear self-attention (LSA) layer (von Oswald et al. 2023, Eq. (5)) updates
every token ``j`` with keys and values from the context tokens only::

    e_j ← e_j + P Σ_{i<=N} (W_V e_i)(W_K e_i)^T (W_Q e_j).

The weights that make this layer one step of gradient descent are in
:mod:`theory.gd_step.construction`; training is in :mod:`theory.gd_step.training`.

Row convention: tokens are rows, ``E: (B, N+1, D)``, ``D = d + d_out``; matrices act on
columns as in the paper, so ``W e`` is computed as ``E @ W.T``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import (array, cache as _cache, finite_result, flag, nonnegative_int, params as _params,
                              positive_int)

__all__ = ["LSA_KEYS", "LSACache", "LSAQueryCache", "tokens", "readout", "lsa_forward", "lsa_backward", "layer_params", "stack_forward",
           "stack_backward", "lsa_loss"]

LSA_KEYS = ("W_K", "W_Q", "W_V", "P")


# --------------------------------------------------------------------------- tokens
@finite_result
def tokens(X, Y, xq, W0=None) -> np.ndarray:
    """Stack ``e_i = (x_i, y_i)`` and the query ``(x_q, -W0 x_q)``: (B, N+1, d+d_out).

    X: (B, N, d); Y: (B, N, d_out); xq: (B, d); W0: (d_out, d) or None (= 0).
    """
    X = array("X", X, ndim=3)
    B, N, d = X.shape
    Y = array("Y", Y, shape=(B, N, None))
    xq = array("xq", xq, shape=(B, d))
    d_out = Y.shape[2]
    yq_slot = np.zeros((B, d_out))
    if W0 is not None:
        W0 = array("W0", W0, shape=(d_out, d))
        yq_slot = -xq @ W0.T                               # (B, d_out)  -W0 x_q
    context = np.concatenate([X, Y], axis=2)               # (B, N, D)
    query = np.concatenate([xq, yq_slot], axis=1)[:, None]  # (B, 1, D)
    return np.concatenate([context, query], axis=1)         # (B, N+1, D)


def readout(E, d: int) -> np.ndarray:
    """The prediction ``ŷ = -(query's y-slot)``: (B, d_out) from E (B, T, D), whose first
    ``d`` channels are x (``0 < d < D``)."""
    E = array("E", E, ndim=3)
    d = positive_int("d", d)
    if d >= E.shape[2]:
        raise ValueError(f"d must be < the token width {E.shape[2]} (x and at least one y channel); got {d}")
    return -E[:, -1, d:]


# --------------------------------------------------------------------------- LSA layer
class LSACache(NamedTuple):
    """What :func:`lsa_backward` needs from a layer computed through the context's Gram
    matrix G (every token updated)."""
    E: np.ndarray               # (B, T, D) the layer's input tokens
    C: np.ndarray               # (B, S, D) the key/value tokens
    G: np.ndarray               # (B, D, D) Σ_i e_i e_iᵀ
    GA: np.ndarray              # (B, D, D) G A
    H: np.ndarray               # (B, T, D) rows (G A e_j)ᵀ
    A: np.ndarray               # (D, D)    W_Kᵀ W_Q
    Bm: np.ndarray              # (D, D)    P W_V
    params: dict                # the four weights
    ws: dict | None             # the training loop's workspace (see _buffer)


class LSAQueryCache(NamedTuple):
    """What :func:`lsa_backward` needs from a layer computed for the query token only."""
    E: np.ndarray               # (B, T, D) the layer's input tokens
    C: np.ndarray               # (B, S, D) the key/value tokens
    q: np.ndarray               # (B, D)    e_q
    a: np.ndarray               # (B, D)    A e_q
    s: np.ndarray               # (B, S)    e_iᵀ A e_q
    h: np.ndarray               # (B, D)    Σ_i s_i e_i
    A: np.ndarray
    Bm: np.ndarray
    params: dict
    ws: dict | None


def _out_shape(cache) -> tuple:
    """The shape of the layer's output: every token, or the query alone."""
    E = cache.E
    return E.shape if isinstance(cache, LSACache) else E.shape[:1] + (1,) + E.shape[2:]


def _check_params(params, D: int):
    return _params("params", params, {k: (D, D) for k in LSA_KEYS})


@finite_result(with_cache=True)
def lsa_forward(E, params, n_context: int, *, include_query: bool = False,
                query_only: bool = False):
    """One LSA layer: ``e_j ← e_j + P Σ_i (W_V e_i)(W_K e_i)^T (W_Q e_j)``.

    E: (B, T, D) tokens, the first ``n_context`` of them context tokens; params
    ``{"W_K", "W_Q", "W_V", "P"}``, each (D, D).  Keys and values come from the context
    tokens only; ``include_query=True`` uses every token (the variant that breaks the
    GD identity when W0 ≠ 0).  Returns the new tokens (B, T, D) and a cache; with
    ``query_only=True`` only the updated query token (B, 1, D), which is all that the
    last layer needs to give the prediction.

    Computed through the context's second-moment matrix ``G = Σ_i e_i e_i^T``:
    ``Σ_i (W_V e_i)(W_K e_i)^T W_Q e_j = W_V G W_K^T W_Q e_j``, so the update of every
    token is ``P W_V G A e_j`` with ``A = W_K^T W_Q`` — the layer sees its context only
    through G (two batched matmuls instead of one per score and value).  With
    ``query_only`` the one token is computed in attention order instead,
    ``G A e_q = Σ_i e_i (e_i^T A e_q)``, which never forms G (:func:`_lsa_query_forward`).
    """
    E = array("E", E, ndim=3)
    B, T, D = E.shape
    N = positive_int("n_context", n_context)
    include_query, query_only = flag("include_query", include_query), flag("query_only", query_only)
    if N > T or (N == T and not include_query):
        raise ValueError(f"n_context must be < number of tokens {T} (the last is the query); got {N}")
    return _lsa_forward(E, _check_params(params, D), N, include_query, query_only)


def _buffer(ws: dict | None, key: str, shape: tuple) -> np.ndarray:
    """An array to write a result into: a fresh one, or, given a workspace ``ws`` (a dict
    kept by a training loop, one per layer), the one it held for ``key`` at the previous
    step.  Reusing the same memory every step saves the page faults of handing
    multi-megabyte blocks back to the system and back again (2x the step time here)."""
    if ws is None:
        return np.empty(shape)
    b = ws.get(key)
    if b is None or b.shape != shape:
        b = ws[key] = np.empty(shape)
    return b


def _lsa_forward(E, p, N: int, include_query: bool = False, query_only: bool = False, ws=None):
    """Unchecked kernel of :func:`lsa_forward` (``p`` holds the four (D, D) weights;
    ``ws``: see :func:`_buffer`)."""
    B, T, D = E.shape
    S = T if include_query else N
    if query_only:
        return _lsa_query_forward(E, p, S, ws)
    C = _buffer(ws, "C", (B, S, D))
    np.copyto(C, E[:, :S])                                 # (B, S, D) key/value tokens
    G = np.matmul(np.swapaxes(C, 1, 2), C, out=_buffer(ws, "G", (B, D, D)))   # Σ_i e_i e_i^T
    A = p["W_K"].T @ p["W_Q"]                              # (D, D)     W_K^T W_Q
    Bm = p["P"] @ p["W_V"]                                 # (D, D)     P W_V
    GA = np.matmul(G.reshape(B * D, D), A, out=_buffer(ws, "GA", (B * D, D))).reshape(B, D, D)  # G A
    H = np.matmul(E, np.swapaxes(GA, 1, 2), out=_buffer(ws, "H", E.shape))   # (B, T, D) rows (G A e_j)^T
    U = np.matmul(H.reshape(-1, D), Bm.T, out=_buffer(ws, "U", (B * T, D))).reshape(E.shape)  # P W_V G A e_j
    return np.add(E, U, out=_buffer(ws, "out", E.shape)), LSACache(E, C, G, GA, H, A, Bm, p, ws)


def _lsa_query_forward(E, p, S: int, ws=None):
    """The layer for the query token only, in attention order instead of through G:
    ``G A e_q = Σ_i e_i (e_i^T A e_q)``, i.e. scores ``s_i = e_i^T a`` with ``a = A e_q``
    and ``h = Σ_i s_i e_i`` — O(B S D) work instead of the O(B S D²) of forming G."""
    C = E[:, :S]                                           # (B, S, D) key/value tokens (a view)
    q = E[:, -1]                                           # (B, D)    e_q
    A = p["W_K"].T @ p["W_Q"]                              # (D, D)    W_K^T W_Q
    Bm = p["P"] @ p["W_V"]                                 # (D, D)    P W_V
    B, D = q.shape
    a = np.matmul(q, A.T, out=_buffer(ws, "a", (B, D)))    # (B, D)    rows (A e_q)^T
    s = np.matmul(C, a[:, :, None], out=_buffer(ws, "s", (B, S, 1)))[:, :, 0]   # (B, S)  e_i^T A e_q
    h = np.matmul(s[:, None, :], C, out=_buffer(ws, "h", (B, 1, D)))[:, 0]     # (B, D)  Σ_i s_i e_i
    out = np.matmul(h, Bm.T, out=_buffer(ws, "out", (B, D)))
    out += q                                               # (B, D)    e_q + P W_V h
    return out[:, None], LSAQueryCache(E, C, q, a, s, h, A, Bm, p, ws)


@finite_result
def lsa_backward(dout, cache):
    """Hand-written gradients of :func:`lsa_forward`: ``dE, {"W_K", "W_Q", "W_V", "P"}``.

    Reverse of ``U = H Bm^T``, ``H = E GA^T``, ``GA = G A``, ``G = C^T C``:
    dBm = Σ dU^T H, dH = dU Bm, dGA = dH^T E, dE += dH GA, dA = Σ_b G dGA,
    dG = dGA A^T, dC = C (dG + dG^T); then dP = dBm W_V^T, dW_V = P^T dBm,
    dW_K = W_Q dA^T, dW_Q = W_K dA.
    """
    _cache("cache", cache, (LSACache, LSAQueryCache), "lsa_forward")
    return _lsa_backward(array("dout", dout, shape=_out_shape(cache)), cache)


def _lsa_backward(dU, cache, input_grad: bool = True):
    """Unchecked kernel of :func:`lsa_backward`; without ``input_grad`` dE is None (the
    first layer of a trained stack: its input tokens are data)."""
    if isinstance(cache, LSAQueryCache):
        return _lsa_query_backward(dU, cache, input_grad)
    E, C, G, GA, H, A, Bm, p, ws = cache
    B, T, D = E.shape
    dU2 = dU.reshape(-1, D)
    dBm = dU2.T @ H.reshape(-1, D)                         # (D, D)
    dH = np.matmul(dU2, Bm, out=_buffer(ws, "dH", (B * T, D))).reshape(E.shape)   # (B, T, D)
    dGA = np.matmul(np.swapaxes(dH, 1, 2), E, out=_buffer(ws, "dGA", (B, D, D)))  # Σ_j dh_j e_j^T
    dA = G.reshape(B * D, D).T @ dGA.reshape(B * D, D)     # (D, D)     Σ_b G_b dGA_b
    dE = None
    if input_grad:
        dE = np.matmul(dH, GA, out=_buffer(ws, "dE", E.shape))
        dE += dU                                           # residual + through the queries
        dG = np.matmul(dGA.reshape(B * D, D), A.T, out=_buffer(ws, "dG", (B * D, D))).reshape(B, D, D)
        sym = np.add(dG, np.swapaxes(dG, 1, 2), out=_buffer(ws, "dGs", (B, D, D)))
        dE[:, :C.shape[1]] += np.matmul(C, sym, out=_buffer(ws, "dC", C.shape))   # G = C^T C
    return dE, _weight_grads(p, dA, dBm)


def _weight_grads(p, dA, dBm) -> dict:
    """From dL/dA (A = W_K^T W_Q) and dL/dBm (Bm = P W_V) to the four weights."""
    return {"W_K": p["W_Q"] @ dA.T, "W_Q": p["W_K"] @ dA, "W_V": p["P"].T @ dBm, "P": dBm @ p["W_V"].T}


def _lsa_query_backward(dU, cache, input_grad: bool = True):
    """Gradients of :func:`_lsa_query_forward`, in the same attention order:
    du = dout, dBm = Σ_b du h^T, dh = du Bm, ds_i = e_i^T dh, da = Σ_i ds_i e_i,
    dA = Σ_b da e_q^T; inputs: de_i = s_i dh + ds_i a, de_q = du + A^T da."""
    E, C, q, a, s, h, A, Bm, p, ws = cache
    du = dU[:, 0]                                          # (B, D)
    B, S, D = C.shape
    dBm = du.T @ h                                         # (D, D)    Σ_b du_b h_b^T
    dh = np.matmul(du, Bm, out=_buffer(ws, "dh", (B, D)))  # (B, D)
    ds = np.matmul(C, dh[:, :, None], out=_buffer(ws, "ds", (B, S, 1)))[:, :, 0]  # (B, S) e_i^T dh
    da = np.matmul(ds[:, None, :], C, out=_buffer(ws, "da", (B, 1, D)))[:, 0]     # (B, D) Σ_i ds_i e_i
    dA = da.T @ q                                          # (D, D)    Σ_b da_b e_q^T
    dE = None
    if input_grad:
        dE = _buffer(ws, "dE", E.shape)
        dE[:, S:] = 0.0
        sds = _buffer(ws, "sds", (B, S, 2))                # columns (s_i, ds_i)
        sds[:, :, 0], sds[:, :, 1] = s, ds
        dha = _buffer(ws, "dha", (B, 2, D))                # rows dh^T, a^T
        dha[:, 0], dha[:, 1] = dh, a
        np.matmul(sds, dha, out=dE[:, :S])                 # (B, S, D) rows s_i dh + ds_i a
        dE[:, -1] += du + da @ A                           # residual + through a = A e_q
    return dE, _weight_grads(p, dA, dBm)


# --------------------------------------------------------------------------- stacks
def layer_params(params, layer: int, shared: bool) -> dict:
    """The weights of one layer: keys ``W_K`` ... (shared) or ``W_K0``, ``W_K1`` ... ."""
    layer = nonnegative_int("layer", layer)
    suffix = "" if flag("shared", shared) else str(layer)
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of arrays; got {type(params).__name__}")
    missing = [k + suffix for k in LSA_KEYS if k + suffix not in params]
    if missing:
        raise ValueError(f"params is missing {missing} for layer {layer}; got keys {sorted(params)}")
    p = _params("params", params, {k + suffix: (None, None) for k in LSA_KEYS})
    return {k: p[k + suffix] for k in LSA_KEYS}


@finite_result(with_cache=True)
def stack_forward(E, params, n_layers: int, n_context: int, *, shared: bool = False,
                  query_only: bool = False):
    """``n_layers`` LSA layers in sequence (the same weights each time if ``shared``).

    With ``query_only`` the last layer returns only the query token (B, 1, D).
    """
    E, layers, N = _check_stack(E, params, n_layers, n_context, shared)
    return _stack_forward(E, layers, N, flag("query_only", query_only))


def _check_stack(E, params, n_layers, n_context, shared):
    """Checked tokens, the weights of every layer (a list of dicts) and n_context."""
    E = array("E", E, ndim=3)
    n_layers, N = positive_int("n_layers", n_layers), positive_int("n_context", n_context)
    if N >= E.shape[1]:
        raise ValueError(f"n_context must be < number of tokens {E.shape[1]} (the last is the query); got {N}")
    layers = [layer_params(params, layer, shared) for layer in range(n_layers)]
    D = E.shape[2]
    return E, [_params("params", p, {k: (D, D) for k in LSA_KEYS}) for p in layers], N


def _layers(params, n_layers: int, shared: bool) -> list:
    """Unchecked: the weights of every layer, from keys ``W_K`` ... or ``W_K0`` ... ."""
    return [{k: params[k + ("" if shared else str(l))] for k in LSA_KEYS} for l in range(n_layers)]


def _stack_forward(E, layers: list, N: int, query_only: bool = False, ws: list | None = None):
    """Unchecked kernel of :func:`stack_forward`: one dict of weights per layer
    (``ws``: one workspace dict per layer, see :func:`_buffer`)."""
    caches = []
    for i, p in enumerate(layers):
        E, cache = _lsa_forward(E, p, N, query_only=query_only and i == len(layers) - 1,
                                ws=None if ws is None else ws[i])
        caches.append(cache)
    return E, caches


@finite_result
def stack_backward(dout, caches, *, shared: bool = False):
    """Gradients of :func:`stack_forward`; shared weights sum their layers' gradients."""
    shared = flag("shared", shared)
    if not isinstance(caches, (list, tuple)) or not caches:
        raise ValueError(f"caches must be the non-empty list returned by stack_forward; got {type(caches).__name__}")
    for i, c in enumerate(caches):
        _cache(f"caches[{i}]", c, (LSACache, LSAQueryCache), "stack_forward")
    return _stack_backward(array("dout", dout, shape=_out_shape(caches[-1])), caches, shared)


def _stack_backward(dout, caches, shared: bool, input_grad: bool = True):
    """Unchecked kernel of :func:`stack_backward`; without ``input_grad`` the first
    layer does not form the gradient of its input tokens (returned as None)."""
    grads: dict[str, np.ndarray] = {}
    for layer in reversed(range(len(caches))):
        dout, g = _lsa_backward(dout, caches[layer], input_grad or layer > 0)
        suffix = "" if shared else str(layer)
        for k, v in g.items():
            grads[k + suffix] = grads[k + suffix] + v if k + suffix in grads else v
    return dout, grads


@finite_result
def lsa_loss(params, E, y_query, n_layers: int, *, shared: bool = False):
    """``L = 1/(2B) Σ_b ||ŷ_b - y_b||²`` of the stack's readout, and its gradients.

    E: (B, N+1, D) tokens; y_query: (B, d_out).  Returns ``(loss, grads)``, grads keyed as
    ``params`` (the prediction: :func:`theory.gd_step.comparison.lsa_predict`).
    """
    shared = flag("shared", shared)
    E, layers, _ = _check_stack(E, params, n_layers, array("E", E, ndim=3).shape[1] - 1, shared)
    y_query = array("y_query", y_query, shape=(E.shape[0], None))
    if y_query.shape[1] >= E.shape[2]:
        raise ValueError(f"y_query has {y_query.shape[1]} outputs but the tokens are only {E.shape[2]} wide")
    checked = {k + ("" if shared else str(l)): p[k] for l, p in enumerate(layers) for k in LSA_KEYS}
    return _lsa_loss(checked, E, y_query, n_layers, shared)[:2]


def _lsa_loss(params, E, y_query, n_layers: int, shared: bool = False, ws: list | None = None):
    """Unchecked kernel of :func:`lsa_loss`: ``(loss, grads, y_hat)`` (``ws``: one workspace
    dict per layer, kept by a training loop from step to step, see :func:`_buffer`)."""
    d = E.shape[2] - y_query.shape[1]
    out, caches = _stack_forward(E, _layers(params, n_layers, shared), E.shape[1] - 1, query_only=True, ws=ws)
    y_hat = -out[:, -1, d:]                                # (B, d_out) ŷ = -(query's y-slot)
    r = y_hat - y_query                                    # (B, d_out) residuals
    loss = 0.5 * float(np.sum(r * r)) / E.shape[0]         # ½ mean ||ŷ - y||²
    dout = np.zeros_like(out)
    dout[:, -1, d:] = -r / E.shape[0]                      # ∂L/∂(y-slot) = -∂L/∂ŷ
    _, grads = _stack_backward(dout, caches, shared, input_grad=False)   # tokens are data
    return loss, grads, y_hat
