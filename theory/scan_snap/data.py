"""The data of Tian et al. 2023 (scan and snap): classes of contextual tokens and a query.

Every class n has a next token (its label) and a query token m = ψ(n) shared by several
classes; its contextual tokens are drawn i.i.d. from a law P(l|n) over tokens common to
all classes (or to the classes of one query) and tokens distinct to the class.  The
sampler takes an ``np.random.Generator`` (or an integer seed) and draws a whole batch at
once; the layout and the weights (the authors' generator) are in docs/papers.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, integer_array, nonnegative_int, positive_int

__all__ = ["ScanSnapTask", "scan_snap_task", "ScanSnapBatch", "scan_snap_sequences"]


@dataclass(frozen=True)
class ScanSnapTask:
    """Tian et al. 2023 ("Scan and Snap"), Sec. 3: K classes (next tokens n), each with a query
    token ψ(n) (many-to-one) and a distribution P(l | n) of its contextual tokens, all in
    one vocabulary of M tokens.

    P: (K, M) rows P(· | n), non-negative, each summing to one; query: (K,) the query token
    ψ(n); next_token: (K,) the token index of class n's next token (the label).  A token l
    is *distinct* if P(l | n) > 0 for one class n only, *common* if for several."""
    P: np.ndarray
    query: np.ndarray
    next_token: np.ndarray

    def __post_init__(self):
        P = array("P", self.P, ndim=2)
        K, M = P.shape
        if K == 0 or M == 0:
            raise ValueError(f"P needs at least one class and one token (an empty vocabulary has no "
                             f"sequences); got shape {P.shape}")
        if np.any(P < 0):
            raise ValueError(f"P must be non-negative probabilities; got a minimum of {P.min():.3g}")
        sums = P.sum(axis=1)
        if np.any(np.abs(sums - 1) > 1e-9):
            raise ValueError(f"every row of P must sum to one; got sums from {sums.min():.6g} to {sums.max():.6g}")
        query = integer_array("query", self.query, shape=(K,), low=0, high=M)
        nxt = integer_array("next_token", self.next_token, shape=(K,), low=0, high=M)
        if np.any(P[:, query] > 0):
            raise ValueError("query tokens must not also be contextual tokens (P(ψ(n) | n') = 0 for all n, n')")
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "query", query)
        object.__setattr__(self, "next_token", nxt)

    @property
    def K(self) -> int:
        return self.P.shape[0]

    @property
    def M(self) -> int:
        return self.P.shape[1]

    @property
    def queries(self) -> np.ndarray:
        """The distinct query tokens, sorted."""
        return np.unique(self.query)

    def distinct(self) -> np.ndarray:
        """(K, M) booleans: token l is distinct to class n (P(l|n) > 0 for n only)."""
        present = self.P > 0
        return present & (present.sum(axis=0) == 1)


def scan_snap_task(n_queries: int = 1, classes_per_query: int = 2, n_common: int = 10,
                   n_distinct: int = 10) -> ScanSnapTask:
    """The authors' synthetic generator: ``K = n_queries · classes_per_query`` classes, class n
    asking query ψ(n) = n // classes_per_query; ``n_common`` common tokens shared by every
    class (weight 1 each) and ``n_distinct`` distinct tokens per class with weights
    0.1, 0.2, …, 1.0 (for 10; ``(j + 1)/n_distinct`` in general), normalised.  Vocabulary
    layout: [common | distinct of class 0 | … | queries | next tokens]."""
    nq, cpq = positive_int("n_queries", n_queries), positive_int("classes_per_query", classes_per_query)
    nc, nd = nonnegative_int("n_common", n_common), positive_int("n_distinct", n_distinct)
    K = nq * cpq
    M = nc + K * nd + nq + K
    P = np.zeros((K, M))
    P[:, :nc] = 1.0                                                        # common tokens
    for n in range(K):
        P[n, nc + n * nd: nc + (n + 1) * nd] = np.arange(1, nd + 1) / nd   # distinct: 0.1 ... 1.0
    P /= P.sum(axis=1, keepdims=True)
    first_query = nc + K * nd
    query = first_query + np.arange(K) // cpq
    return ScanSnapTask(P, query, first_query + nq + np.arange(K))


@dataclass(frozen=True)
class ScanSnapBatch:
    """tokens: (B, T) token indices, contextual tokens first and the query ψ(n) last;
    classes: (B,) the class n of each sequence; labels: (B,) its next token."""
    tokens: np.ndarray
    classes: np.ndarray
    labels: np.ndarray


def scan_snap_sequences(rng, task: ScanSnapTask, batch: int, T: int) -> ScanSnapBatch:
    """``batch`` sequences of length T: a class n uniformly, T − 1 contextual tokens i.i.d.
    from P(· | n) (inverse CDF by one ``searchsorted`` over all classes, no loop over
    sequences), then the query ψ(n)."""
    rng = as_rng(rng)
    if not isinstance(task, ScanSnapTask):
        raise ValueError(f"task must be a ScanSnapTask; got {type(task).__name__}")
    B, T = positive_int("batch", batch), positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be >= 2 (contextual tokens and the query); got {T}")
    return _scan_snap_sequences(rng, task, B, T)


def _scan_snap_sequences(rng, task: ScanSnapTask, B: int, T: int) -> ScanSnapBatch:
    """Unchecked kernel of :func:`scan_snap_sequences` (the training loop draws each step's
    batch with it)."""
    n = rng.integers(0, task.K, size=B)
    cdf = np.cumsum(task.P, axis=1)
    cdf /= cdf[:, -1:]                                                     # (K, M), each row ends at 1
    # one sorted array for all classes: row n shifted to [n, n + 1], so u + n finds its token in row n
    flat = (cdf + np.arange(task.K)[:, None]).ravel()
    u = rng.random((B, T - 1)) + n[:, None]
    hit = np.searchsorted(flat, u, side="right")                           # first cdf entry above u
    last = task.M - 1 - np.argmax(task.P[:, ::-1] > 0, axis=1)            # each row's last token with P > 0
    context = np.minimum(hit - n[:, None] * task.M, last[n][:, None])      # (u + n rounding up to n + 1)
    tokens = np.concatenate([context, task.query[n][:, None]], axis=1)
    return ScanSnapBatch(tokens, n, task.next_token[n])
