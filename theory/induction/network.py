"""Reddy 2024 (ICLR), arXiv 2312.03002: the full network of Sec. 2 (two causal softmax
attention layers and a ReLU classifier), its hand-written backward, and its two progress
measures (Sec. 3).  Training runs and sweeps are in :mod:`theory.induction.training`; the
three-parameter landscape in :mod:`theory.induction.three_param`; the data sampler in
:mod:`theory.induction.data`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import nn
from ..core._workers import load_adapted_blas
from ..core._validate import (array, as_rng, cache as _cache, choice, finite_result, function, integer_array,
                        params as _params, positive_int)
from .data import ItemLabelBatch

__all__ = ["NET_ATTN", "NET_MLP", "INITS", "ClassifierCache", "NetworkCache", "embed", "init_classifier", "classifier_weights", "network_weights", "classifier_forward", "classifier_backward", "init_network",
           "network_forward", "network_backward", "cross_entropy_loss", "network_loss",
           "progress_measures", "attention_measures", "context_label_accuracy", "classifier_activity"]


# --------------------------------------------------------------------------- the network
# Reddy 2024, Sec. 2 (architecture as in the author's code, see docs/papers.md): tokens are a
# one-hot position (a contiguous block at a random offset per sequence) joined to the
# content; two single-head causal softmax attention layers with a residual stream, no
# normalisation, no output projection, no 1/sqrt(d) scaling; a three-layer ReLU
# classifier (one scalar bias per layer) on the target token; a readout over L labels.
NET_ATTN = ("W_Q1", "W_K1", "W_V1", "W_Q2", "W_K2", "W_V2")
NET_MLP = ("W1", "W2", "W3")


def embed(content, rng, n_positions: int = 65) -> np.ndarray:
    """``[one-hot position ; content]`` with positions ``offset + t``, the offset drawn
    uniformly per sequence so that the block fits in ``n_positions``.  (S, T, P + D)."""
    content = array("content", content, ndim=3)
    S, T, D = content.shape
    P = positive_int("n_positions", n_positions)
    if P < T:
        raise ValueError(f"n_positions must be >= sequence length {T}; got {P}")
    return _embed(content, as_rng(rng), P)


def _embed(content, rng, P: int) -> np.ndarray:
    """Unchecked kernel of :func:`embed`."""
    S, T, D = content.shape
    offset = rng.integers(0, P - T + 1, size=S)
    X = np.zeros((S, T, P + D))
    X[np.arange(S)[:, None], np.arange(T)[None, :], offset[:, None] + np.arange(T)] = 1.0
    X[:, :, P:] = content
    return X


def init_classifier(rng, d_in: int, h: int, L: int) -> dict:
    """The classifier of the target token: W1 (h, d_in), W2, W3 (h, h) ~ N(0, 2/fan-in),
    one scalar bias per layer = 0, readout R (L, h) ~ N(0, 1/h)."""
    rng = as_rng(rng)
    d_in, h, L = positive_int("d_in", d_in), positive_int("h", h), positive_int("L", L)
    p = {"W1": rng.standard_normal((h, d_in)) * np.sqrt(2.0 / d_in)}
    p.update({k: rng.standard_normal((h, h)) * np.sqrt(2.0 / h) for k in NET_MLP[1:]})
    p.update({f"b{i}": np.zeros(1) for i in (1, 2, 3)})
    p["R"] = rng.standard_normal((L, h)) / np.sqrt(h)
    return p


def classifier_weights(params, d_in: int) -> dict:
    """The classifier's weights, checked: W1 (h, d_in), W2, W3 (h, h), b1-b3 (1,), R (L, h)."""
    d_in = positive_int("d_in", d_in)
    h = _params("params", params, {"W1": (None, d_in)})["W1"].shape[0]
    return _params("params", params, {"W1": (h, d_in), "W2": (h, h), "W3": (h, h), "b1": (1,), "b2": (1,),
                                      "b3": (1,), "R": (None, h)})


class ClassifierCache(NamedTuple):
    """Each ReLU layer's input and pre-activation, and the last layer's output."""
    mlp: list                   # [(u_{l-1}, W_l u_{l-1} + b_l)] for l = 1..3
    u: np.ndarray               # (S, h) u_3


class NetworkCache(NamedTuple):
    """What :func:`network_backward` needs."""
    X: np.ndarray               # (S, T, d) tokens
    layer1: nn.AttentionCache
    h1: np.ndarray              # (S, T, d) after layer 1
    q: nn.LinearCache           # W_Q2 h_q
    qk: nn.LinearCache          # W_K2ᵀ W_Q2 h_q
    v: nn.LinearCache           # W_V2 Σ_t P_t h_t
    layer2: nn.AttentionCache
    classifier: ClassifierCache
    params: dict


