"""Diagnosis: one returned answer against the reference, and the hints a test shows.

For each case the grader (:mod:`theory.coursework.grading`) has what the student's function
returned — described by the sandbox, arrays sent back — and the reference computed with this
package's code.  :func:`_compare` judges one case: the form of the return (a missing
``return``, a dict, the wrong number or order of outputs, a non-array), then each array
(relative error against :data:`TOL`; a transposed or misshapen array, all zeros, NaN,
float32, a flipped sign, a constant factor, an answer close to but not at round-off), then
the exercise's typical wrong derivations.  :func:`_across_cases` adds what only the cases
together show: a factor or a shape that changes with the case's size (a size written into
the code).

:func:`check_answer` runs the same diagnosis in the caller's process, for the test cells of
the nbgrader notebooks (nbgrader runs each notebook in its own kernel).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import nonnegative_int, positive_int
from ..core.gradcheck import low_precision, rel_error
from . import sandbox
from .cases import EXERCISES

__all__ = ["TOL", "CLOSE", "check_answer"]

TOL = 1e-9               # float64 round-off of these small computations, with room
CLOSE = 1e-4             # "close": float32 somewhere, or a finite-difference gradient


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


def _merge(verdict, errors: dict, hints: list) -> None:
    """Fold one case's errors (the worst so far per output) and hints into ``verdict``, the
    :class:`~theory.coursework.report.Verdict` being built (not imported: the report module
    imports :data:`TOL` from here)."""
    for name, e in errors.items():
        old = verdict.errors.get(name, 0.0)
        verdict.errors[name] = None if e is None or old is None else max(old, e)
    verdict.hints += [h for h in hints if h not in verdict.hints]


def _across_cases(verdict, factors: list, shapes_ok: list, sizes: list) -> None:
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
