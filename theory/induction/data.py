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

from ..core._validate import (array, as_rng, choice, finite_scalar, flag, nonnegative_int, positive_int,
                              probability)

__all__ = ["SAMPLERS", "NOVEL_CLASSES", "ItemLabelClasses", "ItemLabelBatch", "item_label_classes",
           "zipf_probabilities", "check_burstiness", "item_label_sequences"]

SAMPLERS = ("fresh", "author")
NOVEL_CLASSES = 128        # K_c: the novel class means the author's code draws per call (datasets_v2.py)


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
    return _zipf(positive_int("K", K), alpha)


def _zipf(K: int, alpha: float) -> np.ndarray:
    """Unchecked kernel of :func:`zipf_probabilities`."""
    p = np.arange(1, K + 1, dtype=np.float64) ** (-alpha)
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
                         p_novel: float = 0.0, shift_labels: bool = False, sampler: str = "fresh") -> ItemLabelBatch:
    """Reddy 2024, Sec. 2: a batch of sequences, vectorised over sequences.

    An item of class k is ``(μ_k + ε η) / sqrt(1 + ε²)``, η ~ N(0, I/D); a label token is
    the bare λ.  Non-bursty sequences draw context and query classes i.i.d. from the Zipf
    law ``P(k) ∝ k^(-α)``.  ``shift_labels`` shows every context label shifted by one
    (l → l+1 mod L) and asks for the shifted label of the query (the swapped-labels test).
    Two samplers differ in the bursty and the novel-class sequences:

    - ``sampler="fresh"`` (this package's): a fraction ``p_bursty`` is bursty — N/B classes
      with distinct labels (drawn ∝ Zipf without replacement), each shown B times in
      shuffled order, the query's class one of them (B = 0 means no bursty sequences);
      a fraction ``p_novel`` *of the bursty sequences* uses class means drawn fresh for
      that sequence, with random distinct labels.
    - ``sampler="author"`` (Reddy's code, ``datasets_v2.generate_input_seqs`` with
      ``no_repeats=True``): a bursty context takes N/B labels uniformly without
      replacement and, for each, a uniform class among those with that label (the Zipf
      law is not used there); ``p_novel`` applies to *every* sequence, and a novel
      sequence is bursty (with B = N/2 when B = 0) over :data:`NOVEL_CLASSES` = 128 novel
      class means drawn once per call — every novel sequence of the batch shares them —
      novel class j having label j mod L.
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
    sampler = choice("sampler", sampler, SAMPLERS)
    return _item_label_sequences(rng, classes, S, N, B, eps, alpha, p_bursty, p_novel, shift_labels, sampler)


def _item_label_sequences(rng, classes, S: int, N: int, B: int, eps: float, alpha: float, p_bursty: float,
                          p_novel: float, shift_labels: bool, sampler: str) -> ItemLabelBatch:
    """Unchecked kernel of :func:`item_label_sequences` (the training loop draws each
    step's batch with it)."""
    K, L = classes.K, classes.L
    D = classes.means.shape[1]
    p_class = _zipf(K, alpha)
    bursty = (rng.random(S) < p_bursty) if B else np.zeros(S, dtype=bool)
    # i.i.d. classes for every sequence; bursty rows are overwritten below
    ctx = rng.choice(K, size=(S, N), p=p_class)            # (S, N) context classes
    query = rng.choice(K, size=S, p=p_class)               # (S,)
    lab_ctx, target = ctx % L, query % L                   # label of class k is k mod L
    mu_ctx, mu_q = classes.means[ctx], classes.means[query]  # (S, N, D), (S, D)
    draw = _draw_fresh if sampler == "fresh" else _draw_author
    draw(rng, classes, p_class, bursty, p_novel, B, N, (ctx, query, lab_ctx, target, mu_ctx, mu_q))
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


def _bursty_slots(rng, n: int, N: int, B: int):
    """(n, N) slots: each of the N/B classes of a context B times, shuffled; (n,) the query's slot."""
    return np.argsort(rng.random((n, N)), axis=1) // B, rng.integers(0, N // B, n)


def _fill(rows, arrays, cls, labels, means, slot, q_slot):
    """Write bursty contexts into the rows ``rows`` of ``arrays``: class ids ``cls`` (n, m)
    with labels ``labels`` (n, m) and means ``means`` (n, m, D), placed by ``slot``."""
    ctx, query, lab_ctx, target, mu_ctx, mu_q = arrays
    r = np.arange(len(rows))
    ctx[rows], query[rows] = cls[r[:, None], slot], cls[r, q_slot]
    lab_ctx[rows], target[rows] = labels[r[:, None], slot], labels[r, q_slot]
    mu_ctx[rows], mu_q[rows] = means[r[:, None], slot], means[r, q_slot]


def _draw_fresh(rng, classes, p_class, bursty, p_novel, B, N, arrays):
    """The package's bursty and novel sequences (see :func:`item_label_sequences`)."""
    nb = int(bursty.sum())
    if not nb:
        return
    K, L, D = classes.K, classes.L, classes.means.shape[1]
    m = N // B
    if m > L:
        raise ValueError(f"bursty sequences need N/B = {m} distinct labels but L = {L}")
    # distinct labels ∝ the Zipf mass of their classes, then a class within each label
    mass = p_class.reshape(K // L, L).sum(axis=0)      # (L,) label l: classes l, l+L, ...
    lab = _top_k_without_replacement(rng, np.log(mass), nb, m)       # (nb, m)
    within = p_class.reshape(K // L, L)[:, lab] / mass[lab]         # (K/L, nb, m)
    j = (rng.random((nb, m))[None] > np.cumsum(within, axis=0)).sum(axis=0)  # inverse CDF
    cls = np.minimum(j, K // L - 1) * L + lab                        # (nb, m) class ids
    slot, q_slot = _bursty_slots(rng, nb, N, B)
    means = classes.means[cls]                                       # (nb, m, D)
    novel = rng.random(nb) < p_novel
    if novel.any():
        # novel classes: fresh means, and fresh distinct labels for the m classes
        nv = int(novel.sum())
        means[novel] = rng.standard_normal((nv, m, D)) / np.sqrt(D)
        lab[novel] = _top_k_without_replacement(rng, np.zeros(L), nv, m)
        cls[novel] = -1 - np.arange(m)                               # not trained classes
    _fill(np.flatnonzero(bursty), arrays, cls, lab, means, slot, q_slot)


def _draw_author(rng, classes, p_class, bursty, p_novel, B, N, arrays):
    """Reddy's code's bursty and novel sequences (see :func:`item_label_sequences`)."""
    K, L, D = classes.K, classes.L, classes.means.shape[1]
    novel = rng.random(len(bursty)) < p_novel
    trained = bursty & ~novel
    for rows, n_classes, means_of, Bx in (
            (np.flatnonzero(trained), K, None, B),
            (np.flatnonzero(novel), NOVEL_CLASSES, "novel", B if B else N // 2)):
        n = len(rows)
        if not n:
            continue
        if N % Bx:
            raise ValueError(f"novel sequences are bursty with B = N/2 when B = 0 (the author's code); "
                             f"N = {N} must then be even")
        m = N // Bx
        if m > L:
            raise ValueError(f"bursty sequences need N/B = {m} distinct labels but L = {L}")
        if means_of == "novel":
            if NOVEL_CLASSES % L:
                raise ValueError(f"the author's sampler draws {NOVEL_CLASSES} novel classes, k mod L labelled: "
                                 f"L must divide {NOVEL_CLASSES}; got L = {L}")
            table = rng.standard_normal((NOVEL_CLASSES, D)) / np.sqrt(D)   # K_c means, once per call
        lab = _top_k_without_replacement(rng, np.zeros(L), n, m)           # (n, m) uniform distinct labels
        cls = rng.integers(0, n_classes // L, (n, m)) * L + lab            # a uniform class of each label
        means = classes.means[cls] if means_of is None else table[cls]
        slot, q_slot = _bursty_slots(rng, n, N, Bx)
        _fill(rows, arrays, cls if means_of is None else -1 - cls, lab, means, slot, q_slot)
