"""The data of von Oswald et al. 2023: in-context linear regression (Sec. 2; Garg et al. 2022).

A task is a weight matrix ``W ~ N(0, I)`` (entries i.i.d. standard normal), N context
pairs ``(x_i, y_i = W x_i + noise)`` and a query pair ``(x_q, y_q)``.  The sampler takes an
``np.random.Generator`` (or an integer seed) and draws a whole batch at once.  The inputs'
law and its settings (U(-0.5, 0.5) as in the authors' notebooks, or N(0, Λ)) are stated in
docs/papers.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import as_rng, choice, finite_result, finite_scalar, positive_int, spd

__all__ = ["RegressionTasks", "regression_tasks", "uniform_moments"]


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
                     sigma: float = 0.0) -> RegressionTasks:
    """Sample B tasks: ``W ~ N(0, I)``, ``y = W x + σ ε``.

    inputs ``"uniform"``: ``x ~ U(-a, a)^d`` (the authors' notebooks use a = 0.5);
    inputs ``"gaussian"``: ``x ~ N(0, Λ)`` with ``Λ = cov`` (d x d, symmetric positive
    definite; the identity if ``cov`` is None).  ``sigma`` is the noise's standard deviation
    σ >= 0 (a variance, where a topic takes one, is named ``noise_var``).
    """
    rng = as_rng(rng)
    B = positive_int("batch", batch)
    N = positive_int("n_context", n_context)
    d = positive_int("d", d)
    d_out = positive_int("d_out", d_out)
    sigma = finite_scalar("sigma", sigma, nonnegative=True)
    inputs = choice("inputs", inputs, ("uniform", "gaussian"))
    a = finite_scalar("a", a, positive=True)
    if inputs == "uniform" and cov is not None:
        raise ValueError(f"cov is only used with inputs='gaussian'; got cov with inputs={inputs!r}")
    if inputs == "gaussian":
        cov = spd("cov", np.eye(d) if cov is None else cov, d)
    return _regression_tasks(rng, B, N, d, d_out, inputs, a, cov, sigma)


def _regression_tasks(rng, B: int, N: int, d: int, d_out: int, inputs: str, a: float, cov, sigma: float):
    """Unchecked kernel of :func:`regression_tasks` (``cov``: None for uniform inputs, or an
    SPD matrix; a training loop draws each step's tasks with it)."""
    if inputs == "uniform":
        x = rng.uniform(-a, a, size=(B, N + 1, d))                    # (B, N+1, d)
    else:
        L = np.linalg.cholesky(np.eye(d) if cov is None else cov)
        x = rng.standard_normal((B, N + 1, d)) @ L.T                  # x = L z, Cov = L L^T
    W = rng.standard_normal((B, d_out, d))                            # (B, d_out, d)
    y = x @ np.swapaxes(W, -1, -2)                                    # (B, N+1, d_out) = W x
    if sigma:
        y = y + sigma * rng.standard_normal(y.shape)                 # σ ε, ε ~ N(0, I)
    return RegressionTasks(X=x[:, :N], Y=y[:, :N], xq=x[:, N], yq=y[:, N], W=W)
