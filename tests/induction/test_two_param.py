"""Reddy 2024, Sec. 4: the two-parameter induction head (our reading) — layer-1 weights,
hand-written gradients, the induction-head limit, the progress measures at the start,
and a CI-sized training run that shows the ICL jump and its absence at B = 0."""
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds
from theory.induction import two_param as tp
from theory.core.gradcheck import check_gradients, rel_error
from theory.induction.network import progress_measures
from theory.induction.training import TWO_PARAM, TWO_PARAM_QUICK_CONFIG, train_network
from theory.induction.data import item_label_classes, item_label_sequences


@given(st.floats(-6, 6), st.integers(1, 12))
def test_previous_token_weights(beta, T):
    P = tp.previous_token_weights(beta, T)
    t = np.arange(T)
    assert np.allclose(P.sum(axis=1), 1, rtol=0, atol=1e-15)
    assert (P[np.triu_indices(T, 1)] == 0).all()                      # causal
    # token t (t >= 1) puts e^β / (e^β + t) on its predecessor and 1 / (e^β + t) elsewhere
    expect = np.exp(beta) / (np.exp(beta) + t[1:])
    assert rel_error(P[t[1:], t[1:] - 1], expect) < 1e-13
    assert P[0, 0] == 1.0


@settings(max_examples=10)
@given(seeds, st.sampled_from([0, 1, 2, 4]), st.floats(-3, 3), st.floats(-3, 3))
def test_gradients_match_finite_differences(seed, B, beta, alpha):
    rng = rng_from(seed)
    classes = item_label_classes(rng, 12, 4, 3)
    b = item_label_sequences(rng, classes, 5, 4, B=B, eps=0.1)
    p = tp.init_two_param(rng, 3, 4)
    p["beta"], p["alpha"] = np.array([beta]), np.array([alpha])
    _, cache = tp.two_param_forward(b.content, p)
    # ReLU kinks: finite differences across them are meaningless
    assume(min(np.abs(pre).min() for _, pre in cache.classifier.mlp) > 1e-3)
    loss, grads = tp.two_param_loss(p, b.content, b.target)
    assert np.isfinite(loss) and set(grads) == set(p)
    check_gradients(lambda q: tp.two_param_loss(q, b.content, b.target)[0], p, grads)


def test_uniform_start_reads_the_mean_token():
    """β = α = 0: every weight uniform, so the target reads the mean of all tokens."""
    rng = rng_from(0)
    b = item_label_sequences(rng, item_label_classes(rng, 32, 8, 6), 7, 4, B=2, eps=0.1)
    _, cache = tp.two_param_forward(b.content, tp.init_two_param(rng, 6, 8))
    C, P1, m, P2, cc, _ = cache
    assert rel_error(P2, np.full_like(P2, 1 / C.shape[1])) < 1e-15
    o = cc.mlp[0][0][:, 6:]                                           # classifier input [x_q ; o]
    assert rel_error(o, C.mean(axis=1)) < 1e-14
    # progress measures at the start: label token t (t = 1, 3, ...) gives 1/(t+1) to its
    # predecessor; the target gives 1/T to each label (B of them match)
    meas = progress_measures(P1[None], P2, b)
    t = np.arange(1, 8, 2)
    assert meas["prev_token"] == pytest.approx(np.mean(1 / (t + 1)), rel=1e-14)
    assert meas["match_label"] == pytest.approx(2 / 9, rel=1e-14)
    assert meas["label_attention"] == pytest.approx(4 / 9, rel=1e-14)     # TLA2: N of 2N + 1 tokens


def test_large_beta_and_alpha_make_an_induction_head():
    """β, α → ∞: label tokens carry the item before them, and the target reads the labels
    that follow items of its own class — o is the target's label vector.  The first
    token has no predecessor, so its slot holds its own item (as in causal attention):
    when the first item is of the target's class the target reads it too."""
    rng = rng_from(1)
    classes = item_label_classes(rng, 64, 16, 400)        # wide: random means nearly orthogonal
    B = 2
    b = item_label_sequences(rng, classes, 50, 8, B=B, eps=0.0)
    p = tp.init_two_param(rng, 400, 16)
    p["beta"], p["alpha"] = np.array([40.0]), np.array([60.0])
    _, cache = tp.two_param_forward(b.content, p)
    P1, P2 = cache.P1, cache.P2
    first = b.context_match[:, 0]                          # (S,) first item matches
    assert 0 < first.sum() < len(first)                    # both cases occur
    t = np.arange(1, 16, 2)
    assert P1[t, t - 1].min() > 1 - 1e-12
    match = (P2[:, t] * b.context_match).sum(axis=1)
    assert rel_error(match, B / (B + first)) < 1e-6
    o = cache.classifier.mlp[0][0][:, 400:]
    expect = (B * classes.labels[b.target] + first[:, None] * b.content[:, 0]) / (B + first)[:, None]
    assert rel_error(o, expect) < 1e-6


