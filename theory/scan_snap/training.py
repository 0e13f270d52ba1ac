"""Tian et al. 2023 ("Scan and Snap"): the dynamics, measured.

- :func:`train_sgd` trains the finite-T model (:mod:`theory.scan_snap.model`) as the authors'
  code does: fresh batches, SGD with momentum, separate learning rates η_Y = ratio · η_Z
  and η_Z; it records the long-sequence attention ``c_n`` of the current Z at every step.
- :func:`integrate_flow` integrates the gradient flow of the long-sequence model
  (explicit Euler in log-time ``s = ln(1 + t)``, so late, slow phases take few steps;
  :func:`flow_step_check` halves the step and reports the change).
- :func:`snap_fits` fits the late-time growth laws; :func:`entropy_sweep` measures the
  final sparsity over (η_Z, η_Y/η_Z).  :mod:`theory.scan_snap.reproduction` collects
  everything in a run record; :mod:`theory.scan_snap.biases` checks the paper's
  qualitative claims on the flow.

Time is counted in SGD iterations: momentum β makes a step move ``η/(1 − β)`` times the
gradient in the steady state, so the flow runs with rates ``η/(1 − β)`` to be compared
iteration by iteration.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.heap import prime_heap
from ..core._validate import (as_rng, executor as _executor, finite_result, finite_scalar, flag, nonnegative_int, positive_int)
from ..core.optim import Momentum
from . import model as ss
from .data import ScanSnapTask, _scan_snap_sequences, scan_snap_task

__all__ = ["SGDConfig", "SCAN", "train_sgd", "integrate_flow", "momentum_time", "flow_step_check", "snap_fits",
           "ETA_Z", "RATIOS", "N_QUERIES", "entropy_sweep"]


@dataclass(frozen=True)
class SGDConfig:
    """One run of the finite-T model.  Defaults: the authors' scan figure (2 classes with
    one query each, 10 common and 10 distinct tokens, T = 128, batch 128, SGD momentum
    0.9, η_Z = η_Y = 1, zero init, 100 iterations)."""
    n_queries: int = 2
    classes_per_query: int = 1
    n_common: int = 10
    n_distinct: int = 10
    T: int = 128
    batch: int = 128
    steps: int = 100
    lr_Z: float = 1.0
    ratio: float = 1.0              # η_Y / η_Z
    momentum: float = 0.9
    zero_init: bool = True
    residual: bool = False
    seed: int = 0

    def __post_init__(self):
        for name in ("n_queries", "classes_per_query", "n_distinct", "batch", "steps"):
            positive_int(name, getattr(self, name))
        nonnegative_int("n_common", self.n_common)
        if positive_int("T", self.T) < 2:
            raise ValueError(f"T must be >= 2 (contextual tokens and the query); got {self.T}")
        finite_scalar("lr_Z", self.lr_Z, positive=True)
        finite_scalar("ratio", self.ratio, positive=True)
        finite_scalar("momentum", self.momentum, nonnegative=True, below=1.0)
        flag("zero_init", self.zero_init)
        flag("residual", self.residual)
        nonnegative_int("seed", self.seed)

    @property
    def lr_Y(self) -> float:
        return self.lr_Z * self.ratio

    def task(self) -> ScanSnapTask:
        return scan_snap_task(self.n_queries, self.classes_per_query, self.n_common, self.n_distinct)


SCAN = SGDConfig()


def _config(config):
    if not isinstance(config, SGDConfig):
        raise ValueError(f"config must be an SGDConfig; got {type(config).__name__}")
    return config


def train_sgd(config: SGDConfig) -> dict:
    """Train the finite-T model; returns ``c`` (steps + 1, K, M) — the long-sequence attention
    of Z after each step, from the initial Z on —, ``y_norm`` (steps + 1,), ``loss`` (steps,)
    and the final ``params``."""
    config = _config(config)
    prime_heap()                                            # steps reuse heap pages (theory/core/heap.py)
    task = config.task()
    rng = as_rng(config.seed)
    p = ss.init_params(rng, task.M, zero=config.zero_init)
    opt_Y, opt_Z = Momentum(config.lr_Y, config.momentum), Momentum(config.lr_Z, config.momentum)
    c = np.empty((config.steps + 1, task.K, task.M))
    y_norm, loss = np.empty(config.steps + 1), np.empty(config.steps)
    c[0], y_norm[0] = ss._attention(p["Z"], task), np.linalg.norm(p["Y"])
    for k in range(config.steps):
        b = _scan_snap_sequences(rng, task, config.batch, config.T)
        loss[k], g = ss._finite_loss(p["Y"], p["Z"], b.tokens, b.labels, config.residual)
        p = {"Y": opt_Y.step({"Y": p["Y"]}, {"Y": g["Y"]})["Y"], "Z": opt_Z.step({"Z": p["Z"]}, {"Z": g["Z"]})["Z"]}
        c[k + 1], y_norm[k + 1] = ss._attention(p["Z"], task), np.linalg.norm(p["Y"])
    return dict(c=c, y_norm=y_norm, loss=loss, params=p)


@finite_result
def integrate_flow(task: ScanSnapTask, params, eta_Y: float, eta_Z: float, times, *, ds: float = 0.01) -> dict:
    """Gradient flow ``Ẏ = −η_Y ∂L/∂Y``, ``Ż = −η_Z ∂L/∂Z`` of the long-sequence model from
    ``params``, by explicit Euler steps in ``s = ln(1 + t)`` of size ``ds`` (a step covers
    ``dt = (1 + t) ds``: 0.01 iterations at the start, 10 at t = 1000).  Returns, at the
    requested ``times`` (increasing, >= 0): ``c`` (len, K, M), ``z`` (len, K, M) the rows
    ``z_{ψ(n)}``, ``y_norm``, ``alpha`` (len, K) the probability of the right next token."""
    task = ss._check_task(task)
    Y, Z = (np.array(a) for a in ss._model_params(params, task.M))
    eta_Y, eta_Z = finite_scalar("eta_Y", eta_Y, positive=True), finite_scalar("eta_Z", eta_Z, positive=True)
    ds = finite_scalar("ds", ds, positive=True)
    try:
        times = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"times must be a non-empty increasing 1-d array of t >= 0; got {times!r:.80}") from None
    if times.ndim != 1 or times.size == 0 or np.any(times < 0) or np.any(np.diff(times) <= 0):
        raise ValueError(f"times must be a non-empty increasing 1-d array of t >= 0; got {times!r:.80}")
    out = dict(c=[], z=[], y_norm=[], alpha=[])
    t = 0.0

    def record():
        _, _, s = ss._reduced(Y, Z, task)
        out["c"].append(s["c"])
        out["z"].append(Z[task.query].copy())
        out["y_norm"].append(np.linalg.norm(Y))
        out["alpha"].append(s["alpha"][np.arange(task.K), task.next_token])

    for target in times:
        while t < target:
            dt = min((1.0 + t) * ds, target - t)           # Euler in ln(1 + t), landing on target
            _, g, _ = ss._reduced(Y, Z, task)
            Y -= dt * eta_Y * g["Y"]
            Z -= dt * eta_Z * g["Z"]
            t += dt
        record()
    return {k: np.array(v) for k, v in out.items()}


def flow_step_check(task: ScanSnapTask, params, eta_Y: float, eta_Z: float, times, ds: float = 0.01) -> float:
    """Largest change of ``c`` (max abs) along ``times`` when the Euler step is halved."""
    a = integrate_flow(task, params, eta_Y, eta_Z, times, ds=ds)["c"]
    b = integrate_flow(task, params, eta_Y, eta_Z, times, ds=ds / 2)["c"]
    return float(np.abs(a - b).max())


def momentum_time(steps: int, beta: float) -> np.ndarray:
    """Flow time (in units of the learning rate) that k heavy-ball steps cover under a
    constant gradient: ``τ_k = Σ_{i=1..k} (1 − β^i)/(1 − β)`` — 1 for the first step,
    ``1/(1 − β)`` a step once the momentum has built up.  (steps + 1,) from τ_0 = 0."""
    steps = positive_int("steps", steps)
    beta = finite_scalar("beta", beta, nonnegative=True, below=1.0)
    i = np.arange(1, steps + 1)
    return np.concatenate([[0.0], np.cumsum((1 - beta ** i) / (1 - beta))])


def _fit(x, y):
    """Least-squares line y ≈ a x + b: (slope, intercept, R²)."""
    A = np.stack([x, np.ones_like(x)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - (a * x + b)
    return float(a), float(b), float(1 - resid @ resid / np.sum((y - y.mean()) ** 2))


def snap_fits(flow: dict, times, t_from: float) -> dict:
    """Late-time growth laws from a flow record, over ``t >= t_from``: the largest logit
    ``max_l z_{ψ(n)}(l)`` minus its value at ``t_from`` against ln t and ln ln t, ``||Y||``
    against ln t, and ``ln(1 − α_n)`` against ln t (slope −1 for a 1/t decay).  Each a
    (slope, intercept, R²) triple, classes averaged."""
    if not isinstance(flow, dict) or not {"z", "y_norm", "alpha"} <= set(flow):
        raise ValueError(f"flow must be a record of integrate_flow (keys z, y_norm, alpha); got {flow!r:.60}")
    times = ss.array("times", times, ndim=1)
    t_from = finite_scalar("t_from", t_from, positive=True)
    if len(times) != len(flow["y_norm"]):
        raise ValueError(f"times must match the flow's records: {len(times)} against {len(flow['y_norm'])}")
    keep = times >= t_from
    if keep.sum() < 3:
        raise ValueError(f"snap_fits needs at least 3 records at t >= t_from = {t_from:g}; got {int(keep.sum())}")
    t = times[keep]
    z = flow["z"][keep].max(axis=2).mean(axis=1)           # (len,) the largest logit, class mean
    dz = z - z[0]
    y = flow["y_norm"][keep]
    gap = np.log(1 - flow["alpha"][keep]).mean(axis=1)
    return dict(z_vs_ln_t=_fit(np.log(t), dz), z_vs_ln_ln_t=_fit(np.log(np.log(t)), dz),
                y_vs_ln_t=_fit(np.log(t), y), log_gap_vs_ln_t=_fit(np.log(t), gap),
                z_growth=float(dz[-1]), t_range=(float(t[0]), float(t[-1])))


# --------------------------------------------------------------------------- the η sweep
ETA_Z = (0.5, 1.0, 2.0, 3.0)
RATIOS = (1.0, 2.0, 5.0, 10.0)
N_QUERIES = (1, 3, 5, 10)


def _sweep_cell(args):
    n_queries, lr_Z, ratio, seed, steps, T = args
    cfg = SGDConfig(n_queries=n_queries, classes_per_query=2, lr_Z=lr_Z, ratio=ratio, zero_init=False,
                    seed=seed, steps=steps, T=T)
    c = train_sgd(cfg)["c"][-1]                              # after the last iteration
    return float(ss._entropy(c).mean()), float(ss.distinct_entropy(c, cfg.task()).mean())


def entropy_sweep(*, seeds: int = 10, n_queries=N_QUERIES, steps: int = 100, T: int = 128, executor=None) -> dict:
    """The entropy of the final ``c_n`` (after the last iteration), averaged over the classes,
    for every (n_queries, η_Z, η_Y/η_Z, seed) of the authors' entropy figure (2 classes per
    query, 10 common tokens, T = 128, batch 128, momentum 0.9, 100 iterations, default init;
    seeds 1, 2, …): ``{"distinct": ..., "full": ...}``, each (len(n_queries), 4, 4, seeds) —
    ``distinct`` over each class's distinct tokens, renormalised (the authors' quantity,
    :func:`theory.scan_snap.model.distinct_entropy`), ``full`` over the whole c_n."""
    seeds, steps, T = positive_int("seeds", seeds), positive_int("steps", steps), positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be >= 2; got {T}")
    if not isinstance(n_queries, (tuple, list)) or not n_queries:
        raise ValueError(f"n_queries must be a non-empty tuple of query counts; got {n_queries!r:.60}")
    n_queries = tuple(positive_int("n_queries", q) for q in n_queries)
    executor = _executor("executor", executor)
    cells = [(q, z, r, s, steps, T) for q in n_queries for z in ETA_Z for r in RATIOS for s in range(1, seeds + 1)]
    values = list(executor.map(_sweep_cell, cells, chunksize=8) if executor is not None else map(_sweep_cell, cells))
    v = np.array(values).reshape(len(n_queries), len(ETA_Z), len(RATIOS), seeds, 2)
    return dict(full=v[..., 0], distinct=v[..., 1])


def _rank_agreement(a, b) -> float:
    """Spearman correlation of two 1-d arrays (no ties expected)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])
