"""The ledger entries of von Oswald et al. 2023b (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import EXACT, Claim
from . import attention, iterations, layer

MESA = "von Oswald et al. 2023b"
PAPERS = {"mesa": MESA}

__all__ = ["MESA", "PAPERS", "CLAIMS"]

CLAIMS = (
    Claim("mesa-sherman-morrison", MESA,
          "mesa-layer: the causal Sherman-Morrison recursion R_t = R_{t-1} - R k k^T R / (1 + k^T R k), "
          "R_0 = λI, gives the batch ridge solution (Σ v k^T)(Σ k k^T + I/λ)^{-1} q at every t",
          EXACT, "mesa", layer.check_sherman_morrison),
    Claim("mesa-downdate", MESA,
          "the downdate R_{t-1} = R_t + R_t k k^T R_t / (1 - k^T R_t k) recovers every earlier R",
          EXACT, "mesa", layer.check_downdate, tol=1e-10,
          tol_note="the downdate divides by 1 - k^T R_t k, which cancels; measured worst 2e-15 over "
                   "20 instances, tolerance 1e-10"),
    Claim("mesa-attention", MESA,
          "the mesa-layer is causal linear attention with the preconditioned query R_t q_t",
          EXACT, "mesa", layer.check_mesa_is_attention),
    Claim("mesa-causal-gd", MESA,
          "causal LSA with key s_{t'-1}, query s_t, value s_{t'} -> block 0, P = ηI is one GD step on "
          "L_t(W) = ½ Σ_{t'≤t} ||s_{t'} - W s_{t'-1}||² from W = 0 at every t",
          EXACT, "mesa", attention.check_causal_gd_step),
    Claim("mesa-layer-gradient", MESA,
          "the mesa-layer's hand-written backward (K, V, Q and λ, through every Sherman-Morrison step) "
          "= differences of the forward pass",
          EXACT, "mesa", layer.check_mesa_gradient, tol=1e-7,
          tol_note="finite differences: central for K, V, Q, five-point for λ; 1e-7 relative is the "
                   "package's gradient standard"),
    Claim("mesa-model-gradient", MESA,
          "deep causal linear attention (2 layers, several heads): hand-written gradient of the next-state "
          "loss = central differences",
          EXACT, "mesa", attention.check_model_gradient, tol=1e-7,
          tol_note="central differences; 1e-7 relative is the package's gradient standard"),
    Claim("mesa-richardson", MESA,
          "Richardson x_{k+1} = x_k + ω(b - A x_k) on the mesa-layer's systems A = S_{t-1} + λI, b = s_t: "
          "||e_k|| ≤ ρ^k ||e_0||, ρ = max|1 - ωλ_i(A)| (excess over the bound)",
          EXACT, "mesa", iterations.check_richardson_bound),
    Claim("mesa-neumann", MESA,
          "Richardson from x_0 = 0 is the truncated Neumann series ω Σ_{j<k} (I - ωA)^j b",
          EXACT, "mesa", iterations.check_neumann),
    Claim("mesa-chebyshev", MESA,
          "Chebyshev (momentum) iteration on the mesa-layer's systems, spectrum in [μ, L]: "
          "||e_k|| ≤ 2c^k/(1 + c^{2k}) ||e_0||, c = (√κ - 1)/(√κ + 1) (excess over the bound)",
          EXACT, "mesa", iterations.check_chebyshev_bound),
    Claim("mesa-stack", MESA,
          "K stacked causal linear-attention layers (key = value = s_t', query = the last Krylov block) "
          "and a linear read-out give K steps of Richardson and of Chebyshev on (S_t + λI) x = s_t",
          EXACT, "mesa", iterations.check_stack_runs_iterations),
)
