"""Bad-input rows of Dai et al. 2023 (theory.dual_form): one per public callable (see tests/test_bad_input.py)."""
import tempfile

import numpy as np

from theory import dual_form
from tests.bad_input_kinds import (
    A, AB, Rng, COUNT, Choice, Custom, Flag, Labels, POS, R, SIZE, Size, Spec, UNIT, Unchecked, name_of,
    demo_record)


def _icl():
    return dict(W_V=R(2, 3), W_K=R(4, 3), X_demo=R(5, 3), X_ctx=R(2, 3), Q=R(3, 4))


_OUT = (np.array([False, False, True, False]), np.array([True, False, True, True]), np.array([True, True, False, True]))
# one boolean an example: floats, a wrong length, a number, a 2-D array fail; a list of booleans passes
def _bools(i):
    return Custom(must_fail=(np.array([0.0, 1.0, 0.0, 1.0]), np.array([True, False]), 3, np.ones((2, 4), bool), "abc"),
                  must_pass=(_OUT[i].tolist(),))


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.dual_form.dual.GDStep"}

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
]
