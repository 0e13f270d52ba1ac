"""Bad-input rows of von Oswald et al. 2023 (theory.gd_step): one per public callable (see tests/test_bad_input.py)."""
import functools
import tempfile

import numpy as np

from theory import gd_step
from tests.bad_input_kinds import (
    A, AB, Arr, COUNT, Cache, Choice, Custom, Executor, Flag, Func, NONNEG, Obj, POS, Params, R, REAL,
    Real, Rng, SIZE, SPD, Spec, UNIT, Unchecked, demo_record)


def spd3():
    return np.diag([1.0, 2.0, 3.0]) + 0.1

@functools.lru_cache(maxsize=None)
def lsa_params(D=4):
    return gd_step.gd_construction(D - 1, 1, 3, 0.5, W0=R(1, D - 1))

def tokens():
    return gd_step.tokens(R(2, 3, 3), R(2, 3, 1), R(2, 3))

@functools.lru_cache(maxsize=None)
def tiny_train():
    return gd_step.train_lsa(1, d=2, n_context=3, steps=2, batch=4)

TINY_GD = gd_step.GDReproConfig(steps=2, batch=4, deep_steps=2, depths=(2,), d=2, n_context=3, n_tasks=50,
                           gaussian_steps=2)

@functools.lru_cache(maxsize=None)
def tiny_repro():
    return gd_step.reproduce(TINY_GD)


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.gd_step.data.RegressionTasks",
                  "theory.gd_step.comparison.GDComparison",
                  "theory.gd_step.reproduction.GDReproResult",
                  "theory.gd_step.lsa.LSACache",
                  "theory.gd_step.lsa.LSAQueryCache"}

