"""Reddy 2024 (ICLR), arXiv 2312.03002, at the paper's widths: the full network trained
for 150,000 SGD steps in each of the paper's data regimes, several seeds a regime, with
every accuracy and progress measure per seed, as a run record with its figure.

    python -m theory reproduce induction-head --paper --regime novel --seeds 6 --out DIR

The regimes (:data:`PAPER_REGIMES`; docs/papers.md, "Reddy 2024", says where each comes from):

- ``competition`` — bursty sequences of the training classes only (p_B = 1, p_C = 0,
  B = 4): the data-dependence figure's regime, where ICL and in-weights learning compete;
- ``novel`` — 80 % of the sequences use novel classes (p_C = 0.8, B = 1), so only ICL
  helps on them: the regime where the paper shows the head forming abruptly;
- ``all-novel`` — every sequence uses novel classes (p_C = 1, B = 1);
- ``l-equals-n`` — ``novel`` with L = N = 8 labels, where the paper's network failed to
  learn ICL in 6 of 6 seeds (the three-parameter model's origin is then a saddle).

The sweep-sized experiments (minutes configuration, sweeps, the landscape table) are in
:mod:`theory.induction.reproduction`; this module only adds the long runs.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np

from ..core._validate import choice, executor as _executor, function, nonnegative_int, positive_int
from ..core.records import check_record, make_record, round_trip
from .data import SAMPLERS
from .network import INITS
from .training import NETWORK, TWO_PARAM, NetworkConfig, NetworkRun, _train_quietly, train_network

__all__ = ["PAPER_REGIMES", "MODELS", "PAPER_STEPS", "PAPER_EVAL_EVERY", "RECORD_PREFIX", "CLASSIFIER_STEP",
           "paper_config", "record_name", "seed_summary",
           "reproduce", "format_report", "reproduce_report", "check_paper_record"]

PAPER_REGIMES = {"competition": dict(B=4, p_bursty=1.0, p_novel=0.0),
                 "novel": dict(B=1, p_bursty=1.0, p_novel=0.8),
                 "all-novel": dict(B=1, p_bursty=1.0, p_novel=1.0),
                 "l-equals-n": dict(B=1, p_bursty=1.0, p_novel=0.8, L=8)}
PAPER_STEPS = 150_000
PAPER_EVAL_EVERY = 1000            # 150 evaluations: the jump's width is read to 1,000 steps
RECORD_PREFIX = "induction-head-paper-"
MODELS = {"network": NETWORK, "two-param": TWO_PARAM}    # the full network; the two-parameter head


def paper_config(regime: str = "novel", *, seed: int = 0, steps: int = PAPER_STEPS, K: int | None = None,
                 dtype: str = "float32", sampler: str = "author", init: str = "package") -> NetworkConfig:
    """The paper's settings (NetworkConfig's defaults: K = 256, L = 32, N = 8, D = 63, 65
    positions, SGD lr 0.01, batch 128, weight decay 1e-6) in ``regime``, evaluated every
    :data:`PAPER_EVAL_EVERY` steps (or at the end of a shorter run); ``K`` overrides the
    number of classes (the competition regime's K sweep).  The data are drawn as the
    author's code draws them (``sampler="author"``: 128 novel classes per batch, p_C on
    every sequence; ``"fresh"``: this package's sampler, which the records made before
    0.2.0 used); ``init="author"`` starts from the author's initialisation.  float32 by
    default: the training curves follow float64's within the seed-to-seed spread (README)
    at 1.75× the speed."""
    regime = choice("regime", regime, tuple(PAPER_REGIMES))
    steps = positive_int("steps", steps)
    extra = {} if K is None else dict(K=positive_int("K", K))
    return NetworkConfig(**PAPER_REGIMES[regime], **extra, steps=steps, eval_every=min(PAPER_EVAL_EVERY, steps),
                         seed=nonnegative_int("seed", seed), dtype=dtype, sampler=sampler, init=init)


def record_name(regime: str, K: int | None = None, model: str = "network", *, sampler: str = "author",
                init: str = "package") -> str:
    """``induction-head-paper-<regime>`` (``-K<K>`` when K is given, ``-two-param`` for the
    two-parameter model, ``-fresh-sampler`` for this package's sampler, ``-author-init``
    for the author's initialisation)."""
    regime, model = choice("regime", regime, tuple(PAPER_REGIMES)), choice("model", model, tuple(MODELS))
    sampler, init = choice("sampler", sampler, SAMPLERS), choice("init", init, INITS)
    return (RECORD_PREFIX + regime + ("" if K is None else f"-K{positive_int('K', K)}")
            + ("" if model == "network" else "-" + model) + ("-fresh-sampler" if sampler == "fresh" else "")
            + ("-author-init" if init == "author" else ""))


def check_paper_record(record) -> dict:
    """``record`` if it is a run record of :func:`reproduce` (any regime)."""
    if isinstance(record, dict) and isinstance(record.get("name"), str) and record["name"].startswith(RECORD_PREFIX):
        return check_record(record, record["name"])
    return check_record(record, RECORD_PREFIX + "<regime>")          # raises, naming what was expected


CLASSIFIER_STEP = 3000             # where the report reads the classifier's last ReLU layer early in a run


def seed_summary(run: NetworkRun) -> dict:
    """What the report prints of one seed: the rises ``(half-way step, 10-90 % width)`` of
    ICL, both attention progress measures and the context-label accuracy (None where a
    curve rose by less than 0.2), the step where the context-label accuracy first reached
    90 % of its final value and the ICL accuracy there, the in-weights peak, the finals,
    whether ICL was learned (final ICL accuracy >= 0.5), and (runs that measured it) the
    classifier's last ReLU layer at the first evaluation at or after step
    :data:`CLASSIFIER_STEP` — ``early`` — and at the end."""
    if not isinstance(run, NetworkRun) or run.context_label is None:
        raise ValueError("run must be a NetworkRun with the context-label accuracy measured (train_network)")
    cla = run.context_label
    i90 = int(np.argmax(cla >= 0.9 * cla[-1]))
    k = int(np.argmax(run.iwl))
    early = None
    if run.relu_active is not None:
        e = int(np.argmax(run.steps >= min(CLASSIFIER_STEP, run.steps[-1])))
        early = dict(step=int(run.steps[e]), **{c: float(getattr(run, c)[e]) for c in
                                               ("relu_active", "relu_dead", "relu_silent", "b1", "b2", "b3")})
    return dict(seed=run.config.seed,
                rise={c: run.jump(c) for c in ("icl", "prev_token", "match_label", "context_label")},
                cla_90=int(run.steps[i90]), icl_at_cla_90=float(run.icl[i90]),
                iwl_peak=float(run.iwl[k]), iwl_peak_step=int(run.steps[k]),
                final={c: float(getattr(run, c)[-1]) for c in run.curves()},
                learned=bool(run.icl[-1] >= 0.5), seconds=run.seconds, early=early)


def reproduce(regime: str = "novel", *, seeds: int = 1, first_seed: int = 0, steps: int = PAPER_STEPS,
              K: int | None = None, model: str = "network", sampler: str = "author", init: str = "package",
              executor=None, progress=None) -> dict:
    """Train the full network (or with ``model="two-param"`` the two-parameter induction
    head, :mod:`theory.induction.two_param`) at the paper's widths in ``regime`` with seeds
    ``first_seed, ..., first_seed + seeds - 1`` (in parallel through ``executor``, any
    ``concurrent.futures.Executor``) and return the run record
    (``induction-head-paper-<regime>``): each seed's curves every 1,000 steps, its
    training loss averaged over each 1,000 steps, and :func:`seed_summary`.  ``sampler``
    and ``init``: see :func:`paper_config` (the two-parameter model has no author's init)."""
    seeds, first_seed = positive_int("seeds", seeds), nonnegative_int("first_seed", first_seed)
    cfgs = [paper_config(regime, seed=first_seed + i, steps=steps, K=K, sampler=sampler, init=init)
            for i in range(seeds)]
    net = MODELS[choice("model", model, tuple(MODELS))]
    if net is TWO_PARAM and init != "package":
        raise ValueError(f"init must be 'package' for the two-parameter model; got {init!r}")
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True)
    start = time.perf_counter()
    if executor is None:
        runs = [train_network(cfg, progress=say, model=net) for cfg in cfgs]
    else:
        runs = list(executor.map(_train_quietly, cfgs, [net] * len(cfgs)))
    wall = time.perf_counter() - start
    every = cfgs[0].eval_every
    settings = dict(regime=regime, model=net.name, regime_fields=PAPER_REGIMES[regime], seeds=[c.seed for c in cfgs],
                    network=asdict(replace(cfgs[0], seed=first_seed)))
    results = dict(runs=[r.to_dict(with_loss=False) for r in runs], summaries=[seed_summary(r) for r in runs])
    n = len(runs[0].loss) // every * every
    curves = dict(loss_every=every, loss=[r.loss[:n].reshape(-1, every).mean(axis=1) for r in runs])
    return make_record(record_name(regime, K, model, sampler=sampler, init=init), settings=settings, parts={"training (wall clock)": wall},
                       results=results, curves=curves)


