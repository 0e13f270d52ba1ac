"""Reddy 2024 (ICLR), arXiv 2312.03002, Sec. 4: the two-parameter model of an induction
head, trained on the same bursty item-label data as the full network.

**Our reading — the paper's printed equations could not be read here.**  Sec. 4 builds
the model from the two progress measures of the full network (layer-1 previous-token
attention and layer-2 target-to-matching-label attention); the three-parameter model of
:mod:`theory.induction.three_param` names them β and α.  We therefore give each attention
layer exactly one scalar and keep the network's classifier:

* layer 1 (one parameter β): token t attends over the tokens s ≤ t with logit
  ``β [s = t-1]``: weight ``e^β / (e^β + t)`` on its predecessor, the rest spread evenly.
  It writes what it reads into a separate slot, ``prev_t = Σ_s P1_ts c_s``: at β → ∞ a
  label token carries the item before it.  The first token has no predecessor and
  keeps its own item, as in causal attention;
* layer 2 (one parameter α): the target x_q attends over all tokens with logit
  ``α x_q · prev_t`` and reads ``o = Σ_t P2_t c_t``: at α → ∞ it reads the labels that
  follow items of its own class — the induction head;
* the classifier of the full network (three ReLU layers with scalar biases and a readout
  over L labels, :func:`theory.induction.network.classifier_forward`) on ``[x_q ; o]``:
  it can learn in weights (from x_q) and in context (from o).

At β = α = 0 every weight is uniform and o is the mean token, close to where the full
network starts (its attention is nearly uniform at initialisation): the classifier can
learn which labels occur in the context but not which one matches.  Everything is
trained by the same SGD loop, data and evaluation sets as the full network
(:func:`theory.induction.training.train_network` with ``model=TWO_PARAM``), so the two
can be compared condition by condition.  Idealised (orthonormal tokens, B = 1, a
one-parameter readout ξ), the head has exactly the logits of the three-parameter model:
:func:`idealised_probability`, ``proofs/induction_head.py`` Step 6.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import nn
from ..core._validate import array, as_rng, cache as _cache, finite_result, finite_scalar, params as _params, positive_int
from .three_param import _sizes
from .network import (ClassifierCache, _classifier_backward, _classifier_forward, _cross_entropy_loss,
                                classifier_weights, cross_entropy_loss, init_classifier)

__all__ = ["TwoParamCache", "previous_token_weights", "init_two_param", "two_param_forward", "two_param_backward",
           "two_param_loss", "idealised_probability"]


def previous_token_weights(beta, T: int) -> np.ndarray:
    """Layer 1: ``P1[t, s] = softmax_{s ≤ t}(β [s = t-1])``, the same for every sequence.  (T, T)."""
    beta = finite_scalar("beta", beta)
    T = positive_int("T", T)
    return _previous_token_weights(beta, T)


def _previous_token_weights(beta: float, T: int) -> np.ndarray:
    t = np.arange(T)
    z = np.where(t[None, :] <= t[:, None], 0.0, -np.inf)   # causal: s <= t
    z[t[1:], t[1:] - 1] = beta                               # the predecessor s = t - 1
    return nn._softmax(z, axis=1)


def init_two_param(rng, D: int, L: int, *, hidden: int | None = None) -> dict:
    """β = α = 0 (uniform attention, as at the full network's initialisation) and the
    full network's classifier on the 2D-wide input ``[x_q ; o]`` (hidden width 2D unless
    given)."""
    D, L = positive_int("D", D), positive_int("L", L)
    h = 2 * D if hidden is None else positive_int("hidden", hidden)
    p = {"beta": np.zeros(1), "alpha": np.zeros(1)}
    p.update(init_classifier(as_rng(rng), 2 * D, h, L))
    return p


class TwoParamCache(NamedTuple):
    """What :func:`two_param_backward` needs."""
    C: np.ndarray               # (S, T, D) content
    P1: np.ndarray              # (T, T) layer 1's weights
    m: np.ndarray               # (S, T) x_q · prev_t
    P2: np.ndarray              # (S, T) layer 2's weights
    classifier: ClassifierCache
    params: dict


@finite_result(with_cache=True)
def two_param_forward(C, params):
    """Logits (S, L) for the target (last token) of content ``C`` (S, T, D), and a cache.

    P1 = previous_token_weights(β, T)                    (T, T)
    prev_t = Σ_s P1_ts c_s                              (S, T, D)  layer 1
    P2_t = softmax_t(α x_q · prev_t),  o = Σ_t P2_t c_t  (S, T), (S, D)  layer 2
    logits = classifier([x_q ; o])
    """
    C = array("C", C, ndim=3)
    p = _params("params", params, {"beta": (1,), "alpha": (1,)})
    p.update(classifier_weights(params, 2 * C.shape[2]))
    return _two_param_forward(C, p)


def _two_param_forward(C, params):
    """Unchecked kernel of :func:`two_param_forward`."""
    S, T, D = C.shape
    beta, alpha = float(params["beta"][0]), float(params["alpha"][0])
    P1 = _previous_token_weights(beta, T)                   # (T, T)
    prev = P1 @ C                                           # (S, T, D)
    x_q = C[:, -1]                                          # (S, D)
    m = (prev @ x_q[:, :, None])[:, :, 0]                   # (S, T)  x_q · prev_t
    P2 = nn._softmax(alpha * m, axis=1)                     # (S, T)
    o = (P2[:, None, :] @ C)[:, 0]                          # (S, D)
    logits, cc = _classifier_forward(np.concatenate([x_q, o], axis=1), params)
    return logits, TwoParamCache(C, P1, m, P2, cc, params)


@finite_result
def two_param_backward(dlogits, cache):
    """Hand-written gradients of :func:`two_param_forward` for β, α and the classifier."""
    C, params = _cache("cache", cache, TwoParamCache, "two_param_forward")[::5]
    dlogits = array("dlogits", dlogits, shape=(C.shape[0], params["R"].shape[0]))
    return _two_param_backward(dlogits, cache)


def _two_param_backward(dlogits, cache):
    """Unchecked kernel of :func:`two_param_backward`."""
    C, P1, m, P2, cc, params = cache
    D = C.shape[2]
    alpha = float(params["alpha"][0])
    g, du = _classifier_backward(dlogits, cc, params)
    do = du[:, D:]                                          # (S, D); x_q itself is data
    dP2 = (C @ do[:, :, None])[:, :, 0]                     # (S, T)  ∂/∂P2_t = c_t · do
    ds = nn._softmax_backward(dP2, P2, axis=1)             # (S, T)  ∂/∂(α m)
    g["alpha"] = np.array([(ds * m).sum()])
    x_q = C[:, -1]
    dprev = alpha * ds[:, :, None] * x_q[:, None, :]        # (S, T, D)
    dP1 = np.tensordot(dprev, C, axes=([0, 2], [0, 2]))     # (T, T)  Σ_b dprev_bt · c_bs
    dz = nn._softmax_backward(dP1, P1, axis=1)             # (T, T)  masked entries: P1 = 0
    g["beta"] = np.array([np.trace(dz, offset=-1)])         # β sits on the sub-diagonal
    return g


def two_param_loss(params, C, target):
    """``(loss, grads)``: the mean cross-entropy of the two-parameter model and its gradients."""
    return cross_entropy_loss(two_param_forward, two_param_backward, params, C, target)


def _two_param_loss(params, C, target):
    return _cross_entropy_loss(_two_param_forward, _two_param_backward, params, C, target)


# --------------------------------------------------------------------------- the idealised head
@finite_result
def idealised_probability(theta, N: int, L: int) -> float:
    """The two-parameter induction head, idealised, computed token by token; its
    probability of the right label equals the three-parameter model's p (Reddy 2024,
    Sec. 5; ``proofs/induction_head.py``, Step 6).

    Items e_1..e_N and labels e_{N+1}..e_{N+L} one-hot (orthonormal); pair j shows label
    j (B = 1, distinct labels); the query is of class 1, so label 1 is right.  Layer 1:
    a label token attends over itself and its predecessor (logit β on the predecessor);
    layer 2: the target attends over the N label tokens with logit ``α x_q · prev_t``;
    readout: ``logit_l = ξ λ_l · o``.  ``theta = (β, α, ξ)``.
    """
    theta = array("theta", theta, shape=(3,))
    N, L = _sizes(N, L)
    beta, alpha, xi = theta
    E = np.eye(N + L)
    items, labels = E[:N], E[N:]                            # (N, N+L), (L, N+L)
    C = np.empty((2 * N + 1, N + L))                        # x_1, λ_1, ..., x_N, λ_N, x_q
    C[0:2 * N:2], C[1:2 * N:2], C[2 * N] = items, labels[:N], items[0]
    t = np.arange(1, 2 * N, 2)                              # label tokens
    w = nn._softmax(np.stack([np.full(N, beta), np.zeros(N)], axis=1), axis=1)  # (N, 2): pred, self
    prev = w[:, :1] * C[t - 1] + w[:, 1:] * C[t]            # (N, N+L)  layer 1
    P2 = nn._softmax(alpha * (prev @ C[-1]))                # (N,)  layer 2 over the label tokens
    o = P2 @ C[t]                                           # (N+L,)
    return float(nn._softmax(xi * (labels @ o))[0])         # readout, right label = label 1
