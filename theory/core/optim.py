"""Optimizers over ``dict[str, np.ndarray]`` parameters.

Each optimizer keeps its own state and has ``step(params, grads) -> new params``;
the arrays passed in are never modified.  One optimizer serves every model.

Every step checks its inputs (the same keys and shapes in ``params`` and ``grads``, all
finite) and its result: an update that leaves float64's range raises
:class:`theory.core.Diverged` (a ``FloatingPointError``) naming the optimizer's step
count and learning rate.
"""
from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from ._validate import Diverged, array, finite_scalar, first_nonfinite, nonnegative_int, positive_int
from .gradcheck import _norm

__all__ = ["SGD", "Momentum", "Adam", "clip_by_global_norm", "clip_by_value", "global_norm", "levenberg_marquardt",
           "warmup_cosine"]


def warmup_cosine(step: int, peak: float, warmup: int, total: int, end: float = 0.0, start: float = 0.0) -> float:
    """The learning rate at ``step`` (0, 1, …) of a linear warm-up from ``start`` to
    ``peak`` over ``warmup`` steps, then a cosine decay to ``end`` over the remaining
    ``total − warmup`` steps (``total`` includes the warm-up; held at ``end`` after it):
    optax's ``warmup_cosine_decay_schedule``, which the mesa paper's code trains with::

        lr = start + (peak − start) · step / warmup                            step < warmup
        lr = end + (peak − end) · ½ (1 + cos(π · min(step − warmup, n) / n))   n = total − warmup
    """
    step, warmup, total = nonnegative_int("step", step), nonnegative_int("warmup", warmup), positive_int("total", total)
    if warmup >= total:
        raise ValueError(f"warmup must be < total; got warmup {warmup}, total {total}")
    peak = finite_scalar("peak", peak, positive=True)
    end, start = finite_scalar("end", end, nonnegative=True), finite_scalar("start", start, nonnegative=True)
    if step < warmup:
        return start + (peak - start) * step / warmup
    n = total - warmup
    return end + (peak - end) * 0.5 * (1.0 + math.cos(math.pi * min(step - warmup, n) / n))


def _arrays(name: str, d) -> dict:
    if not isinstance(d, Mapping) or not d:
        raise ValueError(f"{name} must be a non-empty dict of arrays; got {type(d).__name__}")
    return {k: array(f"{name}[{k!r}]", v, keep_float32=True) for k, v in d.items()}


def _pairs(params: Mapping, grads: Mapping):
    """``(key, param, grad)`` for every key, after checking keys, shapes and finiteness."""
    p = _arrays("params", params)
    if not isinstance(grads, Mapping) or set(grads) != set(p):
        got = sorted(grads) if isinstance(grads, Mapping) else type(grads).__name__
        raise ValueError(f"grads must be a dict with the keys of params {sorted(p)}; got {got}")
    return [(k, p[k], array(f"grads[{k!r}]", grads[k], shape=p[k].shape, keep_float32=True)) for k in p]


def global_norm(grads: Mapping) -> float:
    """``sqrt(sum_k ||g_k||^2)`` over every array in the dict (without overflow)."""
    g = _arrays("grads", grads)
    return _norm(np.array([_norm(v) for v in g.values()]))


def clip_by_global_norm(grads: Mapping, max_norm: float) -> dict:
    """Scale all gradients by ``min(1, max_norm / global_norm)`` (as optax does).

    A nan or inf gradient raises ``ValueError`` naming it (clipping would spread it to
    every gradient)."""
    max_norm = finite_scalar("max_norm", max_norm, positive=True)
    g = _arrays("grads", grads)
    n = _norm(np.array([_norm(v) for v in g.values()]))
    c = 1.0 if n <= max_norm else max_norm / n
    return {k: c * v for k, v in g.items()}


def clip_by_value(grads: Mapping, max_value: float) -> dict:
    """Clip every gradient entry to ``[-max_value, max_value]`` (optax's ``clip``, which the
    mesa paper's code chains before AdamW; not the global-norm clip).  A nan or inf
    gradient raises ``ValueError`` naming it (clipping would hide it)."""
    max_value = finite_scalar("max_value", max_value, positive=True)
    return {k: np.clip(v, -max_value, max_value) for k, v in _arrays("grads", grads).items()}


class _Optimizer:
    """Step counting and the finiteness check shared by the optimizers."""
    lr: float
    t: int = 0

    def _checked(self, new: dict) -> dict:
        where = first_nonfinite(new, "params")
        if where:
            raise Diverged(f"{type(self).__name__} step {self.t} (learning rate {self.lr:g}) made {where} "
                           "non-finite: the update left float64's range; lower the learning rate")
        return new

    def _state(self, store: dict, k: str, p: np.ndarray) -> np.ndarray:
        """The state kept for ``params[k]`` (zeros at first); a changed shape is an error."""
        s = store.get(k)
        if s is None:
            return np.zeros_like(p)
        if s.shape != p.shape:
            raise ValueError(f"params[{k!r}] has shape {p.shape} but had {s.shape} at the previous step")
        return s


class SGD(_Optimizer):
    """``θ ← (1 - weight_decay) θ - lr g`` (decoupled weight decay, as in Reddy 2024's code)."""

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = finite_scalar("lr", lr, positive=True)
        self.weight_decay = finite_scalar("weight_decay", weight_decay, nonnegative=True, below=1.0)
        self.t = 0

    def step(self, params: Mapping, grads: Mapping) -> dict:
        pairs = _pairs(params, grads)
        self.t += 1
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported by _checked
            return self._checked({k: (1.0 - self.weight_decay) * p - self.lr * g for k, p, g in pairs})


