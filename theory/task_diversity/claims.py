"""The ledger entries of the task-diversity topic (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import EMPIRICAL, EXACT, Claim
from . import asymptotics, bayes, error, model

LU = "Lu et al. 2024"
RAVENTOS = "Raventós et al. 2023"
PAPERS = {"lu": LU, "raventos": RAVENTOS}

__all__ = ["LU", "RAVENTOS", "PAPERS", "CLAIMS"]


CLAIMS = (
    Claim("lu-lsa-reduction", LU,
          "one linear self-attention layer with value row (0, v_y), read at the query's label, is the reduced model "
          "ŷ = ⟨Γ, H_Z⟩, Γ = v_y (D W[:, :d])ᵀ, D = diag(1/d, …, 1/d, 1)",
          EXACT, "task_diversity", model.check_lsa_reduction),
    Claim("lu-pretraining", LU,
          "gradient descent on the pretraining loss from Γ = 0 converges to the closed-form ridge Γ",
          EXACT, "task_diversity", model.check_gd_reaches_ridge, tol=1e-12, max_instances=5,
          tol_note="GD run until its contraction bound (1 − μ/L)^t is below 1e-15"),
    Claim("lu-error", LU,
          "the exact finite-d error of any Γ, e = ρ + (1/d)[tr(Γ E[vvᵀ] Γᵀ) − 2 tr(Γ E[vwᵀ]) + E‖w‖²], for fresh "
          "Gaussian tasks, tasks on the sphere ‖w‖ = √d, and a finite pool (vs Monte Carlo)",
          EMPIRICAL, "task_diversity", error.check_error_formula, tol=1.0, max_instances=8,
          tol_note="passes when the Monte Carlo error (4e4 sequences) is within 4 standard errors of the formula"),
    Claim("lu-optimum", LU,
          "for fresh Gaussian tasks the best Γ is one GD step [γ* I | 0], γ* = 1/((1+ρ)/α + 1 + 1/ℓ), the "
          "preconditioned-GD topic's one-layer optimum at Σ = I/d; its error 1 + ρ − γ*",
          EXACT, "task_diversity", error.check_optimum_is_one_gd_step),
    Claim("lu-limits", LU,
          "Result 1's ridgeless ICL error at τ = κ = ∞ is (1+ρ)/(α+1+ρ) + ρ, the d → ∞ error of the optimal "
          "one-step predictor",
          EXACT, "task_diversity", asymptotics.check_limits),
    Claim("raventos-estimators", RAVENTOS,
          "dMMSE is the posterior mean over the task pool (Bayes' rule, no logs), ridge with λ = σ²/s² the "
          "Gaussian posterior mean (kernel form)",
          EXACT, "task_diversity", bayes.check_estimators),
)
