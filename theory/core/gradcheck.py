"""Finite-difference gradient checks for hand-written backward passes.

A teacher checks a student's backward pass with one call, for a loss::

    from theory.gradcheck import check_gradients
    errors = check_gradients(loss_fn, params, grads)     # raises if any error > tol

or for a layer — a ``forward``/``backward`` pair, with no loss to write::

    from theory.gradcheck import check_layer
    errors = check_layer(softmax_attention_forward, softmax_attention_backward,
                         {"Q": Q, "K": K, "V": V})

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

from ._validate import array, as_rng, finite_scalar, function, positive_int

__all__ = ["norm", "rel_error", "numerical_gradient", "directional_errors", "check_gradients", "check_layer",
           "low_precision", "STEP_FACTORS"]

STEP_FACTORS = (100.0, 10.0, 0.1, 0.01, 0.001)   # the other steps a failed check tries, times eps

Params = Mapping[str, np.ndarray]


def norm(x) -> float:
    """Euclidean norm of all entries, computed without overflow (``||x|| = m ||x / m||``,
    m = max abs(x)), so that entries of 1e200 give 1e200·√n and not inf."""
    return _norm(array("x", x, allow_empty=True))


def _norm(x: np.ndarray) -> float:
    """Unchecked kernel of :func:`norm`."""
    m = float(np.abs(x).max()) if x.size else 0.0
    return 0.0 if m == 0.0 else m * float(np.linalg.norm(x / m))


def rel_error(a, b, *, scale: float = 0.0) -> float:
    """Relative error in norm, ``||a - b|| / max(||a||, ||b||, scale)``; 0.0 when all are 0.

    ``scale`` is the size of the operands that ``a`` and ``b`` were computed from.  Pass it
    when the compared quantity cancels: ``y - ΔW x`` of size 1e-5 formed from terms of
    size 2 carries a round-off of 1e-16 · 2, which is tiny against the operands but
    1e-11 *relative to the result*.  Measured against ``scale`` it is round-off again.

    A nan or inf in ``a`` or ``b`` is never a small error: it raises ``ValueError``
    saying which argument holds it and where (so a check cannot pass on NaN).
    """
    a = array("a (first argument of rel_error)", a, allow_empty=True)
    b = array("b (second argument of rel_error)", b, allow_empty=True)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes; got {a.shape} and {b.shape}")
    scale = finite_scalar("scale", scale, nonnegative=True)
    denom = max(_norm(a), _norm(b), scale)
    return 0.0 if denom == 0.0 else _norm(a / denom - b / denom)   # scaled first: no overflow


def _copy_params(params: Params) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping) or not params:
        raise ValueError(f"params must be a non-empty dict of arrays; got {type(params).__name__}")
    return {k: array(f"params[{k!r}]", v).copy() for k, v in params.items()}


def _scalar(f: Callable, p: dict, at: str) -> float:
    """``f(p)`` as a float; a non-scalar or non-finite value raises, saying where."""
    v = f(p)
    if np.ndim(v) != 0 or isinstance(v, (str, bytes)):
        raise ValueError(f"f must return a scalar; got {v!r} {at}")
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise ValueError(f"f must return a real scalar; got {v!r} {at}") from None
    if not np.isfinite(v):
        raise ValueError(f"f must return a finite scalar; got {v} {at}")
    return v


def numerical_gradient(f: Callable[[dict], float], params: Params, eps: float = 1e-5) -> dict:
    """Central differences ``dL/dθ_j ≈ (L(θ + ε e_j) - L(θ - ε e_j)) / (2ε)`` for every entry.

    Costs two evaluations of ``f`` per parameter entry; ``params`` is not modified.
    A non-finite value of ``f``, or a difference that overflows, raises ``ValueError``
    naming the entry.
    """
    f = function("f", f)
    eps = finite_scalar("eps", eps, positive=True)
    p = _copy_params(params)
    grads = {}
    for name, theta in p.items():
        g = np.empty_like(theta)
        flat, gflat = theta.reshape(-1), g.reshape(-1)     # views into theta and g
        for j in range(flat.size):
            old = flat[j]
            at = f"at params[{name!r}] entry {j} {{}} eps"
            flat[j] = old + eps
            up = _scalar(f, p, at.format("+"))
            flat[j] = old - eps
            down = _scalar(f, p, at.format("-"))
            flat[j] = old
            gflat[j] = (up - down) / (2 * eps)
            if not np.isfinite(gflat[j]):
                raise ValueError(f"the central difference for params[{name!r}] entry {j} overflows "
                                 f"float64 (f = {up:.3g} and {down:.3g})")
        grads[name] = g
    return grads


def directional_errors(f: Callable[[dict], float], params: Params, grads: Params, *,
                       n_directions: int = 8, eps: float = 1e-5, rng=0) -> np.ndarray:
    """Relative errors of directional derivatives along random unit directions ``u``.

    For each ``u`` (over all parameters at once), compares the central difference
    ``(L(θ + εu) - L(θ - εu)) / (2ε)`` with ``<grads, u>``.  The error is relative to
    ``max(||grads||, |numeric|)``, the largest any directional derivative can be.
    """
    f = function("f", f)
    n_directions = positive_int("n_directions", n_directions)
    eps = finite_scalar("eps", eps, positive=True)
    rng = as_rng(rng)
    p = _copy_params(params)
    g = _matching_grads(p, grads)
    gnorm = _norm(np.concatenate([v.ravel() for v in g.values()]))
    errs = np.empty(n_directions)
    for k in range(n_directions):
        u = {name: rng.standard_normal(v.shape) for name, v in p.items()}
        unorm = _norm(np.concatenate([v.ravel() for v in u.values()]))
        u = {name: v / unorm for name, v in u.items()}
        up = _scalar(f, {name: p[name] + eps * u[name] for name in p}, f"along direction {k}, + eps")
        down = _scalar(f, {name: p[name] - eps * u[name] for name in p}, f"along direction {k}, - eps")
        numeric = (up - down) / (2 * eps)
        if not np.isfinite(numeric):
            raise ValueError(f"the central difference along direction {k} overflows float64")
        scale = max(gnorm, abs(numeric))
        if scale == 0.0:
            errs[k] = 0.0
            continue
        analytic = sum(float(np.sum((g[name] / scale) * u[name])) for name in p)   # <g, u> / scale
        errs[k] = abs(numeric / scale - analytic)
    return errs


def _matching_grads(p: dict, grads: Params) -> dict:
    if not isinstance(grads, Mapping) or set(grads) != set(p):
        got = sorted(grads) if isinstance(grads, Mapping) else type(grads).__name__
        raise ValueError(f"grads must be a dict with the keys of params {sorted(p)}; got {got}")
    return {k: array(f"grads[{k!r}]", grads[k], shape=p[k].shape) for k in p}


def check_gradients(f: Callable[[dict], float], params: Params, grads: Params, *,
                    tol: float = 1e-7, eps: float = 1e-5, max_entries: int = 2000,
                    n_directions: int = 16, rng=0) -> dict[str, float]:
    """Check analytic ``grads`` of the scalar ``f`` at ``params``; return errors per key.

    Parameters with at most ``max_entries`` entries are compared entry by entry
    (relative error in norm against :func:`numerical_gradient`); larger ones by
    ``n_directions`` random directional derivatives (worst error).  Raises
    ``AssertionError`` naming the worst parameter when an error exceeds ``tol``;
    a non-finite error is a failure too, never a pass.  A gradient of lower precision
    than float64 fails too, with the hint of :func:`low_precision` (its round-off alone is
    as large as ``tol``, so a right answer could not be told from a wrong one) — the rule
    the coursework grader applies.

    The error is relative to ``max(||analytic||, ||numeric||, floor / tol)``, where
    ``floor = 4 u |f| sqrt(n) / eps`` (``u`` = 2.2e-16, n entries) estimates the
    round-off noise of the central differences themselves: a gradient far below ``|f|``
    cannot be resolved to ``tol`` relative by any finite difference, so a difference at
    the noise floor counts as an error of ``tol``, and anything larger is still caught.

    When the check fails, the message says which step it used and the error at the
    steps ``eps`` × :data:`STEP_FACTORS`: where another step passes, the finite
    difference (truncation at a large step, round-off at a small one), not necessarily
    the gradient, is what is off — a function that curves on a scale near ``eps`` (a
    layer norm of nearly constant rows) needs a smaller step.
    """
    f = function("f", f)
    tol = finite_scalar("tol", tol, positive=True)
    eps = finite_scalar("eps", eps, positive=True)
    max_entries = positive_int("max_entries", max_entries)
    n_directions = positive_int("n_directions", n_directions)
    rng = as_rng(rng)
    p = _copy_params(params)
    g = _matching_grads(p, grads)
    f0 = _scalar(f, p, "at params")
    seed = int(rng.integers(2 ** 32))                  # the same directions at every step tried

    def error(name: str, h: float) -> float:
        others = {k: v for k, v in p.items() if k != name}

        def f_one(q):
            return f({**others, name: q[name]})

        if p[name].size <= max_entries:
            num = numerical_gradient(f_one, {name: p[name]}, eps=h)[name]
            floor = 4 * np.finfo(float).eps * abs(f0) * np.sqrt(num.size) / h
            return rel_error(g[name], num, scale=floor / tol)
        return float(directional_errors(f_one, {name: p[name]}, {name: g[name]}, n_directions=n_directions,
                                        eps=h, rng=seed).max())

    errors = {name: error(name, eps) for name in p}
    worst = max(errors, key=lambda k: np.inf if np.isnan(errors[k]) else errors[k])
    low = [hint for k, v in grads.items() if (hint := low_precision(f"grads[{k!r}]", v))]
    if low:
        raise AssertionError(f"gradient check failed: {low[0]} (relative errors at eps = {eps:g}: {errors})")
    if not errors[worst] <= tol:                       # also true for nan
        raise AssertionError(f"gradient check failed: relative error {errors[worst]:.3e} for "
                             f"{worst!r} exceeds tol {tol:.1e} with the finite-difference step eps = {eps:g} "
                             f"(all errors: {errors})" + _other_steps(error, worst, eps, tol)
                             + _precision_hint(params))
    return errors


def _other_steps(error: Callable, name: str, eps: float, tol: float) -> str:
    """The errors of ``name`` at the other steps, and what they say about the verdict."""
    tried = []
    for factor in STEP_FACTORS:
        h = eps * factor
        try:
            e = error(name, h)
        except ValueError:                               # the step left the function's domain, or overflowed
            continue
        tried.append((h, e))
    if not tried:
        return ""
    listed = ", ".join(f"eps = {h:g}: {e:.1e} ({'passes' if e <= tol else 'fails'})" for h, e in tried)
    passing = [h for h, e in tried if e <= tol]
    if passing:
        verdict = (f"the verdict depends on the step, so the finite difference, not necessarily the gradient, is "
                   f"off at eps = {eps:g}: check again with eps={passing[0]:g}, or at a point where the function "
                   "curves less")
    else:
        verdict = "it fails at every step tried: the gradient itself is off"
    return f". Other steps: {listed}; {verdict}"


def low_precision(label: str, x) -> str | None:
    """The hint for an array of lower precision than float64 (None for float64 and for
    non-float arrays): its round-off alone (float32: about 1e-7 relative) is as large as
    the tolerance of a gradient check, so a right answer cannot pass one.  The coursework
    grader and :func:`check_gradients` fail such an answer with this sentence."""
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string naming the array; got {label!r:.40}")
    dtype = np.asarray(x).dtype
    if not np.issubdtype(dtype, np.floating) or np.finfo(dtype).eps <= np.finfo(np.float64).eps:
        return None
    return (f"{label} is {dtype}: compute in float64 ({dtype} round-off alone is about "
            f"{np.finfo(dtype).eps:.0e} relative, so a right answer cannot be told from a wrong one; "
            "x.astype(np.float64))")


def _precision_hint(params) -> str:
    """A hint when a parameter is of lower precision than float64."""
    low = [hint for k, v in params.items() if (hint := low_precision(f"params[{k!r}]", v))]
    return f". Hint: {low[0]}" if low else ""


def check_layer(forward: Callable, backward: Callable, inputs: Params, *, tol: float = 1e-7, eps: float = 1e-5,
                rng=0) -> dict[str, float]:
    """Check a layer's hand-written ``backward`` against finite differences of ``forward``.

    ``forward(**inputs) -> (out, cache)``; ``backward(dout, cache)`` returns the gradient
    of every input: a dict keyed like ``inputs``, or (several inputs) a tuple in the
    order of ``inputs``, or (one input) an array.  The check builds the scalar
    ``L = Σ R ⊙ out`` with a fixed random ``R`` of out's shape — so ``dL/dout = R`` and the
    gradients ``backward(R, cache)`` must equal the finite differences of ``L`` — and hands
    it to :func:`check_gradients` (same ``tol``, ``eps``, report and ``AssertionError``).
    Returns the relative error per input.

    Inputs must be float64: a central difference of a float32 forward resolves a
    gradient to about 1e-3 at best, so a float32 check could not tell a right answer from
    a slightly wrong one; ``ValueError`` says so (cast with ``x.astype(np.float64)``).
    """
    forward, backward = function("forward", forward), function("backward", backward)
    if not isinstance(inputs, Mapping) or not inputs:
        raise ValueError(f"inputs must be a non-empty dict of the forward's arrays; got {type(inputs).__name__}")
    for k, v in inputs.items():
        dtype = getattr(v, "dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating) and dtype != np.float64:
            raise ValueError(f"inputs[{k!r}] is {dtype}: check_layer needs float64 inputs. Central differences "
                             f"of a {dtype} forward resolve a gradient only to about 1e-3, too coarse to tell a "
                             "right backward from a wrong one; pass x.astype(np.float64)")
    x = _copy_params(inputs)
    out, cache = forward(**x)
    out = array("forward(...)[0]", out)
    R = as_rng(rng).standard_normal(out.shape)            # dL/dout for L = Σ R ⊙ out

    def loss(p):
        return float(np.sum(R * array("forward(...)[0]", forward(**p)[0], shape=out.shape)))

    grads = backward(R, cache)
    names = list(x)
    if isinstance(grads, Mapping):
        got = dict(grads)
    elif isinstance(grads, (tuple, list)) and len(grads) == len(names):
        got = dict(zip(names, grads))
    elif len(names) == 1 and not isinstance(grads, (tuple, list, Mapping)):
        got = {names[0]: grads}
    else:
        raise ValueError(f"backward must return a dict keyed like inputs {names}, a tuple of {len(names)} "
                         f"gradients in that order, or one array for one input; got {type(grads).__name__}"
                         + (f" of length {len(grads)}" if isinstance(grads, (tuple, list)) else ""))
    return check_gradients(loss, x, got, tol=tol, eps=eps, rng=rng)
