"""Exercises with an autograder (coursework kit).

``python -m theory exercises --out DIR [--solutions]`` writes the exercise sources of
``theory/exercises/`` (jupytext percent scripts; open them as notebooks with jupytext)
— the student versions have every block between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` replaced by ``raise NotImplementedError`` (the markers of nbgrader
and otter-grader, so teachers who use those tools can take the sources as they are).
``python -m theory grade FILE`` runs a student's file and grades each function on random
float64 inputs against this package's own implementation: PASS or FAIL, the relative
error of each returned array, and a hint where one applies — not implemented yet, an
exception, a wrong shape (transposed?), a float32 result, a flipped sign, a constant
factor, and for attention the missing term of the softmax Jacobian.
"""
from __future__ import annotations

import os
import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import gd_step
from .core import nn
from .induction import three_param
from .core._validate import nonnegative_int, positive_int
from .core.gradcheck import rel_error

__all__ = ["EXERCISES", "Verdict", "student_version", "write_exercises", "grade", "format_grades"]

SOURCES = Path(__file__).parent / "exercises"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
TOL = 1e-9                                   # float64 round-off of these small computations, with room


@dataclass
class Verdict:
    """The grade of one function: ``passed``, the relative error of each returned array
    (by name), and hints."""
    function: str
    passed: bool
    errors: dict = field(default_factory=dict)
    hints: list = field(default_factory=list)


# --------------------------------------------------------------------------- cases: (inputs, reference outputs)
def _attention_case(rng):
    T, S, d, dv = 3, 5, 4, 2
    Q, K, V = rng.standard_normal((T, d)), rng.standard_normal((S, d)), rng.standard_normal((S, dv))
    dout = rng.standard_normal((T, dv))
    out, cache = nn.softmax_attention_forward(Q, K, V)
    P = cache[5]
    ref = dict(zip(("dQ", "dK", "dV"), nn.softmax_attention_backward(dout, cache)))
    # the common mistake: dS = P ⊙ dP, the rowsum term of the softmax Jacobian left out
    dS = P * (dout @ V.T)
    no_rowsum = dict(dQ=dS @ K, dK=dS.T @ Q, dV=ref["dV"])
    return dict(dout=dout, Q=Q, K=K, V=V), ref, {"the softmax Jacobian's -p (p·dp) term is missing": no_rowsum}


def _lsa_case(rng):
    N, D = 4, 3
    E = rng.standard_normal((N + 1, D))
    W = {k: rng.standard_normal((D, D)) / 2 for k in gd_step.LSA_KEYS}
    dout = rng.standard_normal((N + 1, D))
    out, cache = gd_step.lsa_forward(E[None], W, N)
    dE, g = gd_step.lsa_backward(dout[None], cache)
    ref = dict(dE=dE[0], dW_K=g["W_K"], dW_Q=g["W_Q"], dW_V=g["W_V"], dP=g["P"])
    return dict(dout=dout, E=E, W=W, N=N), ref, {}


def _three_param_case(rng):
    N = int(rng.integers(2, 9))
    L = N + int(rng.integers(0, 20))
    theta = rng.uniform(-2, 2, 3)
    return dict(theta=theta, N=N, L=L), dict(gradient=three_param.three_param_loss(theta, N, L)[1]), {}


def _gd_case(rng):
    d, N, eta = 3, 5, float(rng.uniform(0.2, 2.0))
    X, Y, xq = rng.standard_normal((1, N, d)), rng.standard_normal((1, N, 1)), rng.standard_normal((1, d))
    return dict(d=d, N=N, eta=eta, X=X, Y=Y, xq=xq), \
        dict(prediction=gd_step.gd_predict(X, Y, xq, eta)[0][0]), {}


# --------------------------------------------------------------------------- how each function is called
def _call_attention(ns, case):
    out, cache = ns["attention_forward"](case["Q"], case["K"], case["V"])
    return dict(zip(("dQ", "dK", "dV"), ns["attention_backward"](case["dout"], cache)))


def _call_lsa(ns, case):
    W = case["W"]
    _, cache = ns["lsa_forward"](case["E"], W["W_K"], W["W_Q"], W["W_V"], W["P"], case["N"])
    return dict(zip(("dE", "dW_K", "dW_Q", "dW_V", "dP"), ns["lsa_backward"](case["dout"], cache)))


def _call_three_param(ns, case):
    return dict(gradient=ns["three_param_gradient"](case["theta"], case["N"], case["L"]))


def _call_gd(ns, case):
    """The student's weights in *our* LSA layer: the query's y-slot must be -ŷ_GD."""
    W_K, W_Q, W_V, P = ns["gd_construction"](case["d"], case["N"], case["eta"])
    params = dict(W_K=W_K, W_Q=W_Q, W_V=W_V, P=P)
    E = gd_step.tokens(case["X"], case["Y"], case["xq"])
    for k, v in params.items():
        if np.shape(v) != E.shape[2:] * 2:
            raise ValueError(f"{k} must be ({E.shape[2]}, {E.shape[2]}); got shape {np.shape(v)}")
    out, _ = gd_step.lsa_forward(E, {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}, case["N"])
    prediction = -out[0, -1, case["d"]:]
    return dict(prediction=prediction.astype(np.result_type(*params.values())))


@dataclass(frozen=True)
class _Exercise:
    function: str                                # the function the student writes
    case: Callable                               # rng -> (inputs, reference outputs, {mistake: outputs})
    call: Callable                               # (student namespace, inputs) -> outputs by name


