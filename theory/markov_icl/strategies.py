"""The exact strategies of Edelman et al. 2024: next-token distributions after seeing
``x_1 … x_t``, and the measures that compare a model with them.

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

from ..core._validate import array, choice, finite_result, integer_array, positive_int
from ..core.nn import _logsumexp
from .data import _tables

__all__ = ["uniform_strategy", "unigram_strategy", "bigram_strategy", "strategy_losses", "distance"]


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
    return _distance(q, z, choice("kind", kind, ("kl", "cross_entropy")))


def _distance(q, z, kind: str = "kl") -> np.ndarray:
    """Unchecked kernel of :func:`distance`."""
    logp = z - _logsumexp(z, -1)
    ce = -(q * logp).sum(-1)
    return (ce if kind == "cross_entropy" else ce + _xlogy(q, q).sum(-1)).mean(0)
