import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds, sizes
from theory.core.gradcheck import rel_error
from theory.core.optim import SGD, Adam, Momentum, clip_by_global_norm, clip_by_value, global_norm, levenberg_marquardt


@given(seeds, sizes)
def test_sgd_with_decoupled_weight_decay(seed, n):
    rng = rng_from(seed)
    p, g = {"w": rng.standard_normal(n)}, {"w": rng.standard_normal(n)}
    new = SGD(lr=0.1, weight_decay=0.01).step(p, g)
    assert rel_error(new["w"], 0.99 * p["w"] - 0.1 * g["w"]) < 1e-15


@given(seeds, st.floats(0.0, 0.99))
def test_momentum_matches_the_unrolled_recursion(seed, beta):
    """After k steps from v_0 = 0: θ_k = θ_0 - lr Σ_i s_{k-i} g_i, s_n = Σ_{j<=n} β^j."""
    rng = rng_from(seed)
    grads = rng.standard_normal((5, 3))
    opt, p = Momentum(lr=0.1, beta=beta), {"w": np.zeros(3)}
    for g in grads:
        p = opt.step(p, {"w": g})
    s = np.array([sum(beta ** j for j in range(5 - i)) for i in range(5)])
    assert rel_error(p["w"], -0.1 * s @ grads) < 1e-13


def test_adam_first_step_is_lr_times_sign():
    g = np.array([1e-3, -5.0, 2.0])
    new = Adam(lr=0.01, eps=1e-12).step({"w": np.zeros(3)}, {"w": g})
    assert rel_error(new["w"], -0.01 * np.sign(g)) < 1e-8


def test_optimizers_minimise_a_quadratic():
    A = np.diag([1.0, 4.0])
    grad = lambda w: A @ w
    for opt in (SGD(lr=0.2), Momentum(lr=0.1, beta=0.5), Adam(lr=0.05)):
        p = {"w": np.array([1.0, -1.0])}
        for _ in range(500):
            p = opt.step(p, {"w": grad(p["w"])})
        assert np.linalg.norm(p["w"]) < 1e-3, type(opt).__name__


def test_step_does_not_modify_inputs():
    p, g = {"w": np.ones(2)}, {"w": np.ones(2)}
    for opt in (SGD(lr=0.1), Momentum(lr=0.1), Adam()):
        opt.step(p, g)
        assert np.array_equal(p["w"], np.ones(2)) and np.array_equal(g["w"], np.ones(2))


def test_clip_by_value_clips_each_entry():
    g = {"w": np.array([-3.0, 0.5, 2.0]), "b": np.array([[0.2, -0.9]])}
    c = clip_by_value(g, 1.0)
    assert np.array_equal(c["w"], [-1.0, 0.5, 1.0]) and np.array_equal(c["b"], g["b"])
    # unlike the global-norm clip, the direction changes: entries below the bound keep their size
    assert not np.allclose(c["w"] / np.linalg.norm(c["w"]), g["w"] / np.linalg.norm(g["w"]))


def test_clip_by_global_norm():
    g = {"a": np.array([3.0]), "b": np.array([4.0])}
    assert global_norm(g) == pytest.approx(5.0)
    c = clip_by_global_norm(g, 1.0)
    assert global_norm(c) == pytest.approx(1.0) and c["a"][0] == pytest.approx(0.6)
    assert clip_by_global_norm(g, 10.0)["b"][0] == 4.0


