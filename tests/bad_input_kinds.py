"""The kinds of argument the bad-input table knows, and its row type (``Spec``).

Every public callable of ``theory`` has one row, in the ``bad_input.py`` of the test folder of
the package that defines it (``tests/<topic>/bad_input.py``, ``tests/core/bad_input.py``,
``tests/coursework/bad_input.py``; the top-level names in ``tests/test_bad_input.py``).  A row
names the callable where it is defined, gives a good call and the kind of each argument;
from the kind, ``tests/test_bad_input.py`` derives the bad values to try:

- **must fail** (nan, inf, None, strings, 0 or -1 sizes, wrong rank, empty arrays, ...):
  ``ValueError`` whose message names the argument;
- **may** (huge values 1e200, integer arrays, shapes that may broadcast): a finite result,
  or a ``ValueError``, or — for training — the documented ``FloatingPointError``
  (:class:`theory.core.Diverged`); nothing else;
- **must pass** (lists for arrays, numpy scalars, None where the signature allows it):
  a finite result.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from theory.core import records

__all__ = ["FAIL", "MAY", "PASS", "Kind", "Arr", "SPD", "Labels", "Mask", "Size", "Real", "Rng", "Choice", "Flag", "Func",
           "Executor", "Obj", "Cache", "Params", "IntList", "Str", "Custom", "Unchecked", "Spec", "R", "demo_record",
           "name_of", "A", "AB", "POS", "NONNEG", "REAL", "UNIT", "PROB", "SIZE", "COUNT"]

FAIL, MAY, PASS = "must fail", "may", "must pass"


# --------------------------------------------------------------------------- kinds of argument


@dataclass
class Kind:
    optional: bool = False

    def variants(self, good):
        """(label, value, expectation) triples derived from the good value."""
        out = list(self._variants(good))
        out.append(("None", None, PASS if self.optional else FAIL))
        return out

    def _variants(self, good):
        return []


@dataclass
class Arr(Kind):
    """A float array; ``batch``: leading axes are free (rank changes may be valid)."""
    batch: bool = False
    empty_ok: bool = False

    def _variants(self, good):
        good = np.asarray(good, dtype=float)
        nan, inf = good.copy(), good.copy()
        nan.flat[-1], inf.flat[0] = np.nan, np.inf
        rank = MAY if self.batch else FAIL
        yield from [("nan", nan, FAIL), ("inf", inf, FAIL), ("string", "abc", FAIL), ("dict", {}, FAIL),
                    ("extra axis", good[None], rank), ("huge 1e200", good * 1e200, MAY),
                    ("int array", np.round(good).astype(np.int64), MAY), ("list", good.tolist(), PASS),
                    ("empty", np.empty((0,) + good.shape[1:]), MAY if self.empty_ok else FAIL)]
        if good.ndim:
            yield ("one axis less", good[0], rank)


@dataclass
class SPD(Kind):
    """A symmetric positive definite matrix."""
    def _variants(self, good):
        skew = good + np.triu(np.ones_like(good), 1)
        yield from [("nan", good * np.nan, FAIL), ("not symmetric", skew, FAIL), ("negative definite", -good, FAIL),
                    ("extra axis", good[None], FAIL), ("string", "abc", FAIL), ("list", good.tolist(), PASS)]


@dataclass
class Labels(Kind):
    def _variants(self, good):
        good = np.asarray(good)
        yield from [("floats", good.astype(float), FAIL), ("too large", good + 1000, FAIL),
                    ("negative", good - 1000, FAIL), ("extra axis", good[None], FAIL), ("string", "abc", FAIL),
                    ("list", good.tolist(), PASS)]


@dataclass
class Mask(Kind):
    def _variants(self, good):
        yield from [("floats", good.astype(float), FAIL), ("string", "abc", FAIL), ("number", 3, FAIL),
                    ("wrong shape", good[:, :-1], FAIL), ("list", good.tolist(), PASS)]


@dataclass
class Size(Kind):
    """An integer >= 1 (``zero_ok``: >= 0)."""
    zero_ok: bool = False

    def _variants(self, good):
        yield from [("-1", -1, FAIL), ("2.5", 2.5, FAIL), ("string", "3", FAIL), ("True", True, FAIL),
                    ("nan", float("nan"), FAIL), ("numpy int", np.int64(good), PASS)]
        if not self.zero_ok:
            yield ("0", 0, FAIL)


@dataclass
class Real(Kind):
    """A finite real number, optionally > 0 (``positive``), >= 0, or in [0, 1) / [0, 1]."""
    positive: bool = False
    nonnegative: bool = False
    unit: bool = False              # [0, 1)
    prob: bool = False              # [0, 1]

    def _variants(self, good):
        yield from [("nan", float("nan"), FAIL), ("inf", float("inf"), FAIL), ("-inf", float("-inf"), FAIL),
                    ("string", "0.1", FAIL), ("True", True, FAIL), ("array", np.ones(2), FAIL),
                    ("numpy float", np.float64(good), PASS)]
        if self.positive:
            yield from [("0", 0.0, FAIL), ("-1", -1.0, FAIL)]
        if self.nonnegative:
            yield ("-1", -1.0, FAIL)
        if self.unit:
            yield from [("1", 1.0, FAIL), ("-0.5", -0.5, FAIL)]
        if self.prob:
            yield from [("1.5", 1.5, FAIL), ("-0.1", -0.1, FAIL)]
        if not (self.unit or self.prob):
            yield ("huge 1e200", 1e200, MAY)


@dataclass
class Rng(Kind):
    def _variants(self, good):
        yield from [("string", "x", FAIL), ("-1", -1, FAIL), ("1.5", 1.5, FAIL), ("True", True, FAIL),
                    ("seed", 7, PASS), ("generator", np.random.default_rng(1), PASS)]


@dataclass
class Choice(Kind):
    def _variants(self, good):
        yield from [("unknown", "bogus", FAIL), ("number", 3, FAIL)]


@dataclass
class Flag(Kind):
    def _variants(self, good):
        yield from [("string", "no", FAIL), ("number", 2, FAIL), ("numpy bool", np.bool_(good), PASS)]


@dataclass
class Func(Kind):
    def _variants(self, good):
        yield from [("number", 3, FAIL), ("string", "f", FAIL)]


@dataclass
class Executor(Kind):
    optional: bool = True

    def _variants(self, good):
        yield from [("number", 3, FAIL), ("string", "pool", FAIL)]


@dataclass
class Obj(Kind):
    """An object of a given type (a config, a result, a claim)."""
    def _variants(self, good):
        yield from [("string", "abc", FAIL), ("number", 3, FAIL), ("dict", {}, FAIL)]


@dataclass
class Cache(Kind):
    def _variants(self, good):
        yield from [("string", "abc", FAIL), ("empty tuple", (), FAIL), ("short tuple", (1, 2), FAIL)]


@dataclass
class Params(Kind):
    """A dict of arrays; ``shaped``: the function fixes each array's shape."""
    shaped: bool = True

    def _variants(self, good):
        k = next(iter(good))
        v = np.asarray(good[k], dtype=float)
        nan = v.copy()
        nan.flat[0] = np.nan
        yield from [("string", "abc", FAIL), ("list", [1.0], FAIL), ("missing key", {q: w for q, w in good.items() if q != k}, FAIL),
                    (f"nan in {k!r}", {**good, k: nan}, FAIL), (f"string in {k!r}", {**good, k: "abc"}, FAIL),
                    (f"extra axis in {k!r}", {**good, k: v[None]}, FAIL if self.shaped else MAY),
                    ("lists", {q: np.asarray(w).tolist() for q, w in good.items()}, PASS)]


