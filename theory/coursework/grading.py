"""The autograder: a student's file runs in a child process, the verdict is made here.

``python -m theory grade FILE`` (:func:`grade`) draws several cases at random sizes from a
seed it prints, computes the reference answers with this package's own code, and runs the
student's ``.py`` file or notebook in a separate Python process with a wall-clock limit
(:mod:`theory.coursework.sandbox`).  That process sees only the inputs; it sends back what
the student's function returned.  Here each returned array is compared with the reference
(relative error, tolerance :data:`TOL`) and, where a test shows the cause, a hint is given:
not implemented yet, an exception (with its line), a missing ``return``, the wrong number or
order of outputs, a dict, a non-array, a transposed or misshapen array, a size written into
the code, all zeros, NaN, float32, a flipped sign, a constant factor, an answer close to but
not at float64 round-off, and each exercise's typical wrong derivation.  A file that loops,
exits, crashes or prints fails with the reason; it never passes by an exit status.

What the grader does not judge (and the checks a teacher can switch on for it): an answer
that is right by a route the exercise did not ask for — a finite-difference gradient
accurate to 1e-9 (``forward_once=True``: the forward function may be called once a case),
or a call of this package's own backward (``no_theory=True``: ``import theory`` is refused
in the child).  The child is a separate process of the same user, not a security sandbox.

:func:`check_answer` is the same comparison run in the caller's process, for the test cells
of the nbgrader notebooks (nbgrader runs each notebook in its own kernel).
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core._validate import finite_scalar, flag, nonnegative_int, positive_int
from ..core.gradcheck import low_precision, rel_error
from . import sandbox
from .cases import EXERCISES
from .notebooks import read_code

__all__ = ["TOL", "TIMEOUT", "MEMORY", "Verdict", "Report", "exercise_of", "grade", "check_answer", "format_report",
           "report_json"]

TOL = 1e-9               # float64 round-off of these small computations, with room
CLOSE = 1e-4             # "close": float32 somewhere, or a finite-difference gradient
TIMEOUT = 60.0           # seconds a file may run (every case together)
MAX_TIMEOUT = 86400.0
MEMORY = 4 * 2 ** 30     # bytes of address space the child may use (POSIX)
OUTPUT = 64 * 2 ** 20    # bytes the child may write (what the student's code prints, mostly)
SANDBOX = Path(sandbox.__file__)


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


# --------------------------------------------------------------------------- which exercise
def exercise_of(path, code: str | None = None) -> str:
    """The exercise a file answers: its name (``attention_backward.py``/``.ipynb``), or
    else the one exercise whose function the file defines."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path; got {type(path).__name__}")
    path = Path(path)
    if path.stem in EXERCISES:
        return path.stem
    code = read_code(path)[0] if code is None else code
    found = [name for name, ex in EXERCISES.items() if f"def {ex.function}(" in code]
    if len(found) != 1:
        raise ValueError(f"path {path} is not one of the exercises ({', '.join(EXERCISES)}): name the file after "
                         "its exercise or keep the function it asks for")
    return found[0]


# --------------------------------------------------------------------------- comparing one case
def _returned(ex, desc: dict, arrays: list) -> tuple:
    """What the function returned, by output name (None where an output is not an array),
    and the problems with its form."""
    want = ", ".join(ex.outputs)
    shape = f"the tuple ({want}), in this order" if not ex.single else "one array"
    kind = desc["kind"]
    if kind == "none":
        return {}, [f"{ex.function} returns None: is the `return` line missing?"]
    if kind == "dict":
        return {}, [f"{ex.function} returns a dict (keys {', '.join(desc['keys'])}); return {shape}"]
    if kind == "one":
        return {}, [f"{ex.function} returns one {desc['item']['kind']}, expected {len(ex.outputs)} values: "
                    f"return {shape}"]
    items = [desc["item"]] if kind == "single" else desc["items"]
    if len(items) != len(ex.outputs):
        return {}, [f"{ex.function} returns {len(items)} values, expected {len(ex.outputs)}: return {shape}"]
    got, problems = {}, []
    for name, item, a in zip(ex.outputs, items, arrays):
        if a is None:
            problems.append(f"{name} is a {item['kind']}" + (f" of {item['dtype']}" if "dtype" in item else "")
                            + ", not an array of numbers")
        elif a.dtype.kind == "c":
            problems.append(f"{name} is complex ({a.dtype}): the answer is real")
        elif a.dtype.kind == "b":
            problems.append(f"{name} is an array of booleans")
        else:
            got[name] = a
    return got, problems


