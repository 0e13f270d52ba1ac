"""The ledger entries of von Oswald et al. 2023b (collected by ``theory/claims.py``)."""
from __future__ import annotations

import numpy as np

from ..core import nn
from ..core._validate import as_rng
from ..core.gradcheck import numerical_gradient, rel_error
from ..core.registry import EXACT, Claim
from .attention import (HEAD_KEYS, _next_state_loss, causal_lsa_forward, gd_construction, gd_prediction, init_layer,
    tokens)
from .iterations import (_krylov_instance, chebyshev, chebyshev_bound, iteration_polynomial, preconditioning_systems,
    richardson, richardson_rate, run_krylov_stack)
from .layer import _mesa_backward, _mesa_forward, _mesa_instance, downdate, mesa_layer_forward, ridge_predictions

MESA = "von Oswald et al. 2023b"
PAPERS = {"mesa": MESA}

__all__ = ["MESA", "PAPERS", "CLAIMS"]


def _check_causal_gd_step(rng) -> float:
    """One causal LSA layer with :func:`gd_construction` = one GD step on ``L_t`` at every t."""
    rng = as_rng(rng)
    D, T, eta = int(rng.integers(1, 6)), int(rng.integers(2, 15)), float(rng.uniform(0.01, 1.0))
    S = rng.uniform(-1, 1, size=(2, T, D))
    out = causal_lsa_forward(tokens(S), gd_construction(D, eta))[0]
    return rel_error(out[:, :, :D], gd_prediction(S, eta))


