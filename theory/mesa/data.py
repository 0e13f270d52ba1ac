"""The data of von Oswald et al. 2023b (mesa-optimization), Sec. 3: sequences of a linear
dynamical system ``s_{t+1} = W* s_t + ε_t`` with W* random orthogonal per sequence.

The sampler takes an ``np.random.Generator`` (or an integer seed) and draws a whole batch
at once; the settings (D = 10, T = 51 states — 50 transitions, as the authors' code —
σ = 0.01, s_1 ~ U(-1, 1)^D) and where they come from are in docs/papers.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, finite_scalar, positive_int

__all__ = ["LinearDynamics", "random_orthogonal", "linear_dynamics"]


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
    return _random_orthogonal(rng, positive_int("batch", batch), positive_int("D", D))


def _random_orthogonal(rng, B: int, D: int) -> np.ndarray:
    """Unchecked kernel of :func:`random_orthogonal`."""
    Qm, Rm = np.linalg.qr(rng.standard_normal((B, D, D)))               # batched QR
    return Qm * np.sign(np.diagonal(Rm, axis1=1, axis2=2))[:, None, :]  # column j times sign(R_jj)


def linear_dynamics(rng, batch: int, T: int = 51, D: int = 10, *, sigma: float = 0.01) -> LinearDynamics:
    """von Oswald et al. 2023b (mesa-optimization), Sec. 3: ``s_{t+1} = W* s_t + ε_t`` with
    W* random orthogonal per sequence, ``ε_t ~ N(0, σ² I)``, ``s_1 ~ U(-1, 1)^D``; T states
    ``s_1 … s_T`` (T − 1 targets; the authors' code: 51 states).  Batched over sequences
    (one loop over t)."""
    rng = as_rng(rng)
    B, T, D = positive_int("batch", batch), positive_int("T", T), positive_int("D", D)
    if T < 2:
        raise ValueError(f"T must be >= 2 (a sequence needs a transition); got {T}")
    return _linear_dynamics(rng, B, T, D, finite_scalar("sigma", sigma, nonnegative=True))


def _linear_dynamics(rng, B: int, T: int, D: int, sigma: float) -> LinearDynamics:
    """Unchecked kernel of :func:`linear_dynamics` (the training loop draws each step's
    batch with it)."""
    W = _random_orthogonal(rng, B, D)
    S = np.empty((B, T, D))
    S[:, 0] = rng.uniform(-1.0, 1.0, size=(B, D))
    noise = sigma * rng.standard_normal((B, T - 1, D))
    for t in range(T - 1):
        S[:, t + 1] = np.einsum("bij,bj->bi", W, S[:, t]) + noise[:, t]   # s_{t+1} = W* s_t + ε_t
    return LinearDynamics(S, W)
