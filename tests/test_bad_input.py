"""Bad input everywhere: every public callable answers bad arguments with a ValueError
that names the argument — never a TypeError, AttributeError, IndexError or a numpy error
from deep inside, never a silent NaN — and accepts lists where it accepts arrays.

The table below has one row per public callable (every callable that a module of
``theory`` defines and lists in its ``__all__``, plus the optimizers' ``step`` and the
result methods), named where it is defined (``theory.gd_step.lsa.lsa_forward``), giving a
good call and the kind of each argument.  From the kind the test derives the bad values to try:

- **must fail** (nan, inf, None, strings, 0 or -1 sizes, wrong rank, empty arrays, ...):
  ``ValueError`` whose message names the argument;
- **may** (huge values 1e200, integer arrays, shapes that may broadcast): a finite result,
  or a ``ValueError``, or — for training — the documented ``FloatingPointError``
  (:class:`theory.core.Diverged`); nothing else;
- **must pass** (lists for arrays, numpy scalars, None where the signature allows it):
  a finite result.

A new public callable without a row fails :func:`test_every_public_callable_has_a_row`;
a new argument without a kind fails :func:`test_every_argument_has_a_kind`.
"""
from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import runpy
import re
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import theory
from theory import claims, dual_form, gd_step, mesa
from theory.coursework import grading, notebooks
from theory import induction as itr, preconditioned_gd as pgd, scan_snap as ssn, task_diversity as tdv
from theory.core import gradcheck, nn, optim, plotting, proofs, records, registry
from theory.core._validate import Diverged, first_nonfinite
from theory.induction import network as net, paper as ip, three_param as induction_head, two_param as two

# Every public module of the package: private ones (``core._validate``: the checks
# themselves; ``core._workers``; ``__main__``) and the students' exercise files are not API.
MODULES = sorted(m.name for m in pkgutil.walk_packages(theory.__path__, "theory.")
                 if not any(part.startswith("_") for part in m.name.split("."))
                 and not m.name.startswith("theory.coursework.exercises")) + ["theory"]
FAIL, MAY, PASS = "must fail", "may", "must pass"

# Result records: built by the library and read by the user; no function takes them
# whole except where a row below checks the type (TrainResult, GDReproResult, ...).
RESULT_RECORDS = {"theory.gd_step.data.RegressionTasks", "theory.induction.data.ItemLabelBatch",
                  "theory.dual_form.dual.GDStep", "theory.induction.three_param.Trajectory",
                  "theory.induction.training.NetworkRun", "theory.gd_step.comparison.GDComparison",
                  "theory.gd_step.reproduction.GDReproResult", "theory.claims.CheckResult", "theory.coursework.grading.Verdict",
                  "theory.coursework.grading.Report", "theory.coursework.cases.Exercise",
                  "theory.preconditioned_gd.data.Prompts", "theory.preconditioned_gd.flow.FlowResult",
                  "theory.preconditioned_gd.training.TrainResult", "theory.task_diversity.data.Sequences",
                  "theory.scan_snap.data.ScanSnapBatch"}


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
def _name(obj) -> str:
    """A row's name: where ``obj`` is defined (``theory.gd_step.lsa.lsa_forward``)."""
    return f"{obj.__module__}.{obj.__qualname__}"


