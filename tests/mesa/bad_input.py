"""Bad-input rows of von Oswald et al. 2023b (theory.mesa): one per public callable (see tests/test_bad_input.py)."""
import functools
import tempfile

import numpy as np

from theory import mesa
from tests.bad_input_kinds import (
    A, COUNT, Cache, Choice, Custom, Executor, Flag, Func, NONNEG, POS, Params, R, REAL, Real, Rng, SIZE,
    Size, Spec, Unchecked, demo_record)


TINY_MESA = mesa.MesaConfig(layers=1, heads=2, key_size=3, steps=2, batch=4, D=2, T=4)

def mesa_states():
    return mesa.linear_dynamics(0, 4, 4, 2)

@functools.lru_cache(maxsize=None)
def mesa_layers():
    return mesa.train(TINY_MESA)[0]


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.mesa.layer.MesaCache",
                  "theory.mesa.attention.CausalLSACache",
                  "theory.mesa.attention.CausalAttentionCache"}

SPECS = [
    Spec("theory.mesa.figures.mesa_figures", mesa.figures.mesa_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    # mesa: layer, attention, iterations
    Spec("theory.mesa.data.random_orthogonal", mesa.data.random_orthogonal, lambda: dict(rng=0, batch=2, D=3),
         dict(rng=Rng(), batch=SIZE, D=SIZE)),
    Spec("theory.mesa.data.LinearDynamics", mesa.data.LinearDynamics, lambda: dict(S=R(2, 4, 3), W=R(2, 3, 3)),
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
    Spec("theory.mesa.layer.downdate", mesa.layer.downdate,
         lambda: dict(R=mesa.mesa_layer_forward(R(2, 4, 3), R(2, 4, 2), R(2, 4, 3), 1.0)[1].R[:, 1],
                      k=R(2, 4, 3)[:, 1]),
         dict(R=A, k=A)),
    Spec("theory.mesa.attention.causal_lsa_forward", mesa.causal_lsa_forward,
         lambda: dict(E=mesa.tokens(R(2, 4, 2)), params=mesa.attention.gd_construction(2, 0.5)), dict(E=A, params=Params())),
    Spec("theory.mesa.attention.gd_construction", mesa.attention.gd_construction, lambda: dict(D=2, eta=0.5), dict(D=SIZE, eta=REAL)),
    Spec("theory.mesa.attention.gd_prediction", mesa.gd_prediction, lambda: dict(S=R(2, 4, 3), eta=0.5), dict(S=A, eta=REAL)),
    Spec("theory.mesa.iterations.richardson", mesa.richardson, lambda: dict(A=np.eye(3)[None] * 2, b=R(1, 3), omega=0.4, steps=3),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), b=A, omega=POS, steps=SIZE)),
    Spec("theory.mesa.iterations.richardson_rate", mesa.iterations.richardson_rate, lambda: dict(A=np.eye(3)[None] * 2, omega=0.4),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), omega=POS)),
    Spec("theory.mesa.iterations.preconditioning_systems", mesa.iterations.preconditioning_systems,
         lambda: dict(rng=0, batch=2, T=5, D=3, lam=0.1), dict(rng=Rng(), batch=SIZE, T=Custom(must_fail=(1, 0)), D=SIZE,
                                                           lam=POS)),
    Spec("theory.mesa.iterations.chebyshev", mesa.chebyshev, lambda: dict(A=np.eye(3)[None] * 2, b=R(1, 3), mu=1.0, L=3.0, steps=3),
         dict(A=Custom(must_fail=(R(1, 2, 3), R(1, 3, 3), "a")), b=A, mu=Custom(must_fail=(0.0, -1.0, 5.0, "a")),
              L=Custom(must_fail=(0.5, "a")), steps=SIZE)),
    Spec("theory.mesa.iterations.chebyshev_bound", mesa.iterations.chebyshev_bound, lambda: dict(mu=1.0, L=4.0, k=3),
         dict(mu=Custom(must_fail=(0.0, -1.0, 5.0, "a", float("nan"))), L=Custom(must_fail=(0.5, "a", float("inf"))),
              k=Custom(must_fail=(-1, "a")))),
    Spec("theory.mesa.attention.init_layer", mesa.attention.init_layer, lambda: dict(rng=0, width=4, heads=2, key_size=3, scale=0.1),
         dict(rng=Rng(), width=SIZE, heads=SIZE, key_size=SIZE, scale=POS)),
    Spec("theory.mesa.attention.causal_attention_forward", mesa.causal_attention_forward,
         lambda: dict(E=R(2, 3, 4), params=mesa.attention.init_layer(0, 4, 2, 3, scale=0.1)), dict(E=A, params=Params())),
    Spec("theory.mesa.attention.causal_attention_backward", mesa.causal_attention_backward,
         lambda: dict(dout=R(2, 3, 4), cache=mesa.causal_attention_forward(R(2, 3, 4), mesa.attention.init_layer(0, 4, 2, 3))[1]),
         dict(dout=A, cache=Cache())),
    Spec("theory.mesa.attention.next_state_loss", mesa.next_state_loss,
         lambda: dict(layers=[mesa.attention.init_layer(0, 8, 2, 3)], S=R(2, 4, 2), clip=4.0, E=mesa.tokens(R(2, 4, 2))),
         dict(layers=Custom(must_fail=([], "abc", [{}])), S=A, clip=Real(positive=True, optional=True),
              E=Custom(must_fail=(R(2, 3, 8), R(2, 4, 1), "a"), optional=True))),
    Spec("theory.mesa.attention.residual_streams", mesa.attention.residual_streams,
         lambda: dict(layers=[mesa.attention.init_layer(0, 8, 2, 3)], E=R(2, 4, 8), clip=4.0),
         dict(layers=Custom(must_fail=([], "abc", [{}])), E=A, clip=Real(positive=True, optional=True))),
    # mesa: training, analysis, reproduction
    Spec("theory.mesa.training.MesaConfig", mesa.MesaConfig, lambda: {f: getattr(TINY_MESA, f) for f in TINY_MESA.__dataclass_fields__},
         dict(layers=SIZE, heads=SIZE, key_size=SIZE, steps=SIZE, batch=SIZE, lr=POS, weight_decay=NONNEG,
              grad_clip=POS, resid_clip=POS, init_scale=POS, mask_copy=Flag(), D=SIZE,
              T=Custom(must_fail=(1, 0, 2.5, "a")), sigma=NONNEG, seed=COUNT, threads=SIZE)),
    Spec("theory.mesa.training.quick_config", mesa.training.quick_config, lambda: dict(config=TINY_MESA),
         dict(config=Custom(must_fail=("x", {}, 3)))),
    Spec("theory.mesa.training.model_tokens", mesa.training.model_tokens, lambda: dict(config=TINY_MESA, S=R(2, 4, 2)),
         dict(config=Custom(must_fail=("x", {})), S=Custom(must_fail=(R(2, 4, 3), R(4, 2), "a")))),
    Spec("theory.mesa.training.train", mesa.train, lambda: dict(config=TINY_MESA, progress=None),
         dict(config=Custom(must_fail=("x", {})), progress=Func(optional=True))),
    Spec("theory.mesa.training.predict", mesa.predict, lambda: dict(config=TINY_MESA, layers=mesa_layers(), S=R(2, 4, 2)),
         dict(config=Custom(must_fail=("x", {})), layers=Custom(must_fail=([], "abc", [{}])),
              S=Custom(must_fail=(R(2, 4, 3), R(4, 2), "a")))),
    Spec("theory.mesa.training.position_losses", mesa.training.position_losses, lambda: dict(pred=R(2, 3, 2), S=R(2, 4, 2)),
         dict(pred=Custom(must_fail=(R(2, 4, 2), R(3, 2), "a")), S=A)),
    Spec("theory.mesa.training.best_gd", mesa.training.best_gd, lambda: dict(S_fit=R(2, 4, 2)), dict(S_fit=A)),
    Spec("theory.mesa.training.best_ridge", mesa.training.best_ridge, lambda: dict(S_fit=R(2, 4, 2), pairs="author"),
         dict(S_fit=A, pairs=Choice())),
    Spec("theory.mesa.training.best_c", mesa.training.best_c, lambda: dict(S_fit=R(2, 4, 2)), dict(S_fit=A)),
    Spec("theory.mesa.training.baselines", mesa.baselines, lambda: dict(S_fit=R(2, 4, 2), data=mesa_states()),
         dict(S_fit=Custom(must_fail=(R(2, 4, 3), "a")), data=Custom(must_fail=(R(2, 4, 2), "a")))),
    Spec("theory.mesa.analysis.revalg_scalars", mesa.revalg_scalars, lambda: dict(layer=mesa.attention.init_layer(0, 8, 2, 3), D=2),
         dict(layer=Custom(must_fail=({}, "a", mesa.attention.init_layer(0, 12, 2, 3))), D=SIZE)),
    Spec("theory.mesa.analysis.revalg_layer", mesa.analysis.revalg_layer, lambda: dict(scalars=dict(qk=R(2, 2, 2), pv=R(2, 2)), D=2),
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
    Spec("theory.mesa.analysis.norm_inliers", mesa.analysis.norm_inliers, lambda: dict(Y=R(10, 3, 2), z=3.0), dict(Y=A, z=POS)),
    Spec("theory.mesa.analysis.preconditioned_inputs", mesa.analysis.preconditioned_inputs, lambda: dict(S=R(2, 4, 2), lam=1e-3),
         dict(S=A, lam=POS)),
    Spec("theory.mesa.reproduction.reproduce", mesa.reproduce, lambda: dict(quick=True, seed=0, test_batch=16, executor=None),
         dict(quick=Flag(), seed=COUNT, test_batch=Size(optional=True), executor=Executor()), run_good=False),
    Spec("theory.mesa.reproduction.format_report", mesa.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.mesa.iterations.iteration_polynomial", mesa.iterations.iteration_polynomial,
         lambda: dict(method="chebyshev", lam=0.5, steps=3, omega=None, mu=1.0, L=3.0),
         dict(method=Custom(must_fail=("newton", 3)), lam=NONNEG, steps=SIZE,
              omega=Custom(must_fail=(0.5,), optional=True), mu=Custom(must_fail=(0.0, -1.0, 4.0, float("nan"), "a")),
              L=Custom(must_fail=(0.5, float("inf"), "a")))),
    Spec("theory.mesa.iterations.krylov_tokens", mesa.iterations.krylov_tokens, lambda: dict(S=R(2, 4, 3), steps=2), dict(S=A, steps=SIZE)),
    Spec("theory.mesa.iterations.krylov_layers", mesa.iterations.krylov_layers, lambda: dict(D=2, steps=3), dict(D=SIZE, steps=SIZE)),
    Spec("theory.mesa.iterations.krylov_readout", mesa.iterations.krylov_readout, lambda: dict(E=R(2, 4, 8), coef=R(3)),
         dict(E=Custom(must_fail=(R(2, 4, 7), R(4, 8), "a")), coef=A)),
    Spec("theory.mesa.iterations.run_krylov_stack", mesa.run_krylov_stack, lambda: dict(S=R(2, 4, 3), coef=R(3)), dict(S=A, coef=A)),
]
