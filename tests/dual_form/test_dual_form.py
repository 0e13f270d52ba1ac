"""Dai et al. 2023: the dual form, the ICL split, and momentum — each identity to 1e-12
relative, each shown to catch a deliberately wrong variant, each compared with its proof."""
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import rng_from, seeds, sizes, small
from theory.claims import run_proof
from theory import dual_form as df
from theory.core import nn
from theory.core.gradcheck import numerical_gradient, rel_error

EXACT = 1e-12
losses = st.sampled_from(["squared", "cross_entropy"])


def _task(rng, d_out, d_in, N, loss):
    d_out = max(d_out, 2) if loss == "cross_entropy" else d_out
    W0 = rng.standard_normal((d_out, d_in))
    X = rng.standard_normal((N, d_in))
    targets = (rng.integers(0, d_out, size=N) if loss == "cross_entropy"
               else rng.standard_normal((N, d_out)))
    return W0, X, targets


# --------------------------------------------------------------------------- 1. dual form
@given(seeds, sizes, sizes, sizes, losses, st.floats(0.01, 2.0))
def test_dual_form_identity(seed, d_out, d_in, N, loss, lr):
    rng = rng_from(seed)
    W0, X, targets = _task(rng, d_out, d_in, N, loss)
    Xq = rng.standard_normal((4, d_in))
    step = df.gd_step_linear(W0, X, targets, lr=lr, loss=loss)
    finetuned = df.finetuned_output(W0, step.delta_W, Xq)
    assert rel_error(finetuned, df.dual_output(W0, step.E, X, Xq)) < EXACT
    # wrong variants are caught: a flipped sign on E, values paired with the wrong keys —
    # wherever the update is visible in the output (a draw with lr 1/64 and a residual of
    # 2e-4 moved it by 3e-7 of its size, below what the check asks for)
    if np.linalg.norm(Xq @ step.delta_W.T) > 1e-4 * np.linalg.norm(finetuned):
        assert rel_error(finetuned, df.dual_output(W0, -step.E, X, Xq)) > 1e-6
        assert rel_error(finetuned, Xq @ W0.T + (Xq @ X.T) @ step.E[::-1]) > 1e-6 or N == 1


@given(seeds, small, small, small, losses)
def test_gd_step_is_minus_lr_times_the_finite_difference_gradient(seed, d_out, d_in, N, loss):
    rng = rng_from(seed)
    W0, X, targets = _task(rng, d_out, d_in, N, loss)
    fwd = nn.squared_error_forward if loss == "squared" else nn.cross_entropy_forward
    num = numerical_gradient(lambda p: fwd(X @ p["W"].T, targets)[0], {"W": W0})["W"]
    step = df.gd_step_linear(W0, X, targets, lr=0.3, loss=loss)
    assert rel_error(step.delta_W, -0.3 * num) < 1e-7


@pytest.fixture(scope="module")
def dual_symbolic():
    return run_proof("dual_form")


@pytest.fixture(scope="module")
def proof_gradients(dual_symbolic):
    """The proof's ΔW and E (differentiated symbolically), lambdified once per loss."""
    out = {}
    for loss, r in dual_symbolic["gradients"].items():
        args = [*r["W"], *r["X"], r["lr"]] + ([*r["targets"]] if loss == "squared" else [])
        out[loss] = (r, sp.lambdify(args, r["delta_W"], "numpy"), sp.lambdify(args, r["E"], "numpy"))
    return out


@given(seeds, losses)
def test_proof_gradient_matches_numpy(proof_gradients, seed, loss):
    """The proof's sympy ΔW and E equal the ones from the numpy backward pass."""
    r, delta_W_fn, E_fn = proof_gradients[loss]
    rng = rng_from(seed)
    W0 = rng.standard_normal(r["W"].shape)
    X = rng.standard_normal(r["X"].shape)                  # columns are examples
    lr = 0.7
    vals = [*W0.ravel(), *X.ravel(), lr]
    if loss == "squared":
        T = rng.standard_normal(r["targets"].shape)
        vals, targets = vals + [*T.ravel()], T.T
    else:
        targets = np.array(r["targets"])
    step = df.gd_step_linear(W0, X.T, targets, lr=lr, loss=loss)
    assert rel_error(step.delta_W, np.asarray(delta_W_fn(*vals), float)) < EXACT
    assert rel_error(step.E, np.asarray(E_fn(*vals), float).T) < EXACT


