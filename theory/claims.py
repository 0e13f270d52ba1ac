"""The claim ledger: every checkable claim, its paper, its verdict, and how it is checked.

This list is the single registry read by ``python -m theory``, ``python -m proofs`` and
the tests, so adding a claim means adding one :class:`Claim` entry below.

Verdicts:

- ``exact`` — an identity; its numeric check must hold to ``tol`` (float64 round-off).
- ``approximate`` — the paper's wording is an approximation; the check verifies the
  exact statement we give instead, and ``literal_gap`` measures how far the paper's
  wording is from the truth on the same random instances.
- ``false as stated`` — the paper's wording does not hold; the check verifies the
  corrected form, and ``literal_gap`` shows the wording fails (the gap must be clearly
  non-zero, or the verdict itself would be wrong).
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import dual_form
from ._validate import positive_int

__all__ = ["Claim", "CheckResult", "CLAIMS", "get", "proof_modules", "run_proof", "run_check"]

EXACT, APPROXIMATE, FALSE_AS_STATED = "exact", "approximate", "false as stated"
DAI = "Dai et al. 2023"


@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    statement: str                                  # what is verified, in one line
    verdict: str                                    # EXACT, APPROXIMATE or FALSE_AS_STATED
    proof: str                                      # module name in proofs/
    check: Callable[[np.random.Generator], float]   # relative error on one random instance
    tol: float = 1e-12
    literal_gap: Callable[[np.random.Generator], float] | None = None
    paper_says: str = ""                            # the paper's wording, for non-exact claims
    gap_floor: float = 1e-6                         # a "false as stated" gap must exceed this


def _both_losses(check):
    def run(rng):
        return max(check(rng, "squared"), check(rng, "cross_entropy"))
    run.__doc__ = check.__doc__
    return run


CLAIMS: list[Claim] = [
    Claim("dai-dual-squared", DAI,
          "GD on W0 x (squared error): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: dual_form.check_dual_form(rng, "squared")),
    Claim("dai-dual-xent", DAI,
          "GD on W0 x (cross-entropy): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: dual_form.check_dual_form(rng, "cross_entropy")),
    Claim("dai-icl-split", DAI,
          "linear attention over [X'; X]: W_V[X';X](W_K[X';X])^T q = W_ZSL q + ΔW_ICL q",
          EXACT, "dual_form", dual_form.check_icl_split),
    Claim("dai-icl-softmax", DAI,
          "softmax attention over [X'; X] = λ SoftAttn(X) + (1-λ) SoftAttn(X'), λ = Z_X/(Z_X+Z_X')",
          APPROXIMATE, "dual_form", dual_form.check_softmax_mixture,
          literal_gap=dual_form.softmax_split_gap,
          paper_says="softmax attention ≈ W_ZSL q + ΔW_ICL q (after relaxing softmax to linear)"),
    Claim("dai-momentum", DAI,
          "heavy-ball momentum SGD: W_N x = W0 x + Σ_i s_{N-i} e_i x_i^T x, s_k = (1-η^{k+1})/(1-η)",
          FALSE_AS_STATED, "momentum", _both_losses(dual_form.check_momentum_dual),
          literal_gap=dual_form.momentum_literal_gap,
          paper_says="MoAttn = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i is the dual of momentum GD"),
]


def get(claim_id: str) -> Claim:
    """The claim with this id; ``ValueError`` listing the known ids otherwise."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise ValueError(f"unknown claim {claim_id!r}; known: {', '.join(c.id for c in CLAIMS)}")


def proof_modules() -> list[str]:
    """Proof script names in registry order, each once."""
    return list(dict.fromkeys(c.proof for c in CLAIMS))


def run_proof(name: str, verbose: bool = False):
    """Import ``proofs.<name>`` and run its derivation (its asserts); return its result."""
    module = importlib.import_module(f"proofs.{name}")
    return module.main() if verbose else module.derive()


@dataclass
class CheckResult:
    claim: Claim
    symbolic_ok: bool
    worst_error: float
    gap_range: tuple[float, float] | None
    seconds: float
    errors: list[float] = field(default_factory=list)
    symbolic_error: str = ""

    @property
    def ok(self) -> bool:
        gap_ok = (self.claim.verdict != FALSE_AS_STATED
                  or (self.gap_range is not None and self.gap_range[0] > self.claim.gap_floor))
        return self.symbolic_ok and self.worst_error <= self.claim.tol and gap_ok


def run_check(claim: Claim, *, seed: int = 0, instances: int = 20,
              proof_cache: dict | None = None) -> CheckResult:
    """Run the symbolic proof (once per module when ``proof_cache`` is shared) and the
    numeric check on ``instances`` random instances drawn from ``seed``."""
    instances = positive_int("instances", instances)
    start = time.perf_counter()
    cache = {} if proof_cache is None else proof_cache
    if claim.proof not in cache:
        try:
            run_proof(claim.proof)
            cache[claim.proof] = ""
        except AssertionError as err:
            cache[claim.proof] = f"assertion failed in proofs/{claim.proof}.py: {err}"
    rng = np.random.default_rng(seed)
    errors = [float(claim.check(rng)) for _ in range(instances)]
    gaps = None
    if claim.literal_gap is not None:
        g = [float(claim.literal_gap(rng)) for _ in range(instances)]
        gaps = (min(g), max(g))
    return CheckResult(claim, cache[claim.proof] == "", max(errors), gaps,
                       time.perf_counter() - start, errors, cache[claim.proof])