def _rise(r) -> str:
    return "none" if r is None else f"{r[0]:,} ({r[1]:,})"


def format_report(record: dict) -> str:
    """The report text, rendered from a run record of :func:`reproduce` only."""
    record = check_paper_record(record)
    s, res = record["settings"], record["results"]
    c = s["network"]
    fields = ", ".join(f"{k} = {v}" for k, v in s["regime_fields"].items())
    out = [f"Reddy 2024 at the paper's widths, the {s.get('model', NETWORK.name)}, regime {s['regime']!r} ({fields}): K = {c['K']}, L = {c['L']}, "
           f"N = {c['N']}, D = {c['D']}, width {c['n_positions'] + c['D']}, SGD lr {c['lr']}, batch {c['batch']}, "
           f"weight decay {c['weight_decay']:g}, {c['steps']:,} steps, {c['dtype']}, the "
           f"{c.get('sampler', 'fresh')} sampler, the {c.get('init', 'package')} initialisation, evaluated every "
           f"{c['eval_every']:,} steps; chance 1/L = {1 / c['L']:.3f}, 1/N = {1 / c['N']:.3f}.",
           "Rises: half-way step (10-90 % width); CLA = context-label accuracy (predicts some label of the "
           "context); 'CLA 90 %' = first step at 90 % of the final CLA, with the ICL accuracy there.",
           "  seed  ICL rise          prev-token rise   match-label rise  CLA rise          CLA 90 % (ICL)   "
           "IWL peak (step)   final ICL / swapped / IWL / CLA     seconds"]
    for m in res["summaries"]:
        f, r = m["final"], m["rise"]
        out.append(f"  {m['seed']:>4}  {_rise(r['icl']):<16}  {_rise(r['prev_token']):<16}  "
                   f"{_rise(r['match_label']):<16}  {_rise(r['context_label']):<16}  "
                   f"{m['cla_90']:>7,} ({m['icl_at_cla_90']:.3f})  {m['iwl_peak']:.3f} ({m['iwl_peak_step']:>7,})  "
                   f"{f['icl']:.3f} / {f['swapped']:.3f} / {f['iwl']:.3f} / {f['context_label']:.3f}  "
                   f"{m['seconds']:>8.0f}")
    if all(m.get("early") for m in res["summaries"]):
        out.append("The classifier's last ReLU layer on the ICL set (active = outputs above 0; dead units = at 0 on "
                   "every sequence; silent = sequences with every unit at 0) and its scalar biases, early / final:")
        out.append("  seed  step    active   dead units  silent seqs  b1 / b2 / b3                 | final: active   "
                   "dead units  silent seqs  b1 / b2 / b3")
        for m in res["summaries"]:
            e, f = m["early"], m["final"]
            out.append(f"  {m['seed']:>4}  {e['step']:>6,}  {e['relu_active']:.4f}   {e['relu_dead']:.3f}       "
                       f"{e['relu_silent']:.3f}        {e['b1']:+.3f} / {e['b2']:+.3f} / {e['b3']:+.3f}     |"
                       f"        {f['relu_active']:.4f}   {f['relu_dead']:.3f}       {f['relu_silent']:.3f}        "
                       f"{f['b1']:+.3f} / {f['b2']:+.3f} / {f['b3']:+.3f}")
    learned = [m for m in res["summaries"] if m["learned"]]
    out.append(f"{len(learned)} of {len(res['summaries'])} seeds learned ICL (final ICL accuracy >= 0.5)"
               + (": ICL half-way at steps " + ", ".join(f"{m['rise']['icl'][0]:,}" for m in learned
                                                         if m["rise"]["icl"]) if learned else "")
               + f"; {record['parts']['training (wall clock)']:.0f} s wall clock for the seeds.")
    return "\n".join(out)


def reproduce_report(regime: str = "novel", *, seeds: int = 1, first_seed: int = 0, steps: int = PAPER_STEPS,
                     K: int | None = None, model: str = "network", sampler: str = "author", init: str = "package",
                     executor=None, progress=None) -> str:
    """The report text of :func:`reproduce` (rendered from its record after a JSON round trip)."""
    return format_report(round_trip(reproduce(regime, seeds=seeds, first_seed=first_seed, steps=steps, K=K,
                                              model=model, sampler=sampler, init=init, executor=executor,
                                              progress=progress)))
