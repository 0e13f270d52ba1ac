"""Bad-input rows of Edelman et al. 2024 (theory.markov_icl): one per public callable (see tests/test_bad_input.py)."""
import tempfile

import numpy as np

from theory import markov_icl as mic
from tests.bad_input_kinds import (
    Arr, COUNT, Cache, Choice, Custom, Executor, Flag, NONNEG, Obj, POS, Params, R, REAL, Rng, SIZE, Spec,
    Unchecked, name_of, demo_record)


def MC_P(k=2):
    """Two order-2 transition tables of k tokens (Dirichlet rows)."""
    return mic.transition_matrices(0, 2, k)

def MC_NET():
    """A tiny two-layer transformer (k = 2, T = 4, width 4, two heads in layer 1)."""
    return mic.init_transformer(0, 2, 4, 4, 2)

MC_CFG = mic.MarkovConfig(T=4, steps=2, eval_every=1, n_eval=4, batch=2, d=4)

def MC_X():
    """Two token sequences of length 5 over 2 tokens."""
    return mic.markov_sequences(0, 2, 5, 2)[0]


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.markov_icl.minimal_model.MinimalCache",
                  "theory.markov_icl.transformer.LayerCache",
                  "theory.markov_icl.transformer.TransformerCache"}

SPECS = [
    # statistical induction heads (Edelman et al. 2024)
    Spec("theory.markov_icl.data.transition_matrices", mic.transition_matrices, lambda: dict(rng=0, batch=2, k=2, order=2),
         dict(rng=Rng(), batch=SIZE, k=Custom(must_fail=(1, 0, 2.5, "a")), order=Custom(must_fail=(1, 0, 2.5, "a")))),
    Spec("theory.markov_icl.data.stationary", mic.data.stationary, lambda: dict(P=MC_P()),
         dict(P=Custom(must_fail=(MC_P()[0], MC_P() * 2, -MC_P(), np.full((1, 2, 2), np.nan), "a",
                                  np.array([[[1.0, 0.0], [0.0, 1.0]]])), must_pass=(MC_P().tolist(),)))),
    Spec("theory.markov_icl.data.authors_stationary", mic.data.authors_stationary, lambda: dict(P=MC_P(), power=16),
         dict(P=Custom(must_fail=(MC_P()[0], MC_P() * 2, "a", np.full((1, 2, 3), 0.5))), power=SIZE)),
    Spec("theory.markov_icl.data.markov_sequences", mic.markov_sequences,
         lambda: dict(rng=0, batch=2, T=5, k=2, order=2, start="authors"),
         dict(rng=Rng(), batch=SIZE, T=SIZE, k=Custom(must_fail=(1, 0, "a")), order=Custom(must_fail=(1, 0, "a")),
              start=Choice())),
    *[Spec(name_of(f), f, lambda: dict(tokens=MC_X(), k=2),
           dict(tokens=Custom(must_fail=(MC_X() + 5, -MC_X() - 1, MC_X()[0], MC_X().astype(float), "a")), k=SIZE))
      for f in (mic.uniform_strategy, mic.unigram_strategy, mic.bigram_strategy)],
    Spec("theory.markov_icl.strategies.strategy_losses", mic.strategy_losses, lambda: dict(tokens=MC_X(), P=MC_P(2)),
         dict(tokens=Custom(must_fail=(MC_X() + 5, MC_X()[0], "a")),
              P=Custom(must_fail=(MC_P(2)[:1], MC_P(2) * 2, "a", MC_P(2)[0])))),
    Spec("theory.markov_icl.strategies.distance", mic.distance,
         lambda: dict(strategy=np.full((2, 3, 2), 0.5), logits=R(2, 3, 2), kind="kl"),
         dict(strategy=Arr(), logits=Custom(must_fail=(R(2, 3, 3), "a")), kind=Choice())),
    Spec("theory.markov_icl.minimal_model.init_minimal", mic.init_minimal, lambda: dict(T=4, k=2, w0=0.01),
         dict(T=SIZE, k=SIZE, w0=REAL)),
    Spec("theory.markov_icl.minimal_model.offset_attention", mic.minimal_model.offset_attention, lambda: dict(v=R(4), T=4, mask="causal"),
         dict(v=Custom(must_fail=(R(3), R(4, 1), "a", np.full(4, np.nan))), T=SIZE, mask=Choice())),
    Spec("theory.markov_icl.minimal_model.minimal_forward", mic.minimal_forward,
         lambda: dict(params=mic.init_minimal(5, 2), tokens=MC_X(), mask="authors"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], MC_X()[0], "a")), mask=Choice())),
    Spec("theory.markov_icl.minimal_model.minimal_backward", mic.minimal_backward,
         lambda: dict(dlogits=R(2, 5, 2), cache=mic.minimal_forward(mic.init_minimal(5, 2), MC_X())[1]),
         dict(dlogits=Custom(must_fail=(R(2, 5, 3), "a")), cache=Cache())),
    Spec("theory.markov_icl.minimal_model.minimal_loss", mic.minimal_loss,
         lambda: dict(params=mic.init_minimal(5, 2), tokens=MC_X(), mask="causal"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], "a")), mask=Choice())),
    Spec("theory.markov_icl.minimal_model.minimal_sgd", mic.minimal_model.minimal_sgd,
         lambda: dict(params=mic.init_minimal(5, 2), tokens=MC_X(), lr_W=0.01, lr_v=1.0, mask="causal"),
         dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, "a")), lr_W=POS, lr_v=POS, mask=Choice())),
    Spec("theory.markov_icl.transformer.init_transformer", mic.init_transformer,
         lambda: dict(rng=0, k=2, T=4, d=4, heads=2),
         dict(rng=Rng(), k=SIZE, T=SIZE, d=Custom(must_fail=(3, 0, "a")), heads=SIZE)),
    *[Spec(name_of(f), f, lambda: dict(params=MC_NET(), tokens=MC_X(), heads=2),
           dict(params=Params(), tokens=Custom(must_fail=(MC_X() + 5, MC_X()[:, :1], MC_X()[0], "a")),
                heads=Custom(must_fail=(3, 0, "a"))))
      for f in (mic.transformer_forward, mic.transformer_loss, mic.attention_maps)],
    Spec("theory.markov_icl.transformer.transformer_backward", mic.transformer_backward,
         lambda: dict(dlogits=R(2, 4, 2), cache=mic.transformer_forward(MC_NET(), MC_X(), 2)[1]),
         dict(dlogits=Custom(must_fail=(R(2, 4, 3), "a")), cache=Cache())),
    Spec("theory.markov_icl.training.MarkovConfig", mic.MarkovConfig,
         lambda: {f: getattr(MC_CFG, f) for f in MC_CFG.__dataclass_fields__},
         dict(model=Choice(), k=Custom(must_fail=(1, 0, "a")), T=Custom(must_fail=(1, 0, "a")), batch=SIZE, steps=SIZE,
              lr=POS, lr_v=POS, betas=Custom(must_fail=((0.9,), (0.9, 1.5), "ab")), weight_decay=NONNEG, d=SIZE,
              heads=SIZE, mask=Choice(), eval_every=SIZE, n_eval=SIZE, seed=COUNT, threads=SIZE)),
    Spec("theory.markov_icl.training.train_markov", mic.train_markov, lambda: dict(config=MC_CFG),
         dict(config=Obj())),
    Spec("theory.markov_icl.training.stage_summary", mic.stage_summary,
         lambda: dict(run=mic.train_markov(MC_CFG)), dict(run=Custom(must_fail=({}, "a", {"steps": [0]})))),
    Spec("theory.markov_icl.reproduction.markov_configs", mic.reproduction.markov_configs,
         lambda: dict(quick=True, seed=0), dict(quick=Unchecked(reason="truthiness"), seed=Unchecked(reason="an offset"))),
    Spec("theory.markov_icl.reproduction.reproduce", mic.reproduction.reproduce,
         lambda: dict(quick=True, seed=0, executor=None), dict(quick=Flag(), seed=COUNT, executor=Executor()),
         run_good=False),
    Spec("theory.markov_icl.reproduction.first_move", mic.reproduction.first_move,
         lambda: dict(steps=[0, 1], values=[0.0, 1.0], level=0.5),
         dict(steps=Unchecked(reason="read from a record"), values=Unchecked(reason="read from a record"),
              level=Unchecked(reason="compared with the values"))),
    Spec("theory.markov_icl.reproduction.format_report", mic.reproduction.format_report,
         lambda: dict(record=demo_record()), dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.markov_icl.figures.markov_icl_figures", mic.figures.markov_icl_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
]
