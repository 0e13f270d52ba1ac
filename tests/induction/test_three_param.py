"""Reddy 2024: the three-parameter landscape — gradient against sympy and finite
differences, the origin, the slow phase and the cliff, L = N."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds
from theory.induction import three_param as ih
from theory.induction.claims import symbolic_gradient
from theory.core.gradcheck import check_gradients, rel_error

Ns = st.integers(2, 16)


@given(seeds, Ns, st.integers(0, 40))
def test_gradient_matches_sympy(seed, N, extra):
    theta = rng_from(seed).uniform(-3, 3, size=3)
    hand = ih.three_param_loss(theta, N, N + extra)[1]
    sym = np.array(symbolic_gradient()(*theta, N, N + extra), dtype=float)
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


def test_gradient_descent_stops_on_divergence_naming_step_and_lr():
    """lr = 1e200 used to return NaN trajectories and report a jump at step 2."""
    from theory.core._validate import Diverged
    with pytest.raises(Diverged, match=r"diverged at step 2 \(lr = 1e\+200\)") as err:
        ih.gradient_descent(3, 6, lr=1e200)
    assert isinstance(err.value, FloatingPointError)
