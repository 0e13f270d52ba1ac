"""Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559): the dual form.

Three statements, each with a numeric check used by ``python -m theory check``:

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

3. **Momentum** (Dai et al. 2023, Sec. 5).  The paper's momentum attention is
   ``MoAttn(V, K, q_t) = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i`` and is offered as the
   dual of momentum GD.  What is exact (our corrected form): a linear layer trained by
   heavy-ball momentum, one example per step, ``M_i = η M_{i-1} + e_i x_i^T``,
   ``W_i = W_{i-1} + M_i``, ``M_0 = 0``, ends at::

       W_N = W0 + Σ_i s_{N-i} e_i x_i^T,   s_n = 1 + η + ... + η^n = (1 - η^{n+1}) / (1 - η),

   i.e. linear attention whose score for key ``i`` is scaled by ``s_{N-i}``, for *any*
   error signals (so also for real online momentum SGD, where ``e_i`` is computed at
   ``W_{i-1}``).  The paper's MoAttn adds a term that does not depend on the query, so it
   is not this dual; :func:`momentum_gap` measures how far apart they are.

Row convention: tokens and examples are rows, ``X: (N, d_in)``, ``E: (N, d_out)``,
queries ``Xq: (M, d_in)``; matrices ``W: (d_out, d_in)`` act on columns as in the paper.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import nn
from ._validate import array, as_rng, choice, finite_result, finite_scalar, integer_array, positive_int
from .gradcheck import rel_error
from .optim import Momentum

__all__ = [
    "GDStep", "gd_step_linear", "finetuned_output", "dual_output",
    "icl_linear_attention", "icl_split", "icl_split_output", "softmax_icl_mixture",
    "momentum_sgd", "momentum_weights", "momentum_dual_output", "momentum_attention",
    "momentum_gap",
    "check_dual_form", "check_icl_split", "check_softmax_mixture", "check_momentum_dual",
    "softmax_split_gap", "momentum_literal_gap",
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
    if loss == "squared":
        return nn.squared_error_forward(Y, targets), nn.squared_error_backward
    return nn.cross_entropy_forward(Y, targets), nn.cross_entropy_backward


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


# --------------------------------------------------------------------------- 3. momentum
@finite_result
def momentum_sgd(W0, X, targets, *, lr: float, eta: float, loss: str = "squared"):
    """Online heavy-ball momentum SGD on a linear layer, one example per step.

    Step i (i = 1..N) takes the gradient of ``loss(W x_i, target_i)`` at the current
    ``W_{i-1}`` and applies ``M_i = η M_{i-1} - lr ∇_W``, ``W_i = W_{i-1} + M_i`` with
    ``M_0 = 0`` (:class:`theory.optim.Momentum`).  The error signal of step i is
    ``e_i = -lr ∂loss/∂y`` at ``W_{i-1}``, so ``-lr ∇_W = e_i x_i^T``.

    This is the direct algorithm that the dual form is checked against: it runs the
    examples in order, so it loops over them by design.  Returns ``(W_N, E)``.
    """
    W = array("W0", W0, ndim=2)
    X = array("X", X, shape=(None, W.shape[1]))
    eta = finite_scalar("eta", eta, nonnegative=True, below=1.0)
    lr = finite_scalar("lr", lr, positive=True)
    targets = _targets(loss, targets, X.shape[0], W.shape[0])
    opt = Momentum(lr=lr, beta=eta)
    E = np.empty((X.shape[0], W.shape[0]))
    for i in range(X.shape[0]):
        Y, cache = nn.linear_forward(X[i:i + 1], W)        # (1, d_out)
        (_, lcache), backward = _loss_forward(loss, Y, targets[i:i + 1])
        dY = backward(1.0, lcache)                         # (1, d_out)
        E[i] = -lr * dY[0]
        _, grads = nn.linear_backward(dY, cache)
        W = opt.step({"W": W}, grads)["W"]
    return W, E


def momentum_weights(n: int, eta: float) -> np.ndarray:
    """``s_{n-i} = (1 - η^{n-i+1}) / (1 - η)`` for i = 1..n: the total weight that heavy-ball
    momentum gives the update of step i by the end of step n (as a sum, exact at η = 0)."""
    eta = finite_scalar("eta", eta, nonnegative=True, below=1.0)
    n = positive_int("n", n)
    age = np.arange(n - 1, -1, -1)                         # n - i for i = 1..n
    return np.cumsum(eta ** np.arange(n))[age]             # s_k = Σ_{j<=k} η^j


@finite_result
def momentum_dual_output(W0, E, X, Xq, eta: float) -> np.ndarray:
    """The exact dual of heavy-ball momentum: ``W0 x + Σ_i s_{N-i} e_i (x_i^T x)``.

    Linear attention with values E (N, d_out), keys X (N, d_in), whose score for key i is
    scaled by ``s_{N-i}`` (older examples weigh more: momentum keeps applying them).
    """
    E = array("E", E, ndim=2)
    s = momentum_weights(E.shape[0], eta)                  # (N,)
    return dual_output(W0, s[:, None] * E, X, Xq)


@finite_result
def momentum_attention(V, K, Q, eta: float) -> np.ndarray:
    """Dai et al. 2023, Sec. 5: ``MoAttn(V, K, q_t) = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i``.

    Causal linear attention over positions ``i <= t`` plus an exponential moving average
    of the earlier values.  V: (..., T, d_v); K, Q: (..., T, d_k).  Returns (..., T, d_v).
    """
    eta = finite_scalar("eta", eta, nonnegative=True, below=1.0)
    Q = array("Q", Q, min_ndim=2)
    K = array("K", K, min_ndim=2)
    V = array("V", V, min_ndim=2)
    T = Q.shape[-2]
    if K.shape[-2] != T or V.shape[-2] != T:
        raise ValueError(f"Q, K and V must have the same number of tokens (self-attention); "
                         f"got shapes {Q.shape}, {K.shape}, {V.shape}")
    attn = nn.linear_attention_forward(Q, K, V, mask=nn.attention_mask(T, causal=True))[0]
    lag = np.arange(T)[:, None] - np.arange(T)[None, :]    # (T, T) t - i
    decay = np.where(lag > 0, eta ** np.maximum(lag, 0), 0.0)  # η^{t-i} for i < t
    return attn + decay @ V


@finite_result
def momentum_gap(E, X, Xq, eta: float) -> float:
    """Relative gap between the paper's MoAttn, read as the dual of momentum GD, and the
    exact dual, over the query rows Xq (M, d_in) (several queries, so that the two
    functions of q are compared, not two numbers that may coincide).

    Each query q is appended to the sequence ``(x_1, ..., x_N, q)`` with values ``e_i``
    (value 0 at the query) and MoAttn is read at the query's position; the exact dual's
    update is ``Σ_i s_{N-i} e_i x_i^T q``.  The shared ``W0 q`` term is left out of both.
    """
    E = array("E", E, ndim=2)
    X = array("X", X, shape=(E.shape[0], None))
    Xq = array("Xq", Xq, shape=(None, X.shape[1]))
    values = np.vstack([E, np.zeros(E.shape[1])])          # (N + 1, d_out)
    mo = np.stack([momentum_attention(values, np.vstack([X, q]), np.vstack([X, q]), eta)[-1] for q in Xq])
    s = momentum_weights(E.shape[0], eta)
    exact = nn.linear_attention_forward(Xq, X, s[:, None] * E)[0]   # (M, d_out)
    return rel_error(mo, exact)


# --------------------------------------------------------------------------- random checks
def _sizes(rng, lo=1, hi=6, k=3):
    return [int(v) for v in rng.integers(lo, hi + 1, size=k)]


def check_dual_form(rng: np.random.Generator, loss: str = "squared") -> float:
    """Relative error of ``(W0 + ΔW) x = W0 x + LinearAttn(E, X', x)`` on a random instance."""
    rng = as_rng(rng)
    loss = choice("loss", loss, LOSSES)
    d_out, d_in, N = _sizes(rng)
    d_out = max(d_out, 2) if loss == "cross_entropy" else d_out
    W0 = rng.standard_normal((d_out, d_in))
    X = rng.standard_normal((N, d_in))
    Xq = rng.standard_normal((3, d_in))
    targets = (rng.integers(0, d_out, size=N) if loss == "cross_entropy"
               else rng.standard_normal((N, d_out)))
    step = gd_step_linear(W0, X, targets, lr=float(rng.uniform(0.05, 1.0)), loss=loss)
    return rel_error(finetuned_output(W0, step.delta_W, Xq), dual_output(W0, step.E, X, Xq))


def _icl_instance(rng):
    d, d_k, d_v = _sizes(rng)
    n_demo, n_ctx = _sizes(rng, k=2)
    return (rng.standard_normal((d_v, d)), rng.standard_normal((d_k, d)) / np.sqrt(d),
            rng.standard_normal((n_demo, d)), rng.standard_normal((n_ctx, d)),
            rng.standard_normal((3, d_k)) / np.sqrt(d_k))


def check_icl_split(rng: np.random.Generator) -> float:
    """Relative error of ``LinearAttn over [X'; X] = W_ZSL q + ΔW_ICL q``."""
    rng = as_rng(rng)
    args = _icl_instance(rng)
    return rel_error(icl_linear_attention(*args), icl_split_output(*args))


def check_softmax_mixture(rng: np.random.Generator) -> float:
    """Relative error of ``SoftAttn([X'; X]) = λ SoftAttn(X) + (1-λ) SoftAttn(X')``."""
    rng = as_rng(rng)
    full, lam, zero_shot, demo = softmax_icl_mixture(*_icl_instance(rng))
    return rel_error(full, lam * zero_shot + (1 - lam) * demo)


def softmax_split_gap(rng: np.random.Generator) -> float:
    """How far the *linear* split ``W_ZSL q + ΔW_ICL q`` is from softmax attention."""
    rng = as_rng(rng)
    args = _icl_instance(rng)
    full = softmax_icl_mixture(*args)[0]
    return rel_error(full, icl_split_output(*args))


def _momentum_instance(rng, loss="squared"):
    d_out, d_in, N = _sizes(rng)
    d_out = max(d_out, 2) if loss == "cross_entropy" else d_out
    W0 = rng.standard_normal((d_out, d_in))
    X = rng.standard_normal((N, d_in)) / np.sqrt(d_in)
    targets = (rng.integers(0, d_out, size=N) if loss == "cross_entropy"
               else rng.standard_normal((N, d_out)))
    return W0, X, targets, float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.0, 0.95))


def check_momentum_dual(rng: np.random.Generator, loss: str = "squared") -> float:
    """Relative error of ``W_N x = W0 x + Σ s_{N-i} e_i x_i^T x`` for online momentum SGD."""
    rng = as_rng(rng)
    loss = choice("loss", loss, LOSSES)
    W0, X, targets, lr, eta = _momentum_instance(rng, loss)
    W_N, E = momentum_sgd(W0, X, targets, lr=lr, eta=eta, loss=loss)
    Xq = rng.standard_normal((3, X.shape[1]))
    return rel_error(Xq @ W_N.T, momentum_dual_output(W0, E, X, Xq, eta))


def momentum_literal_gap(rng: np.random.Generator) -> float:
    """Gap between the paper's MoAttn and the exact momentum dual (η >= 0.05)."""
    rng = as_rng(rng)
    W0, X, targets, lr, _ = _momentum_instance(rng)
    eta = float(rng.uniform(0.05, 0.95))
    _, E = momentum_sgd(W0, X, targets, lr=lr, eta=eta)
    return momentum_gap(E, X, rng.standard_normal((5, X.shape[1])), eta)
