"""Tian et al. 2023 ("Scan and Snap") as a run record: the scan (one SGD run and its
flow), the snap (a long flow and its growth-law fits), the flow-vs-SGD gap, and the
entropy sweep over (η_Z, η_Y/η_Z).  :func:`format_report` renders the tables from the
record only (``python -m theory reproduce scan-snap``).
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np

from ..core._validate import executor as _executor, flag, function, nonnegative_int
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from . import model as ss
from .authors import FIGURE_6, FIGURE_6_SOURCE
from .training import (ETA_Z, N_QUERIES, RATIOS, SCAN, SGDConfig, _rank_agreement, entropy_sweep, flow_step_check,
                       integrate_flow, momentum_time, snap_fits, train_sgd)

__all__ = ["GAP_RUNS", "reproduce", "format_report", "REPRODUCTION"]


# --------------------------------------------------------------------------- the reproduction
GAP_RUNS = ((1.0, 128, 128), (0.1, 128, 128), (0.1, 1024, 512))   # (η, T, batch) for the flow-vs-SGD gap



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
    sweep = entropy_sweep(seeds=2 if quick else 10, n_queries=nq, steps=20 if quick else 100,
                          T=16 if quick else 128, executor=executor)
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
                      n_queries=nq, sweep_seeds=sweep["distinct"].shape[-1], sweep_steps=20 if quick else 100,
                      sweep_T=16 if quick else 128, snap_t_from=100.0 if quick else 1000.0),
        parts=parts,
        results=dict(
            common_start=float(run["c"][0][:, :nc].sum(axis=1).mean()),
            common_end=float(c_end[:, :nc].sum(axis=1).mean()),
            rank_agreement=[_rank_agreement(c_end[n, distinct[n]], task.P[n, distinct[n]]) for n in range(task.K)],
            entropy_start=float(ss.entropy(run["c"][0]).mean()), entropy_end=float(ss.entropy(c_end).mean()),
            flow_gap_max=float(gap.max()), flow_gap_end=float(gap[-1]), flow_step_halving=halved, gap_runs=gap_rows,
            fits=fits, **_sweep_results(sweep, nq, quick)),
        curves=dict(c_sgd=run["c"][:, 0], c_flow=flow["c"][:, 0], y_norm=run["y_norm"], loss=run["loss"],
                    gap=gap, long_t=long_t, long_z=long_flow["z"].max(axis=2).mean(axis=1),
                    long_y=long_flow["y_norm"], long_alpha=long_flow["alpha"].mean(axis=1),
                    p_class0=task.P[0]))


def _sweep_results(sweep: dict, nq: tuple, quick: bool) -> dict:
    """The sweep's means and sample standard deviations (ddof 1, as the authors report) of
    both entropies, and — on the authors' grid — their published means and stds beside ours
    with the difference in units of their std, cell by cell."""
    out = {f"sweep_{k}_mean": v.mean(axis=-1) for k, v in sweep.items()}
    out.update({f"sweep_{k}_sd": v.std(axis=-1, ddof=1) for k, v in sweep.items()})
    if not quick and tuple(nq) == N_QUERIES:
        theirs = np.array([[[FIGURE_6[q][z][int(r)] for r in RATIOS] for z in ETA_Z] for q in nq])   # (4, 4, 4, 2)
        out.update(authors_mean=theirs[..., 0], authors_sd=theirs[..., 1],
                   authors_diff_in_sd=(out["sweep_distinct_mean"] - theirs[..., 0]) / theirs[..., 1])
    return out


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
    ours, sd = np.asarray(r["sweep_distinct_mean"]), np.asarray(r["sweep_distinct_sd"])
    full, full_sd = np.asarray(r["sweep_full_mean"]), np.asarray(r["sweep_full_sd"])
    compared = "authors_mean" in r
    lines.append(f"Entropy of the final c_n over each class's distinct tokens, renormalised (nats; the authors' "
                 f"Fig. 6 quantity), mean ± sample sd over {s['sweep_seeds']} seeds (2 classes per query, default "
                 f"init, T = {s['sweep_T']}, {s['sweep_steps']} iterations): rows η_Z, columns η_Y/η_Z"
                 + ("; beside each, the authors' published mean ± sd and (ours − theirs)/their sd" if compared
                    else ""))
    for i, q in enumerate(s["n_queries"]):
        lines.append(f"  {q} quer{'y' if q == 1 else 'ies'}"
                     + "".join(f"{x:>{34 if compared else 15}g}" for x in s["ratios"]))
        for j, ez in enumerate(s["eta_z"]):
            cells = []
            for k in range(len(s["ratios"])):
                cell = f"{ours[i, j, k]:.3f}±{sd[i, j, k]:.3f}"
                if compared:
                    cell += (f" | {r['authors_mean'][i][j][k]:.3f}±{r['authors_sd'][i][j][k]:.3f} "
                             f"{r['authors_diff_in_sd'][i][j][k]:+5.1f}")
                cells.append(f"{cell:>{34 if compared else 15}s}")
            lines.append(f"    η_Z = {ez:<4g}" + "".join(cells))
    if compared:
        d = np.abs(np.asarray(r["authors_diff_in_sd"]))
        lines.append(f"  |ours − theirs| in units of their sd: median {np.median(d):.2f}, largest {d.max():.2f}; "
                     f"{int((d <= 2).sum())} of {d.size} cells within 2 (source: {FIGURE_6_SOURCE})")
    lines.append(f"The entropy of the whole final c_n (common tokens included; not the figure's quantity): "
                 f"{full.min():.3f} … {full.max():.3f} nats over the cells (sd up to {full_sd.max():.3f})")
    return "\n".join(lines)


REPRODUCTION = Reproduction(
    "scan-snap", "Tian et al. 2023: scan (c_n over SGD), the long-sequence flow vs SGD, the snap's growth laws, "
                 "the entropy over (η_Z, η_Y/η_Z) (minutes)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor,
                                                                progress=progress),
    report=format_report)