def test_bad_input():
    with pytest.raises(ValueError, match="beta"):
        tp.previous_token_weights(np.nan, 3)
    with pytest.raises(ValueError, match="T"):
        tp.previous_token_weights(0.0, 0)
    with pytest.raises(ValueError, match="D"):
        tp.init_two_param(0, 0, 4)
    with pytest.raises(ValueError, match="C"):
        tp.two_param_forward(np.ones((3, 4)), tp.init_two_param(0, 4, 2))


def test_quick_run_jumps_to_in_context_learning_only_with_bursty_data():
    """About 2 s each.  B = 2: ICL on novel classes goes from chance to > 0.9 while the
    previous-token and matching-label attention grow; B = 0 (no bursty sequences): ICL
    stays near chance 1/L and the model learns in weights instead (Reddy 2024, Fig. 2)."""
    cfg = TWO_PARAM_QUICK_CONFIG
    r = train_network(cfg, model=TWO_PARAM)
    assert r.icl[0] < 0.15 and r.icl[-1] > 0.9 and r.swapped[-1] > 0.9
    assert r.prev_token[-1] > r.prev_token[0] + 0.4 and r.match_label[-1] > r.match_label[0] + 0.3
    it, width = r.jump("icl")
    assert 0 < it < cfg.steps and width <= 500                  # an abrupt rise, not a drift
    r0 = train_network(replace(cfg, B=0), model=TWO_PARAM)
    assert r0.icl[-1] < 0.15 and r0.iwl[-1] > r.iwl[-1] + 0.05
    assert abs(r0.prev_token[-1] - r0.prev_token[0]) < 0.01      # no induction head forms


@given(seeds, st.integers(1, 12), st.integers(0, 30))
def test_idealised_head_is_the_three_parameter_model(seed, N, extra):
    """Proof Step 6 in numbers: token by token, the idealised two-parameter head gives the
    three-parameter p."""
    from theory.induction.three_param import three_param_forward
    theta = rng_from(seed).uniform(-4, 4, size=3)
    p = tp.idealised_probability(theta, N, N + extra)
    assert rel_error(p, np.exp(-three_param_forward(theta, N, N + extra)[0])) < 1e-12


@pytest.mark.parametrize("N", [3, 5, 8])          # at N = 2 the second variant is the same formula
def test_idealised_head_tells_near_miss_formulas_apart(N):
    """Two formulas a reader might write instead (N for N-1 in w; the other context labels
    sharing ξ(1-w) without the 1/(N-1)) are far from the token-level computation."""
    beta, alpha, xi = theta = np.array([1.0, 2.0, 3.0])
    L = 2 * N
    p = tp.idealised_probability(theta, N, L)
    ay = alpha / (1 + np.exp(-beta))
    for w, share in ((np.exp(ay) / (np.exp(ay) + N), lambda w: (1 - w) / (N - 1)),
                     (np.exp(ay) / (np.exp(ay) + N - 1), lambda w: 1 - w)):
        wrong = np.exp(xi * w) / (np.exp(xi * w) + (N - 1) * np.exp(xi * share(w)) + L - N)
        assert rel_error(p, wrong) > 1e-3


def test_idealised_bad_input():
    with pytest.raises(ValueError, match="theta"):
        tp.idealised_probability([0.0, 1.0], 3, 4)
    with pytest.raises(ValueError, match="L"):
        tp.idealised_probability([0.0, 1.0, 2.0], 4, 3)


@pytest.mark.slow
def test_two_param_sweep_directions():
    """About 3 min: the data dependencies of the full network (Reddy 2024, Fig. 2), three
    seeds each — ICL rises and IWL falls with B, K and ε; ICL vanishes at B = 0; Zipf
    α = 1 gives both."""
    from theory.induction import sweep
    from theory.induction.reproduction import MINUTES_CONFIG
    base = replace(MINUTES_CONFIG, K=256, eval_every=500)
    grid = {"B": [0, 4], "K": [64, 1024], "eps": [0.0, 0.4], "alpha": [1.0]}
    final = {(n, v): (np.mean([r.icl[-1] for r in runs]), np.mean([r.iwl[-1] for r in runs]))
             for n, v, runs in sweep(base, grid, seeds=3, model=TWO_PARAM)}
    icl, iwl = {k: v[0] for k, v in final.items()}, {k: v[1] for k, v in final.items()}
    assert icl[("B", 0)] < 0.1 and iwl[("B", 0)] > 0.9
    assert icl[("B", 4)] > icl[("B", 0)] + 0.5 and iwl[("B", 4)] < iwl[("B", 0)] - 0.5
    assert icl[("K", 1024)] > icl[("K", 64)] + 0.5 and iwl[("K", 1024)] < iwl[("K", 64)] - 0.5
    assert icl[("eps", 0.4)] > icl[("eps", 0.0)] and iwl[("eps", 0.4)] < iwl[("eps", 0.0)]
    assert icl[("alpha", 1.0)] > 0.4 and iwl[("alpha", 1.0)] > 0.4
