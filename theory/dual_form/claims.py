"""The ledger entries of Dai et al. 2023 (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import APPROXIMATE, EXACT, FALSE_AS_STATED, Claim
from . import dual, momentum

DAI = "Dai et al. 2023"
PAPERS = {"dai": DAI}

__all__ = ["DAI", "PAPERS", "CLAIMS"]


def _both_losses(check):
    """The worse of a check under squared error and under cross-entropy."""
    def run(rng):
        return max(check(rng, "squared"), check(rng, "cross_entropy"))
    run.__doc__ = check.__doc__
    return run


CLAIMS = (
    Claim("dai-dual-squared", DAI,
          "GD on W0 x (squared error): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: dual.check_dual_form(rng, "squared")),
    Claim("dai-dual-xent", DAI,
          "GD on W0 x (cross-entropy): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: dual.check_dual_form(rng, "cross_entropy")),
    Claim("dai-icl-split", DAI,
          "linear attention over [X'; X]: W_V[X';X](W_K[X';X])^T q = W_ZSL q + ΔW_ICL q",
          EXACT, "dual_form", dual.check_icl_split),
    Claim("dai-icl-softmax", DAI,
          "softmax attention over [X'; X] = λ SoftAttn(X) + (1-λ) SoftAttn(X'), λ = Z_X/(Z_X+Z_X')",
          APPROXIMATE, "dual_form", dual.check_softmax_mixture,
          literal_gap=dual.softmax_split_gap,
          paper_says="softmax attention ≈ W_ZSL q + ΔW_ICL q (after relaxing softmax to linear)"),
    Claim("dai-momentum", DAI,
          "heavy-ball momentum SGD: W_N x = W0 x + Σ_i s_{N-i} e_i x_i^T x, s_k = (1-η^{k+1})/(1-η)",
          FALSE_AS_STATED, "dual_form_momentum", _both_losses(momentum.check_momentum_dual),
          literal_gap=momentum.momentum_literal_gap,
          paper_says="MoAttn = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i is the dual of momentum GD"),
)