# --------------------------------------------------------------------------- 2. ICL split
def _icl(rng, d, d_k, d_v, n_demo, n_ctx):
    return (rng.standard_normal((d_v, d)), rng.standard_normal((d_k, d)) / np.sqrt(d),
            rng.standard_normal((n_demo, d)), rng.standard_normal((n_ctx, d)),
            rng.standard_normal((3, d_k)) / np.sqrt(d_k))


@given(seeds, sizes, sizes, sizes, sizes, sizes)
def test_icl_split(seed, d, d_k, d_v, n_demo, n_ctx):
    W_V, W_K, Xd, Xc, Q = _icl(rng_from(seed), d, d_k, d_v, n_demo, n_ctx)
    full = df.icl_linear_attention(W_V, W_K, Xd, Xc, Q)
    assert rel_error(full, df.icl_split_output(W_V, W_K, Xd, Xc, Q)) < EXACT
    W_zsl, dW_icl = df.icl_split(W_V, W_K, Xd, Xc)
    assert rel_error(W_zsl, W_V @ Xc.T @ (W_K @ Xc.T).T) < EXACT     # column form of the paper
    # wrong variants: dropping the demonstrations' term, or a flipped sign on it — told
    # apart wherever that term is visible (one draw had d = 1 and a demonstration of 6e-4,
    # whose term was 3e-7 of the output)
    if np.linalg.norm(Q @ dW_icl.T) > 1e-4 * np.linalg.norm(full):
        assert rel_error(full, Q @ W_zsl.T) > 1e-6
        assert rel_error(full, Q @ (W_zsl - dW_icl).T) > 1e-6


@given(seeds, sizes, sizes, sizes, sizes, sizes)
def test_softmax_mixture(seed, d, d_k, d_v, n_demo, n_ctx):
    args = _icl(rng_from(seed), d, d_k, d_v, n_demo, n_ctx)
    full, lam, zero_shot, demo = df.softmax_icl_mixture(*args)
    assert ((0 < lam) & (lam < 1)).all()
    assert rel_error(full, lam * zero_shot + (1 - lam) * demo) < EXACT
    assert rel_error(full, (1 - lam) * zero_shot + lam * demo) > 1e-6 or np.allclose(zero_shot, demo)
    assert rel_error(full, df.icl_split_output(*args)) > 1e-3  # the linear split is not softmax


def test_softmax_mixture_matches_proof(dual_symbolic):
    r = dual_symbolic["softmax"]
    rng = rng_from(0)
    s, v = rng.standard_normal(4), rng.standard_normal(4)
    f = lambda e: float(sp.lambdify([*r["scores"], *r["values"]], e, "numpy")(*s, *v))
    # the proof's keys 1, 2 are demonstrations and 3, 4 context: score s_i = k_i . q
    Q, K = np.array([[1.0]]), s[:, None]
    full, lam, _, _ = df.softmax_icl_mixture(np.eye(1), np.eye(1), s[:2, None], s[2:, None], Q)
    V = v[:, None]
    assert rel_error(f(r["full"]), nn.softmax_attention_forward(Q, K, V)[0][0, 0]) < EXACT
    assert rel_error(f(r["lam"]), lam[0, 0]) < EXACT


# --------------------------------------------------------------------------- 3. momentum
@given(seeds, small, small, sizes, losses, st.floats(0.0, 0.95))
def test_momentum_dual(seed, d_out, d_in, N, loss, eta):
    rng = rng_from(seed)
    W0, X, targets = _task(rng, d_out, d_in, N, loss)
    W_N, E = df.momentum_sgd(W0, X / np.sqrt(d_in), targets, lr=0.2, eta=eta, loss=loss)
    Xq = rng.standard_normal((3, d_in))
    exact = Xq @ W_N.T
    assert rel_error(exact, df.momentum_dual_output(W0, E, X / np.sqrt(d_in), Xq, eta)) < EXACT
    if eta > 0.05 and N > 1:
        # wrong variants: plain GD weights (all s = 1), or the weights in reverse order
        assert rel_error(exact, df.dual_output(W0, E, X / np.sqrt(d_in), Xq)) > 1e-6
        s = df.momentum_weights(N, eta)[::-1]
        assert rel_error(exact, df.dual_output(W0, s[:, None] * E, X / np.sqrt(d_in), Xq)) > 1e-6


def test_momentum_weights():
    assert np.allclose(df.momentum_weights(3, 0.5), [1.75, 1.5, 1.0], rtol=1e-15)
    assert np.array_equal(df.momentum_weights(4, 0.0), np.ones(4))


