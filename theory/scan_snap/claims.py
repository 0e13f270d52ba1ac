"""The ledger entries of Tian et al. 2023 (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import EMPIRICAL, EXACT, Claim
from . import biases, model

TIAN = "Tian et al. 2023"
PAPERS = {"tian": TIAN}

__all__ = ["TIAN", "PAPERS", "CLAIMS"]

CLAIMS = (
    Claim("tian-histogram-limit", TIAN,
          "Sec. 4 (the long-sequence assumption): the finite-T attention histogram tends to "
          "c_n = p_n ⊙ e^{z_m}/(p_nᵀ e^{z_m}) with rms error ∝ (T - 1)^{-1/2} (|fitted slope + 1/2|)",
          EXACT, "scan_snap", model.check_histogram_limit, tol=0.1, max_instances=5,
          tol_note="Monte Carlo (T = 64 ... 4096, 300 sequences each); the rate is our derivation (delta "
                   "method for a ratio of sample means); measured worst 0.041 over 60 instances"),
    Claim("tian-finite-gradient", TIAN,
          "the finite-T one-layer model (Z logits, token histogram, ℓ2 norm, decoder Y, cross-entropy; with "
          "and without the residual): hand-written gradient = central differences",
          EXACT, "scan_snap", model.check_finite_gradient, tol=1e-7,
          tol_note="central differences; the package's gradient standard"),
    Claim("tian-reduced-gradient", TIAN,
          "the long-sequence model's expected loss: hand-written gradient = central differences",
          EXACT, "scan_snap", model.check_reduced_gradient, tol=1e-7,
          tol_note="central differences; the package's gradient standard"),
    Claim("tian-flow", TIAN,
          "Secs. 5-6 (derived; the paper's equations not read word for word): Ẏ = η_Y E_n[(e_n - α_n) f_nᵀ], "
          "ż_m = η_Z E_n[1{ψ(n)=m} (diag c_n - c_n c_nᵀ)(I - f_n f_nᵀ) Yᵀ (e_n - α_n)/||c_n||] = -η ∇L",
          EXACT, "scan_snap", model.check_paper_flow),
    Claim("tian-invariances", TIAN,
          "1ᵀ ż_m = 0, 1ᵀ Ẏ = 0, the finite-T dZ has zero row sums, and a constant added to a row of Z "
          "changes neither loss",
          EXACT, "scan_snap", model.check_invariances),
    Claim("tian-frequency-bias", TIAN,
          "frequency bias: on the flow from zero (random distinct weights), the distinct tokens' attention "
          "logits grow in the order of P(l|n) (1 - Spearman, first 5 iterations)",
          EMPIRICAL, "scan_snap", biases.check_frequency_bias, tol=1e-12, max_instances=10,
          tol_note="0 when the order is exact; the gradient flow of the long-sequence model, zero init, "
                   "rate 10 per iteration (η = 1, momentum 0.9)"),
    Claim("tian-discriminative", TIAN,
          "discriminative bias: the common tokens' total attention Σ_common c_n only falls along the flow "
          "(largest rise between iterations 0 ... 100)",
          EMPIRICAL, "scan_snap", biases.check_discriminative_bias, tol=1e-12, max_instances=10,
          tol_note="0 when it never rises; the flow from zero, random distinct weights"),
    Claim("tian-scan-order", TIAN,
          "scan: after 100 iterations of the flow the distinct tokens' attention c_n ranks them as P(l|n) "
          "does (1 - Spearman)",
          EMPIRICAL, "scan_snap", biases.check_scan_order, tol=1e-12, max_instances=10,
          tol_note="0 when the ranking is exact; the flow from zero, random distinct weights"),
    Claim("tian-snap", TIAN,
          "snap: after the transition (t = 1e3 ... 1e5 iterations of the flow) 1 - α_n decays like 1/t "
          "(|slope of ln(1 - α) against ln t + 1|)",
          EMPIRICAL, "scan_snap", biases.check_snap, tol=0.02, max_instances=10,
          tol_note="a fitted exponent; measured worst 0.0065 over 40 random tasks"),
)