SPECS = [
    # the topics' data samplers
    Spec("theory.gd_step.data.regression_tasks", gd_step.regression_tasks,
         lambda: dict(rng=0, batch=2, n_context=3, d=3, d_out=1, inputs="gaussian", a=0.5, cov=spd3(), sigma=0.1),
         dict(rng=Rng(), batch=SIZE, n_context=SIZE, d=SIZE, d_out=SIZE, inputs=Choice(), a=POS, cov=SPD(optional=True),
              sigma=NONNEG)),
    Spec("theory.gd_step.data.uniform_moments", gd_step.data.uniform_moments, lambda: dict(a=0.5), dict(a=POS)),
    # gd_step: lsa, construction, closed forms
    Spec("theory.gd_step.lsa.tokens", gd_step.tokens, lambda: dict(X=R(2, 3, 3), Y=R(2, 3, 1), xq=R(2, 3), W0=R(1, 3)),
         dict(X=A, Y=A, xq=A, W0=Arr(optional=True))),
    Spec("theory.gd_step.lsa.readout", gd_step.readout, lambda: dict(E=tokens(), d=3), dict(E=A, d=SIZE)),
    Spec("theory.gd_step.lsa.lsa_forward", gd_step.lsa_forward,
         lambda: dict(E=tokens(), params=lsa_params(), n_context=3, include_query=False, query_only=True),
         dict(E=A, params=Params(), n_context=SIZE, include_query=Flag(), query_only=Flag())),
    Spec("theory.gd_step.lsa.lsa_backward", gd_step.lsa_backward,
         lambda: dict(dout=R(2, 4, 4), cache=gd_step.lsa_forward(tokens(), lsa_params(), 3)[1]), dict(dout=A, cache=Cache())),
    Spec("theory.gd_step.lsa.layer_params", gd_step.lsa.layer_params, lambda: dict(params=lsa_params(), layer=0, shared=True),
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
    Spec("theory.gd_step.closed_forms.monte_carlo_one_step", gd_step.closed_forms.monte_carlo_one_step,
         lambda: dict(rng=0, d=2, n_context=3, a=0.5, n_tasks=20), dict(rng=Rng(), d=SIZE, n_context=SIZE, a=POS, n_tasks=SIZE)),
    Spec("theory.gd_step.closed_forms.random_covariance", gd_step.closed_forms.random_covariance, lambda: dict(rng=0, d=3), dict(rng=Rng(), d=SIZE)),
    Spec("theory.gd_step.closed_forms.single_input_moments", gd_step.closed_forms.single_input_moments, lambda: dict(d=2, a=0.5, cov=None),
         dict(d=SIZE, a=POS, cov=Unchecked(reason="the other law: tried in the next row"))),
    Spec("theory.gd_step.closed_forms.single_input_moments", gd_step.closed_forms.single_input_moments,
         lambda: dict(d=3, cov=spd3(), a=None), dict(d=Custom(must_fail=(0, 2, 4, 13, 2.5)), cov=SPD(),
                                               a=Unchecked(reason="the other law: tried in the row above"))),
    Spec("theory.gd_step.closed_forms.exact_one_step", gd_step.exact_one_step, lambda: dict(d=2, n_context=3, a=0.5),
         dict(d=SIZE, n_context=SIZE, a=POS)),
    # gd_step: training, comparison, reproduction
    Spec("theory.gd_step.training.TrainResult", gd_step.training.TrainResult,
         lambda: dict(params=tiny_train().params, losses=np.ones(2), kind="lsa", n_layers=1, shared=False,
                      task=tiny_train().task, seconds=0.1),
         dict(params=Custom(must_fail=("abc", {})), kind=Choice(), n_layers=SIZE, shared=Flag(),
              task=Custom(must_fail=("abc", {}, {**tiny_train().task, "d": 0})),
              losses=Unchecked(reason="a result: the loss curve the run produced"),
              seconds=Unchecked(reason="a result: the run's wall time"))),
    Spec("theory.gd_step.training.TrainResult.lsa_params", lambda: tiny_train().lsa_params(), lambda: {}),
    Spec("theory.gd_step.training.model_loss", gd_step.training.model_loss,
         lambda: dict(params={"eta": np.array([0.5]), "gamma": np.array([0.1])}, E=tokens(), y_query=R(2, 1),
                      kind="gdpp", n_layers=1, shared=False),
         dict(params=Params(), E=A, y_query=A, kind=Choice(), n_layers=SIZE, shared=Flag())),
    Spec("theory.gd_step.training.init_params", gd_step.training.init_params,
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
    Spec("theory.gd_step.comparison.lsa_predict", gd_step.comparison.lsa_predict, lambda: dict(params=lsa_params(), E=tokens(), n_layers=1, shared=True),
         dict(params=Params(), E=A, n_layers=SIZE, shared=Flag())),
    Spec("theory.gd_step.comparison.product_matrices", gd_step.comparison.product_matrices, lambda: dict(params=lsa_params(), layer=0, shared=True),
         dict(params=Params(), layer=COUNT, shared=Flag())),
    Spec("theory.gd_step.comparison.from_products", gd_step.comparison.from_products, lambda: dict(KQ=R(4, 4), PV=R(4, 4, seed=1)), dict(KQ=A, PV=A)),
    Spec("theory.gd_step.comparison.align_scale", gd_step.comparison.align_scale, lambda: dict(KQ=np.eye(4) + 0.1, PV=R(4, 4), d=3),
         dict(KQ=A, PV=A, d=SIZE)),
    Spec("theory.gd_step.comparison.effective_matrix", gd_step.comparison.effective_matrix,
         lambda: dict(params={k + "0": v for k, v in lsa_params().items()}, d=3, n_context=3),
         dict(params=Params(), d=SIZE, n_context=SIZE)),
    Spec("theory.gd_step.comparison.grid_search_eta", gd_step.comparison.grid_search_eta,
         lambda: dict(task=tiny_train().task, n_layers=1, rng=0, n_tasks=20, grid=np.array([0.5, 1.0, 2.0])),
         dict(task=Custom(must_fail=("abc", {})), n_layers=SIZE, rng=Rng(), n_tasks=SIZE, grid=Arr(optional=True))),
    Spec("theory.gd_step.comparison.compare_to_gd", gd_step.compare_to_gd, lambda: dict(result=tiny_train(), n_tasks=50, rng=1),
         dict(result=Obj(), n_tasks=SIZE, rng=Rng())),
    Spec("theory.gd_step.comparison.agreement", gd_step.comparison.agreement, lambda: dict(y1=R(4), s1=R(4, 2), y2=R(4, seed=1), s2=R(4, 2, seed=1)),
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
    Spec("theory.gd_step.reproduction.GDReproResult.from_record", gd_step.reproduction.GDReproResult.from_record,
         lambda: dict(record=tiny_repro().to_record()), dict(record=Custom(must_fail=({}, demo_record())))),
    Spec("theory.gd_step.figures.gd_step_figures", gd_step.figures.gd_step_figures,
         lambda: dict(record=tiny_repro().to_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
]
