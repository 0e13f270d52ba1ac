"""In-context learning of Markov chains (Edelman, Edelman, Goel, Malach & Tsilivis 2024,
"The evolution of statistical induction heads"): the ICL-MC data and the exact strategies.

**Data.** Each sequence draws its own transition matrix P (k × k, rows i.i.d.
Dirichlet(1, …, 1)), its first token from P's stationary law π (``πP = π``, solved exactly
here; the authors' code averages the rows of P¹⁶, ``start="authors"``), then
``x_{t+1} ~ P[x_t, :]``; the model predicts the next token at every position.  With
``order = n > 2`` the rows are indexed by the previous n − 1 tokens (the n-gram
generalisation) and the first n − 1 tokens come from the stationary law of the chain on
(n − 1)-grams.

**Strategies** (next-token distributions after seeing ``x_1 … x_t``):

- uniform: ``1/k``;
- unigram: ``(c_t(s) + 1) / (t + k)``, ``c_t(s)`` the count of s in ``x_1 … x_t``;
- bigram: ``(c_t(x_t → s) + 1) / Σ_{s'} (c_t(x_t → s') + 1)``, the transitions seen so far.

The bigram strategy is the Bayes posterior predictive ``E[P[x_t, s] | x_1 … x_t]`` under the
Dirichlet(1) prior when the first token's law is ignored (it depends on P through π; the
strategy, like the paper's, leaves it out): each row's posterior is Dirichlet(1 + counts)
(claim ``edelman-bigram-bayes``, checked by quadrature).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, choice, finite_result, integer_array, positive_int
from ..core.nn import _logsumexp

__all__ = ["transition_matrices", "stationary", "authors_stationary", "markov_sequences", "uniform_strategy",
           "unigram_strategy", "bigram_strategy", "strategy_losses", "distance", "check_bigram_bayes"]


def transition_matrices(rng, batch: int, k: int, order: int = 2) -> np.ndarray:
    """``batch`` transition tables (batch, k^(order−1), k) with i.i.d. Dirichlet(1) rows."""
    rng = as_rng(rng)
    batch, k, order = positive_int("batch", batch), positive_int("k", k), positive_int("order", order)
    if k < 2 or order < 2:
        raise ValueError(f"k and order must be at least 2; got k = {k}, order = {order}")
    return rng.dirichlet(np.ones(k), size=(batch, k ** (order - 1)))


def _state_chain(P) -> np.ndarray:
    """The chain on (n−1)-grams (batch, k^(n−1), k^(n−1)): state a = (a_1 … a_{n−1}) in base k
    moves to (a_2 … a_{n−1}, s) with probability P[a, s]."""
    B, m, k = P.shape
    M = np.zeros((B, m, m))
    nxt = (np.arange(m)[:, None] * k) % m + np.arange(k)[None, :]      # (m, k): the successor state of (a, s)
    np.add.at(M, (slice(None), np.arange(m)[:, None], nxt), P)
    return M


def _tables(P) -> np.ndarray:
    """Transition tables (batch, m, k): non-negative rows that sum to 1."""
    P = array("P", P, ndim=3)
    if np.any(P < 0) or np.abs(P.sum(-1) - 1).max() > 1e-9:
        raise ValueError(f"P must hold non-negative rows that sum to 1; got row sums in "
                         f"[{P.sum(-1).min():.3g}, {P.sum(-1).max():.3g}], least entry {P.min():.3g}")
    return P


def stationary(P) -> np.ndarray:
    """The stationary law of each table (batch, k^(order−1)): ``πM = π``, ``Σπ = 1`` (M the
    chain on (order−1)-grams; M = P for order 2), solved as a linear system."""
    P = _tables(P)
    M = _state_chain(P) if P.shape[1] != P.shape[2] or P.shape[1] == 1 else P
    m = M.shape[1]
    A = np.swapaxes(M, 1, 2) - np.eye(m)                                 # (Mᵀ − I) π = 0
    A[:, -1, :] = 1.0                                                    # … with Σπ = 1 instead of one equation
    b = np.zeros((len(M), m))
    b[:, -1] = 1.0
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ValueError("P must have a unique stationary law (an irreducible chain); a table here has "
                         "several") from None


def authors_stationary(P, power: int = 16) -> np.ndarray:
    """The authors' approximation: the mean of the rows of ``P^power`` (order 2)."""
    P = _tables(P)
    if P.shape[1] != P.shape[2]:
        raise ValueError(f"P must be square (order 2); got shape {P.shape}")
    return np.linalg.matrix_power(P, positive_int("power", power)).mean(axis=1)


def _sample(rng, p):
    """One categorical draw per row of p (batch, k), by inverse CDF."""
    u = rng.random((len(p), 1))
    return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)


