"""In-context linear regression with a finite pool of pretraining tasks (Raventós et al.
2023; Lu et al. 2024).

Lu et al.'s scaling: ``x_i ~ N(0, I_d / d)``, ``y_i = wᵀx_i + ε_i``, ``ε_i ~ N(0, ρ)``, so
``E y² = ‖w‖²/d + ρ``.  A sequence has ℓ context pairs and one query (ℓ + 1 points).  The
pretraining tasks are a fixed pool of k vectors; each of the n pretraining sequences draws
its task uniformly from the pool.  Two normalisations of a task (``tasks=``):

- ``"gaussian"``: ``w ~ N(0, I_d)`` (the paper's statement);
- ``"sphere"``: ``w`` uniform on the sphere ``‖w‖ = √d`` (the authors' code rescales every
  Gaussian draw to that norm).  Then ``‖w‖²/d = 1`` exactly, which makes the finite-d error
  of :mod:`theory.task_diversity.error` depend on the pool only through its mean and
  second moment.

Raventós et al. use ``x ~ N(0, I_D)``, ``w ~ N(0, I_D)``, ``ε ~ N(0, σ²)``: the same law with
``x`` scaled by √D (``scale="raventos"`` in :func:`sequences`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, choice, finite_scalar, positive_int

__all__ = ["TASK_LAWS", "Sequences", "task_pool", "fresh_tasks", "sequences"]

TASK_LAWS = ("gaussian", "sphere")


@dataclass
class Sequences:
    """A batch of sequences: contexts ``X`` (n, ℓ, d), labels ``y`` (n, ℓ), queries ``x_q``
    (n, d), their labels ``y_q`` (n,) and the tasks ``w`` (n, d)."""
    X: np.ndarray
    y: np.ndarray
    x_q: np.ndarray
    y_q: np.ndarray
    w: np.ndarray


def fresh_tasks(rng, count: int, d: int, tasks: str = "gaussian") -> np.ndarray:
    """``count`` tasks (count, d): ``N(0, I_d)``, or rescaled to ``‖w‖ = √d`` (``"sphere"``)."""
    rng = as_rng(rng)
    count, d = positive_int("count", count), positive_int("d", d)
    tasks = choice("tasks", tasks, TASK_LAWS)
    w = rng.standard_normal((count, d))
    if tasks == "sphere":
        w *= np.sqrt(d) / np.linalg.norm(w, axis=1, keepdims=True)
    return w


def task_pool(rng, k: int, d: int, tasks: str = "gaussian") -> np.ndarray:
    """The fixed pretraining pool: k tasks (k, d) drawn once (:func:`fresh_tasks`)."""
    return fresh_tasks(rng, positive_int("k", k), d, tasks)


def sequences(rng, n: int, ell: int, d: int, *, rho: float = 0.0, pool=None, tasks: str = "gaussian",
              scale: str = "lu", assign: str = "uniform") -> Sequences:
    """n sequences of ℓ context pairs and a query.  The task of each sequence is drawn
    uniformly from ``pool`` (k, d) (``assign="uniform"``), or each pool task is used by
    ⌊n/k⌋ or ⌈n/k⌉ sequences in a random order (``assign="balanced"``: the authors' code
    repeats each task n/k times), or fresh from ``tasks`` when ``pool`` is None;
    ``x ~ N(0, I_d/d)`` (``scale="lu"``) or ``N(0, I_d)`` (``scale="raventos"``);
    ``y = wᵀx + ε``, ``ε ~ N(0, rho)`` (rho is the noise *variance*)."""
    rng = as_rng(rng)
    n, ell, d = positive_int("n", n), positive_int("ell", ell), positive_int("d", d)
    rho = finite_scalar("rho", rho, nonnegative=True)
    scale = choice("scale", scale, ("lu", "raventos"))
    assign = choice("assign", assign, ("uniform", "balanced"))
    tasks = choice("tasks", tasks, TASK_LAWS)
    if pool is None:
        w = fresh_tasks(rng, n, d, tasks)
    else:
        pool = array("pool", pool, ndim=2)
        if pool.shape[1] != d:
            raise ValueError(f"pool must have d = {d} columns; got shape {pool.shape}")
        index = rng.integers(0, len(pool), n) if assign == "uniform" else rng.permutation(np.arange(n) % len(pool))
        w = pool[index]
    X = rng.standard_normal((n, ell + 1, d))
    if scale == "lu":
        X /= np.sqrt(d)
    y = np.einsum("nid,nd->ni", X, w) + np.sqrt(rho) * rng.standard_normal((n, ell + 1))
    return Sequences(X[:, :ell], y[:, :ell], X[:, ell], y[:, ell], w)
