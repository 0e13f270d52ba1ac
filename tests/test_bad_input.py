"""Bad input everywhere: every public callable answers bad arguments with a ValueError
that names the argument — never a TypeError, AttributeError, IndexError or a numpy error
from deep inside, never a silent NaN — and accepts lists where it accepts arrays.

The table has one row per public callable (every callable that a module of ``theory``
defines and lists in its ``__all__``, plus the optimizers' ``step`` and the result methods),
named where it is defined (``theory.gd_step.lsa.lsa_forward``).  The rows live beside each
package's tests: ``tests/<topic>/bad_input.py`` for every topic of ``theory.TOPICS`` (read
from the registry, so a new topic brings its own), ``tests/core/bad_input.py``,
``tests/coursework/bad_input.py``, and the top-level names below.  The kinds of argument and
what each must do are in ``tests/bad_input_kinds.py``.

A new public callable without a row fails :func:`test_every_public_callable_has_a_row` (and
a row outside its package's file fails :func:`test_each_row_lives_with_its_package`); a new
argument without a kind fails :func:`test_every_argument_has_a_kind`.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import tempfile

import numpy as np
import pytest

import theory
from theory import claims
from theory.core._validate import Diverged, first_nonfinite
from tests.bad_input_kinds import COUNT, FAIL, MAY, PASS, SIZE, Choice, Custom, Flag, Obj, Spec

# Every public module of the package: private ones (``core._validate``: the checks
# themselves; ``core._workers``; ``__main__``) and the students' exercise files are not API.
MODULES = sorted(m.name for m in pkgutil.walk_packages(theory.__path__, "theory.")
                 if not any(part.startswith("_") for part in m.name.split("."))
                 and not m.name.startswith("theory.coursework.exercises")) + ["theory"]
# The packages whose rows live in a test folder of their own: tests/<package>/bad_input.py.
PACKAGES = ("core", "coursework", *theory.TOPICS)

TOP = [
    Spec("theory.draw_all", theory.draw_all, lambda: dict(records_dir=tempfile.mkdtemp(), pdf=False),
         dict(records_dir=Custom(must_fail=("/nonexistent/dir",)), pdf=Flag()), run_good=False),
    Spec("theory.drawer_for", theory.drawer_for, lambda: dict(record_name="gd-step"),
         dict(record_name=Custom(must_fail=(3, ""), with_none=True))),
    Spec("theory.claims.topics", claims.topics, lambda: {}),
    Spec("theory.claims.collect_claims", claims.collect_claims, lambda: {}),
    Spec("theory.claims.get", claims.get, lambda: dict(claim_id="dai-icl-split"), dict(claim_id=Custom(must_fail=("nope", 3)))),
    Spec("theory.claims.proof_modules", claims.proof_modules, lambda: {}),
    Spec("theory.claims.run_proof", claims.run_proof, lambda: dict(name="dual_form", verbose=False),
         dict(name=Choice(), verbose=Flag())),
    Spec("theory.claims.run_check", claims.run_check,
         lambda: dict(claim=claims.get("dai-icl-split"), seed=0, instances=2, proof_cache={}),
         dict(claim=Obj(), seed=COUNT, instances=SIZE,
              proof_cache=Custom(must_fail=("abc", 3), must_pass=(None,), with_none=False))),
    Spec("theory.claims.check_claims", claims.check_claims,
         lambda: dict(claims=[claims.get("dai-icl-split")], seed=0, instances=2, jobs=1, progress=None),
         dict(claims=Custom(must_fail=(["dai-icl-split"], [3])), seed=COUNT, instances=SIZE, jobs=SIZE,
              progress=Custom(must_fail=("abc", 3), must_pass=(None, print), with_none=False))),
]


def _package(name: str) -> str:
    """The package a row's name belongs to: ``core``, ``coursework``, a topic, or ``top``."""
    parts = name.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in PACKAGES else "top"


def _rows() -> dict:
    """The rows of each package's ``bad_input.py``, and the top-level ones."""
    rows = {"top": TOP}
    for package in PACKAGES:
        try:
            module = importlib.import_module(f"tests.{package}.bad_input")
        except ModuleNotFoundError as err:
            raise AssertionError(f"tests/{package}/bad_input.py is missing: every package of theory has its "
                                 f"bad-input rows there ({err})") from None
        rows[package] = module.SPECS
    return rows


