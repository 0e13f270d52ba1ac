"""Bad-input rows of Dai et al. 2023 (theory.dual_form): one per public callable (see tests/test_bad_input.py)."""
import tempfile

import numpy as np

from theory import dual_form
from theory.dual_form import experiments, gpt, icl_vs_ft, pretraining, tasks
from tests.bad_input_kinds import (
    A, AB, Rng, COUNT, Cache, Choice, Custom, Executor, Flag, Labels, NONNEG, POS, R, SIZE, Size, Spec, UNIT,
    Unchecked, Params, name_of, demo_record)


def _icl():
    return dict(W_V=R(2, 3), W_K=R(4, 3), X_demo=R(5, 3), X_ctx=R(2, 3), Q=R(3, 4))


_OUT = (np.array([False, False, True, False]), np.array([True, False, True, True]), np.array([True, True, False, True]))
# one boolean an example: floats, a wrong length, a number, a 2-D array fail; a list of booleans passes
def _bools(i):
    return Custom(must_fail=(np.array([0.0, 1.0, 0.0, 1.0]), np.array([True, False]), 3, np.ones((2, 4), bool), "abc"),
                  must_pass=(_OUT[i].tolist(),))


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.dual_form.dual.GDStep", "theory.dual_form.gpt.GPTCache"}


def _p():
    return gpt.init_gpt(0, 7, 2, D=4, layers=2, heads=2, T=6)


def _task(n_points=3):
    X, y, _ = tasks.sample_tasks(1, 3, n_points, 3)
    return dict(X=X, y=y)


_X, _y = _task()["X"], _task()["y"]
_NDEMOS = Custom(must_fail=(-1, 3, 1.5, "2"), must_pass=(np.int64(1),))      # 3 points: at most 2 demonstrations
_HEADS = Custom(must_fail=(0, 3, 1.5, "2"), must_pass=(np.int64(1), 4))       # must divide D = 4
_KEYS = Custom(must_fail=("W_K", (), ("W_K", "W_K"), ("W_X",), 3), must_pass=(["W_Q"],))
_Y = Custom(must_fail=(_y + 2, _y.astype(float), _y[:, :2], "abc"), must_pass=(_y.tolist(),))