@finite_result(with_cache=True)
def classifier_forward(u, params):
    """``u_l = relu(W_l u_{l-1} + b_l)``, l = 1..3, ``u_0 = u`` (S, d_in); ``logits = R u_3``.  (S, L)."""
    u = array("u", u, ndim=2)
    return _classifier_forward(u, classifier_weights(params, u.shape[1]))


def _classifier_forward(u, params):
    """Unchecked kernel of :func:`classifier_forward`."""
    mlp = []
    for i, name in enumerate(NET_MLP, start=1):
        pre = u @ params[name].T + params[f"b{i}"]          # W_l u + b_l (scalar bias)
        mlp.append((u, pre))
        u = np.maximum(pre, 0.0)
    return u @ params["R"].T, ClassifierCache(mlp, u)


@finite_result
def classifier_backward(dlogits, cache, params):
    """Gradients of :func:`classifier_forward`: ``(grads, du_0)``."""
    mlp, u = _cache("cache", cache, ClassifierCache, "classifier_forward")
    if not (isinstance(mlp, list) and len(mlp) == len(NET_MLP)):
        raise ValueError(f"cache must be the cache returned by classifier_forward; got {len(mlp)!r:.40} layers")
    p = classifier_weights(params, mlp[0][0].shape[1])
    dlogits = array("dlogits", dlogits, shape=(u.shape[0], p["R"].shape[0]))
    return _classifier_backward(dlogits, cache, p)


def _classifier_backward(dlogits, cache, params):
    """Unchecked kernel of :func:`classifier_backward`."""
    mlp, u = cache
    g = {"R": dlogits.T @ u}
    du = dlogits @ params["R"]                              # (S, h)
    for i in (3, 2, 1):
        u_in, pre = mlp[i - 1]
        dpre = du * (pre > 0)
        g[f"W{i}"] = dpre.T @ u_in
        g[f"b{i}"] = np.array([dpre.sum()])
        du = dpre @ params[f"W{i}"]
    return g, du


INITS = ("package", "author")


def init_network(rng, d: int, L: int, *, init: str = "package", content_dim: int | None = None) -> dict:
    """The network's weights for tokens of width ``d``.

    ``init="package"``: Q, K, V ~ N(0, 1/d); classifier W ~ N(0, 2/d); readout ~ N(0, 1/d);
    biases 0.  ``init="author"`` (Reddy's ``transformer_v2.init_network_params``): Q, K, V
    ~ N(0, 1/D) with D = ``content_dim`` (63 in the paper: the content part of the token),
    the three scalar biases ~ N(0, 1/d), each drawn on its own — in the author's code the
    third equals the second through a key-indexing quirk, which we do not copy — and the
    same classifier and readout laws."""
    rng = as_rng(rng)
    d, L = positive_int("d", d), positive_int("L", L)
    init = choice("init", init, INITS)
    if init == "author" and content_dim is None:
        raise ValueError("content_dim must be given with init='author' (Q, K, V have variance 1/content_dim)")
    scale = np.sqrt(d if init == "package" else positive_int("content_dim", content_dim))
    p = {k: rng.standard_normal((d, d)) / scale for k in NET_ATTN}
    p.update(init_classifier(rng, d, d, L))
    if init == "author":
        p.update({f"b{i}": rng.standard_normal(1) / np.sqrt(d) for i in (1, 2, 3)})
    return p


def network_weights(params, d: int) -> dict:
    """The network's weights, checked: six (d, d) attention matrices and the classifier."""
    d = positive_int("d", d)
    p = _params("params", params, {k: (d, d) for k in NET_ATTN})
    p.update(classifier_weights(params, d))
    return p


@finite_result(with_cache=True)
def network_forward(X, params):
    """Logits (S, L) of the target token, and a cache::

        h1 = X + SoftAttn_causal(X W_Q1^T, X W_K1^T, X W_V1^T)            (every token)
        z  = h1_q + SoftAttn(h1_q W_Q2^T, h1 W_K2^T, h1 W_V2^T)           (the target only:
             the last token, which sees every token, is all the classifier reads)
        logits = classifier(z)                                            (classifier_forward)

    The cache holds what :func:`network_backward` needs.
    """
    X = array("X", X, ndim=3)
    return _network_forward(X, network_weights(params, X.shape[2]))


