"""Ahn et al. 2023, the multi-layer results: L layers on the set ``S = {A_ℓ = a_ℓ Σ⁻¹, B_ℓ = b_ℓ I}``.

With ``x = C z`` (``C Cᵀ = Σ``) and ``w = C⁻ᵀ v`` (``w ~ N(0, Σ⁻¹)``), a sparse model with
``(A_ℓ, B_ℓ)`` on prompts in x is the same model with ``(Cᵀ A_ℓ C, C⁻¹ B_ℓ C)`` on the
whitened prompts in z (scores ``x_iᵀ A x_j = z_iᵀ (Cᵀ A C) z_j``; the x-update
``(I + B Ŝ A)`` conjugates the same way).  On S these are ``a_ℓ I`` and ``b_ℓ I``, and the
whitened data are rotation invariant, so the expected gradient in z is a multiple of I in
each block (Schur), and back in x (``∇_A L = C ∇_{A_z} L Cᵀ``, ``∇_B L = C⁻ᵀ ∇_{B_z} L Cᵀ``):

    on S,  E ∇_{A_ℓ} L ∝ Σ   and   E ∇_{B_ℓ} L ∝ I.

(So S is not invariant under plain gradient flow when Σ is not a multiple of I — the flow
adds Σ, not Σ⁻¹ — but a stationary point of the 2L scalars ``(a_ℓ, b_ℓ)`` is a stationary
point of the whole loss: ``∂L/∂a_ℓ = ⟨∇_{A_ℓ} L, Σ⁻¹⟩ = α_ℓ d`` vanishes only with α_ℓ.)
:func:`orbit_gradient` averages a sample's gradient over the signed permutations of the
whitened coordinates (a group that preserves the data law), which gives that expectation's
form exactly; :func:`best_scalars` minimises the loss over the 2L scalars.
"""
from __future__ import annotations

import itertools

import numpy as np

from ..core._validate import array, as_rng, choice, flag, params as _params, positive_int, spd
from .data import regression_prompts
from .model import _sparse_loss, prompt, sparse_loss

__all__ = ["VARIANTS", "BASES", "signed_permutations", "on_S", "orbit_gradient", "span_distance", "scalar_loss",
           "best_scalars"]

VARIANTS = ("gd", "gdpp")      # B_ℓ = 0 (preconditioned GD) or b_ℓ free (GD++)


def signed_permutations(d: int) -> np.ndarray:
    """All 2^d d! signed permutation matrices of size d (the hyperoctahedral group)."""
    d = positive_int("d", d)
    if d > 5:
        raise ValueError(f"d must be at most 5 (2^d d! matrices); got {d}")
    mats = []
    for perm in itertools.permutations(range(d)):
        for signs in itertools.product((1.0, -1.0), repeat=d):
            O = np.zeros((d, d))
            O[np.arange(d), perm] = signs
            mats.append(O)
    return np.array(mats)


