"""von Oswald et al. 2023b (mesa-optimization): the identities, each with a wrong variant
that must be caught, and the mesa-layer's hand-written gradients."""
import numpy as np
import pytest
from hypothesis import given, settings

from tests.helpers import rng_from, seeds
from theory import mesa
from theory.core import nn
from theory.core.gradcheck import check_gradients, rel_error
from theory.mesa.data import linear_dynamics, random_orthogonal
from theory.mesa import claims as C


@given(seeds)
def test_sherman_morrison_is_the_ridge_solve_and_the_downdate_undoes_it(seed):
    assert C._check_sherman_morrison(rng_from(seed)) < 1e-12
    assert C._check_downdate(rng_from(seed)) < 1e-10
    # wrong variant: the rank-one update without the 1 in its denominator
    K, V, Q, lam = mesa.layer._mesa_instance(rng_from(seed))
    B, T, dk = K.shape
    R = np.broadcast_to(lam * np.eye(dk), (B, dk, dk))
    k = K[:, 0]
    Rk = np.einsum("bij,bj->bi", R, k)
    wrong = R - Rk[:, :, None] * Rk[:, None, :] / np.einsum("bi,bi->b", k, Rk)[:, None, None]
    right = np.linalg.inv(k[:, :, None] * k[:, None, :] + np.eye(dk) / lam)
    assert rel_error(wrong, right) > 1e-3


@given(seeds)
def test_mesa_layer_is_causal_attention_with_preconditioned_queries(seed):
    assert C._check_mesa_is_attention(rng_from(seed)) < 1e-12
    K, V, Q, lam = mesa.layer._mesa_instance(rng_from(seed))
    y, cache = mesa.mesa_layer_forward(K, V, Q, lam)
    full = nn.linear_attention_forward(cache.u, K, V)[0]             # wrong: not causal
    assert K.shape[1] < 2 or rel_error(y, full) > 1e-3


@given(seeds)
def test_causal_lsa_with_the_construction_is_one_gd_step(seed):
    assert C._check_causal_gd_step(rng_from(seed)) < 1e-12
    rng = rng_from(seed)
    S = rng.uniform(-1, 1, size=(2, 6, 3))
    p = mesa.attention.gd_construction(3, 0.5)
    strict = nn.attention_mask(6, causal=True) & ~np.eye(6, dtype=bool)  # wrong: current token left out
    E = mesa.tokens(S)
    H = nn.linear_attention_forward(E @ p["W_Q"].T, E @ p["W_K"].T, E @ p["W_V"].T, mask=strict)[0]
    assert rel_error((E + H @ p["P"].T)[:, :, :3], mesa.gd_prediction(S, 0.5)) > 1e-3


@settings(max_examples=20)          # central differences over every entry: 20 instances a run
@given(seeds)
def test_mesa_layer_gradients(seed):
    K, V, Q, lam = mesa.layer._mesa_instance(rng_from(seed))
    R_out = rng_from(seed + 1).standard_normal(V.shape)

    def loss(p, lam=lam):
        return float(np.sum(R_out * mesa.mesa_layer_forward(p["K"], p["V"], p["Q"], lam)[0]))
    y, cache = mesa.mesa_layer_forward(K, V, Q, lam)
    dK, dV, dQ, dlam = mesa.mesa_layer_backward(R_out, cache)
    check_gradients(loss, {"K": K, "V": V, "Q": Q}, {"K": dK, "V": dV, "Q": dQ})
    # λ: a five-point difference (truncation O(h⁴)); a central difference's O(h²) error is
    # 4e-7 of dλ on instances where dλ is small against the curvature (seed 167504)
    h = 1e-3 * lam
    f = lambda x: loss({"K": K, "V": V, "Q": Q}, x)
    five = (-f(lam + 2 * h) + 8 * f(lam + h) - 8 * f(lam - h) + f(lam - 2 * h)) / (12 * h)
    noise = 4 * 2.2e-16 * abs(f(lam)) / h                   # round-off of the difference itself
    assert abs(five - dlam) <= 1e-7 * max(abs(dlam), abs(five), noise / 1e-7)


def test_a_wrong_mesa_gradient_is_caught():
    K, V, Q, lam = mesa.layer._mesa_instance(np.random.default_rng(4))
    R_out = np.random.default_rng(5).standard_normal(V.shape)
    y, cache = mesa.mesa_layer_forward(K, V, Q, lam)
    dK, dV, dQ, dlam = mesa.mesa_layer_backward(R_out, cache)
    loss = lambda p: float(np.sum(R_out * mesa.mesa_layer_forward(p["K"], V, Q, lam)[0]))
    check_gradients(loss, {"K": K}, {"K": dK})
    missing = dK - np.einsum("btij,bti->btj", np.cumsum((R_out[..., None] * cache.u[:, :, None, :])[:, ::-1],
                                                        axis=1)[:, ::-1], V)      # the A-path of dK left out
    with pytest.raises(AssertionError):
        check_gradients(loss, {"K": K}, {"K": missing})


