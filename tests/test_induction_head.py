"""Reddy 2024: the three-parameter landscape — gradient against sympy and finite
differences, the origin, the slow phase and the cliff, L = N."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import rng_from, seeds
from theory import induction_head as ih
from theory.gradcheck import check_gradients, rel_error

Ns = st.integers(2, 16)


@given(seeds, Ns, st.integers(0, 40))
def test_gradient_matches_sympy(seed, N, extra):
    theta = rng_from(seed).uniform(-3, 3, size=3)
    hand = ih.three_param_loss(theta, N, N + extra)[1]
    sym = np.array(ih.symbolic_gradient()(*theta, N, N + extra), dtype=float)
    assert rel_error(hand, sym) < 1e-10


@given(seeds, st.integers(1, 16), st.integers(0, 40))
def test_gradient_matches_finite_differences(seed, N, extra):
    theta = rng_from(seed).uniform(-3, 3, size=(4, 3))      # a batch of points at once
    loss, grad = ih.three_param_loss(theta, N, N + extra)
    check_gradients(lambda p: float(ih.three_param_loss(p["t"], N, N + extra)[0].sum()),
                    {"t": theta}, {"t": grad})


def test_loss_values():
    # at the origin every label is equally likely: loss = log L
    assert ih.three_param_loss(np.zeros(3), 8, 32)[0] == pytest.approx(np.log(32), rel=1e-15)
    # a perfect induction head (w -> 1) with a large ξ: loss -> 0
    assert ih.three_param_loss(np.array([30.0, 60.0, 40.0]), 8, 32)[0] < 1e-6
    # N = 1: the only context label is the right one, w = 1
    assert ih.three_param_loss(np.array([0.0, 0.0, 2.0]), 1, 4)[0] == pytest.approx(np.log(1 + 3 * np.exp(-2)))
    # no overflow for huge logits
    assert np.isfinite(ih.three_param_loss(np.array([1e3, 1e3, 1e4]), 8, 32)[0])


@given(st.integers(1, 64), st.integers(0, 64))
def test_origin_gradient(N, extra):
    L = N + extra
    g = ih.three_param_loss(np.zeros(3), N, L)[1]
    assert np.abs(g - ih.origin_gradient(N, L)).max() < 1e-15
    assert g[0] == 0 and g[1] == 0


def test_slow_phase_then_cliff():
    """From the origin (N = 8, L = 32): ξ moves first and p heads for 1/N; then α and β
    take off and the loss drops abruptly."""
    tr = ih.gradient_descent(8, 32, lr=0.1, steps=2000, record_every=1)
    t_jump = tr.jump_step
    assert t_jump is not None and 100 < t_jump < 1000
    early = tr.steps < t_jump // 2
    # while the head is not formed, ξ dominates α and β
    assert np.all(np.abs(tr.theta[early][:, 2]) >= np.abs(tr.theta[early][:, :2]).max(axis=1))
    assert np.all(tr.p[early] < 1 / 8 + 0.02)               # accuracy at most ~1/N
    # abrupt: the steepest fall is much faster than the start (measured: ~50x)
    rate = -np.diff(tr.loss)
    assert rate.max() > 20 * rate[:10].mean()
    assert tr.loss[t_jump + 100] < 0.1 * tr.loss[0]


def test_l_equals_n_is_stuck_at_the_origin():
    """The gradient at the origin is exactly 0 in exact arithmetic (proof); in float64 it
    is ~1e-17 and the saddle amplifies it: escape takes far longer than for L > N, and
    longer still as the starting point approaches the origin (~ log 1/δ)."""
    assert np.abs(ih.three_param_loss(np.zeros(3), 8, 8)[1]).max() < 1e-16
    free = ih.gradient_descent(8, 16, lr=0.1, steps=20000, stop_at_jump=True).jump_step
    times = [ih.gradient_descent(8, 8, lr=0.1, steps=100000, theta0=(0.0, 0.0, delta),
                                 stop_at_jump=True).jump_step for delta in (1e-2, 1e-6, 1e-10)]
    assert times[0] > 3 * free
    # escape time grows like log(1/δ): equal increments per factor 1e4 in δ
    assert abs((times[2] - times[1]) / (times[1] - times[0]) - 1) < 0.05


def test_plateau_table_shape():
    table = ih.plateau_table([2, 4], [4, 8], steps=20000)
    assert set(table) == {(2, 4), (2, 8), (4, 4), (4, 8)}
    assert table[(2, 8)] < table[(4, 8)]                     # longer plateau for larger N


def test_bad_input():
    with pytest.raises(ValueError, match="L \\(labels\\) must be >= N"):
        ih.three_param_loss(np.zeros(3), 8, 4)
    with pytest.raises(ValueError, match=r"theta must have shape \(..., 3\)"):
        ih.three_param_loss(np.zeros(2), 8, 32)
    with pytest.raises(ValueError, match="N must be a positive integer; got 0"):
        ih.three_param_loss(np.zeros(3), 0, 4)
    with pytest.raises(ValueError, match="theta has non-finite"):
        ih.three_param_loss(np.array([np.nan, 0, 0]), 8, 32)
    with pytest.raises(ValueError, match="lr must be > 0"):
        ih.gradient_descent(8, 32, lr=0)


# --------------------------------------------------------------------------- the network
from theory.tasks import item_label_classes, item_label_sequences  # noqa: E402


def _small_batch(seed, B=1):
    classes = item_label_classes(seed, 8, 4, 3)
    b = item_label_sequences(seed, classes, 5, 2, B=B, eps=0.1)
    return ih.embed(b.content, rng_from(seed), n_positions=6), b       # width 6 + 3


@settings(max_examples=10)                 # ~800 finite-difference entries per example
@given(seeds)
def test_network_gradients(seed):
    X, b = _small_batch(seed)
    p = ih.init_network(rng_from(seed), X.shape[2], 4)
    # ReLU has a kink at 0: finite differences across it are meaningless, so every
    # pre-activation must be farther from 0 than the step (b_l shifts all of them)
    _, cache = ih.network_forward(X, p)
    assume(min(np.abs(pre).min() for _, pre in cache[7]) > 1e-3)
    loss, grads, logits = ih.network_loss(p, X, b.target)
    assert logits.shape == (5, 4) and np.isfinite(loss)
    check_gradients(lambda q: ih.network_loss(q, X, b.target)[0], p, grads)


def test_network_layer2_equals_full_attention():
    """The target-only layer 2 (scores in residual space) equals ordinary attention."""
    from theory import nn
    X, b = _small_batch(3)
    p = ih.init_network(rng_from(3), X.shape[2], 4)
    logits, cache = ih.network_forward(X, p)
    h1 = cache[2]
    full, _ = nn.self_attention_forward(h1, {"W_Q": p["W_Q2"], "W_K": p["W_K2"], "W_V": p["W_V2"]},
                                        kind="softmax", mask=nn.attention_mask(h1.shape[1], causal=True))
    u = h1[:, -1] + full[:, -1]
    for i in (1, 2, 3):
        u = np.maximum(u @ p[f"W{i}"].T + p[f"b{i}"], 0)
    assert rel_error(logits, u @ p["R"].T) < 1e-12


def test_embed_positions():
    X = ih.embed(np.ones((3, 5, 2)), rng_from(0), n_positions=9)
    assert X.shape == (3, 5, 11)
    pos = X[:, :, :9].argmax(-1)
    assert (np.diff(pos, axis=1) == 1).all() and (X[:, :, :9].sum(-1) == 1).all()
    with pytest.raises(ValueError, match="n_positions must be >= sequence length 5"):
        ih.embed(np.ones((3, 5, 2)), rng_from(0), n_positions=4)


def test_a_short_training_run_records_everything():
    cfg = ih.NetworkConfig(K=16, L=8, N=4, D=7, n_positions=12, batch=16, steps=6, eval_every=3, n_eval=20)
    r = ih.train_network(cfg)
    assert list(r.steps) == [0, 3, 6] and r.loss.shape == (6,) and np.isfinite(r.loss).all()
    for curve in (r.icl, r.swapped, r.iwl, r.prev_token, r.match_label):
        assert curve.shape == (3,) and ((0 <= curve) & (curve <= 1)).all()


def test_cli_reproduce_induction_head_quick(capsys):
    from theory.__main__ import main
    assert main(["reproduce", "induction-head", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "Three-parameter model" in out and "Full network" in out and "never" in out


@pytest.mark.slow
def test_minutes_configuration_shows_the_transition():
    """About 50 s: ICL goes from chance to > 0.9 while layer-1 previous-token and layer-2
    matching-label attention grow (Reddy 2024, Sec. 3-4)."""
    r = ih.train_network(ih.MINUTES_CONFIG)
    assert r.icl[0] < 0.1 and r.icl[-1] > 0.9 and r.swapped[-1] > 0.9
    assert r.prev_token[-1] > r.prev_token[0] + 0.2 and r.match_label[-1] > r.match_label[0] + 0.3
    assert r.jump("icl") is not None


@pytest.mark.slow
def test_sweep_directions():
    """About 6 min: ICL rises and IWL falls with B and with K."""
    from dataclasses import replace
    base = replace(ih.MINUTES_CONFIG, K=256, eval_every=1000)
    rows = {(n, v): r for n, v, r in ih.sweep(base, {"B": [0, 4], "K": [64, 1024]})}
    assert rows[("B", 4)].icl[-1] > rows[("B", 0)].icl[-1] + 0.3
    assert rows[("B", 4)].iwl[-1] < rows[("B", 0)].iwl[-1] - 0.3
    assert rows[("K", 1024)].icl[-1] > rows[("K", 64)].icl[-1] + 0.3
