"""Dai et al.'s experiments at CPU scale, as a run record (``python -m theory reproduce dai-experiments``).

Per pretraining seed (one job each; ``--workers``):

1. **ICL against finetuning** (:mod:`theory.dual_form.icl_vs_ft`).  The model pretrained on
   in-context classification with vanilla attention; on fresh test tasks, ZS, ICL and FT
   (``W_K``, ``W_V``, SGD, one pass in order, the learning rate of :data:`~theory.dual_form.
   icl_vs_ft.LR_GRID` best on held-out tasks), and the three metrics per layer.  Beside them
   the baselines Deutch et al. 2023 argue for: the same comparison with finetuning of other
   matrices (``W_Q``, ``W_O``) and on the untrained model (the same initialisation, no
   pretraining), the random-update SimAOU (uniform as the authors', gaussian) and the ZSL
   SimAM of the paper itself.
2. **Momentum attention.**  The same model, seed, data stream, budget and optimiser with
   vanilla attention (η = 0) and Dai's momentum attention (each η of ``etas``) on the two
   objectives of :mod:`theory.dual_form.pretraining`; the held-out loss over training, the
   ICL accuracy against the number of demonstrations, and the language model's loss in the
   first and second half of the context.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ..core._validate import executor as _executor, flag, nonnegative_int
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from . import icl_vs_ft as C
from .gpt import _forward, _xent, init_gpt
from ..markov_icl.strategies import strategy_losses
from .pretraining import DEFAULTS, _lm_batch, icl_accuracy, pretrain
from .tasks import _sample_tasks

__all__ = ["RECORD", "reproduce", "format_report", "REPRODUCTION"]

RECORD = "dai-experiments"
DEMOS = (0, 1, 2, 4, 8, 16)
COMPARISONS = {"pretrained, FT of W_K, W_V": ("pretrained", C.KV),      # the paper's
               "pretrained, FT of W_Q, W_O": ("pretrained", ("W_Q", "W_O")),
               "untrained, FT of W_K, W_V": ("untrained", C.KV)}


@dataclass(frozen=True)
class _Config:
    """One seed's job."""
    seed: int
    steps: int = 2000
    etas: tuple = (0.5, 0.9)
    n_test: int = 2000
    n_val: int = 500
    n_eval: int = 512
    every: int = 100
    settings: dict = field(default_factory=lambda: dict(DEFAULTS))


def _jobs(quick: bool = False, seed: int = 0) -> list:
    """The jobs: seeds ``seed, seed + 1, seed + 2`` at full size; one seed, 40 steps, small
    test sets and one η in ``quick`` mode (CI: it checks that everything runs, not the numbers)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    if quick:
        return [_Config(seed, steps=40, etas=(0.5,), n_test=100, n_val=50, n_eval=64, every=20)]
    return [_Config(seed + s) for s in range(3)]


def _lm_halves(params, x, y, heads, eta):
    """The language model's held-out loss in the first and the second half of the positions."""
    logits = _forward(params, x, heads, eta)[0]
    T = x.shape[1] // 2
    first, second = y.copy(), y.copy()
    first[:, T:], second[:, :T] = -1, -1
    return [_xent(logits, lab, "mean")[0] for lab in (first, second)]


