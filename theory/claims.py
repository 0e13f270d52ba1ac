"""The claim ledger: every checkable claim of every topic, its paper, its verdict, and how
it is checked.

The claims are declared where their mathematics lives, in each topic's ``claims`` module
(``theory/<topic>/claims.py``), and collected here from the topics registered in
:data:`TOPICS`, in that order; this list is the single registry read by
``python -m theory``, ``python -m proofs`` and the tests.  This module keeps the
machinery: finding a claim, running its proof and its numeric check.  The verdicts
(``exact``, ``approximate``, ``false as stated``, ``empirical``) and the :class:`Claim`
type are explained in :mod:`theory.core.registry`.
"""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field

import numpy as np

from .core._validate import choice, flag, nonnegative_int, positive_int
from .core.proofs import proof_results, run_proof_aloud
from .core.registry import APPROXIMATE, EMPIRICAL, EXACT, FALSE_AS_STATED, MEASURES, VERDICTS, Claim  # noqa: F401

__all__ = ["TOPICS", "topics", "collect_claims", "Claim", "CheckResult", "CLAIMS", "PAPERS", "get", "proof_modules", "run_proof",
           "run_check", "check_claims"]

# The registry of topics: one package under theory/ each, in the order the ledger lists them.
TOPICS = (
    "dual_form",     # Dai et al. 2023
    "gd_step",       # von Oswald et al. 2023 (and Zhang, Frei & Bartlett 2024's one-layer optimum)
    "mesa",          # von Oswald et al. 2023b
    "scan_snap",     # Tian et al. 2023
    "induction",     # Reddy 2024
    "markov_icl",    # Edelman et al. 2024
    "preconditioned_gd",  # Ahn et al. 2023, Mahankali et al. 2024, Zhang, Frei & Bartlett 2024
    "task_diversity",     # Raventós et al. 2023, Lu et al. 2024
)


def topics() -> list:
    """The ``TOPIC`` of every registered topic package (``theory.<name>.TOPIC``), in registry order."""
    return [importlib.import_module(f"theory.{name}").TOPIC for name in TOPICS]


def collect_claims() -> list:
    """Every claim of every registered topic, in registry order."""
    return [c for topic in topics() for c in topic.claims]


CLAIMS: list[Claim] = collect_claims()
PAPERS: dict = {prefix: paper for topic in topics() for prefix, paper in topic.papers.items()}   # claim-id prefix -> paper


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
        return run_proof_aloud(name)
    return proof_results(name)


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


def _check_group(ids: list[str], seed: int, instances: int) -> list[tuple]:
    """Run the claims ``ids`` (sharing one proof) in a worker; their results as plain tuples
    (a ``Claim`` holds functions that need not pickle: the parent puts its claim back)."""
    cache: dict = {}
    out = []
    for claim_id in ids:
        r = run_check(get(claim_id), seed=seed, instances=instances, proof_cache=cache)
        out.append((r.symbolic_ok, r.worst_error, r.gap_range, r.seconds, r.errors, r.symbolic_error,
                    r.failures))
    return out


def check_claims(claims: list, *, seed: int = 0, instances: int = 20, jobs: int = 1, progress=None) -> list:
    """:func:`run_check` for every claim in ``claims`` (results in the same order), each
    proof run once per process.  With ``jobs`` > 1 the claims are split by proof script over
    that many worker processes (one BLAS thread each; the largest groups first), so a 2-core
    machine checks the ledger in about half the time; the results are the same, since every
    claim draws its instances from ``seed`` alone.  A claim that is not the registered one
    (a test that swapped a claim in) runs in this process, where the swap is visible.
    ``progress(claim_id)`` is called as each claim finishes."""
    seed, instances, jobs = nonnegative_int("seed", seed), positive_int("instances", instances), positive_int("jobs", jobs)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be None or a callable; got {type(progress).__name__}")
    if isinstance(claims, (str, bytes)) or not hasattr(claims, "__iter__"):
        raise ValueError(f"claims must be a list of Claim objects; got {type(claims).__name__}")
    claims = list(claims)
    for c in claims:
        if not isinstance(c, Claim):
            raise ValueError(f"claims must hold Claim objects (see claims.get); got {type(c).__name__}")
    tell = progress or (lambda claim_id: None)
    registered = {c.id: c for c in collect_claims()}
    remote: dict[str, list[int]] = {}                    # proof -> positions in claims
    local = []
    for i, c in enumerate(claims):
        if jobs > 1 and registered.get(c.id) is c:
            remote.setdefault(c.proof, []).append(i)
        else:
            local.append(i)
    if len(remote) < 2:                                  # one group: no gain from a worker
        local, remote = sorted(local + [i for group in remote.values() for i in group]), {}
    results: list = [None] * len(claims)
    if remote:
        from .core._workers import worker_pool
        groups = sorted(remote.values(), key=len, reverse=True)
        with worker_pool(min(jobs, len(groups))) as pool:
            futures = [(group, pool.submit(_check_group, [claims[i].id for i in group], seed, instances))
                       for group in groups]
            for group, future in futures:
                for i, fields in zip(group, future.result()):
                    results[i] = CheckResult(claims[i], *fields)
                    tell(claims[i].id)
    cache: dict = {}
    for i in local:
        results[i] = run_check(claims[i], seed=seed, instances=instances, proof_cache=cache)
        tell(claims[i].id)
    return results
