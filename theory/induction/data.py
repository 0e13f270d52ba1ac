"""The data of Reddy 2024, Sec. 2: bursty item-label sequences over K classes and L labels.

A sequence is ``x_1, λ_1, ..., x_N, λ_N, x_q``: N items (noisy class means) each followed
by its class's label, then a query item whose label the model must give.  Bursty
sequences repeat B classes N/B times; novel-class sequences use fresh class means, so
only the context can tell the label (in-context learning).  The sampler takes an
``np.random.Generator`` (or an integer seed) and draws a whole batch at once; the
settings and where they come from (the paper, the author's code) are in docs/papers.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import (array, as_rng, finite_scalar, flag, nonnegative_int, positive_int,
                              probability)

__all__ = ["ItemLabelClasses", "ItemLabelBatch", "item_label_classes", "zipf_probabilities", "check_burstiness",
           "item_label_sequences"]


@dataclass(frozen=True)
class ItemLabelClasses:
    """Reddy 2024, Sec. 2: K class means and L label vectors, entries i.i.d. N(0, 1/D);
    class k has label k mod L."""
    means: np.ndarray            # (K, D)
    labels: np.ndarray           # (L, D)

    def __post_init__(self):
        means = array("means", self.means, ndim=2)
        labels = array("labels", self.labels, shape=(None, means.shape[1]))
        if means.shape[0] % labels.shape[0]:
            raise ValueError(f"the number of classes K = {means.shape[0]} must be a multiple of the "
                             f"number of labels L = {labels.shape[0]}")
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "labels", labels)

    @property
    def K(self) -> int:
        return self.means.shape[0]

    @property
    def L(self) -> int:
        return self.labels.shape[0]


@dataclass(frozen=True)
class ItemLabelBatch:
    """A batch of sequences ``x_1, λ_1, ..., x_N, λ_N, x_q`` (2N+1 tokens of width D).

    content: (S, 2N+1, D); target: (S,) the label id to predict; context_labels: (S, N)
    the label ids shown; context_match: (S, N) whether context item i is of the query's
    class; query_in_context: (S,) whether any is (only then can copying work).
    """
    content: np.ndarray
    target: np.ndarray
    context_labels: np.ndarray
    context_match: np.ndarray

    @property
    def query_in_context(self) -> np.ndarray:
        return self.context_match.any(axis=1)


def item_label_classes(rng, K: int, L: int, D: int) -> ItemLabelClasses:
    """Draw the class means and label vectors; K must be a multiple of L."""
    rng = as_rng(rng)
    K, L, D = positive_int("K", K), positive_int("L", L), positive_int("D", D)
    if L > K:
        raise ValueError(f"L (labels) must be <= K (classes); got L = {L}, K = {K}")
    if K % L:
        raise ValueError(f"K must be divisible by L (class k has label k mod L); got K = {K}, L = {L}")
    s = 1.0 / np.sqrt(D)
    return ItemLabelClasses(s * rng.standard_normal((K, D)), s * rng.standard_normal((L, D)))


def zipf_probabilities(K: int, alpha: float) -> np.ndarray:
    """``P(k) ∝ (k+1)^(-α)``, k = 0..K-1 (α = 0: uniform)."""
    alpha = finite_scalar("alpha", alpha, nonnegative=True)
    p = np.arange(1, positive_int("K", K) + 1, dtype=np.float64) ** (-alpha)
    return p / p.sum()


def _top_k_without_replacement(rng, logw: np.ndarray, S: int, k: int) -> np.ndarray:
    """S rows of k distinct indices drawn ∝ exp(logw) without replacement (Gumbel top-k)."""
    keys = logw[None, :] + rng.gumbel(size=(S, logw.size))
    return np.argsort(-keys, axis=1)[:, :k]


def check_burstiness(B, N: int) -> int:
    """B, the copies of each class in a bursty context: 0 (none) or a divisor of N."""
    B, N = nonnegative_int("B", B), positive_int("N", N)
    if B and N % B:
        raise ValueError(f"B must be 0 or a positive integer dividing N = {N}; got {B}")
    return B


def item_label_sequences(rng, classes: ItemLabelClasses, n_seq: int, N: int, *, B: int,
                         eps: float, alpha: float = 0.0, p_bursty: float = 1.0,
                         p_novel: float = 0.0, shift_labels: bool = False) -> ItemLabelBatch:
    """Reddy 2024, Sec. 2: a batch of sequences, vectorised over sequences.

    A fraction ``p_bursty`` is bursty: N/B classes with distinct labels (drawn ∝ Zipf
    without replacement), each shown B times in shuffled order, the query's class one of
    them.  The rest draw context and query classes i.i.d. from the Zipf law ``P(k) ∝
    k^(-α)`` (B = 0 means no bursty sequences).  A fraction ``p_novel`` of the bursty
    sequences uses freshly drawn class means (novel classes: only copying from the
    context can work) with random distinct labels.  An item of class k is
    ``(μ_k + ε η) / sqrt(1 + ε²)``, η ~ N(0, I/D); a label token is the bare λ.
    ``shift_labels`` shows every context label shifted by one (l → l+1 mod L) and asks
    for the shifted label of the query (the swapped-labels test).
    """
    rng = as_rng(rng)
    if not isinstance(classes, ItemLabelClasses):
        raise ValueError(f"classes must be an ItemLabelClasses (see item_label_classes); got {type(classes).__name__}")
    S, N = positive_int("n_seq", n_seq), positive_int("N", N)
    check_burstiness(B, N)
    eps = finite_scalar("eps", eps, nonnegative=True)
    alpha = finite_scalar("alpha", alpha, nonnegative=True)
    p_bursty, p_novel = probability("p_bursty", p_bursty), probability("p_novel", p_novel)
    shift_labels = flag("shift_labels", shift_labels)
    K, L = classes.K, classes.L
    D = classes.means.shape[1]
    p_class = zipf_probabilities(K, alpha)
    bursty = (rng.random(S) < p_bursty) if B else np.zeros(S, dtype=bool)
    # i.i.d. classes for every sequence; bursty rows are overwritten below
    ctx = rng.choice(K, size=(S, N), p=p_class)            # (S, N) context classes
    query = rng.choice(K, size=S, p=p_class)               # (S,)
    lab_ctx, target = ctx % L, query % L                   # label of class k is k mod L
    mu_ctx, mu_q = classes.means[ctx], classes.means[query]  # (S, N, D), (S, D)
    nb = int(bursty.sum())
    if nb:
        m = N // B
        if m > L:
            raise ValueError(f"bursty sequences need N/B = {m} distinct labels but L = {L}")
        # distinct labels ∝ the Zipf mass of their classes, then a class within each label
        mass = p_class.reshape(K // L, L).sum(axis=0)      # (L,) label l: classes l, l+L, ...
        lab = _top_k_without_replacement(rng, np.log(mass), nb, m)       # (nb, m)
        within = p_class.reshape(K // L, L)[:, lab] / mass[lab]         # (K/L, nb, m)
        j = (rng.random((nb, m))[None] > np.cumsum(within, axis=0)).sum(axis=0)  # inverse CDF
        cls = np.minimum(j, K // L - 1) * L + lab                        # (nb, m) class ids
        slot = np.argsort(rng.random((nb, N)), axis=1) // B              # (nb, N): B copies of each
        q_slot = rng.integers(0, m, nb)                                  # the query's class
        rows = np.arange(nb)
        ctx_b, query_b = cls[rows[:, None], slot], cls[rows, q_slot]
        lab_b, target_b = lab[rows[:, None], slot], lab[rows, q_slot]
        mu_b, mu_qb = classes.means[ctx_b], classes.means[query_b]
        novel = rng.random(nb) < p_novel
        if novel.any():
            # novel classes: fresh means, and fresh distinct labels for the m classes
            nv = int(novel.sum())
            fresh = rng.standard_normal((nv, m, D)) / np.sqrt(D)         # (nv, m, D)
            fresh_lab = _top_k_without_replacement(rng, np.zeros(L), nv, m)
            r = np.arange(nv)
            mu_b[novel] = fresh[r[:, None], slot[novel]]
            mu_qb[novel] = fresh[r, q_slot[novel]]
            lab_b[novel] = fresh_lab[r[:, None], slot[novel]]
            target_b[novel] = fresh_lab[r, q_slot[novel]]
            query_b[novel] = -1 - q_slot[novel]                          # not a trained class
            ctx_b[novel] = -1 - slot[novel]
        ctx[bursty], query[bursty] = ctx_b, query_b
        lab_ctx[bursty], target[bursty] = lab_b, target_b
        mu_ctx[bursty], mu_q[bursty] = mu_b, mu_qb
    scale = 1.0 / np.hypot(1.0, eps)                                    # 1 / sqrt(1 + ε²), no overflow
    x_ctx = scale * (mu_ctx + eps * rng.standard_normal((S, N, D)) / np.sqrt(D))
    x_q = scale * (mu_q + eps * rng.standard_normal((S, D)) / np.sqrt(D))
    if shift_labels:
        lab_ctx, target = (lab_ctx + 1) % L, (target + 1) % L
    content = np.empty((S, 2 * N + 1, D))
    content[:, 0:2 * N:2] = x_ctx                                        # items x_i
    content[:, 1:2 * N:2] = classes.labels[lab_ctx]                      # labels λ_i
    content[:, 2 * N] = x_q
    return ItemLabelBatch(content, target, lab_ctx, ctx == query[:, None])
