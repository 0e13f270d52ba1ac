"""The ledger entries of Reddy 2024 (collected by ``theory/claims.py``)."""
from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from ..core._validate import as_rng
from ..core.gradcheck import rel_error
from ..core.proofs import proof_results
from ..core.registry import EMPIRICAL, EXACT, Claim
from . import three_param
from .three_param import _random_point, origin_gradient, three_param_loss
from .training import TWO_PARAM, TWO_PARAM_QUICK_CONFIG, train_network
from .two_param import idealised_probability

REDDY = "Reddy 2024"
PAPERS = {"reddy": REDDY}

__all__ = ["REDDY", "PAPERS", "CLAIMS", "symbolic_gradient"]


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


def _check_origin_gradient(rng: np.random.Generator) -> float:
    """Absolute error of the gradient at the origin against ``(0, 0, 1/L - 1/N)``
    (absolute: the closed form is exactly 0 when L = N)."""
    N, L, _ = _random_point(as_rng(rng))
    return float(np.abs(three_param_loss(np.zeros(3), N, L)[1] - origin_gradient(N, L)).max())


def _quick_icl_shortfall(rng) -> float:
    """``1 - ICL accuracy`` of the two-parameter model after the quick run, seeded from ``rng``."""
    cfg = replace(TWO_PARAM_QUICK_CONFIG, seed=int(as_rng(rng).integers(2**31)))
    return 1.0 - float(train_network(cfg, model=TWO_PARAM).icl[-1])


def _check_three_from_two(rng) -> float:
    """Relative error between :func:`idealised_probability` and the three-parameter p at a
    random (β, α, ξ) ∈ [-4, 4]³, N ∈ 1..12, L ∈ N..N+30."""
    from .three_param import three_param_forward
    rng = as_rng(rng)
    N = int(rng.integers(1, 13))
    L = N + int(rng.integers(0, 31))
    theta = rng.uniform(-4, 4, size=3)
    p3 = np.exp(-three_param_forward(theta, N, L)[0])
    return abs(idealised_probability(theta, N, L) - p3) / p3


CLAIMS = (
    Claim("reddy-gradient", REDDY,
          "three-parameter loss: hand-written gradient = gradient derived in sympy",
          EXACT, "induction_head", _gradient_vs_sympy),
    Claim("reddy-origin", REDDY,
          "at the origin only ξ has a gradient: ∇loss = (0, 0, 1/L - 1/N), zero when L = N",
          EXACT, "induction_head", _check_origin_gradient),
    Claim("reddy-three-from-two", REDDY,
          "the three-parameter p = the right-label probability of the idealised two-parameter "
          "induction head (orthonormal tokens, B = 1, readout ξ)",
          EXACT, "induction_head", _check_three_from_two),
    Claim("reddy-two-param-icl", REDDY,
          "two-parameter induction head (our reading, Sec. 4) trained on bursty data learns ICL "
          "of novel classes (quick run)",
          EMPIRICAL, "induction_head", _quick_icl_shortfall, tol=0.1, max_instances=1,
          measured_by="training run", tol_note="quick run (1,500 SGD steps, K = 512, L = 16, N = 4, B = 2): 1 - ICL accuracy on 300 "
                   "novel-class sequences; seeds 0-23 reach 0.973-1.0 (chance 1/16); "
                   "`python -m theory reproduce induction-head` gives the sweeps"),
)
