"""Reddy 2024 (ICLR), "The mechanistic basis of data dependence and abrupt learning in an
in-context classification task" (arXiv 2312.03002): the three-parameter landscape.

**The form implemented.**  The paper's phenomenological model (Sec. 5) tracks three nested
logits: β, the first layer's previous-token attention; α, the second layer's attention
from the target to the matching label; ξ, the alignment of the classifier's readout
with the label vectors.  The paper's printed equation could not be read here, so we
implement the working form of our issue, which has the properties the paper states
(each is proved in ``proofs/induction_head.py`` and tested)::

    y = σ(β)                                                    first-layer attention
    w = e^{α y} / (e^{α y} + N - 1)                             target → matching label
    p = e^{ξ w} / (e^{ξ w} + (N-1) e^{ξ (1-w)/(N-1)} + L - N)   probability of the right label
    loss = -log p

At the origin only ξ has a gradient, ``∂loss/∂ξ = 1/L - 1/N`` (negative, so ξ grows,
when L > N; zero when L = N, so GD never leaves the origin); while ξ grows, p → 1/N (a context label picked at random);
α's gradient is proportional to ξ and β's to α ξ, so they take off one after the other
and the loss falls off a cliff.

Everything is vectorised over leading axes: ``theta`` has shape (..., 3) = (β, α, ξ).
The full network of the paper is in :mod:`theory.induction.network`; the training runs,
sweeps and the landscape table in :mod:`theory.induction.training`; the check of the
gradient against the sympy derivation in :mod:`theory.claims`.
"""
from __future__ import annotations

from typing import NamedTuple

import math
from dataclasses import dataclass

import numpy as np

from ..core import nn
from ..core._validate import Diverged, array, cache as _cache, finite_result, finite_scalar, flag, positive_int

__all__ = ["ThreeParamCache", "three_param_forward", "three_param_backward", "three_param_loss",
           "origin_gradient", "Trajectory", "gradient_descent", "plateau_table"]


def _sizes(N, L):
    N = positive_int("N", N)
    L = positive_int("L", L)
    if L < N:
        raise ValueError(f"L (labels) must be >= N (context pairs); got L = {L}, N = {N}")
    return N, L


@finite_result(with_cache=True)
def three_param_forward(theta, N: int, L: int):
    """Loss of the three-parameter model for theta (..., 3) = (β, α, ξ); returns (loss, cache).

    Computed stably as ``loss = -a1 + logsumexp(a1, a2, a3)`` with
    ``a1 = ξ w``, ``a2 = log(N-1) + ξ (1-w)/(N-1)``, ``a3 = log(L-N)`` (a term is left out
    when its count N-1 or L-N is zero).
    """
    N, L = _sizes(N, L)
    theta = array("theta", theta, min_ndim=1)
    if theta.shape[-1] != 3:
        raise ValueError(f"theta must have shape (..., 3) = (beta, alpha, xi); got shape {theta.shape}")
    return _forward(theta, N, L)


class ThreeParamCache(NamedTuple):
    """What :func:`three_param_backward` needs."""
    N: int
    L: int
    y: np.ndarray               # σ(β)
    w: np.ndarray               # the right label's attention weight
    xi: np.ndarray
    alpha: np.ndarray
    pi: np.ndarray              # (..., groups) the softmax over the label groups


def _forward(theta, N, L):
    """Unchecked kernel of :func:`three_param_forward`."""
    beta, alpha, xi = theta[..., 0], theta[..., 1], theta[..., 2]
    y = 1.0 / (1.0 + np.exp(-beta))                        # σ(β)
    if N > 1:
        w = 1.0 / (1.0 + (N - 1) * np.exp(-alpha * y))     # e^{αy} / (e^{αy} + N - 1)
    else:
        w = np.ones_like(y)
    a = [xi * w]                                           # the right label's logit
    if N > 1:
        a.append(np.log(N - 1) + xi * (1.0 - w) / (N - 1))  # the other N-1 context labels
    if L > N:
        a.append(np.full_like(xi, np.log(L - N)))          # the L-N labels not in context
    a = np.stack(a, axis=-1)                               # (..., 1..3)
    lse = nn._logsumexp(a)[..., 0]
    pi = np.exp(a - lse[..., None])                        # softmax over the three groups
    loss = lse - a[..., 0]                                 # -log p
    return loss, ThreeParamCache(N, L, y, w, xi, alpha, pi)


@finite_result
def three_param_backward(dloss, cache):
    """Hand-written gradient of :func:`three_param_forward` w.r.t. (β, α, ξ): (..., 3).

    With π the softmax over (a1, a2, a3) and ``π2 = 0`` when N = 1:
    ``∂ℓ/∂ξ = (π1 - 1) w + π2 (1-w)/(N-1)``, ``∂ℓ/∂w = (π1 - 1) ξ - π2 ξ/(N-1)``,
    ``∂w/∂(αy) = w (1-w)``, ``∂ℓ/∂α = ∂ℓ/∂w · w(1-w) · y``,
    ``∂ℓ/∂β = ∂ℓ/∂w · w(1-w) · α · y(1-y)``.
    """
    N, L, y, w, xi, alpha, pi = _cache("cache", cache, ThreeParamCache, "three_param_forward")
    dloss = array("dloss", dloss, shape=y.shape) if y.ndim else array("dloss", dloss, ndim=0)
    return _backward(dloss, cache)


