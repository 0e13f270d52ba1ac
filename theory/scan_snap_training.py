"""Tian et al. 2023 ("Scan and Snap"): the dynamics, measured.

- :func:`train_sgd` trains the finite-T model (:mod:`theory.scan_snap`) as the authors'
  code does: fresh batches, SGD with momentum, separate learning rates η_Y = ratio · η_Z
  and η_Z; it records the long-sequence attention ``c_n`` of the current Z at every step.
- :func:`integrate_flow` integrates the gradient flow of the long-sequence model
  (explicit Euler in log-time ``s = ln(1 + t)``, so late, slow phases take few steps;
  :func:`flow_step_check` halves the step and reports the change).
- :func:`snap_fits` fits the late-time growth laws; :func:`entropy_sweep` measures the
  final sparsity over (η_Z, η_Y/η_Z); :func:`reproduce` collects everything in a run
  record, :func:`format_report` prints it.

Time is counted in SGD iterations: momentum β makes a step move ``η/(1 − β)`` times the
gradient in the steady state, so the flow runs with rates ``η/(1 − β)`` to be compared
iteration by iteration.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import numpy as np

from . import scan_snap as ss
from ._validate import (as_rng, executor as _executor, finite_result, finite_scalar, flag, function, nonnegative_int,
                        positive_int)
from .optim import Momentum
from .records import check_record, make_record
from .tasks import ScanSnapTask, scan_snap_sequences, scan_snap_task

__all__ = ["SGDConfig", "SCAN", "train_sgd", "integrate_flow", "momentum_time", "flow_step_check", "snap_fits", "ETA_Z",
           "RATIOS", "entropy_sweep", "reproduce", "format_report", "check_frequency_bias",
           "check_discriminative_bias", "check_scan_order", "check_snap"]


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
    task = config.task()
    rng = as_rng(config.seed)
    p = ss.init_params(rng, task.M, zero=config.zero_init)
    opt_Y, opt_Z = Momentum(config.lr_Y, config.momentum), Momentum(config.lr_Z, config.momentum)
    c = np.empty((config.steps + 1, task.K, task.M))
    y_norm, loss = np.empty(config.steps + 1), np.empty(config.steps)
    c[0], y_norm[0] = ss._attention(p["Z"], task), np.linalg.norm(p["Y"])
    for k in range(config.steps):
        b = scan_snap_sequences(rng, task, config.batch, config.T)
        loss[k], g = ss._loss_and_grads(p["Y"], p["Z"], b.tokens, b.labels, config.residual)
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
    run = train_sgd(cfg)
    return float(ss.entropy(run["c"][-1]).mean())


def entropy_sweep(*, seeds: int = 5, n_queries=N_QUERIES, steps: int = 100, T: int = 128, executor=None) -> np.ndarray:
    """Mean entropy of the final ``c_n`` for every (n_queries, η_Z, η_Y/η_Z, seed), the
    authors' entropy-figure settings (2 classes per query, T = 128, batch 128, momentum
    0.9, 100 iterations, default init; seeds 1, 2, …): (len(n_queries), 4, 4, seeds)."""
    seeds, steps, T = positive_int("seeds", seeds), positive_int("steps", steps), positive_int("T", T)
    if T < 2:
        raise ValueError(f"T must be >= 2; got {T}")
    if not isinstance(n_queries, (tuple, list)) or not n_queries:
        raise ValueError(f"n_queries must be a non-empty tuple of query counts; got {n_queries!r:.60}")
    n_queries = tuple(positive_int("n_queries", q) for q in n_queries)
    executor = _executor("executor", executor)
    cells = [(q, z, r, s, steps, T) for q in n_queries for z in ETA_Z for r in RATIOS for s in range(1, seeds + 1)]
    values = list(executor.map(_sweep_cell, cells, chunksize=8) if executor is not None else map(_sweep_cell, cells))
    return np.array(values).reshape(len(n_queries), len(ETA_Z), len(RATIOS), seeds)


# --------------------------------------------------------------------------- the reproduction
GAP_RUNS = ((1.0, 128, 128), (0.1, 128, 128), (0.1, 1024, 512))   # (η, T, batch) for the flow-vs-SGD gap
def _rank_agreement(a, b) -> float:
    """Spearman correlation of two 1-d arrays (no ties expected)."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