def test_linear_dynamics():
    r = linear_dynamics(np.random.default_rng(0), 8, T=30, D=5, sigma=0.0)
    assert r.S.shape == (8, 30, 5) and np.abs(r.W @ np.swapaxes(r.W, 1, 2) - np.eye(5)).max() < 1e-12
    assert rel_error(r.S[:, 1:], np.einsum("bij,btj->bti", r.W, r.S[:, :-1])) < 1e-12   # noise-free: exact
    assert np.all(np.abs(r.S[:, 0]) <= 1)
    norms = np.linalg.norm(r.S, axis=2)                    # orthogonal W*: the norm is kept
    assert np.abs(norms - norms[:, :1]).max() < 1e-12
    noisy = linear_dynamics(np.random.default_rng(0), 64, T=30, D=5, sigma=0.01)
    eps = noisy.S[:, 1:] - np.einsum("bij,btj->bti", noisy.W, noisy.S[:, :-1])
    assert 0.009 < eps.std() < 0.011
    Q = random_orthogonal(np.random.default_rng(1), 2000, 2)
    assert abs(np.mean(np.linalg.det(Q))) < 0.1           # both components of O(2), evenly
    with pytest.raises(ValueError, match="T must be >= 2"):
        linear_dynamics(0, 2, T=1)


def test_tokens_layout():
    S = np.arange(1.0, 13.0).reshape(1, 4, 3)
    E = mesa.tokens(S)
    assert E.shape == (1, 4, 12) and np.all(E[0, :, :3] == 0)
    assert np.array_equal(E[0, :, 3:6], S[0]) and np.array_equal(E[0, :, 6:9], S[0])
    assert np.all(E[0, 0, 9:] == 0) and np.array_equal(E[0, 1:, 9:], S[0, :-1])


def test_mesa_bad_input():
    K, V, Q, lam = mesa.layer._mesa_instance(np.random.default_rng(0))
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="lam"):
            mesa.mesa_layer_forward(K, V, Q, bad)
    with pytest.raises(ValueError, match="Q"):
        mesa.mesa_layer_forward(K, V, Q[:, :, :-1] if Q.shape[2] > 1 else Q[:, :1], lam)
    y = mesa.mesa_layer_forward(K, V, Q, 1e-300)[0]      # a huge ridge term: finite, near 0
    assert np.all(np.isfinite(y)) and np.abs(y).max() < 1e-200
    # a negligible ridge term (λ huge): the recursion would cancel, so it refuses, as does
    # the direct solve; just below the limit both agree to 1e-5
    for f in (mesa.mesa_layer_forward, mesa.ridge_predictions):
        with pytest.raises(ValueError, match="nearly singular"):
            f(K, V, Q, 1e15)
    lam = 0.9 * mesa.layer.MAX_CONDITION / np.max(np.sum(K * K, axis=(1, 2)))
    assert rel_error(mesa.mesa_layer_forward(K, V, Q, lam)[0], mesa.ridge_predictions(K, V, Q, lam)) < 1e-5


def test_proof_matches_numpy():
    """The proof's symbolic GD-step predictions (D = 2, t = 1..3) equal gd_prediction."""
    import sympy as sp
    from theory.claims import run_proof
    r = run_proof("mesa")
    S = np.random.default_rng(7).uniform(-1, 1, size=(1, 3, 2))
    subs = {sym: S[0, t, i] for t, st in enumerate(r["states"]) for i, sym in enumerate(st)}
    subs[r["eta"]] = 0.3
    sym = np.array([[float(sp.N(x.subs(subs))) for x in g] for g in r["gd_prediction"]])
    assert rel_error(sym, mesa.gd_prediction(S, 0.3)[0]) < 1e-12


def _layer_pair(E, W_Q, W_K, W_V, P):
    return mesa.causal_attention_forward(E, dict(W_Q=W_Q, W_K=W_K, W_V=W_V, P=P))


def _layer_grads(dout, cache):
    dE, g = mesa.causal_attention_backward(dout, cache)
    return dict(E=dE, **g)


@settings(max_examples=20)
@given(seeds)
def test_multi_head_causal_attention_gradients(seed):
    from theory.core.gradcheck import check_layer
    rng = rng_from(seed)
    H, dk, width = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(2, 7))
    p = mesa.attention.init_layer(rng, width, H, dk, scale=0.4)
    check_layer(_layer_pair, _layer_grads, dict(E=rng.standard_normal((2, int(rng.integers(1, 6)), width)), **p))


