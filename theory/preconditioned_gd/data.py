"""The in-context regression data of Ahn et al. 2023 (and of Mahankali et al. 2024, Zhang,
Frei & Bartlett 2024): Gaussian covariates, a fresh linear task per prompt.

``x ~ N(0, Σ)`` for the context and the query; ``w ~ N(0, I)`` (``task="identity"``, the
one-layer theorems) or ``w ~ N(0, Σ⁻¹)`` (``task="inverse"``, the multi-layer results and
the authors' rotated experiment: whitening turns it into the isotropic problem); ``y = wᵀx
+ ε`` with ``ε ~ N(0, σ²)``.  Nonlinear targets (Mahankali et al.'s nonlinear tasks) come from
:func:`single_index_prompts`: ``y = ReLU(wᵀx)`` with ``w ~ N(0, I)``, a rotation-invariant
family.  :func:`rotated_covariance` is the authors' ``Σ = U D² Uᵀ``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, choice, finite_scalar, positive_int, spd

__all__ = ["TASKS", "Prompts", "regression_prompts", "single_index_prompts", "rotated_covariance", "AUTHOR_D"]

TASKS = ("identity", "inverse")
AUTHOR_D = (1.0, 1.0, 0.5, 0.25, 1.0)      # the authors' rotated experiment: D = diag(1, 1, 1/2, 1/4, 1)


@dataclass
class Prompts:
    """A batch: contexts ``X`` (B, n, d), labels ``y`` (B, n), queries ``x_q`` (B, d), the
    query's label ``y_q`` (B,) and the tasks ``w`` (B, d)."""
    X: np.ndarray
    y: np.ndarray
    x_q: np.ndarray
    y_q: np.ndarray
    w: np.ndarray


def _covariates(rng, shape, cov):
    z = rng.standard_normal(shape)
    return z if cov is None else z @ np.linalg.cholesky(cov).T       # x = C z, C Cᵀ = Σ


def regression_prompts(rng, batch: int, n: int, d: int, *, cov=None, task: str = "identity",
                       noise_var: float = 0.0) -> Prompts:
    """``batch`` prompts of n context pairs: ``x ~ N(0, Σ)`` (``cov`` Σ, the identity if
    None), ``w ~ N(0, I)`` or ``N(0, Σ⁻¹)`` (``task``), ``y = wᵀx + ε``, ``ε ~ N(0, σ²)`` with
    σ² = ``noise_var``, the variance as the papers write it (the query's label too)."""
    rng = as_rng(rng)
    B, n, d = positive_int("batch", batch), positive_int("n", n), positive_int("d", d)
    cov = None if cov is None else spd("cov", cov, d)
    task = choice("task", task, TASKS)
    noise_var = finite_scalar("noise_var", noise_var, nonnegative=True)
    return _regression_prompts(rng, B, n, d, cov, task, noise_var)


def _regression_prompts(rng, B: int, n: int, d: int, cov=None, task: str = "identity",
                        noise_var: float = 0.0) -> Prompts:
    """Unchecked kernel of :func:`regression_prompts` (a training loop draws each step's
    prompts with it)."""
    X = _covariates(rng, (B, n + 1, d), cov)
    v = rng.standard_normal((B, d))
    if task == "inverse" and cov is not None:
        v = np.linalg.solve(np.linalg.cholesky(cov).T, v.T).T       # w = C⁻ᵀ v: Cov w = (C Cᵀ)⁻¹
    y = np.einsum("bnd,bd->bn", X, v) + np.sqrt(noise_var) * rng.standard_normal((B, n + 1))   # ε ~ N(0, σ²)
    return Prompts(X[:, :n], y[:, :n], X[:, n], y[:, n], v)


def single_index_prompts(rng, batch: int, n: int, d: int) -> Prompts:
    """Nonlinear targets (Mahankali et al.: any rotation-invariant family; ours is
    the single-index ReLU): ``x ~ N(0, I)``, ``w ~ N(0, I)``, ``y = max(wᵀx, 0)``."""
    rng = as_rng(rng)
    B, n, d = positive_int("batch", batch), positive_int("n", n), positive_int("d", d)
    X = rng.standard_normal((B, n + 1, d))
    w = rng.standard_normal((B, d))
    y = np.maximum(np.einsum("bnd,bd->bn", X, w), 0.0)
    return Prompts(X[:, :n], y[:, :n], X[:, n], y[:, n], w)


def rotated_covariance(rng, D=AUTHOR_D) -> np.ndarray:
    """The authors' ``Σ = U D² Uᵀ``: U the left singular vectors of a matrix with
    U(−1, 1) entries, D = diag(``D``)."""
    rng = as_rng(rng)
    D = array("D", D, ndim=1)
    if np.any(D <= 0):
        raise ValueError(f"D must hold positive scales; got {D}")
    U = np.linalg.svd(rng.uniform(-1.0, 1.0, (len(D), len(D))))[0]
    return (U * D ** 2) @ U.T