def reproduce(*, quick: bool = False, seed: int = 0, executor=None, progress=None) -> dict:
    """Scan (one SGD run and its flow), snap (a long flow and its fits), the reduced vs
    finite-T gap, and the entropy sweep (on ``executor`` if given); the run record.
    ``progress(message)`` hears about each part."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True) or (lambda m: None)
    parts, start = {}, time.perf_counter()
    cfg = replace(SCAN, seed=seed, steps=40 if quick else 100, batch=64 if quick else 128)
    task = cfg.task()
    run = train_sgd(cfg)
    parts["scan: SGD run"] = time.perf_counter() - start
    start = time.perf_counter()
    rate = 1.0 / (1.0 - cfg.momentum)                      # per-iteration rates η/(1 − β) in the steady state
    params0 = ss.init_params(0, task.M, zero=True)
    tau = momentum_time(cfg.steps, cfg.momentum)           # flow time of each SGD iteration (rates η)
    flow = integrate_flow(task, params0, cfg.lr_Y, cfg.lr_Z, tau)
    halved = flow_step_check(task, params0, cfg.lr_Y, cfg.lr_Z, tau)
    gap = np.abs(run["c"] - flow["c"]).sum(axis=2).max(axis=1) / 2                   # total variation per step
    gap_rows, gap_cfgs = [], []
    for lr, T, batch in (GAP_RUNS[:1] if quick else GAP_RUNS):  # smaller steps, longer sequences: the gap closes
        n_steps = int(round(cfg.steps * cfg.lr_Z / lr))
        gap_cfgs.append(replace(cfg, lr_Z=lr, T=T, batch=batch, steps=n_steps))
    # the longer SGD runs go to the workers first (the sweep follows them there)
    pending = [None if g == cfg else executor.submit(train_sgd, g) if executor is not None else g for g in gap_cfgs]
    long_t = np.unique(np.round(np.geomspace(1, 1e3 if quick else 1e5, 60 if quick else 120)))
    long_flow = integrate_flow(task, params0, cfg.lr_Y * rate, cfg.lr_Z * rate, long_t)
    fits = snap_fits(long_flow, long_t, 100.0 if quick else 1000.0)
    parts["flow: scan, snap, step check"] = time.perf_counter() - start
    say(f"scan and snap done ({sum(parts.values()):.1f} s); entropy sweep ...")
    start = time.perf_counter()
    nq = (1, 3) if quick else N_QUERIES
    sweep = entropy_sweep(seeds=1 if quick else 5, n_queries=nq, steps=20 if quick else 100, T=16 if quick else 128,
                          executor=executor)
    for g_cfg, job in zip(gap_cfgs, pending):
        g_run = run if job is None else train_sgd(job) if isinstance(job, SGDConfig) else job.result()
        g_flow = integrate_flow(task, params0, g_cfg.lr_Y, g_cfg.lr_Z, momentum_time(g_cfg.steps, g_cfg.momentum))
        g = np.abs(g_run["c"] - g_flow["c"]).sum(axis=2).max(axis=1) / 2
        gap_rows.append(dict(lr=g_cfg.lr_Z, T=g_cfg.T, batch=g_cfg.batch, steps=g_cfg.steps, gap_max=float(g.max()),
                             gap_end=float(g[-1])))
    parts["entropy sweep and the flow-vs-SGD runs"] = time.perf_counter() - start
    nc, nd = cfg.n_common, cfg.n_distinct
    distinct = [slice(nc + n * nd, nc + (n + 1) * nd) for n in range(task.K)]
    c_end = run["c"][-1]
    return make_record(
        "scan-snap",
        settings=dict(quick=quick, seed=seed, scan=asdict(cfg), flow_rate=rate, eta_z=ETA_Z, ratios=RATIOS,
                      n_queries=nq, sweep_seeds=sweep.shape[-1], sweep_steps=20 if quick else 100,
                      sweep_T=16 if quick else 128, snap_t_from=100.0 if quick else 1000.0),
        parts=parts,
        results=dict(
            common_start=float(run["c"][0][:, :nc].sum(axis=1).mean()),
            common_end=float(c_end[:, :nc].sum(axis=1).mean()),
            rank_agreement=[_rank_agreement(c_end[n, distinct[n]], task.P[n, distinct[n]]) for n in range(task.K)],
            entropy_start=float(ss.entropy(run["c"][0]).mean()), entropy_end=float(ss.entropy(c_end).mean()),
            flow_gap_max=float(gap.max()), flow_gap_end=float(gap[-1]), flow_step_halving=halved, gap_runs=gap_rows,
            fits=fits, sweep_mean=sweep.mean(axis=-1), sweep_sd=sweep.std(axis=-1)),
        curves=dict(c_sgd=run["c"][:, 0], c_flow=flow["c"][:, 0], y_norm=run["y_norm"], loss=run["loss"],
                    gap=gap, long_t=long_t, long_z=long_flow["z"].max(axis=2).mean(axis=1),
                    long_y=long_flow["y_norm"], long_alpha=long_flow["alpha"].mean(axis=1),
                    p_class0=task.P[0]))


def format_report(record: dict) -> str:
    """The report text, rendered from a record of :func:`reproduce` only."""
    record = check_record(record, "scan-snap")
    s, r, cur = record["settings"], record["results"], record["curves"]
    sc = s["scan"]
    nc, nd = sc["n_common"], sc["n_distinct"]
    c = np.asarray(cur["c_sgd"])
    K = sc["n_queries"] * sc["classes_per_query"]
    lines = [f"Tian et al. 2023, scan: c_n of class 0 over SGD iterations ({K} classes, {nc} common + {nd} distinct "
             f"tokens, T = {sc['T']}, batch {sc['batch']}, momentum {sc['momentum']}, η_Z = {sc['lr_Z']:g}, "
             f"η_Y/η_Z = {sc['ratio']:g}, zero init)",
             "  iter   common (sum)   distinct tokens, P(l|n) = 0.1 ... 1.0 (normalised)"]
    for k in sorted({0, 5, 10, 20, 30, 50, len(c) - 1} & set(range(len(c)))):
        lines.append(f"  {k:4d}   {c[k, :nc].sum():10.3f}     " + " ".join(f"{v:.3f}" for v in c[k, nc:nc + nd]))
    lines += [f"  common tokens' attention {r['common_start']:.3f} -> {r['common_end']:.3f} (class mean); entropy "
              f"{r['entropy_start']:.3f} -> {r['entropy_end']:.3f} nats; rank agreement of the distinct tokens' "
              f"final attention with P(l|n) (Spearman, per class): "
              + ", ".join(f"{v:.3f}" for v in r["rank_agreement"]), "",
              "Long-sequence flow vs the finite-T SGD run (flow at rates η, read at the heavy-ball time "
              "τ_k = Σ_i (1 - β^i)/(1 - β) of iteration k; same zero init): total-variation gap of c_n, "
              "largest over classes",
              f"  η = {sc['lr_Z']:g}, T = {sc['T']}: max over the run {r['flow_gap_max']:.4f}, at the end "
              f"{r['flow_gap_end']:.4f}; halving the flow's Euler step changes c by at most "
              f"{r['flow_step_halving']:.1e}",
              "  the same flow time with smaller steps / longer sequences (η_Y = η_Z = η):"]
    lines += [f"    η = {g['lr']:<4g} T = {g['T']:<5d} batch {g['batch']:<4d} {g['steps']:5d} iterations: max gap "
              f"{g['gap_max']:.4f}, at the end {g['gap_end']:.4f}" for g in r["gap_runs"]]
    f = r["fits"]
    lines += ["", f"Snap: the flow continued to t = {f['t_range'][1]:g} iterations; fits over t >= {f['t_range'][0]:g} "
              f"(slope, R²)",
              f"  largest attention logit (growth since t0 {f['z_growth']:.3f}):  vs ln t  "
              f"{f['z_vs_ln_t'][0]:.4f}, R² {f['z_vs_ln_t'][2]:.4f};   vs ln ln t  {f['z_vs_ln_ln_t'][0]:.4f}, "
              f"R² {f['z_vs_ln_ln_t'][2]:.4f}",
              f"  ||Y|| vs ln t: slope {f['y_vs_ln_t'][0]:.3f}, R² {f['y_vs_ln_t'][2]:.4f};   "
              f"ln(1 - α) vs ln t: slope {f['log_gap_vs_ln_t'][0]:.3f} (-1 = a 1/t decay), "
              f"R² {f['log_gap_vs_ln_t'][2]:.4f}", ""]
    mean, sd = np.asarray(r["sweep_mean"]), np.asarray(r["sweep_sd"])
    lines.append(f"Entropy of the final c_n (nats, mean ± sd over {s['sweep_seeds']} seeds; 2 classes per query, "
                 f"default init, T = {s['sweep_T']}, {s['sweep_steps']} iterations): rows η_Z, columns η_Y/η_Z")
    for i, q in enumerate(s["n_queries"]):
        lines.append(f"  {q} quer{'y' if q == 1 else 'ies'}      " + "".join(f"{x:>14g}" for x in s["ratios"]))
        for j, ez in enumerate(s["eta_z"]):
            lines.append(f"    η_Z = {ez:<4g}   " + "".join(f"{mean[i, j, k]:8.3f} ±{sd[i, j, k]:.3f}"
                                                         for k in range(len(s["ratios"]))))
    return "\n".join(lines)


# --------------------------------------------------------------------------- claims on the flow
FLOW_RATE = 10.0        # η/(1 − β) with η = 1, β = 0.9: the scan figure's steady-state rate per iteration


def _random_task(rng):
    """A task of the authors' layout with random distinct weights in [0.1, 1] (no ties) and
    at least two classes (with one class, nothing needs telling apart and Z gets no gradient)."""
    nq, cpq = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    cpq = 2 if nq * cpq == 1 else cpq
    nc, nd = int(rng.integers(2, 11)), int(rng.integers(3, 11))
    base = scan_snap_task(nq, cpq, nc, nd)
    P = np.zeros_like(base.P)
    P[:, :nc] = 1.0
    for n in range(base.K):
        P[n, nc + n * nd: nc + (n + 1) * nd] = rng.permutation(np.linspace(0.1, 1.0, nd)) * rng.uniform(0.9, 1.1)
    P /= P.sum(axis=1, keepdims=True)
    return ScanSnapTask(P, base.query, base.next_token), nc, nd


def _flow(task, times):
    return integrate_flow(task, ss.init_params(0, task.M, zero=True), FLOW_RATE, FLOW_RATE, times)


def _distinct_rows(task, nc, nd, values):
    """values (K, M) -> per class the distinct block (K, nd), with P's block beside it."""
    idx = [np.arange(nc + n * nd, nc + (n + 1) * nd) for n in range(task.K)]
    return [values[n, i] for n, i in enumerate(idx)], [task.P[n, i] for n, i in enumerate(idx)]