class Momentum(_Optimizer):
    """Heavy-ball momentum: ``v ← β v - lr g``, ``θ ← θ + v``, with ``v_0 = 0``."""

    def __init__(self, lr: float, beta: float = 0.9):
        self.lr = finite_scalar("lr", lr, positive=True)
        self.beta = finite_scalar("beta", beta, nonnegative=True, below=1.0)
        self.velocity: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: Mapping, grads: Mapping) -> dict:
        pairs = _pairs(params, grads)
        self.t += 1
        new = {}
        for k, p, g in pairs:
            v = self.beta * self._state(self.velocity, k, p) - self.lr * g
            self.velocity[k] = v
            new[k] = p + v
        return self._checked(new)


class Adam(_Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction:
    ``m ← β1 m + (1-β1) g``, ``v ← β2 v + (1-β2) g²``,
    ``θ ← θ - lr (m̂ / (sqrt(v̂) + eps) + wd θ)`` with ``m̂ = m / (1-β1^t)``, ``v̂ = v / (1-β2^t)``;
    ``weight_decay`` wd > 0 is decoupled weight decay (AdamW, Loshchilov & Hutter 2019, in
    optax's ``adamw`` form, which the mesa paper's code uses)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.weight_decay = finite_scalar("weight_decay", weight_decay, nonnegative=True)
        self.lr = finite_scalar("lr", lr, positive=True)
        self.beta1 = finite_scalar("beta1", beta1, nonnegative=True, below=1.0)
        self.beta2 = finite_scalar("beta2", beta2, nonnegative=True, below=1.0)
        self.eps = finite_scalar("eps", eps, positive=True)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def step(self, params: Mapping, grads: Mapping) -> dict:
        pairs = _pairs(params, grads)
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        new = {}
        for k, p, g in pairs:
            m = self.beta1 * self._state(self.m, k, p) + (1.0 - self.beta1) * g
            with np.errstate(over="ignore"):                # an overflow is reported just below
                v = self.beta2 * self._state(self.v, k, p) + (1.0 - self.beta2) * g * g
            if not np.isfinite(v).all():
                raise Diverged(f"Adam step {self.t} (learning rate {self.lr:g}): grads[{k!r}] is too large, "
                               f"its square overflows float64 (max |g| = {np.abs(g).max():.3g})")
            self.m[k], self.v[k] = m, v
            new[k] = p - self.lr * ((m / c1) / (np.sqrt(v / c2) + self.eps) + self.weight_decay * p)
        return self._checked(new)


def levenberg_marquardt(loss_grad, x, *, gtol: float = 1e-8, max_iter: int = 200, h: float = 1e-5) -> tuple:
    """Minimise a smooth function of a few parameters to a stationary point by damped Newton
    steps (Levenberg–Marquardt), from ``x`` (1-d).  ``loss_grad(x) -> (loss, gradient)``
    (the gradient exact, hand-written); the Hessian is the central difference of that
    gradient, column j with step ``h · max(1, |x_j|)``, symmetrised.  Each iteration solves

        (H + μ I) δ = −g,

    takes ``x + δ`` if it lowers the loss (then μ ← μ/3) and otherwise raises μ ← 4μ and
    solves again.  Stops when ``max|g| ≤ gtol · loss`` (a relative bar: the losses here are
    means of squared errors), or when no step lowers the loss any more (round-off) with
    ``max|g| ≤ 100 · gtol · loss``; anything else after ``max_iter`` iterations is a
    RuntimeError naming the gradient left.  Returns ``(x, loss, gradient, iterations)``.
    Cost: ``2·len(x) + 1`` gradient calls per iteration — for a handful of parameters."""
    x = np.array(array("x", x, ndim=1), dtype=np.float64)
    gtol, h = finite_scalar("gtol", gtol, positive=True), finite_scalar("h", h, positive=True)
    max_iter = positive_int("max_iter", max_iter)
    if not callable(loss_grad):
        raise ValueError(f"loss_grad must be a callable x -> (loss, gradient); got {type(loss_grad).__name__}")
    loss, g = loss_grad(x)
    k, mu = len(x), 1e-3
    for it in range(max_iter + 1):
        if np.abs(g).max() <= gtol * loss:
            return x, loss, g, it
        if it == max_iter:
            break
        H = np.empty((k, k))
        for j in range(k):                       # k ≤ a handful: the loop is over parameters, not data
            step = h * max(1.0, abs(x[j]))
            e = np.zeros(k)
            e[j] = step
            H[:, j] = (loss_grad(x + e)[1] - loss_grad(x - e)[1]) / (2 * step)
        H = (H + H.T) / 2
        while mu < 1e12:
            dx = np.linalg.solve(H + mu * np.eye(k), -g)
            new, g_new = loss_grad(x + dx)
            if new < loss:
                x, loss, g, mu = x + dx, new, g_new, max(mu / 3, 1e-12)
                break
            mu *= 4
        else:                                    # no step lowers the loss: round-off
            if np.abs(g).max() <= 100 * gtol * loss:
                return x, loss, g, it + 1
            raise RuntimeError(f"levenberg_marquardt: no step lowers the loss {loss:.6g} but max|g| = "
                               f"{np.abs(g).max():.3g} (> {100 * gtol:g} · loss): not a stationary point")
    raise RuntimeError(f"levenberg_marquardt: max|g| = {np.abs(g).max():.3g} after {max_iter} iterations "
                       f"(bar {gtol:g} · loss {loss:.6g})")
