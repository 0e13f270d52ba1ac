"""The autograder: a student's file runs in a child process, the verdict is made here.

``python -m theory grade FILE`` (:func:`grade`) draws several cases at random sizes from a
seed it prints, computes the reference answers with this package's own code, and runs the
student's ``.py`` file or notebook in a separate Python process with a wall-clock limit
(:mod:`theory.coursework.sandbox`).  That process sees only the inputs; it sends back what
the student's function returned.  Here each returned array is compared with the reference
(:mod:`theory.coursework.diagnosis`: relative error, tolerance 1e-9) and, where a test shows the
cause, a hint is given:
not implemented yet, an exception (with its line), a missing ``return``, the wrong number or
order of outputs, a dict, a non-array, a transposed or misshapen array, a size written into
the code, all zeros, NaN, float32, a flipped sign, a constant factor, an answer close to but
not at float64 round-off, and each exercise's typical wrong derivation.  A file that loops,
exits, crashes or prints fails with the reason; it never passes by an exit status.

What the grader does not judge (and the checks a teacher can switch on for it): an answer
that is right by a route the exercise did not ask for — a finite-difference gradient
accurate to 1e-9 (``forward_once=True``: the forward function's code may run once a case,
however it is reached), or a call of this package's own backward (``no_theory=True``: the
child may not open or import any file of the package, whatever the module is called).  The
child is a separate process of the same user, not a security sandbox: what it writes back
is checked here field by field, and a malformed or missing answer is a FAIL with the
reason.  What the switches cannot catch: a file that copies the package's code (a copied
forward differentiated by finite differences), or calls the forward from a thread it
starts.

The verdict goes into a :class:`~theory.coursework.report.Report`
(:mod:`theory.coursework.report`: the text and the JSON).
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
from pathlib import Path

import numpy as np

from ..core._validate import finite_scalar, flag, nonnegative_int, positive_int
from . import sandbox
from .cases import EXERCISES
from .diagnosis import TOL, _across_cases, _compare, _merge
from .notebooks import read_code
from .report import Report, Verdict

__all__ = ["TIMEOUT", "MEMORY", "exercise_of", "grade"]

TIMEOUT = 60.0           # seconds a file may run (every case together)
MAX_TIMEOUT = 86400.0
MEMORY = 4 * 2 ** 30     # bytes of address space the child may use (POSIX)
OUTPUT = 64 * 2 ** 20    # bytes the child may write (what the student's code prints, mostly)
SANDBOX = Path(sandbox.__file__)
PACKAGE_DIRS = [Path(sandbox.__file__).resolve().parents[1]]     # theory/: refused with no_theory
PROOFS = PACKAGE_DIRS[0].parent / "proofs"                         # the proofs, where they sit beside it


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


def _run_child(job: Path, job_text: str, timeout: float) -> tuple:
    """Run a copy of the sandbox in ``job`` (``python -I``), the job on its standard input:
    (return code, or None if it timed out; did the student's code start?; the runner's own
    error output)."""
    runner = job / "runner.py"
    runner.write_text(SANDBOX.read_text(encoding="utf-8"), encoding="utf-8")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    posix = os.name == "posix"
    proc = subprocess.Popen([sys.executable, "-I", "-B", str(runner)], cwd=job, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=posix,
                            preexec_fn=_limits() if posix else None)
    try:
        out, err = proc.communicate(job_text.encode("utf-8"), timeout=timeout)
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


def _ended(code: int | None, timeout: float, printed: int) -> str | None:
    """Why the child did not end as the runner ends it (exit status 0), or None if it did;
    ``printed``: the bytes of the student's output (which file outran the size limit)."""
    if code is None:
        return (f"did not finish within {timeout:g} s (--timeout): an endless loop, a sleep, or a solution far "
                "slower than it needs to be")
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
        big = "printing in a loop?" if printed >= OUTPUT else "answers or a file of its own far too large?"
        why = {"SIGXFSZ": f": it wrote more than {OUTPUT // 2 ** 20} MB to one file ({big})",
               "SIGSEGV": ": a crash in compiled code (ctypes?)"}.get(str(name), "")
        return f"the grading process was killed by {name} while running the file{why}"
    if code > 0:
        return (f"the file ended the grading process (exit status {code}) before its functions returned: "
                "os._exit()? a crash?")
    return None


def _is_error(e) -> bool:
    return (isinstance(e, dict) and isinstance(e.get("type"), str) and isinstance(e.get("message"), str)
            and all(isinstance(e.get(k, 0), int) and not isinstance(e.get(k, 0), bool)
                    for k in ("line", "cell", "cell_line")))


def _is_description(d) -> bool:
    if not isinstance(d, dict) or not isinstance(d.get("kind"), str):
        return False
    items = d.get("items", [])
    return (isinstance(items, list) and all(isinstance(x, dict) and isinstance(x.get("kind"), str) for x in items)
            and (d.get("item") is None or (isinstance(d["item"], dict) and isinstance(d["item"].get("kind"), str)))
            and all(isinstance(k, str) for k in d.get("keys", [])))