def _run_seed(config: _Config) -> dict:
    """Everything of one seed (see the module docstring)."""
    c, s = config, config.settings
    H, N, d = s["heads"], s["N"], s["d"]
    rng = np.random.default_rng([c.seed, 7])                          # the test and held-out tasks
    X_val, y_val, _ = _sample_tasks(rng, c.n_val, N + 1, d, s["prior"])
    X, y, _ = _sample_tasks(rng, c.n_test, N + 1, d, s["prior"])
    x_lm, y_lm, lm_tokens, lm_P = _lm_batch(np.random.default_rng([c.seed, 8]), c.n_test, s["T_lm"], s["k"])
    refs = strategy_losses(lm_tokens[:, :-1], lm_P)                 # against the true next-token law
    out, times = dict(momentum={}, comparison={}), {}
    out["lm_references"] = {name: float(np.mean(v)) for name, v in refs.items()}
    models = {}
    for objective in ("icl", "lm"):
        for eta in (0.0,) + tuple(c.etas):
            start = time.perf_counter()
            p, curve = pretrain(c.seed, objective, steps=c.steps, eta=eta, every=c.every, n_eval=c.n_eval,
                                   settings=s)
            row = dict(curve=curve)
            if objective == "icl":
                row["accuracy"] = icl_accuracy(p, X, y, DEMOS, heads=H, eta=eta)
                models[eta] = p
            else:
                row["loss_halves"] = _lm_halves(p, x_lm, y_lm, H, eta)
            out["momentum"][f"{objective} eta={eta:g}"] = row
            times[f"pretrain {objective} η={eta:g}"] = time.perf_counter() - start
    untrained = init_gpt(np.random.default_rng(c.seed), d + 4, 2, D=s["D"], layers=s["layers"], heads=H,
                         T=2 * N + 2)                                  # pretrain()'s initialisation
    for name, (which, keys) in COMPARISONS.items():
        start = time.perf_counter()
        p = models[0.0] if which == "pretrained" else untrained
        lr, val = C.choose_lr(p, X_val, y_val, N, keys=keys, heads=H)
        res = C.compare(p, X, y, N, lr, keys=keys, heads=H, rng=np.random.default_rng([c.seed, 9]))
        out["comparison"][name] = dict(lr=lr, val_accuracy=val, **res)
        times[f"compare {name}"] = time.perf_counter() - start
    return dict(config=asdict(c), results=out, times=times)


def reproduce(*, quick: bool = False, seed: int = 0, executor=None) -> dict:
    """The run record of the module docstring (``quick``: CI sizes)."""
    jobs = _jobs(quick, seed)
    executor = _executor("executor", executor)
    mapper = executor.map if executor is not None else map
    start = time.perf_counter()
    runs = list(mapper(_run_seed, jobs))
    parts = {"all seeds": time.perf_counter() - start}
    parts.update({k: sum(r["times"][k] for r in runs) for k in runs[0]["times"]})
    c = runs[0]["config"]
    return make_record(RECORD, settings=dict(quick=quick, seeds=[r["config"]["seed"] for r in runs], steps=c["steps"],
                                             etas=c["etas"], n_test=c["n_test"], n_val=c["n_val"], demos=DEMOS,
                                             lr_grid=C.LR_GRID, model=c["settings"]),
                       parts=parts,
                       results=dict(comparison={n: [r["results"]["comparison"][n] for r in runs] for n in COMPARISONS},
                                    lm_references=[r["results"]["lm_references"] for r in runs],
                                    momentum={k: [{a: b for a, b in r["results"]["momentum"][k].items() if a != "curve"}
                                                  for r in runs] for k in runs[0]["results"]["momentum"]}),
                       curves=dict(momentum={k: [r["results"]["momentum"][k]["curve"] for r in runs]
                                             for k in runs[0]["results"]["momentum"]}))