def _factor(a, r):
    """c with a = c·r to float64 round-off, else None."""
    rr = float(np.sum(r * r))
    if rr == 0:
        return None
    c = float(np.sum(a * r)) / rr
    return c if rel_error(a, c * r) <= TOL else None


def _judge(name: str, a, ref: dict) -> tuple:
    """(relative error or None, hints, factor or None, shape right?) of one returned array."""
    r = ref[name]
    hints = []
    if a.dtype.kind in "iu":
        hints.append(f"{name} is an integer array ({a.dtype}): the answer is not whole numbers")
    if a.shape != r.shape:
        if np.all(np.isfinite(a)):
            others = [o for o in ref if o != name and ref[o].shape == a.shape
                      and rel_error(a.astype(np.float64), ref[o]) <= TOL]
            if others:
                return None, [f"{name} holds what {others[0]} should be: outputs in the wrong order?"], None, False
        if a.ndim == 2 and a.shape == r.shape[::-1]:
            if np.all(np.isfinite(a)) and rel_error(a.astype(np.float64), r.T) <= CLOSE:
                return None, [f"{name} is the transpose of the answer ({a.shape}, expected {r.shape})"], None, False
            return None, [f"{name} has shape {a.shape}, expected {r.shape}: transposed?"], None, False
        if a.size == r.size and np.squeeze(a).shape == np.squeeze(r).shape:
            return None, [f"{name} has shape {a.shape}, expected {r.shape}: an extra or missing axis of "
                          "length 1"], None, False
        return None, [f"{name} has shape {a.shape}, expected {r.shape}"], None, False
    if not np.all(np.isfinite(a)):
        bad = "NaN" if np.any(np.isnan(a)) else "inf"
        return None, [f"{name} contains {bad} (an overflow, a division by zero, or a log of 0?)"], None, True
    x = a.astype(np.float64)
    err = rel_error(x, r)
    low = low_precision(name, a)                     # the rule and the words of check_gradients
    if low:
        hints.append(low)
    factor = None
    if err > TOL and not (low and err <= CLOSE):
        others = [o for o in ref if o != name and ref[o].shape == r.shape and rel_error(x, ref[o]) <= TOL]
        if not np.any(x):
            hints.append(f"{name} is all zeros")
        elif rel_error(-x, r) <= TOL:
            hints.append(f"{name} has the right size but the wrong sign")
        elif x.ndim == 2 and x.shape[0] == x.shape[1] and rel_error(x, r.T) <= TOL:
            hints.append(f"{name} is the transpose of the answer (square, so the shape cannot tell)")
        elif others:
            hints.append(f"{name} holds what {others[0]} should be: outputs in the wrong order?")
        elif (factor := _factor(x, r)) is not None:
            hints.append(f"{name} is off by a constant factor {factor:.4g}")
        elif err <= CLOSE:
            hints.append(f"{name} is close (relative error {err:.1e}) but not to float64 round-off "
                         f"({TOL:g}): float32 somewhere inside, or a finite-difference approximation?")
    return err, hints, factor, True


def _compare(ex, desc: dict, arrays: list, case: dict, ref: dict, mistakes: dict) -> tuple:
    """One case: (passed, {graded name: error or None}, hints, {graded name: factor},
    {graded name: shape right?})."""
    ref = {k: np.asarray(v, dtype=np.float64) for k, v in ref.items()}
    got, hints = _returned(ex, desc, arrays)
    if ex.post is not None and not hints:
        try:
            got = ex.post(got, case)
        except ValueError as err:
            got, hints = {}, [str(err)]
    errors, factors, shapes = {}, {}, {}
    for name in ex.graded_names:
        if name not in got:
            errors[name] = None
            continue
        errors[name], h, factors[name], shapes[name] = _judge(name, got[name], ref)
        hints += h
    passed = not hints and all(e is not None and e <= TOL for e in errors.values())
    if not passed:
        for hint, outputs in mistakes.items():
            if all(k in got and got[k].shape == np.shape(v) and np.all(np.isfinite(got[k]))
                   and rel_error(got[k].astype(np.float64), np.asarray(v)) <= TOL for k, v in outputs.items()):
                hints.append(hint)
    return passed, errors, hints, factors, shapes


