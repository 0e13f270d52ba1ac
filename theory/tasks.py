"""Samplers for the tasks the papers train on.  Every sampler takes an
``np.random.Generator`` (or an integer seed) and draws a whole batch at once.

In-context linear regression (von Oswald et al. 2023, Sec. 2; Garg et al. 2022):
a task is a weight matrix ``W ~ N(0, I)`` (entries i.i.d. standard normal), N context
pairs ``(x_i, y_i = W x_i + noise)`` and a query pair ``(x_q, y_q)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import (array, as_rng, choice, finite_result, finite_scalar, flag, integer_array, nonnegative_int,
                        positive_int, probability, spd)

__all__ = ["RegressionTasks", "regression_tasks", "uniform_moments", "LinearDynamics", "random_orthogonal",
           "linear_dynamics", "ItemLabelClasses", "ItemLabelBatch",
           "item_label_classes", "zipf_probabilities", "check_burstiness", "item_label_sequences",
           "ScanSnapTask", "scan_snap_task", "ScanSnapBatch", "scan_snap_sequences"]


@dataclass(frozen=True)
class RegressionTasks:
    """A batch of B in-context regression tasks (rows are examples).

    X: (B, N, d) context inputs; Y: (B, N, d_out) context targets;
    xq: (B, d) query inputs; yq: (B, d_out) query targets; W: (B, d_out, d) task weights.
    """
    X: np.ndarray
    Y: np.ndarray
    xq: np.ndarray
    yq: np.ndarray
    W: np.ndarray

    @property
    def n_context(self) -> int:
        return self.X.shape[1]


@finite_result
def uniform_moments(a: float) -> tuple[float, float]:
    """Variance ``s² = a²/3`` and fourth moment ``m4 = a⁴/5`` of U(-a, a)."""
    a = finite_scalar("a", a, positive=True)
    return a * a / 3.0, (a * a) * (a * a) / 5.0           # inf (refused) rather than OverflowError


@finite_result
def regression_tasks(rng, batch: int, n_context: int, d: int, *, d_out: int = 1,
                     inputs: str = "uniform", a: float = 0.5, cov=None,
                     noise: float = 0.0) -> RegressionTasks:
    """Sample B tasks: ``W ~ N(0, I)``, ``y = W x + σ ε``.

    inputs ``"uniform"``: ``x ~ U(-a, a)^d`` (the authors' notebooks use a = 0.5);
    inputs ``"gaussian"``: ``x ~ N(0, Λ)`` with ``Λ = cov`` (d x d, symmetric positive
    definite; the identity if ``cov`` is None).  ``noise`` is σ >= 0.
    """
    rng = as_rng(rng)
    B = positive_int("batch", batch)
    N = positive_int("n_context", n_context)
    d = positive_int("d", d)
    d_out = positive_int("d_out", d_out)
    noise = finite_scalar("noise", noise, nonnegative=True)
    inputs = choice("inputs", inputs, ("uniform", "gaussian"))
    a = finite_scalar("a", a, positive=True)
    if inputs == "uniform":
        if cov is not None:
            raise ValueError(f"cov is only used with inputs='gaussian'; got cov with inputs={inputs!r}")
        x = rng.uniform(-a, a, size=(B, N + 1, d))                    # (B, N+1, d)
    else:
        L = np.linalg.cholesky(spd("cov", np.eye(d) if cov is None else cov, d))
        x = rng.standard_normal((B, N + 1, d)) @ L.T                  # x = L z, Cov = L L^T
    W = rng.standard_normal((B, d_out, d))                            # (B, d_out, d)
    y = x @ np.swapaxes(W, -1, -2)                                    # (B, N+1, d_out) = W x
    if noise:
        y = y + noise * rng.standard_normal(y.shape)
    return RegressionTasks(X=x[:, :N], Y=y[:, :N], xq=x[:, N], yq=y[:, N], W=W)


# --------------------------------------------------------------------------- linear dynamical systems
@dataclass(frozen=True)
class LinearDynamics:
    """Sequences of an autoregressive linear system and the matrices that made them."""
    S: np.ndarray                # (B, T, D) states s_1 ... s_T
    W: np.ndarray                # (B, D, D) W*, orthogonal, one per sequence

    def __post_init__(self):
        S = array("S", self.S, ndim=3)
        if S.shape[1] < 2:
            raise ValueError(f"S must hold T >= 2 states per sequence (a transition); got shape {S.shape}")
        W = array("W", self.W, shape=(S.shape[0], S.shape[2], S.shape[2]))   # square, one per sequence
        object.__setattr__(self, "S", S)
        object.__setattr__(self, "W", W)


def random_orthogonal(rng, batch: int, D: int) -> np.ndarray:
    """``batch`` matrices drawn uniformly (Haar) from the orthogonal group O(D): the Q of a
    QR factorisation of a Gaussian matrix, with the signs of R's diagonal moved into Q."""
    rng = as_rng(rng)
    B, D = positive_int("batch", batch), positive_int("D", D)
    Qm, Rm = np.linalg.qr(rng.standard_normal((B, D, D)))               # batched QR
    return Qm * np.sign(np.diagonal(Rm, axis1=1, axis2=2))[:, None, :]  # column j times sign(R_jj)


def linear_dynamics(rng, batch: int, T: int = 50, D: int = 10, *, sigma: float = 0.01) -> LinearDynamics:
    """von Oswald et al. 2023b (mesa-optimization), Sec. 3: ``s_{t+1} = W* s_t + ε_t`` with
    W* random orthogonal per sequence, ``ε_t ~ N(0, σ² I)``, ``s_1 ~ U(-1, 1)^D``.
    Batched over sequences (one loop over t)."""
    rng = as_rng(rng)
    B, T, D = positive_int("batch", batch), positive_int("T", T), positive_int("D", D)
    if T < 2:
        raise ValueError(f"T must be >= 2 (a sequence needs a transition); got {T}")
    sigma = finite_scalar("sigma", sigma, nonnegative=True)
    W = random_orthogonal(rng, B, D)
    S = np.empty((B, T, D))
    S[:, 0] = rng.uniform(-1.0, 1.0, size=(B, D))
    noise = sigma * rng.standard_normal((B, T - 1, D))
    for t in range(T - 1):
        S[:, t + 1] = np.einsum("bij,bj->bi", W, S[:, t]) + noise[:, t]   # s_{t+1} = W* s_t + ε_t
    return LinearDynamics(S, W)


# --------------------------------------------------------------------------- item-label sequences
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


# --------------------------------------------------------------------------- scan and snap
@dataclass(frozen=True)
class ScanSnapTask:
    """Tian et al. 2023 ("Scan and Snap"), Sec. 3: K classes (next tokens n), each with a query
    token ψ(n) (many-to-one) and a distribution P(l | n) of its contextual tokens, all in
    one vocabulary of M tokens.

    P: (K, M) rows P(·|n), non-negative, each summing to one; query: (K,) the query token
    ψ(n); next_token: (K,) the token index of class n's next token (the label).  A token l
    is *distinct* if P(l|n) > 0 for one class n only, *common* if for several."""
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
    from P(·|n) (inverse CDF by one ``searchsorted`` over all classes, no loop over
    sequences), then the query ψ(n)."""
    rng = as_rng(rng)
    if not isinstance(task, ScanSnapTask):
        raise ValueError(f"task must be a ScanSnapTask; got {type(task).__name__}")
    B, T = positive_int("batch", batch), positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be >= 2 (contextual tokens and the query); got {T}")
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