def markov_sequences(rng, batch: int, T: int, k: int, *, order: int = 2, start: str = "stationary"):
    """``(tokens, P)``: tokens (batch, T) integers in [0, k), P (batch, k^(order−1), k).
    The sequence is sampled step by step (a Markov chain: T draws, each vectorised over the batch)."""
    rng = as_rng(rng)
    T = positive_int("T", T)
    start = choice("start", start, ("stationary", "authors"))
    P = transition_matrices(rng, batch, k, order)
    n1 = order - 1
    if T < n1:
        raise ValueError(f"T must be at least order − 1 = {n1}; got {T}")
    if start == "authors":
        if order != 2:
            raise ValueError("start='authors' is the authors' order-2 approximation; use 'stationary'")
        pi = authors_stationary(P)
    else:
        pi = stationary(P)
    x = np.empty((batch, T), dtype=np.int64)
    state = _sample(rng, pi)                                             # the first (order−1)-gram, base k
    for i in range(n1):
        x[:, i] = (state // k ** (n1 - 1 - i)) % k
    m = k ** n1
    for t in range(n1, T):
        x[:, t] = _sample(rng, P[np.arange(batch), state])
        state = (state * k) % m + x[:, t]
    return x, P


def _tokens(x, k):
    k = positive_int("k", k)
    x = integer_array("tokens", x, low=0, high=k)
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"tokens must be a non-empty (batch, T) array; got shape {x.shape}")
    return x, k


def uniform_strategy(tokens, k: int) -> np.ndarray:
    """``1/k`` at every position (batch, T, k)."""
    x, k = _tokens(tokens, k)
    return np.full(x.shape + (k,), 1.0 / k)


def unigram_strategy(tokens, k: int) -> np.ndarray:
    """``(c_t(s) + 1)/(t + k)`` after ``x_1 … x_t`` (batch, T, k)."""
    x, k = _tokens(tokens, k)
    counts = np.cumsum(np.eye(k)[x], axis=1)                             # c_t(s), t = 1 … T
    return (counts + 1.0) / (np.arange(1, x.shape[1] + 1)[None, :, None] + k)


def bigram_strategy(tokens, k: int) -> np.ndarray:
    """``(c_t(x_t → s) + 1)/Σ_{s'}(c_t(x_t → s') + 1)`` after ``x_1 … x_t`` (batch, T, k)."""
    x, k = _tokens(tokens, k)
    B, T = x.shape
    pair = np.zeros((B, T, k * k))
    pair[:, 1:] = np.eye(k * k)[x[:, :-1] * k + x[:, 1:]]                # the transition x_{i−1} → x_i
    counts = np.cumsum(pair, axis=1).reshape(B, T, k, k)                 # c_t(a → s) over i ≤ t
    row = counts[np.arange(B)[:, None], np.arange(T)[None, :], x]        # the current token's row (B, T, k)
    return (row + 1.0) / (row.sum(-1, keepdims=True) + k)


def _xlogy(a, b):
    """a log b with 0 log 0 = 0."""
    return np.where(a > 0, a * np.log(np.where(a > 0, b, 1.0)), 0.0)


@finite_result
def strategy_losses(tokens, P) -> dict:
    """Per position t = 1 … T, the mean cross-entropy of each strategy's prediction against
    the true next-token law ``P[x_t, :]`` (order 2), and that law's own entropy (the floor)."""
    P = _tables(P)
    x, k = _tokens(tokens, P.shape[2])
    if P.shape[1] != k or len(P) != len(x):
        raise ValueError(f"P must be (batch, k, k) = ({len(x)}, {k}, {k}) for order-2 tokens; got {P.shape}")
    true = P[np.arange(len(x))[:, None], x]                               # P[x_t, :]  (B, T, k)
    out = {"entropy": -_xlogy(true, true).sum(-1).mean(0)}
    for name, f in (("uniform", uniform_strategy), ("unigram", unigram_strategy), ("bigram", bigram_strategy)):
        out[name] = -_xlogy(true, f(x, k)).sum(-1).mean(0)
    return out


@finite_result
def distance(strategy, logits, kind: str = "kl") -> np.ndarray:
    """Per position, ``KL(q_strategy ‖ softmax(logits))`` averaged over the batch (the paper's
    stage measure), or the cross-entropy ``KL + H(q)`` (``kind="cross_entropy"``: what the
    authors' code computes)."""
    q = array("strategy", strategy, ndim=3)
    z = array("logits", logits, shape=q.shape)
    kind = choice("kind", kind, ("kl", "cross_entropy"))
    logp = z - _logsumexp(z, -1)
    ce = -(q * logp).sum(-1)
    return (ce if kind == "cross_entropy" else ce + _xlogy(q, q).sum(-1)).mean(0)


def check_bigram_bayes(rng) -> float:
    """``edelman-bigram-bayes``: for k = 2 the posterior predictive ``E[P[x_t, 1] | x_1 … x_t]``
    under uniform (Dirichlet(1)) rows, by 60-point Gauss–Legendre quadrature of
    ``∫ p·p^{c(a→1)}(1−p)^{c(a→0)} dp / ∫ p^{c(a→1)}(1−p)^{c(a→0)} dp`` (exact for these
    polynomial degrees), against :func:`bigram_strategy` (relative error, random sequences)."""
    rng = as_rng(rng)
    T = int(rng.integers(2, 40))
    x, _ = markov_sequences(rng, 8, T, 2)
    nodes, weights = np.polynomial.legendre.leggauss(60)
    p, w = (nodes + 1) / 2, weights / 2                                  # on [0, 1]
    q = bigram_strategy(x, 2)
    err = 0.0
    for b in range(len(x)):
        for t in range(T):
            a = x[b, t]
            pairs = list(zip(x[b, :t], x[b, 1:t + 1]))
            c1 = sum(1 for u, v in pairs if u == a and v == 1)
            c0 = sum(1 for u, v in pairs if u == a and v == 0)
            lik = p ** c1 * (1 - p) ** c0
            err = max(err, abs((w @ (p * lik)) / (w @ lik) - q[b, t, 1]) / q[b, t, 1])
    return float(err)