SPECS = [
    # dual_form
    Spec("theory.dual_form.dual.gd_step_linear", dual_form.gd_step_linear,
         lambda: dict(W0=R(2, 3), X=R(4, 3), targets=R(4, 2), lr=0.1, loss="squared"),
         dict(W0=A, X=A, targets=A, lr=POS, loss=Choice())),
    Spec("theory.dual_form.dual.finetuned_output", dual_form.finetuned_output, lambda: dict(W0=R(2, 3), delta_W=R(2, 3, seed=1), Xq=R(4, 3)),
         dict(W0=A, delta_W=A, Xq=A)),
    Spec("theory.dual_form.dual.dual_output", dual_form.dual_output, lambda: dict(W0=R(2, 3), E=R(4, 2), X=R(4, 3), Xq=R(5, 3)),
         dict(W0=A, E=A, X=A, Xq=A)),
    *[Spec(name_of(f), f, _icl, dict(W_V=A, W_K=A, X_demo=A, X_ctx=A, Q=A))
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
    Spec("theory.dual_form.reproduction.reproduce", dual_form.reproduce, lambda: dict(quick=True, seed=0, instances=2),
         dict(quick=Flag(), seed=COUNT, instances=Size(optional=True))),
    Spec("theory.dual_form.reproduction.format_report", dual_form.format_report,
         lambda: dict(record=dual_form.reproduce(quick=True, instances=2)),
         dict(record=Custom(must_fail=({}, demo_record())))),
    Spec("theory.dual_form.figures.dual_form_figures", dual_form.figures.dual_form_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # the comparisons of ICL with finetuning
    *[Spec(name_of(f), f, lambda: dict(zs_correct=_OUT[0], icl_correct=_OUT[1], ft_correct=_OUT[2]),
           dict(zs_correct=_bools(0), icl_correct=_bools(1), ft_correct=_bools(2)))
      for f in (dual_form.rec2ftp, dual_form.f2t_mask)],
    Spec("theory.dual_form.similarity.sim_aou", dual_form.sim_aou,
         lambda: dict(zs_hidden=R(4, 2, 3), icl_hidden=R(4, 2, 3, seed=1), ft_hidden=R(4, 2, 3, seed=2)),
         dict(zs_hidden=A, icl_hidden=A, ft_hidden=A)),
    Spec("theory.dual_form.similarity.random_sim_aou", dual_form.random_sim_aou,
         lambda: dict(zs_hidden=R(4, 2, 3), icl_hidden=R(4, 2, 3, seed=1), rng=0, baseline="gaussian"),
         dict(zs_hidden=A, icl_hidden=A, rng=Rng(), baseline=Choice())),
    Spec("theory.dual_form.similarity.sim_am", dual_form.sim_am,
         lambda: dict(zs_scores=R(4, 2, 2, 5), icl_scores=R(4, 2, 2, 5, seed=1), ft_scores=R(4, 2, 2, 5, seed=2)),
         dict(zs_scores=A, icl_scores=A, ft_scores=A)),
    # the small transformer and Dai's experiments at CPU scale
    Spec("theory.dual_form.gpt.init_gpt", gpt.init_gpt,
         lambda: dict(rng=0, d_tok=5, n_out=2, D=4, layers=2, heads=2, T=6),
         dict(rng=Rng(), d_tok=SIZE, n_out=SIZE, D=Custom(must_fail=(0, 3, 2.5)), layers=SIZE, heads=_HEADS, T=SIZE)),
    Spec("theory.dual_form.gpt.gpt_forward", gpt.gpt_forward, lambda: dict(params=_p(), x=R(3, 5, 7), heads=2, eta=0.5),
         dict(params=Params(), x=Custom(must_fail=(R(3, 7, 7), R(3, 5, 6), R(5, 7), "abc")), heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.gpt.gpt_backward", gpt.gpt_backward,
         lambda: dict(dlogits=R(3, 5, 2), cache=gpt.gpt_forward(_p(), R(3, 5, 7))[1]),
         dict(dlogits=Custom(must_fail=(R(3, 5, 3), R(5, 2), "abc")), cache=Cache())),
    Spec("theory.dual_form.gpt.gpt_loss", gpt.gpt_loss,
         lambda: dict(params=_p(), x=R(3, 5, 7), labels=np.ones((3, 5), int), heads=2, eta=0.0, reduce="sum"),
         dict(params=Params(), x=A, labels=Custom(must_fail=(np.full((3, 5), 2), -np.ones((3, 5), int), np.ones((3, 5)),
                                                          np.ones((3, 4), int))), heads=_HEADS, eta=UNIT,
              reduce=Choice())),
    Spec("theory.dual_form.tasks.sample_tasks", tasks.sample_tasks,
         lambda: dict(rng=0, n_tasks=2, n_points=3, d=3, prior=1.5),
         dict(rng=Rng(), n_tasks=SIZE, n_points=SIZE, d=SIZE, prior=NONNEG)),
    Spec("theory.dual_form.tasks.prompt_tokens", tasks.prompt_tokens, lambda: dict(X=_X, y=_y, n_demos=2),
         dict(X=A, y=_Y, n_demos=_NDEMOS)),
    Spec("theory.dual_form.tasks.pretraining_batch", tasks.pretraining_batch,
         lambda: dict(rng=0, batch=2, N=3, d=3, prior=1.0), dict(rng=Rng(), batch=SIZE, N=SIZE, d=SIZE, prior=NONNEG)),
    Spec("theory.dual_form.tasks.zero_shot_accuracy", tasks.zero_shot_accuracy, lambda: dict(d=3, prior=1.0, n=100, rng=0),
         dict(d=SIZE, prior=NONNEG, n=SIZE, rng=Rng())),
    Spec("theory.dual_form.icl_vs_ft.finetune", icl_vs_ft.finetune,
         lambda: dict(params=_p(), X=_X, y=_y, n_demos=2, lr=0.1, keys=("W_K", "W_V"), heads=2, eta=0.0),
         dict(params=Params(), X=A, y=_Y, n_demos=_NDEMOS, lr=POS, keys=_KEYS, heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.icl_vs_ft.probe", icl_vs_ft.probe,
         lambda: dict(params=_p(), tokens=tasks.prompt_tokens(_X, _y, 2), heads=2, eta=0.0),
         dict(params=Params(), tokens=Custom(must_fail=(R(3, 7, 7), R(3, 5, 6), "abc")), heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.icl_vs_ft.choose_lr", icl_vs_ft.choose_lr,
         lambda: dict(params=_p(), X=_X, y=_y, n_demos=2, grid=(0.1, 1.0), keys=("W_K", "W_V"), heads=2, eta=0.0),
         dict(params=Params(), X=A, y=_Y, n_demos=_NDEMOS, grid=Custom(must_fail=((), (0.1, -1.0), "abc", 0.1)),
              keys=_KEYS, heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.icl_vs_ft.compare", icl_vs_ft.compare,
         lambda: dict(params=_p(), X=_X, y=_y, n_demos=2, lr=0.1, keys=("W_K", "W_V"), heads=2, eta=0.0, rng=0),
         dict(params=Params(), X=A, y=_Y, n_demos=_NDEMOS, lr=POS, keys=_KEYS, heads=_HEADS, eta=UNIT, rng=Rng())),
    Spec("theory.dual_form.icl_vs_ft.run_protocol", icl_vs_ft.run_protocol,
         lambda: dict(params=_p(), X=_X, y=_y, n_demos=2, lr=0.1, keys=("W_K", "W_V"), heads=2, eta=0.0),
         dict(params=Params(), X=A, y=_Y, n_demos=_NDEMOS, lr=POS, keys=_KEYS, heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.icl_vs_ft.metrics", icl_vs_ft.metrics,
         lambda: dict(outputs=icl_vs_ft.run_protocol(_p(), _X, _y, 2, 0.1), rng=0),
         dict(outputs=Custom(must_fail=({}, "abc", {"truth": 1})), rng=Rng())),
    Spec("theory.dual_form.pretraining.batch_for", pretraining.batch_for,
         lambda: dict(objective="lm", rng=0, batch=2, s=pretraining.DEFAULTS),
         dict(objective=Choice(), rng=Rng(), batch=SIZE, s=Unchecked(reason="the settings dict of pretrain"))),
    Spec("theory.dual_form.pretraining.pretrain", pretraining.pretrain,
         lambda: dict(seed=0, objective="icl", steps=2, eta=0.5, every=1, n_eval=4, settings={"N": 3}),
         dict(seed=COUNT, objective=Choice(), steps=SIZE, eta=UNIT, every=SIZE, n_eval=SIZE,
              settings=Custom(must_fail=({"width": 3}, "abc", 3), must_pass=({"N": 3},), with_none=False))),
    Spec("theory.dual_form.pretraining.icl_accuracy", pretraining.icl_accuracy,
         lambda: dict(params=_p(), X=_X, y=_y, demos=(0, 2), heads=2, eta=0.0),
         dict(params=Params(), X=A, y=_Y, demos=Custom(must_fail=((), (3,), (-1,), (1.5,), "abc", 2)), heads=_HEADS, eta=UNIT)),
    Spec("theory.dual_form.experiments.reproduce", experiments.reproduce, lambda: dict(quick=True, seed=0, executor=None),
         dict(quick=Flag(), seed=COUNT, executor=Executor()), run_good=False),
    Spec("theory.dual_form.experiments.format_report", experiments.format_report,
         lambda: dict(record=demo_record()), dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.dual_form.figures.experiments_figures", dual_form.figures.experiments_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
]