ROWS = _rows()
SPECS = [s for rows in ROWS.values() for s in rows]
SPEC_BY_NAME = {s.name: s for s in SPECS}
# Result records and caches: built by the library and read by the user; no function takes
# them whole except where a row checks the type (TrainResult, GDReproResult, ...).  Each
# package's bad_input.py lists its own (RESULT_RECORDS).
RESULT_RECORDS = {"theory.claims.CheckResult"} | {
    name for package in PACKAGES for name in getattr(importlib.import_module(f"tests.{package}.bad_input"),
                                                     "RESULT_RECORDS", set())}


# --------------------------------------------------------------------------- the checks
def _names_arg(arg: str, message: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(arg)}(?![A-Za-z0-9_])", message) is not None


def _outcome(spec: Spec, kwargs: dict):
    try:
        with np.errstate(all="ignore"):
            result = spec.call(**kwargs)
    except Diverged as err:
        return "diverged", str(err)
    except ValueError as err:
        return "value error", str(err)
    except Exception as err:                                 # the defect this test is for
        return "other", f"{type(err).__name__}: {err}"
    where = first_nonfinite(result)
    return ("non-finite", where) if where else ("ok", None)


def _problems(spec: Spec) -> list[str]:
    problems = []
    if spec.run_good:
        got, detail = _outcome(spec, spec.good())
        if got != "ok":
            problems.append(f"the good call gave {got}: {detail}")
    for arg, kind in spec.kinds.items():
        for label, value, expect in kind.variants(spec.good()[arg]):
            if expect != FAIL and not spec.run_good:
                continue
            got, detail = _outcome(spec, {**spec.good(), arg: value})
            if expect == FAIL and not (got == "value error" and _names_arg(arg, detail)):
                problems.append(f"{arg} = {label}: expected a ValueError naming {arg!r}; got {got}: {detail}")
            elif expect == MAY and got not in ("ok", "value error", "diverged"):
                problems.append(f"{arg} = {label}: expected a finite result or a ValueError; got {got}: {detail}")
            elif expect == PASS and got != "ok":
                problems.append(f"{arg} = {label}: expected this to work; got {got}: {detail}")
    return problems


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_bad_input_is_refused_by_name(spec):
    problems = _problems(spec)
    assert not problems, f"{spec.name}:\n  " + "\n  ".join(problems)


def _public_callables():
    """``module.name`` of every callable in a module's ``__all__`` that the module defines
    (a topic package's ``__init__`` re-exports its modules' names: they count where defined)."""
    for m in MODULES:
        mod = importlib.import_module(m)
        assert hasattr(mod, "__all__"), f"{m} has no __all__"
        defined = {n for n, v in vars(mod).items() if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                   and v.__module__ == mod.__name__}
        missing = defined - set(mod.__all__)
        assert not missing, f"{m} defines public {sorted(missing)} but leaves them out of __all__"
        for n in mod.__all__:
            v = getattr(mod, n)
            if callable(v) and not inspect.ismodule(v) and getattr(v, "__module__", None) == mod.__name__:
                yield f"{m}.{n}"


def _resolve(name: str):
    """A row's name -> (the module that defines it, ["function"] or ["Class", "method"])."""
    parts = name.split(".")
    for k in range(len(parts) - 1, 0, -1):
        try:
            return importlib.import_module(".".join(parts[:k])), parts[k:]
        except ModuleNotFoundError:
            continue
    raise AssertionError(f"{name}: no module of it can be imported")


def test_every_public_callable_has_a_row():
    missing = [n for n in _public_callables() if n not in SPEC_BY_NAME and n not in RESULT_RECORDS]
    assert not missing, f"public callables with no bad-input row: {missing}"


def test_each_row_calls_what_it_names():
    """A row whose call is a function or a class is named after it (not after a namesake
    in another module)."""
    wrong = [(s.name, f"{s.call.__module__}.{s.call.__qualname__}") for s in SPECS
             if (inspect.isfunction(s.call) or inspect.isclass(s.call)) and s.call.__name__ != "<lambda>"
             and f"{s.call.__module__}.{s.call.__qualname__}" != s.name]
    assert not wrong, f"rows whose call is not what they name (row, call): {wrong}"


def test_each_row_lives_with_its_package():
    """A topic's rows are in its own test folder, so that adding a topic edits no shared table."""
    misplaced = [(where, s.name) for where, rows in ROWS.items() for s in rows if _package(s.name) != where]
    assert not misplaced, f"rows in the wrong file (file, row): {misplaced}"


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_argument_has_a_kind(spec):
    module, attrs = _resolve(spec.name)
    if len(attrs) == 2:                                    # methods: the row lists their arguments
        return
    params = inspect.signature(getattr(module, attrs[0])).parameters
    assert set(params) == set(spec.kinds), f"{spec.name}: arguments {sorted(params)}, kinds {sorted(spec.kinds)}"
