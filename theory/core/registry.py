"""What a topic declares to the package: its claims, its reproductions, its figures.

Each topic package (``theory/<topic>/``) ends its ``__init__`` with one :class:`Topic`;
the ledger (``theory/claims.py``) collects the claims of every topic named in
``theory.TOPICS`` and the command line (``theory/__main__.py``) collects the
reproductions and the figure drawers the same way.  So adding a topic touches no
shared file but that one list, and no topic imports the ledger or the command line:
the types they need live here, in the core.

- :class:`Claim` — one checkable statement of a paper: what is verified, the verdict,
  the proof script, the numeric check on one random instance and its tolerance.
- :class:`Reproduction` — one ``python -m theory reproduce NAME``: its extra command-line
  options, a check of them that runs before anything trains, the run that returns a
  run record (``theory.core.records``) and the report rendered from that record.
- :class:`Topic` — the three lists together, with the topics it builds on.

Verdicts of a claim — what the paper's statement is, whatever the check's precision:

- ``exact`` — the statement holds as the paper gives it (an identity, a closed form, a
  theorem, a limit).
- ``approximate`` — the paper's wording is an approximation; the check verifies the
  exact statement we give instead, and ``literal_gap`` measures how far the paper's
  wording is from the truth on the same random instances.
- ``false as stated`` — the paper's wording does not hold; the check verifies the
  corrected form, and ``literal_gap`` shows the wording fails (the gap must be clearly
  non-zero, or the verdict itself would be wrong).
- ``empirical`` — an outcome of training or of simulated dynamics, observed on a quick run;
  its tolerance is a bar on a measured quantity (said in ``tol_note``), not round-off.

How the numeric check measures (``measured_by``, the ledger's "checked by" column) — one
word per method, so that an exact claim compared with a limit at finite size is not shown
like an identity at 1e-12:

- ``round-off`` — both sides evaluated in float64; ``tol`` at most 1e-10.
- ``finite differences`` — a gradient against central differences; ``tol`` at most 1e-6.
- ``integration`` — an ODE integrated numerically; ``tol`` set by the step.
- ``Monte Carlo`` — an expectation estimated by sampling; the bar is in standard errors.
- ``finite size`` — a limit (T → ∞) compared at finite size, by sampling; the error holds
  the finite-size gap as well as the sampling noise.
- ``simulation`` — the dynamics simulated and an order, a sign or an exponent read off.
- ``training run`` — a quick training run; the bar is on what it learned.

Every method but ``round-off`` says its bar in ``tol_note``.  ``measured_by`` may be left
out only where ``tol`` is round-off (at most 1e-10).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ._validate import choice, finite_scalar, flag, function, positive_int

__all__ = ["EXACT", "APPROXIMATE", "FALSE_AS_STATED", "EMPIRICAL", "VERDICTS", "MEASURES", "Claim", "Option", "Reproduction",
           "Topic"]

EXACT, APPROXIMATE, FALSE_AS_STATED, EMPIRICAL = "exact", "approximate", "false as stated", "empirical"
VERDICTS = (EXACT, APPROXIMATE, FALSE_AS_STATED, EMPIRICAL)
ROUND_OFF, FINITE_DIFFERENCES = "round-off", "finite differences"
MEASURES = (ROUND_OFF, FINITE_DIFFERENCES, "integration", "Monte Carlo", "finite size", "simulation", "training run")
_LARGEST_TOL = {ROUND_OFF: 1e-10, FINITE_DIFFERENCES: 1e-6}


def _sequence_of(name: str, values, kind) -> tuple:
    """``values`` as a tuple, each a ``kind``; ValueError naming ``name`` otherwise."""
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, kind) for v in values):
        raise ValueError(f"{name} must be a tuple of {kind.__name__} objects; got {values!r:.80}")
    return tuple(values)


def _nonempty(name: str, value) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string; got {value!r}")
    return value


@dataclass(frozen=True)
class Claim:
    """One claim of the ledger (see the module docstring for the verdicts)."""
    id: str
    paper: str
    statement: str                                  # what is verified, in one line
    verdict: str                                    # EXACT, APPROXIMATE, FALSE_AS_STATED or EMPIRICAL
    proof: str                                      # module name in proofs/
    check: Callable[[np.random.Generator], float]   # relative error on one random instance
    tol: float = 1e-12
    literal_gap: Callable[[np.random.Generator], float] | None = None
    paper_says: str = ""                            # the paper's wording, for non-exact claims
    gap_floor: float = 1e-6                         # a "false as stated" gap must exceed this
    tol_note: str = ""                              # why tol is not round-off, where it is not
    max_instances: int | None = None                # cap for expensive checks (training runs)
    measured_by: str | None = None                  # one of MEASURES; None: round-off (tol <= 1e-10)

    def __post_init__(self):
        for name in ("id", "paper", "statement", "proof"):
            _nonempty(name, getattr(self, name))
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
        if self.measured_by is None:
            if self.tol > _LARGEST_TOL[ROUND_OFF]:
                raise ValueError(f"claim {self.id}: tol {self.tol:g} is not round-off; say how the check measures "
                                 f"(measured_by one of {MEASURES})")
            object.__setattr__(self, "measured_by", ROUND_OFF)
        choice("measured_by", self.measured_by, MEASURES)
        if self.tol > _LARGEST_TOL.get(self.measured_by, np.inf):
            raise ValueError(f"claim {self.id}: a {self.measured_by} check allows at most "
                             f"{_LARGEST_TOL[self.measured_by]:g}; got tol {self.tol:g}")
        if self.measured_by != ROUND_OFF and not self.tol_note:
            raise ValueError(f"claim {self.id}: a {self.measured_by} check says its bar in tol_note")
        if (self.verdict == EMPIRICAL) != (self.measured_by in ("simulation", "training run")):
            raise ValueError(f"claim {self.id}: an empirical claim is measured by a simulation or a training run, "
                             f"and those measure only empirical claims; got {self.verdict!r} by {self.measured_by!r}")


class Option:
    """One extra command-line option of a reproduction: the arguments of
    ``argparse.ArgumentParser.add_argument``, kept until the command line builds its parser.
    ``dest`` is the key under which the run finds the value."""

    def __init__(self, *flags: str, **kwargs):
        if not flags or not all(isinstance(f, str) and f.startswith("--") for f in flags):
            raise ValueError(f"flags must be long options such as '--seeds'; got {flags!r}")
        self.flags, self.kwargs = flags, kwargs
        self.dest = kwargs.get("dest", flags[0][2:].replace("-", "_"))

    def __repr__(self) -> str:
        return f"Option({', '.join(map(repr, self.flags))})"


@dataclass(frozen=True)
class Reproduction:
    """``python -m theory reproduce NAME``.

    ``run(options, executor, progress) -> record``: ``options`` maps ``"quick"`` and every
    :class:`Option`'s ``dest`` to its value; ``executor`` is None or a
    ``concurrent.futures`` executor for the run's jobs; ``progress`` takes a line of text.
    ``report(record) -> str`` renders the text from the record only (after a JSON round
    trip), so the printed report and the saved record cannot disagree.  ``check(options)``
    raises ``ValueError`` for a bad combination before anything trains; ``title(options)``
    is what the command line announces (default: ``summary``).  ``workers``: the run
    takes an executor (``--workers``); ``quick``: it has CI-sized settings (``--quick``)."""
    name: str
    summary: str
    run: Callable
    report: Callable[[dict], str]
    options: tuple = ()
    check: Callable[[dict], None] | None = None
    title: Callable[[dict], str] | None = None
    workers: bool = True
    quick: bool = True

    def __post_init__(self):
        if not isinstance(self.name, str) or not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", self.name):
            raise ValueError(f"name must be lower-case words joined by '-' (e.g. 'gd-step'); got {self.name!r}")
        _nonempty("summary", self.summary)
        function("run", self.run)
        function("report", self.report)
        function("check", self.check, optional=True)
        function("title", self.title, optional=True)
        flag("workers", self.workers)
        flag("quick", self.quick)
        _sequence_of("options", self.options, Option)

    def announce(self, options: dict) -> str:
        return self.summary if self.title is None else self.title(options)


@dataclass(frozen=True)
class Topic:
    """One topic package.  ``name`` is the package's name under ``theory``; ``papers``
    maps each claim-id prefix to the paper it cites (``{"vo": "von Oswald et al. 2023"}``);
    ``figures`` maps a record name, or a pattern such as ``"induction-head-paper-*"``, to
    the drawer of that record; ``requires`` names the topics whose results this one builds
    on (the only topics it may import); ``title`` heads the topic's page in the book (by
    default the papers, joined)."""
    name: str
    papers: dict
    claims: tuple = ()
    reproductions: tuple = ()
    figures: dict = field(default_factory=dict)
    requires: tuple = ()
    title: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(f"name must be the topic package's name; got {self.name!r}")
        if not isinstance(self.papers, dict) or not self.papers or not all(
                isinstance(k, str) and k and isinstance(v, str) and v for k, v in self.papers.items()):
            raise ValueError(f"papers must map claim-id prefixes to papers (non-empty strings); got {self.papers!r}")
        for c in _sequence_of("claims", self.claims, Claim):
            if c.id.split("-")[0] not in self.papers:
                raise ValueError(f"claims: {c.id!r} has a prefix that is not one of the topic's papers {sorted(self.papers)}")
        _sequence_of("reproductions", self.reproductions, Reproduction)
        if not isinstance(self.figures, dict):
            raise ValueError(f"figures must map record names to drawers; got {type(self.figures).__name__}")
        for pattern, draw in self.figures.items():
            if not isinstance(pattern, str) or not pattern or not callable(draw):
                raise ValueError(f"figures must map record names (non-empty strings) to drawers (functions); "
                                 f"got {pattern!r}: {draw!r}")
        for t in _sequence_of("requires", self.requires, str):
            if not t.isidentifier() or t == self.name:
                raise ValueError(f"requires must name other topic packages; got {t!r}")
        if not isinstance(self.title, str):
            raise ValueError(f"title must be a string; got {self.title!r}")

    @property
    def heading(self) -> str:
        """The title of the topic's page: ``title``, or the papers joined."""
        return self.title or "; ".join(dict.fromkeys(self.papers.values()))

    def drawer(self, record_name: str):
        """The drawer of a record with this name, or None: an exact name first, then a pattern."""
        if record_name in self.figures:
            return self.figures[record_name]
        for pattern, draw in self.figures.items():
            if any(ch in pattern for ch in "*?[") and fnmatch.fnmatchcase(record_name, pattern):
                return draw
        return None
