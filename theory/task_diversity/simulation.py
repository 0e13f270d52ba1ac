"""Pretraining the reduced model on a finite task pool and scoring it exactly.

One run at (d, α, κ, τ, ρ): a pool of k = ⌈κ d⌉ tasks (‖w‖ = √d, as in the authors' code),
n = ⌈τ d²⌉ pretraining sequences of ℓ = ⌈α d⌉ pairs each, every pool task used n/k times
(the authors' balanced assignment), Γ from :func:`~theory.task_diversity.model.pretrain_ridge`
(λ = 0: the ridgeless limit), then its ICL error on fresh Gaussian tasks and its IDG error on
the pool, both *exact* (:func:`~theory.task_diversity.error.expected_error`): the only randomness
left is the pool and the pretraining set, i.e. the finite-d fluctuation the theory averages out.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng, finite_scalar, positive_int
from .asymptotics import _positive
from .data import sequences, task_pool
from .error import expected_error
from .model import pretrain_ridge

__all__ = ["sizes", "pretrain_and_score"]


def sizes(d: int, alpha: float, kappa: float, tau: float) -> tuple[int, int, int]:
    """``(ℓ, k, n) = (⌈α d⌉, ⌈κ d⌉, ⌈τ d²⌉)`` (κ = inf gives k = 0: fresh tasks for every sequence)."""
    d = positive_int("d", d)
    alpha, tau = finite_scalar("alpha", alpha, positive=True), finite_scalar("tau", tau, positive=True)
    kappa = _positive("kappa", kappa)
    k = 0 if np.isinf(kappa) else max(1, int(np.ceil(kappa * d - 1e-9)))
    ell, n = max(1, int(np.ceil(alpha * d - 1e-9))), max(1, int(np.ceil(tau * d * d - 1e-9)))
    if float(n) * (ell + 1) * d > 2e9 or float(k) * d > 2e9:
        raise ValueError(f"d = {d}, alpha = {alpha:g}, kappa = {kappa:g}, tau = {tau:g} ask for more than 2e9 numbers "
                         f"(n = {n:.3g} sequences of ℓ = {ell:.3g} pairs, k = {k:.3g} tasks)")
    return ell, k, n


def pretrain_and_score(seed: int, d: int, alpha: float, kappa: float, tau: float, rho: float,
                       lam: float = 0.0) -> dict:
    """One pretraining run (module docstring): ``e_icl``, ``e_idg`` (not for κ = inf) and the sizes."""
    rng = as_rng(seed)
    ell, k, n = sizes(d, alpha, kappa, tau)
    rho = finite_scalar("rho", rho, nonnegative=True)
    pool = task_pool(rng, k, d, "sphere") if k else None
    S = sequences(rng, n, ell, d, rho=rho, pool=pool, tasks="sphere", assign="balanced")
    G = pretrain_ridge(S.X, S.y, S.x_q, S.y_q, lam)
    out = dict(d=d, ell=ell, k=k, n=n, e_icl=expected_error(G, ell, rho, "gaussian"))
    if k:
        out["e_idg"] = expected_error(G, ell, rho, pool)
    return out
