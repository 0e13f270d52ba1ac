"""Ahn et al.'s linear transformer: the layer, its hand-written backward, the sparse form as
preconditioned GD (each with a wrong variant the check must catch), and the proof's layer."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.claims import run_proof
from theory.core.gradcheck import check_gradients, check_layer, rel_error
from theory.preconditioned_gd import model as m
from theory.preconditioned_gd import claims as C
from tests.helpers import rng_from, seeds

EXACT = 1e-12


def _prompts(rng, B=3, n=5, d=3):
    X, w = rng.standard_normal((B, n, d)), rng.standard_normal((B, d))
    return X, np.einsum("bnd,bd->bn", X, w), rng.standard_normal((B, d)), w


@settings(max_examples=20)
@given(seeds, st.integers(1, 4), st.integers(1, 7), st.integers(1, 3))
def test_layer_backward_matches_finite_differences(seed, d, n, layers):
    rng = rng_from(seed)
    X, y, xq, _ = _prompts(rng, 2, n, d)
    Ps, Qs = (rng.standard_normal((layers, d + 1, d + 1)) / (d + 1) for _ in range(2))
    check_layer(lambda Z, Ps, Qs: m.stack_forward(Z, Ps, Qs), m.stack_backward,
                {"Z": m.prompt(X, y, xq), "Ps": Ps, "Qs": Qs}, eps=1e-6)


@settings(max_examples=20)
@given(seeds, st.integers(1, 4), st.integers(2, 7), st.integers(1, 3))
def test_sparse_loss_gradient(seed, d, n, layers):
    rng = rng_from(seed)
    X, y, xq, w = _prompts(rng, 3, n, d)
    Z, yq = m.prompt(X, y, xq), np.einsum("bd,bd->b", xq, w)
    p = {"A": rng.standard_normal((layers, d, d)) / d, "B": rng.standard_normal((layers, d, d)) / d}
    loss, g = m.sparse_loss(p, Z, yq)
    # the L-layer loss is a polynomial of degree up to 2·3^L in the weights: its third
    # derivative makes the truncation error of a 1e-5 step reach 1e-7 (the check's report says
    # so); a 1e-6 step resolves it
    check_gradients(lambda q: m.sparse_loss(q, Z, yq)[0], p, g, eps=1e-6)


@settings(max_examples=25)
@given(seeds)
def test_sparse_layers_are_preconditioned_gd_and_the_transpose_matters(seed):
    """Γ_ℓ = −A_ℓᵀ, exactly; −A_ℓ (no transpose) is a different method once A is not symmetric."""
    rng = rng_from(seed)
    assert C._check_gd_steps(rng) < EXACT
    X, y, xq, _ = _prompts(rng, 4, 6, 3)
    A = rng.standard_normal((2, 3, 3))
    Z, _ = m.stack_forward(m.prompt(X, y, xq), *m._weights({"A": A, "B": np.zeros_like(A)}))
    assert rel_error(m.predict(Z), m.preconditioned_gd(X, y, xq, -A.transpose(0, 2, 1))) < EXACT
    assert rel_error(m.predict(Z), m.preconditioned_gd(X, y, xq, -A)) > 1e-3          # wrong variant


@settings(max_examples=25)
@given(seeds)
def test_gdpp_update_and_the_last_B(seed):
    rng = rng_from(seed)
    assert C._check_gdpp_update(rng) < EXACT
    X, y, xq, _ = _prompts(rng, 2, 5, 3)
    A, B = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    out, _ = m.layer_forward(m.prompt(X, y, xq), *m.sparse_weights(A, B))
    S = np.einsum("bni,bnj->bij", X, X) / 5
    wrong = (np.eye(3) + B @ A @ S) @ m.prompt(X, y, xq)[:, :3, :]                   # order of the product
    assert rel_error(out[:, :3, :], wrong) > 1e-3


def test_the_query_is_no_key_or_value():
    """M masks the query column: changing the query's label slot before the layer moves
    only the query (it is updated but never read as a key or value)."""
    rng = rng_from(1)
    X, y, xq, _ = _prompts(rng, 2, 4, 2)
    Z = m.prompt(X, y, xq)
    P, Q = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    Z2 = Z.copy()
    Z2[:, :2, -1] += 1.0                                       # a different query covariate
    a, b = m.layer_forward(Z, P, Q)[0], m.layer_forward(Z2, P, Q)[0]
    assert rel_error(a[:, :, :-1], b[:, :, :-1]) < EXACT        # the context columns do not see it


def test_proof_layer_matches_the_code():
    r = run_proof("preconditioned_gd")
    rng = rng_from(2)
    vals = {s: rng.standard_normal() for s in (*r["layer_X"], *r["layer_y"], *r["layer_xq"], *r["A"], *r["B"])}
    num = lambda M: np.array(M.subs(vals), dtype=float)
    n = r["n"]
    sym = r["Z0"] + r["P"] * r["Z0"] * __import__("sympy").diag(*([1] * n + [0])) * r["Z0"].T * r["Q"] * r["Z0"] / n
    out, _ = m.layer_forward(num(r["Z0"])[None], num(r["P"]), num(r["Q"]))
    assert rel_error(out[0], num(sym)) < EXACT


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="Ps and Qs must both be"):
        m.stack_forward(np.zeros((1, 3, 4)), np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))
    with pytest.raises(ValueError, match="at least one context column"):
        m.layer_forward(np.zeros((1, 3, 1)), np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="Gammas must be"):
        m.preconditioned_gd(np.zeros((1, 2, 3)), np.zeros((1, 2)), np.zeros((1, 3)), np.zeros((1, 2, 2)))
