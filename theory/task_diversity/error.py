"""The exact finite-d error of the reduced model, for any Γ (derived here; proof Steps 2-3).

For a test sequence with task w (q = ‖w‖²/d), x ~ N(0, I_d/d), noise variance ρ and
ℓ = α d context pairs, ``ŷ = x_qᵀ Γ v`` and the expectation over x_q and ε_q first gives::

    e(Γ | w) = ρ + (1/d) E‖Γ v − w‖²
             = ρ + (1/d) [ tr(Γ E[v vᵀ] Γᵀ) − 2 tr(Γ E[v wᵀ]) + ‖w‖² ],

with the Gaussian moments of the context (Isserlis; the ℓ pairs independent)::

    E[v vᵀ | w] = [[ (q+ρ)/α I + (1 + 1/ℓ) w wᵀ ,  (1 + 2/ℓ)(q+ρ) w   ],
                   [ (1 + 2/ℓ)(q+ρ) wᵀ        ,  (1 + 2/ℓ)(q+ρ)²     ]],
    E[v wᵀ | w] = [[ w wᵀ ], [ (q+ρ) wᵀ ]].

Averaging over a task law needs only ``E q``, ``E[w wᵀ]``, ``E[q w]`` and ``E[q²]``
(:func:`task_moments`): for fresh Gaussian tasks (1, I, 0, 1 + 2/d), on the sphere ‖w‖ = √d
(1, I, 0, 1), and for a pool the pool's own averages (the in-distribution error, IDG).  With
the authors' normalisation ‖w‖ = √d this is the function their code evaluates.

The error is a convex quadratic in Γ; its minimiser ``Γ* = E[v wᵀ]ᵀ E[v vᵀ]⁻¹`` is the best
any pretraining can do for that task law (:func:`optimal_gamma`).  For fresh Gaussian tasks
``Γ* = [γ* I | 0]`` with ``γ* = 1 / ((1+ρ)/α + 1 + 1/ℓ)``: one step of gradient descent, the
one-layer optimum of the preconditioned-GD topic with Σ = I/d (``d Γ*`` there), and
``e* = 1 + ρ − γ*`` → ``(1+ρ)/(α+1+ρ) + ρ`` as d → ∞.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, positive_int

__all__ = ["task_moments", "expected_error", "optimal_gamma", "optimal_error",
           "monte_carlo_error"]


def task_moments(tasks, d: int) -> dict:
    """``E q``, ``E[w wᵀ]``, ``E[q w]``, ``E[q²]`` (q = ‖w‖²/d) of a task law: ``"gaussian"``
    (w ~ N(0, I_d)), ``"sphere"`` (‖w‖ = √d), or a pool (k, d) drawn uniformly."""
    d = positive_int("d", d)
    if isinstance(tasks, str):
        if tasks not in ("gaussian", "sphere"):
            raise ValueError(f"tasks must be 'gaussian', 'sphere' or a (k, d) pool; got {tasks!r}")
        return dict(q=1.0, R=np.eye(d), qw=np.zeros(d), q2=1.0 + 2.0 / d if tasks == "gaussian" else 1.0)
    W = array("tasks", tasks, ndim=2)
    if W.shape[1] != d:
        raise ValueError(f"tasks: a pool must have d = {d} columns; got shape {W.shape}")
    q = np.einsum("kd,kd->k", W, W) / d
    return dict(q=float(q.mean()), R=W.T @ W / len(W), qw=q @ W / len(W), q2=float(np.mean(q * q)))


def _second_moments(ell: int, rho: float, moments: dict):
    """``E[v vᵀ]`` (d+1, d+1) and ``E[v wᵀ]`` (d+1, d) averaged over the task law (module docstring)."""
    ell = positive_int("ell", ell)
    rho = finite_scalar("rho", rho, nonnegative=True)
    q, R, qw, q2 = moments["q"], moments["R"], moments["qw"], moments["q2"]
    d = len(R)
    alpha = ell / d
    B = np.empty((d + 1, d + 1))
    B[:d, :d] = (q + rho) / alpha * np.eye(d) + (1 + 1 / ell) * R
    # E[(q+ρ) w] needs E[w]: only a pool has a non-zero one
    mean_w = moments.get("w", np.zeros(d))
    B[:d, d] = B[d, :d] = (1 + 2 / ell) * (qw + rho * mean_w)
    B[d, d] = (1 + 2 / ell) * (q2 + 2 * rho * q + rho * rho)
    A = np.vstack([R, (qw + rho * mean_w)[None]])
    return B, A


def _moments(tasks, d):
    m = task_moments(tasks, d)
    if not isinstance(tasks, str):
        m["w"] = np.asarray(tasks, float).mean(0)
    return m


@finite_result
def expected_error(Gamma, ell: int, rho: float, tasks="gaussian") -> float:
    """``e(Γ) = E (ŷ − y_q)²`` over fresh contexts, queries and noise, and over the task law
    ``tasks`` (exact; module docstring).  ``tasks="gaussian"`` is the ICL error, a pool the IDG
    error."""
    G = array("Gamma", Gamma, ndim=2)
    d = G.shape[0]
    if G.shape != (d, d + 1):
        raise ValueError(f"Gamma must have shape (d, d + 1); got {G.shape}")
    m = _moments(tasks, d)
    B, A = _second_moments(ell, rho, m)
    return float(rho + (np.trace(G @ B @ G.T) - 2 * np.trace(G @ A) + d * m["q"]) / d)


@finite_result
def optimal_gamma(d: int, ell: int, rho: float, tasks="gaussian") -> np.ndarray:
    """``Γ* = E[v wᵀ]ᵀ E[v vᵀ]⁻¹`` (d, d+1): the minimiser of :func:`expected_error`."""
    B, A = _second_moments(ell, rho, _moments(tasks, positive_int("d", d)))
    return np.linalg.solve(B, A).T                   # B symmetric: (B⁻¹ A)ᵀ = Aᵀ B⁻¹


def optimal_error(d: int, ell: int, rho: float, tasks="gaussian") -> float:
    """``e(Γ*)`` of :func:`optimal_gamma`."""
    return expected_error(optimal_gamma(d, ell, rho, tasks), ell, rho, tasks)


@finite_result
def monte_carlo_error(rng, Gamma, ell: int, rho: float, samples: int, tasks="gaussian"):
    """Mean squared error of ``⟨Γ, H_Z⟩`` on ``samples`` fresh sequences (mean, standard error)."""
    from .data import sequences
    from .model import predict
    G = array("Gamma", Gamma, ndim=2)
    d = G.shape[0]
    task_moments(tasks, d)                                   # refuses a bad task law by name
    pool = None if isinstance(tasks, str) else tasks
    S = sequences(rng, positive_int("samples", samples), ell, d, rho=rho, pool=pool,
                  tasks=tasks if isinstance(tasks, str) else "gaussian")
    e = (predict(G, S.X, S.y, S.x_q) - S.y_q) ** 2
    return float(e.mean()), float(e.std() / np.sqrt(len(e)))
