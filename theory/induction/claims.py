"""The ledger entries of Reddy 2024 (collected by ``theory/claims.py``)."""
from __future__ import annotations

import functools

import numpy as np

from ..core._validate import as_rng
from ..core.gradcheck import rel_error
from ..core.proofs import proof_results
from ..core.registry import EMPIRICAL, EXACT, Claim
from . import markov, markov_transformer, minimal_model, three_param, two_param
from .training import quick_icl_shortfall

REDDY = "Reddy 2024"
EDELMAN = "Edelman et al. 2024"
PAPERS = {"reddy": REDDY, "edelman": EDELMAN}

__all__ = ["REDDY", "EDELMAN", "PAPERS", "CLAIMS", "symbolic_gradient"]


@functools.lru_cache(maxsize=1)
def symbolic_gradient():
    """The three-parameter gradient derived in ``proofs/induction_head.py``, lambdified:
    a function of ``(β, α, ξ, N, L)``."""
    import sympy as sp
    r = proof_results("induction_head")
    return sp.lambdify(r["symbols"], r["grad"], "numpy")


def _gradient_vs_sympy(rng) -> float:
    """Relative error of the hand-written three-parameter gradient against the sympy one."""
    N, L, theta = three_param._random_point(as_rng(rng))   # the instances of the origin check
    N = max(N, 2)                                          # the symbolic form divides by N - 1
    L = max(L, N)
    hand = three_param.three_param_loss(theta, N, L)[1]
    return rel_error(hand, np.array(symbolic_gradient()(*theta, N, L), dtype=float))


CLAIMS = (
    Claim("reddy-gradient", REDDY,
          "three-parameter loss: hand-written gradient = gradient derived in sympy",
          EXACT, "induction_head", _gradient_vs_sympy),
    Claim("reddy-origin", REDDY,
          "at the origin only ξ has a gradient: ∇loss = (0, 0, 1/L - 1/N), zero when L = N",
          EXACT, "induction_head", three_param.check_origin_gradient),
    Claim("reddy-three-from-two", REDDY,
          "the three-parameter p = the right-label probability of the idealised two-parameter "
          "induction head (orthonormal tokens, B = 1, readout ξ)",
          EXACT, "induction_head", two_param.check_three_from_two),
    Claim("reddy-two-param-icl", REDDY,
          "two-parameter induction head (our reading, Sec. 4) trained on bursty data learns ICL "
          "of novel classes (quick run)",
          EMPIRICAL, "induction_head", quick_icl_shortfall, tol=0.1, max_instances=1,
          tol_note="quick run (1,500 SGD steps, K = 512, L = 16, N = 4, B = 2): 1 - ICL accuracy on 300 "
                   "novel-class sequences; seeds 0-23 reach 0.973-1.0 (chance 1/16); "
                   "`python -m theory reproduce induction-head` gives the sweeps"),
    Claim("edelman-bigram-bayes", EDELMAN,
          "the add-one bigram strategy (c(x_t→s) + 1)/(n_{x_t} + k) is the posterior predictive of a Markov chain "
          "with Dirichlet(1) rows given the context (the first token's law left out)",
          EXACT, "statistical_induction_head", markov.check_bigram_bayes,
          tol_note="the posterior by 60-point Gauss–Legendre quadrature, exact for these polynomial degrees"),
    Claim("edelman-minimal-gradient", EDELMAN,
          "the minimal model's hand-written gradient (offset attention, then a k × k bilinear read-out) matches "
          "central differences, with the causal mask and with the authors' unmasked layer 1",
          EXACT, "statistical_induction_head", minimal_model.check_minimal_gradient, tol=1e-7,
          tol_note="central differences with step 1e-6: their own error is ~1e-9-1e-8 relative"),
    Claim("edelman-transformer-gradient", EDELMAN,
          "the two-layer attention-only transformer's hand-written gradient (pre-LayerNorm, relative-position logits, "
          "causal softmax, final LayerNorm, unembedding) matches central differences for every parameter",
          EXACT, "statistical_induction_head", markov_transformer.check_transformer_gradient, tol=1e-7, max_instances=3,
          tol_note="central differences with step 1e-6; each block's error relative to the whole gradient's norm "
                   "(a block can vanish by symmetry)"),
    Claim("edelman-init-gradient", EDELMAN,
          "with every entry of W equal (the authors' start) the loss does not depend on layer 1: ∂L/∂v = 0 for any v "
          "while ∂L/∂W ≠ 0, so the read-out moves first",
          EXACT, "statistical_induction_head", minimal_model.check_init_gradient),
)