def check_frequency_bias(rng) -> float:
    """``1 − min_n Spearman(Δz, P)`` over the distinct tokens of each class, Δz the growth of
    their attention logits in the first 5 iterations of the flow from zero (0 when the
    logits grow in the order of P(l|n), as the frequency bias says)."""
    task, nc, nd = _random_task(as_rng(rng))
    z = _flow(task, [0.0, 5.0])["z"]
    dz, p = _distinct_rows(task, nc, nd, z[1] - z[0])
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(dz, p))


def check_discriminative_bias(rng) -> float:
    """Largest rise of the common tokens' total attention ``Σ_common c_n`` between
    consecutive records of the flow from zero (t = 0, 1, …, 100 iterations): 0 when it only
    falls, as the discriminative bias says."""
    task, nc, nd = _random_task(as_rng(rng))
    common = _flow(task, np.arange(101.0))["c"][:, :, :nc].sum(axis=2)     # (101, K)
    return max(float(np.diff(common, axis=0).max()), 0.0)


def check_scan_order(rng) -> float:
    """``1 − min_n Spearman(c_n, P)`` over the distinct tokens at t = 100 iterations of the
    flow: 0 when the attention ranks them as their co-occurrence does."""
    task, nc, nd = _random_task(as_rng(rng))
    c = _flow(task, [100.0])["c"][0]
    cn, p = _distinct_rows(task, nc, nd, c)
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(cn, p))


def check_snap(rng) -> float:
    """After the snap (t from 1e3 to 1e5 iterations of the flow): ``|slope + 1|`` of
    ``ln(1 − α_n)`` against ln t (a 1/t decay has slope −1)."""
    task, _, _ = _random_task(as_rng(rng))
    t = np.geomspace(1e3, 1e5, 30)
    return abs(snap_fits(_flow(task, t), t, 1e3)["log_gap_vs_ln_t"][0] + 1.0)
