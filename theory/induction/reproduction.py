"""Reddy 2024 (ICLR), arXiv 2312.03002, as a run record: the three-parameter landscape
table and GD trajectories, one run each of the full network and of the two-parameter
model (the minutes configuration), and (not quick) their one-at-a-time sweeps over
(B, K, ε, α).  :func:`format_report` renders the text from the record only
(``python -m theory reproduce induction-head``); the runs at the paper's widths are in
:mod:`theory.induction.paper`.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace

from ..core._validate import executor as _executor, finite_scalar, flag, function, nonnegative_int, positive_int
from ..core.records import check_record, make_record, round_trip
from ..core.registry import Option, Reproduction
from . import paper
from .data import SAMPLERS
from .network import INITS
from .three_param import _int_list, _jump_time, gradient_descent
from .training import (NETWORK, TWO_PARAM, TWO_PARAM_GRID, TWO_PARAM_QUICK_CONFIG, NetworkConfig, NetworkRun,
                       format_sweep, sweep, train_network)

__all__ = ["reproduce_landscape", "format_landscape", "LANDSCAPE", "TRAJECTORY_N", "MINUTES_CONFIG", "QUICK_CONFIG",
           "SWEEP_GRID", "reproduce", "format_report", "reproduce_report", "REPRODUCTION"]


def reproduce_landscape(Ns=(2, 4, 8, 16), L_factors=(1, 2, 4, 8, 16), *, lr: float = 0.1,
                        steps: int = 100_000, executor=None) -> dict:
    """Jump times of GD on the three-parameter model from the origin, per (N, L = f N),
    and the escape times for L = N from (0, 0, δ).  ``executor`` runs the (N, L) pairs
    in parallel (any ``concurrent.futures.Executor``)."""
    Ns, L_factors = _int_list("Ns", Ns), _int_list("L_factors", L_factors)
    lr, steps = finite_scalar("lr", lr, positive=True), positive_int("steps", steps)
    executor = _executor("executor", executor)
    pairs = [(N, f * N) for N in Ns for f in L_factors]
    if executor is not None:
        jumps = list(executor.map(_jump_time, pairs, [lr] * len(pairs), [steps] * len(pairs)))
    else:
        jumps = [_jump_time(p, lr, steps) for p in pairs]
    escape = {delta: gradient_descent(8, 8, lr=lr, steps=steps, theta0=(0.0, 0.0, delta),
                                      record_every=steps, stop_at_jump=True).jump_step
              for delta in (1e-2, 1e-6, 1e-10)}
    return dict(jumps=dict(zip(pairs, jumps)), escape=escape, lr=lr)


def format_landscape(r: dict) -> str:
    """The landscape table of :func:`reproduce_landscape`'s result as text."""
    if not isinstance(r, dict) or not {"jumps", "escape", "lr"} <= set(r):
        raise ValueError(f"r must be the dict returned by reproduce_landscape (keys jumps, escape, lr); got {r!r:.80}")
    Ns = sorted({N for N, _ in r["jumps"]})
    fs = sorted({L // N for N, L in r["jumps"]})
    lines = [f"Three-parameter model, GD from the origin (lr = {r['lr']}): first step with p >= (1 + 1/N)/2",
             "  N \\ L   " + "  ".join(f"{'L=' + str(f) + 'N':>8}" for f in fs)]
    for N in Ns:
        cells = [r["jumps"][(N, f * N)] for f in fs]
        lines.append(f"  {N:>5}   " + "  ".join(f"{'never' if c is None else c:>8}" for c in cells))
    lines.append("  L = N: the origin is a saddle with zero gradient; from (0, 0, δ) GD escapes after "
                 + ", ".join(f"{v} steps (δ = {k:g})" for k, v in r["escape"].items()))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the report
# Reddy 2024's data and network at smaller widths (content D = 31, 25 positions) and lr
# 0.05, with K = 1024 classes: ICL rises from chance to 0.97 within 4,000 SGD steps (48 s).
MINUTES_CONFIG = NetworkConfig(K=1024, D=31, n_positions=25, lr=0.05, steps=4000, eval_every=100, n_eval=500)
# CI-sized (about 2-4 s): 16 labels, N = 4 pairs of 2 classes (B = 2), K = 512, width 27.
# ICL 0.03-0.08 -> 0.94-0.99 in 1,500 steps over seeds 0-4, half-way at steps 700-900.
QUICK_CONFIG = NetworkConfig(K=512, L=16, N=4, D=15, n_positions=12, B=2, lr=0.1, steps=1500,
                             eval_every=100, n_eval=300)
SWEEP_GRID = {"B": [0, 1, 2, 4], "K": [64, 1024], "eps": [0.0, 0.4], "alpha": [1.0]}


def _format_run(title: str, run: NetworkRun) -> list:
    out = [f"\n{title} ({run.config}):"]
    for i, step in enumerate(run.steps):
        out.append(f"  step {step:7d}  ICL {run.icl[i]:.3f}  swapped {run.swapped[i]:.3f}  IWL {run.iwl[i]:.3f}"
                   f"  layer-1 previous-token {run.prev_token[i]:.3f}  layer-2 matching-label {run.match_label[i]:.3f}")
    out.append(f"  ICL rise (iteration at half-way, 10-90 % width): {run.jump('icl')}; {run.seconds:.0f} s")
    return out


LANDSCAPE = dict(Ns=(2, 4, 8, 16), L_factors=(1, 2, 4, 8, 16), lr=0.1)
TRAJECTORY_N = 8                           # the landscape figure's GD runs: N = 8, every L = f N


def reproduce(*, quick: bool = False, seeds: int = 1, executor=None, progress=None) -> dict:
    """Run the reproduction and return its run record (:mod:`theory.core.records`): the
    landscape table and GD trajectories of the three-parameter model; one run of the full
    network (the minutes configuration); one run of the two-parameter model; and (not
    ``quick``) the one-at-a-time sweeps around B = 4, K = 256, ε = 0.1, α = 0 of both
    models — the network over ``SWEEP_GRID`` with ``seeds`` seeds per condition, the
    two-parameter model over its wider ``TWO_PARAM_GRID`` with five.  The runs at the
    paper's widths are :func:`theory.induction.paper.reproduce`.  :func:`format_report`
    renders it."""
    quick = flag("quick", quick)
    seeds = positive_int("seeds", seeds)
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True) or (lambda message: None)
    parts, start = {}, time.perf_counter()
    steps = 5_000 if quick else 100_000
    land = reproduce_landscape(steps=steps, executor=executor, **LANDSCAPE)
    every = max(1, steps // 1000)
    trajectories = {f"{TRAJECTORY_N},{f * TRAJECTORY_N}": gradient_descent(
        TRAJECTORY_N, f * TRAJECTORY_N, lr=LANDSCAPE["lr"], steps=steps, record_every=every)
        for f in LANDSCAPE["L_factors"]}
    parts["three-parameter landscape"] = time.perf_counter() - start
    start = time.perf_counter()
    cfg = QUICK_CONFIG if quick else MINUTES_CONFIG
    network = train_network(cfg, progress=say)
    parts["full network run"] = time.perf_counter() - start
    start = time.perf_counter()
    tcfg = TWO_PARAM_QUICK_CONFIG if quick else replace(MINUTES_CONFIG, eval_every=250)
    two = train_network(tcfg, progress=say, model=TWO_PARAM)
    parts["two-parameter run"] = time.perf_counter() - start
    base = replace(MINUTES_CONFIG, K=256, eval_every=250)
    sweeps = []
    if not quick:
        for model, grid, n in ((NETWORK, SWEEP_GRID, seeds), (TWO_PARAM, TWO_PARAM_GRID, 5)):
            start = time.perf_counter()
            rows = sweep(base, grid, seeds=n, model=model, executor=executor, progress=say)
            sweeps.append(dict(model=model.name, seeds=n, grid=grid,
                               rows=[dict(name=k, value=v, runs=[r.to_dict(with_loss=False) for r in runs])
                                     for k, v, runs in rows]))
            parts[f"{model.name} sweep"] = time.perf_counter() - start
    settings = dict(quick=quick, seeds=seeds, landscape=dict(LANDSCAPE, steps=steps),
                    network=asdict(cfg), two_param=asdict(tcfg), sweep_base=None if quick else asdict(base))
    results = dict(landscape=dict(jumps=[[N, L, j] for (N, L), j in land["jumps"].items()],
                                  escape=[[delta, j] for delta, j in land["escape"].items()], lr=land["lr"]),
                   network=network.to_dict(with_loss=False), two_param=two.to_dict(with_loss=False), sweeps=sweeps)
    curves = dict(network_loss=network.loss, two_param_loss=two.loss,
                  trajectories={k: dict(steps=tr.steps, theta=tr.theta, loss=tr.loss, jump=tr.jump_step)
                                for k, tr in trajectories.items()})
    return make_record("induction-head", settings=settings, parts=parts, results=results, curves=curves)


def format_report(record: dict) -> str:
    """The report text, rendered from a run record of :func:`reproduce` only."""
    res = check_record(record, "induction-head")["results"]
    land = res["landscape"]
    out = [format_landscape(dict(jumps={(N, L): j for N, L, j in land["jumps"]},
                                 escape={delta: j for delta, j in land["escape"]}, lr=land["lr"]))
           + f"\n  (\"never\": no jump within the run's {record['settings']['landscape']['steps']:,} GD steps)"]
    out += _format_run("Full network", NetworkRun.from_dict(res["network"]))
    out += _format_run("Two-parameter model (our reading of Sec. 4)", NetworkRun.from_dict(res["two_param"]))
    base = record["settings"]["sweep_base"]
    for sw in res["sweeps"]:
        n = sw["seeds"]
        out.append(f"\nOne-at-a-time sweep of the {sw['model']} around B = 4, K = 256, ε = 0.1, α = 0 "
                   f"({base['steps']} steps each, {n} seed{'s' * (n > 1)}: mean (min-max)):")
        out.append(format_sweep([(row["name"], row["value"], [NetworkRun.from_dict(r) for r in row["runs"]])
                                 for row in sw["rows"]]))
    return "\n".join(out)


def reproduce_report(*, quick: bool = False, seeds: int = 1, executor=None, progress=None) -> str:
    """The report text of :func:`reproduce` (rendered from its record after a JSON round trip)."""
    return format_report(round_trip(reproduce(quick=quick, seeds=seeds, executor=executor, progress=progress)))


# --------------------------------------------------------------------------- the command line
_PAPER_ONLY = ("regime", "first_seed", "K", "model", "steps", "sampler", "init")


def _check_options(options: dict) -> None:
    """Refuse a bad combination of options before anything trains."""
    positive_int("--seeds", options["seeds"])
    for name in ("K", "steps"):
        if options[name] is not None:
            positive_int(f"--{name}", options[name])
    if options["first_seed"] is not None:
        nonnegative_int("--first-seed", options["first_seed"])
    if options["quick"] and options["paper"]:
        raise ValueError("--quick and --paper exclude each other")
    if not options["paper"] and any(options[k] is not None for k in _PAPER_ONLY):
        raise ValueError("--regime, --first-seed, --K, --model, --steps, --sampler and --init apply to --paper runs")
    if options["paper"]:
        paper.paper_config(options["regime"] or "competition", K=options["K"])
        if options["model"] == "two-param" and options["init"] == "author":
            raise ValueError("--init author is the full network's initialisation; the two-parameter model has none")


def _run(options: dict, executor=None, progress=None) -> dict:
    if options["paper"]:
        return paper.reproduce(options["regime"] or "competition", seeds=options["seeds"],
                               first_seed=options["first_seed"] or 0, K=options["K"],
                               model=options["model"] or "network", steps=options["steps"] or paper.PAPER_STEPS,
                               sampler=options["sampler"] or "author", init=options["init"] or "package",
                               executor=executor, progress=progress)
    return reproduce(quick=options["quick"], seeds=options["seeds"], executor=executor, progress=progress)


def _report(record: dict) -> str:
    return paper.format_report(record) if record["name"].startswith(paper.RECORD_PREFIX) else format_report(record)


_SUMMARY = ("Reddy 2024: three-parameter landscape, training runs of the full network and of the two-parameter "
            "model, and their sweeps over (B, K, ε, α) (10-15 min)")
REPRODUCTION = Reproduction(
    "induction-head", _SUMMARY + "; with --paper, the full network at the paper's widths (about 35 min a seed on one core)",
    run=_run, report=_report, check=_check_options,
    title=lambda options: ("Reddy 2024 at the paper's widths (150,000 SGD steps a seed unless --steps)"
                           if options["paper"] else _SUMMARY),
    options=(
        Option("--seeds", type=int, default=1, metavar="S",
               help="seeds per condition of the full network's sweep, or with --paper the seeds of the paper-width "
                    "runs (default 1)"),
        Option("--paper", action="store_true",
               help="only the full network at the paper's widths (150,000 SGD steps, float32, about 35 min a seed "
                    "on one core), in the data regime --regime, written as the record induction-head-paper-REGIME"),
        Option("--regime", choices=tuple(paper.PAPER_REGIMES), default=None,
               help="with --paper: 'competition' (B = 4, training classes only: the data-dependence figure's "
                    "regime; the default), 'novel' (B = 1, 80 %% novel classes: where the paper shows the head "
                    "forming abruptly), 'all-novel' (100 %% novel classes) or 'l-equals-n' ('novel' with L = N = 8)"),
        Option("--first-seed", type=int, default=None, metavar="F",
               help="with --paper: the first seed (default 0); seeds first .. first + seeds - 1"),
        Option("--K", type=int, default=None, metavar="K",
               help="with --paper: the number of classes (default the paper's 256; a multiple of L)"),
        Option("--model", choices=tuple(paper.MODELS), default=None,
               help="with --paper: the full network (default) or the two-parameter induction head"),
        Option("--steps", type=int, default=None, metavar="N",
               help="with --paper: SGD steps a seed (default the paper's 150,000)"),
        Option("--sampler", choices=SAMPLERS, default=None,
               help="with --paper: 'author' (the default: the data as Reddy's code draws them, 128 novel classes a "
                    "batch, p_C on every sequence) or 'fresh' (this package's sampler, the records before 0.2.0)"),
        Option("--init", choices=INITS, default=None,
               help="with --paper: 'package' (the default) or 'author' (Reddy's code's initialisation: Q, K, V "
                    "variance 1/D, the scalar biases N(0, 1/d))"),
    ))