def _backward(dloss, cache):
    """Unchecked kernel of :func:`three_param_backward`."""
    N, L, y, w, xi, alpha, pi = cache
    p1 = pi[..., 0]
    p2 = pi[..., 1] if N > 1 else np.zeros_like(p1)
    inv = 1.0 / (N - 1) if N > 1 else 0.0
    d_xi = (p1 - 1.0) * w + p2 * (1.0 - w) * inv
    d_w = (p1 - 1.0) * xi - p2 * xi * inv
    d_ay = d_w * w * (1.0 - w)                             # through w = σ(αy - log(N-1))
    d_alpha = d_ay * y
    d_beta = d_ay * alpha * y * (1.0 - y)
    return np.asarray(dloss)[..., None] * np.stack([d_beta, d_alpha, d_xi], axis=-1)


@finite_result
def three_param_loss(theta, N: int, L: int):
    """``(loss, gradient)`` of the three-parameter model."""
    loss, cache = three_param_forward(theta, N, L)
    return loss, three_param_backward(np.ones_like(loss), cache)


def origin_gradient(N: int, L: int) -> np.ndarray:
    """Closed form at the origin: ``(∂/∂β, ∂/∂α, ∂/∂ξ) = (0, 0, 1/L - 1/N)``."""
    N, L = _sizes(N, L)
    return np.array([0.0, 0.0, 1.0 / L - 1.0 / N])


@dataclass
class Trajectory:
    """Gradient descent on the three-parameter model (one row per recorded step)."""
    steps: np.ndarray              # (T,) step numbers
    theta: np.ndarray              # (T, 3) (β, α, ξ)
    loss: np.ndarray               # (T,)
    p: np.ndarray                  # (T,) probability of the right label = accuracy proxy
    jump_step: int | None          # first step with p >= (1 + 1/N)/2, halfway from the
                                   # random-context-label level 1/N to 1 (None: not in the run)


def gradient_descent(N: int, L: int, *, lr: float = 0.1, steps: int = 20000,
                     theta0=(0.0, 0.0, 0.0), record_every: int = 10,
                     stop_at_jump: bool = False) -> Trajectory:
    """Plain GD ``θ ← θ - lr ∇loss`` from ``theta0`` (the origin by default); the loop is
    over time only.  ``stop_at_jump`` ends the run at the jump (see :class:`Trajectory`).
    A loss or parameter that stops being finite raises :class:`theory.core.Diverged`
    naming the step and ``lr``: no trajectory (and no jump) is reported from a divergence."""
    N, L = _sizes(N, L)
    lr = finite_scalar("lr", lr, positive=True)
    steps = positive_int("steps", steps)
    every = positive_int("record_every", record_every)
    stop_at_jump = flag("stop_at_jump", stop_at_jump)
    theta = array("theta0", theta0, shape=(3,)).copy()
    rec_t, rec_theta, rec_loss = [], [], []
    jump = None
    threshold = 0.5 * (1.0 + 1.0 / N)
    with np.errstate(over="ignore", invalid="ignore"):     # a divergence is reported below, by step
        for t in range(steps + 1):
            loss, cache = _forward(theta, N, L)
            if not (math.isfinite(loss) and math.isfinite(theta.sum())):
                raise Diverged(f"gradient descent diverged at step {t} (lr = {lr:g}): loss {float(loss)}, "
                               f"theta {theta.tolist()}; lower the learning rate")
            if jump is None and np.exp(-loss) >= threshold:
                jump = t
            if t % every == 0 or t == steps or (stop_at_jump and jump is not None):
                rec_t.append(t), rec_theta.append(theta.copy()), rec_loss.append(float(loss))
            if stop_at_jump and jump is not None:
                break
            theta = theta - lr * _backward(1.0, cache)
    loss = np.array(rec_loss)
    return Trajectory(np.array(rec_t), np.array(rec_theta), loss, np.exp(-loss), jump)


def plateau_table(Ns, Ls, *, lr: float = 0.1, steps: int = 200000) -> dict:
    """Jump time (first step with p >= (1 + 1/N)/2, at learning rate ``lr``) for each
    (N, L); None where GD stays on the plateau for the whole run."""
    Ns, Ls = _int_list("Ns", Ns), _int_list("Ls", Ls)
    lr, steps = finite_scalar("lr", lr, positive=True), positive_int("steps", steps)
    return {(N, L): _jump_time((N, L), lr, steps) for N in Ns for L in Ls if L >= N}


def _jump_time(NL, lr, steps):
    return gradient_descent(NL[0], NL[1], lr=lr, steps=steps, record_every=steps, stop_at_jump=True).jump_step


def _int_list(name: str, values) -> list:
    """A non-empty list of positive integers."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a non-empty list of positive integers; got {values!r}")
    values = list(values)
    if not values:
        raise ValueError(f"{name} must be a non-empty list of positive integers; got []")
    return [positive_int(f"{name}[{i}]", v) for i, v in enumerate(values)]


# --------------------------------------------------------------------------- random checks
def _random_point(rng):
    N = int(rng.integers(1, 17))
    L = N + int(rng.integers(0, 40))
    return N, L, rng.uniform(-3, 3, size=3)