def _merge(verdict: Verdict, errors: dict, hints: list) -> None:
    for name, e in errors.items():
        old = verdict.errors.get(name, 0.0)
        verdict.errors[name] = None if e is None or old is None else max(old, e)
    verdict.hints += [h for h in hints if h not in verdict.hints]


def _across_cases(verdict: Verdict, factors: list, shapes_ok: list, sizes: list) -> None:
    """Hints only the cases together show: a factor that changes from case to case (equal
    to a size, its inverse, or a size over a constant — a size written into the code), a
    shape right in some cases and wrong in others."""
    for name in {k for f in factors for k in f}:
        seen = [(f[name], s) for f, s in zip(factors, sizes) if f.get(name) is not None]
        values = [c for c, _ in seen]
        if len(seen) < 2 or np.ptp(values) <= 1e-6 * max(abs(c) for c in values):
            continue
        verdict.hints = [h for h in verdict.hints if not h.startswith(f"{name} is off by a constant factor")]
        listed = ", ".join(f"{c:.4g}" for c in values)
        why = "a size written into the code?"
        for size in seen[0][1]:
            n = np.array([s[size] for _, s in seen], dtype=float)
            c = np.array(values)
            if np.allclose(c, n, rtol=1e-6):
                why = f"the factor is {size}: a 1/{size} missing?"
            elif np.allclose(c * n, 1.0, rtol=1e-6):
                why = f"the factor is 1/{size}: a {size} too many?"
            elif np.ptp(c / n) <= 1e-6 * abs(np.mean(c / n)):
                why = f"the factor is {size}/{1 / np.mean(c / n):.4g}: {size} written into the code as a number?"
            else:
                continue
            break
        verdict.hints.append(f"{name} is off by a factor that changes from case to case ({listed}): {why}")
    for name in {k for s in shapes_ok for k in s}:
        oks = [s[name] for s in shapes_ok if name in s]
        if any(oks) and not all(oks):
            verdict.hints.append(f"{name} has the right shape in some cases and not in others: a size written "
                                 "into the code?")


# --------------------------------------------------------------------------- grading a file
def _where(error: dict, code: str) -> str:
    """' at line 12 (`dK = ...`)' or ' in cell 4, line 2 (...)' for an exception's place."""
    if "line" not in error:
        return ""
    lines = code.splitlines()
    text = " ".join(lines[error["line"] - 1].split()) if 1 <= error["line"] <= len(lines) else ""
    place = (f" in cell {error['cell']}, line {error['cell_line']}" if "cell" in error
             else f" at line {error['line']}")
    return place + (f" (`{text[:80]}`)" if text else "")


def _error_hint(error: dict, code: str, when: str) -> str:
    where = _where(error, code)
    if error.get("exit"):
        return (f"the file calls exit() or sys.exit(){where} {when}: a graded file must not end the "
                "program — remove it")
    if error["type"] == "NotImplementedError" and when != "while loading":
        return "not implemented yet (the solution block raises NotImplementedError)"
    if error["type"] == "OSError" and "File too large" in error["message"]:
        return f"the file printed or wrote more than {OUTPUT // 2 ** 20} MB{where} {when} (printing in a loop?)"
    if error["type"] == "MemoryError":
        return (f"raised MemoryError{where} {when}: it asked for more than the {MEMORY // 2 ** 30} GiB the grader "
                "allows (an array far too large?)")
    return f"raised {error['type']}{where} {when}: {error['message']}"


def _limits():
    """The child's resource limits (POSIX): address space and file size."""
    import resource

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        resource.setrlimit(resource.RLIMIT_FSIZE, (OUTPUT, OUTPUT))
    return apply