def _network_forward(X, params):
    """Unchecked kernel of :func:`network_forward`."""
    S, T, d = X.shape
    # Layer 1: Q, K, V of every token in one GEMM with the stacked [W_Q1; W_K1; W_V1].
    W_qkv = np.concatenate([params["W_Q1"], params["W_K1"], params["W_V1"]], axis=0)  # (3d, d)
    QKV = (X.reshape(S * T, d) @ W_qkv.T).reshape(S, T, 3 * d)
    Q1, K1, V1 = QKV[..., :d], QKV[..., d:2 * d], QKV[..., 2 * d:]
    a1, c1 = nn._softmax_attention(Q1, K1, V1, mask=np.tri(T, dtype=bool))   # causal: key s <= query t
    h1 = X + a1                                             # (S, T, d)
    # Layer 2 for the target only, in the residual space: the score of token t is
    # (W_Q2 h_q)^T (W_K2 h_t) = (W_K2^T W_Q2 h_q)^T h_t, and the output is
    # W_V2 Σ_t P_t h_t — no projection of every token is needed.
    q, cq = nn._linear(h1[:, -1:], params["W_Q2"])          # (S, 1, d)  W_Q2 h_q
    qk, cqk = nn._linear(q, params["W_K2"].T)               # (S, 1, d)  W_K2^T W_Q2 h_q
    m, ca = nn._softmax_attention(qk, h1, h1)               # (S, 1, d)  Σ_t P_t h_t
    a2, cv = nn._linear(m, params["W_V2"])                  # (S, 1, d)  W_V2 Σ_t P_t h_t
    u = h1[:, -1] + a2[:, 0]                                # (S, d) target's residual stream
    logits, cc = _classifier_forward(u, params)             # (S, L)
    return logits, NetworkCache(X, c1, h1, cq, cqk, cv, ca, cc, params)


@finite_result
def network_backward(dlogits, cache):
    """Hand-written gradients of :func:`network_forward` for every parameter (not for
    the input tokens, which are data)."""
    X, params = _cache("cache", cache, NetworkCache, "network_forward")[::8]
    dlogits = array("dlogits", dlogits, shape=(X.shape[0], params["R"].shape[0]))
    return _network_backward(dlogits, cache)


def _network_backward(dlogits, cache):
    """Unchecked kernel of :func:`network_backward`."""
    X, c1, h1, cq, cqk, cv, ca, cc, params = cache
    g, du = _classifier_backward(dlogits, cc, params)      # du: (S, d)
    dm, gv = nn._linear_backward(du[:, None], cv)           # through W_V2
    dqk, dh1_keys, dh1_vals = nn._softmax_attention_backward(dm, ca)
    dq, gkT = nn._linear_backward(dqk, cqk)                 # through W_K2^T
    dh1_q, gq = nn._linear_backward(dq, cq)                 # through W_Q2
    dh1 = dh1_keys + dh1_vals                               # h1 as keys and as values
    dh1[:, -1] += du + dh1_q[:, 0]                          # residual and query of the target
    g.update(W_Q2=gq["W"], W_K2=gkT["W"].T, W_V2=gv["W"])
    # h1 = X + attention(X): X is data, so only the weights' gradients are formed
    dQ1, dK1, dV1 = nn._softmax_attention_backward(dh1, c1)
    S, T, d = X.shape
    X2 = X.reshape(S * T, d)                                # dW = dQ1ᵀ X etc.: three GEMMs (stacking
    g.update({f"W_{w}1": dA.reshape(S * T, d).T @ X2        # them first would copy 3·S·T·d numbers)
              for w, dA in (("Q", dQ1), ("K", dK1), ("V", dV1))})
    return g


def _cross_entropy_loss(forward, backward, params, X, target, check_target: bool = False):
    """Kernel of :func:`cross_entropy_loss`: ``(loss, grads, logits)`` (the training loop
    passes checked targets and reads the logits)."""
    logits, cache = forward(X, params)
    if check_target:
        target = integer_array("target", target, shape=(logits.shape[0],), low=0, high=logits.shape[1])
    loss, lc = nn._cross_entropy(logits, target)
    return loss, backward(nn._cross_entropy_backward(1.0, lc), cache), logits


@finite_result
def cross_entropy_loss(forward, backward, params, X, target):
    """Mean cross-entropy of the target labels under ``forward`` and its gradients by
    ``backward``: ``(loss, grads)``.  ``target`` (S,) holds label ids."""
    forward, backward = function("forward", forward), function("backward", backward)
    return _cross_entropy_loss(forward, backward, params, X, target, check_target=True)[:2]


def network_loss(params, X, target):
    """``(loss, grads)``: the mean cross-entropy of the full network and its gradients."""
    return cross_entropy_loss(network_forward, network_backward, params, X, target)


@load_adapted_blas            # the training step: fewer BLAS threads when the cores are busy
def _network_loss(params, X, target):
    return _cross_entropy_loss(_network_forward, _network_backward, params, X, target)


