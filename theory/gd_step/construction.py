"""von Oswald et al. 2023: the weights that make LSA layers steps of gradient descent, and
the direct algorithms (GD, GD++) they are checked against.

The GD construction (Prop. 1): ``W_K = W_Q = [[I, 0], [0, 0]]``,
``W_V = [[0, 0], [W0, -I]]``, ``P = (η/N) I`` makes every y-slot move by ``-ΔW x_j``
with ``ΔW = -(η/N) Σ_i (W0 x_i - y_i) x_i^T``, one GD step on
``L(W) = 1/(2N) Σ_i ||W x_i - y_i||²``; the prediction is ``-(query's y-slot) = (W0 + ΔW) x_q``.
The same layer applied K times is K steps (the context targets update in place).

GD++ (Sec. 4): the value also copies x and the projection's x-block is ``-γ I``, so the
same layer also applies ``x ← (I - γ Σ_i x_i x_i^T) x`` to every token (the y-update of
that layer uses the x it received; the next layer sees the transformed x).

Row convention as in :mod:`theory.gd_step.lsa`: tokens are rows, ``W e`` is ``E @ W.T``.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, flag, positive_int

__all__ = ["gd_construction", "gdpp_construction", "gd_predict", "gdpp_predict"]


# --------------------------------------------------------------------------- constructions
@finite_result
def gd_construction(d: int, d_out: int, n_context: int, eta: float, W0=None) -> dict:
    """von Oswald et al. 2023, Prop. 1: the LSA weights of one GD step with rate η.

    ``W_K = W_Q = [[I_d, 0], [0, 0]]``, ``W_V = [[0, 0], [W0, -I]]``, ``P = (η/N) I``.
    """
    d, d_out, N = (positive_int(n, v) for n, v in (("d", d), ("d_out", d_out), ("n_context", n_context)))
    eta = finite_scalar("eta", eta)
    return _gd_construction(d, d_out, N, eta, None if W0 is None else array("W0", W0, shape=(d_out, d)))


def _gd_construction(d: int, d_out: int, N: int, eta: float, W0=None) -> dict:
    """Unchecked kernel of :func:`gd_construction`."""
    D = d + d_out
    WK = np.zeros((D, D))
    WK[:d, :d] = np.eye(d)
    WV = np.zeros((D, D))
    WV[d:, d:] = -np.eye(d_out)
    if W0 is not None:
        WV[d:, :d] = W0
    return {"W_K": WK, "W_Q": WK.copy(), "W_V": WV, "P": (eta / N) * np.eye(D)}


@finite_result
def gdpp_construction(d: int, d_out: int, n_context: int, eta: float, gamma: float) -> dict:
    """GD++ layer (Sec. 4; W0 = 0): value ``W_V = [[I, 0], [0, -I]]`` also copies x,
    projection ``P = [[-γ I, 0], [0, (η/N) I]]``; keys and queries as for GD."""
    d, d_out, N = (positive_int(n, v) for n, v in (("d", d), ("d_out", d_out), ("n_context", n_context)))
    return _gdpp_construction(d, d_out, N, finite_scalar("eta", eta), finite_scalar("gamma", gamma))


def _gdpp_construction(d: int, d_out: int, N: int, eta: float, gamma: float) -> dict:
    """Unchecked kernel of :func:`gdpp_construction`."""
    p = _gd_construction(d, d_out, N, eta)
    p["W_V"][:d, :d] = np.eye(d)
    p["P"][:d, :d] = -gamma * np.eye(d)
    return p


# --------------------------------------------------------------------------- direct algorithms
def _regression_inputs(X, Y, xq):
    X = array("X", X, ndim=3)
    Y = array("Y", Y, shape=(X.shape[0], X.shape[1], None))
    xq = array("xq", xq, shape=(X.shape[0], X.shape[2]))
    return X, Y, xq


@finite_result
def gd_predict(X, Y, xq, eta, steps: int = 1, W0=None):
    """K steps of GD on ``L(W) = 1/(2N) Σ_i ||W x_i - y_i||²`` from W0, for every task.

    ``W ← W - η (1/N) Σ_i (W x_i - y_i) x_i^T``; ``eta`` is a number or one per step.
    Returns ``(y_hat (B, d_out), W (B, d_out, d))``, ``y_hat = W_K x_q``.
    """
    X, Y, xq = _regression_inputs(X, Y, xq)
    B, N, d = X.shape
    steps = positive_int("steps", steps)
    if np.ndim(eta) == 0:
        etas = np.full(steps, finite_scalar("eta", eta))
    else:
        etas = array("eta", eta, shape=(steps,))           # one per step
    W = np.zeros((B, Y.shape[2], d))
    if W0 is not None:
        W = W + array("W0", W0, shape=(Y.shape[2], d))
    for k in range(steps):
        R = X @ np.swapaxes(W, 1, 2) - Y                   # (B, N, d_out) residuals W x_i - y_i
        W = W - (etas[k] / N) * np.swapaxes(R, 1, 2) @ X   # (B, d_out, d)
    return np.einsum("bod,bd->bo", W, xq), W


@finite_result
def gdpp_predict(X, Y, xq, etas, gammas, *, return_state: bool = False):
    """GD++ (von Oswald et al. 2023, Sec. 4), W0 = 0, one entry of (η, γ) per layer.

    Layer l, with the x's it receives: a GD step from W = 0 on the current residual
    targets ``r_i`` (``ΔW = (η/N) Σ_i r_i x_i^T``, ``ŷ += ΔW x_q``, ``r_i -= ΔW x_i``), and
    every input, query included, becomes ``x ← (I - γ Σ_i x_i x_i^T) x``.
    Returns ŷ (B, d_out); with ``return_state`` also the final ``(X, R, xq)``, which the
    tokens of the GD++ layers hold (context ``(x_i, r_i)``, query ``(x_q, -ŷ)``).
    """
    X, R, xq = _regression_inputs(X, Y, xq)
    etas = np.atleast_1d(array("etas", etas, ndim=(0, 1)))
    gammas = np.atleast_1d(array("gammas", gammas, ndim=(0, 1)))
    if etas.shape != gammas.shape:
        raise ValueError(f"etas and gammas must have one entry per layer each; got shapes {etas.shape} and {gammas.shape}")
    return_state = flag("return_state", return_state)
    N, d = X.shape[1], X.shape[2]
    y_hat = np.zeros((X.shape[0], R.shape[2]))
    for eta, gamma in zip(etas, gammas):
        dW = (eta / N) * np.swapaxes(R, 1, 2) @ X          # (B, d_out, d)
        y_hat = y_hat + np.einsum("bod,bd->bo", dW, xq)
        R = R - X @ np.swapaxes(dW, 1, 2)
        T = np.eye(d) - gamma * np.swapaxes(X, 1, 2) @ X   # (B, d, d)  I - γ Σ x_i x_i^T
        X = X @ T                                          # T symmetric: rows x ← T x
        xq = np.einsum("bde,be->bd", T, xq)
    return (y_hat, (X, R, xq)) if return_state else y_hat


# --------------------------------------------------------------------------- random checks
def _random_regression(rng, d_out_max=3):
    d, d_out, N = (int(rng.integers(1, hi + 1)) for hi in (5, d_out_max, 8))
    X = rng.standard_normal((4, N, d)) / np.sqrt(d)
    W = rng.standard_normal((4, d_out, d))
    Y = X @ np.swapaxes(W, 1, 2) + 0.1 * rng.standard_normal((4, N, d_out))
    return X, Y, rng.standard_normal((4, d)) / np.sqrt(d)
