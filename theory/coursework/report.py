"""The report of a graded file: a verdict per function, as text and as JSON."""
from __future__ import annotations

from dataclasses import dataclass, field

from .diagnosis import TOL

__all__ = ["Verdict", "Report", "format_report", "report_json"]


@dataclass
class Verdict:
    """The grade of one function: ``passed``; the largest relative error of each graded
    array over the cases (None where an answer could not be compared: a wrong shape, NaN,
    not an array); ``hints``, each a sentence."""
    function: str
    passed: bool
    errors: dict = field(default_factory=dict)
    hints: list = field(default_factory=list)


@dataclass
class Report:
    """One graded file: its ``path``, the ``exercise``, the ``seed`` that drew the cases
    (grade again with it to get the same cases), how many ``cases``, the ``verdicts``, the
    seconds it took and how many lines the student's code printed."""
    path: str
    exercise: str
    seed: int
    cases: int
    verdicts: list
    seconds: float = 0.0
    printed_lines: int = 0

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def _error_text(e) -> str:
    return "—" if e is None else f"{e:.1e}"


def format_report(report: Report) -> str:
    """The report as text: the file, the seed, and per function PASS/FAIL, the relative
    error of each array and the hints."""
    if not isinstance(report, Report):
        raise ValueError(f"report must be a Report (from grade); got {type(report).__name__}")
    lines = [f"{report.path} ({report.exercise}; {report.cases} cases from seed {report.seed} — grade again "
             f"with --seed {report.seed}):"]
    for v in report.verdicts:
        errors = ", ".join(f"{k} {_error_text(e)}" for k, e in v.errors.items())
        lines.append(f"  {v.function}: {'PASS' if v.passed else 'FAIL'}"
                     + (f"  (relative error: {errors}; tolerance {TOL:g})" if errors else ""))
        lines += [f"    hint: {h}" for h in v.hints]
    return "\n".join(lines)


def report_json(report: Report) -> dict:
    """The report as a JSON-ready dict: ``file``, ``exercise``, ``seed``, ``cases``,
    ``passed``, ``seconds``, ``printed_lines`` and ``functions`` (each ``function``,
    ``passed``, ``errors`` — null where not comparable — and ``hints``)."""
    if not isinstance(report, Report):
        raise ValueError(f"report must be a Report (from grade); got {type(report).__name__}")
    return dict(file=report.path, exercise=report.exercise, seed=report.seed, cases=report.cases,
                passed=report.passed, seconds=round(report.seconds, 3), printed_lines=report.printed_lines,
                functions=[dict(function=v.function, passed=v.passed, errors=v.errors, hints=v.hints)
                           for v in report.verdicts])
