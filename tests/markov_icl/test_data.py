"""Edelman et al. 2024: the ICL-MC data, the exact strategies and the minimal model — each
with a wrong variant it catches."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from theory.core.gradcheck import rel_error
from theory.markov_icl import claims as C, data as M, minimal_model as MM, strategies as S
from tests.helpers import rng_from, seeds


@settings(max_examples=20)
@given(seeds, st.integers(2, 4), st.integers(2, 3))
def test_the_stationary_law_is_exact_and_the_authors_power_is_off_by_the_second_eigenvalue(seed, k, order):
    P = M.transition_matrices(rng_from(seed), 3, k, order)
    pi = M.stationary(P)
    chain = M._state_chain(P) if order > 2 else P
    assert np.abs(np.einsum("bi,bij->bj", pi, chain) - pi).max() < 1e-12 and np.allclose(pi.sum(1), 1)
    if order == 2 and k == 2:        # P^16 = 1π + λ^16 (I − 1π): the authors' mean of its rows is π + λ^16 (u − π)
        lam = 1 - P[:, 0, 1] - P[:, 1, 0]
        want = pi + lam[:, None] ** 16 * (0.5 - pi)
        assert np.abs(M.authors_stationary(P) - want).max() < 1e-12


def test_sequences_follow_their_tables():
    """Transition frequencies of long sequences against P (and the first token against π)."""
    rng = rng_from(0)
    x, P = M.markov_sequences(rng, 400, 400, 2)
    counts = np.zeros((400, 2, 2))
    np.add.at(counts, (np.arange(400)[:, None], x[:, :-1], x[:, 1:]), 1)
    freq = counts[..., 1] / np.maximum(counts.sum(-1), 1)
    enough = counts.sum(-1) > 50
    assert np.abs(freq - P[..., 1])[enough].mean() < 0.03
    x0, P0 = M.markov_sequences(rng, 20000, 2, 2)                        # the first token's law is π
    pi = M.stationary(P0)[:, 1]
    assert abs(np.mean(x0[:, 0] - pi)) < 4 * np.std(x0[:, 0] - pi) / np.sqrt(20000)
    x3, P3 = M.markov_sequences(rng, 5, 30, 3, order=3)
    assert x3.shape == (5, 30) and P3.shape == (5, 9, 3) and x3.max() < 3


@settings(max_examples=20)
@given(seeds, st.integers(2, 4), st.integers(2, 12))
def test_strategies_are_the_add_one_counts(seed, k, T):
    x, _ = M.markov_sequences(rng_from(seed), 3, T, k)
    uni, big = S.unigram_strategy(x, k), S.bigram_strategy(x, k)
    for b in range(3):
        for t in range(T):
            seen = x[b, :t + 1]
            assert np.allclose(uni[b, t], [(np.sum(seen == s) + 1) / (t + 1 + k) for s in range(k)])
            nxt = [x[b, i + 1] for i in range(t) if x[b, i] == x[b, t]]
            assert np.allclose(big[b, t], [(nxt.count(s) + 1) / (len(nxt) + k) for s in range(k)])
    assert np.allclose(S.uniform_strategy(x, k), 1 / k)


def test_the_bigram_strategy_is_the_posterior_predictive():
    for seed in range(3):
        assert C._check_bigram_bayes(rng_from(seed)) < 1e-12


def test_strategy_losses_rank_and_the_bigram_reaches_the_entropy():
    x, P = M.markov_sequences(rng_from(1), 3000, 100, 2)
    L = S.strategy_losses(x, P)
    late = slice(60, 100)
    assert L["entropy"][late].mean() < L["bigram"][late].mean() < L["unigram"][late].mean() < L["uniform"][late].mean()
    assert L["bigram"][-1] - L["entropy"][-1] < 0.02                  # the Bayes predictor converges
    assert L["unigram"][-1] - L["entropy"][-1] > 0.05                  # the unigram one does not


def test_distance_is_kl_and_the_authors_measure_adds_the_entropy():
    rng = rng_from(2)
    q = rng.dirichlet(np.ones(3), size=(4, 5))
    z = rng.standard_normal((4, 5, 3))
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    kl = (q * np.log(q / p)).sum(-1).mean(0)
    assert rel_error(S.distance(q, z), kl) < 1e-12
    assert rel_error(S.distance(q, z, "cross_entropy") - S.distance(q, z), -(q * np.log(q)).sum(-1).mean(0)) < 1e-12
    assert S.distance(q, np.log(q)).max() < 1e-12                      # zero at the strategy itself


def test_minimal_model_gradient_and_the_wrong_mask_leaks_the_future():
    for seed in range(4):
        assert C._check_minimal_gradient(rng_from(seed)) < 1e-7
    A = MM.offset_attention(np.arange(5.0), 5, "causal")
    assert np.allclose(np.triu(A, 1), 0) and np.allclose(A.sum(1), 1)
    leaky = MM.offset_attention(np.arange(5.0), 5, "authors")
    assert leaky[np.triu_indices(5, 1)].min() > 0                        # future positions get weight
    assert np.allclose(leaky[0], 1 / 5)                                  # offset 0 for all: uniform at t = 0


def test_minimal_model_is_the_bigram_counter_at_its_construction():
    """With layer 1 on the previous token and W = I the logits are the bigram counts (plus
    the current token's own count from j = t)."""
    rng = rng_from(3)
    x, _ = M.markov_sequences(rng, 2, 12, 3)
    p = {"v": np.r_[0.0, 60.0, np.zeros(10)], "W": np.eye(3)}           # v[1] ≫ others: f_j ≈ e_{j−1}
    logits, _ = MM.minimal_forward(p, x)
    for b in range(2):
        for t in range(1, 12):
            counts = [sum(1 for j in range(1, t + 1) if x[b, j - 1] == x[b, t] and x[b, j] == s) for s in range(3)]
            first = np.eye(3)[x[b, 0]] * (x[b, 0] == x[b, t])               # j = 0 attends to itself
            assert np.allclose(logits[b, t], np.array(counts) + first, atol=1e-12)


def test_at_initialisation_only_the_read_out_has_a_gradient():
    for seed in range(4):
        assert C._check_init_gradient(rng_from(seed)) < 1e-12
    x, _ = M.markov_sequences(rng_from(5), 4, 10, 2)
    W = np.full((2, 2), 0.01)
    W[0, 1] += 0.05                                                      # no longer constant
    _, g = MM.minimal_loss({"v": np.zeros(10), "W": W}, x)
    assert np.linalg.norm(g["v"]) > 1e-6


def test_sgd_moves_the_loss_down():
    rng = rng_from(6)
    p = MM.init_minimal(30, 2)
    x_eval, _ = M.markov_sequences(rng_from(60), 256, 30, 2)
    start = MM.minimal_loss(p, x_eval)[0]
    for _ in range(40):
        x, _ = M.markov_sequences(rng, 64, 30, 2)
        p, _, _ = MM.minimal_sgd(p, x)
    assert MM.minimal_loss(p, x_eval)[0] < start - 0.02
    with pytest.raises(ValueError, match="lr_W"):
        MM.minimal_sgd(p, x, lr_W=0.0)