EXERCISES = {
    "attention_backward": _Exercise("attention_backward", _attention_case, _call_attention),
    "lsa_backward": _Exercise("lsa_backward", _lsa_case, _call_lsa),
    "gd_construction": _Exercise("gd_construction", _gd_case, _call_gd),
    "three_param_gradient": _Exercise("three_param_gradient", _three_param_case, _call_three_param),
}


# --------------------------------------------------------------------------- writing the exercises
def student_version(source: str) -> str:
    """``source`` with every solution block replaced by ``raise NotImplementedError``
    (indented like the BEGIN marker); ValueError if the markers do not pair up."""
    if not isinstance(source, str):
        raise ValueError(f"source must be the text of an exercise; got {type(source).__name__}")
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"source has a {BEGIN} inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError")
        elif stripped == END:
            if not inside:
                raise ValueError(f"source has an {END} without its {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"source has a {BEGIN} without its {END}")
    return "\n".join(out) + "\n"


def write_exercises(out_dir, *, solutions: bool = False) -> list:
    """Write every exercise to ``out_dir`` (student versions unless ``solutions``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in EXERCISES:
        source = (SOURCES / f"{name}.py").read_text(encoding="utf-8")
        path = out / f"{name}.py"
        path.write_text(source if solutions else student_version(source), encoding="utf-8")
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- grading
def _exercise_of(path: Path) -> str:
    if path.stem in EXERCISES:
        return path.stem
    text = path.read_text(encoding="utf-8")
    found = [name for name, ex in EXERCISES.items() if re.search(rf"^def {ex.function}\(", text, re.M)]
    if len(found) != 1:
        raise ValueError(f"path {path} is not one of the exercises ({', '.join(EXERCISES)}): name the file after "
                         "its exercise or keep the function it asks for")
    return found[0]


def _hints(got, ref, name: str) -> list:
    """Why ``got`` (one returned array) differs from ``ref``."""
    a = np.asarray(got)
    if a.dtype.kind == "f" and a.dtype != np.float64:
        return [f"{name} is {a.dtype}: compute in float64 (its round-off alone is ~1e-7 relative)"]
    if a.shape != ref.shape:
        if a.T.shape == ref.shape and a.ndim == 2:
            return [f"{name} has shape {a.shape}, expected {ref.shape}: transposed?"]
        return [f"{name} has shape {a.shape}, expected {ref.shape}"]
    hints = []
    if rel_error(-a, ref) < TOL:
        hints.append(f"{name} has the right size but the wrong sign")
    elif np.all(ref != 0) and np.ptp(a / ref) < 1e-9 * max(1.0, abs(float(np.mean(a / ref)))):
        hints.append(f"{name} is off by a constant factor {float(np.mean(a / ref)):.4g}")
    return hints


def grade(path, *, seed: int = 0, cases: int = 3) -> list:
    """Grade a student's exercise file: one :class:`Verdict` per function."""
    if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
        raise ValueError(f"path must be an exercise file; got {path!r}")
    seed, cases = nonnegative_int("seed", seed), positive_int("cases", cases)
    path = Path(path)
    ex = EXERCISES[_exercise_of(path)]
    try:
        ns = runpy.run_path(str(path))
    except Exception as err:                        # the student's file itself fails
        return [Verdict(ex.function, False, hints=[f"the file does not run: {type(err).__name__}: {err}"])]
    if ex.function not in ns:
        return [Verdict(ex.function, False, hints=[f"no function {ex.function} in the file"])]
    rng = np.random.default_rng(seed)
    verdict = Verdict(ex.function, True)
    for _ in range(cases):
        case, ref, mistakes = ex.case(rng)
        try:
            with np.errstate(all="ignore"):
                got = ex.call(ns, case)
        except NotImplementedError:
            return [Verdict(ex.function, False, hints=["not implemented yet (the solution block raises "
                                                       "NotImplementedError)"])]
        except Exception as err:
            return [Verdict(ex.function, False, hints=[f"raised {type(err).__name__}: {err}"])]
        for name, r in ref.items():
            r = np.asarray(r, dtype=np.float64)
            g = got.get(name)
            a = np.asarray(g) if g is not None else None
            if a is None or a.dtype.kind not in "fi" or a.shape != r.shape or not np.all(np.isfinite(a)):
                err_ = float("nan")
            else:
                err_ = rel_error(a.astype(np.float64), r)
            verdict.errors[name] = max(verdict.errors.get(name, 0.0), err_) if err_ == err_ else err_
            if not err_ <= TOL or (a is not None and a.dtype.kind == "f" and a.dtype != np.float64):
                verdict.passed = False
                if a is None:
                    verdict.hints.append(f"{name} is missing from what the function returns")
                else:
                    verdict.hints += [h for h in _hints(a, r, name) if h not in verdict.hints]
        if not verdict.passed:
            for mistake, outputs in mistakes.items():
                if all(rel_error(np.asarray(got[k], dtype=np.float64), np.asarray(v)) < 1e-9
                       for k, v in outputs.items() if k in got and np.shape(got[k]) == np.shape(v)):
                    verdict.hints.append(mistake)
            break
    return [verdict]


def format_grades(path, verdicts: list) -> str:
    lines = [f"{path}:"]
    for v in verdicts:
        errors = ", ".join(f"{k} {e:.1e}" for k, e in v.errors.items())
        lines.append(f"  {v.function}: {'PASS' if v.passed else 'FAIL'}" + (f"  (relative error: {errors})"
                                                                            if errors else ""))
        lines += [f"    hint: {h}" for h in v.hints]
    return "\n".join(lines)