def progress_measures(P1, P2, batch) -> dict:
    """Progress measures (Reddy 2024, Secs. 3-4) from layer-1 weights ``P1`` (S or 1, T, T)
    and the target's layer-2 weights ``P2`` (S, T):

    - ``prev_token`` (the paper's ILA1): layer 1's attention from each label token to the
      item just before it, averaged over label tokens and sequences;
    - ``match_label`` (TILA2): layer 2's attention from the target to the labels that
      follow items of the target's class (summed), averaged over the sequences whose
      context holds the target's class (there must be at least one);
    - ``label_attention`` (TLA2): layer 2's attention from the target to all N label
      tokens (summed), averaged over sequences; N/(2N+1) when attention is uniform.
    """
    if not isinstance(batch, ItemLabelBatch):
        raise ValueError(f"batch must be an ItemLabelBatch (see theory.induction.item_label_sequences); got {type(batch).__name__}")
    S, N = batch.context_labels.shape
    T = 2 * N + 1
    P1 = array("P1", P1, ndim=3)
    if P1.shape[1:] != (T, T) or P1.shape[0] not in (1, S):
        raise ValueError(f"P1 must have shape ({S} or 1, {T}, {T}) for this batch; got shape {P1.shape}")
    P2 = array("P2", P2, shape=(S, T))
    for name, P in (("P1", P1), ("P2", P2)):
        if P.min() < 0 or P.max() > 1:
            raise ValueError(f"{name} must hold attention weights in [0, 1]; got range [{P.min():.3g}, {P.max():.3g}]")
    has = batch.query_in_context
    if not has.any():
        raise ValueError("batch has no sequence whose context holds the target's class: "
                         "the matching-label attention is undefined")
    return _progress_measures(P1, P2, batch)


def _progress_measures(P1, P2, batch) -> dict:
    """Unchecked kernel of :func:`progress_measures`."""
    N = batch.context_labels.shape[1]
    t = np.arange(1, 2 * N, 2)                              # label positions
    prev = P1[:, t, t - 1].mean()
    match = (P2[:, t] * batch.context_match).sum(axis=1)   # TILA2 per sequence
    has = batch.query_in_context
    return dict(prev_token=float(prev), match_label=float(match[has].mean()),
                label_attention=float(P2[:, t].sum(axis=1).mean()))


def context_label_accuracy(logits, batch) -> float:
    """The paper's CLA: the fraction of sequences whose predicted label (argmax of
    ``logits`` (S, L)) is one of the labels shown in the context — right or not.  It
    rises first, while the network learns to answer with *some* context label (ICL
    accuracy ≈ 1/N for N distinct context labels), before the head picks the right one."""
    if not isinstance(batch, ItemLabelBatch):
        raise ValueError(f"batch must be an ItemLabelBatch (see theory.induction.item_label_sequences); got {type(batch).__name__}")
    S = batch.context_labels.shape[0]
    logits = array("logits", logits, ndim=2)
    if logits.shape[0] != S or logits.shape[1] <= batch.context_labels.max():
        raise ValueError(f"logits must have shape ({S}, L) with L above every context label id "
                         f"({batch.context_labels.max()}); got shape {logits.shape}")
    return _context_label_accuracy(logits, batch)


def _context_label_accuracy(logits, batch) -> float:
    """Unchecked kernel of :func:`context_label_accuracy`."""
    pred = np.argmax(logits, axis=1)                        # (S,)
    return float(np.mean(np.any(batch.context_labels == pred[:, None], axis=1)))


def classifier_activity(u3) -> dict:
    """How much of the classifier's last ReLU layer is alive, from its outputs ``u3``
    (S, h) on S sequences: ``relu_active``, the fraction of (sequence, unit) outputs above
    0; ``relu_dead``, the fraction of units at 0 on every sequence; ``relu_silent``, the
    fraction of sequences on which every unit is at 0 (the logits are then all 0: a
    uniform answer)."""
    u3 = array("u3", u3, ndim=2)
    if u3.min() < 0:
        raise ValueError(f"u3 must hold ReLU outputs (>= 0); got minimum {u3.min():.3g}")
    return _classifier_activity(u3)


def _classifier_activity(u3) -> dict:
    """Unchecked kernel of :func:`classifier_activity`."""
    on = u3 > 0
    return dict(relu_active=float(on.mean()), relu_dead=float((~on.any(axis=0)).mean()),
                relu_silent=float((~on.any(axis=1)).mean()))


def _network_hidden(cache):
    return cache.classifier.u                               # (S, h) the classifier's last ReLU layer


def _network_attention(cache):
    return cache.layer1.weights, cache.layer2.weights[:, 0]   # (S, T, T), (S, T)


def attention_measures(X, params, batch) -> dict:
    """:func:`progress_measures` of the full network on tokens ``X``."""
    return progress_measures(*_network_attention(network_forward(X, params)[1]), batch)
