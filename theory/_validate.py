"""One place where every public function checks its inputs.

Every check raises ``ValueError`` whose message names the argument, the shape it
got and the shape it expected, so a user never meets a numpy broadcasting error
from deep inside a forward pass.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["array", "same_size", "positive_int", "finite_scalar", "as_rng"]


def array(name: str, x, ndim: int | tuple[int, ...] | None = None, *,
          min_ndim: int | None = None, shape: tuple | None = None) -> np.ndarray:
    """Return ``x`` as a float64 array after checking rank, shape and finiteness.

    ``ndim`` is an exact rank or a tuple of allowed ranks; ``shape`` is an expected
    shape whose ``None`` entries match anything (its length fixes the rank).
    """
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a numeric array; got {type(x).__name__}: {err}") from None
    if shape is not None:
        ndim = len(shape)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if a.ndim not in allowed:
            want = " or ".join(str(k) for k in allowed)
            raise ValueError(f"{name} must have {want} dimensions; got shape {a.shape}")
    if min_ndim is not None and a.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions; got shape {a.shape}")
    if shape is not None:
        for got, want in zip(a.shape, shape):
            if want is not None and got != want:
                pretty = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
                raise ValueError(f"{name} must have shape {pretty}; got shape {a.shape}")
    if 0 in a.shape:
        raise ValueError(f"{name} has a zero-size dimension; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} has non-finite values (nan or inf); shape {a.shape}")
    return a


def same_size(what: str, **sizes: int) -> int:
    """Check that named sizes agree, e.g. ``same_size('tokens', Q=3, K=3)``."""
    values = set(sizes.values())
    if len(values) != 1:
        detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(f"mismatched {what}: {detail}")
    return values.pop()


def positive_int(name: str, n) -> int:
    """Check that ``n`` is an integer >= 1 (bools are refused)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be a positive integer; got {n!r}")
    if n < 1:
        raise ValueError(f"{name} must be a positive integer; got {n}")
    return int(n)


def finite_scalar(name: str, x, *, positive: bool = False, nonnegative: bool = False,
                  below: float | None = None) -> float:
    """Check that ``x`` is a finite real number (optionally > 0, >= 0, or < ``below``)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a finite real number; got {x!r}")
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be a finite real number; got {x}")
    if positive and x <= 0:
        raise ValueError(f"{name} must be > 0; got {x}")
    if nonnegative and x < 0:
        raise ValueError(f"{name} must be >= 0; got {x}")
    if below is not None and not x < below:
        raise ValueError(f"{name} must be < {below}; got {x}")
    return x


def as_rng(rng) -> np.random.Generator:
    """Accept a ``np.random.Generator`` or an integer seed; nothing else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng must be a numpy Generator or a non-negative integer seed; got {rng!r}")
