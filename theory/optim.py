"""Optimizers over ``dict[str, np.ndarray]`` parameters.

Each optimizer keeps its own state and has ``step(params, grads) -> new params``;
the arrays passed in are never modified.  One optimizer serves every model.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from ._validate import array, finite_scalar

__all__ = ["SGD", "Momentum", "Adam", "clip_by_global_norm", "global_norm"]


def _pairs(params: Mapping, grads: Mapping):
    if set(params) != set(grads):
        raise ValueError(f"grads must have the keys of params {sorted(params)}; got {sorted(grads)}")
    for k in params:
        p = np.asarray(params[k], dtype=np.float64)
        g = array(f"grads[{k!r}]", grads[k], shape=p.shape)
        yield k, p, g


def global_norm(grads: Mapping) -> float:
    """``sqrt(sum_k ||g_k||^2)`` over every array in the dict."""
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads.values())))


def clip_by_global_norm(grads: Mapping, max_norm: float) -> dict:
    """Scale all gradients by ``min(1, max_norm / global_norm)`` (as optax does)."""
    max_norm = finite_scalar("max_norm", max_norm, positive=True)
    n = global_norm(grads)
    c = 1.0 if n <= max_norm else max_norm / n
    return {k: c * np.asarray(g, dtype=np.float64) for k, g in grads.items()}


class SGD:
    """``θ ← (1 - weight_decay) θ - lr g`` (decoupled weight decay, as in Reddy 2024's code)."""

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = finite_scalar("lr", lr, positive=True)
        self.weight_decay = finite_scalar("weight_decay", weight_decay, nonnegative=True, below=1.0)

    def step(self, params: Mapping, grads: Mapping) -> dict:
        return {k: (1.0 - self.weight_decay) * p - self.lr * g for k, p, g in _pairs(params, grads)}


class Momentum:
    """Heavy-ball momentum: ``v ← β v - lr g``, ``θ ← θ + v``, with ``v_0 = 0``."""

    def __init__(self, lr: float, beta: float = 0.9):
        self.lr = finite_scalar("lr", lr, positive=True)
        self.beta = finite_scalar("beta", beta, nonnegative=True, below=1.0)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: Mapping, grads: Mapping) -> dict:
        new = {}
        for k, p, g in _pairs(params, grads):
            v = self.beta * self.velocity.get(k, np.zeros_like(p)) - self.lr * g
            self.velocity[k] = v
            new[k] = p + v
        return new


class Adam:
    """Adam (Kingma & Ba 2015) with bias correction:
    ``m ← β1 m + (1-β1) g``, ``v ← β2 v + (1-β2) g²``,
    ``θ ← θ - lr m̂ / (sqrt(v̂) + eps)`` with ``m̂ = m / (1-β1^t)``, ``v̂ = v / (1-β2^t)``."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr = finite_scalar("lr", lr, positive=True)
        self.beta1 = finite_scalar("beta1", beta1, nonnegative=True, below=1.0)
        self.beta2 = finite_scalar("beta2", beta2, nonnegative=True, below=1.0)
        self.eps = finite_scalar("eps", eps, positive=True)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def step(self, params: Mapping, grads: Mapping) -> dict:
        self.t += 1
        c1 = 1.0 - self.beta1 ** self.t
        c2 = 1.0 - self.beta2 ** self.t
        new = {}
        for k, p, g in _pairs(params, grads):
            m = self.beta1 * self.m.get(k, 0.0) + (1.0 - self.beta1) * g
            v = self.beta2 * self.v.get(k, 0.0) + (1.0 - self.beta2) * g * g
            self.m[k], self.v[k] = m, v
            new[k] = p - self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return new
