"""Tian et al. 2023 (scan and snap): the data model, the finite-T model's and the
long-sequence model's hand-written gradients, the flow formulas and their invariances —
each with a wrong variant that must be caught — and the proof's Jacobian against numpy."""
import numpy as np
import pytest
from hypothesis import given, settings

from tests.helpers import rng_from, seeds
from theory.scan_snap import model as ss
from theory.core.gradcheck import rel_error
from theory.scan_snap.data import ScanSnapTask, scan_snap_sequences, scan_snap_task
from theory.scan_snap import claims as C


def test_the_authors_generator():
    task = scan_snap_task(n_queries=2, classes_per_query=2, n_common=3, n_distinct=4)
    assert (task.K, task.M) == (4, 3 + 4 * 4 + 2 + 4)
    assert np.allclose(task.P.sum(axis=1), 1)
    d = task.distinct()
    assert np.all(d.sum(axis=1) == 4) and not d[:, :3].any()          # common tokens are not distinct
    w = task.P[0, 3:7]
    assert np.allclose(w / w[-1], [0.25, 0.5, 0.75, 1.0])             # weights (j + 1)/n_distinct
    assert list(task.query) == [19, 19, 20, 20] and list(task.next_token) == [21, 22, 23, 24]
    b = scan_snap_sequences(np.random.default_rng(0), task, 4000, 50)
    assert np.all(b.tokens[:, -1] == task.query[b.classes]) and np.all(b.labels == task.next_token[b.classes])
    for n in range(task.K):                                           # contextual tokens follow P(·|n)
        x = b.tokens[b.classes == n, :-1].ravel()
        assert np.abs(np.bincount(x, minlength=task.M) / x.size - task.P[n]).max() < 0.01


def test_bad_tasks_are_refused():
    P = np.full((2, 4), 0.25)
    with pytest.raises(ValueError, match="sum to one"):
        ScanSnapTask(P * 1.1, [0, 1], [2, 3])
    with pytest.raises(ValueError, match="non-negative"):
        ScanSnapTask(np.array([[1.5, -0.5, 0, 0], [0.25] * 4]), [3, 3], [1, 2])
    with pytest.raises(ValueError, match="query tokens must not"):
        ScanSnapTask(P, [0, 1], [2, 3])                                # the query is a contextual token
    with pytest.raises(ValueError, match="P has a zero-size dimension"):          # an empty vocabulary
        ScanSnapTask(np.zeros((2, 0)), [0, 0], [0, 0])
    with pytest.raises(ValueError, match="query"):
        ScanSnapTask(np.array([[0.5, 0.5, 0, 0]] * 2), [2], [3, 3])   # a class left without a query
    with pytest.raises(ValueError, match="T must be >= 2"):
        scan_snap_sequences(0, scan_snap_task(), 4, 1)


@settings(max_examples=6)          # central differences over every entry
@given(seeds)
def test_gradients_of_both_models(seed):
    assert C._check_finite_gradient(rng_from(seed)) < 1e-7
    assert C._check_reduced_gradient(rng_from(seed)) < 1e-7


def test_a_wrong_gradient_is_caught():
    """Without the normalisation's projection (I − f fᵀ) the Z gradient is wrong."""
    rng = np.random.default_rng(3)
    task, params = ss._instance(rng)
    b = scan_snap_sequences(rng, task, 4, 6)
    right = ss.finite_loss(params, b.tokens, b.labels)[1]["Z"]

    def no_projection(Y, Z, tokens, labels):
        B, M = tokens.shape[0], Z.shape[0]
        q, X = tokens[:, -1], tokens[:, :-1]
        bw, h = ss._histogram(Z, tokens)
        r = np.linalg.norm(h, axis=1, keepdims=True)
        logits = (h / r) @ Y.T
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), labels] -= 1.0
        dh = (p / B) @ Y / r                                            # (I − f fᵀ) left out
        db = dh[np.arange(B)[:, None], X]
        da = bw * (db - np.sum(bw * db, axis=1, keepdims=True))
        return np.bincount((q[:, None] * M + X).ravel(), weights=da.ravel(), minlength=M * M).reshape(M, M)
    assert rel_error(no_projection(params["Y"], params["Z"], b.tokens, b.labels), right) > 1e-3