def _ms(values, fmt="{:.3f}") -> str:
    """``mean ± sd`` over seeds (sd with n − 1; just the mean for one seed); None entries skipped."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if v.size == 0:
        return "undefined"
    m = fmt.format(v.mean())
    return m if v.size == 1 else f"{m} ± {fmt.format(v.std(ddof=1))}"


def _at(curve, step):
    """The held-out loss of a curve at the last evaluation at or before ``step``."""
    steps = np.asarray(curve["steps"])
    return curve["loss"][int(np.searchsorted(steps, step, side="right")) - 1]


def format_report(record: dict) -> str:
    """The tables of the record (nothing recomputed but seed means)."""
    record = check_record(record, RECORD)
    s, r = record["settings"], record["results"]
    m = s["model"]
    n_seeds = len(s["seeds"])
    spread = "mean ± sd over" if n_seeds > 1 else "one seed:"
    out = [f"Dai et al. 2023 at CPU scale: a {m['layers']}-layer, {m['heads']}-head softmax transformer (width {m['D']}, "
           f"no MLP), Adam lr {m['lr']:g}, batch {m['batch']}, {s['steps']:,} steps; {spread} {n_seeds} seed(s) "
           f"{s['seeds']}",
           f"  task: binary linear classification, d = {m['d']}, w = {m['prior']:g} e1 + N(0, I), {m['N']} demonstrations; "
           f"{s['n_test']} test tasks, the FT learning rate from {list(s['lr_grid'])} on {s['n_val']} held-out tasks", "",
           "ICL against finetuning (per layer: layer 1, layer 2)"]
    for name, runs in r["comparison"].items():
        g = lambda k: [x[k] for x in runs]
        layer = lambda k: " | ".join(_ms([x[k][l] if x[k] is not None else None for x in runs])
                                     for l in range(m["layers"]))
        out += [f"  {name} (lr {', '.join(f'{x:g}' for x in g('lr'))})",
                f"    accuracy  ZS {_ms(g('acc_zs'))}   ICL {_ms(g('acc_icl'))}   FT {_ms(g('acc_ft'))};  "
                f"ICL agrees with FT on {_ms(g('agree_icl_ft'))}, with ZS on {_ms(g('agree_icl_zs'))}",
                f"    Rec2FTP   {_ms(g('rec2ftp'), '{:.1f}')} %  (of {_ms(g('n_fixed_by_ft'), '{:.0f}')} answers FT corrects)",
                f"    SimAOU    {layer('sim_aou')}   (F2T only: {layer('f2t_sim_aou')})",
                f"    random    uniform {layer('random_uniform')}   gaussian {layer('random_gaussian')}",
                f"    SimAM     {layer('sim_am')}   ZSL SimAM {layer('zsl_sim_am')}"]
    out += ["", "Momentum attention against vanilla attention (same seeds, data, budget)",
            f"  {'model':16s} {'held-out loss':>17s}   ICL accuracy with " + ", ".join(map(str, s["demos"])) + " demonstrations"]
    for key, runs in r["momentum"].items():
        if key.startswith("icl"):
            final = _ms([c["loss"][-1] for c in record["curves"]["momentum"][key]])
            acc = "  ".join(_ms([x["accuracy"][i] for x in runs]) for i in range(len(s["demos"])))
            early = _ms([_at(c, s["steps"] // 4) for c in record["curves"]["momentum"][key]])
            out.append(f"  {key:16s} {final:>17s}   {acc}   (loss at step {s['steps'] // 4}: {early})")
    out.append(f"  {'language model':16s} {'held-out loss':>17s}   first half / second half of the context")
    for key, runs in r["momentum"].items():
        if key.startswith("lm"):
            final = _ms([c["loss"][-1] for c in record["curves"]["momentum"][key]])
            early = _ms([_at(c, s["steps"] // 4) for c in record["curves"]["momentum"][key]])
            out.append(f"  {key:16s} {final:>17s}   {_ms([x['loss_halves'][0] for x in runs])} / "
                       f"{_ms([x['loss_halves'][1] for x in runs])}   (loss at step {s['steps'] // 4}: {early})")
    ref = r["lm_references"]
    out.append("  references on the same test sequences (cross-entropy against the true next-token law, all positions): "
               + ", ".join(f"{n} {_ms([x[n] for x in ref])}" for n in ("entropy", "bigram", "unigram", "uniform"))
               + " — 'entropy' is the floor, 'bigram' the in-context bigram counts")
    return "\n".join(out)


REPRODUCTION = Reproduction(
    RECORD, "Dai et al. 2023's experiments at CPU scale: ICL vs finetuning (Rec2FTP, SimAOU, SimAM per layer, with "
            "baselines) and momentum against vanilla attention (3 seeds; minutes)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor),
    report=format_report)