def test_next_state_loss_gradients_and_the_gd_head():
    """The deep model's loss gradients (two layers), and one head holding the GD
    construction is the causal LSA layer of the identity, so it predicts one GD step."""
    rng = np.random.default_rng(3)
    S = linear_dynamics(rng, 3, 6, 2).S
    layers = [mesa.attention.init_layer(rng, 8, 2, 3, scale=0.3) for _ in range(2)]
    loss, grads = mesa.next_state_loss(layers, S)
    flat = {f"{k}{i}": v for i, layer in enumerate(layers) for k, v in layer.items()}
    f = lambda q: mesa.next_state_loss([{k: q[f"{k}{i}"] for k in mesa.attention.HEAD_KEYS} for i in range(2)], S)[0]
    check_gradients(f, flat, {f"{k}{i}": v for i, g in enumerate(grads) for k, v in g.items()})
    gd = mesa.attention.gd_construction(2, 0.4)
    head = {k: gd[k][None] for k in mesa.attention.HEAD_KEYS}
    E = mesa.tokens(S)
    assert rel_error(mesa.causal_attention_forward(E, head)[0], mesa.causal_lsa_forward(E, gd)[0]) < 1e-14
    pred = mesa.causal_attention_forward(E, head)[0][:, :-1, :2]
    r = pred - S[:, 1:]
    assert abs(mesa.next_state_loss([head], S)[0] - 0.5 * np.sum(r * r) / (3 * 5)) < 1e-15   # B (T − 1) targets
    with pytest.raises(ValueError, match=r"layers\[0\]: params must be a dict"):
        mesa.next_state_loss([{"W_Q": np.zeros((1, 2, 8))}], S)


def test_next_state_loss_with_the_residual_clip_and_own_tokens():
    """The clip passes no gradient where it clips (checked by finite differences with some
    entries clipped), and given tokens are used as given."""
    rng = np.random.default_rng(11)
    S = linear_dynamics(rng, 3, 6, 2).S
    layers = [mesa.attention.init_layer(rng, 8, 2, 3, scale=0.8) for _ in range(2)]
    E = mesa.tokens(S)
    E[:, :, 2:4] = 0.0                                     # the 1-layer runs' masked copy
    streams = mesa.attention.residual_streams(layers, E)
    clip = 0.5 * float(np.abs(streams[1]).max())           # clips part of the first layer's output
    assert np.any(np.abs(streams[1]) > clip)
    loss, grads = mesa.next_state_loss(layers, S, clip=clip, E=E)
    flat = {f"{k}{i}": v for i, layer in enumerate(layers) for k, v in layer.items()}
    f = lambda q: mesa.next_state_loss([{k: q[f"{k}{i}"] for k in mesa.attention.HEAD_KEYS} for i in range(2)], S,
                                       clip=clip, E=E)[0]
    check_gradients(f, flat, {f"{k}{i}": v for i, g in enumerate(grads) for k, v in g.items()})
    clipped = mesa.attention.residual_streams(layers, E, clip=clip)
    assert all(np.abs(x).max() <= clip for x in clipped[1:])
    assert loss != mesa.next_state_loss(layers, S, E=E)[0]   # the clip changed the prediction


def test_the_gradient_claims_and_a_residual_path_left_out():
    rng = np.random.default_rng(8)
    assert C._check_mesa_gradient(rng) < 1e-7 and C._check_model_gradient(rng) < 1e-7
    # wrong variant: backpropagating through the second layer without its residual path
    S = linear_dynamics(rng, 2, 5, 2).S
    layers = [mesa.attention.init_layer(rng, 8, 2, 3, scale=0.5) for _ in range(2)]
    E = mesa.tokens(S)
    E1, c1 = mesa.causal_attention_forward(E, layers[0])
    E2, c2 = mesa.causal_attention_forward(E1, layers[1])
    dE2 = np.zeros_like(E2)
    dE2[:, :-1, :2] = (E2[:, :-1, :2] - S[:, 1:]) / (2 * 4)            # B (T − 1) targets
    dE1, _ = mesa.causal_attention_backward(dE2, c2)
    _, g_right = mesa.causal_attention_backward(dE1, c1)
    _, g_wrong = mesa.causal_attention_backward(dE1 - dE2, c1)           # the residual's dE2 dropped
    ref = mesa.next_state_loss(layers, S)[1][0]
    assert max(rel_error(g_right[k], ref[k]) for k in mesa.attention.HEAD_KEYS) < 1e-14
    assert max(rel_error(g_wrong[k], ref[k]) for k in mesa.attention.HEAD_KEYS) > 1e-3