def _run_child(job: Path, timeout: float) -> tuple:
    """Run the sandbox on ``job``: (return code, or None if it timed out; did the student's
    code start?; the runner's own error output)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONDONTWRITEBYTECODE": "1"}
    posix = os.name == "posix"
    proc = subprocess.Popen([sys.executable, str(SANDBOX), str(job)], cwd=job, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=posix,
                            preexec_fn=_limits() if posix else None)
    try:
        out, err = proc.communicate(timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        code = None
    if posix:
        try:
            os.killpg(proc.pid, signal.SIGKILL)    # the student's own child processes too
        except (ProcessLookupError, PermissionError):
            pass
    else:
        proc.kill()
    if code is None:
        out, err = proc.communicate()
    return code, out.startswith(b"started"), err.decode(errors="replace")


def grade(path, *, seed: int | None = None, cases: int = 3, timeout: float = TIMEOUT, no_theory: bool = False,
          forward_once: bool = False) -> Report:
    """Grade a student's ``.py`` file or ``.ipynb`` notebook (see the module docstring).
    ``seed`` draws the cases (None: a fresh one, in the report); ``cases`` of them, each
    a different size; ``timeout`` seconds for the whole file; ``no_theory`` refuses
    ``import theory`` in the student's code; ``forward_once`` fails a function that calls
    the exercise's forward function more than once a case (a finite-difference gradient).
    Raises ValueError for a missing file or one that is no exercise, RuntimeError when the
    grader itself cannot run (never for anything the student's code does)."""
    code, line_map = read_code(path)
    seed = secrets.randbelow(2 ** 32) if seed is None else nonnegative_int("seed", seed)
    cases = positive_int("cases", cases)
    timeout = finite_scalar("timeout", timeout, positive=True)
    if timeout > MAX_TIMEOUT:
        raise ValueError(f"timeout must be at most {MAX_TIMEOUT:g} s (a day); got {timeout:g}")
    no_theory, forward_once = flag("no_theory", no_theory), flag("forward_once", forward_once)
    ex = EXERCISES[exercise_of(path, code)]
    drawn = ex.draw(np.random.default_rng(seed), cases)
    report = Report(str(path), ex.name, seed, cases, [Verdict(ex.function, False)])
    verdict = report.verdicts[0]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="icl-theory-grade-") as tmp:
        job = Path(tmp)
        (job / "job.json").write_text(json.dumps(dict(
            code=code, filename=str(Path(path).name), line_map=line_map, plan=ex.plan, single=ex.single,
            cases=cases, count=[ex.forward] if forward_once and ex.forward else [],
            refuse=["theory", "proofs"] if no_theory else [])), encoding="utf-8")
        np.savez(job / "inputs.npz", **{f"{i}/{k}": np.asarray(v) for i, (inputs, _, _) in enumerate(drawn)
                                        for k, v in inputs.items()})
        code_, started, err = _run_child(job, timeout)
        report.seconds = time.perf_counter() - start
        output = job / "output.txt"
        report.printed_lines = len(output.read_bytes().splitlines()) if output.is_file() else 0
        result_path = job / "result.json"
        if code_ is None:
            verdict.hints.append(f"did not finish within {timeout:g} s (--timeout): an endless loop, a sleep, or "
                                 "a solution far slower than it needs to be")
            return report
        if not started:                            # the runner died before the student's code ran
            raise RuntimeError(f"the grader could not start its child process (exit status {code_}): "
                               f"{err.strip()[-600:]}")
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
            with np.load(job / "outputs.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            if not isinstance(result, dict) or not isinstance(result.get("cases"), list):
                raise ValueError("malformed")
        except (OSError, ValueError, KeyError):
            if code_ < 0:
                name = signal.Signals(-code_).name if -code_ in signal.Signals._value2member_map_ else -code_
                why = {"SIGXFSZ": f": it wrote more than {OUTPUT // 2 ** 20} MB (printing in a loop?)",
                       "SIGSEGV": ": a crash in compiled code (ctypes?)"}.get(str(name), "")
                verdict.hints.append(f"the grading process was killed by {name} while running the file{why}")
            else:
                verdict.hints.append(f"the file ended the grading process (exit status {code_}) before its "
                                     "functions returned: os._exit()? a crash?")
            return report
    return _verdict_from(report, ex, result, arrays, drawn, code, no_theory, forward_once)


def _verdict_from(report: Report, ex, result: dict, arrays: dict, drawn: list, code: str, no_theory: bool,
                  forward_once: bool) -> Report:
    verdict = report.verdicts[0]
    if result.get("load"):
        error = result["load"]
        hint = _error_hint(error, code, "while loading")
        verdict.hints.append(hint if not hint.startswith("raised ")
                             else f"the file does not run: {error['type']}{_where(error, code)}: {error['message']}")
        return report
    if result.get("missing"):
        verdict.hints.append(f"no function {', '.join(result['missing'])} in the file")
        return report
    if no_theory and result.get("imported"):
        verdict.hints.append(f"the file imports {', '.join(result['imported'])}, which this grading refuses "
                             "(--no-theory): write the computation yourself")
    factors, shapes_ok, sizes, all_passed = [], [], [], not verdict.hints
    for i, entry in enumerate(result["cases"][: report.cases]):
        inputs, ref, mistakes = drawn[i]
        if "error" in entry:
            error = entry["error"]
            verdict.hints.append(_error_hint(error, code, f"in case {i + 1}"))
            all_passed = False
            break
        calls = entry.get("calls", {}).get(ex.forward, 0)
        if forward_once and calls > 1:
            verdict.hints.append(f"{ex.function} called {ex.forward} {calls} times in case {i + 1} (this grading "
                                 "allows once: --forward-once): a finite-difference gradient?")
            all_passed = False
        got = [arrays.get(f"{i}/{j}") for j in range(len(entry["value"].get("items", [None])))]
        passed, errors, hints, fac, shapes = _compare(ex, entry["value"], got, inputs, ref, mistakes)
        _merge(verdict, errors, hints)
        factors.append(fac)
        shapes_ok.append(shapes)
        sizes.append({k: inputs[k] for k in ex.sizes})
        all_passed &= passed
    else:
        if len(result["cases"]) < report.cases:
            verdict.hints.append("the grading process answered fewer cases than it was given")
    _across_cases(verdict, factors, shapes_ok, sizes)
    verdict.passed = all_passed and not verdict.hints
    return report


# --------------------------------------------------------------------------- nbgrader test cells
def check_answer(exercise: str, output: str, namespace: dict, *, seed: int = 0, cases: int = 3) -> None:
    """Raise AssertionError (with the grader's hints) unless the function that ``namespace``
    defines for ``exercise`` gets ``output`` right in ``cases`` random cases — the test
    cell of the nbgrader notebooks (``check_answer("attention_backward", "dK", globals())``).
    It runs in the caller's process; :func:`grade` is the isolated grader."""
    if exercise not in EXERCISES:
        raise ValueError(f"exercise must be one of {', '.join(EXERCISES)}; got {exercise!r:.60}")
    ex = EXERCISES[exercise]
    if output not in ex.graded_names:
        raise ValueError(f"output must be one of {', '.join(ex.graded_names)}; got {output!r:.60}")
    if not isinstance(namespace, dict):
        raise ValueError(f"namespace must be a dict (globals()); got {type(namespace).__name__}")
    seed, cases = nonnegative_int("seed", seed), positive_int("cases", cases)
    for i, (inputs, ref, mistakes) in enumerate(ex.draw(np.random.default_rng(seed), cases)):
        value = sandbox._run_case(namespace, ex.plan, inputs)
        desc, arrays = sandbox._describe(value, ex.single)
        _, errors, hints, _, _ = _compare(ex, desc, arrays, inputs, ref, mistakes)
        own = [h for h in hints if h.startswith(output + " ")]
        general = [h for h in hints if not any(h.startswith(n + " ") for n in ex.graded_names)]
        e = errors.get(output)
        if e is None or e > TOL or own:
            shown = "not comparable" if e is None else f"relative error {e:.1e}"
            raise AssertionError(f"{output} is wrong in case {i + 1} ({shown}; tolerance {TOL:g})"
                                 + "".join(f"\n  hint: {h}" for h in own + general))


# --------------------------------------------------------------------------- reports
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
