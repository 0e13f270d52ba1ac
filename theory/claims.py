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
- ``empirical`` — an outcome of training, checked on a quick run; its tolerance is a
  bar on a measured quantity (said in ``tol_note``), not round-off.

Exact claims checked by Monte Carlo (closed forms of expectations) have a tolerance set
by the sampling noise, also said in ``tol_note``.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import io
import runpy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import (dual_form, gd_step, induction_head, induction_training, induction_two_param, lsa_training, mesa,
               mesa_iterations, scan_snap, scan_snap_training)
from ._validate import as_rng, choice, finite_scalar, flag, function, nonnegative_int, positive_int

__all__ = ["Claim", "CheckResult", "CLAIMS", "get", "proof_modules", "run_proof", "run_check", "symbolic_gradient"]

EXACT, APPROXIMATE, FALSE_AS_STATED, EMPIRICAL = "exact", "approximate", "false as stated", "empirical"
VERDICTS = (EXACT, APPROXIMATE, FALSE_AS_STATED, EMPIRICAL)
DAI = "Dai et al. 2023"
VO = "von Oswald et al. 2023"
ZFB = "Zhang, Frei & Bartlett 2024"
MESA = "von Oswald et al. 2023b"
TIAN = "Tian et al. 2023"
REDDY = "Reddy 2024"


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
    tol_note: str = ""                              # why tol is not round-off, where it is not
    max_instances: int | None = None                # cap for expensive checks (training runs)

    def __post_init__(self):
        for name in ("id", "paper", "statement", "proof"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string; got {getattr(self, name)!r}")
        choice("verdict", self.verdict, VERDICTS)
        function("check", self.check)
        function("literal_gap", self.literal_gap, optional=True)
        finite_scalar("tol", self.tol, positive=True)
        finite_scalar("gap_floor", self.gap_floor, nonnegative=True)
        if self.max_instances is not None:
            positive_int("max_instances", self.max_instances)
        if self.verdict in (APPROXIMATE, FALSE_AS_STATED) and (self.literal_gap is None or not self.paper_says):
            raise ValueError(f"literal_gap and paper_says are required for a claim {self.verdict!r}; "
                             f"got literal_gap={self.literal_gap!r}, paper_says={self.paper_says!r}")


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
    Claim("vo-gd-step", VO,
          "constructed LSA layer = one GD step from W0 ≠ 0: ŷ = (W0 + ΔW) x_q, y-slots y_i - ΔW x_i",
          EXACT, "gd_step", lambda rng: gd_step.check_gd_step(rng, steps=1)),
    Claim("vo-k-steps", VO,
          "the same layer applied K times (K = 2..4) = K GD steps",
          EXACT, "gd_step", gd_step.check_gd_step),
    Claim("vo-gdpp", VO,
          "GD++ layers: x ← (I - γ Σ x_i x_i^T) x for every token, then GD on the new inputs",
          EXACT, "gd_step", gd_step.check_gdpp),
    Claim("vo-optimal-eta", VO,
          "best one-step η: b* = N s²/(m4 + (d+N-2)s⁴), L* = ½ d s² (1 - s⁴/c) (vs Monte Carlo)",
          EXACT, "gd_step", gd_step.check_optimal_step, tol=0.03,
          tol_note="Monte Carlo, 3e5 tasks per instance (set from a calibration run of 60 instances: median error 0.2 %, worst 0.9 %)"),
    Claim("zfb-moment", ZFB,
          "x ~ N(0, Λ): E[Ŝ²] = Λ Γ, Γ = (1 + 1/N) Λ + (tr Λ / N) I (vs Monte Carlo)",
          EXACT, "gd_step", gd_step.check_zfb_moment, tol=0.03,
          tol_note="Monte Carlo, 3e5 draws of Ŝ per instance (set from a calibration run of 60 instances: worst 0.9 %)"),
    Claim("vo-trained-lsa", VO,
          "a 1-layer LSA trained by Adam reaches the loss of one GD step at η* (quick run)",
          EMPIRICAL, "gd_step", lambda rng: _trained_lsa_excess(rng), tol=0.05, max_instances=1,
          tol_note="quick run (400 steps, batch 512): relative excess of the trained loss over "
                   "GD at η*; `python -m theory reproduce gd-step` gives the full figures"),
    Claim("mesa-sherman-morrison", MESA,
          "mesa-layer: the causal Sherman-Morrison recursion R_t = R_{t-1} - R k k^T R / (1 + k^T R k), "
          "R_0 = λI, gives the batch ridge solution (Σ v k^T)(Σ k k^T + I/λ)^{-1} q at every t",
          EXACT, "mesa", mesa.check_sherman_morrison),
    Claim("mesa-downdate", MESA,
          "the downdate R_{t-1} = R_t + R_t k k^T R_t / (1 - k^T R_t k) recovers every earlier R",
          EXACT, "mesa", mesa.check_downdate, tol=1e-10,
          tol_note="the downdate divides by 1 - k^T R_t k, which cancels; measured worst 2e-15 over "
                   "20 instances, tolerance 1e-10"),
    Claim("mesa-attention", MESA,
          "the mesa-layer is causal linear attention with the preconditioned query R_t q_t",
          EXACT, "mesa", mesa.check_mesa_is_attention),
    Claim("mesa-causal-gd", MESA,
          "causal LSA with key s_{t'-1}, query s_t, value s_{t'} -> block 0, P = ηI is one GD step on "
          "L_t(W) = ½ Σ_{t'≤t} ||s_{t'} - W s_{t'-1}||² from W = 0 at every t",
          EXACT, "mesa", mesa.check_causal_gd_step),
    Claim("mesa-layer-gradient", MESA,
          "the mesa-layer's hand-written backward (K, V, Q and λ, through every Sherman-Morrison step) "
          "= differences of the forward pass",
          EXACT, "mesa", mesa.check_mesa_gradient, tol=1e-7,
          tol_note="finite differences: central for K, V, Q, five-point for λ; 1e-7 relative is the "
                   "package's gradient standard"),
    Claim("mesa-model-gradient", MESA,
          "deep causal linear attention (2 layers, several heads): hand-written gradient of the next-state "
          "loss = central differences",
          EXACT, "mesa", mesa.check_model_gradient, tol=1e-7,
          tol_note="central differences; 1e-7 relative is the package's gradient standard"),
    Claim("mesa-richardson", MESA,
          "Richardson x_{k+1} = x_k + ω(b - A x_k) on the mesa-layer's systems A = S_{t-1} + λI, b = s_t: "
          "||e_k|| ≤ ρ^k ||e_0||, ρ = max|1 - ωλ_i(A)| (excess over the bound)",
          EXACT, "mesa", mesa_iterations.check_richardson_bound),
    Claim("mesa-neumann", MESA,
          "Richardson from x_0 = 0 is the truncated Neumann series ω Σ_{j<k} (I - ωA)^j b",
          EXACT, "mesa", mesa_iterations.check_neumann),
    Claim("mesa-chebyshev", MESA,
          "Chebyshev (momentum) iteration on the mesa-layer's systems, spectrum in [μ, L]: "
          "||e_k|| ≤ 2c^k/(1 + c^{2k}) ||e_0||, c = (√κ - 1)/(√κ + 1) (excess over the bound)",
          EXACT, "mesa", mesa_iterations.check_chebyshev_bound),
    Claim("mesa-stack", MESA,
          "K stacked causal linear-attention layers (key = value = s_t', query = the last Krylov block) "
          "and a linear read-out give K steps of Richardson and of Chebyshev on (S_t + λI) x = s_t",
          EXACT, "mesa", mesa_iterations.check_stack_runs_iterations),
    Claim("tian-histogram-limit", TIAN,
          "Sec. 4 (the long-sequence assumption): the finite-T attention histogram tends to "
          "c_n = p_n ⊙ e^{z_m}/(p_nᵀ e^{z_m}) with rms error ∝ (T - 1)^{-1/2} (|fitted slope + 1/2|)",
          EXACT, "scan_snap", scan_snap.check_histogram_limit, tol=0.1, max_instances=5,
          tol_note="Monte Carlo (T = 64 ... 4096, 300 sequences each); the rate is our derivation (delta "
                   "method for a ratio of sample means); measured worst 0.041 over 60 instances"),
    Claim("tian-finite-gradient", TIAN,
          "the finite-T one-layer model (Z logits, token histogram, ℓ2 norm, decoder Y, cross-entropy; with "
          "and without the residual): hand-written gradient = central differences",
          EXACT, "scan_snap", scan_snap.check_finite_gradient, tol=1e-7,
          tol_note="central differences; the package's gradient standard"),
    Claim("tian-reduced-gradient", TIAN,
          "the long-sequence model's expected loss: hand-written gradient = central differences",
          EXACT, "scan_snap", scan_snap.check_reduced_gradient, tol=1e-7,
          tol_note="central differences; the package's gradient standard"),
    Claim("tian-flow", TIAN,
          "Secs. 5-6 (derived; the paper's equations not read word for word): Ẏ = η_Y E_n[(e_n - α_n) f_nᵀ], "
          "ż_m = η_Z E_n[1{ψ(n)=m} (diag c_n - c_n c_nᵀ)(I - f_n f_nᵀ) Yᵀ (e_n - α_n)/||c_n||] = -η ∇L",
          EXACT, "scan_snap", scan_snap.check_paper_flow),
    Claim("tian-invariances", TIAN,
          "1ᵀ ż_m = 0, 1ᵀ Ẏ = 0, the finite-T dZ has zero row sums, and a constant added to a row of Z "
          "changes neither loss",
          EXACT, "scan_snap", scan_snap.check_invariances),
    Claim("tian-frequency-bias", TIAN,
          "frequency bias: on the flow from zero (random distinct weights), the distinct tokens' attention "
          "logits grow in the order of P(l|n) (1 - Spearman, first 5 iterations)",
          EMPIRICAL, "scan_snap", scan_snap_training.check_frequency_bias, tol=1e-12, max_instances=10,
          tol_note="0 when the order is exact; the gradient flow of the long-sequence model, zero init, "
                   "rate 10 per iteration (η = 1, momentum 0.9)"),
    Claim("tian-discriminative", TIAN,
          "discriminative bias: the common tokens' total attention Σ_common c_n only falls along the flow "
          "(largest rise between iterations 0 ... 100)",
          EMPIRICAL, "scan_snap", scan_snap_training.check_discriminative_bias, tol=1e-12, max_instances=10,
          tol_note="0 when it never rises; the flow from zero, random distinct weights"),
    Claim("tian-scan-order", TIAN,
          "scan: after 100 iterations of the flow the distinct tokens' attention c_n ranks them as P(l|n) "
          "does (1 - Spearman)",
          EMPIRICAL, "scan_snap", scan_snap_training.check_scan_order, tol=1e-12, max_instances=10,
          tol_note="0 when the ranking is exact; the flow from zero, random distinct weights"),
    Claim("tian-snap", TIAN,
          "snap: after the transition (t = 1e3 ... 1e5 iterations of the flow) 1 - α_n decays like 1/t "
          "(|slope of ln(1 - α) against ln t + 1|)",
          EMPIRICAL, "scan_snap", scan_snap_training.check_snap, tol=0.02, max_instances=10,
          tol_note="a fitted exponent; measured worst 0.0065 over 40 random tasks"),
    Claim("reddy-gradient", REDDY,
          "three-parameter loss: hand-written gradient = gradient derived in sympy",
          EXACT, "induction_head", lambda rng: _gradient_vs_sympy(rng)),
    Claim("reddy-origin", REDDY,
          "at the origin only ξ has a gradient: ∇loss = (0, 0, 1/L - 1/N), zero when L = N",
          EXACT, "induction_head", induction_head.check_origin_gradient),
    Claim("reddy-three-from-two", REDDY,
          "the three-parameter p = the right-label probability of the idealised two-parameter "
          "induction head (orthonormal tokens, B = 1, readout ξ)",
          EXACT, "induction_head", induction_two_param.check_three_from_two),
    Claim("reddy-two-param-icl", REDDY,
          "two-parameter induction head (our reading, Sec. 4) trained on bursty data learns ICL "
          "of novel classes (quick run)",
          EMPIRICAL, "induction_head", induction_training.quick_icl_shortfall, tol=0.1, max_instances=1,
          tol_note="quick run (1,500 SGD steps, K = 512, L = 16, N = 4, B = 2): 1 - ICL accuracy on 300 "
                   "novel-class sequences; seeds 0-23 reach 0.973-1.0 (chance 1/16); "
                   "`python -m theory reproduce induction-head` gives the sweeps"),
]


