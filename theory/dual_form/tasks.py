"""The in-context classification tasks of Dai et al.'s experiments at CPU scale.

Why this family: the paper's comparison needs a pretrained model that (i) has a zero-shot
answer that is often right but not always, so that finetuning and ICL both have wrong
answers to correct (Rec2FTP counts them), and (ii) learns from demonstrations in its prompt.
Binary linear classification with a shared prior gives both, with every quantity known:

    w = a ē + z,  z ~ N(0, I_d)   (ē = e₁: the direction every task leans to; a the prior's pull)
    x ~ N(0, I_d),  y = 1[w · x > 0]

A zero-shot model can only answer ``1[ē · x > 0]`` (right on ``1 − θ/π`` of the inputs, θ
the angle between w and ē); demonstrations say where w lies.  The template is the paper's
"input, label, input, label, …, input" with one token per input and one per label:

    [BOS, x₁, y₁, …, x_n, y_n, x_q]   → the label of x_q is read at the last position

Token features (d + 4): ``[x (d) | label ±1 | is BOS | is input | is label]``.  The
zero-shot prompt is ``[BOS, x_q]``; the paper's finetuning feeds each demonstration in
that zero-shot template (``[BOS, x_i]`` → y_i).  Pretraining sequences ``[BOS, x₁, y₁, …,
x_N, y_N]`` are scored at every input position (the label that follows it), so one
sequence trains every number of demonstrations 0 … N − 1 at once.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, finite_scalar, integer_array, nonnegative_int, positive_int

__all__ = ["sample_tasks", "prompt_tokens", "pretraining_batch", "zero_shot_accuracy"]


def sample_tasks(rng, n_tasks: int, n_points: int, d: int = 4, prior: float = 1.5):
    """``(X, y, w)``: X (n_tasks, n_points, d) inputs, y (n_tasks, n_points) labels in {0, 1},
    w (n_tasks, d) the task vectors ``a ē + z``."""
    rng = as_rng(rng)
    n_tasks, n_points, d = positive_int("n_tasks", n_tasks), positive_int("n_points", n_points), positive_int("d", d)
    prior = finite_scalar("prior", prior, nonnegative=True)
    return _sample_tasks(rng, n_tasks, n_points, d, prior)


def _sample_tasks(rng, n_tasks, n_points, d, prior):
    w = rng.standard_normal((n_tasks, d))
    w[:, 0] += prior                                                  # w = a ē + z
    X = rng.standard_normal((n_tasks, n_points, d))
    y = (np.einsum("npd,nd->np", X, w) > 0).astype(np.int64)          # y = 1[w · x > 0]
    return X, y, w


def _tokens(X, y, n_demos, query: bool):
    """``[BOS, x₁, y₁, …, x_n, y_n(, x_q)]`` as features (n, 1 + 2n_demos (+1), d + 4)."""
    n, _, d = X.shape
    T = 1 + 2 * n_demos + int(query)
    tok = np.zeros((n, T, d + 4))
    tok[:, 0, d + 1] = 1.0                                            # BOS
    xs = np.r_[1:1 + 2 * n_demos:2]                                   # input positions of the demos
    tok[:, xs, :d], tok[:, xs, d + 2] = X[:, :n_demos], 1.0
    tok[:, xs + 1, d], tok[:, xs + 1, d + 3] = 2.0 * y[:, :n_demos] - 1.0, 1.0
    if query:
        tok[:, -1, :d], tok[:, -1, d + 2] = X[:, -1], 1.0             # x_q: the last point
    return tok


def prompt_tokens(X, y, n_demos: int):
    """The prompt for the last point of each task with its first ``n_demos`` points as
    demonstrations (``n_demos = 0``: the zero-shot prompt ``[BOS, x_q]``); shape
    (n_tasks, 2 n_demos + 2, d + 4).  Its label is read at the last position."""
    X = array("X", X, ndim=3)
    y = integer_array("y", y, shape=X.shape[:2], low=0, high=2)
    n_demos = nonnegative_int("n_demos", n_demos)
    if n_demos > X.shape[1] - 1:
        raise ValueError(f"n_demos = {n_demos} needs {n_demos + 1} points a task (the last is the query); "
                         f"X has {X.shape[1]}")
    return _tokens(X, y, n_demos, query=True)


def pretraining_batch(rng, batch: int, N: int, d: int = 4, prior: float = 1.5):
    """``(tokens, labels)``: sequences ``[BOS, x₁, y₁, …, x_N, y_N]`` (batch, 2N + 1, d + 4)
    and the label y_i at the position of x_i (−1 elsewhere: no loss)."""
    batch, N, d = positive_int("batch", batch), positive_int("N", N), positive_int("d", d)
    X, y, _ = _sample_tasks(as_rng(rng), batch, N, d, finite_scalar("prior", prior, nonnegative=True))
    labels = np.full((batch, 2 * N + 1), -1, dtype=np.int64)
    labels[:, 1::2] = y                                               # at x_i: predict y_i
    return _tokens(X, y, N, query=False), labels


def zero_shot_accuracy(d: int = 4, prior: float = 1.5, n: int = 200_000, rng=0) -> float:
    """The accuracy of the best zero-shot rule ``1[ē · x > 0]`` (Monte Carlo over n tasks)."""
    X, y, _ = sample_tasks(rng, positive_int("n", n), 1, d, prior)
    return float(((X[:, 0, 0] > 0) == (y[:, 0] == 1)).mean())
