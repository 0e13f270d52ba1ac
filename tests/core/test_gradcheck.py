import numpy as np
import pytest
from hypothesis import example, given

from tests.helpers import rng_from, seeds, small, well_scaled
from theory.core.gradcheck import check_gradients, directional_errors, numerical_gradient, rel_error


def quadratic(p):
    """f = ½ aᵀ A a + sum(sin b): gradient A a (A symmetric) and cos b."""
    return 0.5 * p["a"] @ p["A"] @ p["a"] + np.sum(np.sin(p["b"]))


@example(seed=117, n=1)                                    # failed under `thorough` before the operand scale
@given(seeds, small)
def test_numerical_gradient_matches_known_gradient(seed, n):
    rng = rng_from(seed)
    M = rng.standard_normal((n, n))
    params = {"a": well_scaled(rng, n), "A": M + M.T, "b": rng.standard_normal((2, n))}
    num = numerical_gradient(quadratic, params)
    # A central difference subtracts two values of f of size |f|: it cannot resolve a
    # gradient better than its round-off floor 4 u |f| sqrt(n) / eps, however small the
    # gradient (seed 117, n = 1: a gradient of 8.5e-5 beside |f| = 0.77 has an error of 1.7e-12,
    # 2e-8 of itself; the floor is 6.8e-11).  Errors are measured against that floor, as
    # check_gradients does: an error at the floor counts as 1e-8, anything larger is caught.
    floor = 4 * np.finfo(float).eps * abs(quadratic(params)) * np.sqrt(n) / 1e-5
    assert rel_error(num["a"], params["A"] @ params["a"], scale=floor / 1e-8) < 1e-8
    assert rel_error(num["b"], np.cos(params["b"])) < 1e-8
    assert rel_error(num["A"], 0.5 * np.outer(params["a"], params["a"])) < 1e-8


def test_numerical_gradient_leaves_params_untouched():
    params = {"a": np.arange(3.0), "A": np.eye(3), "b": np.ones(2)}
    before = {k: v.copy() for k, v in params.items()}
    numerical_gradient(quadratic, params)
    for k in params:
        assert np.array_equal(params[k], before[k])


def _quad_grads(p):
    return {"a": p["A"] @ p["a"], "A": 0.5 * np.outer(p["a"], p["a"]), "b": np.cos(p["b"])}


@given(seeds)
def test_check_gradients_accepts_right_and_rejects_wrong(seed):
    rng = rng_from(seed)
    M = rng.standard_normal((4, 4))
    p = {"a": well_scaled(rng, 4), "A": M + M.T, "b": rng.standard_normal(3)}
    g = _quad_grads(p)
    errs = check_gradients(quadratic, p, g)
    assert max(errs.values()) < 1e-7
    wrong = dict(g, a=p["A"].T @ p["a"] * 1.01)            # a 1% error must be caught
    with pytest.raises(AssertionError, match="'a'"):
        check_gradients(quadratic, p, wrong)


def test_directional_path_for_large_parameters():
    rng = rng_from(0)
    p = {"a": rng.standard_normal(60), "A": np.eye(60), "b": rng.standard_normal(5)}
    g = _quad_grads(p)
    errs = check_gradients(quadratic, p, g, max_entries=50)   # "A" (3600) goes directional
    assert errs["A"] < 1e-7
    assert directional_errors(quadratic, p, g, n_directions=4).max() < 1e-7
    bad = dict(g, A=-g["A"])
    assert directional_errors(quadratic, p, bad, n_directions=4).max() > 1e-3


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0, 0.0], [0.0, 1.0]) == pytest.approx(np.sqrt(2))
    assert rel_error([2.0], [1.0]) == pytest.approx(0.5)


def test_bad_input():
    p = {"a": np.ones(2), "A": np.eye(2), "b": np.ones(1)}
    with pytest.raises(ValueError, match="shapes"):
        rel_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        numerical_gradient(quadratic, p, eps=0.0)
    with pytest.raises(ValueError, match="non-empty dict"):
        numerical_gradient(quadratic, {})
    with pytest.raises(ValueError, match="keys"):
        check_gradients(quadratic, p, {"a": np.ones(2)})
    with pytest.raises(ValueError, match=r"grads\['a'\].*shape"):
        check_gradients(quadratic, p, {"a": np.ones(3), "A": np.eye(2), "b": np.ones(1)})
    with pytest.raises(ValueError, match="f must return a scalar"):
        numerical_gradient(lambda q: np.ones(2), p)
    with pytest.raises(ValueError, match=r"f must return a finite scalar; got nan at params\['a'\] entry 0"):
        numerical_gradient(lambda q: np.nan if q["a"][0] > 1 else 0.0, p)
    with pytest.raises(ValueError, match="f must be callable"):
        check_gradients(None, p, p)
    with pytest.raises(ValueError, match="non-finite"):
        numerical_gradient(quadratic, {"a": np.array([np.nan, 1.0]), "A": np.eye(2), "b": np.ones(1)})


# --------------------------------------------------------------------------- never pass on NaN
def test_rel_error_refuses_nan_and_inf_saying_where():
    with pytest.raises(ValueError, match=r"a \(first argument of rel_error\).*index \(1,\): nan"):
        rel_error([1.0, np.nan], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"b \(second argument of rel_error\).*inf"):
        rel_error([1.0, 1.0], [np.inf, 1.0])


def test_rel_error_of_huge_values_does_not_overflow():
    assert rel_error([1e200, 0.0], [1e200, 0.0]) == 0.0
    assert rel_error([1e200, 0.0], [0.0, 1e200]) == pytest.approx(np.sqrt(2))
    assert rel_error([3e300], [1.5e300]) == pytest.approx(0.5)