def on_S(a, b, cov) -> dict:
    """Sparse params on S: ``A_ℓ = a_ℓ Σ⁻¹``, ``B_ℓ = b_ℓ I`` (a, b of length L)."""
    cov = spd("cov", cov)
    a, b = array("a", a, ndim=1), array("b", b, ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one length (the layers); got {a.shape} and {b.shape}")
    d = len(cov)
    return {"A": a[:, None, None] * np.linalg.inv(cov), "B": b[:, None, None] * np.eye(d)}


def orbit_gradient(rng, params, cov, n: int, batch: int = 64) -> dict:
    """The gradient of a sample's loss, averaged over the sample's images under every signed
    permutation O of the whitened coordinates (z → O z, v → O v): for params on S it is
    exactly ``α_ℓ Σ`` (A) and ``β_ℓ I`` (B) — the form of the expected gradient."""
    rng = as_rng(rng)
    cov = spd("cov", cov)
    n, batch = positive_int("n", n), positive_int("batch", batch)
    d = len(cov)
    C = np.linalg.cholesky(cov)
    P = regression_prompts(rng, batch, n, d, cov=cov, task="inverse")
    Z = np.linalg.solve(C, P.X.reshape(-1, d).T).T.reshape(P.X.shape)      # whitened contexts
    zq = np.linalg.solve(C, P.x_q.T).T
    v = P.w @ C                                                           # w = C⁻ᵀ v
    total = None
    for O in signed_permutations(d):
        X, xq, w = Z @ O.T @ C.T, zq @ O.T @ C.T, np.linalg.solve(C.T, (v @ O.T).T).T
        y = np.einsum("bnd,bd->bn", X, w)
        _, g = sparse_loss(params, prompt(X, y, xq), np.einsum("bd,bd->b", xq, w))
        total = g if total is None else {k: total[k] + g[k] for k in g}
    return {k: v_ / len(signed_permutations(d)) for k, v_ in total.items()}


def span_distance(M, basis) -> float:
    """``‖M − c·basis‖_F / ‖M‖_F`` for the best c: how far M is from the span of ``basis``."""
    M, basis = array("M", M, ndim=2), array("basis", basis, ndim=2)
    if M.shape != basis.shape:
        raise ValueError(f"M and basis must have one shape; got {M.shape} and {basis.shape}")
    c = float(np.sum(M * basis) / np.sum(basis * basis))
    nm = np.linalg.norm(M)
    return 0.0 if nm == 0 else float(np.linalg.norm(M - c * basis) / nm)


BASES = ("inverse", "identity")   # A_ℓ = a_ℓ Σ⁻¹ (preconditioned) or a_ℓ I (plain GD)


def scalar_loss(params, prompts, basis) -> tuple:
    """``(loss, grads)`` of the sparse model in its 2L scalars ``params = {"a", "b"}`` (each
    (L,)), ``A_ℓ = a_ℓ basis``, ``B_ℓ = b_ℓ I``, on ``prompts = (Z0, y_q)``; grads keyed as
    ``params``."""
    p = _params("params", params, {"a": None, "b": None})
    a, b = array("params['a']", p["a"], ndim=1), array("params['b']", p["b"], ndim=1)
    basis = array("basis", basis, ndim=2)
    if not isinstance(prompts, tuple) or len(prompts) != 2:
        raise ValueError(f"prompts must be the pair (Z0, y_q); got {type(prompts).__name__}")
    Z0 = array("prompts[0]", prompts[0], ndim=3)
    y_q = array("prompts[1]", prompts[1], shape=(Z0.shape[0],))
    d = Z0.shape[1] - 1
    if a.shape != b.shape:
        raise ValueError(f"params' a and b must be of one length (one scalar each per layer); got {a.shape}, {b.shape}")
    if basis.shape != (d, d):
        raise ValueError(f"basis must be ({d}, {d}) to match the prompts; got {basis.shape}")
    return _scalar_loss({"a": a, "b": b}, Z0, y_q, basis)


def _scalar_loss(p, Z0, y_q, basis) -> tuple:
    """Unchecked kernel of :func:`scalar_loss`."""
    d = Z0.shape[1] - 1
    loss, g = _sparse_loss({"A": p["a"][:, None, None] * basis, "B": p["b"][:, None, None] * np.eye(d)}, Z0, y_q)
    return loss, {"a": np.einsum("lij,ij->l", g["A"], basis), "b": np.trace(g["B"], axis1=1, axis2=2)}


def best_scalars(rng, layers: int, n: int, d: int, *, cov=None, basis: str = "inverse", variant: str = "gd",
                 samples: int = 4000, steps: int = 300, lr: float = 0.02, polish: bool = True) -> tuple:
    """Minimise the loss over 2L scalars, ``A_ℓ = a_ℓ Σ⁻¹`` (``basis="inverse"``: L steps of
    GD preconditioned by Σ⁻¹, or GD++ on S with ``variant="gdpp"``) or ``a_ℓ I``
    (``"identity"``: plain GD), ``B_ℓ = b_ℓ I`` (0 for ``variant="gd"``), on a fixed sample of
    prompts with x ~ N(0, Σ), w ~ N(0, Σ⁻¹): ``steps`` Adam steps from the one-layer step
    spread unevenly over the layers (equal steps would stay equal), then (``polish``) damped
    Newton steps (:func:`~theory.core.optim.levenberg_marquardt`) to a stationary point,
    ``max|∂L/∂(a, b)| ≤ 1e-8 · L`` — Adam alone crawls here: at L = 3 (GD++, n = 20, d = 5) its
    loss after 3,000 steps is 6.6× the one it reaches after 8,000, where the Newton steps take
    it in 21 iterations from 300.  ``b_L`` is left at 0 (the last layer's B never reaches the
    prediction).  Returns ``(a, b, loss on the sample)``."""
    from ..core.optim import Adam, levenberg_marquardt
    rng = as_rng(rng)
    L, n, d = positive_int("layers", layers), positive_int("n", n), positive_int("d", d)
    cov = np.eye(d) if cov is None else spd("cov", cov, d)
    basis = choice("basis", basis, BASES)
    variant = choice("variant", variant, VARIANTS)
    samples, steps = positive_int("samples", samples), positive_int("steps", steps)
    polish = flag("polish", polish)
    M = np.linalg.inv(cov) if basis == "inverse" else np.eye(d)
    P = regression_prompts(rng, samples, n, d, cov=cov, task="inverse")
    Z0 = prompt(P.X, P.y, P.x_q)
    gamma = n / (n + d + 1) * (1.0 if basis == "inverse" else d / np.trace(cov))
    # the one-layer step spread unevenly over the layers, a_ℓ = −(γ/L)·2ℓ/(L + 1) (summing to −γ):
    # from equal a_ℓ the layers get equal gradients and stay equal (with B = 0 the steps commute),
    # (23 % above the optimum at L = 2, n = 10, d = 5), whose steps differ (−0.39 and −1.12 there)
    p = {"a": -(gamma / L) * 2 * np.arange(1, L + 1) / (L + 1), "b": np.zeros(L)}
    opt = Adam(lr)
    for _ in range(steps):
        _, g = _scalar_loss(p, Z0, P.y_q, M)
        p = opt.step(p, {"a": g["a"], "b": g["b"] if variant == "gdpp" else np.zeros(L)})
    if polish:
        nb = L - 1 if variant == "gdpp" else 0            # the free b_ℓ: all but the last layer's

        def scalars(x):                                   # x = (a_1 … a_L, b_1 … b_nb)
            return {"a": x[:L], "b": np.r_[x[L:], np.zeros(L - nb)]}

        def loss_grad(x):
            loss, g = _scalar_loss(scalars(x), Z0, P.y_q, M)
            return loss, np.r_[g["a"], g["b"][:nb]]
        p = scalars(levenberg_marquardt(loss_grad, np.r_[p["a"], p["b"][:nb]])[0])
    return p["a"].copy(), p["b"].copy(), _scalar_loss(p, Z0, P.y_q, M)[0]
