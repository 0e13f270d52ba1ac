"""The ICL-MC data of Edelman, Edelman, Goel, Malach & Tsilivis 2024 ("The evolution of
statistical induction heads"): a fresh Markov chain per sequence.

Each sequence draws its own transition matrix P (k × k, rows i.i.d. Dirichlet(1, …, 1)), its
first token from P's stationary law π (``πP = π``, solved exactly here; the authors' code
averages the rows of P¹⁶, ``start="authors"``), then ``x_{t+1} ~ P[x_t, :]``; the model
predicts the next token at every position.  With ``order = n > 2`` the rows are indexed by
the previous n − 1 tokens (the n-gram generalisation) and the first n − 1 tokens come from
the stationary law of the chain on (n − 1)-grams.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, choice, positive_int

__all__ = ["transition_matrices", "stationary", "authors_stationary", "markov_sequences"]


def transition_matrices(rng, batch: int, k: int, order: int = 2) -> np.ndarray:
    """``batch`` transition tables (batch, k^(order−1), k) with i.i.d. Dirichlet(1) rows."""
    rng = as_rng(rng)
    return _transition_matrices(rng, *_sizes(batch, k, order))


def _sizes(batch, k, order) -> tuple:
    batch, k, order = positive_int("batch", batch), positive_int("k", k), positive_int("order", order)
    if k < 2 or order < 2:
        raise ValueError(f"k and order must be at least 2; got k = {k}, order = {order}")
    return batch, k, order


def _transition_matrices(rng, batch: int, k: int, order: int) -> np.ndarray:
    """Unchecked kernel of :func:`transition_matrices`."""
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
    return _stationary(_tables(P))


def _stationary(P) -> np.ndarray:
    """Unchecked kernel of :func:`stationary`."""
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
    return _authors_stationary(P, positive_int("power", power))


def _authors_stationary(P, power: int = 16) -> np.ndarray:
    """Unchecked kernel of :func:`authors_stationary`."""
    return np.linalg.matrix_power(P, power).mean(axis=1)


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
    batch, k, order = _sizes(batch, k, order)
    if T < order - 1:
        raise ValueError(f"T must be at least order − 1 = {order - 1}; got {T}")
    if start == "authors" and order != 2:
        raise ValueError("start='authors' is the authors' order-2 approximation; use 'stationary'")
    return _markov_sequences(rng, batch, T, k, order, start)


def _markov_sequences(rng, batch: int, T: int, k: int, order: int = 2, start: str = "stationary"):
    """Unchecked kernel of :func:`markov_sequences` (the training loop draws each step's
    batch with it)."""
    P = _transition_matrices(rng, batch, k, order)
    n1 = order - 1
    pi = _authors_stationary(P) if start == "authors" else _stationary(P)
    x = np.empty((batch, T), dtype=np.int64)
    state = _sample(rng, pi)                                             # the first (order−1)-gram, base k
    for i in range(n1):
        x[:, i] = (state // k ** (n1 - 1 - i)) % k
    m = k ** n1
    for t in range(n1, T):
        x[:, t] = _sample(rng, P[np.arange(batch), state])
        state = (state * k) % m + x[:, t]
    return x, P
