"""Every backward in theory.nn against central differences (1e-7 relative), on shapes
drawn by hypothesis; softmax invariances; bad input answered by ValueError."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds, sizes, small, well_scaled
from theory.core import nn
from theory.core.gradcheck import check_gradients, rel_error

TOL = 1e-7
MASKS = st.sampled_from(["none", "causal", "exclude_self", "causal_exclude_self", "first"])


def _mask(kind, T):
    if kind == "none":
        return None
    if kind == "first":
        return nn.attention_mask(T, keys_only_first=max(1, T - 1))
    return nn.attention_mask(T, causal="causal" in kind, exclude_self="exclude" in kind)


def _probe(rng, shape):
    """A random linear functional: the scalar sum(R * y) has dL/dy = R."""
    return rng.standard_normal(shape)


@given(seeds, small, sizes, sizes, sizes, st.booleans())
def test_linear_backward(seed, B, T, d_in, d_out, bias):
    rng = rng_from(seed)
    p = {"x": well_scaled(rng, (B, T, d_in)), "W": well_scaled(rng, (d_out, d_in))}
    if bias:
        p["b"] = well_scaled(rng, d_out)
    R = _probe(rng, (B, T, d_out))
    f = lambda q: np.sum(R * nn.linear_forward(q["x"], q["W"], q.get("b"))[0])
    y, cache = nn.linear_forward(p["x"], p["W"], p.get("b"))
    dx, g = nn.linear_backward(R, cache)
    check_gradients(f, p, {"x": dx, **g}, tol=TOL)


@given(seeds, small, sizes)
def test_relu_backward(seed, B, D):
    rng = rng_from(seed)
    x = well_scaled(rng, (B, D))
    R = _probe(rng, x.shape)
    _, cache = nn.relu_forward(x)
    check_gradients(lambda q: np.sum(R * nn.relu_forward(q["x"])[0]), {"x": x},
                    {"x": nn.relu_backward(R, cache)}, tol=TOL)


@given(seeds, small, sizes)
def test_softmax_backward(seed, B, C):
    rng = rng_from(seed)
    z = 2 * rng.standard_normal((B, C))
    R = _probe(rng, z.shape)
    dz = nn.softmax_backward(R, nn.softmax(z))
    check_gradients(lambda q: np.sum(R * nn.softmax(q["z"])), {"z": z}, {"z": dz}, tol=TOL)


@given(seeds, small, sizes, sizes, st.sampled_from(["linear", "softmax"]), MASKS,
       st.sampled_from([1.0, 0.5]))
def test_attention_backward(seed, B, T, d, kind, mask_kind, scale):
    rng = rng_from(seed)
    fwd = getattr(nn, f"{kind}_attention_forward")
    bwd = getattr(nn, f"{kind}_attention_backward")
    mask = _mask(mask_kind, T)
    if kind == "softmax" and mask is not None and not mask.any(axis=-1).all():
        mask_kind, mask = "causal", _mask("causal", T)     # a query with no key: see test below
    p = {"Q": well_scaled(rng, (B, T, d)), "K": well_scaled(rng, (B, T, d)),
         "V": well_scaled(rng, (B, T, d + 1))}
    R = _probe(rng, (B, T, d + 1))
    f = lambda q: np.sum(R * fwd(q["Q"], q["K"], q["V"], mask=mask, scale=scale)[0])
    dQ, dK, dV = bwd(R, fwd(p["Q"], p["K"], p["V"], mask=mask, scale=scale)[1])
    check_gradients(f, p, {"Q": dQ, "K": dK, "V": dV}, tol=TOL)


@given(seeds, sizes, sizes)
def test_attention_backward_with_broadcast_batch(seed, T, d):
    """Shared K, V (no batch axis) against a batch of queries: gradients sum over the batch."""
    rng = rng_from(seed)
    p = {"Q": well_scaled(rng, (3, T, d)), "K": well_scaled(rng, (T, d)),
         "V": well_scaled(rng, (T, 2))}
    R = _probe(rng, (3, T, 2))
    f = lambda q: np.sum(R * nn.softmax_attention_forward(q["Q"], q["K"], q["V"])[0])
    dQ, dK, dV = nn.softmax_attention_backward(R, nn.softmax_attention_forward(p["Q"], p["K"], p["V"])[1])
    check_gradients(f, p, {"Q": dQ, "K": dK, "V": dV}, tol=TOL)


@given(seeds, small, sizes, sizes, st.sampled_from(["linear", "softmax"]), MASKS)
def test_self_attention_backward(seed, B, T, D, kind, mask_kind):
    rng = rng_from(seed)
    mask = _mask(mask_kind if kind == "linear" else "causal", T)
    p = {"X": well_scaled(rng, (B, T, D)),
         "W_Q": well_scaled(rng, (2, D)) / np.sqrt(D),
         "W_K": well_scaled(rng, (2, D)) / np.sqrt(D),
         "W_V": well_scaled(rng, (3, D))}
    R = _probe(rng, (B, T, 3))
    f = lambda q: np.sum(R * nn.self_attention_forward(q["X"], q, kind=kind, mask=mask)[0])
    dX, g = nn.self_attention_backward(R, nn.self_attention_forward(p["X"], p, kind=kind, mask=mask)[1])
    check_gradients(f, p, {"X": dX, **g}, tol=TOL)


@given(seeds, small, sizes)
def test_squared_error_backward(seed, B, D):
    rng = rng_from(seed)
    pred, target = rng.standard_normal((2, B, 3, D))
    _, cache = nn.squared_error_forward(pred, target)
    check_gradients(lambda q: nn.squared_error_forward(q["pred"], target)[0], {"pred": pred},
                    {"pred": nn.squared_error_backward(1.0, cache)}, tol=TOL)


@given(seeds, small, st.integers(2, 8))
def test_cross_entropy_backward(seed, B, C):
    rng = rng_from(seed)
    z = 3 * rng.standard_normal((B, 2, C))
    y = rng.integers(0, C, size=(B, 2))
    loss, cache = nn.cross_entropy_forward(z, y)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    assert loss == pytest.approx(-np.mean(np.take_along_axis(logp, y[..., None], -1)), rel=1e-12)
    check_gradients(lambda q: nn.cross_entropy_forward(q["z"], y)[0], {"z": z},
                    {"z": nn.cross_entropy_backward(1.0, cache)}, tol=TOL)


def test_gradient_check_catches_a_wrong_attention_backward():
    """A backward with a missing transpose (dK = dA Q instead of dA^T Q) is caught."""
    rng = rng_from(1)
    p = {"Q": rng.standard_normal((4, 3)), "K": rng.standard_normal((4, 3)), "V": rng.standard_normal((4, 2))}
    R = _probe(rng, (4, 2))
    _, cache = nn.linear_attention_forward(p["Q"], p["K"], p["V"])
    dQ, dK, dV = nn.linear_attention_backward(R, cache)
    dK_wrong = (R @ p["V"].T) @ p["Q"]
    f = lambda q: np.sum(R * nn.linear_attention_forward(q["Q"], q["K"], q["V"])[0])
    with pytest.raises(AssertionError, match="'K'"):
        check_gradients(f, p, {"Q": dQ, "K": dK_wrong, "V": dV})


# --------------------------------------------------------------------------- softmax
@given(seeds, sizes, st.floats(-50, 50))
def test_softmax_shift_invariance_and_rows_sum_to_one(seed, C, c):
    z = rng_from(seed).standard_normal((3, C))
    p = nn.softmax(z)
    assert rel_error(np.log(p), nn.log_softmax(z)) < 1e-12
    assert rel_error(nn.logsumexp(z), np.log(np.exp(z).sum(-1, keepdims=True))) < 1e-12
    assert rel_error(p, nn.softmax(z + c)) < 1e-12
    assert np.allclose(p.sum(-1), 1.0, rtol=0, atol=1e-14) and (p >= 0).all()


def test_softmax_no_overflow():
    z = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]])
    p = nn.softmax(z)
    assert np.isfinite(p).all()
    assert rel_error(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]]) < 1e-15
    assert np.isfinite(nn.log_softmax(z)).all()
    # log Σ exp: 1e4 + log(1 + 2e^{-1e4}) and 1e4 + log 3, no overflow
    assert rel_error(nn.logsumexp(z), [[1e4], [1e4 + np.log(3)]]) < 1e-15
    loss, _ = nn.cross_entropy_forward(np.array([[1e4, -1e4]]), np.array([1]))
    assert loss == pytest.approx(2e4)


def test_masks():
    m = nn.attention_mask(3, causal=True, exclude_self=True)
    assert m.tolist() == [[False, False, False], [True, False, False], [True, True, False]]
    m = nn.attention_mask(4, keys_only_first=3)
    assert m[:, 3].sum() == 0 and m[:, :3].all()
    # masked keys get exactly zero weight, and changing them changes nothing
    rng = rng_from(2)
    Q, K, V = rng.standard_normal((3, 4, 2))
    out, cache = nn.softmax_attention_forward(Q, K, V, mask=m)
    K2, V2 = K.copy(), V.copy()
    K2[3], V2[3] = 100.0, -100.0
    assert rel_error(out, nn.softmax_attention_forward(Q, K2, V2, mask=m)[0]) == 0.0
    assert (cache.weights[:, 3] == 0).all()


# --------------------------------------------------------------------------- bad input
def test_bad_input():
    x, W = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(ValueError, match=r"input width: x has 2, W has 3"):
        nn.linear_forward(np.ones((2, 2)), W)
    with pytest.raises(ValueError, match=r"W must have 2 dimensions; got shape \(3,\)"):
        nn.linear_forward(x, np.ones(3))
    with pytest.raises(ValueError, match=r"b must have shape \(4\)"):
        nn.linear_forward(x, W, np.ones(3))
    with pytest.raises(ValueError, match="x has non-finite"):
        nn.linear_forward(np.array([[np.nan, 0, 0]]), W)
    with pytest.raises(ValueError, match=r"dy must have shape \(2, 4\)"):
        nn.linear_backward(np.ones((2, 3)), nn.linear_forward(x, W)[1])
    Q = np.ones((3, 2))
    with pytest.raises(ValueError, match="key width: Q has 2, K has 3"):
        nn.linear_attention_forward(Q, np.ones((3, 3)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="key/value tokens: K has 3, V has 2"):
        nn.softmax_attention_forward(Q, Q, np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"mask must broadcast to \(..., T, S\) = \(3, 3\); got shape \(2, 2\)"):
        nn.linear_attention_forward(Q, Q, Q, mask=np.ones((2, 2), bool))
    with pytest.raises(ValueError, match="boolean"):
        nn.linear_attention_forward(Q, Q, Q, mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="no key"):
        nn.softmax_attention_forward(Q, Q, Q, mask=nn.attention_mask(3, causal=True, exclude_self=True))
    with pytest.raises(ValueError, match="scale"):
        nn.linear_attention_forward(Q, Q, Q, scale=float("inf"))
    with pytest.raises(ValueError, match="n_queries must be a positive integer; got 0"):
        nn.attention_mask(0)
    with pytest.raises(ValueError, match="keys_only_first must be <= n_keys = 3"):
        nn.attention_mask(3, keys_only_first=4)
    with pytest.raises(ValueError, match="kind must be"):
        nn.self_attention_forward(Q, {"W_Q": W, "W_K": W, "W_V": W}, kind="relu")
    with pytest.raises(ValueError, match="missing"):
        nn.self_attention_forward(Q, {"W_Q": W})
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        nn.cross_entropy_forward(np.ones((2, 3)), np.zeros(3, int))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        nn.cross_entropy_forward(np.ones((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="labels must be an integer array"):
        nn.cross_entropy_forward(np.ones((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"target must have shape \(2, 3\)"):
        nn.squared_error_forward(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="zero-size"):
        nn.linear_forward(np.ones((0, 3)), W)
    with pytest.raises(ValueError, match="z must be finite or -inf"):
        nn.softmax([np.nan, 1.0])


@settings(max_examples=25)
@given(seeds, st.integers(1, 3), st.integers(2, 7))
def test_layer_norm_matches_its_definition_and_finite_differences(seed, rows, n):
    from theory.core.gradcheck import numerical_gradient
    rng = rng_from(seed)
    x, g, b, w = rng.standard_normal((rows, n)), rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal((rows, n))
    y, cache = nn.layer_norm_forward(x, g, b)
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * g + b
    assert rel_error(y, want) < 1e-12
    dx, dg, db = nn.layer_norm_backward(w, cache)
    fd = numerical_gradient(lambda p: float((nn.layer_norm_forward(p["x"], p["g"], p["b"])[0] * w).sum()),
                            {"x": x, "g": g, "b": b}, eps=1e-6)
    scale = float(np.linalg.norm(np.concatenate([dx.ravel(), dg, db])))
    for got, name in ((dx, "x"), (dg, "g"), (db, "b")):
        assert rel_error(got, fd[name], scale=scale) < 1e-7, name
    wrong = w * g / np.sqrt(x.var(-1, keepdims=True) + 1e-5)               # forgetting the mean and variance terms
    if n > 1:
        assert rel_error(wrong, fd["x"]) > 1e-3
