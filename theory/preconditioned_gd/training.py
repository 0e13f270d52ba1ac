"""Training the sparse linear transformer as Ahn et al.'s code does, at CPU scale.

The authors train with Adam(W) on fresh Gaussian prompts (their rotated experiment: d = 5,
N = 20, ``Σ = U D² Uᵀ``, ``w ~ N(0, Σ⁻¹)``, lr 0.1, betas (0.99, 0.9), each matrix's
gradient clipped, the learning rate halved every 4,000 of 100,000 steps, batches of 20,000
prompts).  :data:`AUTHORS` records those settings; :class:`TrainConfig` holds ours (the same
data and optimiser, fewer and smaller steps: :func:`cpu_config`), and the report says
which is which.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..core.heap import prime_heap
from ..core._validate import array, as_rng, check_step, choice, finite_scalar, nonnegative_int, positive_int
from ..core.optim import Adam
from .data import AUTHOR_D, TASKS, _regression_prompts, rotated_covariance
from .model import _prompt, _sparse_loss, _stack_forward, _weights
from .multilayer import VARIANTS

__all__ = ["AUTHORS", "TrainConfig", "TrainResult", "quick_config", "train", "evaluate"]

AUTHORS = dict(d=5, n=20, D=AUTHOR_D, task="inverse", optimizer="AdamW", lr=0.1, betas=(0.99, 0.9), weight_decay=0.0,
               clip="each matrix's gradient to norm 0.01", halve_every=4000, steps=100_000, batch=20_000,
               refresh_every=100, init_std=1e-4)


@dataclass(frozen=True)
class TrainConfig:
    """One training run of the sparse model (``variant``: "gd" keeps B = 0, "gdpp" trains
    B too).  ``cov_seed`` draws the rotation U of ``Σ = U diag(D)² Uᵀ``."""
    layers: int = 1
    d: int = 5
    n: int = 20
    D: tuple = AUTHOR_D
    task: str = "inverse"
    variant: str = "gdpp"
    steps: int = 3000
    batch: int = 2000
    lr: float = 0.01
    betas: tuple = (0.9, 0.999)
    halve_every: int = 1000
    clip: float = 1.0             # each matrix's gradient norm at most this
    init_std: float = 1e-3
    seed: int = 0
    cov_seed: int = 0

    def __post_init__(self):
        for k in ("layers", "d", "n", "steps", "batch", "halve_every"):
            positive_int(k, getattr(self, k))
        for k in ("seed", "cov_seed"):
            nonnegative_int(k, getattr(self, k))
        choice("task", self.task, TASKS)
        choice("variant", self.variant, VARIANTS)
        for k in ("lr", "clip", "init_std"):
            finite_scalar(k, getattr(self, k), positive=True)
        D = array("D", self.D, ndim=1)
        if len(D) != self.d or np.any(D <= 0):
            raise ValueError(f"D must hold d = {self.d} positive scales; got {self.D!r:.60}")
        if not isinstance(self.betas, tuple) or len(self.betas) != 2:
            raise ValueError(f"betas must be a pair (β1, β2); got {self.betas!r:.60}")
        for b in self.betas:
            finite_scalar("betas", b, nonnegative=True, below=1.0)

    def covariance(self) -> np.ndarray:
        return rotated_covariance(self.cov_seed, self.D)


def quick_config(layers: int, *, task: str = "inverse", variant: str = "gdpp", seed: int = 0) -> TrainConfig:
    """CI scale: 60 steps of 256 prompts, d = 3, N = 8."""
    return TrainConfig(layers=layers, d=3, n=8, D=(1.0, 0.5, 0.25), steps=60, batch=256, halve_every=30, task=task,
                       variant=variant, seed=seed)


@dataclass
class TrainResult:
    config: TrainConfig
    params: dict
    loss: np.ndarray = field(repr=False)


def _clip(g: dict, limit: float) -> dict:
    """Each layer's matrix scaled to gradient norm at most ``limit``."""
    out = {}
    for k, v in g.items():
        norms = np.linalg.norm(v.reshape(len(v), -1), axis=1)
        out[k] = v * np.minimum(1.0, limit / np.maximum(norms, 1e-300))[:, None, None]
    return out


def train(config: TrainConfig) -> TrainResult:
    """Adam on fresh prompts every step; the loss curve and the final ``{"A", "B"}``."""
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    c = config
    prime_heap()                                            # steps reuse heap pages (theory/core/heap.py)
    rng = as_rng(c.seed)
    cov = c.covariance()
    p = {"A": c.init_std * rng.standard_normal((c.layers, c.d, c.d)),
         "B": (c.init_std * rng.standard_normal((c.layers, c.d, c.d)) if c.variant == "gdpp"
               else np.zeros((c.layers, c.d, c.d)))}
    opt = Adam(c.lr, beta1=c.betas[0], beta2=c.betas[1])
    losses = np.empty(c.steps)
    for step in range(c.steps):
        opt.lr = c.lr * 0.5 ** (step // c.halve_every)
        P = _regression_prompts(rng, c.batch, c.n, c.d, cov, c.task)
        loss, g = _sparse_loss(p, _prompt(P.X, P.y, P.x_q), P.y_q)
        losses[step] = check_step(loss, g, step, opt.lr)
        if c.variant == "gd":
            g["B"] = np.zeros_like(g["B"])
        p = opt.step(p, _clip(g, c.clip))
    return TrainResult(c, p, losses)


def evaluate(params: dict, config: TrainConfig, *, samples: int = 100_000, seed: int = 12345) -> dict:
    """Held-out squared errors of ``params`` on ``samples`` fresh prompts of the run's
    distribution (in chunks): ``mean``, its standard error ``se``, the ``median`` and the
    ``worst`` — an L-layer model is a polynomial of degree up to 3^L in the inputs, so the
    mean can be ruled by a few large prompts, which the median and the worst show."""
    if not isinstance(config, TrainConfig):
        raise ValueError(f"config must be a TrainConfig; got {type(config).__name__}")
    from ..core._validate import params as _params
    params = _params("params", params, {"A": (config.layers, config.d, config.d), "B": (config.layers, config.d, config.d)})
    samples = positive_int("samples", samples)
    rng = as_rng(seed)
    cov = config.covariance()
    parts = []
    for start in range(0, samples, 20000):
        m = min(20000, samples - start)
        P = _regression_prompts(rng, m, config.n, config.d, cov, config.task)
        Z, _ = _stack_forward(_prompt(P.X, P.y, P.x_q), *_weights(params))
        parts.append((-Z[:, config.d, -1] - P.y_q) ** 2)
    e = np.concatenate(parts)
    return dict(mean=float(e.mean()), se=float(e.std() / np.sqrt(len(e))), median=float(np.median(e)),
                worst=float(e.max()))
