"""One place where every public function checks its inputs and its result.

Every check raises ``ValueError`` in one style — the argument's name, what it got, what
was expected — so a user never meets a numpy broadcasting error, a ``TypeError`` or an
``AttributeError`` from deep inside a forward pass, and never a silent NaN:

- :func:`array` (float64 arrays of a given rank/shape, finite), :func:`integer_array`;
- :func:`positive_int`, :func:`nonnegative_int`, :func:`finite_scalar`, :func:`probability`;
- :func:`choice`, :func:`flag`, :func:`function`, :func:`executor`, :func:`as_rng`;
- :func:`params` (a dict of named arrays), :func:`spd` (a covariance matrix),
  :func:`cache` (what a forward pass returned, handed to its backward);
- :func:`finite_result`, a decorator: a public function whose float64 result overflowed
  (huge inputs) raises ``ValueError`` saying so instead of returning NaN or inf.

Training loops raise :class:`Diverged` (a ``FloatingPointError``) naming the step and
the learning rate when the loss stops being finite.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from typing import Mapping

import numpy as np

__all__ = ["array", "integer_array", "same_size", "positive_int", "nonnegative_int",
           "finite_scalar", "probability", "choice", "flag", "function", "executor", "as_rng",
           "params", "spd", "cache", "finite_result", "first_nonfinite", "Diverged", "check_step"]


def _got(x) -> str:
    """A short description of a bad value for an error message."""
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    text = repr(x)
    return text if len(text) <= 60 else f"a {type(x).__name__}"


def array(name: str, x, ndim: int | tuple[int, ...] | None = None, *,
          min_ndim: int | None = None, shape: tuple | None = None, allow_empty: bool = False,
          keep_float32: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 array after checking rank, shape and finiteness.

    ``ndim`` is an exact rank or a tuple of allowed ranks; ``shape`` is an expected
    shape whose ``None`` entries match anything (its length fixes the rank); empty arrays
    are refused unless ``allow_empty``.  Lists and integer arrays are converted; ``None``,
    booleans, strings and objects are refused.  ``keep_float32``: a float32 array stays
    float32 (the optimizers, so that a single-precision training run stays one).
    """
    if x is None or isinstance(x, (str, bytes, bool, np.bool_)) or getattr(x, "dtype", None) == bool:
        raise ValueError(f"{name} must be a numeric array; got {_got(x)}")
    try:
        keep = keep_float32 and getattr(x, "dtype", None) == np.float32
        a = np.asarray(x, dtype=np.float32 if keep else np.float64)
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
    if 0 in a.shape and not allow_empty:
        raise ValueError(f"{name} has a zero-size dimension; got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} has non-finite values: {_nonfinite_summary(a)}")
    return a


def _nonfinite_summary(a: np.ndarray) -> str:
    bad = ~np.isfinite(a)
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if a.ndim else ()
    return f"{int(bad.sum())} of {a.size} entries are nan or inf (first at index {first}: {a[first]}); shape {a.shape}"


