"""Dai et al. 2023, Sec. 5 (arXiv 2212.10559): momentum attention and the dual of momentum GD.

The paper's momentum attention is ``MoAttn(V, K, q_t) = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i``
and is offered as the dual of momentum GD.  What is exact (our corrected form): a linear
layer trained by heavy-ball momentum, one example per step, ``M_i = η M_{i-1} + e_i x_i^T``,
``W_i = W_{i-1} + M_i``, ``M_0 = 0``, ends at::

    W_N = W0 + Σ_i s_{N-i} e_i x_i^T,   s_n = 1 + η + ... + η^n = (1 - η^{n+1}) / (1 - η),

i.e. linear attention whose score for key ``i`` is scaled by ``s_{N-i}``, for *any* error
signals (so also for real online momentum SGD, where ``e_i`` is computed at ``W_{i-1}``).
The paper's MoAttn adds a term that does not depend on the query, so it is not this dual;
:func:`momentum_gap` measures how far apart they are.  ``proofs/dual_form_momentum.py``
derives the weights.

Row convention as in :mod:`theory.dual_form.dual`: examples are rows, ``X: (N, d_in)``,
``E: (N, d_out)``, queries ``Xq: (M, d_in)``; ``W: (d_out, d_in)``.
"""
from __future__ import annotations

import numpy as np

from ..core import nn
from ..core._validate import array, finite_result, finite_scalar, positive_int
from ..core.gradcheck import rel_error
from ..core.optim import Momentum
from .dual import _loss_forward, _sizes, _targets, dual_output

__all__ = ["momentum_sgd", "momentum_weights", "momentum_dual_output", "momentum_attention", "momentum_gap"]


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


def _momentum_instance(rng, loss="squared"):
    d_out, d_in, N = _sizes(rng)
    d_out = max(d_out, 2) if loss == "cross_entropy" else d_out
    W0 = rng.standard_normal((d_out, d_in))
    X = rng.standard_normal((N, d_in)) / np.sqrt(d_in)
    targets = (rng.integers(0, d_out, size=N) if loss == "cross_entropy"
               else rng.standard_normal((N, d_out)))
    return W0, X, targets, float(rng.uniform(0.05, 0.5)), float(rng.uniform(0.0, 0.95))