def test_bad_input():
    for bad in (0.0, -1.0, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError, match="lr"):
            SGD(lr=bad)
    with pytest.raises(ValueError, match="beta must be < 1.0"):
        Momentum(lr=0.1, beta=1.0)
    with pytest.raises(ValueError, match="beta2"):
        Adam(beta2=-0.1)
    with pytest.raises(ValueError, match="keys"):
        SGD(lr=0.1).step({"w": np.ones(2)}, {"v": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['w'\] must have shape \(2\)"):
        Adam().step({"w": np.ones(2)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match="non-finite"):
        Momentum(lr=0.1).step({"w": np.ones(2)}, {"w": np.array([np.inf, 0.0])})
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm({"w": np.ones(2)}, 0.0)


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")    # the overflow is the point
def test_optimizers_refuse_nan_and_stop_on_overflow():
    from theory.core._validate import Diverged
    p = {"w": np.ones(3)}
    with pytest.raises(ValueError, match=r"grads\['w'\] has non-finite"):
        clip_by_global_norm({"w": np.array([1.0, np.nan, 1.0]), "b": np.ones(2)}, 1.0)
    for opt in (SGD(0.1), Momentum(0.1), Adam(0.1)):
        with pytest.raises(ValueError, match=r"params\['w'\] has non-finite"):
            opt.step({"w": np.array([np.nan, 1.0, 1.0])}, p)
    with pytest.raises(Diverged, match=r"SGD step 1 \(learning rate 1e\+300\) made params\['w'\] non-finite"):
        SGD(1e300).step(p, {"w": np.full(3, 1e10)})
    assert global_norm({"w": np.full(4, 1e200)}) == pytest.approx(2e200)   # no overflow


def test_adam_weight_decay_is_decoupled():
    """AdamW in optax's form: θ ← θ − lr (m̂/(√v̂ + ε) + wd θ); with zero gradients only the
    decay acts, and wd = 0 is plain Adam."""
    p = {"w": np.array([1.0, -2.0, 4.0])}
    zero = {"w": np.zeros(3)}
    decayed = Adam(lr=0.1, weight_decay=0.5).step(p, zero)
    assert rel_error(decayed["w"], p["w"] * (1 - 0.1 * 0.5)) < 1e-15
    g = {"w": np.array([0.3, -0.1, 0.2])}
    plain, wd0 = Adam(lr=0.1).step(p, g), Adam(lr=0.1, weight_decay=0.0).step(p, g)
    assert np.array_equal(plain["w"], wd0["w"])
    both = Adam(lr=0.1, weight_decay=0.5).step(p, g)
    assert rel_error(both["w"], plain["w"] - 0.1 * 0.5 * p["w"]) < 1e-15


def test_optimizers_keep_single_precision():
    """A float32 training run stays float32 through the update (and float64 stays float64)."""
    for opt in (SGD(0.1, weight_decay=1e-3), Momentum(0.1), Adam(0.1, weight_decay=0.1)):
        for dt in (np.float32, np.float64):
            p = {"w": np.ones(3, dt)}
            for _ in range(2):
                p = opt.step(p, {"w": np.full(3, 0.5, dt)})
            assert p["w"].dtype == dt, (type(opt).__name__, dt)
            opt = type(opt)(0.1)


def _rosenbrock(x):
    """1 + Rosenbrock's valley (minimum 1 at (1, 1), a curved narrow valley) and its gradient."""
    loss = 1 + (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    return loss, np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


@given(st.floats(-2, 2), st.floats(-1, 3))
def test_levenberg_marquardt_reaches_the_minimum_of_a_curved_valley(x0, y0):
    x, loss, g, iterations = levenberg_marquardt(_rosenbrock, [x0, y0])
    # at the bar, or stopped by round-off (a loss of 1 + 1e-16 cannot go lower) within 100× of it
    assert np.abs(g).max() <= 100 * 1e-8 * loss and rel_error(x, np.ones(2)) < 1e-6 and iterations < 200
    assert loss == _rosenbrock(x)[0]


def test_levenberg_marquardt_says_when_it_does_not_converge():
    # a wrong gradient, the true one turned by 90°: every step it suggests is uphill
    with pytest.raises(RuntimeError, match="no step lowers the loss"):
        levenberg_marquardt(lambda x: (1 + float(x @ x), 2 * np.array([-x[1], x[0]])), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="after 2 iterations"):
        levenberg_marquardt(_rosenbrock, [-1.5, 2.0], max_iter=2)