@pytest.fixture(scope="module")
def momentum_symbolic():
    r = run_proof("dual_form_momentum")
    syms = [r["eta"], *r["W0"], *r["E"], *r["X"], *r["q"]]
    return r, sp.lambdify(syms, r["output"], "numpy")


@given(seeds)
def test_momentum_matches_proof(momentum_symbolic, seed):
    r, output_fn = momentum_symbolic
    rng = rng_from(seed)
    W0, E, X, q = (rng.standard_normal(m.shape) for m in (r["W0"], r["E"], r["X"], r["q"]))
    eta = float(rng.uniform(0, 0.95))
    sym_out = np.asarray(output_fn(eta, *W0.ravel(), *E.ravel(), *X.ravel(), *q.ravel()), float)
    assert rel_error(sym_out.ravel(), df.momentum_dual_output(W0, E.T, X.T, q.T, eta)[0]) < EXACT


@given(seeds, small, sizes, st.floats(0.0, 0.95))
def test_momentum_attention_matches_its_definition(seed, d, T, eta):
    rng = rng_from(seed)
    V, K, Q = rng.standard_normal((3, T, d))
    out = df.momentum_attention(V, K, Q, eta)
    ref = np.stack([sum(V[i] * (K[i] @ Q[t]) for i in range(t + 1))
                    + sum(eta ** (t - i) * V[i] for i in range(t)) for t in range(T)])
    assert rel_error(out, ref) < EXACT


@given(seeds, small, small, sizes, st.floats(0.05, 0.95))
def test_moattn_is_not_the_momentum_dual(seed, d_out, d_in, N, eta):
    """The paper's MoAttn differs from the exact dual for every η > 0, and agrees at η = 0."""
    rng = rng_from(seed)
    W0, X, targets = _task(rng, d_out, d_in, N, "squared")
    _, E = df.momentum_sgd(W0, X, targets, lr=0.1, eta=eta)
    Xq = rng.standard_normal((5, d_in))
    assert df.momentum_gap(E, X, Xq, eta) > 1e-3
    _, E0 = df.momentum_sgd(W0, X, targets, lr=0.1, eta=0.0)
    assert df.momentum_gap(E0, X, Xq, 0.0) < EXACT


# --------------------------------------------------------------------------- bad input
def test_bad_input():
    W0, X = np.ones((2, 3)), np.ones((4, 3))
    with pytest.raises(ValueError, match="lr must be > 0"):
        df.gd_step_linear(W0, X, np.ones((4, 2)), lr=0.0)
    with pytest.raises(ValueError, match="lr must be a finite"):
        df.gd_step_linear(W0, X, np.ones((4, 2)), lr=float("nan"))
    with pytest.raises(ValueError, match="loss must be one of"):
        df.gd_step_linear(W0, X, np.ones((4, 2)), lr=0.1, loss="hinge")
    with pytest.raises(ValueError, match=r"targets must have shape \(4, 2\)"):
        df.gd_step_linear(W0, X, np.ones((4, 3)), lr=0.1)
    with pytest.raises(ValueError, match=r"X must have shape \(\*, 3\); got shape \(4, 2\)"):
        df.gd_step_linear(W0, np.ones((4, 2)), np.ones((4, 2)), lr=0.1)
    with pytest.raises(ValueError, match=r"X must have shape \(2, 3\); got shape \(4, 3\)"):
        df.dual_output(W0, np.ones((2, 2)), X, np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"delta_W must have shape \(2, 3\)"):
        df.finetuned_output(W0, np.ones((3, 2)), np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"W_K must have shape \(\*, 3\)"):
        df.icl_split(np.ones((2, 3)), np.ones((2, 4)), X, X)
    with pytest.raises(ValueError, match=r"X_ctx must have shape \(\*, 3\)"):
        df.icl_linear_attention(np.ones((2, 3)), np.ones((2, 3)), X, np.ones((2, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match="eta must be < 1.0"):
        df.momentum_sgd(W0, X, np.ones((4, 2)), lr=0.1, eta=1.0)
    with pytest.raises(ValueError, match=r"targets must have shape \(4, 2\); got shape \(3, 2\)"):
        df.momentum_sgd(W0, X, np.ones((3, 2)), lr=0.1, eta=0.5)
    with pytest.raises(ValueError, match="X has non-finite"):
        df.dual_output(W0, np.ones((4, 2)), np.full((4, 3), np.inf), np.ones((1, 3)))
