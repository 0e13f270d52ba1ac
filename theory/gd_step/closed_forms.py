"""Closed forms for one layer: the best one-step rate (von Oswald et al. 2023) and the
optimum of Zhang, Frei & Bartlett 2024 for Gaussian inputs, each checked against
expectations computed by exact quadrature (and, in the tests, by Monte Carlo).

- :func:`optimal_one_step`: for inputs with i.i.d. coordinates of variance s² and fourth
  moment m4, the best ``b`` in ``ŷ = b (1/N) Σ_i y_i x_i^T x_q`` and its loss
  (``proofs/gd_step.py`` derives both).
- :func:`zfb_gamma`: for x ~ N(0, Λ), ``Γ = (1 + 1/N) Λ + (tr Λ / N) I``, from
  ``E[Ŝ²] = Λ Γ`` with ``Ŝ = (1/N) Σ_i x_i x_i^T``; the optimal one-layer LSA predicts
  ``x_q^T Γ^{-1} (1/N) Σ_i y_i x_i``.

The checks need only the input law's moments of one vector, ``M2 = E[x xᵀ]`` and
``M4 = E[|x|² x xᵀ]``, since for N independent inputs

    E[Ŝ²] = ((N - 1)/N) M2² + (1/N) M4                (the N(N-1) pairs i ≠ j, the N terms i = j)

and both are polynomials of degree at most 4 in each coordinate, which a 3-point Gauss rule
per coordinate integrates exactly (:func:`single_input_moments`: Gauss–Legendre for
U(-a, a), Gauss–Hermite for N(0, Λ), on the tensor grid of d coordinates).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng, finite_result, finite_scalar, positive_int, spd
from .data import regression_tasks

__all__ = ["optimal_one_step", "zfb_gamma", "single_input_moments", "exact_one_step", "monte_carlo_one_step",
           "random_covariance"]


# --------------------------------------------------------------------------- closed forms
@finite_result
def optimal_one_step(d: int, n_context: int, s2: float, m4: float) -> tuple[float, float]:
    """Best ``b`` for ``ŷ = b (1/N) Σ_i y_i x_i^T x_q`` (one GD step from 0, η = b).

    Inputs with i.i.d. zero-mean coordinates of variance ``s2`` and fourth moment ``m4``,
    ``w ~ N(0, I)``, noise-free, one output (proofs/gd_step.py derives it):
    ``b* = N s² / (m4 + (d+N-2) s⁴)``, ``L* = ½ d s² (1 - s⁴ / c)``,
    ``c = (m4 + (d+N-2) s⁴) / N``; the loss is ``½ E(ŷ - y)²``.

    A fourth moment below the squared variance is impossible (Jensen: ``m4 >= s2²``) and is
    refused.  Computed through the kurtosis ``r = m4 / s2²``, ``c / s2² = (r + d + N - 2) / N``,
    so no power of ``s2`` overflows.
    """
    d, N = positive_int("d", d), positive_int("n_context", n_context)
    s2 = finite_scalar("s2", s2, positive=True)
    m4 = finite_scalar("m4", m4, positive=True)
    r = (m4 / s2) / s2                                    # kurtosis m4 / s2², >= 1
    if r < 1.0 - 1e-12:
        raise ValueError(f"m4 must be >= s2² (a fourth moment is at least the squared variance); "
                         f"got m4 = {m4:.6g}, s2² = {s2 * s2:.6g}")
    c_rel = (r + d + N - 2) / N                           # c / s2²
    return 1.0 / (s2 * c_rel), 0.5 * d * s2 * (1.0 - 1.0 / c_rel)


@finite_result
def zfb_gamma(cov, n_context: int) -> np.ndarray:
    """Zhang, Frei & Bartlett 2024: ``Γ = (1 + 1/N) Λ + (tr Λ / N) I`` for x ~ N(0, Λ);
    the optimal one-layer LSA predicts ``x_q^T Γ^{-1} (1/N) Σ_i y_i x_i``.  ``cov`` = Λ
    must be symmetric positive definite."""
    cov = spd("cov", cov)
    N = positive_int("n_context", n_context)
    return (1 + 1 / N) * cov + (np.trace(cov) / N) * np.eye(cov.shape[0])


@finite_result
def monte_carlo_one_step(rng, d: int, n_context: int, a: float, n_tasks: int):
    """Monte Carlo of one GD step from 0 on U(-a, a) inputs: returns ``(b_mc, loss_at)``,
    the least-squares best ``b`` and a function ``b -> ½ mean (b h^T x_q - y_q)²``."""
    d, n_context = positive_int("d", d), positive_int("n_context", n_context)
    t = regression_tasks(rng, positive_int("n_tasks", n_tasks), n_context, d, a=a)
    h = np.einsum("bn,bnd->bd", t.Y[:, :, 0], t.X) / n_context   # (1/N) Σ y_i x_i
    z = np.einsum("bd,bd->b", h, t.xq)                           # h^T x_q
    y = t.yq[:, 0]
    return float(z @ y / (z @ z)), lambda b: 0.5 * float(np.mean((b * z - y) ** 2))


# --------------------------------------------------------------------------- exact expectations
QUADRATURE_NODES = 3                     # exact for polynomials of degree <= 5 per coordinate
MAX_QUADRATURE_DIM = 12                  # 3^12 = 531,441 nodes


@finite_result
def single_input_moments(d: int, *, a: float | None = None, cov=None) -> tuple[np.ndarray, np.ndarray]:
    """``M2 = E[x xᵀ]`` and ``M4 = E[|x|² x xᵀ]`` (each (d, d)), exactly, for x ~ U(-a, a)^d
    (give ``a``) or x ~ N(0, Λ) (give ``cov`` = Λ).

    The integrands have degree <= 4 in each coordinate, so a 3-node Gauss rule per
    coordinate on the tensor grid (3^d nodes) integrates them exactly: Gauss–Legendre nodes
    scaled to [-a, a], or probabilists' Gauss–Hermite nodes u with x = L u, Λ = L Lᵀ.
    Cost 3^d·d² (d = 10: 6e6 products).
    """
    d = positive_int("d", d)
    if d > MAX_QUADRATURE_DIM:
        raise ValueError(f"d must be <= {MAX_QUADRATURE_DIM} (the grid has 3^d nodes); got {d}")
    if (a is None) == (cov is None):
        raise ValueError("give exactly one of a (uniform inputs) or cov (Gaussian inputs)")
    if a is not None:
        a = finite_scalar("a", a, positive=True)
        t, w = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
        t, w = a * t, w / 2                                 # nodes on [-a, a], weights of the density 1/(2a)
    else:
        cov = spd("cov", cov)
        if cov.shape[0] != d:
            raise ValueError(f"d = {d} but cov is {cov.shape[0]} x {cov.shape[1]}; they must agree")
        t, w = np.polynomial.hermite_e.hermegauss(QUADRATURE_NODES)
        w = w / np.sqrt(2 * np.pi)                          # weights of the N(0, 1) density
    grid = np.stack(np.meshgrid(*[t] * d, indexing="ij"), axis=-1).reshape(-1, d)   # (3^d, d)
    weight = np.prod(np.stack(np.meshgrid(*[w] * d, indexing="ij"), axis=-1).reshape(-1, d), axis=1)
    x = grid if cov is None else grid @ np.linalg.cholesky(cov).T                    # (3^d, d)
    M2 = (x * weight[:, None]).T @ x                                                  # Σ_k w_k x_k x_kᵀ
    M4 = (x * (weight * np.einsum("kd,kd->k", x, x))[:, None]).T @ x                  # Σ_k w_k |x_k|² x_k x_kᵀ
    return M2, M4


def _expected_S_squared(M2, M4, N: int) -> np.ndarray:
    """E[Ŝ²] for Ŝ = (1/N) Σ_i x_i x_iᵀ over N independent inputs: ((N-1)/N) M2² + M4/N."""
    return (N - 1) / N * (M2 @ M2) + M4 / N


@finite_result
def exact_one_step(d: int, n_context: int, a: float) -> tuple[float, float]:
    """The best ``b`` for ``ŷ = b (1/N) Σ_i y_i x_iᵀ x_q`` and its loss ``½ E(ŷ - y)²``,
    from exact expectations, for x ~ U(-a, a)^d and w ~ N(0, I) (noise-free): an independent
    route to :func:`optimal_one_step`.

    With ``z = (1/N) Σ y_i x_iᵀ x_q = wᵀ Ŝ x_q`` and ``y = wᵀ x_q``, the average over w gives
    ``E[z y] = E[x_qᵀ Ŝ x_q] = tr(M2 M2)``, ``E[z²] = E[x_qᵀ Ŝ² x_q] = tr(E[Ŝ²] M2)``,
    ``E[y²] = tr M2`` (x_q is independent of Ŝ); then ``b = E[zy]/E[z²]`` and
    ``L(b) = ½ (E[y²] - E[zy]²/E[z²])``.
    """
    d, N = positive_int("d", d), positive_int("n_context", n_context)
    M2, M4 = single_input_moments(d, a=a)
    zy = np.trace(M2 @ M2)
    zz = np.trace(_expected_S_squared(M2, M4, N) @ M2)
    return float(zy / zz), float(0.5 * (np.trace(M2) - zy * zy / zz))


def random_covariance(rng, d: int) -> np.ndarray:
    """``Q diag(λ) Q^T`` with Q a random rotation and λ spread over [0.2, 2]."""
    rng, d = as_rng(rng), positive_int("d", d)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (Q * rng.uniform(0.2, 2.0, d)) @ Q.T