def _trained_lsa_excess(rng) -> float:
    """Relative excess loss of a quickly trained 1-layer LSA over GD at the closed-form η*."""
    seed = int(rng.integers(2**31))
    r = lsa_training.train_lsa(1, steps=400, batch=512, lr=3e-3, rng=seed)
    c = lsa_training.compare_to_gd(r, n_tasks=4000, rng=seed + 1)
    return (c.tf_loss - c.gd_loss) / c.gd_loss


@functools.lru_cache(maxsize=1)
def symbolic_gradient():
    """The three-parameter gradient derived in ``proofs/induction_head.py``, lambdified."""
    import sympy as sp
    r = run_proof("induction_head")
    return sp.lambdify(r["symbols"], r["grad"], "numpy")


def _gradient_vs_sympy(rng) -> float:
    """Relative error of the hand-written three-parameter gradient against the sympy one."""
    from .gradcheck import rel_error
    N, L, theta = induction_head._random_point(as_rng(rng))   # the instances of the origin check
    N = max(N, 2)                                          # the symbolic form divides by N - 1
    L = max(L, N)
    hand = induction_head.three_param_loss(theta, N, L)[1]
    return rel_error(hand, np.array(symbolic_gradient()(*theta, N, L), dtype=float))


def get(claim_id: str) -> Claim:
    """The claim with this id; ``ValueError`` listing the known ids otherwise."""
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise ValueError(f"claim_id must be a registered claim; got {claim_id!r} (unknown claim). "
                     f"Known: {', '.join(c.id for c in CLAIMS)}")


