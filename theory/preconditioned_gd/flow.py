"""Zhang, Frei & Bartlett 2024: gradient flow of one linear self-attention layer on the
population loss, and the trained layer's error when the test prompts shift.

ZFB's layer with ``W^{PV} = [[·, ·], [·, u]]`` and ``W^{KQ} = [[U, ·], [·, ·]]`` predicts
``ŷ = u (1/N) Σ_i y_i x_iᵀ U x_q``; from their initialisation ``W^{PV}(0) = σ[[0,0],[0,1]]``,
``W^{KQ}(0) = σ[[ΘΘᵀ, 0], [0, 0]]`` (‖ΘΘᵀ‖_F = 1) the flow keeps every other block at 0,
so it is a flow of ``(u, U)`` alone on ``½ L(Γ)`` with ``Γ = u Uᵀ`` and L the exact
population loss of :mod:`theory.preconditioned_gd.optimum` (w ~ N(0, I), x ~ N(0, Λ)):

    ∂(½L)/∂Γ = Λ Γ H − Λ²,   u̇ = −⟨∂(½L)/∂Γ, Uᵀ⟩,   U̇ = −u (∂(½L)/∂Γ)ᵀ.

It converges to ``u Uᵀ = Γ_ZFB⁻¹`` with ``Γ_ZFB = (1 + 1/N) Λ + tr(Λ)/N I`` (their main one-layer theorem).
:func:`integrate_flow` steps it with the classical Runge–Kutta scheme and reports how much
halving the step moves the end point.

The shifted test errors (:func:`shifted_error`) are exact for Gaussian prompts: a trained
``ŷ = x_qᵀ Γ h`` tested with context covariates ``N(0, Λ_c)``, query ``N(0, Λ_q)``, tasks
with ``E[w wᵀ] = Ω``, M context pairs:

    E(ŷ − y)² = tr(Λ_q Γ E[Ŝ Ω Ŝ] Γᵀ) − 2 tr(Λ_q Γ Λ_c Ω) + tr(Λ_q Ω),
    E[Ŝ Ω Ŝ] = ((M+1)/M) Λ_c Ω Λ_c + (tr(Ω Λ_c)/M) Λ_c.

Least squares on the same shifted prompts is the baseline that adapts (:func:`ridge_error`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, finite_result, finite_scalar, positive_int, spd

__all__ = ["FlowResult", "zfb_init", "flow_gradient", "integrate_flow", "zfb_gamma", "shifted_error",
           "ridge_error"]


@dataclass
class FlowResult:
    """``t`` times, ``loss`` (½L) along the flow, the final ``u`` and ``U``, and
    ``step_halving``: ``max |Γ(t_end) − Γ_half(t_end)| / |Γ|`` when the step is halved."""
    t: np.ndarray
    loss: np.ndarray
    u: float
    U: np.ndarray
    step_halving: float


def zfb_gamma(cov, N: int) -> np.ndarray:
    """ZFB's ``Γ = (1 + 1/N) Λ + tr(Λ)/N I``; the flow's limit is ``u Uᵀ = Γ⁻¹``."""
    cov, N = spd("cov", cov), positive_int("N", N)
    return (1 + 1 / N) * cov + np.trace(cov) / N * np.eye(len(cov))


def zfb_init(rng, d: int, scale: float = 0.1) -> tuple:
    """ZFB's initialisation: ``u = σ``, ``U = σ ΘΘᵀ`` with Θ Gaussian (d × d) and
    ‖ΘΘᵀ‖_F = 1; ``scale`` is σ."""
    rng = as_rng(rng)
    d = positive_int("d", d)
    s = finite_scalar("scale", scale, positive=True)
    T = rng.standard_normal((d, d))
    TT = T @ T.T
    return s, s * TT / np.linalg.norm(TT)


def _grad(u, U, cov, H):
    Gam = u * U.T
    dG = cov @ Gam @ H - cov @ cov                            # ∂(½L)/∂Γ
    return float(np.sum(dG * U.T)), u * dG.T, dG


def _half_loss(u, U, cov, H):
    Gam = u * U.T
    return 0.5 * float(np.trace(cov @ Gam @ H @ Gam.T) - 2 * np.trace(Gam @ cov @ cov) + np.trace(cov))


@finite_result
def flow_gradient(u, U, cov, N: int) -> tuple:
    """``(∂(½L)/∂u, ∂(½L)/∂U)`` at (u, U) for x ~ N(0, Λ = ``cov``), w ~ N(0, I)."""
    u = finite_scalar("u", u)
    cov, N = spd("cov", cov), positive_int("N", N)
    U = array("U", U, shape=cov.shape)
    H = (N + 1) / N * cov @ cov + np.trace(cov) / N * cov
    gu, gU, _ = _grad(u, U, cov, H)
    return gu, gU


def _rk4(u, U, cov, H, dt, steps):
    def f(u, U):
        gu, gU, _ = _grad(u, U, cov, H)
        return -gu, -gU
    losses = [_half_loss(u, U, cov, H)]
    for _ in range(steps):
        k1 = f(u, U)
        k2 = f(u + dt / 2 * k1[0], U + dt / 2 * k1[1])
        k3 = f(u + dt / 2 * k2[0], U + dt / 2 * k2[1])
        k4 = f(u + dt * k3[0], U + dt * k3[1])
        u = u + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        U = U + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        losses.append(_half_loss(u, U, cov, H))
    return u, U, np.array(losses)


def integrate_flow(u0, U0, cov, N: int, *, t_end: float = 200.0, dt: float = 0.05) -> FlowResult:
    """Integrate the flow from (u0, U0) to ``t_end`` with RK4 steps of ``dt``, and again with
    ``dt/2`` to measure the integration error of the end point."""
    u0 = finite_scalar("u0", u0)
    cov, N = spd("cov", cov), positive_int("N", N)
    U0 = array("U0", U0, shape=cov.shape)
    t_end, dt = finite_scalar("t_end", t_end, positive=True), finite_scalar("dt", dt, positive=True)
    if t_end / dt > 1e6:
        raise ValueError(f"t_end/dt must be at most 1e6 steps; got t_end = {t_end:g}, dt = {dt:g}")
    steps = max(1, int(round(t_end / dt)))
    H = (N + 1) / N * cov @ cov + np.trace(cov) / N * cov
    try:
        with np.errstate(over="raise", invalid="raise"):
            u, U, losses = _rk4(u0, U0, cov, H, t_end / steps, steps)
            u2, U2, _ = _rk4(u0, U0, cov, H, t_end / (2 * steps), 2 * steps)
    except FloatingPointError:
        raise ValueError("the flow overflows float64 from this start (u0, U0 too large for the step dt)") from None
    G, G2 = u * U.T, u2 * U2.T
    halving = float(np.abs(G - G2).max() / max(np.abs(G).max(), 1e-300))
    return FlowResult(np.linspace(0.0, steps * (t_end / steps), steps + 1), losses, float(u), U, halving)


@finite_result
def shifted_error(Gamma, *, context_cov, query_cov, task_cov, M: int) -> float:
    """Exact test error of ``ŷ = x_qᵀ Γ h`` on Gaussian prompts with M pairs, context
    covariates N(0, ``context_cov``), query N(0, ``query_cov``), ``E[w wᵀ] = task_cov``."""
    Lc, Lq, Om = spd("context_cov", context_cov), spd("query_cov", query_cov), spd("task_cov", task_cov)
    M = positive_int("M", M)
    G = array("Gamma", Gamma, shape=Lc.shape)
    for name, C in (("query_cov", Lq), ("task_cov", Om)):
        if C.shape != Lc.shape:
            raise ValueError(f"{name} must have the shape of context_cov {Lc.shape}; got {C.shape}")
    S2 = (M + 1) / M * Lc @ Om @ Lc + np.trace(Om @ Lc) / M * Lc
    return float(np.trace(Lq @ G @ S2 @ G.T) - 2 * np.trace(Lq @ G @ Lc @ Om) + np.trace(Lq @ Om))


def ridge_error(rng, *, context_cov, query_cov, task_cov, M: int, lam: float = 1e-6, samples: int = 20000) -> float:
    """Monte Carlo test error of ridge regression ``ŵ = (XᵀX + λI)⁻¹ Xᵀy`` fitted on each
    shifted prompt's M pairs (noiseless labels): the learner that adapts to the shift."""
    rng = as_rng(rng)
    Lc, Lq, Om = spd("context_cov", context_cov), spd("query_cov", query_cov), spd("task_cov", task_cov)
    M, samples = positive_int("M", M), positive_int("samples", samples)
    lam = finite_scalar("lam", lam, positive=True)
    d = len(Lc)
    X = rng.standard_normal((samples, M, d)) @ np.linalg.cholesky(Lc).T
    xq = rng.standard_normal((samples, d)) @ np.linalg.cholesky(Lq).T
    w = rng.standard_normal((samples, d)) @ np.linalg.cholesky(Om).T
    y = np.einsum("bnd,bd->bn", X, w)
    A = np.einsum("bni,bnj->bij", X, X) + lam * np.eye(d)
    what = np.linalg.solve(A, np.einsum("bnd,bn->bd", X, y)[..., None])[..., 0]
    return float(np.mean(np.einsum("bd,bd->b", what - w, xq) ** 2))