def R(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


def spd3():
    return np.diag([1.0, 2.0, 3.0]) + 0.1


@functools.lru_cache(maxsize=None)
def lsa_params(D=4):
    return gd_step.gd_construction(D - 1, 1, 3, 0.5, W0=R(1, D - 1))


def tokens():
    return gd_step.tokens(R(2, 3, 3), R(2, 3, 1), R(2, 3))


TINY_NET = itr.NetworkConfig(K=8, L=4, N=2, D=3, n_positions=6, B=1, steps=2, eval_every=1, n_eval=8, batch=4)


def net_data():
    rng = np.random.default_rng(0)
    classes = itr.item_label_classes(rng, 8, 4, 3)
    b = itr.item_label_sequences(rng, classes, 4, 2, B=1, eps=0.1, p_novel=1.0)
    return net.embed(b.content, 0, 6), b, net.init_network(0, 9, 4)


def two_data():
    _, b, _ = net_data()
    return b.content, b, two.init_two_param(0, 3, 4)


@functools.lru_cache(maxsize=None)
def tiny_train():
    return gd_step.train_lsa(1, d=2, n_context=3, steps=2, batch=4)


TINY_GD = gd_step.GDReproConfig(steps=2, batch=4, deep_steps=2, depths=(2,), d=2, n_context=3, n_tasks=50,
                           gaussian_steps=2)


@functools.lru_cache(maxsize=None)
def tiny_repro():
    return gd_step.reproduce(TINY_GD)


TINY_MESA = mesa.MesaConfig(layers=1, heads=2, key_size=3, steps=2, batch=4, D=2, T=4)


def mesa_states():
    return mesa.linear_dynamics(0, 4, 4, 2)


@functools.lru_cache(maxsize=None)
def mesa_layers():
    return mesa.train(TINY_MESA)[0]


SS_TASK = ssn.scan_snap_task(1, 2, 2, 2)
PGD_TINY = pgd.quick_config(1)


def MC_P(k=2):
    """Two order-2 transition tables of k tokens (Dirichlet rows)."""
    return itr.transition_matrices(0, 2, k)


def MC_NET():
    """A tiny two-layer transformer (k = 2, T = 4, width 4, two heads in layer 1)."""
    return itr.init_transformer(0, 2, 4, 4, 2)


MC_CFG = itr.MarkovConfig(T=4, steps=2, eval_every=1, n_eval=4, batch=2, d=4)


def MC_X():
    """Two token sequences of length 5 over 2 tokens."""
    return itr.markov_sequences(0, 2, 5, 2)[0]
SS_TINY = ssn.SGDConfig(n_queries=1, classes_per_query=2, n_common=2, n_distinct=2, T=4, batch=4, steps=2)


def ss_params():
    return ssn.init_params(0, SS_TASK.M)


def ss_batch():
    return ssn.scan_snap_sequences(0, SS_TASK, 3, 4)


def ss_flow():
    return ssn.integrate_flow(SS_TASK, ss_params(), 1.0, 1.0, [10.0, 20.0, 40.0])


@functools.lru_cache(maxsize=None)
def paper_record():
    return ip.reproduce("novel", steps=1)


def demo_record():
    return records.make_record("demo", settings={}, parts={}, results={"x": 1.0}, curves={})


def demo_record_file():
    return str(records.write_record(demo_record(), tempfile.mkdtemp()))


class _Saves:
    """Stands in for a matplotlib Figure (the row runs without matplotlib)."""
    def savefig(self, path):
        open(path, "wb").close()


class _Axes:
    """Stands in for a matplotlib Axes (the rows run without matplotlib)."""
    def legend(self, **kw):
        pass

    def grid(self, **kw):
        pass

    def set_xticks(self, *a, **kw):
        pass

    def set_xlim(self, *a):
        pass

    def set_xlabel(self, *a):
        pass

    def imshow(self, *a, **kw):
        return None


def _reproduction_args():
    return dict(name="demo", summary="a demo", run=lambda options, executor=None, progress=None: demo_record(),
                report=lambda record: "report", options=(), check=None, title=None, workers=True, quick=True)


def _topic_args():
    return dict(name="demo", papers={"dai": "Dai et al. 2023"}, claims=claims.CLAIMS[:1],
                reproductions=(registry.Reproduction(**_reproduction_args()),),
                figures={"demo": lambda record, out_dir, pdf=False: []}, requires=("gd_step",))


def quadratic(p):
    return float(0.5 * np.sum(np.asarray(p["a"]) ** 2))


# --------------------------------------------------------------------------- the table
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


def _lin():
    x, W, b = R(2, 3, 4), R(5, 4), R(5)
    return dict(x=x, W=W, b=b)


def _attn():
    return dict(Q=R(2, 3, 4), K=R(2, 5, 4), V=R(2, 5, 2), mask=np.ones((3, 5), bool), scale=0.5)


def _self_attn():
    return dict(X=R(2, 3, 4), params={"W_Q": R(2, 4), "W_K": R(2, 4), "W_V": R(3, 4)}, kind="softmax",
                mask=nn.attention_mask(3, causal=True), scale=1.0)


def _icl():
    return dict(W_V=R(2, 3), W_K=R(4, 3), X_demo=R(5, 3), X_ctx=R(2, 3), Q=R(3, 4))


def _sgd_step(cls):
    return lambda **kw: cls(0.1).step(**kw)


SPECS = [
    # core: nn
    Spec("theory.core.nn.linear_forward", nn.linear_forward, _lin, dict(x=AB, W=A, b=Arr(optional=True))),
    Spec("theory.core.nn.linear_backward", nn.linear_backward,
         lambda: dict(dy=R(2, 3, 5), cache=nn.linear_forward(**_lin())[1]), dict(dy=A, cache=Cache())),
    Spec("theory.core.nn.softmax", nn.softmax, lambda: dict(z=R(2, 3), axis=-1), dict(z=AB, axis=Custom(must_fail=(5, 1.5, "0")))),
    Spec("theory.core.nn.softmax_backward", nn.softmax_backward, lambda: dict(dp=R(2, 3), p=nn.softmax(R(2, 3)), axis=-1),
         dict(dp=A, p=AB, axis=Custom(must_fail=(5, 1.5, "0")))),
    Spec("theory.core.nn.logsumexp", nn.logsumexp, lambda: dict(z=R(2, 3), axis=0), dict(z=AB, axis=Custom(must_fail=(5, "0")))),
    Spec("theory.core.nn.log_softmax", nn.log_softmax, lambda: dict(z=R(2, 3), axis=1), dict(z=AB, axis=Custom(must_fail=(2, "0")))),
    Spec("theory.core.nn.relu_forward", nn.relu_forward, lambda: dict(x=R(2, 3)), dict(x=AB)),
    Spec("theory.core.nn.layer_norm_forward", nn.layer_norm_forward, lambda: dict(x=R(2, 3), gain=R(3), bias=R(3), eps=1e-5),
         dict(x=Arr(batch=True), gain=Custom(must_fail=(R(2), "a", R(3, 1))), bias=Custom(must_fail=(R(4), "a")), eps=POS)),
    Spec("theory.core.nn.layer_norm_backward", nn.layer_norm_backward,
         lambda: dict(dy=R(2, 3), cache=nn.layer_norm_forward(R(2, 3), R(3), R(3))[1]),
         dict(dy=Custom(must_fail=(R(2, 4), "a")), cache=Cache())),
    Spec("theory.core.nn.relu_backward", nn.relu_backward, lambda: dict(dy=R(2, 3), cache=nn.relu_forward(R(2, 3))[1]),
         dict(dy=A, cache=Cache())),
    Spec("theory.core.nn.attention_mask", nn.attention_mask,
         lambda: dict(n_queries=3, n_keys=4, causal=True, exclude_self=False, keys_only_first=2),
         dict(n_queries=SIZE, n_keys=Size(optional=True), causal=Flag(), exclude_self=Flag(),
              keys_only_first=Size(optional=True))),
    Spec("theory.core.nn.linear_attention_forward", nn.linear_attention_forward, _attn,
         dict(Q=AB, K=AB, V=AB, mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.linear_attention_backward", nn.linear_attention_backward,
         lambda: dict(dout=R(2, 3, 2), cache=nn.linear_attention_forward(**_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.softmax_attention_forward", nn.softmax_attention_forward, _attn,
         dict(Q=AB, K=AB, V=AB, mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.softmax_attention_backward", nn.softmax_attention_backward,
         lambda: dict(dout=R(2, 3, 2), cache=nn.softmax_attention_forward(**_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.self_attention_forward", nn.self_attention_forward, _self_attn,
         dict(X=AB, params=Params(), kind=Choice(), mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.self_attention_backward", nn.self_attention_backward,
         lambda: dict(dout=R(2, 3, 3), cache=nn.self_attention_forward(**_self_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.squared_error_forward", nn.squared_error_forward, lambda: dict(pred=R(4, 2), target=R(4, 2, seed=1)),
         dict(pred=AB, target=A)),
    Spec("theory.core.nn.squared_error_backward", nn.squared_error_backward,
         lambda: dict(dloss=1.0, cache=nn.squared_error_forward(R(4, 2), R(4, 2, seed=1))[1]), dict(dloss=REAL, cache=Cache())),
    Spec("theory.core.nn.cross_entropy_forward", nn.cross_entropy_forward, lambda: dict(logits=R(4, 3), labels=np.array([0, 2, 1, 1])),
         dict(logits=AB, labels=Labels())),
    Spec("theory.core.nn.cross_entropy_backward", nn.cross_entropy_backward,
         lambda: dict(dloss=1.0, cache=nn.cross_entropy_forward(R(4, 3), np.array([0, 2, 1, 1]))[1]),
         dict(dloss=REAL, cache=Cache())),
    # core: gradcheck
    Spec("theory.core.gradcheck.norm", gradcheck.norm, lambda: dict(x=R(3, 2)), dict(x=Arr(batch=True, empty_ok=True))),
    Spec("theory.core.gradcheck.rel_error", gradcheck.rel_error, lambda: dict(a=R(3, 2), b=R(3, 2, seed=1), scale=0.5),
         dict(a=Arr(batch=True, empty_ok=True), b=Arr(batch=True, empty_ok=True), scale=NONNEG)),
    Spec("theory.core.gradcheck.numerical_gradient", gradcheck.numerical_gradient,
         lambda: dict(f=quadratic, params={"a": R(3)}, eps=1e-5), dict(f=Func(), params=Params(shaped=False), eps=POS)),
    Spec("theory.core.gradcheck.directional_errors", gradcheck.directional_errors,
         lambda: dict(f=quadratic, params={"a": R(3)}, grads={"a": R(3)}, n_directions=2, eps=1e-5, rng=0),
         dict(f=Func(), params=Params(shaped=False), grads=Params(), n_directions=SIZE, eps=POS, rng=Rng())),
    Spec("theory.core.gradcheck.check_layer", gradcheck.check_layer,
         lambda: dict(forward=lambda x: (2 * x, None), backward=lambda dout, cache: 2 * dout, inputs={"x": R(3, 2)},
                      tol=1e-6, eps=1e-5, rng=0),
         dict(forward=Func(), backward=Func(), inputs=Custom(must_fail=({}, "abc", {"x": R(3).astype(np.float32)})),
              tol=POS, eps=POS, rng=Rng())),
    Spec("theory.core.gradcheck.check_gradients", gradcheck.check_gradients,
         lambda: dict(f=quadratic, params={"a": R(3)}, grads={"a": R(3)}, tol=1e-6, eps=1e-5, max_entries=10,
                      n_directions=2, rng=0),
         dict(f=Func(), params=Params(shaped=False), grads=Params(), tol=POS, eps=POS, max_entries=SIZE,
              n_directions=SIZE, rng=Rng())),
    # core: optim
    Spec("theory.core.optim.SGD", optim.SGD, lambda: dict(lr=0.1, weight_decay=0.01), dict(lr=POS, weight_decay=UNIT)),
    Spec("theory.core.optim.Momentum", optim.Momentum, lambda: dict(lr=0.1, beta=0.9), dict(lr=POS, beta=UNIT)),
    Spec("theory.core.optim.Adam", optim.Adam, lambda: dict(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
         dict(lr=POS, beta1=UNIT, beta2=UNIT, eps=POS, weight_decay=NONNEG)),
    *[Spec(f"{c.__module__}.{c.__name__}.step", _sgd_step(c), lambda: dict(params={"w": R(3), "b": R(2)}, grads={"w": R(3), "b": R(2)}),
           dict(params=Params(shaped=False), grads=Params())) for c in (optim.SGD, optim.Momentum, optim.Adam)],
    Spec("theory.core.optim.clip_by_value", optim.clip_by_value, lambda: dict(grads={"w": R(3)}, max_value=0.5),
         dict(grads=Custom(must_fail=({}, {"w": np.array([1.0, np.nan])}, "abc")), max_value=POS)),
    Spec("theory.core.optim.clip_by_global_norm", optim.clip_by_global_norm, lambda: dict(grads={"w": R(3)}, max_norm=0.5),
         dict(grads=Params(shaped=False), max_norm=POS)),
    Spec("theory.core.optim.global_norm", optim.global_norm, lambda: dict(grads={"w": R(3)}), dict(grads=Params(shaped=False))),
    # the topics' data samplers
    Spec("theory.gd_step.data.regression_tasks", gd_step.regression_tasks,
         lambda: dict(rng=0, batch=2, n_context=3, d=3, d_out=1, inputs="gaussian", a=0.5, cov=spd3(), noise=0.1),
         dict(rng=Rng(), batch=SIZE, n_context=SIZE, d=SIZE, d_out=SIZE, inputs=Choice(), a=POS, cov=SPD(optional=True),
              noise=NONNEG)),
    Spec("theory.gd_step.data.uniform_moments", gd_step.uniform_moments, lambda: dict(a=0.5), dict(a=POS)),
    Spec("theory.induction.data.ItemLabelClasses", itr.ItemLabelClasses, lambda: dict(means=R(4, 3), labels=R(2, 3)),
         dict(means=A, labels=A)),
    Spec("theory.induction.data.item_label_classes", itr.item_label_classes, lambda: dict(rng=0, K=8, L=4, D=3),
         dict(rng=Rng(), K=SIZE, L=SIZE, D=SIZE)),
    Spec("theory.induction.data.zipf_probabilities", itr.zipf_probabilities, lambda: dict(K=5, alpha=1.0), dict(K=SIZE, alpha=NONNEG)),
    Spec("theory.induction.data.check_burstiness", itr.check_burstiness, lambda: dict(B=2, N=4), dict(B=COUNT, N=SIZE)),
    Spec("theory.induction.data.item_label_sequences", itr.item_label_sequences,
         lambda: dict(rng=0, classes=itr.item_label_classes(0, 8, 4, 3), n_seq=3, N=2, B=1, eps=0.1, alpha=0.5,
                      p_bursty=0.5, p_novel=0.5, shift_labels=False, sampler="author"),
         dict(rng=Rng(), classes=Obj(), n_seq=SIZE, N=SIZE, B=COUNT, eps=NONNEG, alpha=NONNEG, p_bursty=PROB,
              p_novel=PROB, shift_labels=Flag(), sampler=Choice())),
    # dual_form
    Spec("theory.dual_form.dual.gd_step_linear", dual_form.gd_step_linear,
         lambda: dict(W0=R(2, 3), X=R(4, 3), targets=R(4, 2), lr=0.1, loss="squared"),
         dict(W0=A, X=A, targets=A, lr=POS, loss=Choice())),
    Spec("theory.dual_form.dual.finetuned_output", dual_form.finetuned_output, lambda: dict(W0=R(2, 3), delta_W=R(2, 3, seed=1), Xq=R(4, 3)),
         dict(W0=A, delta_W=A, Xq=A)),
    Spec("theory.dual_form.dual.dual_output", dual_form.dual_output, lambda: dict(W0=R(2, 3), E=R(4, 2), X=R(4, 3), Xq=R(5, 3)),
         dict(W0=A, E=A, X=A, Xq=A)),
    *[Spec(_name(f), f, _icl, dict(W_V=A, W_K=A, X_demo=A, X_ctx=A, Q=A))
      for f in (dual_form.icl_linear_attention, dual_form.icl_split_output, dual_form.softmax_icl_mixture)],
    Spec("theory.dual_form.dual.icl_split", dual_form.icl_split, lambda: {k: v for k, v in _icl().items() if k != "Q"},
         dict(W_V=A, W_K=A, X_demo=A, X_ctx=A)),
    Spec("theory.dual_form.momentum.momentum_sgd", dual_form.momentum_sgd,
         lambda: dict(W0=R(2, 3), X=R(4, 3), targets=np.array([0, 1, 1, 0]), lr=0.1, eta=0.5, loss="cross_entropy"),
         dict(W0=A, X=A, targets=Labels(), lr=POS, eta=UNIT, loss=Choice())),
    Spec("theory.dual_form.momentum.momentum_weights", dual_form.momentum_weights, lambda: dict(n=4, eta=0.5), dict(n=SIZE, eta=UNIT)),
    Spec("theory.dual_form.momentum.momentum_dual_output", dual_form.momentum_dual_output,
         lambda: dict(W0=R(2, 3), E=R(4, 2), X=R(4, 3), Xq=R(5, 3), eta=0.5), dict(W0=A, E=A, X=A, Xq=A, eta=UNIT)),
    Spec("theory.dual_form.momentum.momentum_attention", dual_form.momentum_attention,
         lambda: dict(V=R(4, 2), K=R(4, 3), Q=R(4, 3), eta=0.5), dict(V=AB, K=AB, Q=AB, eta=UNIT)),
    Spec("theory.dual_form.momentum.momentum_gap", dual_form.momentum_gap, lambda: dict(E=R(4, 2), X=R(4, 3), Xq=R(5, 3), eta=0.5),
         dict(E=A, X=A, Xq=A, eta=UNIT)),
    *[Spec(_name(f), f, lambda: dict(rng=0), dict(rng=Rng()))
      for f in (dual_form.check_icl_split, dual_form.check_softmax_mixture, dual_form.softmax_split_gap,
                dual_form.momentum_literal_gap)],
    *[Spec(_name(f), f, lambda: dict(rng=0, loss="cross_entropy"), dict(rng=Rng(), loss=Choice()))
      for f in (dual_form.check_dual_form, dual_form.check_momentum_dual)],
    # gd_step: lsa, construction, closed forms
    Spec("theory.gd_step.lsa.tokens", gd_step.tokens, lambda: dict(X=R(2, 3, 3), Y=R(2, 3, 1), xq=R(2, 3), W0=R(1, 3)),
         dict(X=A, Y=A, xq=A, W0=Arr(optional=True))),
    Spec("theory.gd_step.lsa.readout", gd_step.readout, lambda: dict(E=tokens(), d=3), dict(E=A, d=SIZE)),
    Spec("theory.gd_step.lsa.lsa_forward", gd_step.lsa_forward,
         lambda: dict(E=tokens(), params=lsa_params(), n_context=3, include_query=False, query_only=True),
         dict(E=A, params=Params(), n_context=SIZE, include_query=Flag(), query_only=Flag())),
    Spec("theory.gd_step.lsa.lsa_backward", gd_step.lsa_backward,
         lambda: dict(dout=R(2, 4, 4), cache=gd_step.lsa_forward(tokens(), lsa_params(), 3)[1]), dict(dout=A, cache=Cache())),
    Spec("theory.gd_step.lsa.layer_params", gd_step.layer_params, lambda: dict(params=lsa_params(), layer=0, shared=True),
         dict(params=Params(shaped=False), layer=COUNT, shared=Flag())),
    Spec("theory.gd_step.lsa.stack_forward", gd_step.stack_forward,
         lambda: dict(E=tokens(), params=lsa_params(), n_layers=2, n_context=3, shared=True, query_only=False),
         dict(E=A, params=Params(), n_layers=SIZE, n_context=SIZE, shared=Flag(), query_only=Flag())),
    Spec("theory.gd_step.lsa.stack_backward", gd_step.stack_backward,
         lambda: dict(dout=R(2, 4, 4), caches=gd_step.stack_forward(tokens(), lsa_params(), 2, 3, shared=True)[1], shared=True),
         dict(dout=A, caches=Custom(must_fail=("abc", [], 3)), shared=Flag())),
    Spec("theory.gd_step.lsa.lsa_loss", gd_step.lsa_loss,
         lambda: dict(params=lsa_params(), E=tokens(), y_query=R(2, 1), n_layers=1, shared=True),
         dict(params=Params(), E=A, y_query=A, n_layers=SIZE, shared=Flag())),
    Spec("theory.gd_step.construction.gd_construction", gd_step.gd_construction, lambda: dict(d=3, d_out=1, n_context=3, eta=0.5, W0=R(1, 3)),
         dict(d=SIZE, d_out=SIZE, n_context=SIZE, eta=REAL, W0=Arr(optional=True))),
    Spec("theory.gd_step.construction.gdpp_construction", gd_step.gdpp_construction, lambda: dict(d=3, d_out=1, n_context=3, eta=0.5, gamma=0.1),
         dict(d=SIZE, d_out=SIZE, n_context=SIZE, eta=REAL, gamma=REAL)),
    Spec("theory.gd_step.construction.gd_predict", gd_step.gd_predict,
         lambda: dict(X=R(2, 3, 3), Y=R(2, 3, 1), xq=R(2, 3), eta=0.5, steps=2, W0=R(1, 3)),
         dict(X=A, Y=A, xq=A, steps=SIZE, W0=Arr(optional=True),
              eta=Custom(must_fail=(np.nan, np.inf, "0.5", True, np.ones(5), np.array([np.nan, 1.0])),
                         must_pass=(np.array([0.5, 0.3]), [0.5, 0.3], np.float64(0.5))))),
    Spec("theory.gd_step.construction.gdpp_predict", gd_step.gdpp_predict,
         lambda: dict(X=R(2, 3, 3), Y=R(2, 3, 1), xq=R(2, 3), etas=np.array([0.5, 0.3]), gammas=np.array([0.1, 0.2]),
                      return_state=True),
         dict(X=A, Y=A, xq=A, etas=AB, gammas=AB, return_state=Flag())),
    Spec("theory.gd_step.closed_forms.optimal_one_step", gd_step.optimal_one_step, lambda: dict(d=3, n_context=4, s2=0.5, m4=0.5),
         dict(d=SIZE, n_context=SIZE, s2=POS, m4=POS)),
    Spec("theory.gd_step.closed_forms.zfb_gamma", gd_step.zfb_gamma, lambda: dict(cov=spd3(), n_context=4), dict(cov=SPD(), n_context=SIZE)),
    Spec("theory.gd_step.closed_forms.monte_carlo_one_step", gd_step.monte_carlo_one_step,
         lambda: dict(rng=0, d=2, n_context=3, a=0.5, n_tasks=20), dict(rng=Rng(), d=SIZE, n_context=SIZE, a=POS, n_tasks=SIZE)),
    Spec("theory.gd_step.closed_forms.random_covariance", gd_step.random_covariance, lambda: dict(rng=0, d=3), dict(rng=Rng(), d=SIZE)),
    Spec("theory.gd_step.construction.check_gd_step", gd_step.check_gd_step, lambda: dict(rng=0, steps=2),
         dict(rng=Rng(), steps=Size(optional=True))),
    Spec("theory.gd_step.construction.check_gdpp", gd_step.check_gdpp, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.gd_step.closed_forms.check_optimal_step", gd_step.check_optimal_step, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.gd_step.closed_forms.check_zfb_moment", gd_step.check_zfb_moment, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.gd_step.closed_forms.single_input_moments", gd_step.single_input_moments, lambda: dict(d=2, a=0.5, cov=None),
         dict(d=SIZE, a=POS, cov=Unchecked(reason="the other law: tried in the next row"))),
    Spec("theory.gd_step.closed_forms.single_input_moments", gd_step.single_input_moments,
         lambda: dict(d=3, cov=spd3(), a=None), dict(d=Custom(must_fail=(0, 2, 4, 13, 2.5)), cov=SPD(),
                                               a=Unchecked(reason="the other law: tried in the row above"))),
    Spec("theory.gd_step.closed_forms.exact_one_step", gd_step.exact_one_step, lambda: dict(d=2, n_context=3, a=0.5),
         dict(d=SIZE, n_context=SIZE, a=POS)),
    # gd_step: training, comparison, reproduction
    Spec("theory.gd_step.training.TrainResult", gd_step.TrainResult,
         lambda: dict(params=tiny_train().params, losses=np.ones(2), kind="lsa", n_layers=1, shared=False,
                      task=tiny_train().task, seconds=0.1),
         dict(params=Custom(must_fail=("abc", {})), kind=Choice(), n_layers=SIZE, shared=Flag(),
              task=Custom(must_fail=("abc", {}, {**tiny_train().task, "d": 0})),
              losses=Unchecked(reason="a result: the loss curve the run produced"),
              seconds=Unchecked(reason="a result: the run's wall time"))),
    Spec("theory.gd_step.training.TrainResult.lsa_params", lambda: tiny_train().lsa_params(), lambda: {}),
    Spec("theory.gd_step.training.model_loss", gd_step.model_loss,
         lambda: dict(params={"eta": np.array([0.5]), "gamma": np.array([0.1])}, E=tokens(), y_query=R(2, 1),
                      kind="gdpp", n_layers=1, shared=False),
         dict(params=Params(), E=A, y_query=A, kind=Choice(), n_layers=SIZE, shared=Flag())),
    Spec("theory.gd_step.training.init_params", gd_step.init_params,
         lambda: dict(rng=0, kind="lsa", n_layers=2, d=2, n_context=3, shared=False, init_scale=0.1, eta0=0.5),
         dict(rng=Rng(), kind=Choice(), n_layers=SIZE, d=SIZE, n_context=SIZE, shared=Flag(),
              init_scale=Real(positive=True, optional=True), eta0=Real(optional=True))),
    Spec("theory.gd_step.training.train_lsa", gd_step.train_lsa,
         lambda: dict(n_layers=1, kind="lsa", shared=False, d=2, n_context=3, steps=2, batch=4, lr=1e-3, beta2=0.98,
                      clip=1.0, init_scale=0.01, inputs="uniform", a=0.5, cov=None, rng=0, callback=lambda s, l: None),
         dict(n_layers=SIZE, kind=Choice(), shared=Flag(), d=SIZE, n_context=SIZE, steps=SIZE, batch=SIZE, lr=POS,
              beta2=UNIT, clip=Real(positive=True, optional=True), init_scale=Real(positive=True, optional=True),
              inputs=Choice(), a=POS, cov=Custom(must_fail=("abc", np.eye(2)), must_pass=(None,), with_none=False),
              rng=Rng(), callback=Func(optional=True))),
    Spec("theory.gd_step.comparison.lsa_predict", gd_step.lsa_predict, lambda: dict(params=lsa_params(), E=tokens(), n_layers=1, shared=True),
         dict(params=Params(), E=A, n_layers=SIZE, shared=Flag())),
    Spec("theory.gd_step.comparison.product_matrices", gd_step.product_matrices, lambda: dict(params=lsa_params(), layer=0, shared=True),
         dict(params=Params(), layer=COUNT, shared=Flag())),
    Spec("theory.gd_step.comparison.from_products", gd_step.from_products, lambda: dict(KQ=R(4, 4), PV=R(4, 4, seed=1)), dict(KQ=A, PV=A)),
    Spec("theory.gd_step.comparison.align_scale", gd_step.align_scale, lambda: dict(KQ=np.eye(4) + 0.1, PV=R(4, 4), d=3),
         dict(KQ=A, PV=A, d=SIZE)),
    Spec("theory.gd_step.comparison.effective_matrix", gd_step.effective_matrix,
         lambda: dict(params={k + "0": v for k, v in lsa_params().items()}, d=3, n_context=3),
         dict(params=Params(), d=SIZE, n_context=SIZE)),
    Spec("theory.gd_step.comparison.grid_search_eta", gd_step.grid_search_eta,
         lambda: dict(task=tiny_train().task, n_layers=1, rng=0, n_tasks=20, grid=np.array([0.5, 1.0, 2.0])),
         dict(task=Custom(must_fail=("abc", {})), n_layers=SIZE, rng=Rng(), n_tasks=SIZE, grid=Arr(optional=True))),
    Spec("theory.gd_step.comparison.compare_to_gd", gd_step.compare_to_gd, lambda: dict(result=tiny_train(), n_tasks=50, rng=1),
         dict(result=Obj(), n_tasks=SIZE, rng=Rng())),
    Spec("theory.gd_step.comparison.agreement", gd_step.agreement, lambda: dict(y1=R(4), s1=R(4, 2), y2=R(4, seed=1), s2=R(4, 2, seed=1)),
         dict(y1=A, s1=A, y2=A, s2=A)),
    Spec("theory.gd_step.reproduction.GDReproConfig", gd_step.GDReproConfig,
         lambda: dict(steps=2, batch=4, lr=1e-3, lr_gd=1e-2, deep_steps=2, deep_init_scale=0.05, depths=(2,), d=2,
                      n_context=3, n_tasks=50, gaussian_steps=2, seed=0),
         dict(steps=SIZE, batch=SIZE, lr=POS, lr_gd=POS, deep_steps=SIZE, deep_init_scale=POS,
              depths=Custom(must_fail=((1,), (0,), "abc", [2])), d=SIZE, n_context=SIZE, n_tasks=SIZE,
              gaussian_steps=SIZE, seed=COUNT)),
    Spec("theory.gd_step.reproduction.reproduce", gd_step.reproduce, lambda: dict(config=TINY_GD, executor=None, progress=print),
         # config=None means the paper's full settings (minutes), so only the refusals are tried here
         dict(config=Custom(must_fail=("abc", 3, {}), with_none=False), executor=Executor(), progress=Func(optional=True))),
    Spec("theory.gd_step.reproduction.format_report", gd_step.format_report, lambda: dict(r=tiny_repro()), dict(r=Obj())),
    # induction.three_param
    Spec("theory.induction.three_param.three_param_forward", induction_head.three_param_forward,
         lambda: dict(theta=R(2, 3), N=2, L=4), dict(theta=AB, N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.three_param_backward", induction_head.three_param_backward,
         lambda: dict(dloss=1.0, cache=induction_head.three_param_forward(R(3), 2, 4)[1]), dict(dloss=REAL, cache=Cache())),
    Spec("theory.induction.three_param.three_param_loss", induction_head.three_param_loss, lambda: dict(theta=R(3), N=2, L=4),
         dict(theta=AB, N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.origin_gradient", induction_head.origin_gradient, lambda: dict(N=2, L=4), dict(N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.gradient_descent", induction_head.gradient_descent,
         lambda: dict(N=2, L=4, lr=0.1, steps=20, theta0=R(3), record_every=5, stop_at_jump=False),
         dict(N=SIZE, L=SIZE, lr=POS, steps=SIZE, theta0=A, record_every=SIZE, stop_at_jump=Flag())),
    Spec("theory.induction.three_param.plateau_table", induction_head.plateau_table, lambda: dict(Ns=[2], Ls=[4], lr=0.1, steps=20),
         dict(Ns=IntList(), Ls=IntList(), lr=POS, steps=SIZE)),
    Spec("theory.induction.reproduction.reproduce_landscape", itr.reproduce_landscape,
         lambda: dict(Ns=[2], L_factors=[2], lr=0.1, steps=20, executor=None),
         dict(Ns=IntList(), L_factors=IntList(), lr=POS, steps=SIZE, executor=Executor())),
    Spec("theory.induction.reproduction.format_landscape", itr.format_landscape,
         lambda: dict(r=itr.reproduce_landscape([2], [2], steps=20)), dict(r=Custom(must_fail=("abc", {})))),
    Spec("theory.induction.three_param.check_origin_gradient", induction_head.check_origin_gradient, lambda: dict(rng=0), dict(rng=Rng())),
    # induction.network
    Spec("theory.induction.network.embed", net.embed, lambda: dict(content=R(2, 5, 3), rng=0, n_positions=6),
         dict(content=A, rng=Rng(), n_positions=SIZE)),
    Spec("theory.induction.network.init_classifier", net.init_classifier, lambda: dict(rng=0, d_in=3, h=4, L=2),
         dict(rng=Rng(), d_in=SIZE, h=SIZE, L=SIZE)),
    Spec("theory.induction.network.classifier_weights", net.classifier_weights,
         lambda: dict(params=net.init_classifier(0, 3, 4, 2), d_in=3), dict(params=Params(), d_in=SIZE)),
    Spec("theory.induction.network.network_weights", net.network_weights, lambda: dict(params=net_data()[2], d=9),
         dict(params=Params(), d=SIZE)),
    Spec("theory.induction.network.classifier_forward", net.classifier_forward,
         lambda: dict(u=R(5, 3), params=net.init_classifier(0, 3, 4, 2)), dict(u=A, params=Params())),
    Spec("theory.induction.network.classifier_backward", net.classifier_backward,
         lambda: dict(dlogits=R(5, 2), cache=net.classifier_forward(R(5, 3), net.init_classifier(0, 3, 4, 2))[1],
                      params=net.init_classifier(0, 3, 4, 2)),
         dict(dlogits=A, cache=Cache(), params=Params())),
    Spec("theory.induction.network.init_network", net.init_network,
         lambda: dict(rng=0, d=5, L=2, init="author", content_dim=3),
         dict(rng=Rng(), d=SIZE, L=SIZE, init=Choice(), content_dim=Custom(must_fail=(0, 2.5, "3", None), with_none=False))),
    Spec("theory.induction.network.classifier_activity", net.classifier_activity,
         lambda: dict(u3=np.maximum(R(5, 4), 0.0)), dict(u3=Custom(must_fail=(-np.ones((2, 2)), np.ones(3), "abc")))),
    Spec("theory.induction.network.network_forward", net.network_forward, lambda: dict(X=net_data()[0], params=net_data()[2]),
         dict(X=A, params=Params())),
    Spec("theory.induction.network.network_backward", net.network_backward,
         lambda: dict(dlogits=R(4, 4), cache=net.network_forward(net_data()[0], net_data()[2])[1]),
         dict(dlogits=A, cache=Cache())),
    Spec("theory.induction.network.cross_entropy_loss", net.cross_entropy_loss,
         lambda: dict(forward=net.network_forward, backward=net.network_backward, params=net_data()[2], X=net_data()[0],
                      target=net_data()[1].target),
         dict(forward=Func(), backward=Func(), params=Params(), X=A, target=Labels())),
    Spec("theory.induction.network.network_loss", net.network_loss,
         lambda: dict(params=net_data()[2], X=net_data()[0], target=net_data()[1].target),
         dict(params=Params(), X=A, target=Labels())),
    Spec("theory.induction.network.progress_measures", net.progress_measures,
         lambda: dict(P1=nn.softmax(R(4, 5, 5)), P2=nn.softmax(R(4, 5)), batch=net_data()[1]),
         dict(P1=A, P2=A, batch=Obj())),
    Spec("theory.induction.network.context_label_accuracy", net.context_label_accuracy,
         lambda: dict(logits=R(4, 4), batch=net_data()[1]), dict(logits=A, batch=Obj())),
    Spec("theory.induction.network.attention_measures", net.attention_measures,
         lambda: dict(X=net_data()[0], params=net_data()[2], batch=net_data()[1]), dict(X=A, params=Params(), batch=Obj())),
    Spec("theory.induction.training.NetworkConfig", itr.NetworkConfig, lambda: {f: getattr(TINY_NET, f) for f in TINY_NET.__dataclass_fields__},
         dict(K=SIZE, L=SIZE, N=SIZE, D=SIZE, eps=NONNEG, alpha=NONNEG, B=COUNT, p_bursty=PROB, p_novel=PROB,
              n_positions=SIZE, lr=POS, batch=SIZE, weight_decay=UNIT, steps=SIZE, eval_every=SIZE, n_eval=SIZE,
              seed=COUNT, dtype=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.training.Model", itr.Model,
         lambda: {f: getattr(itr.NETWORK, f) for f in itr.Model.__dataclass_fields__},
         dict(name=Str(), init=Func(), inputs=Func(), forward=Func(), loss=Func(), attention=Func(), hidden=Func())),
    Spec("theory.induction.training.NetworkRun.jump", lambda curve: itr.train_network(TINY_NET).jump(curve),
         lambda: dict(curve="icl"), dict(curve=Choice())),
    Spec("theory.induction.training.train_network", itr.train_network, lambda: dict(cfg=TINY_NET, progress=print, model=itr.NETWORK),
         dict(cfg=Obj(), progress=Func(optional=True), model=Obj())),
    Spec("theory.induction.training.sweep", itr.sweep,
         lambda: dict(base=TINY_NET, grid={"B": [0, 1]}, seeds=1, model=itr.TWO_PARAM, executor=None, progress=print),
         dict(base=Obj(), grid=Custom(must_fail=("abc", {}, {"seed": [1]}, {"B": []}, {"B": [3]}, {"K": 5})),
              seeds=SIZE, model=Obj(), executor=Executor(), progress=Func(optional=True))),
    Spec("theory.induction.training.format_sweep", itr.format_sweep, lambda: dict(rows=itr.sweep(TINY_NET, {"B": [1]})),
         dict(rows=Custom(must_fail=("abc", [], [("B", 1, [])], [("B", 1, [3])])))),
    Spec("theory.induction.reproduction.reproduce_report", itr.reproduce_report,
         lambda: dict(quick=True, seeds=1, executor=None, progress=None),
         dict(quick=Flag(), seeds=SIZE, executor=Executor(), progress=Func(optional=True)), run_good=False),
    # induction.paper
    Spec("theory.induction.paper.paper_config", ip.paper_config,
         lambda: dict(regime="novel", seed=0, steps=10, K=None, dtype="float32", sampler="author", init="author"),
         dict(regime=Choice(), seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, 2.5, "256"), must_pass=(512,), optional=True),
              dtype=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.paper.record_name", ip.record_name,
         lambda: dict(regime="novel", K=None, model="two-param", sampler="fresh", init="package"),
         dict(regime=Choice(), K=Custom(must_fail=(0, -1, 2.5, "3"), must_pass=(512,), optional=True),
              model=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.paper.check_paper_record", ip.check_paper_record, lambda: dict(record=paper_record()),
         dict(record=Custom(must_fail=({}, "abc", demo_record())))),
    Spec("theory.induction.paper.seed_summary", ip.seed_summary,
         lambda: dict(run=itr.NetworkRun.from_dict(paper_record()["results"]["runs"][0])),
         dict(run=Custom(must_fail=("abc", 3, {})))),
    Spec("theory.induction.paper.reproduce", ip.reproduce,
         lambda: dict(regime="novel", seeds=1, first_seed=0, steps=1, K=None, model="network", sampler="author",
                      init="package", executor=None, progress=None),
         dict(regime=Choice(), seeds=SIZE, first_seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, "256"), optional=True),
              model=Choice(), sampler=Choice(), init=Choice(), executor=Executor(), progress=Func(optional=True)),
         run_good=False),
    Spec("theory.induction.paper.reproduce_report", ip.reproduce_report,
         lambda: dict(regime="novel", seeds=1, first_seed=0, steps=1, K=None, model="network", sampler="author",
                      init="package", executor=None, progress=None),
         dict(regime=Choice(), seeds=SIZE, first_seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, "256"), optional=True),
              model=Choice(), sampler=Choice(), init=Choice(), executor=Executor(), progress=Func(optional=True)),
         run_good=False),
    Spec("theory.induction.paper.format_report", ip.format_report, lambda: dict(record=paper_record()),
         dict(record=Custom(must_fail=({}, demo_record())))),
    # induction.two_param
    Spec("theory.induction.two_param.previous_token_weights", two.previous_token_weights, lambda: dict(beta=1.0, T=5),
         dict(beta=REAL, T=SIZE)),
    Spec("theory.induction.two_param.init_two_param", two.init_two_param, lambda: dict(rng=0, D=3, L=4, hidden=5),
         dict(rng=Rng(), D=SIZE, L=SIZE, hidden=Size(optional=True))),
    Spec("theory.induction.two_param.two_param_forward", two.two_param_forward, lambda: dict(C=two_data()[0], params=two_data()[2]),
         dict(C=A, params=Params())),
    Spec("theory.induction.two_param.two_param_backward", two.two_param_backward,
         lambda: dict(dlogits=R(4, 4), cache=two.two_param_forward(two_data()[0], two_data()[2])[1]),
         dict(dlogits=A, cache=Cache())),
    Spec("theory.induction.two_param.two_param_loss", two.two_param_loss,
         lambda: dict(params=two_data()[2], C=two_data()[0], target=two_data()[1].target),
         dict(params=Params(), C=A, target=Labels())),
    Spec("theory.induction.two_param.idealised_probability", two.idealised_probability, lambda: dict(theta=R(3), N=2, L=4),
         dict(theta=A, N=SIZE, L=SIZE)),
    Spec("theory.induction.two_param.check_three_from_two", two.check_three_from_two, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.induction.training.quick_icl_shortfall", itr.quick_icl_shortfall, lambda: dict(rng=0), dict(rng=Rng()),
         run_good=False),
    # core: records
    Spec("theory.core.records.jsonable", records.jsonable, lambda: dict(obj={"a": R(2)}, where="obj"),
         dict(obj=Custom(must_fail=(float("nan"), {"a": object()}, [np.inf]), must_pass=(None, 3), with_none=False),
              where=Unchecked(reason="a label for messages"))),
    Spec("theory.core.records.make_record", records.make_record,
         lambda: dict(name="demo", settings={}, parts={}, results={"x": 1.0}, curves={}),
         dict(name=Str(), settings=Custom(must_fail=("abc", [])), parts=Custom(must_fail=("abc",)),
              results=Custom(must_fail=("abc", {"x": float("nan")})), curves=Custom(must_fail=(3,)))),
    Spec("theory.core.records.write_record", records.write_record, lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp()),
         dict(record=Custom(must_fail=({}, "abc", dict(demo_record(), version=99))),
              out_dir=Unchecked(reason="any path; the file system answers"))),
    Spec("theory.core.records.read_record", records.read_record, lambda: dict(path=demo_record_file()),
         dict(path=Custom(must_fail=(__file__,)))),
    Spec("theory.core.records.check_record", records.check_record, lambda: dict(record=demo_record(), name="demo", where="r"),
         dict(record=Custom(must_fail=({}, "abc")), name=Custom(must_fail=("gd-step",)),
              where=Unchecked(reason="a label for messages"))),
    Spec("theory.core.records.round_trip", records.round_trip, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, "abc")))),
    Spec("theory.gd_step.reproduction.GDReproResult.from_record", gd_step.GDReproResult.from_record,
         lambda: dict(record=tiny_repro().to_record()), dict(record=Custom(must_fail=({}, demo_record())))),
    Spec("theory.induction.reproduction.reproduce", itr.reproduce,
         lambda: dict(quick=True, seeds=1, executor=None, progress=None),
         dict(quick=Flag(), seeds=SIZE, executor=Executor(), progress=Func(optional=True)), run_good=False),
    Spec("theory.induction.reproduction.format_report", itr.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record(), tiny_repro().to_record()))), run_good=False),
    Spec("theory.induction.training.NetworkRun.from_dict", itr.NetworkRun.from_dict,
         lambda: dict(d=itr.train_network(TINY_NET).to_dict()), dict(d=Custom(must_fail=({}, "abc", [])))),
    Spec("theory.dual_form.reproduction.reproduce", dual_form.reproduce, lambda: dict(quick=True, seed=0, instances=2),
         dict(quick=Flag(), seed=COUNT, instances=Size(optional=True))),
    Spec("theory.dual_form.reproduction.format_report", dual_form.format_report,
         lambda: dict(record=dual_form.reproduce(quick=True, instances=2)),
         dict(record=Custom(must_fail=({}, demo_record())))),
    # figures (each topic's), core.plotting, the top-level draw_all
    Spec("theory.induction.figures.induction_head_figures", itr.figures.induction_head_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.induction.figures.induction_paper_figures", itr.figures.induction_paper_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.dual_form.figures.dual_form_figures", dual_form.figures.dual_form_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.mesa.figures.mesa_figures", mesa.figures.mesa_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.core.plotting.have_matplotlib", plotting.have_matplotlib, lambda: {}),
    Spec("theory.draw_all", theory.draw_all, lambda: dict(records_dir=tempfile.mkdtemp(), pdf=False),
         dict(records_dir=Custom(must_fail=("/nonexistent/dir",)), pdf=Flag()), run_good=False),
    Spec("theory.drawer_for", theory.drawer_for, lambda: dict(record_name="gd-step"),
         dict(record_name=Custom(must_fail=(3, ""), with_none=True))),
    Spec("theory.claims.topics", claims.topics, lambda: {}),
    Spec("theory.claims.collect_claims", claims.collect_claims, lambda: {}),
    Spec("theory.core.plotting.figure", plotting.figure, lambda: dict(width=2.0, height=1.5),
         dict(width=POS, height=POS), run_good=False),
    Spec("theory.core.plotting.save", plotting.save,
         lambda: dict(fig=_Saves(), out_dir=tempfile.mkdtemp(), stem="demo", pdf=False, caption="One paragraph."),
         dict(fig=Custom(must_fail=("abc", 3)), out_dir=Custom(must_fail=("/nonexistent/dir", 3)),
              stem=Custom(must_fail=("", "a/b", 3)), pdf=Flag(), caption=Custom(must_fail=("", "a\n\nb", 3)))),
    Spec("theory.core.plotting.smooth", plotting.smooth, lambda: dict(y=R(20), window=5), dict(y=A, window=SIZE)),
    Spec("theory.core.plotting.legend", plotting.legend, lambda: dict(ax=_Axes(), ncols=2),
         dict(ax=Custom(must_fail=("abc", 3)), ncols=SIZE)),
    Spec("theory.core.plotting.categorical_axis", plotting.categorical_axis,
         lambda: dict(ax=_Axes(), values=[1, 10, 100], label="K"),
         dict(ax=Custom(must_fail=("abc", 3)), values=Custom(must_fail=([], "abc", 3)), label=Str())),
    Spec("theory.core.plotting.signed_image", plotting.signed_image, lambda: dict(ax=_Axes(), M=R(3, 3), lim=2.0),
         dict(ax=Custom(must_fail=("abc", 3)), M=Arr(), lim=Real(positive=True, optional=True))),
    Spec("theory.core.plotting.over_seeds", plotting.over_seeds, lambda: dict(seeds=3, what="mean"),
         dict(seeds=SIZE, what=Str())),
    Spec("theory.core.plotting.draw_records", plotting.draw_records,
         lambda: dict(records_dir=tempfile.mkdtemp(), drawer_for=lambda name: None, pdf=False),
         dict(records_dir=Custom(must_fail=("/nonexistent/dir",)), drawer_for=Func(), pdf=Flag()), run_good=False),
    Spec("theory.gd_step.figures.gd_step_figures", gd_step.figures.gd_step_figures,
         lambda: dict(record=tiny_repro().to_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # mesa: layer, attention, iterations
    Spec("theory.mesa.data.random_orthogonal", mesa.random_orthogonal, lambda: dict(rng=0, batch=2, D=3),
         dict(rng=Rng(), batch=SIZE, D=SIZE)),
    Spec("theory.mesa.data.LinearDynamics", mesa.LinearDynamics, lambda: dict(S=R(2, 4, 3), W=R(2, 3, 3)),
         dict(S=Custom(must_fail=(R(2, 1, 3), R(4, 3), "a", np.full((2, 4, 3), np.nan))),
              W=Custom(must_fail=(R(2, 3, 4), R(1, 3, 3), "a", np.full((2, 3, 3), np.inf))))),
    Spec("theory.mesa.data.linear_dynamics", mesa.linear_dynamics, lambda: dict(rng=0, batch=2, T=4, D=3, sigma=0.01),
         dict(rng=Rng(), batch=SIZE, T=Custom(must_fail=(1, 0, -1, 2.5, "a")), D=SIZE, sigma=NONNEG)),
    Spec("theory.mesa.attention.tokens", mesa.tokens, lambda: dict(S=R(2, 4, 3)), dict(S=A)),
    Spec("theory.mesa.layer.mesa_layer_forward", mesa.mesa_layer_forward,
         lambda: dict(K=R(2, 4, 3), V=R(2, 4, 2), Q=R(2, 4, 3), lam=1.0), dict(K=A, V=A, Q=A, lam=POS)),
    Spec("theory.mesa.layer.mesa_layer_backward", mesa.mesa_layer_backward,
         lambda: dict(dy=R(2, 4, 2), cache=mesa.mesa_layer_forward(R(2, 4, 3), R(2, 4, 2), R(2, 4, 3), 1.0)[1]),
         dict(dy=A, cache=Cache())),
    Spec("theory.mesa.layer.ridge_predictions", mesa.ridge_predictions,
         lambda: dict(K=R(2, 4, 3), V=R(2, 4, 2), Q=R(2, 4, 3), lam=1.0), dict(K=A, V=A, Q=A, lam=POS)),
    Spec("theory.mesa.layer.downdate", mesa.downdate,
         lambda: dict(R=mesa.mesa_layer_forward(R(2, 4, 3), R(2, 4, 2), R(2, 4, 3), 1.0)[1][5][:, 1],
                      k=R(2, 4, 3)[:, 1]),
         dict(R=A, k=A)),
    Spec("theory.mesa.attention.causal_lsa_forward", mesa.causal_lsa_forward,
         lambda: dict(E=mesa.tokens(R(2, 4, 2)), params=mesa.gd_construction(2, 0.5)), dict(E=A, params=Params())),
    Spec("theory.mesa.attention.gd_construction", mesa.gd_construction, lambda: dict(D=2, eta=0.5), dict(D=SIZE, eta=REAL)),
    Spec("theory.mesa.attention.gd_prediction", mesa.gd_prediction, lambda: dict(S=R(2, 4, 3), eta=0.5), dict(S=A, eta=REAL)),
    Spec("theory.mesa.iterations.richardson", mesa.richardson, lambda: dict(A=np.eye(3)[None] * 2, b=R(1, 3), omega=0.4, steps=3),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), b=A, omega=POS, steps=SIZE)),
    Spec("theory.mesa.iterations.richardson_rate", mesa.richardson_rate, lambda: dict(A=np.eye(3)[None] * 2, omega=0.4),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), omega=POS)),
    Spec("theory.mesa.iterations.preconditioning_systems", mesa.preconditioning_systems,
         lambda: dict(rng=0, batch=2, T=5, D=3, lam=0.1), dict(rng=Rng(), batch=SIZE, T=Custom(must_fail=(1, 0)), D=SIZE,
                                                           lam=POS)),
    Spec("theory.mesa.iterations.check_richardson_bound", mesa.check_richardson_bound, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.iterations.check_neumann", mesa.check_neumann, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.iterations.chebyshev", mesa.chebyshev, lambda: dict(A=np.eye(3)[None] * 2, b=R(1, 3), mu=1.0, L=3.0, steps=3),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), b=A, mu=Custom(must_fail=(0.0, -1.0, 5.0, "a")),
              L=Custom(must_fail=(0.5, "a")), steps=SIZE)),
    Spec("theory.mesa.iterations.chebyshev_bound", mesa.chebyshev_bound, lambda: dict(mu=1.0, L=4.0, k=3),
         dict(mu=Custom(must_fail=(0.0, -1.0, 5.0, "a", float("nan"))), L=Custom(must_fail=(0.5, "a", float("inf"))),
              k=Custom(must_fail=(-1, "a")))),
    Spec("theory.mesa.iterations.check_chebyshev_bound", mesa.check_chebyshev_bound, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.attention.init_layer", mesa.init_layer, lambda: dict(rng=0, width=4, heads=2, key_size=3, scale=0.1),
         dict(rng=Rng(), width=SIZE, heads=SIZE, key_size=SIZE, scale=POS)),
    Spec("theory.mesa.attention.causal_attention_forward", mesa.causal_attention_forward,
         lambda: dict(E=R(2, 3, 4), params=mesa.init_layer(0, 4, 2, 3, scale=0.1)), dict(E=A, params=Params())),
    Spec("theory.mesa.attention.causal_attention_backward", mesa.causal_attention_backward,
         lambda: dict(dout=R(2, 3, 4), cache=mesa.causal_attention_forward(R(2, 3, 4), mesa.init_layer(0, 4, 2, 3))[1]),
         dict(dout=A, cache=Cache())),
    Spec("theory.mesa.attention.next_state_loss", mesa.next_state_loss,
         lambda: dict(layers=[mesa.init_layer(0, 8, 2, 3)], S=R(2, 4, 2), clip=4.0, E=mesa.tokens(R(2, 4, 2))),
         dict(layers=Custom(must_fail=([], "abc", [{}])), S=A, clip=Real(positive=True, optional=True),
              E=Custom(must_fail=(R(2, 3, 8), R(2, 4, 1), "a"), optional=True))),
    Spec("theory.mesa.attention.residual_streams", mesa.residual_streams,
         lambda: dict(layers=[mesa.init_layer(0, 8, 2, 3)], E=R(2, 4, 8), clip=4.0),
         dict(layers=Custom(must_fail=([], "abc", [{}])), E=A, clip=Real(positive=True, optional=True))),
    # mesa: training, analysis, reproduction
    Spec("theory.mesa.training.MesaConfig", mesa.MesaConfig, lambda: {f: getattr(TINY_MESA, f) for f in TINY_MESA.__dataclass_fields__},
         dict(layers=SIZE, heads=SIZE, key_size=SIZE, steps=SIZE, batch=SIZE, lr=POS, weight_decay=NONNEG,
              grad_clip=POS, resid_clip=POS, init_scale=POS, mask_copy=Flag(), D=SIZE,
              T=Custom(must_fail=(1, 0, 2.5, "a")), sigma=NONNEG, seed=COUNT, threads=SIZE)),
    Spec("theory.mesa.training.quick_config", mesa.quick_config, lambda: dict(config=TINY_MESA),
         dict(config=Custom(must_fail=("x", {}, 3)))),
    Spec("theory.mesa.training.model_tokens", mesa.model_tokens, lambda: dict(config=TINY_MESA, S=R(2, 4, 2)),
         dict(config=Custom(must_fail=("x", {})), S=Custom(must_fail=(R(2, 4, 3), R(4, 2), "a")))),
    Spec("theory.mesa.training.train", mesa.train, lambda: dict(config=TINY_MESA, progress=None),
         dict(config=Custom(must_fail=("x", {})), progress=Func(optional=True))),
    Spec("theory.mesa.training.predict", mesa.predict, lambda: dict(config=TINY_MESA, layers=mesa_layers(), S=R(2, 4, 2)),
         dict(config=Custom(must_fail=("x", {})), layers=Custom(must_fail=([], "abc", [{}])),
              S=Custom(must_fail=(R(2, 4, 3), R(4, 2), "a")))),
    Spec("theory.mesa.training.position_losses", mesa.position_losses, lambda: dict(pred=R(2, 3, 2), S=R(2, 4, 2)),
         dict(pred=Custom(must_fail=(R(2, 4, 2), R(3, 2), "a")), S=A)),
    Spec("theory.mesa.training.best_gd", mesa.best_gd, lambda: dict(S_fit=R(2, 4, 2)), dict(S_fit=A)),
    Spec("theory.mesa.training.best_ridge", mesa.best_ridge, lambda: dict(S_fit=R(2, 4, 2), pairs="author"),
         dict(S_fit=A, pairs=Choice())),
    Spec("theory.mesa.training.best_c", mesa.best_c, lambda: dict(S_fit=R(2, 4, 2)), dict(S_fit=A)),
    Spec("theory.mesa.training.baselines", mesa.baselines, lambda: dict(S_fit=R(2, 4, 2), data=mesa_states()),
         dict(S_fit=Custom(must_fail=(R(2, 4, 3), "a")), data=Custom(must_fail=(R(2, 4, 2), "a")))),
    Spec("theory.mesa.analysis.revalg_scalars", mesa.revalg_scalars, lambda: dict(layer=mesa.init_layer(0, 8, 2, 3), D=2),
         dict(layer=Custom(must_fail=({}, "a", mesa.init_layer(0, 12, 2, 3))), D=SIZE)),
    Spec("theory.mesa.analysis.revalg_layer", mesa.revalg_layer, lambda: dict(scalars=dict(qk=R(2, 2, 2), pv=R(2, 2)), D=2),
         dict(scalars=Custom(must_fail=({}, "a", dict(qk=R(2, 3, 2), pv=R(2, 2)), dict(qk=R(2, 2, 2), pv=R(1, 2)))),
              D=SIZE)),
    Spec("theory.mesa.analysis.probe_scores", mesa.probe_scores,
         lambda: dict(X_fit=R(20, 3, 4), Y_fit=R(20, 3, 2), X_test=R(10, 3, 4), Y_test=R(10, 3, 2),
                      keep_fit=np.ones((20, 3), bool), keep_test=np.ones((10, 3), bool)),
         dict(X_fit=A, Y_fit=Custom(must_fail=(R(19, 3, 2), "a")), X_test=Custom(must_fail=(R(10, 3, 5), "a")),
              Y_test=Custom(must_fail=(R(10, 3, 1), "a")),
              keep_fit=Custom(must_fail=(np.ones((20, 3)), np.ones((20, 2), bool), np.zeros((20, 3), bool)),
                              optional=True),
              keep_test=Custom(must_fail=(np.ones((10, 3)), np.ones((9, 3), bool)), optional=True))),
    Spec("theory.mesa.analysis.norm_inliers", mesa.norm_inliers, lambda: dict(Y=R(10, 3, 2), z=3.0), dict(Y=A, z=POS)),
    Spec("theory.mesa.analysis.preconditioned_inputs", mesa.preconditioned_inputs, lambda: dict(S=R(2, 4, 2), lam=1e-3),
         dict(S=A, lam=POS)),
    Spec("theory.mesa.reproduction.reproduce", mesa.reproduce, lambda: dict(quick=True, seed=0, test_batch=16, executor=None),
         dict(quick=Flag(), seed=COUNT, test_batch=Size(optional=True), executor=Executor()), run_good=False),
    Spec("theory.mesa.reproduction.format_report", mesa.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.mesa.iterations.iteration_polynomial", mesa.iteration_polynomial,
         lambda: dict(method="chebyshev", lam=0.5, steps=3, omega=None, mu=1.0, L=3.0),
         dict(method=Custom(must_fail=("newton", 3)), lam=NONNEG, steps=SIZE,
              omega=Custom(must_fail=(0.5,), optional=True), mu=Custom(must_fail=(0.0, -1.0, 4.0, float("nan"), "a")),
              L=Custom(must_fail=(0.5, float("inf"), "a")))),
    Spec("theory.mesa.iterations.krylov_tokens", mesa.krylov_tokens, lambda: dict(S=R(2, 4, 3), steps=2), dict(S=A, steps=SIZE)),
    Spec("theory.mesa.iterations.krylov_layers", mesa.krylov_layers, lambda: dict(D=2, steps=3), dict(D=SIZE, steps=SIZE)),
    Spec("theory.mesa.iterations.krylov_readout", mesa.krylov_readout, lambda: dict(E=R(2, 4, 8), coef=R(3)),
         dict(E=Custom(must_fail=(R(2, 4, 7), R(4, 8), "a")), coef=A)),
    Spec("theory.mesa.iterations.run_krylov_stack", mesa.run_krylov_stack, lambda: dict(S=R(2, 4, 3), coef=R(3)), dict(S=A, coef=A)),
    Spec("theory.mesa.iterations.check_stack_runs_iterations", mesa.check_stack_runs_iterations, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.layer.check_sherman_morrison", mesa.check_sherman_morrison, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.layer.check_downdate", mesa.check_downdate, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.layer.check_mesa_is_attention", mesa.check_mesa_is_attention, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.attention.check_causal_gd_step", mesa.check_causal_gd_step, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.layer.check_mesa_gradient", mesa.check_mesa_gradient, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.mesa.attention.check_model_gradient", mesa.check_model_gradient, lambda: dict(rng=0), dict(rng=Rng())),
    # scan and snap
    Spec("theory.scan_snap.data.ScanSnapTask", ssn.ScanSnapTask, lambda: dict(P=SS_TASK.P, query=SS_TASK.query, next_token=SS_TASK.next_token),
         dict(P=Custom(must_fail=(np.full((2, 9), 0.2), -SS_TASK.P, np.zeros((2, 0)), SS_TASK.P[0], "a")),
              query=Custom(must_fail=(SS_TASK.query[:1], np.array([0, 0]), np.array([0.5, 1.0]), "a")),
              next_token=Custom(must_fail=(SS_TASK.next_token[:1], np.array([99, 0]), "a")))),
    Spec("theory.scan_snap.data.ScanSnapTask.distinct", lambda: SS_TASK.distinct(), lambda: {}),
    Spec("theory.scan_snap.data.scan_snap_task", ssn.scan_snap_task, lambda: dict(n_queries=1, classes_per_query=2, n_common=2, n_distinct=2),
         dict(n_queries=SIZE, classes_per_query=SIZE, n_common=COUNT, n_distinct=SIZE)),
    Spec("theory.scan_snap.data.scan_snap_sequences", ssn.scan_snap_sequences, lambda: dict(rng=0, task=SS_TASK, batch=3, T=4),
         dict(rng=Rng(), task=Custom(must_fail=("a", {})), batch=SIZE, T=Custom(must_fail=(1, 0, 2.5, "a")))),
    Spec("theory.scan_snap.model.init_params", ssn.init_params, lambda: dict(rng=0, M=4, zero=False), dict(rng=Rng(), M=SIZE, zero=Flag())),
    Spec("theory.scan_snap.model.attention_histogram", ssn.attention_histogram, lambda: dict(Z=ss_params()["Z"], tokens=ss_batch().tokens),
         dict(Z=A, tokens=Custom(must_fail=(np.array([[1]]), np.array([[0, 99]]), np.ones((2, 3)), "a")))),
    Spec("theory.scan_snap.model.loss_and_grads", ssn.loss_and_grads,
         lambda: dict(params=ss_params(), tokens=ss_batch().tokens, labels=ss_batch().labels, residual=False),
         dict(params=Params(), tokens=Custom(must_fail=(np.array([[1]]), np.array([[0, 99]] * 3), "a")),
              labels=Custom(must_fail=(np.array([0, 1]), np.array([0, 1, 99]), "a")), residual=Flag())),
    Spec("theory.scan_snap.model.long_sequence_attention", ssn.long_sequence_attention, lambda: dict(Z=ss_params()["Z"], task=SS_TASK),
         dict(Z=Custom(must_fail=(R(3, 3), np.full((SS_TASK.M, SS_TASK.M), np.nan), "a")), task=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.model.reduced_loss_and_grads", ssn.reduced_loss_and_grads, lambda: dict(params=ss_params(), task=SS_TASK),
         dict(params=Params(), task=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.model.paper_flow", ssn.paper_flow, lambda: dict(params=ss_params(), task=SS_TASK, eta_Y=1.0, eta_Z=2.0),
         dict(params=Params(), task=Custom(must_fail=("a", {})), eta_Y=POS, eta_Z=POS)),
    Spec("theory.scan_snap.model.entropy", ssn.entropy, lambda: dict(c=np.full((2, 4), 0.25)),
         dict(c=Custom(must_fail=(np.array([[1.5, -0.5]]), R(4), np.full((1, 2), np.nan), "a")))),
    Spec("theory.scan_snap.model.distinct_entropy", ssn.distinct_entropy,
         lambda: dict(c=np.full((SS_TASK.K, SS_TASK.M), 1.0 / SS_TASK.M), task=SS_TASK),
         dict(c=Custom(must_fail=(-np.ones((SS_TASK.K, SS_TASK.M)), np.ones((1, 2)), np.zeros((SS_TASK.K, SS_TASK.M)),
                                  "a")),
              task=Obj())),
    *[Spec(_name(getattr(ssn, f)), getattr(ssn, f), lambda: dict(rng=0), dict(rng=Rng()))
      for f in ("check_finite_gradient", "check_reduced_gradient", "check_paper_flow", "check_invariances",
                "check_histogram_limit")],
    Spec("theory.scan_snap.training.SGDConfig", ssn.SGDConfig, lambda: {f: getattr(SS_TINY, f) for f in SS_TINY.__dataclass_fields__},
         dict(n_queries=SIZE, classes_per_query=SIZE, n_common=COUNT, n_distinct=SIZE, T=Custom(must_fail=(1, 0, 2.5, "a")),
              batch=SIZE, steps=SIZE, lr_Z=POS, ratio=POS, momentum=UNIT, zero_init=Flag(), residual=Flag(), seed=COUNT)),
    Spec("theory.scan_snap.training.SGDConfig.task", lambda: SS_TINY.task(), lambda: {}),
    Spec("theory.scan_snap.training.train_sgd", ssn.train_sgd, lambda: dict(config=SS_TINY), dict(config=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.training.integrate_flow", ssn.integrate_flow,
         lambda: dict(task=SS_TASK, params=ss_params(), eta_Y=1.0, eta_Z=1.0, times=[1.0, 2.0], ds=0.05),
         dict(task=Custom(must_fail=("a", {})), params=Params(), eta_Y=POS, eta_Z=POS,
              times=Custom(must_fail=([], [2.0, 1.0], [-1.0], "a")), ds=POS)),
    Spec("theory.scan_snap.training.flow_step_check", ssn.flow_step_check,
         lambda: dict(task=SS_TASK, params=ss_params(), eta_Y=1.0, eta_Z=1.0, times=[1.0, 2.0], ds=0.05),
         dict(task=Custom(must_fail=("a", {})), params=Params(), eta_Y=POS, eta_Z=POS,
              times=Custom(must_fail=([], [2.0, 1.0], "a")), ds=POS)),
    Spec("theory.scan_snap.training.momentum_time", ssn.momentum_time, lambda: dict(steps=5, beta=0.9), dict(steps=SIZE, beta=UNIT)),
    Spec("theory.scan_snap.training.snap_fits", ssn.snap_fits, lambda: dict(flow=ss_flow(), times=[10.0, 20.0, 40.0], t_from=10.0),
         dict(flow=Custom(must_fail=({}, "a")), times=Custom(must_fail=([10.0, 20.0], "a")),
              t_from=Custom(must_fail=(0.0, -1.0, 30.0, float("nan"), "a")))),
    Spec("theory.scan_snap.training.entropy_sweep", ssn.entropy_sweep,
         lambda: dict(seeds=1, n_queries=(1,), steps=2, T=4, executor=None),
         dict(seeds=SIZE, n_queries=Custom(must_fail=((0,), ("a",))), steps=SIZE, T=SIZE, executor=Executor()),
         run_good=False),
    Spec("theory.scan_snap.reproduction.reproduce", ssn.reproduce, lambda: dict(quick=True, seed=0, executor=None, progress=None),
         dict(quick=Flag(), seed=COUNT, executor=Executor(), progress=Func(optional=True)), run_good=False),
    Spec("theory.scan_snap.reproduction.format_report", ssn.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    *[Spec(_name(getattr(ssn, f)), getattr(ssn, f), lambda: dict(rng=0), dict(rng=Rng()))
      for f in ("check_frequency_bias", "check_discriminative_bias", "check_scan_order", "check_snap")],
    Spec("theory.scan_snap.figures.scan_snap_figures", ssn.figures.scan_snap_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.core.gradcheck.low_precision", gradcheck.low_precision, lambda: dict(label="dQ", x=np.ones(2, np.float32)),
         dict(label=Str(), x=Unchecked(reason="any array: its dtype is the answer"))),
    # preconditioned GD
    Spec("theory.preconditioned_gd.data.regression_prompts", pgd.regression_prompts,
         lambda: dict(rng=0, batch=2, n=3, d=2, cov=np.diag([1.0, 0.5]), task="inverse", noise=0.1),
         dict(rng=Rng(), batch=SIZE, n=SIZE, d=SIZE, cov=SPD(optional=True), task=Choice(), noise=NONNEG)),
    Spec("theory.preconditioned_gd.data.single_index_prompts", pgd.single_index_prompts,
         lambda: dict(rng=0, batch=2, n=3, d=2), dict(rng=Rng(), batch=SIZE, n=SIZE, d=SIZE)),
    Spec("theory.preconditioned_gd.data.rotated_covariance", pgd.rotated_covariance, lambda: dict(rng=0, D=(1.0, 0.5)),
         dict(rng=Rng(), D=Custom(must_fail=((1.0, -1.0), (), "ab", np.zeros((2, 2)))))),
    Spec("theory.preconditioned_gd.model.prompt", pgd.prompt, lambda: dict(X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2)),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4), R(3),)), x_q=Custom(must_fail=(R(2, 3), R(2),)))),
    Spec("theory.preconditioned_gd.model.sparse_weights", pgd.sparse_weights, lambda: dict(A=R(2, 2), B=R(2, 2)),
         dict(A=Custom(must_fail=(R(2, 3), R(2), "a")), B=Custom(must_fail=(R(3, 3), R(2), "a")))),
    Spec("theory.preconditioned_gd.model.layer_forward", pgd.layer_forward, lambda: dict(Z=R(2, 3, 4), P=R(3, 3), Q=R(3, 3)),
         dict(Z=Custom(must_fail=(R(3, 4), R(2, 3, 1), "a")), P=Custom(must_fail=(R(2, 2), "a")),
              Q=Custom(must_fail=(R(4, 4), "a")))),
    Spec("theory.preconditioned_gd.model.layer_backward", pgd.layer_backward,
         lambda: dict(dZ_out=R(2, 3, 4), cache=pgd.layer_forward(R(2, 3, 4), R(3, 3), R(3, 3))[1]),
         dict(dZ_out=Custom(must_fail=(R(2, 3, 5), "a")), cache=Cache())),
    Spec("theory.preconditioned_gd.model.stack_forward", pgd.stack_forward,
         lambda: dict(Z=R(2, 3, 4), Ps=R(2, 3, 3), Qs=R(2, 3, 3)),
         dict(Z=Custom(must_fail=(R(3, 4), "a")), Ps=Custom(must_fail=(R(2, 2, 2), R(3, 3))), Qs=Custom(must_fail=(R(1, 3, 3), "a")))),
    Spec("theory.preconditioned_gd.model.stack_backward", pgd.stack_backward,
         lambda: dict(dZ_out=R(2, 3, 4), caches=pgd.stack_forward(R(2, 3, 4), R(2, 3, 3), R(2, 3, 3))[1]),
         dict(dZ_out=Custom(must_fail=(R(2, 3, 5), "a")), caches=Custom(must_fail=([], "a", [(1, 2)])))),
    Spec("theory.preconditioned_gd.model.predict", pgd.predict, lambda: dict(Z=R(2, 3, 4)),
         dict(Z=Custom(must_fail=(R(3, 4), "a")))),
    Spec("theory.preconditioned_gd.model.sparse_loss", pgd.sparse_loss,
         lambda: dict(params={"A": R(2, 2, 2), "B": R(2, 2, 2)}, Z0=R(3, 3, 4), y_q=R(3)),
         dict(params=Params(), Z0=Custom(must_fail=(R(3, 4), R(3, 4, 4))), y_q=Custom(must_fail=(R(4), "a")))),
    Spec("theory.preconditioned_gd.model.preconditioned_gd", pgd.preconditioned_gd,
         lambda: dict(X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2), Gammas=R(2, 2, 2)),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), x_q=Custom(must_fail=(R(2, 3),)),
              Gammas=Custom(must_fail=(R(2, 3, 3), R(2, 2))))),
    *[Spec(_name(getattr(pgd, f)), getattr(pgd, f), lambda: dict(rng=0), dict(rng=Rng()))
      for f in ("check_gd_steps", "check_gdpp_update", "check_dense_mirror", "check_S_gradient", "check_zfb_limit")],
    Spec("theory.preconditioned_gd.optimum.check_optimum", pgd.check_optimum, lambda: dict(rng=0, samples=2000),
         dict(rng=Rng(), samples=SIZE)),
    Spec("theory.preconditioned_gd.optimum.check_single_index", pgd.check_single_index, lambda: dict(rng=0, samples=2000),
         dict(rng=Rng(), samples=SIZE)),
    Spec("theory.preconditioned_gd.optimum.task_covariance", pgd.task_covariance,
         lambda: dict(cov=np.diag([1.0, 0.5]), task="inverse"), dict(cov=SPD(), task=Choice())),
    *[Spec(_name(getattr(pgd, f)), getattr(pgd, f),
           (lambda f=f: dict(**({"Gamma": np.eye(2)} if f == "population_loss" else {}), cov=np.diag([1.0, 0.5]), n=4,
                             task="identity", noise=0.1)),
           dict(**({"Gamma": Custom(must_fail=(R(3, 3), "a"))} if f == "population_loss" else {}), cov=SPD(), n=SIZE,
                task=Choice(), noise=NONNEG))
      for f in ("population_loss", "optimal_gamma", "optimal_loss")],
    Spec("theory.preconditioned_gd.optimum.isotropic_step", pgd.isotropic_step,
         lambda: dict(n=10, d=3, noise=0.1, task_scale=1.0), dict(n=SIZE, d=SIZE, noise=NONNEG, task_scale=POS)),
    *[Spec(_name(getattr(pgd, f)), getattr(pgd, f), lambda: dict(n=10, d=3), dict(n=SIZE, d=SIZE))
      for f in ("single_index_step", "single_index_loss")],
    Spec("theory.preconditioned_gd.flow.zfb_gamma", pgd.zfb_gamma, lambda: dict(cov=np.diag([1.0, 0.5]), N=4),
         dict(cov=SPD(), N=SIZE)),
    Spec("theory.preconditioned_gd.flow.zfb_init", pgd.zfb_init, lambda: dict(rng=0, d=2, scale=0.1),
         dict(rng=Rng(), d=SIZE, scale=POS)),
    Spec("theory.preconditioned_gd.flow.flow_gradient", pgd.flow_gradient,
         lambda: dict(u=0.1, U=R(2, 2), cov=np.diag([1.0, 0.5]), N=4),
         dict(u=REAL, U=Custom(must_fail=(R(3, 3), "a")), cov=SPD(), N=SIZE)),
    Spec("theory.preconditioned_gd.flow.integrate_flow", pgd.integrate_flow,
         lambda: dict(u0=0.1, U0=0.1 * np.eye(2), cov=np.diag([1.0, 0.5]), N=4, t_end=1.0, dt=0.5),
         dict(u0=REAL, U0=Custom(must_fail=(R(3, 3), "a")), cov=SPD(), N=SIZE, t_end=POS, dt=POS)),
    Spec("theory.preconditioned_gd.flow.shifted_error", pgd.shifted_error,
         lambda: dict(Gamma=np.eye(2), context_cov=np.eye(2), query_cov=np.eye(2), task_cov=np.eye(2), M=4),
         dict(Gamma=Custom(must_fail=(R(3, 3), "a")), context_cov=SPD(), query_cov=Custom(must_fail=(np.eye(3), -np.eye(2))),
              task_cov=Custom(must_fail=(np.eye(3), "a")), M=SIZE)),
    Spec("theory.preconditioned_gd.flow.ridge_error", pgd.ridge_error,
         lambda: dict(rng=0, context_cov=np.eye(2), query_cov=np.eye(2), task_cov=np.eye(2), M=4, lam=1e-6, samples=50),
         dict(rng=Rng(), context_cov=SPD(), query_cov=SPD(), task_cov=SPD(), M=SIZE, lam=POS, samples=SIZE)),
    Spec("theory.preconditioned_gd.multilayer.signed_permutations", pgd.signed_permutations, lambda: dict(d=2),
         dict(d=Custom(must_fail=(0, 6, 2.5, "a")))),
    Spec("theory.preconditioned_gd.multilayer.on_S", pgd.on_S, lambda: dict(a=[0.1, 0.2], b=[0.0, 0.1], cov=np.eye(2)),
         dict(a=Custom(must_fail=([0.1], "a", np.ones((2, 2)))), b=Custom(must_fail=([0.1], "a")), cov=SPD())),
    Spec("theory.preconditioned_gd.multilayer.orbit_gradient", pgd.orbit_gradient,
         lambda: dict(rng=0, params=pgd.on_S([0.1], [0.0], np.eye(2)), cov=np.eye(2), n=3, batch=2),
         dict(rng=Rng(), params=Custom(must_fail=("a", {})), cov=SPD(), n=SIZE, batch=SIZE)),
    Spec("theory.preconditioned_gd.multilayer.span_distance", pgd.span_distance, lambda: dict(M=R(2, 2), basis=np.eye(2)),
         dict(M=Custom(must_fail=(R(3, 3), R(2), "a")), basis=Custom(must_fail=(R(3, 3), "a")))),
    Spec("theory.preconditioned_gd.multilayer.scalar_loss", pgd.scalar_loss,
         lambda: dict(a=[0.1], b=[0.0], prompts=(R(3, 3, 4), R(3)), basis=np.eye(2)),
         dict(a=Custom(must_fail=([0.1, 0.2], "a")), b=Custom(must_fail=([0.1, 0.2], "a")),
              prompts=Custom(must_fail=("a", (R(3, 4), R(3)), (R(3, 3, 4), R(4)))), basis=Custom(must_fail=(R(3, 3), "a")))),
    Spec("theory.preconditioned_gd.multilayer.best_scalars", pgd.best_scalars,
         lambda: dict(rng=0, layers=1, n=3, d=2, cov=np.eye(2), basis="inverse", variant="gd", samples=20, steps=2, lr=0.01),
         dict(rng=Rng(), layers=SIZE, n=SIZE, d=SIZE, cov=SPD(optional=True), basis=Choice(), variant=Choice(),
              samples=SIZE, steps=SIZE, lr=POS)),
    Spec("theory.preconditioned_gd.training.TrainConfig", pgd.TrainConfig,
         lambda: {f: getattr(PGD_TINY, f) for f in PGD_TINY.__dataclass_fields__},
         dict(layers=SIZE, d=SIZE, n=SIZE, D=Custom(must_fail=((1.0,), (1.0, -1.0, 1.0), "abc")), task=Choice(),
              variant=Choice(), steps=SIZE, batch=SIZE, lr=POS, betas=Custom(must_fail=((0.9,), (0.9, 1.5), "ab")),
              halve_every=SIZE, clip=POS, init_std=POS, seed=COUNT, cov_seed=COUNT)),
    Spec("theory.preconditioned_gd.training.quick_config", pgd.quick_config,
         lambda: dict(layers=1, task="inverse", variant="gd", seed=0),
         dict(layers=SIZE, task=Choice(), variant=Choice(), seed=COUNT)),
    Spec("theory.preconditioned_gd.training.train", pgd.train, lambda: dict(config=PGD_TINY),
         dict(config=Custom(must_fail=("x", {}, 3)))),
    Spec("theory.preconditioned_gd.training.evaluate", pgd.evaluate,
         lambda: dict(params={"A": R(1, 3, 3), "B": R(1, 3, 3)}, config=PGD_TINY, samples=20, seed=0),
         dict(params=Params(), config=Custom(must_fail=("x", 3)), samples=SIZE, seed=Rng())),
    Spec("theory.preconditioned_gd.reproduction.reproduce", pgd.reproduce, lambda: dict(quick=True, seed=0, executor=None),
         dict(quick=Flag(), seed=COUNT, executor=Executor()), run_good=False),
    Spec("theory.preconditioned_gd.reproduction.format_report", pgd.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.preconditioned_gd.figures.preconditioned_gd_figures", pgd.figures.preconditioned_gd_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # task diversity
    Spec("theory.task_diversity.data.fresh_tasks", tdv.fresh_tasks, lambda: dict(rng=0, count=3, d=2, tasks="sphere"),
         dict(rng=Rng(), count=SIZE, d=SIZE, tasks=Choice())),
    Spec("theory.task_diversity.data.task_pool", tdv.task_pool, lambda: dict(rng=0, k=3, d=2, tasks="gaussian"),
         dict(rng=Rng(), k=SIZE, d=SIZE, tasks=Choice())),
    Spec("theory.task_diversity.data.sequences", tdv.sequences,
         lambda: dict(rng=0, n=4, ell=3, d=2, rho=0.1, pool=R(3, 2), tasks="gaussian", scale="lu", assign="balanced"),
         dict(rng=Rng(), n=SIZE, ell=SIZE, d=SIZE, rho=NONNEG, pool=Custom(must_fail=(R(3, 4), R(3), "a", np.empty((0, 2))), optional=True),
              tasks=Choice(), scale=Choice(), assign=Choice())),
    Spec("theory.task_diversity.model.context_vector", tdv.context_vector, lambda: dict(X=R(2, 3, 2), y=R(2, 3)),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4), R(3), "a")))),
    Spec("theory.task_diversity.model.features", tdv.features, lambda: dict(X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2)),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), x_q=Custom(must_fail=(R(2, 3), R(2), "a")))),
    Spec("theory.task_diversity.model.predict", tdv.predict,
         lambda: dict(Gamma=R(2, 3), X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2)),
         dict(Gamma=Custom(must_fail=(R(2, 2), R(3, 3), "a")), X=Arr(), y=Custom(must_fail=(R(2, 4),)),
              x_q=Custom(must_fail=(R(2, 3),)))),
    Spec("theory.task_diversity.model.lsa_prediction", tdv.lsa_prediction,
         lambda: dict(V=R(3, 3), W=R(3, 3), X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2)),
         dict(V=Custom(must_fail=(R(2, 2), "a")), W=Custom(must_fail=(R(3, 2), "a")), X=Arr(),
              y=Custom(must_fail=(R(2, 4),)), x_q=Custom(must_fail=(R(2, 3),)))),
    Spec("theory.task_diversity.model.lsa_gamma", tdv.lsa_gamma, lambda: dict(v_y=0.5, W=R(3, 3)),
         dict(v_y=Real(), W=Custom(must_fail=(R(1, 1), R(3, 2), R(3), "a")))),
    Spec("theory.task_diversity.model.pretraining_loss", tdv.pretraining_loss,
         lambda: dict(Gamma=R(2, 3), X=R(4, 3, 2), y=R(4, 3), x_q=R(4, 2), y_q=R(4), lam=0.1),
         dict(Gamma=Custom(must_fail=(R(2, 2), "a")), X=Arr(), y=Custom(must_fail=(R(4, 2),)),
              x_q=Custom(must_fail=(R(4, 3),)), y_q=Custom(must_fail=(R(3), "a")), lam=NONNEG)),
    Spec("theory.task_diversity.model.pretrain_ridge", tdv.pretrain_ridge,
         lambda: dict(X=R(8, 3, 2), y=R(8, 3), x_q=R(8, 2), y_q=R(8), lam=0.1, chunk=3),
         dict(X=Arr(), y=Custom(must_fail=(R(8, 2),)), x_q=Custom(must_fail=(R(8, 3),)),
              y_q=Custom(must_fail=(R(7), "a")), lam=NONNEG, chunk=SIZE)),
    Spec("theory.task_diversity.model.pretrain_gd", tdv.pretrain_gd,
         lambda: dict(X=R(8, 3, 2), y=R(8, 3), x_q=R(8, 2), y_q=R(8), lam=0.1, steps=3, lr=None),
         dict(X=Arr(), y=Custom(must_fail=(R(8, 2),)), x_q=Custom(must_fail=(R(8, 3),)),
              y_q=Custom(must_fail=(R(7), "a")), lam=NONNEG, steps=SIZE, lr=Custom(must_fail=(0.0, -1.0, "a"), optional=True))),
    *[Spec(_name(getattr(tdv, f)), getattr(tdv, f), lambda: dict(rng=0), dict(rng=Rng()))
      for f in ("check_lsa_reduction", "check_gd_reaches_ridge", "check_optimum_is_one_gd_step", "check_limits",
                "check_estimators")],
    Spec("theory.task_diversity.error.check_error_formula", tdv.check_error_formula, lambda: dict(rng=0, samples=2000),
         dict(rng=Rng(), samples=SIZE)),
    Spec("theory.task_diversity.error.task_moments", tdv.task_moments, lambda: dict(tasks=R(3, 2), d=2),
         dict(tasks=Custom(must_fail=("bogus", R(3, 3), R(3), 3)), d=SIZE)),
    Spec("theory.task_diversity.error.expected_error", tdv.expected_error,
         lambda: dict(Gamma=R(2, 3), ell=4, rho=0.1, tasks="gaussian"),
         dict(Gamma=Custom(must_fail=(R(2, 2), R(3), "a")), ell=SIZE, rho=NONNEG,
              tasks=Custom(must_fail=("bogus", R(3, 3)), must_pass=("sphere", R(3, 2))))),
    Spec("theory.task_diversity.error.optimal_gamma", tdv.optimal_gamma, lambda: dict(d=2, ell=4, rho=0.1, tasks="gaussian"),
         dict(d=SIZE, ell=SIZE, rho=NONNEG, tasks=Custom(must_fail=("bogus", R(3, 3)), must_pass=(R(3, 2),)))),
    Spec("theory.task_diversity.error.optimal_error", tdv.optimal_error, lambda: dict(d=2, ell=4, rho=0.1, tasks="gaussian"),
         dict(d=SIZE, ell=SIZE, rho=NONNEG, tasks=Custom(must_fail=("bogus", R(3, 3)), must_pass=(R(3, 2),)))),
    Spec("theory.task_diversity.error.monte_carlo_error", tdv.monte_carlo_error,
         lambda: dict(rng=0, Gamma=R(2, 3), ell=4, rho=0.1, samples=50, tasks="gaussian"),
         dict(rng=Rng(), Gamma=Custom(must_fail=(R(2, 2), "a")), ell=SIZE, rho=NONNEG, samples=SIZE,
              tasks=Custom(must_fail=("bogus", R(3, 3)), must_pass=(R(3, 2),)))),
    Spec("theory.task_diversity.asymptotics.stieltjes", tdv.stieltjes, lambda: dict(x=0.5, kappa=2.0),
         dict(x=POS, kappa=Custom(must_fail=(0.0, -1.0, "a", float("nan"), True), must_pass=(np.inf,)))),
    *[Spec(_name(f), f, lambda: dict(alpha=2.0, kappa=0.5, tau=1.5, rho=0.01),
           dict(alpha=POS, kappa=Custom(must_fail=(0.0, -1.0, "a", float("nan"))),
                tau=Custom(must_fail=(0.0, 1.0, -1.0, "a", float("nan"))), rho=NONNEG))
      for f in (tdv.ridgeless_icl, tdv.ridgeless_idg)],
    Spec("theory.task_diversity.asymptotics.icl_limit", tdv.icl_limit, lambda: dict(alpha=2.0, rho=0.1),
         dict(alpha=POS, rho=NONNEG)),
    Spec("theory.task_diversity.bayes.dmmse_weights", tdv.dmmse_weights,
         lambda: dict(X=R(2, 3, 2), y=R(2, 3), pool=R(4, 2), noise_var=0.25),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), pool=Custom(must_fail=(R(4, 3), R(4), "a")), noise_var=POS)),
    Spec("theory.task_diversity.bayes.dmmse_predictions", tdv.dmmse_predictions,
         lambda: dict(X=R(2, 3, 2), y=R(2, 3), pool=R(4, 2), noise_var=0.25),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), pool=Custom(must_fail=(R(4, 3), R(4), "a")), noise_var=POS)),
    Spec("theory.task_diversity.bayes.dmmse_query", tdv.dmmse_query,
         lambda: dict(X=R(2, 3, 2), y=R(2, 3), x_q=R(2, 2), pool=R(4, 2), noise_var=0.25, chunk=1),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), x_q=Custom(must_fail=(R(2, 3),)),
              pool=Custom(must_fail=(R(4, 3), R(4), "a")), noise_var=POS, chunk=SIZE)),
    Spec("theory.task_diversity.bayes.ridge_predictions", tdv.ridge_predictions,
         lambda: dict(X=R(2, 3, 2), y=R(2, 3), lam=0.5),
         dict(X=Arr(), y=Custom(must_fail=(R(2, 4),)), lam=POS)),
    Spec("theory.task_diversity.bayes.position_errors", tdv.position_errors,
         lambda: dict(predictions=R(2, 3), X=R(2, 3, 2), w=R(2, 2)),
         dict(predictions=Custom(must_fail=(R(2, 4), "a")), X=Arr(), w=Custom(must_fail=(R(2, 3), "a")))),
    Spec("theory.task_diversity.simulation.sizes", tdv.sizes, lambda: dict(d=4, alpha=1.0, kappa=0.5, tau=2.0),
         dict(d=SIZE, alpha=POS, kappa=Custom(must_fail=(0.0, -1.0, "a", 1e200), must_pass=(np.inf,)),
              tau=POS)),
    Spec("theory.task_diversity.simulation.pretrain_and_score", tdv.pretrain_and_score,
         lambda: dict(seed=0, d=2, alpha=1.0, kappa=1.0, tau=2.0, rho=0.1, lam=0.0),
         dict(seed=Rng(), d=SIZE, alpha=POS, kappa=Custom(must_fail=(0.0, "a"), must_pass=(np.inf,)), tau=POS,
              rho=NONNEG, lam=NONNEG)),
    Spec("theory.task_diversity.reproduction.reproduce", tdv.reproduce, lambda: dict(quick=True, seed=0, executor=None),
         dict(quick=Flag(), seed=COUNT, executor=Executor()), run_good=False),
    Spec("theory.task_diversity.reproduction.format_report", tdv.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.task_diversity.figures.task_diversity_figures", tdv.figures.task_diversity_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # statistical induction heads (Edelman et al. 2024)
    Spec("theory.induction.markov.transition_matrices", itr.transition_matrices, lambda: dict(rng=0, batch=2, k=2, order=2),
         dict(rng=Rng(), batch=SIZE, k=Custom(must_fail=(1, 0, 2.5, "a")), order=Custom(must_fail=(1, 0, 2.5, "a")))),
    Spec("theory.induction.markov.stationary", itr.stationary, lambda: dict(P=MC_P()),
         dict(P=Custom(must_fail=(MC_P()[0], MC_P() * 2, -MC_P(), np.full((1, 2, 2), np.nan), "a",
                                  np.array([[[1.0, 0.0], [0.0, 1.0]]])), must_pass=(MC_P().tolist(),)))),
    Spec("theory.induction.markov.authors_stationary", itr.authors_stationary, lambda: dict(P=MC_P(), power=16),
         dict(P=Custom(must_fail=(MC_P()[0], MC_P() * 2, "a", np.full((1, 2, 3), 0.5))), power=SIZE)),
    Spec("theory.induction.markov.markov_sequences", itr.markov_sequences,
         lambda: dict(rng=0, batch=2, T=5, k=2, order=2, start="authors"),
         dict(rng=Rng(), batch=SIZE, T=SIZE, k=Custom(must_fail=(1, 0, "a")), order=Custom(must_fail=(1, 0, "a")),
              start=Choice())),
    *[Spec(_name(f), f, lambda: dict(tokens=MC_X(), k=2),
           dict(tokens=Custom(must_fail=(MC_X() + 5, -MC_X() - 1, MC_X()[0], MC_X().astype(float), "a")), k=SIZE))
      for f in (itr.uniform_strategy, itr.unigram_strategy, itr.bigram_strategy)],
    Spec("theory.induction.markov.strategy_losses", itr.strategy_losses, lambda: dict(tokens=MC_X(), P=MC_P(2)),
         dict(tokens=Custom(must_fail=(MC_X() + 5, MC_X()[0], "a")),
              P=Custom(must_fail=(MC_P(2)[:1], MC_P(2) * 2, "a", MC_P(2)[0])))),
    Spec("theory.induction.markov.distance", itr.distance,
         lambda: dict(strategy=np.full((2, 3, 2), 0.5), logits=R(2, 3, 2), kind="kl"),
         dict(strategy=Arr(), logits=Custom(must_fail=(R(2, 3, 3), "a")), kind=Choice())),
    Spec("theory.induction.markov.check_bigram_bayes", itr.check_bigram_bayes, lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.induction.minimal_model.init_minimal", itr.init_minimal, lambda: dict(T=4, k=2, w0=0.01),
         dict(T=SIZE, k=SIZE, w0=REAL)),
    Spec("theory.induction.minimal_model.offset_attention", itr.offset_attention, lambda: dict(v=R(4), T=4, mask="causal"),
         dict(v=Custom(must_fail=(R(3), R(4, 1), "a", np.full(4, np.nan))), T=SIZE, mask=Choice())),
    Spec("theory.induction.minimal_model.minimal_forward", itr.minimal_forward,
         lambda: dict(params=itr.init_minimal(5, 2), tokens=MC_X(), mask="authors"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], MC_X()[0], "a")), mask=Choice())),
    Spec("theory.induction.minimal_model.minimal_backward", itr.minimal_backward,
         lambda: dict(dlogits=R(2, 5, 2), cache=itr.minimal_forward(itr.init_minimal(5, 2), MC_X())[1]),
         dict(dlogits=Custom(must_fail=(R(2, 5, 3), "a")), cache=Cache())),
    Spec("theory.induction.minimal_model.minimal_loss", itr.minimal_loss,
         lambda: dict(params=itr.init_minimal(5, 2), tokens=MC_X(), mask="causal"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], "a")), mask=Choice())),
    Spec("theory.induction.minimal_model.minimal_sgd", itr.minimal_sgd,
         lambda: dict(params=itr.init_minimal(5, 2), tokens=MC_X(), lr_W=0.01, lr_v=1.0, mask="causal"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, "a")), lr_W=POS, lr_v=POS, mask=Choice())),
    *[Spec(_name(f), f, lambda: dict(rng=0), dict(rng=Rng()))
      for f in (itr.check_minimal_gradient, itr.check_init_gradient)],
    Spec("theory.core.parallel.batch_parallel", __import__("theory.core.parallel").core.parallel.batch_parallel,
         lambda: dict(loss_and_grads=lambda x: (float(x.sum()), {"x": x}), batch_arrays=(np.ones((4, 2)),),
                      pool=None, chunks=2),
         dict(loss_and_grads=Func(), batch_arrays=Custom(must_fail=((), (np.ones((4, 2)), np.ones((3, 2))), [np.ones(2)],
                                                                    (np.float64(1.0),), "a")),
              pool=Executor(), chunks=SIZE)),
    Spec("theory.core.parallel.batch_threads", __import__("theory.core.parallel").core.parallel.batch_threads,
         lambda: dict(threads=2), dict(threads=SIZE)),
    Spec("theory.core.heap.prime_heap", __import__("theory.core.heap").core.heap.prime_heap, lambda: {}),
    Spec("theory.induction.markov_transformer.init_transformer", itr.init_transformer,
         lambda: dict(rng=0, k=2, T=4, d=4, heads=2),
         dict(rng=Rng(), k=SIZE, T=SIZE, d=Custom(must_fail=(3, 0, "a")), heads=SIZE)),
    *[Spec(_name(f), f, lambda: dict(params=MC_NET(), tokens=MC_X(), heads=2),
           dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], MC_X()[0], "a")),
                heads=Custom(must_fail=(3, 0, "a"))))
      for f in (itr.transformer_forward, itr.transformer_loss, itr.attention_maps)],
    Spec("theory.induction.markov_transformer.transformer_backward", itr.transformer_backward,
         lambda: dict(dlogits=R(2, 4, 2), cache=itr.transformer_forward(MC_NET(), MC_X(), 2)[1]),
         dict(dlogits=Custom(must_fail=(R(2, 4, 3), "a")), cache=Cache())),
    Spec("theory.induction.markov_transformer.check_transformer_gradient", itr.check_transformer_gradient,
         lambda: dict(rng=0), dict(rng=Rng())),
    Spec("theory.induction.markov_training.MarkovConfig", itr.MarkovConfig,
         lambda: {f: getattr(MC_CFG, f) for f in MC_CFG.__dataclass_fields__},
         dict(model=Choice(), k=Custom(must_fail=(1, 0, "a")), T=Custom(must_fail=(1, 0, "a")), batch=SIZE, steps=SIZE,
              lr=POS, lr_v=POS, betas=Custom(must_fail=((0.9,), (0.9, 1.5), "ab")), weight_decay=NONNEG, d=SIZE,
              heads=SIZE, mask=Choice(), eval_every=SIZE, n_eval=SIZE, seed=COUNT, threads=SIZE)),
    Spec("theory.induction.markov_training.train_markov", itr.train_markov, lambda: dict(config=MC_CFG),
         dict(config=Obj())),
    Spec("theory.induction.markov_training.stage_summary", itr.stage_summary,
         lambda: dict(run=itr.train_markov(MC_CFG)), dict(run=Custom(must_fail=({}, "a", {"steps": [0]})))),
    Spec("theory.induction.markov_reproduction.markov_configs", itr.markov_reproduction.markov_configs,
         lambda: dict(quick=True, seed=0), dict(quick=Unchecked(reason="truthiness"), seed=Unchecked(reason="an offset"))),
    Spec("theory.induction.markov_reproduction.reproduce_markov", itr.markov_reproduction.reproduce_markov,
         lambda: dict(quick=True, seed=0, executor=None), dict(quick=Flag(), seed=COUNT, executor=Executor()),
         run_good=False),
    Spec("theory.induction.markov_reproduction.first_move", itr.markov_reproduction.first_move,
         lambda: dict(steps=[0, 1], values=[0.0, 1.0], level=0.5),
         dict(steps=Unchecked(reason="read from a record"), values=Unchecked(reason="read from a record"),
              level=Unchecked(reason="compared with the values"))),
    Spec("theory.induction.markov_reproduction.format_markov_report", itr.markov_reproduction.format_markov_report,
         lambda: dict(record=demo_record()), dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.induction.markov_figures.markov_figures", itr.markov_figures.markov_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # coursework
    Spec("theory.coursework.notebooks.student_version", notebooks.student_version,
         lambda: dict(source="a\n### BEGIN SOLUTION\nb\n### END SOLUTION\n"),
         dict(source=Custom(must_fail=("### BEGIN SOLUTION\n", "### END SOLUTION\n", 3)))),
    Spec("theory.coursework.notebooks.percent_cells", notebooks.percent_cells, lambda: dict(source="# %%\nx = 1\n"),
         dict(source=Custom(must_fail=("x = 1\n", 3), must_pass=("",)))),
    Spec("theory.coursework.notebooks.notebook", notebooks.notebook, lambda: dict(source="# %%\nx = 1\n"),
         dict(source=Custom(must_fail=("x = 1\n", 3)))),
    Spec("theory.coursework.notebooks.nbgrader_notebook", notebooks.nbgrader_notebook,
         lambda: dict(name="ex", source="# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", outputs=("x",),
                      points=1),
         dict(name=Custom(must_fail=("", "a b", 3)), source=Custom(must_fail=("x = 1\n", 3)),
              outputs=Custom(must_fail=((), ["x"], ("",), "x")), points=SIZE)),
    Spec("theory.coursework.notebooks.write_exercises", notebooks.write_exercises,
         lambda: dict(out_dir=tempfile.mkdtemp(), solutions=False, format="py"),
         dict(out_dir=Custom(must_fail=(3,)), solutions=Flag(), format=Choice())),
    Spec("theory.coursework.notebooks.read_code", notebooks.read_code,
         lambda: dict(path=str(notebooks.SOURCES / "three_param_gradient.py")),
         dict(path=Custom(must_fail=("/nonexistent.py", str(notebooks.SOURCES), __file__.replace(".py", ".txt"), 3)))),
    Spec("theory.coursework.grading.exercise_of", grading.exercise_of,
         lambda: dict(path=str(notebooks.SOURCES / "three_param_gradient.py"), code=None),
         dict(path=Custom(must_fail=("/nonexistent.py", __file__)), code=Unchecked(reason="read from path when None"))),
    Spec("theory.coursework.grading.grade", grading.grade,
         lambda: dict(path=str(notebooks.SOURCES / "three_param_gradient.py"), seed=0, cases=1, timeout=30.0,
                      no_theory=False, forward_once=False),
         dict(path=Custom(must_fail=("/nonexistent.py", __file__)), seed=Size(zero_ok=True, optional=True),
              cases=SIZE, timeout=POS, no_theory=Flag(), forward_once=Flag())),
    Spec("theory.coursework.grading.check_answer", grading.check_answer,
         lambda: dict(exercise="three_param_gradient", output="gradient",
                      namespace=runpy.run_path(str(notebooks.SOURCES / "three_param_gradient.py")), seed=0, cases=1),
         dict(exercise=Choice(), output=Custom(must_fail=("dQ", 3)), namespace=Custom(must_fail=("globals", 3)),
              seed=COUNT, cases=SIZE)),
    Spec("theory.coursework.grading.format_report", grading.format_report,
         lambda: dict(report=grading.Report("x.py", "gd_construction", 0, 1, [grading.Verdict("f", True)])),
         dict(report=Obj())),
    Spec("theory.coursework.grading.report_json", grading.report_json,
         lambda: dict(report=grading.Report("x.py", "gd_construction", 0, 1, [grading.Verdict("f", True)])),
         dict(report=Obj())),
    # the registry, the proofs helpers, the ledger
    Spec("theory.core.registry.Claim", registry.Claim,
         lambda: dict(id="x", paper="p", statement="s", verdict=claims.EXACT, proof="dual_form", check=lambda rng: 0.0,
                      tol=1e-12, literal_gap=None, paper_says="", gap_floor=1e-6, tol_note="", max_instances=2),
         dict(id=Str(), paper=Str(), statement=Str(), verdict=Choice(), proof=Str(), check=Func(), tol=POS,
              literal_gap=Func(optional=True), paper_says=Unchecked(reason="free text"), gap_floor=NONNEG,
              tol_note=Unchecked(reason="free text"), max_instances=Size(optional=True))),
    Spec("theory.core.registry.Option", lambda flags, kwargs: registry.Option(*flags, **kwargs),
         lambda: dict(flags=("--seeds",), kwargs=dict(type=int, default=1)),
         dict(flags=Custom(must_fail=((), ("seeds",), (3,)), with_none=False), kwargs=Unchecked(reason="argparse's keywords, checked by argparse"))),
    Spec("theory.core.registry.Reproduction", registry.Reproduction, _reproduction_args,
         dict(name=Custom(must_fail=("Gd Step", "", 3)), summary=Str(), run=Func(), report=Func(),
              options=Custom(must_fail=((3,), "abc"), with_none=True), check=Func(optional=True),
              title=Func(optional=True), workers=Flag(), quick=Flag())),
    Spec("theory.core.registry.Topic", registry.Topic, _topic_args,
         dict(name=Custom(must_fail=("not a name", 3, "")), papers=Custom(must_fail=({}, "abc", {"x": 3})),
              claims=Custom(must_fail=((3,), "abc")), reproductions=Custom(must_fail=((3,), "abc")),
              figures=Custom(must_fail=({"x": 3}, {"": len}, "abc")),
              requires=Custom(must_fail=(("not a name",), (3,), ("demo",), "abc")))),
    Spec("theory.core.proofs.proof_results", proofs.proof_results, lambda: dict(name="dual_form"),
         dict(name=Custom(must_fail=("no_such_proof", "../x", 3, "")))),
    Spec("theory.core.proofs.run_proof_aloud", proofs.run_proof_aloud, lambda: dict(name="dual_form"),
         dict(name=Custom(must_fail=("no_such_proof", "../x", 3, "")))),
    Spec("theory.claims.get", claims.get, lambda: dict(claim_id="dai-icl-split"), dict(claim_id=Custom(must_fail=("nope", 3)))),
    Spec("theory.claims.proof_modules", claims.proof_modules, lambda: {}),
    Spec("theory.induction.claims.symbolic_gradient", itr.claims.symbolic_gradient, lambda: {}),
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
SPEC_BY_NAME = {s.name: s for s in SPECS}


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


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_argument_has_a_kind(spec):
    module, attrs = _resolve(spec.name)
    if len(attrs) == 2:                                    # methods: the row lists their arguments
        return
    params = inspect.signature(getattr(module, attrs[0])).parameters
    assert set(params) == set(spec.kinds), f"{spec.name}: arguments {sorted(params)}, kinds {sorted(spec.kinds)}"