def test_rel_error_scale_measures_against_the_operands():
    """A difference formed from large terms: relative to the operands it is round-off."""
    a, b = np.array([4e-5]), np.array([4e-5 + 1e-16])
    assert rel_error(a, b) > 1e-12
    assert rel_error(a, b, scale=1.9) < 1e-15
    with pytest.raises(ValueError, match="scale"):
        rel_error(a, b, scale=np.nan)


def test_check_gradients_fails_on_overflowing_or_nan_gradients():
    """The issue's case: an analytic gradient of 1e200 gave error nan, and nan passed."""
    w = np.array([1.0, 2.0, 3.0])
    f = lambda p: float((p["w"] ** 2).sum())
    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradients(f, {"w": w}, {"w": 2 * w * 1e200})
    with pytest.raises(ValueError, match=r"grads\['w'\] has non-finite values"):
        check_gradients(f, {"w": w}, {"w": np.array([2.0, np.nan, 6.0])})
    with pytest.raises(ValueError, match="f must return a finite scalar; got nan at params"):
        check_gradients(lambda p: np.nan, {"w": w}, {"w": 2 * w})
    step = lambda p: float(1.7e308 * np.tanh(1e9 * p["w"][0]))   # finite, but f(+ε) - f(-ε) overflows
    with pytest.raises(ValueError, match="overflows float64"):
        numerical_gradient(step, {"w": np.zeros(2)}, eps=1e-5)


def test_check_layer_checks_forward_backward_pairs():
    from theory.core import nn
    from theory.core.gradcheck import check_layer
    rng = np.random.default_rng(3)
    QKV = dict(Q=rng.standard_normal((2, 3, 4)), K=rng.standard_normal((2, 5, 4)), V=rng.standard_normal((2, 5, 3)))
    errors = check_layer(nn.softmax_attention_forward, nn.softmax_attention_backward, QKV)
    assert set(errors) == {"Q", "K", "V"} and max(errors.values()) < 1e-8
    assert check_layer(nn.relu_forward, nn.relu_backward, {"x": rng.standard_normal((4, 3))})["x"] < 1e-8

    def wrong_dK(dout, cache):                          # a 1 % error in one gradient
        dQ, dK, dV = nn.softmax_attention_backward(dout, cache)
        return dQ, 1.01 * dK, dV
    with pytest.raises(AssertionError, match="for 'K' exceeds tol"):
        check_layer(nn.softmax_attention_forward, wrong_dK, QKV)
    with pytest.raises(ValueError, match="inputs\\['Q'\\] is float32: check_layer needs float64"):
        check_layer(nn.softmax_attention_forward, nn.softmax_attention_backward, dict(QKV, Q=QKV["Q"].astype(np.float32)))
    with pytest.raises(ValueError, match="a tuple of 3 gradients"):
        check_layer(nn.softmax_attention_forward, lambda d, c: nn.softmax_attention_backward(d, c)[:2], QKV)


def test_a_float32_gradient_fails_with_a_hint():
    """A float32 gradient fails even when it is the right one rounded (its round-off is as
    large as the tolerance): the grader's rule, in the grader's words."""
    from theory.core.gradcheck import low_precision
    w = np.random.default_rng(0).standard_normal(6)
    for grads in ({"w": (np.cos(w) * (1 + 3e-7)).astype(np.float32)},    # round-off-sized off
                  {"w": np.cos(w).astype(np.float32)}):                  # right, rounded to float32
        with pytest.raises(AssertionError, match="grads\\['w'\\] is float32: compute in float64"):
            check_gradients(lambda p: float(np.sum(np.sin(p["w"]))), {"w": w}, grads)
    assert low_precision("x", np.ones(2)) is None and low_precision("x", np.ones(2, int)) is None
    assert low_precision("dQ", np.ones(2, np.float16)).startswith("dQ is float16: compute in float64")
    with pytest.raises(AssertionError) as err:                   # a float64 error gets no such hint
        check_gradients(lambda p: float(np.sum(np.sin(p["w"]))), {"w": w}, {"w": 1.01 * np.cos(w)})
    assert "Hint" not in str(err.value)


def _layer_norm_forward(x):
    """A layer norm without gain and bias: y = (x − mean) / sqrt(var + 1e-5), row by row."""
    mu = x.mean(axis=-1, keepdims=True)
    s = np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + 1e-5)
    y = (x - mu) / s
    return y, (y, s)


def _layer_norm_backward(dy, cache):
    y, s = cache
    return (dy - dy.mean(axis=-1, keepdims=True) - y * (dy * y).mean(axis=-1, keepdims=True)) / s


def test_a_failed_check_says_its_step_and_whether_another_step_passes():
    """A right layer-norm backward on nearly constant rows (spread 1e-3, close to the default
    step) fails at eps = 1e-5 — the function curves on that scale — and the report says so:
    the step used, the errors at the other steps, and that a smaller one passes.  A wrong
    backward fails at every step, and the report says that instead."""
    from theory.core.gradcheck import check_layer
    x = 3.0 + 1e-3 * np.random.default_rng(0).standard_normal((2, 6))
    with pytest.raises(AssertionError) as err:
        check_layer(_layer_norm_forward, _layer_norm_backward, {"x": x})
    text = str(err.value)
    assert "with the finite-difference step eps = 1e-05" in text and "the verdict depends on the step" in text
    passing = float(text.split("check again with eps=")[1].split(",")[0])
    assert passing < 1e-5
    assert check_layer(_layer_norm_forward, _layer_norm_backward, {"x": x}, eps=passing)["x"] <= 1e-7
    with pytest.raises(AssertionError, match="it fails at every step tried: the gradient itself is off"):
        check_layer(_layer_norm_forward, lambda dy, c: 1.01 * _layer_norm_backward(dy, c), {"x": x})