def proof_modules() -> list[str]:
    """Proof script names in registry order, each once."""
    return list(dict.fromkeys(c.proof for c in CLAIMS))


def run_proof(name: str, verbose: bool = False):
    """Run ``proofs/<name>.py`` (its cells, top to bottom, and their asserts) and return
    the ``RESULTS`` it defines.  Quiet by default: the script runs once per process, as
    an import with its printing captured, and is cached (sympy is slow); ``verbose``
    runs it afresh as ``python -m proofs.<name>`` does, printing the derivation."""
    choice("name", name, proof_modules())
    if flag("verbose", verbose):
        return runpy.run_module(f"proofs.{name}", run_name="__main__")["RESULTS"]
    return _derived(name)


@functools.lru_cache(maxsize=None)
def _derived(name: str):
    with contextlib.redirect_stdout(io.StringIO()):
        module = importlib.import_module(f"proofs.{name}")
    return module.RESULTS


@dataclass
class CheckResult:
    """The outcome of :func:`run_check`.  ``failures`` lists every instance whose check
    or gap was not a finite number (or raised), with the instance and the reason: such a
    claim never holds, whatever the other instances gave."""
    claim: Claim
    symbolic_ok: bool
    worst_error: float
    gap_range: tuple[float, float] | None
    seconds: float
    errors: list[float] = field(default_factory=list)
    symbolic_error: str = ""
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        gap_ok = (self.claim.verdict != FALSE_AS_STATED
                  or (self.gap_range is not None and self.gap_range[0] > self.claim.gap_floor))
        return (self.symbolic_ok and not self.failures and self.worst_error <= self.claim.tol
                and gap_ok)


