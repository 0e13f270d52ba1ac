"""The one-layer optimum in closed form (Ahn et al. 2023; Mahankali et al. 2024;
Zhang, Frei & Bartlett 2024, Γ): Gaussian moments, no Monte Carlo.  The noise enters as
its variance σ², as the papers write it: ``noise_var=0.25`` is σ² = 0.25.

One sparse layer predicts ``ŷ = x_qᵀ Γ h`` with ``h = (1/n) Σ_i y_i x_i`` and ``Γ = −Aᵀ``.
For ``x ~ N(0, Σ)``, ``w ~ N(0, Ω)``, ``y = wᵀx + ε``, ``ε ~ N(0, σ²)`` (derived in
proofs/preconditioned_gd.py, Step 3):

    L(Γ) = E(ŷ − y_q)² = tr(Σ Γ H Γᵀ) − 2 tr(Γ Σ Ω Σ) + tr(Σ Ω) + σ²,
    H = E[Ŝ Ω Ŝ] + (σ²/n) Σ = ((n+1)/n) Σ Ω Σ + ((tr(Ω Σ) + σ²)/n) Σ,    Ŝ = (1/n) Σ_i x_i x_iᵀ,

a convex quadratic in Γ minimised by ``Γ* = Ω Σ H⁻¹``: for Ω = I,
``Γ* = ((n+1)/n Σ + (tr Σ + σ²)/n I)⁻¹`` (ZFB's Γ⁻¹ at σ = 0); for Ω = Σ⁻¹,
``Γ* = n/(n + d + 1 + σ²) Σ⁻¹`` (preconditioned by Σ⁻¹).  The minimum is
``L* = tr(ΣΩ) + σ² − tr(Γ* Σ Ω Σ)``.

For targets from a rotation-invariant family with ``x ~ N(0, I)`` (Mahankali et al.,
nonlinear tasks) the optimum is ``γ* I`` with ``γ* = n E‖g‖² / ((n − 1) E‖g‖² + E[y²‖x‖²])``,
``g = E_x[f(x) x]`` the task's linear part (:func:`nonlinear_step`).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, choice, finite_result, finite_scalar, positive_int, spd
from .data import TASKS

__all__ = ["task_covariance", "population_loss", "optimal_gamma", "optimal_loss", "isotropic_step",
           "single_index_step", "single_index_loss"]


def task_covariance(cov, task: str = "identity") -> np.ndarray:
    """Ω = Cov(w): the identity, or Σ⁻¹ (``task="inverse"``)."""
    cov = spd("cov", cov)
    task = choice("task", task, TASKS)
    return np.eye(len(cov)) if task == "identity" else np.linalg.inv(cov)


def _H(cov, omega, n, noise_var):
    """``H = ((n+1)/n) Σ Ω Σ + ((tr(Ω Σ) + σ²)/n) Σ``."""
    return (n + 1) / n * cov @ omega @ cov + (np.trace(omega @ cov) + noise_var) / n * cov


def _args(cov, n, task, noise_var):
    cov = spd("cov", cov)
    n = positive_int("n", n)
    noise_var = finite_scalar("noise_var", noise_var, nonnegative=True)
    return cov, task_covariance(cov, task), n, noise_var


@finite_result
def population_loss(Gamma, cov, n: int, *, task: str = "identity", noise_var: float = 0.0) -> float:
    """``E(ŷ − y_q)²`` of the one-layer model ``ŷ = x_qᵀ Γ h`` (exact; module docstring)."""
    cov, omega, n, noise_var = _args(cov, n, task, noise_var)
    G = array("Gamma", Gamma, shape=cov.shape)
    H = _H(cov, omega, n, noise_var)
    return float(np.trace(cov @ G @ H @ G.T) - 2 * np.trace(G @ cov @ omega @ cov) + np.trace(cov @ omega)
                 + noise_var)                              # + σ²


@finite_result
def optimal_gamma(cov, n: int, *, task: str = "identity", noise_var: float = 0.0) -> np.ndarray:
    """``Γ* = Ω Σ H⁻¹``, the minimiser of :func:`population_loss`."""
    cov, omega, n, noise_var = _args(cov, n, task, noise_var)
    return omega @ cov @ np.linalg.inv(_H(cov, omega, n, noise_var))


@finite_result
def optimal_loss(cov, n: int, *, task: str = "identity", noise_var: float = 0.0) -> float:
    """``L* = tr(ΣΩ) + σ² − tr(Γ* Σ Ω Σ)``."""
    cov, omega, n, noise_var = _args(cov, n, task, noise_var)
    G = omega @ cov @ np.linalg.inv(_H(cov, omega, n, noise_var))
    return float(np.trace(cov @ omega) + noise_var - np.trace(G @ cov @ omega @ cov))


@finite_result
def isotropic_step(n: int, d: int, *, noise_var: float = 0.0, task_scale: float = 1.0) -> float:
    """Mahankali et al.'s optimal step for ``x ~ N(0, I_d)``, ``w ~ N(0, s² I)`` (s =
    ``task_scale``), noise variance σ² (``noise_var``): ``Γ* = γ* I``,
    ``γ* = n / (n + d + 1 + σ²/s²)``."""
    n, d = positive_int("n", n), positive_int("d", d)
    noise_var = finite_scalar("noise_var", noise_var, nonnegative=True)
    s = finite_scalar("task_scale", task_scale, positive=True)
    return n / (n + d + 1 + noise_var / (s * s))


def single_index_step(n: int, d: int) -> float:
    """γ* for ``y = ReLU(wᵀx)``, ``x, w ~ N(0, I_d)``: ``g = E_x[y x] = w/2`` so ``E‖g‖² =
    d/4``, and ``E[y²‖x‖²] = d(d + 2)/2``, hence ``γ* = n / (n + 2d + 3)``."""
    n, d = positive_int("n", n), positive_int("d", d)
    g2, y2x2 = d / 4, d * (d + 2) / 2
    return n * g2 / ((n - 1) * g2 + y2x2)


def single_index_loss(n: int, d: int) -> float:
    """The one-layer optimum's loss on ReLU targets: ``E y² − γ* E‖g‖²`` = ``d/2 − γ* d/4``."""
    n, d = positive_int("n", n), positive_int("d", d)
    return d / 2 - single_index_step(n, d) * d / 4


# --------------------------------------------------------------------------- the ledger's checks
