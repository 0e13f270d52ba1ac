"""von Oswald et al. 2023: LSA = GD step, K layers = K steps, GD++, the closed-form step
size and the Gaussian moment identity — each to 1e-12 (or Monte Carlo noise), each with
a wrong variant that must be caught, each against its sympy proof."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds, sizes, small, well_scaled
from theory.claims import run_proof
from theory import gd_step as g
from theory.core import nn
from theory.core.gradcheck import check_gradients, norm, rel_error
from theory.gd_step.data import uniform_moments
from theory.gd_step import claims as C

EXACT = 1e-12


def _data(rng, B, N, d, d_out):
    X = rng.standard_normal((B, N, d)) / np.sqrt(d)
    Y = rng.standard_normal((B, N, d_out))
    return X, Y, rng.standard_normal((B, d)) / np.sqrt(d)


# --------------------------------------------------------------------------- identities
@example(seed=49965118, B=1, N=1, d=3, d_out=1, zero_W0=True, K=3)   # a cancelling y-slot (see below)
@given(seeds, small, sizes, small, small, st.booleans(), st.integers(1, 4))
def test_k_layers_are_k_gd_steps(seed, B, N, d, d_out, zero_W0, K):
    rng = rng_from(seed)
    X, Y, xq = _data(rng, B, N, d, d_out)
    W0 = None if zero_W0 else rng.standard_normal((d_out, d))
    eta = float(rng.uniform(0.1, 1.5))
    out, _ = g.stack_forward(g.tokens(X, Y, xq, W0), g.gd_construction(d, d_out, N, eta, W0), K, N,
                             shared=True)
    y_hat, W = g.gd_predict(X, Y, xq, eta, K, W0)
    W_start = 0.0 if W0 is None else W0
    assert rel_error(g.readout(out, d), y_hat) < EXACT
    moved = X @ np.swapaxes(W - W_start, 1, 2)             # ΔW x_i; y_i - ΔW x_i may cancel,
    assert rel_error(out[:, :N, d:], Y - moved, scale=max(norm(Y), norm(moved))) < EXACT  # so: vs operands
    # wrong variants: a flipped sign on P, or one step too few — the latter told apart
    # wherever the K-th step is visible (a draw where GD had converged moved the prediction
    # by 7.9e-8 in its last step: K - 1 and K steps are then the same answer)
    flipped = dict(g.gd_construction(d, d_out, N, eta, W0), P=-(eta / N) * np.eye(d + d_out))
    wrong, _ = g.stack_forward(g.tokens(X, Y, xq, W0), flipped, K, N, shared=True)
    assert rel_error(g.readout(wrong, d), y_hat) > 1e-6
    if K > 1:
        fewer = g.gd_predict(X, Y, xq, eta, K - 1, W0)[0]
        if norm(y_hat - fewer) > 1e-4 * norm(y_hat):
            assert rel_error(g.readout(out, d), fewer) > 1e-6


@given(seeds, small, sizes, small, small)
def test_query_among_the_keys_breaks_it_when_W0_is_not_zero(seed, B, N, d, d_out):
    rng = rng_from(seed)
    X, Y, xq = _data(rng, B, N, d, d_out)
    eta = 0.7
    W0 = rng.standard_normal((d_out, d))
    with_q = g.lsa_forward(g.tokens(X, Y, xq, W0), g.gd_construction(d, d_out, N, eta, W0), N,
                           include_query=True)[0]
    assert rel_error(g.readout(with_q, d), g.gd_predict(X, Y, xq, eta, 1, W0)[0]) > 1e-6
    # ... and not when W0 = 0: the query's value W0 x_q - y-slot is then 0
    zero_q = g.lsa_forward(g.tokens(X, Y, xq), g.gd_construction(d, d_out, N, eta), N, include_query=True)[0]
    assert rel_error(g.readout(zero_q, d), g.gd_predict(X, Y, xq, eta, 1)[0]) < EXACT


@given(seeds, small, sizes, small, st.integers(1, 3))
def test_gdpp_layers_match_the_direct_algorithm(seed, B, N, d, L):
    rng = rng_from(seed)
    X, Y, xq = _data(rng, B, N, d, 1)
    etas, gammas = rng.uniform(0.1, 1.5, L), rng.uniform(0.0, 0.5, L)
    params = {}
    for layer in range(L):
        params.update({k + str(layer): v for k, v in g.gdpp_construction(d, 1, N, etas[layer], gammas[layer]).items()})
    E = g.tokens(X, Y, xq)
    out, _ = g.stack_forward(E, params, L, N)
    direct, (Xs, R, xqs) = g.gdpp_predict(X, Y, xq, etas, gammas, return_state=True)
    # the whole token state: transformed inputs, residual targets, and -ŷ in the query
    state = g.tokens(Xs, R, xqs)
    state[:, -1, d:] = -direct
    assert rel_error(out, state) < EXACT
    # without the x transform it is plain GD: caught whenever the transform moves the
    # inputs visibly (γ ||Σ x_i x_i^T|| not tiny; with tiny inputs the two coincide)
    strength = gammas[0] * np.linalg.norm(np.swapaxes(X, 1, 2) @ X, axis=(1, 2)).min()
    if L > 1 and strength > 0.05:
        assert rel_error(g.gdpp_predict(X, Y, xq, etas, np.zeros(L)), direct) > 1e-6


def test_gdpp_with_gamma_zero_is_gd():
    rng = rng_from(3)
    X, Y, xq = _data(rng, 5, 6, 3, 1)
    assert rel_error(g.gdpp_predict(X, Y, xq, [0.4, 0.4, 0.4], [0, 0, 0]),
                     g.gd_predict(X, Y, xq, 0.4, 3)[0]) < EXACT


@given(seeds, small, sizes, small)
def test_gram_form_equals_attention_over_context_tokens(seed, B, N, D):
    """lsa_forward computes through G = Σ e_i e_i^T; check it against theory.nn's linear
    attention (an independent code path) with random weights."""
    rng = rng_from(seed)
    E = rng.standard_normal((B, N + 1, D))
    p = {k: rng.standard_normal((D, D)) for k in g.lsa.LSA_KEYS}
    Q, K, V = E @ p["W_Q"].T, E @ p["W_K"].T, E @ p["W_V"].T
    mask = nn.attention_mask(N + 1, keys_only_first=N)
    ref = E + nn.linear_attention_forward(Q, K, V, mask=mask)[0] @ p["P"].T
    assert rel_error(g.lsa_forward(E, p, N)[0], ref) < EXACT
    assert rel_error(g.lsa_forward(E, p, N, query_only=True)[0], ref[:, -1:]) < EXACT
    ref_all = E + nn.linear_attention_forward(Q, K, V)[0] @ p["P"].T
    assert rel_error(g.lsa_forward(E, p, N, include_query=True)[0], ref_all) < EXACT


# --------------------------------------------------------------------------- gradients
@given(seeds, small, st.integers(1, 5), st.integers(2, 4), st.booleans(), st.booleans())
def test_lsa_backward(seed, B, N, D, include_query, query_only):
    rng = rng_from(seed)
    E = well_scaled(rng, (B, N + 1, D))
    p = {k: well_scaled(rng, (D, D)) / D for k in g.lsa.LSA_KEYS}
    out, cache = g.lsa_forward(E, p, N, include_query=include_query, query_only=query_only)
    R = rng.standard_normal(out.shape)
    f = lambda q: np.sum(R * g.lsa_forward(q["E"], q, N, include_query=include_query, query_only=query_only)[0])
    dE, grads = g.lsa_backward(R, cache)
    check_gradients(f, {"E": E, **p}, {"E": dE, **grads})


@settings(max_examples=50)                                 # up to 3 layers of finite differences
@given(seeds, small, st.integers(1, 5), st.integers(1, 3), st.integers(1, 3), st.booleans())
def test_stack_loss_gradients(seed, B, N, d, L, shared):
    rng = rng_from(seed)
    X, Y, xq = _data(rng, B, N, d, 1)
    E, y = g.tokens(X, Y, xq), rng.standard_normal((B, 1))
    names = [""] if shared else [str(l) for l in range(L)]
    # weights of size ~1/(2D): each layer a moderate update, so the deep polynomial stays
    # well-conditioned for finite differences (truncation error ~ eps² f''')
    p = {k + s: well_scaled(rng, (d + 1, d + 1)) / (2 * (d + 1)) for s in names for k in g.lsa.LSA_KEYS}
    loss, grads = g.lsa_loss(p, E, y, L, shared=shared)
    check_gradients(lambda q: g.lsa_loss(q, E, y, L, shared=shared)[0], p, grads)


# --------------------------------------------------------------------------- closed forms
def test_optimal_one_step_headline_numbers():
    b, loss = g.optimal_one_step(10, 10, *uniform_moments(0.5))
    assert b == pytest.approx(200 / 33, rel=1e-14) and loss == pytest.approx(245 / 1188, rel=1e-14)


@settings(max_examples=5)                                  # Monte Carlo: 0.1 s per example
@given(seeds)
def test_optimal_step_by_monte_carlo_and_a_wrong_moment_is_caught(seed):
    rng = rng_from(seed)
    s2, m4 = uniform_moments(0.5)
    b_mc, loss_at = g.closed_forms.monte_carlo_one_step(rng, 10, 10, 0.5, 200_000)
    b_star, loss_star = g.optimal_one_step(10, 10, s2, m4)
    assert abs(b_mc / b_star - 1) < 0.02 and abs(loss_at(b_star) / loss_star - 1) < 0.02
    b_gauss = g.optimal_one_step(10, 10, s2, 3 * s2 ** 2)[0]  # Gaussian kurtosis: wrong here
    assert abs(b_mc / b_gauss - 1) > 0.04


@pytest.fixture(scope="module")
def symbolic():
    return run_proof("gd_step")


@settings(max_examples=20)                                 # sympy substitution per example
@given(seeds, st.integers(1, 30), st.integers(1, 30), st.floats(0.1, 3.0))
def test_closed_form_matches_proof(symbolic, seed, d, N, a):
    r = symbolic["one_step"]
    s2, m4 = uniform_moments(a)
    subs = {r["d"]: d, r["N"]: N, r["sigma"]: np.sqrt(s2), r["mu4"]: m4}
    b, loss = g.optimal_one_step(d, N, s2, m4)
    assert rel_error(float(r["b_star"].subs(subs)), b) < EXACT
    assert rel_error(float(r["loss_star"].subs(subs)), loss) < EXACT


def test_constructed_layer_matches_proof(symbolic):
    r = symbolic["layer"]
    rng = rng_from(0)
    vals = {s: rng.standard_normal() for s in (*r["X"], *r["Y"], *r["xq"], *r["W0"])}
    vals[r["eta"]] = 0.8
    num = lambda m: np.array(m.subs(vals), dtype=float)
    X, Y, xq, W0 = num(r["X"]).T[None], num(r["Y"]).T[None], num(r["xq"]).T, num(r["W0"])
    for key, flag in (("out", False), ("out_with_query", True)):
        sym = np.stack([num(e)[:, 0] for e in r[key]])[None]
        out, _ = g.lsa_forward(g.tokens(X, Y, xq, W0), g.gd_construction(2, 2, 2, 0.8, W0), 2, include_query=flag)
        assert rel_error(out, sym) < EXACT


@settings(max_examples=5)                                  # Monte Carlo: 0.1 s per example
@given(seeds)
def test_gaussian_moment_matches_proof_and_monte_carlo(symbolic, seed):
    r = symbolic["gaussian"]
    rng = rng_from(seed)
    cov = g.closed_forms.random_covariance(rng, 2)
    N = int(rng.integers(1, 9))
    subs = dict(zip(r["Lam"], (cov[0, 0], cov[0, 1], cov[1, 1])))
    subs[r["N"]] = N
    ES2 = np.array(r["ES2"].subs(subs), dtype=float)
    assert rel_error(ES2, cov @ g.zfb_gamma(cov, N)) < EXACT
    assert C._check_zfb_moment(rng) < EXACT


@settings(max_examples=10)
@given(seeds, st.integers(1, 6), st.integers(1, 12), st.floats(0.1, 3.0))
def test_exact_one_step_by_quadrature_equals_the_closed_form(seed, d, N, a):
    b, loss = g.exact_one_step(d, N, a)
    b_star, loss_star = g.optimal_one_step(d, N, *uniform_moments(a))
    assert rel_error(b, b_star) < EXACT and rel_error(loss, loss_star) < EXACT
    assert C._check_optimal_step(rng_from(seed)) < EXACT


def test_quadrature_moments_are_exact_and_catch_a_wrong_kurtosis():
    """3-node Gauss rules: U(-a, a) has M4 diagonal m4 + (d-1)s⁴; the Gaussian's is 3λ² + ...
    The check would fail a closed form with the Gaussian kurtosis on uniform inputs."""
    s2, m4 = uniform_moments(0.7)
    M2, M4 = g.closed_forms.single_input_moments(4, a=0.7)
    assert rel_error(M2, s2 * np.eye(4)) < EXACT and rel_error(M4, (m4 + 3 * s2 ** 2) * np.eye(4)) < EXACT
    cov = g.closed_forms.random_covariance(rng_from(1), 3)
    M2, M4 = g.closed_forms.single_input_moments(3, cov=cov)             # Isserlis: E|x|² x xᵀ = tr Λ Λ + 2Λ²
    assert rel_error(M2, cov) < EXACT and rel_error(M4, np.trace(cov) * cov + 2 * cov @ cov) < EXACT
    b_gauss = g.optimal_one_step(5, 5, s2, 3 * s2 ** 2)[0]
    assert abs(g.exact_one_step(5, 5, 0.7)[0] / b_gauss - 1) > 0.04
    with pytest.raises(ValueError, match="exactly one of a"):
        g.closed_forms.single_input_moments(2)
    with pytest.raises(ValueError, match=r"d must be <= 12"):
        g.closed_forms.single_input_moments(13, a=1.0)


def test_zfb_moment_catches_a_wrong_gamma():
    rng = rng_from(4)
    cov = g.closed_forms.random_covariance(rng, 3)
    N = 3
    X = rng.standard_normal((300_000, N, 3)) @ np.linalg.cholesky(cov).T
    S = np.swapaxes(X, 1, 2) @ X / N
    mc = np.mean(S @ S, axis=0)
    assert rel_error(mc, cov @ g.zfb_gamma(cov, N)) < 0.02
    assert rel_error(mc, cov @ cov) > 0.1                  # forgetting the 1/N terms is caught


# --------------------------------------------------------------------------- bad input
def test_bad_input():
    X, Y, xq = np.ones((2, 3, 4)), np.ones((2, 3, 1)), np.ones((2, 4))
    with pytest.raises(ValueError, match=r"Y must have shape \(2, 3, \*\); got shape \(2, 2, 1\)"):
        g.tokens(X, np.ones((2, 2, 1)), xq)
    with pytest.raises(ValueError, match=r"W0 must have shape \(1, 4\); got shape \(4, 1\)"):
        g.tokens(X, Y, xq, W0=np.ones((4, 1)))
    with pytest.raises(ValueError, match=r"xq must have shape \(2, 4\)"):
        g.gd_predict(X, Y, np.ones((2, 3)), 0.1)
    with pytest.raises(ValueError, match="zero-size"):
        g.tokens(np.ones((2, 0, 4)), np.ones((2, 0, 1)), xq)
    E = g.tokens(X, Y, xq)
    p = g.gd_construction(4, 1, 3, 0.1)
    with pytest.raises(ValueError, match=r"params\['W_K'\] must have shape \(6, 6\); got shape \(5, 5\)"):
        g.lsa_forward(np.ones((2, 4, 6)), p, 3)
    with pytest.raises(ValueError, match="n_context must be a positive integer; got 0"):
        g.lsa_forward(E, p, 0)
    with pytest.raises(ValueError, match="n_context must be < number of tokens 4"):
        g.lsa_forward(E, p, 4)
    with pytest.raises(ValueError, match="missing"):
        g.lsa_forward(E, {"W_K": np.eye(5)}, 3)
    with pytest.raises(ValueError, match="E has non-finite"):
        g.lsa_forward(np.full((2, 4, 5), np.nan), p, 3)
    with pytest.raises(ValueError, match=r"dout must have shape \(2, 4, 5\)"):
        g.lsa_backward(np.ones((2, 1, 5)), g.lsa_forward(E, p, 3)[1])
    with pytest.raises(ValueError, match=r"W0 must have shape \(1, 4\)"):
        g.gd_construction(4, 1, 3, 0.1, W0=np.ones((2, 4)))
    with pytest.raises(ValueError, match="eta must be a finite"):
        g.gd_construction(4, 1, 3, float("inf"))
    with pytest.raises(ValueError, match="etas and gammas"):
        g.gdpp_predict(X, Y, xq, [0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="n_layers"):
        g.stack_forward(E, p, 0, 3, shared=True)
    with pytest.raises(ValueError, match="s2 must be > 0"):
        g.optimal_one_step(4, 3, 0.0, 1.0)
    with pytest.raises(ValueError, match="cov must be square"):
        g.zfb_gamma(np.ones((2, 3)), 3)


@pytest.mark.parametrize("L,shared", [(1, False), (2, False), (3, True)])
def test_reused_buffers_give_the_same_loss_and_gradients(L, shared):
    """Training reuses one workspace per layer from step to step; over consecutive steps
    with different tokens it must give exactly what fresh arrays give."""
    rng = rng_from(L)
    D, N = 4, 5
    names = [""] if shared else [str(l) for l in range(L)]
    params = {k + s: rng.standard_normal((D, D)) / D for s in names for k in g.lsa.LSA_KEYS}
    ws = [{} for _ in range(L)]
    for _ in range(3):
        E, y = rng.standard_normal((6, N + 1, D)), rng.standard_normal((6, 1))
        fresh = g.lsa._lsa_loss(params, E, y, L, shared)
        reused = g.lsa._lsa_loss(params, E, y, L, shared, ws)
        assert fresh[0] == reused[0] and np.array_equal(fresh[2], reused[2])
        assert all(np.array_equal(fresh[1][k], reused[1][k]) for k in params)
    assert all(ws)                                          # the buffers were used