def _measure(fn, rng, what: str, k: int, failures: list) -> float:
    """One instance of a check or gap; nan (and a line in ``failures``) when it is not a
    finite number or raised an arithmetic or value error."""
    try:
        v = float(fn(rng))
    except (ArithmeticError, ValueError) as err:
        failures.append(f"{what} instance {k}: {type(err).__name__}: {err}")
        return float("nan")
    if not np.isfinite(v):
        failures.append(f"{what} instance {k}: returned {v}")
    return v


def _worst(values: list[float]) -> float:
    """The largest value, nan if any is nan (``max`` would drop it)."""
    return float("nan") if any(np.isnan(values)) else max(values)


def run_check(claim: Claim, *, seed: int = 0, instances: int = 20,
              proof_cache: dict | None = None) -> CheckResult:
    """Run the symbolic proof (once per module when ``proof_cache`` is shared) and the
    numeric check on ``instances`` random instances drawn from ``seed``.  An instance
    whose check is not finite (or raises ``ValueError``/``ArithmeticError``) fails the
    claim and is named in ``failures``."""
    if not isinstance(claim, Claim):
        raise ValueError(f"claim must be a Claim (see claims.get); got {type(claim).__name__}")
    seed = nonnegative_int("seed", seed)
    instances = positive_int("instances", instances)
    if proof_cache is not None and not isinstance(proof_cache, dict):
        raise ValueError(f"proof_cache must be None or a dict; got {type(proof_cache).__name__}")
    start = time.perf_counter()
    cache = {} if proof_cache is None else proof_cache
    if claim.proof not in cache:
        try:
            run_proof(claim.proof)
            cache[claim.proof] = ""
        except AssertionError as err:
            cache[claim.proof] = f"assertion failed in proofs/{claim.proof}.py: {err}"
    rng = np.random.default_rng(seed)
    n = instances if claim.max_instances is None else min(instances, claim.max_instances)
    failures: list[str] = []
    errors = [_measure(claim.check, rng, "check", k, failures) for k in range(n)]
    gaps = None
    if claim.literal_gap is not None:
        g = [_measure(claim.literal_gap, rng, "literal gap", k, failures) for k in range(n)]
        gaps = (float("nan"), float("nan")) if any(np.isnan(g)) else (min(g), max(g))
    return CheckResult(claim, cache[claim.proof] == "", _worst(errors), gaps,
                       time.perf_counter() - start, errors, cache[claim.proof], failures)