@dataclass
class IntList(Kind):
    def _variants(self, good):
        yield from [("empty", [], FAIL), ("zero", [0], FAIL), ("float", [2.5], FAIL), ("string", "abc", FAIL),
                    ("number", 3, FAIL), ("tuple", tuple(good), PASS)]


@dataclass
class Str(Kind):
    def _variants(self, good):
        yield from [("empty", "", FAIL), ("number", 3, FAIL)]


@dataclass
class Custom(Kind):
    """Listed values only (``with_none``: also None, which must fail unless optional)."""
    must_fail: tuple = ()
    must_pass: tuple = ()
    with_none: bool = True

    def variants(self, good):
        return super().variants(good) if self.with_none else list(self._variants(good))

    def _variants(self, good):
        yield from [(repr(v)[:30], v, FAIL) for v in self.must_fail]
        yield from [(repr(v)[:30], v, PASS) for v in self.must_pass]


@dataclass
class Unchecked(Kind):
    """An argument the callable does not check, with the reason (result records' data)."""
    reason: str = ""

    def variants(self, good):
        return []


# --------------------------------------------------------------------------- good data
def name_of(obj) -> str:
    """A row's name: where ``obj`` is defined (``theory.gd_step.lsa.lsa_forward``)."""
    return f"{obj.__module__}.{obj.__qualname__}"


def R(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


def demo_record():
    return records.make_record("demo", settings={}, parts={}, results={"x": 1.0}, curves={})


# --------------------------------------------------------------------------- the row
@dataclass
class Spec:
    name: str                       # module.attr or module.Class.method
    call: Callable                  # called with **good()
    good: Callable[[], dict]
    kinds: dict = field(default_factory=dict)
    run_good: bool = True           # False: the good call is a long run (only refusals are tried)


A, AB = Arr(), Arr(batch=True)
POS, NONNEG, REAL, UNIT, PROB = Real(positive=True), Real(nonnegative=True), Real(), Real(unit=True), Real(prob=True)
SIZE, COUNT = Size(), Size(zero_ok=True)
