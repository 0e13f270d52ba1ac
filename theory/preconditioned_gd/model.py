"""Ahn, Cheng, Daneshmand & Sra 2023: the linear transformer of in-context regression.

A prompt is ``Z ∈ R^{(d+1)×(n+1)}``: columns ``(x_i, y_i)`` for the n context pairs and
``(x_q, 0)`` for the query.  One layer is

    Z ← Z + (1/n) P Z M Zᵀ Q Z,     M = diag(1, …, 1, 0)

(M keeps the query from being a key or a value; the query is still updated), and the model
predicts ``ŷ = −Z_L[d+1, n+1]`` (minus the query's label slot after the last layer).  The
*sparse* form has ``P = [[B, 0], [0, 1]]`` and ``Q = [[A, 0], [0, 0]]`` with ``A, B ∈
R^{d×d}``: with ``B = 0`` layer ℓ is one step of preconditioned gradient descent
``w ← w − Γ_ℓ ∇R(w)`` with ``Γ_ℓ = −A_ℓᵀ`` (:func:`preconditioned_gd`; proofs/preconditioned_gd.py).

Arrays are batched: ``Z`` is (batch, d+1, n+1).  The authors' code stores tokens as rows and
computes the scores with ``Qᵀ`` in place of Q (``z_iᵀ Q z_j`` for the paper's ``z_jᵀ Q z_i``);
the two are the same model up to that transpose, and this module follows the paper.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core._validate import array, cache as _cache, finite_result, params as _params

__all__ = ["LayerCache", "prompt", "sparse_weights", "layer_forward", "layer_backward", "stack_forward", "stack_backward",
           "predict", "sparse_loss", "preconditioned_gd"]


def prompt(X, y, x_q) -> np.ndarray:
    """The prompt ``Z`` (batch, d+1, n+1) of contexts ``X`` (batch, n, d) with labels ``y``
    (batch, n) and queries ``x_q`` (batch, d) (label slot 0)."""
    X = array("X", X, ndim=3)
    B, n, d = X.shape
    y = array("y", y, shape=(B, n))
    x_q = array("x_q", x_q, shape=(B, d))
    return _prompt(X, y, x_q)


def _prompt(X, y, x_q) -> np.ndarray:
    """Unchecked kernel of :func:`prompt`."""
    B, n, d = X.shape
    Z = np.zeros((B, d + 1, n + 1))
    Z[:, :d, :n] = X.transpose(0, 2, 1)                      # columns x_i
    Z[:, d, :n] = y
    Z[:, :d, n] = x_q
    return Z


def sparse_weights(A, B) -> tuple:
    """``P = [[B, 0], [0, 1]]`` and ``Q = [[A, 0], [0, 0]]`` ((d+1) × (d+1) each) from the
    d × d blocks ``A`` (the scores' bilinear form) and ``B`` (the values' x-block)."""
    A = array("A", A, ndim=2)
    d = A.shape[0]
    B = array("B", B, shape=(d, d))
    if A.shape != (d, d):
        raise ValueError(f"A must be square; got shape {A.shape}")
    P, Q = np.zeros((d + 1, d + 1)), np.zeros((d + 1, d + 1))
    P[:d, :d], P[d, d] = B, 1.0
    Q[:d, :d] = A
    return P, Q


class LayerCache(NamedTuple):
    """What :func:`layer_backward` needs from one layer."""
    Z: np.ndarray               # (batch, d+1, n+1) the layer's input
    P: np.ndarray               # (d+1, d+1)
    Q: np.ndarray               # (d+1, d+1)
    S: np.ndarray               # (batch, d+1, d+1) Z_c Z_cᵀ over the context columns
    QZ: np.ndarray              # (batch, d+1, n+1) Q Z
    W: np.ndarray               # (batch, d+1, n+1) S Q Z


def _layer(Z, P, Q):
    """Unchecked kernel: one layer on Z (batch, d+1, n+1), computed as

        Z + (1/n) P S (Q Z),   S = Z M Zᵀ = Σ_{i ≤ n} z_i z_iᵀ     ((d+1) × (d+1))

    — the same product as ``(P Z M)(Zᵀ Q Z)``, associated so that no (n+1) × (n+1) score
    matrix is formed: (d+1)² numbers a prompt instead of (n+1)², and fewer FLOPs whenever
    d < n (proofs/preconditioned_gd.py uses the same Σ z_i z_iᵀ)."""
    n = Z.shape[2] - 1
    Zc = Z[:, :, :n]                                         # the context columns (Z M without the zero)
    S = Zc @ Zc.transpose(0, 2, 1)                           # (batch, d+1, d+1)
    QZ = Q @ Z                                               # (batch, d+1, n+1)
    W = S @ QZ                                               # S Q Z
    return Z + (P / n) @ W, LayerCache(Z, P, Q, S, QZ, W)


@finite_result(with_cache=True)
def layer_forward(Z, P, Q):
    """One layer ``Z + (1/n) P Z M Zᵀ Q Z`` and its cache; Z (batch, d+1, n+1), P and Q
    (d+1, d+1)."""
    Z = array("Z", Z, ndim=3)
    D = Z.shape[1]
    if Z.shape[2] < 2:
        raise ValueError(f"Z must hold at least one context column and the query; got shape {Z.shape}")
    P, Q = array("P", P, shape=(D, D)), array("Q", Q, shape=(D, D))
    return _layer(Z, P, Q)


def _layer_backward(G, cache):
    """Unchecked kernel: with F = (1/n) P W, W = S (Q Z), S = Z_c Z_cᵀ (Z_c the context columns)
    and G = ∂L/∂(Z + F):  dP = Σ_b G Wᵀ / n,  dW = Pᵀ G / n,  dS = dW (QZ)ᵀ,  d(QZ) = S dW
    (S is symmetric),  dQ = Σ_b d(QZ) Zᵀ,  and dZ = G + Qᵀ d(QZ) + (dS + dSᵀ) Z_c on the context
    columns."""
    Z, P, Q, S, QZ, W = cache
    n = Z.shape[2] - 1
    dP = (G @ W.transpose(0, 2, 1)).sum(0) / n               # batched products, then the sum: 3x einsum's speed
    dW = (P.T / n) @ G
    dS = dW @ QZ.transpose(0, 2, 1)                          # (batch, d+1, d+1)
    dQZ = S @ dW
    dQ = (dQZ @ Z.transpose(0, 2, 1)).sum(0)
    dZ = G + Q.T @ dQZ
    dZ[:, :, :n] += (dS + dS.transpose(0, 2, 1)) @ Z[:, :, :n]
    return dZ, dP, dQ


def layer_backward(dZ_out, cache):
    """Gradients ``(dZ, dP, dQ)`` of one layer, given ``dZ_out`` = ∂L/∂(the layer's output)."""
    cache = _cache("cache", cache, LayerCache, "layer_forward")
    return _layer_backward(array("dZ_out", dZ_out, shape=cache.Z.shape), cache)


def _weights(params):
    """(Ps, Qs), each (L, d+1, d+1), from sparse params {"A": (L, d, d), "B": (L, d, d)}."""
    A, B = params["A"], params["B"]
    L, d = A.shape[0], A.shape[1]
    Ps, Qs = np.zeros((L, d + 1, d + 1)), np.zeros((L, d + 1, d + 1))
    Ps[:, :d, :d], Ps[:, d, d] = B, 1.0
    Qs[:, :d, :d] = A
    return Ps, Qs


def _check_stack(Ps, Qs, D):
    Ps, Qs = array("Ps", Ps, ndim=3), array("Qs", Qs, ndim=3)
    if Ps.shape[1:] != (D, D) or Qs.shape != Ps.shape:
        raise ValueError(f"Ps and Qs must both be (layers, {D}, {D}); got {Ps.shape} and {Qs.shape}")
    return Ps, Qs


@finite_result(with_cache=True)
def stack_forward(Z, Ps, Qs):
    """L layers (``Ps``, ``Qs`` each (L, d+1, d+1)): the last prompt and the caches."""
    Z = array("Z", Z, ndim=3)
    if Z.shape[2] < 2:
        raise ValueError(f"Z must hold at least one context column and the query; got shape {Z.shape}")
    return _stack_forward(Z, *_check_stack(Ps, Qs, Z.shape[1]))


def _stack_forward(Z, Ps, Qs):
    """Unchecked kernel of :func:`stack_forward`."""
    caches = []
    for P, Q in zip(Ps, Qs):
        Z, c = _layer(Z, P, Q)
        caches.append(c)
    return Z, caches


def stack_backward(dZ_out, caches):
    """``(dZ_0, dPs, dQs)`` of :func:`stack_forward`, from ∂L/∂Z_L."""
    if not isinstance(caches, list) or not caches:
        raise ValueError("caches must be the list stack_forward returned")
    caches = [_cache(f"caches[{i}]", c, LayerCache, "stack_forward") for i, c in enumerate(caches)]
    return _stack_backward(array("dZ_out", dZ_out, shape=caches[-1].Z.shape), caches)


def _stack_backward(G, caches):
    """Unchecked kernel of :func:`stack_backward`."""
    dPs, dQs = [], []
    for c in reversed(caches):
        G, dP, dQ = _layer_backward(G, c)
        dPs.append(dP)
        dQs.append(dQ)
    return G, np.stack(dPs[::-1]), np.stack(dQs[::-1])


def predict(Z) -> np.ndarray:
    """``ŷ = −Z[d+1, n+1]``, the negated label slot of the query (batch,)."""
    Z = array("Z", Z, ndim=3)
    return -Z[:, -1, -1]


@finite_result
def sparse_loss(params, Z0, y_q) -> tuple:
    """``mean (ŷ − y_q)²`` of the sparse L-layer model ``params = {"A": (L, d, d), "B": (L,
    d, d)}`` on prompts ``Z0`` (batch, d+1, n+1), and its gradient with respect to A and B
    (the blocks the sparse form trains; the authors' loss, no ½)."""
    Z0 = array("Z0", Z0, ndim=3)
    d = Z0.shape[1] - 1
    p = _params("params", params, {"A": None, "B": None})
    if p["A"].ndim != 3 or p["A"].shape[1:] != (d, d) or p["B"].shape != p["A"].shape:
        raise ValueError(f"params A and B must both be (layers, {d}, {d}) to match Z0 ({d + 1} rows); got "
                         f"{p['A'].shape} and {p['B'].shape}")
    return _sparse_loss(p, Z0, array("y_q", y_q, shape=(Z0.shape[0],)))


def _sparse_loss(p, Z0, y_q) -> tuple:
    """Unchecked kernel of :func:`sparse_loss` (the training loop's step)."""
    d = Z0.shape[1] - 1
    Z, caches = _stack_forward(Z0, *_weights(p))
    r = -Z[:, d, -1] - y_q                                   # ŷ − y
    G = np.zeros_like(Z)
    G[:, d, -1] = -2.0 * r / len(r)
    _, dPs, dQs = _stack_backward(G, caches)
    return float(np.mean(r * r)), {"A": dQs[:, :d, :d], "B": dPs[:, :d, :d]}


@finite_result
def preconditioned_gd(X, y, x_q, Gammas) -> np.ndarray:
    """Predictions ``w_Lᵀ x_q`` after L steps ``w_{ℓ+1} = w_ℓ − Γ_ℓ ∇R(w_ℓ)`` from w = 0 on
    ``R(w) = (1/2n) Σ_i (wᵀx_i − y_i)²``, one preconditioner ``Γ_ℓ`` (d × d) a step;
    X (batch, n, d), y (batch, n), x_q (batch, d), Gammas (L, d, d)."""
    X = array("X", X, ndim=3)
    B, n, d = X.shape
    y, x_q = array("y", y, shape=(B, n)), array("x_q", x_q, shape=(B, d))
    Gammas = array("Gammas", Gammas, ndim=3)
    if Gammas.shape[1:] != (d, d):
        raise ValueError(f"Gammas must be (steps, {d}, {d}); got {Gammas.shape}")
    w = np.zeros((B, d))
    for G in Gammas:
        grad = np.einsum("bn,bnd->bd", np.einsum("bnd,bd->bn", X, w) - y, X) / n   # ∇R(w)
        w = w - grad @ G.T                                                        # w − Γ ∇R
    return np.einsum("bd,bd->b", w, x_q)


# --------------------------------------------------------------------------- the ledger's checks
def _random_prompts(rng):
    d, n, B = int(rng.integers(1, 6)), int(rng.integers(2, 12)), int(rng.integers(1, 5))
    X, w = rng.standard_normal((B, n, d)), rng.standard_normal((B, d))
    return X, np.einsum("bnd,bd->bn", X, w) + 0.1 * rng.standard_normal((B, n)), rng.standard_normal((B, d))
