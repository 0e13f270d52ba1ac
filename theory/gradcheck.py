"""Finite-difference gradient checks for hand-written backward passes.

A teacher checks a student's backward pass with one call::

    from theory.gradcheck import check_gradients
    errors = check_gradients(loss_fn, params, grads)     # raises if any error > tol

``loss_fn(params) -> float`` is a scalar function of a dict of float64 arrays and
``grads`` the dict of analytic gradients to test.  Small parameters are checked
entry by entry with central differences; large ones with random directional
derivatives (two function evaluations per direction), so the cost stays bounded.

The default step ``eps = 1e-5`` balances the two errors of a central difference in
float64: truncation (``~ eps^2`` times the third derivative) and round-off
(``~ 1e-16 |f| / eps``).  Neither is small relative to a gradient that is tiny compared
with ``f`` itself, so check at points where the gradient is not nearly zero.
"""
from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from ._validate import array, as_rng, finite_scalar, positive_int

__all__ = ["rel_error", "numerical_gradient", "directional_errors", "check_gradients"]

Params = Mapping[str, np.ndarray]


def rel_error(a, b) -> float:
    """Relative error in norm, ``||a - b|| / max(||a||, ||b||)``; 0.0 when both are 0."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes; got {a.shape} and {b.shape}")
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0.0 else float(np.linalg.norm(a - b) / scale)


def _copy_params(params: Params) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"params must be a non-empty dict of arrays; got {type(params).__name__}")
    return {k: array(f"params[{k!r}]", v).copy() for k, v in params.items()}


def _scalar(f: Callable, p: dict) -> float:
    v = f(p)
    if np.ndim(v) != 0 or not np.isfinite(v):
        raise ValueError(f"the function must return a finite scalar; got {v!r}")
    return float(v)


def numerical_gradient(f: Callable[[dict], float], params: Params, eps: float = 1e-5) -> dict:
    """Central differences ``dL/dθ_j ≈ (L(θ + ε e_j) - L(θ - ε e_j)) / (2ε)`` for every entry.

    Costs two evaluations of ``f`` per parameter entry; ``params`` is not modified.
    """
    eps = finite_scalar("eps", eps, positive=True)
    p = _copy_params(params)
    grads = {}
    for name, theta in p.items():
        g = np.empty_like(theta)
        flat, gflat = theta.reshape(-1), g.reshape(-1)     # views into theta and g
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            up = _scalar(f, p)
            flat[j] = old - eps
            down = _scalar(f, p)
            flat[j] = old
            gflat[j] = (up - down) / (2 * eps)
        grads[name] = g
    return grads


def directional_errors(f: Callable[[dict], float], params: Params, grads: Params, *,
                       n_directions: int = 8, eps: float = 1e-5, rng=0) -> np.ndarray:
    """Relative errors of directional derivatives along random unit directions ``u``.

    For each ``u`` (over all parameters at once), compares the central difference
    ``(L(θ + εu) - L(θ - εu)) / (2ε)`` with ``<grads, u>``.  The error is relative to
    ``||grads||``, the largest any directional derivative can be.
    """
    n_directions = positive_int("n_directions", n_directions)
    eps = finite_scalar("eps", eps, positive=True)
    rng = as_rng(rng)
    p = _copy_params(params)
    g = _matching_grads(p, grads)
    gnorm = np.sqrt(sum(float(np.sum(v * v)) for v in g.values()))
    errs = np.empty(n_directions)
    for k in range(n_directions):
        u = {name: rng.standard_normal(v.shape) for name, v in p.items()}
        unorm = np.sqrt(sum(float(np.sum(v * v)) for v in u.values()))
        u = {name: v / unorm for name, v in u.items()}
        up = _scalar(f, {name: p[name] + eps * u[name] for name in p})
        down = _scalar(f, {name: p[name] - eps * u[name] for name in p})
        numeric = (up - down) / (2 * eps)
        analytic = sum(float(np.sum(g[name] * u[name])) for name in p)
        scale = max(gnorm, abs(numeric))
        errs[k] = 0.0 if scale == 0.0 else abs(numeric - analytic) / scale
    return errs


def _matching_grads(p: dict, grads: Params) -> dict:
    if set(grads) != set(p):
        raise ValueError(f"grads must have the keys of params {sorted(p)}; got {sorted(grads)}")
    return {k: array(f"grads[{k!r}]", grads[k], shape=p[k].shape) for k in p}


def check_gradients(f: Callable[[dict], float], params: Params, grads: Params, *,
                    tol: float = 1e-7, eps: float = 1e-5, max_entries: int = 2000,
                    n_directions: int = 16, rng=0) -> dict[str, float]:
    """Check analytic ``grads`` of the scalar ``f`` at ``params``; return errors per key.

    Parameters with at most ``max_entries`` entries are compared entry by entry
    (relative error in norm against :func:`numerical_gradient`); larger ones by
    ``n_directions`` random directional derivatives (worst error).  Raises
    ``AssertionError`` naming the worst parameter when an error exceeds ``tol``.

    The error is relative to ``max(||analytic||, ||numeric||, floor / tol)``, where
    ``floor = 4 u |f| sqrt(n) / eps`` (``u`` = 2.2e-16, n entries) estimates the
    round-off noise of the central differences themselves: a gradient far below ``|f|``
    cannot be resolved to ``tol`` relative by any finite difference, so a difference at
    the noise floor counts as an error of ``tol``, and anything larger is still caught.
    """
    tol = finite_scalar("tol", tol, positive=True)
    max_entries = positive_int("max_entries", max_entries)
    p = _copy_params(params)
    g = _matching_grads(p, grads)
    f0 = _scalar(f, p)
    errors = {}
    for name in p:
        others = {k: v for k, v in p.items() if k != name}

        def f_one(q, name=name, others=others):
            return f({**others, name: q[name]})

        if p[name].size <= max_entries:
            num = numerical_gradient(f_one, {name: p[name]}, eps=eps)[name]
            floor = 4 * np.finfo(float).eps * abs(f0) * np.sqrt(num.size) / eps
            scale = max(np.linalg.norm(g[name]), np.linalg.norm(num), floor / tol)
            errors[name] = 0.0 if scale == 0.0 else float(np.linalg.norm(g[name] - num) / scale)
        else:
            errors[name] = float(directional_errors(f_one, {name: p[name]}, {name: g[name]},
                                                    n_directions=n_directions, eps=eps,
                                                    rng=rng).max())
    worst = max(errors, key=errors.get)
    if errors[worst] > tol:
        raise AssertionError(f"gradient check failed: relative error {errors[worst]:.3e} for "
                             f"{worst!r} exceeds tol {tol:.1e} (all errors: {errors})")
    return errors