def integer_array(name: str, x, *, shape: tuple | None = None, low: int | None = None,
                  high: int | None = None) -> np.ndarray:
    """An integer array (labels, class ids) of the given shape with ``low <= x < high``."""
    if x is None or isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be an integer array; got {_got(x)}")
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be an integer array; got {type(x).__name__}: {err}") from None
    if not np.issubdtype(a.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array; got dtype {a.dtype}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; got shape {a.shape}")
    too_low = a.size and low is not None and a.min() < low
    too_high = a.size and high is not None and a.max() >= high
    if too_low or too_high:
        want = f"lie in [{'-inf' if low is None else low}, {'inf' if high is None else high})"
        raise ValueError(f"{name} must {want}; got range [{a.min()}, {a.max()}]")
    return a


def same_size(what: str, **sizes: int) -> int:
    """Check that named sizes agree, e.g. ``same_size('tokens', Q=3, K=3)``."""
    values = set(sizes.values())
    if len(values) != 1:
        detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise ValueError(f"mismatched {what}: {detail}")
    return values.pop()


def _integer(name: str, n, least: int, what: str) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise ValueError(f"{name} must be {what}; got {_got(n)}")
    if n < least:
        raise ValueError(f"{name} must be {what}; got {n}")
    return int(n)


def positive_int(name: str, n) -> int:
    """Check that ``n`` is an integer >= 1 (bools, floats and strings are refused)."""
    return _integer(name, n, 1, "a positive integer")


def nonnegative_int(name: str, n) -> int:
    """Check that ``n`` is an integer >= 0."""
    return _integer(name, n, 0, "a non-negative integer")


def finite_scalar(name: str, x, *, positive: bool = False, nonnegative: bool = False,
                  below: float | None = None) -> float:
    """Check that ``x`` is a finite real number (optionally > 0, >= 0, or < ``below``)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a finite real number; got {_got(x)}")
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite real number; got {x}")
    if positive and x <= 0:
        raise ValueError(f"{name} must be > 0; got {x}")
    if nonnegative and x < 0:
        raise ValueError(f"{name} must be >= 0; got {x}")
    if below is not None and not x < below:
        raise ValueError(f"{name} must be < {below}; got {x}")
    return x


def probability(name: str, x) -> float:
    """A finite number in [0, 1]."""
    x = finite_scalar(name, x)
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1]; got {x}")
    return x


def choice(name: str, x, options) -> str:
    """One of ``options`` (compared with ``==``, so only hashable values are looked up)."""
    if not isinstance(x, str) or x not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {_got(x)}")
    return x


def flag(name: str, x) -> bool:
    """A ``bool`` (a string such as ``"no"`` would be truthy, so only bools are accepted)."""
    if not isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {_got(x)}")
    return bool(x)


def function(name: str, f, *, optional: bool = False):
    """A callable (or ``None`` where ``optional``)."""
    if f is None and optional:
        return None
    if not callable(f):
        raise ValueError(f"{name} must be callable{' or None' if optional else ''}; got {_got(f)}")
    return f


def executor(name: str, ex):
    """``None`` or an object with ``map`` and ``submit`` (a ``concurrent.futures.Executor``)."""
    if ex is not None and not (callable(getattr(ex, "map", None)) and callable(getattr(ex, "submit", None))):
        raise ValueError(f"{name} must be None or a concurrent.futures.Executor; got {_got(ex)}")
    return ex


def as_rng(rng, name: str = "rng") -> np.random.Generator:
    """Accept a ``np.random.Generator`` or a non-negative integer seed; nothing else."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise ValueError(f"{name} must be a numpy Generator or a non-negative integer seed; got {_got(rng)}")


def params(name: str, p, shapes: Mapping[str, tuple | None]) -> dict:
    """A dict holding (at least) the keys of ``shapes``, each a finite float64 array of the
    given shape (``None``: any shape; ``None`` entries inside a shape match anything).
    Returns a new dict with exactly those keys, converted."""
    if not isinstance(p, Mapping):
        raise ValueError(f"{name} must be a dict of arrays with keys {sorted(shapes)}; got {_got(p)}")
    missing = [k for k in shapes if k not in p]
    if missing:
        raise ValueError(f"{name} is missing {missing}; got keys {sorted(map(str, p))}")
    return {k: array(f"{name}[{k!r}]", p[k], shape=s) for k, s in shapes.items()}


def spd(name: str, M, d: int | None = None) -> np.ndarray:
    """A symmetric positive definite (d, d) matrix, e.g. a covariance."""
    M = array(name, M, shape=(d, d))
    if M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square; got shape {M.shape}")
    if not np.allclose(M, M.T, rtol=0, atol=1e-12 * np.abs(M).max()):
        raise ValueError(f"{name} must be symmetric; got shape {M.shape} with "
                         f"max |M - M^T| = {np.abs(M - M.T).max():.3g}")
    smallest = np.linalg.eigvalsh(M).min()
    if smallest <= 0:
        raise ValueError(f"{name} must be positive definite; got smallest eigenvalue {smallest:.3g}")
    return M


def cache(name: str, c, kind, made_by: str):
    """A cache as returned by ``made_by``: an instance of its named-tuple type ``kind`` (or of
    one of the types, given a tuple of them)."""
    if not isinstance(c, kind):
        kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ValueError(f"{name} must be the cache returned by {made_by} (a {kinds}); got {_got(c)}")
    return c


# --------------------------------------------------------------------------- results
def first_nonfinite(x, where: str = "result") -> str | None:
    """Where the first nan/inf float sits in a result (arrays, floats, tuples, lists,
    dicts, dataclasses); None if there is none."""
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "fc" and not np.isfinite(x).all():
            return where
    elif isinstance(x, (float, np.floating)):
        if not math.isfinite(x):
            return where
    elif isinstance(x, (tuple, list)):
        for i, v in enumerate(x):
            found = first_nonfinite(v, f"{where}[{i}]")
            if found:
                return found
    elif isinstance(x, Mapping):
        for k, v in x.items():
            found = first_nonfinite(v, f"{where}[{k!r}]")
            if found:
                return found
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            found = first_nonfinite(getattr(x, f.name), f"{where}.{f.name}")
            if found:
                return found
    return None


def finite_result(func=None, *, with_cache: bool = False):
    """Decorator: the function's result must be finite in float64, else ``ValueError``.

    Inputs are finite once validated, so a nan or inf in the result means float64 ran out
    of range on the way (huge inputs: overflowing scores, powers, products).  With
    ``with_cache`` the function returns ``(out, cache)`` and only ``out`` is checked.
    """
    if func is None:
        return functools.partial(finite_result, with_cache=with_cache)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            result = func(*args, **kwargs)
        where = first_nonfinite(result[0] if with_cache else result)
        if where:
            raise ValueError(f"{func.__name__}: {where} is not finite in float64 (overflow): "
                             "an input is too large for this computation")
        return result
    return wrapper


class Diverged(FloatingPointError):
    """A training run's loss (or parameters) stopped being finite: the message names the
    step and the learning rate.  No trajectory with NaN is returned as a result."""


def check_step(loss: float, grads: dict, step: int, lr: float) -> float:
    """Raise :class:`Diverged` when the loss or a gradient of training step ``step`` is
    not finite (one pass over the gradients: they are the size of the parameters)."""
    where = "the loss" if not math.isfinite(loss) else first_nonfinite(grads, "grads")
    if where:
        raise Diverged(f"training diverged: {where} is not finite at step {step} (loss {loss:.4g}, "
                       f"learning rate {lr:g}); lower the learning rate or the input scale")
    return loss