def _check_model_gradient(rng) -> float:
    """Worst relative error of the deep model's hand-written gradients (2 layers, random
    heads and key sizes, :func:`next_state_loss`) against central differences."""
    rng = as_rng(rng)
    D, T, H, dk = int(rng.integers(1, 4)), int(rng.integers(2, 7)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    S = rng.uniform(-1, 1, size=(2, T, D))
    layers = [init_layer(rng, 4 * D, H, dk, scale=0.5) for _ in range(2)]
    E = tokens(S)
    flat = {f"{k}{i}": v for i, p in enumerate(layers) for k, v in p.items()}
    unflat = lambda q: [{k: q[f"{k}{i}"] for k in HEAD_KEYS} for i in range(2)]
    grads = _next_state_loss(layers, S, E)[1]
    num = numerical_gradient(lambda q: _next_state_loss(unflat(q), S, E)[0], flat)
    return max(rel_error(g[k], num[f"{k}{i}"]) for i, g in enumerate(grads) for k in HEAD_KEYS)


def _check_chebyshev_bound(rng) -> float:
    """Largest excess of ``||e_k|| / (||e_0|| / T_k(σ))`` over 1 for k = 1..30 while the
    bound is >= 1e-6, on the mesa-layer's systems with μ, L their extreme eigenvalues."""
    A, b, _ = preconditioning_systems(as_rng(rng))
    ev = np.linalg.eigvalsh(A)
    x = chebyshev(A, b, ev[:, 0], ev[:, -1], 30)
    err = np.linalg.norm(x - np.linalg.solve(A, b[..., None])[None, ..., 0], axis=2)   # (31, B)
    k = np.arange(31)[:, None]
    bound = chebyshev_bound(ev[:, 0], ev[:, -1], k)
    keep = bound >= 1e-6
    return max(float(np.max((err / (bound * err[:1]))[keep]) - 1.0), 0.0)


def _check_neumann(rng) -> float:
    """Richardson from 0 = the truncated Neumann series ``ω Σ_{j<k} (I − ωA)^j b`` (k = 7)."""
    A, b, omegas = preconditioning_systems(as_rng(rng))
    x = np.stack([richardson(A[i:i + 1], b[i:i + 1], w, 7)[-1, 0] for i, w in enumerate(omegas)])
    M = np.eye(A.shape[1]) - omegas[:, None, None] * A
    terms, acc = b.copy(), np.zeros_like(b)
    for _ in range(7):
        acc += terms
        terms = np.einsum("bij,bj->bi", M, terms)
    return rel_error(x, omegas[:, None] * acc)


def _check_richardson_bound(rng) -> float:
    """Largest excess of ``||e_k|| / (ρ^k ||e_0||)`` over 1 (0 when the bound holds), for
    k = 1..30 while ``ρ^k >= 1e-6`` (below, the bound meets the round-off of the reference
    solve), on the mesa-layer's systems (each with its own ω)."""
    A, b, omegas = preconditioning_systems(as_rng(rng))
    worst = 0.0
    for i, omega in enumerate(omegas):
        x = richardson(A[i:i + 1], b[i:i + 1], omega, 30)[:, 0]
        exact = np.linalg.solve(A[i], b[i])
        err = np.linalg.norm(x - exact, axis=1)
        rho = richardson_rate(A[i:i + 1], omega)[0]
        k = np.arange(31)[rho ** np.arange(31) >= 1e-6]    # above the round-off of the exact solve
        worst = max(worst, float(np.max(err[k] / (rho ** k * err[0])) - 1.0))
    return max(worst, 0.0)


def _check_stack_runs_iterations(rng) -> float:
    """K stacked one-head causal linear-attention layers (:func:`krylov_layers`) with the
    read-out of :func:`iteration_polynomial` = K steps of Richardson and of Chebyshev on
    ``(S_t + λ I) x = s_t`` at every t (the larger of the two relative errors)."""
    S, lam, K, A, b = _krylov_instance(as_rng(rng))
    ev = np.linalg.eigvalsh(A)
    mu, L = float(ev[:, 0].min()), float(ev[:, -1].max())   # one interval for every t: fixed weights
    rich = richardson(A, b, 2 / (mu + L), K)[-1]
    cheb = chebyshev(A, b, mu, L, K)[-1]
    stack = lambda c: run_krylov_stack(S, c).reshape(b.shape)
    return max(rel_error(stack(iteration_polynomial("richardson", lam, K, omega=2 / (mu + L))), rich),
               rel_error(stack(iteration_polynomial("chebyshev", lam, K, mu=mu, L=L)), cheb))


def _check_downdate(rng) -> float:
    """Relative error of ``downdate(R_t, k_t)`` against the stored ``R_{t-1}`` at every t."""
    K, V, Q, lam = _mesa_instance(as_rng(rng))
    R = mesa_layer_forward(K, V, Q, lam)[1].R             # (B, T, d_k, d_k)
    B, T, dk = K.shape
    prev = np.concatenate([np.broadcast_to(lam * np.eye(dk), (B, 1, dk, dk)), R[:, :-1]], axis=1)
    back = np.stack([downdate(R[:, t], K[:, t]) for t in range(T)], axis=1)
    return rel_error(back, prev)


def _check_mesa_gradient(rng) -> float:
    """Worst relative error of :func:`mesa_layer_backward` (K, V, Q and λ) against differences
    of the forward pass: central differences for K, V, Q; for λ a five-point difference
    (truncation O(h⁴): a central difference's own O(h²) error reaches 4e-7 of a small dλ)."""
    rng = as_rng(rng)
    K, V, Q, lam = _mesa_instance(rng)
    R_out = rng.standard_normal(V.shape)                   # loss = Σ R_out ⊙ y
    f = lambda p, x=lam: float(np.sum(R_out * _mesa_forward(p["K"], p["V"], p["Q"], x)[0]))
    dK, dV, dQ, dlam = _mesa_backward(R_out, _mesa_forward(K, V, Q, lam)[1])
    params = {"K": K, "V": V, "Q": Q}
    num = numerical_gradient(f, params)
    h = 1e-3 * lam
    five = (-f(params, lam + 2 * h) + 8 * f(params, lam + h) - 8 * f(params, lam - h) + f(params, lam - 2 * h)) / (12 * h)
    noise = 4 * 2.2e-16 * abs(f(params)) / h               # the difference's own round-off, as a floor
    return max(rel_error(dK, num["K"]), rel_error(dV, num["V"]), rel_error(dQ, num["Q"]),
               rel_error(dlam, five, scale=noise / 1e-7))


def _check_mesa_is_attention(rng) -> float:
    """The mesa-layer's ``Ŵ_t q_t = (Σ_{t'<=t} v_{t'} k_{t'}^T) R_t q_t`` (formed explicitly here)
    is causal linear attention (current token included) with values v, keys k and the
    preconditioned query ``R_t q_t``: ``Σ_{t'<=t} v_{t'} k_{t'}^T (R_t q_t)``."""
    K, V, Q, lam = _mesa_instance(as_rng(rng))
    R = mesa_layer_forward(K, V, Q, lam)[1].R             # (B, T, d_k, d_k) R_t
    A = np.cumsum(V[:, :, :, None] * K[:, :, None, :], axis=1)   # A_t = Σ v k^T
    W_hat = A @ R                                          # Ŵ_t
    explicit = (W_hat @ Q[..., None])[..., 0]
    RQ = (R @ Q[..., None])[..., 0]
    attn = nn.linear_attention_forward(RQ, K, V, mask=nn.attention_mask(K.shape[1], causal=True))[0]
    return rel_error(explicit, attn)


def _check_sherman_morrison(rng) -> float:
    """Relative error between the causal Sherman–Morrison mesa-layer and the batch ridge solve."""
    K, V, Q, lam = _mesa_instance(as_rng(rng))
    return rel_error(mesa_layer_forward(K, V, Q, lam)[0], ridge_predictions(K, V, Q, lam))


CLAIMS = (
    Claim("mesa-sherman-morrison", MESA,
          "mesa-layer: the causal Sherman-Morrison recursion R_t = R_{t-1} - R k k^T R / (1 + k^T R k), "
          "R_0 = λI, gives the batch ridge solution (Σ v k^T)(Σ k k^T + I/λ)^{-1} q at every t",
          EXACT, "mesa", _check_sherman_morrison),
    Claim("mesa-downdate", MESA,
          "the downdate R_{t-1} = R_t + R_t k k^T R_t / (1 - k^T R_t k) recovers every earlier R",
          EXACT, "mesa", _check_downdate, tol=1e-10,
          tol_note="the downdate divides by 1 - k^T R_t k, which cancels; measured worst 2e-15 over "
                   "20 instances, tolerance 1e-10"),
    Claim("mesa-attention", MESA,
          "the mesa-layer is causal linear attention with the preconditioned query R_t q_t",
          EXACT, "mesa", _check_mesa_is_attention),
    Claim("mesa-causal-gd", MESA,
          "causal LSA with key s_{t'-1}, query s_t, value s_{t'} -> block 0, P = ηI is one GD step on "
          "L_t(W) = ½ Σ_{t'≤t} ||s_{t'} - W s_{t'-1}||² from W = 0 at every t",
          EXACT, "mesa", _check_causal_gd_step),
    Claim("mesa-layer-gradient", MESA,
          "the mesa-layer's hand-written backward (K, V, Q and λ, through every Sherman-Morrison step) "
          "= differences of the forward pass",
          EXACT, "mesa", _check_mesa_gradient, tol=1e-7,
          measured_by="finite differences", tol_note="finite differences: central for K, V, Q, five-point for λ; 1e-7 relative is the "
                   "package's gradient standard"),
    Claim("mesa-model-gradient", MESA,
          "deep causal linear attention (2 layers, several heads): hand-written gradient of the next-state "
          "loss = central differences",
          EXACT, "mesa", _check_model_gradient, tol=1e-7,
          measured_by="finite differences", tol_note="central differences; 1e-7 relative is the package's gradient standard"),
    Claim("mesa-richardson", MESA,
          "Richardson x_{k+1} = x_k + ω(b - A x_k) on the mesa-layer's systems A = S_{t-1} + λI, b = s_t: "
          "||e_k|| ≤ ρ^k ||e_0||, ρ = max|1 - ωλ_i(A)| (excess over the bound)",
          EXACT, "mesa", _check_richardson_bound),
    Claim("mesa-neumann", MESA,
          "Richardson from x_0 = 0 is the truncated Neumann series ω Σ_{j<k} (I - ωA)^j b",
          EXACT, "mesa", _check_neumann),
    Claim("mesa-chebyshev", MESA,
          "Chebyshev (momentum) iteration on the mesa-layer's systems, spectrum in [μ, L]: "
          "||e_k|| ≤ 2c^k/(1 + c^{2k}) ||e_0||, c = (√κ - 1)/(√κ + 1) (excess over the bound)",
          EXACT, "mesa", _check_chebyshev_bound),
    Claim("mesa-stack", MESA,
          "K stacked causal linear-attention layers (key = value = s_t', query = the last Krylov block) "
          "and a linear read-out give K steps of Richardson and of Chebyshev on (S_t + λI) x = s_t",
          EXACT, "mesa", _check_stack_runs_iterations),
)
