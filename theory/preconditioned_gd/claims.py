"""The ledger entries of the preconditioned-GD topic (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import EMPIRICAL, EXACT, Claim
from . import flow, model, multilayer, optimum

AHN = "Ahn et al. 2023"
MAHANKALI = "Mahankali et al. 2024"
ZFB2 = "Zhang, Frei & Bartlett 2024"
PAPERS = {"ahn": AHN, "mahankali": MAHANKALI, "zfb": ZFB2}

__all__ = ["AHN", "MAHANKALI", "ZFB2", "PAPERS", "CLAIMS"]


CLAIMS = (
    Claim("ahn-gd-steps", AHN,
          "sparse linear transformer with B = 0: L layers = L steps of preconditioned GD, Γ_ℓ = −A_ℓᵀ",
          EXACT, "preconditioned_gd", model.check_gd_steps),
    Claim("ahn-gdpp", AHN,
          "with B ≠ 0 every x (the query's too) moves to (I + B Ŝ A) x; the last layer's B does not change ŷ",
          EXACT, "preconditioned_gd", model.check_gdpp_update),
    Claim("ahn-dense", AHN,
          "a dense (P, Q) layer's label-odd part is the sparse layer A_eff = c Q_xx + b_x q_yxᵀ, so the dense "
          "form does no better than the sparse optimum (w → −w)",
          EXACT, "preconditioned_gd", optimum.check_dense_mirror),
    Claim("ahn-optimum", AHN,
          "one layer, x ~ N(0, Σ), w ~ N(0, Ω): Γ* = ΩΣH⁻¹ (Ω = I: ((n+1)/n Σ + (tr Σ + σ²)/n I)⁻¹; "
          "Ω = Σ⁻¹: n/(n+d+1+σ²) Σ⁻¹), L* = tr(ΣΩ) + σ² − tr(Γ*ΣΩΣ) (vs Monte Carlo)",
          EMPIRICAL, "preconditioned_gd", optimum.check_optimum, tol=1.0, max_instances=5,
          tol_note="passes when the Monte Carlo loss at Γ* (6e4 prompts) is within 4 standard errors of L* "
                   "and a random nudge of Γ* does not lower it"),
    Claim("ahn-S-gradient", AHN,
          "on S = {A_ℓ = a_ℓ Σ⁻¹, B_ℓ = b_ℓ I} (w ~ N(0, Σ⁻¹)) the expected gradient is ∝ Σ in each A_ℓ and ∝ I "
          "in each B_ℓ, so the 2L scalars' stationary points are the loss's (orbit average, exact)",
          EXACT, "preconditioned_gd", multilayer.check_S_gradient, max_instances=5),
    Claim("mahankali-single-index", MAHANKALI,
          "ReLU targets y = max(wᵀx, 0), x, w ~ N(0, I): the one-layer optimum is γ* I, γ* = n/(n + 2d + 3) "
          "(vs Monte Carlo)",
          EMPIRICAL, "preconditioned_gd", optimum.check_single_index, tol=1.0, max_instances=3,
          tol_note="passes when the Monte Carlo loss at γ* (1e5 prompts) is within 4 standard errors of the closed "
                   "form and γ* ± 15 % do not score lower"),
    Claim("zfb-flow", ZFB2,
          "gradient flow of ZFB's LSA from their initialisation decreases the loss and converges to "
          "u Uᵀ = Γ⁻¹, Γ = (1 + 1/N)Λ + tr(Λ)/N I",
          EXACT, "preconditioned_gd", flow.check_zfb_limit, tol=1e-9, max_instances=3,
          tol_note="RK4 to t = 300 (the convergence is exponential; halving the step moves the end point by ~1e-15)"),
)