def _malformed(result, cases: int, counted: list) -> str | None:
    """Why the child's ``result.json`` cannot be the sandbox's (None if it can): every field
    the verdict reads, checked here — a student's code may have rewritten the file."""
    if not isinstance(result, dict):
        return "not a JSON object"
    if result.get("complete") is not True:
        return "not marked complete"
    if result.get("load") is not None and not _is_error(result["load"]):
        return "a malformed load error"
    if not isinstance(result.get("unwritten", ""), str):
        return "a malformed write error"
    for key in ("missing", "imported"):
        if not isinstance(result.get(key), list) or not all(isinstance(x, str) for x in result[key]):
            return f"no list of names under {key!r}"
    entries = result.get("cases")
    if not isinstance(entries, list) or len(entries) > cases:
        return "no list of at most the cases given"
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or ("error" in e) == ("value" in e):
            return f"case {i + 1} holds neither one value nor one error"
        if "error" in e and not _is_error(e["error"]):
            return f"case {i + 1} holds a malformed error"
        if "value" in e and not _is_description(e["value"]):
            return f"case {i + 1} holds a malformed value"
        calls = e.get("calls")
        if not isinstance(calls, dict) or set(calls) != set(counted) or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in calls.values()):
            return f"case {i + 1} holds malformed call counts"
    return None


def _read_result(job: Path, cases: int, counted: list):
    """``(result, arrays, None)`` from the child's files, or ``(None, None, why)``."""
    if not (job / "result.json").exists():
        return None, None, None
    if not (job / "outputs.npz").exists():
        return None, None, "a result.json without outputs.npz"
    try:
        result = json.loads((job / "result.json").read_text(encoding="utf-8"))
        with np.load(job / "outputs.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, UnicodeDecodeError) as err:
        return None, None, f"unreadable ({type(err).__name__})"
    why = _malformed(result, cases, counted)
    if why is None and not all(isinstance(k, str) and k.count("/") == 1 and isinstance(v, np.ndarray)
                               for k, v in arrays.items()):
        why = "outputs.npz holds something other than the answers"
    return (None, None, why) if why else (result, arrays, None)


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
    counted = [ex.forward] if forward_once and ex.forward else []
    with tempfile.TemporaryDirectory(prefix="icl-theory-grade-") as tmp:
        job = Path(tmp)
        job_text = json.dumps(dict(
            code=code, filename=str(Path(path).name), line_map=line_map, plan=ex.plan, single=ex.single,
            cases=cases, count=counted,
            refuse=[str(d) for d in PACKAGE_DIRS] + ([str(PROOFS)] if PROOFS.is_dir() else []) if no_theory else []))
        np.savez(job / "inputs.npz", **{f"{i}/{k}": np.asarray(v) for i, (inputs, _, _) in enumerate(drawn)
                                        for k, v in inputs.items()})
        code_, started, err = _run_child(job, job_text, timeout)
        report.seconds = time.perf_counter() - start
        output = job / "output.txt"
        printed = output.read_bytes() if output.is_file() else b""
        report.printed_lines = len(printed.splitlines())
        if code_ is not None and not started:      # the runner died before the student's code ran
            raise RuntimeError(f"the grader could not start its child process (exit status {code_}): "
                               f"{err.strip()[-600:]}")
        result, arrays, why = _read_result(job, cases, counted)
        ended = _ended(code_, timeout, len(printed))
        if why:                                    # how the process ended says more, where it did not end well
            verdict.hints.append(f"{ended} (the answers it left are malformed: {why})" if ended else
                                 f"the grading process's answers are malformed ({why}): the file rewrote the "
                                 "grader's result or ended the process while it was being written")
            return report
        if result is None:
            verdict.hints.append(ended or "the file ended the grading process (exit status 0) before its functions "
                                          "returned: os._exit(0)?")
            return report
        leftover = code_ != 0
    try:
        _verdict_from(report, ex, result, arrays, drawn, code, no_theory, forward_once)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as err:     # checked above; never silent
        verdict.hints.append(f"the grading process's answers could not be read ({type(err).__name__}: {err})")
        verdict.passed = False
    if leftover:                                   # a note: the verdict stands on the answers written
        verdict.hints.append("note: the grading process was still running, or was killed, after it wrote its "
                             "answers (the file left a thread or a child process running); they are graded as written")
    return report


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
    if result.get("unwritten"):
        verdict.hints.append(f"its answers were too large to write back (more than {OUTPUT // 2 ** 20} MB: an array "
                             f"far too large?): {result['unwritten']}")
        return report
    if no_theory and result.get("imported"):
        verdict.hints.append(f"the file tried to read or import the package's files ({', '.join(result['imported'][:3])}"
                             f"{', ...' if len(result['imported']) > 3 else ''}), which this grading refuses "
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
    if not verdict.passed and not verdict.hints:
        wrong = [f"{k} (relative error {e:.2g})" for k, e in verdict.errors.items() if e is not None and e > TOL]
        if wrong:
            verdict.hints.append("right shape, wrong values: " + ", ".join(wrong))
    return report
