"""Lu et al. 2024's asymptotic theory of the ridgeless reduced model (d → ∞ with
α = ℓ/d, κ = k/d, τ = n/d² fixed; the paper's Result 1).

The paper's equations could not be read word for word here; the formulas below are the
ones the authors' code evaluates (``theory_runs/common.py``: ``ridgeless_icl``, which it says
implements Result 1, and ``ridgeless_idg``), rewritten, with the limits derived in
``proofs/task_diversity.py`` and the whole checked against simulation in the topic's
reproduction.  With ``x* = (1+ρ)/α`` and the Stieltjes transform of a Marchenko–Pastur law::

    M_κ(x) = 2 / ( x + 1 − 1/κ + √((x + 1 − 1/κ)² + 4x/κ) )      (M_∞(x) = 1/(1+x)),

``m* = M_κ(x*)`` and ``μ* = x* M_{κ/τ}(x*)``, the ICL error is::

    τ < 1:  e = τ(1+x*)/(1−τ) [1 − τ(1−μ*)² − (x*−ρ)/x* μ*] − 2τ(1−μ*) + 1 + ρ,
    τ > 1:  e = (k* − 1/(τ−1))(1+x*)(x* m*)² + (3−2τ)/(τ−1) m* x*²
                + ((1+ρ) m*/(τ−1) + 1) x* + ρ m*/(τ−1) + ρ,    k* = 1/(1 − κ (m*/(κ+m*))²).

It diverges at τ = 1 (n = d², the interpolation threshold: double descent in n), tends to
``1 + ρ`` (Γ = 0) as τ → 0, and with τ, κ → ∞ to ``(1+ρ)/(α+1+ρ) + ρ``, the error of the
optimal one-step GD predictor (:func:`theory.task_diversity.error.optimal_gamma` as d → ∞).
``κ`` and ``τ`` may be ``inf``.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import finite_result, finite_scalar

__all__ = ["stieltjes", "ridgeless_icl", "ridgeless_idg", "icl_limit"]


def _positive(name, x):
    """A positive number, or ``inf`` (an infinite pool or pretraining set)."""
    if isinstance(x, (float, np.floating)) and x == np.inf:
        return float(x)
    return finite_scalar(name, x, positive=True)


@finite_result
def stieltjes(x: float, kappa: float) -> float:
    """``M_κ(x)`` of the module docstring (x > 0; κ > 0 or inf)."""
    x = finite_scalar("x", x, positive=True)
    kappa = _positive("kappa", kappa)
    if np.isinf(kappa):
        return 1.0 / (1.0 + x)
    b = x + 1.0 - 1.0 / kappa
    return 2.0 / (b + np.sqrt(b * b + 4.0 * x / kappa))


def _args(alpha, kappa, tau, rho):
    alpha = finite_scalar("alpha", alpha, positive=True)
    kappa, tau = _positive("kappa", kappa), _positive("tau", tau)
    rho = finite_scalar("rho", rho, nonnegative=True)
    if tau == 1.0:
        raise ValueError("tau = 1 is the interpolation threshold n = d², where the ridgeless error diverges")
    return alpha, kappa, tau, rho


@finite_result
def ridgeless_icl(alpha: float, kappa: float, tau: float, rho: float) -> float:
    """The ICL error (fresh Gaussian tasks) of the ridgeless pretrained Γ, d → ∞ (module docstring)."""
    alpha, kappa, tau, rho = _args(alpha, kappa, tau, rho)
    x = (1.0 + rho) / alpha
    if tau < 1.0:
        mu = x * stieltjes(x, kappa / tau)
        return (tau * (1 + x) / (1 - tau) * (1 - tau * (1 - mu) ** 2 - (x - rho) / x * mu)
                - 2 * tau * (1 - mu) + 1 + rho)
    m = stieltjes(x, kappa)
    k = 1.0 if np.isinf(kappa) else 1.0 / (1.0 - kappa * (m / (kappa + m)) ** 2)
    inv = 0.0 if np.isinf(tau) else 1.0 / (tau - 1.0)                 # 1/(τ−1)
    return float((k - inv) * (1 + x) * (x * m) ** 2 + (3 * inv - 2 * (1.0 if np.isinf(tau) else tau * inv)) * m * x * x
                 + ((1 + rho) * m * inv + 1) * x + rho * m * inv + rho)


@finite_result
def ridgeless_idg(alpha: float, kappa: float, tau: float, rho: float) -> float:
    """The in-distribution error (tasks from the pretraining pool) of the ridgeless Γ, d → ∞
    (the authors' ``ridgeless_idg``; finite κ and τ)."""
    alpha, kappa, tau, rho = _args(alpha, kappa, tau, rho)
    if np.isinf(kappa) or np.isinf(tau):
        raise ValueError("ridgeless_idg takes finite kappa and tau")
    x = (1.0 + rho) / alpha
    m = stieltjes(x, kappa)
    mu = x * stieltjes(x, kappa / tau)
    if tau < 1.0:
        eps = (1 - tau) * x / (tau * mu)
        c = 1.0 / (1.0 - kappa / (1.0 + kappa * eps / (1 - tau)) ** 2)
        value = (x + eps) ** 2 / eps + (rho + x - 2 * x * (1 - tau) * (x / eps + 1)) / (1 - tau - c * (1 - tau) ** 2)
    else:
        value = (rho + x * (1 - x * m)) / (tau - 1)
    return float(tau * value)


@finite_result
def icl_limit(alpha: float, rho: float) -> float:
    """``(1+ρ)/(α+1+ρ) + ρ``: the error of the optimal one-step GD predictor as d → ∞."""
    alpha = finite_scalar("alpha", alpha, positive=True)
    rho = finite_scalar("rho", rho, nonnegative=True)
    return (1 + rho) / (alpha + 1 + rho) + rho