@given(seeds)
def test_flow_formulas_and_invariances(seed):
    assert C._check_paper_flow(rng_from(seed)) < 1e-12
    assert C._check_invariances(rng_from(seed)) < 1e-12
    # wrong variant: the flow without the factor 1/||c_n|| is not −η ∇L
    task, params = ss._instance(rng_from(seed))
    _, g, st = ss._reduced(params["Y"], params["Z"], task)
    wrong = np.zeros_like(params["Z"])
    for n in range(task.K):
        J = np.diag(st["c"][n]) - np.outer(st["c"][n], st["c"][n])
        proj = np.eye(task.M) - np.outer(st["f"][n], st["f"][n])
        wrong[task.query[n]] += J @ proj @ params["Y"].T @ (st["e"][n] - st["alpha"][n]) / task.K
    assert rel_error(wrong, -g["Z"]) > 1e-3
    # (1ᵀ ż_m = 0 holds twice over: both diag c − c cᵀ and diag c (I − f fᵀ) have zero column sums)


def test_histogram_tends_to_the_long_sequence_attention():
    assert C._check_histogram_limit(np.random.default_rng(0)) < 0.1
    # the histogram is an average over the sequence: with one contextual token it is that token
    task = scan_snap_task()
    b = scan_snap_sequences(1, task, 5, 2)
    h = ss.attention_histogram(np.random.default_rng(2).standard_normal((task.M, task.M)), b.tokens)
    assert np.array_equal(h, np.eye(task.M)[b.tokens[:, 0]])


def test_proof_matches_numpy():
    """The proof's attention Jacobian diag c − c cᵀ, at a numeric point, equals the numpy
    model's finite differences of c in z."""
    from theory.claims import run_proof
    r = run_proof("scan_snap")
    pz = {**{r["z"][i]: v for i, v in enumerate((0.3, -0.2, 0.5))}, **{r["p"][i]: v for i, v in enumerate((0.2, 0.3, 0.5))}}
    J = np.array(r["attention_jacobian"].subs(pz).evalf(), dtype=float)
    task = ScanSnapTask(np.array([[0.2, 0.3, 0.5, 0.0]]), [3], [3])
    Z = np.zeros((4, 4))
    Z[3, :3] = (0.3, -0.2, 0.5)
    num = np.empty((3, 3))
    for j in range(3):
        up, down = Z.copy(), Z.copy()
        up[3, j] += 1e-6
        down[3, j] -= 1e-6
        num[:, j] = (ss.long_sequence_attention(up, task)[0, :3] - ss.long_sequence_attention(down, task)[0, :3]) / 2e-6
    assert rel_error(J, num) < 1e-8


def test_entropy():
    assert np.allclose(ss.entropy(np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])), [np.log(2), 0.0])
    with pytest.raises(ValueError, match="non-negative"):
        ss.entropy(np.array([[1.5, -0.5]]))


def test_distinct_entropy_counts_the_class_s_own_tokens_only():
    """Tian et al.'s Fig. 6 measures the entropy of c_n over the class's distinct tokens,
    renormalised: the common tokens' mass does not count, and uniform attention over 10
    distinct tokens gives ln 10."""
    from theory.scan_snap.data import scan_snap_task
    task = scan_snap_task(2, 2, 3, 10)
    c = np.zeros((task.K, task.M))
    c[:, :3] = 0.5 / 3                                       # half the mass on the common tokens
    for n in range(task.K):
        c[n, 3 + 10 * n: 3 + 10 * (n + 1)] = 0.05
    assert np.allclose(ss.distinct_entropy(c, task), np.log(10))
    assert np.all(ss.entropy(c) > np.log(10))                # the whole c_n counts the common tokens too
    c[0, 3] = 0.5 - 0.05 * 9 + 0.05                          # class 0 leans on one distinct token
    assert ss.distinct_entropy(c, task)[0] < np.log(10)
    with pytest.raises(ValueError, match="distinct tokens"):
        ss.distinct_entropy(np.eye(task.K, task.M), task)
