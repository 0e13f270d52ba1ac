"""Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559): the dual form.

Two statements, each with a numeric check used by ``python -m theory check`` (the third,
momentum, is in :mod:`theory.dual_form.momentum`):

1. **GD on a linear layer is linear attention** (Dai et al. 2023, Sec. 3.1).  A layer
   ``F(x) = W0 x`` trained for one step of gradient descent on examples ``x'_i`` moves by
   ``ΔW = Σ_i e_i x'_i^T``, ``e_i = -lr ∂L/∂(W0 x'_i)``, so for any input ``x``::

       (W0 + ΔW) x = W0 x + Σ_i e_i (x'_i^T x) = W0 x + LinearAttn(E, X', x).

   Exact for every differentiable loss; we check squared error and cross-entropy with
   the error signals taken from our own backward pass.

2. **ICL as implicit finetuning** (Dai et al. 2023, Sec. 3.2).  Linear attention of a
   query ``q`` over the demonstrations ``X'`` and the query's own context ``X`` splits as::

       W_V [X'; X] (W_K [X'; X])^T q = W_ZSL q + ΔW_ICL q,
       W_ZSL = W_V X (W_K X)^T,   ΔW_ICL = W_V X' (W_K X')^T.

   Exact for linear attention.  For softmax attention the split is not additive; what
   is exact instead (our corrected form) is a convex mixture::

       SoftAttn([X'; X], q) = λ SoftAttn(X, q) + (1 - λ) SoftAttn(X', q),
       λ = Z_X / (Z_X + Z_X'),  Z_S = Σ_{i in S} exp((W_K x_i)^T q).

Row convention: tokens and examples are rows, ``X: (N, d_in)``, ``E: (N, d_out)``,
queries ``Xq: (M, d_in)``; matrices ``W: (d_out, d_in)`` act on columns as in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import nn
from ..core._validate import array, choice, finite_result, finite_scalar, integer_array

__all__ = [
    "LOSSES", "GDStep", "gd_step_linear", "finetuned_output", "dual_output",
    "icl_linear_attention", "icl_split", "icl_split_output", "softmax_icl_mixture",
]


LOSSES = ("squared", "cross_entropy")


# --------------------------------------------------------------------------- 1. dual form
@dataclass(frozen=True)
class GDStep:
    """One GD step of ``F(x) = W0 x``: error signals ``E`` (N, d_out), update ``delta_W``."""
    E: np.ndarray
    delta_W: np.ndarray
    loss: float


def _targets(loss: str, targets, N: int, d_out: int) -> np.ndarray:
    """Targets of the N examples: (N, d_out) floats for squared error, (N,) integer classes
    in [0, d_out) for cross-entropy."""
    if choice("loss", loss, LOSSES) == "squared":
        return array("targets", targets, shape=(N, d_out))
    return integer_array("targets", targets, shape=(N,), low=0, high=d_out)


def _loss_forward(loss: str, Y, targets):
    """The loss's value and cache on outputs Y, and its backward (the unchecked kernels:
    the targets were checked by :func:`_targets`)."""
    if loss == "squared":
        return nn._squared_error(Y, targets), nn._squared_error_backward
    return nn._cross_entropy(Y, targets), nn._cross_entropy_backward


@finite_result
def gd_step_linear(W0, X, targets, *, lr: float, loss: str = "squared") -> GDStep:
    """One full-batch GD step on ``L(W) = loss(W x'_i, target_i)`` from ``W0``.

    W0: (d_out, d_in); X: (N, d_in) examples x'_i as rows; targets: (N, d_out) floats for
    ``"squared"`` or (N,) integer classes for ``"cross_entropy"``.  The error signals
    ``e_i = -lr ∂L/∂y_i`` come from the loss backward; ``ΔW = -lr ∂L/∂W`` from the
    linear layer's backward (a separate code path from the dual form below).
    """
    lr = finite_scalar("lr", lr, positive=True)
    W0 = array("W0", W0, ndim=2)
    X = array("X", X, shape=(None, W0.shape[1]))
    targets = _targets(loss, targets, X.shape[0], W0.shape[0])
    Y, cache = nn.linear_forward(X, W0)                     # (N, d_out) outputs W0 x'_i
    (value, lcache), backward = _loss_forward(loss, Y, targets)
    dY = backward(1.0, lcache)                             # (N, d_out) = ∂L/∂y_i
    _, grads = nn.linear_backward(dY, cache)               # ∂L/∂W = Σ_i (∂L/∂y_i) x'_i^T
    return GDStep(E=-lr * dY, delta_W=-lr * grads["W"], loss=value)


@finite_result
def finetuned_output(W0, delta_W, Xq) -> np.ndarray:
    """``(W0 + ΔW) x`` for every query row: Xq (M, d_in) -> (M, d_out)."""
    W0 = array("W0", W0, ndim=2)
    delta_W = array("delta_W", delta_W, shape=W0.shape)
    Xq = array("Xq", Xq, shape=(None, W0.shape[1]))
    return nn.linear_forward(Xq, W0 + delta_W)[0]


@finite_result
def dual_output(W0, E, X, Xq) -> np.ndarray:
    """``W0 x + LinearAttn(E, X', x)``: values E (N, d_out), keys X (N, d_in), queries Xq.

    Dai et al. 2023, Eq. (6) (dual form).  Returns (M, d_out).
    """
    W0 = array("W0", W0, ndim=2)
    E = array("E", E, shape=(None, W0.shape[0]))
    X = array("X", X, shape=(E.shape[0], W0.shape[1]))
    Xq = array("Xq", Xq, shape=(None, W0.shape[1]))
    zero_shot = nn.linear_forward(Xq, W0)[0]               # (M, d_out)  W0 x
    attn = nn.linear_attention_forward(Xq, X, E)[0]        # (M, d_out)  Σ_i e_i x'_i^T x
    return zero_shot + attn


# --------------------------------------------------------------------------- 2. ICL split
_NO_QUERY = object()                                       # icl_split takes no query


def _icl_inputs(W_V, W_K, X_demo, X_ctx, Q):
    W_V = array("W_V", W_V, ndim=2)
    W_K = array("W_K", W_K, shape=(None, W_V.shape[1]))
    d = W_V.shape[1]
    X_demo = array("X_demo", X_demo, shape=(None, d))
    X_ctx = array("X_ctx", X_ctx, shape=(None, d))
    if Q is not _NO_QUERY:
        Q = array("Q", Q, shape=(None, W_K.shape[0]))
    return W_V, W_K, X_demo, X_ctx, Q


@finite_result
def icl_linear_attention(W_V, W_K, X_demo, X_ctx, Q) -> np.ndarray:
    """``W_V [X'; X] (W_K [X'; X])^T q`` for query rows Q (M, d_k): the full attention.

    W_V: (d_v, d); W_K: (d_k, d); X_demo: (N', d) demonstrations; X_ctx: (N, d) the query's
    own context.  Returns (M, d_v).
    """
    W_V, W_K, X_demo, X_ctx, Q = _icl_inputs(W_V, W_K, X_demo, X_ctx, Q)
    X_all = np.concatenate([X_demo, X_ctx], axis=0)        # (N' + N, d)
    return nn.linear_attention_forward(Q, X_all @ W_K.T, X_all @ W_V.T)[0]


@finite_result
def icl_split(W_V, W_K, X_demo, X_ctx) -> tuple[np.ndarray, np.ndarray]:
    """``(W_ZSL, ΔW_ICL)``, both (d_v, d_k) (Dai et al. 2023, Eq. (8)).

    ``W_ZSL = W_V X (W_K X)^T`` (zero-shot: context only), ``ΔW_ICL = W_V X' (W_K X')^T``
    (the demonstrations' implicit update).  With rows, ``W_V X = (X_rows W_V^T)^T``.
    """
    W_V, W_K, X_demo, X_ctx, _ = _icl_inputs(W_V, W_K, X_demo, X_ctx, _NO_QUERY)
    W_zsl = (X_ctx @ W_V.T).T @ (X_ctx @ W_K.T)            # (d_v, d_k)
    dW_icl = (X_demo @ W_V.T).T @ (X_demo @ W_K.T)         # (d_v, d_k)
    return W_zsl, dW_icl


@finite_result
def icl_split_output(W_V, W_K, X_demo, X_ctx, Q) -> np.ndarray:
    """``W_ZSL q + ΔW_ICL q`` for query rows Q: (M, d_v)."""
    W_V, W_K, X_demo, X_ctx, Q = _icl_inputs(W_V, W_K, X_demo, X_ctx, Q)
    W_zsl, dW_icl = icl_split(W_V, W_K, X_demo, X_ctx)
    return Q @ W_zsl.T + Q @ dW_icl.T


@finite_result
def softmax_icl_mixture(W_V, W_K, X_demo, X_ctx, Q):
    """Softmax attention over ``[X'; X]`` and its exact convex split.

    Returns ``(full, lam, zero_shot, demo)`` with ``full = lam * zero_shot + (1 - lam) * demo``:
    full, zero_shot, demo: (M, d_v) softmax attentions over all / context / demonstration
    tokens; lam: (M, 1) = Z_X / (Z_X + Z_X'), computed stably from log-sum-exps.
    """
    W_V, W_K, X_demo, X_ctx, Q = _icl_inputs(W_V, W_K, X_demo, X_ctx, Q)
    X_all = np.concatenate([X_demo, X_ctx], axis=0)
    full = nn.softmax_attention_forward(Q, X_all @ W_K.T, X_all @ W_V.T)[0]
    zero_shot = nn.softmax_attention_forward(Q, X_ctx @ W_K.T, X_ctx @ W_V.T)[0]
    demo = nn.softmax_attention_forward(Q, X_demo @ W_K.T, X_demo @ W_V.T)[0]
    lse_ctx = nn._logsumexp(Q @ (X_ctx @ W_K.T).T)         # (M, 1) log Z_X
    lse_demo = nn._logsumexp(Q @ (X_demo @ W_K.T).T)       # (M, 1) log Z_X'
    lam = 1.0 / (1.0 + np.exp(lse_demo - lse_ctx))         # Z_X / (Z_X + Z_X')
    return full, lam, zero_shot, demo


# --------------------------------------------------------------------------- random checks
def _sizes(rng, lo=1, hi=6, k=3):
    return [int(v) for v in rng.integers(lo, hi + 1, size=k)]


def _icl_instance(rng):
    d, d_k, d_v = _sizes(rng)
    n_demo, n_ctx = _sizes(rng, k=2)
    return (rng.standard_normal((d_v, d)), rng.standard_normal((d_k, d)) / np.sqrt(d),
            rng.standard_normal((n_demo, d)), rng.standard_normal((n_ctx, d)),
            rng.standard_normal((3, d_k)) / np.sqrt(d_k))
