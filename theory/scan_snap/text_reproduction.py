"""Tian et al. 2023 on real text as a run record (``python -m theory reproduce scan-snap-text``):
one- and three-layer language models trained by SGD at constant learning rates on the
King James Bible (:mod:`~theory.scan_snap.text`), the lowest layer's attention measured
over training, and a sweep over the two learning rates.

The paper (its real-data experiments: WikiText-2 and -103, 1- and 3-layer transformers): the lowest layer's
attention becomes sparse and then stops changing at some point, although the learning
rate stays constant; on synthetic data (their Fig. 6) a larger η_Z gives sparser final
attention and a larger η_Y/η_Z a denser one (Y learns first and the attention freezes
earlier).  Each verdict below is a measured quantity against a stated bar:

- **sparsifies**: the final entropy (the authors' measure) is at most
  :data:`SPARSE_BAR` × its value at initialisation;
- **entropy settles**: the mean entropy over the last epoch differs from the mean over
  the epoch before by at most :data:`SETTLE_BAR` × the initial entropy;
- **pattern freezes**: the attention's step-to-step change (total variation between
  checkpoints) averaged over the last epoch is at most :data:`FREEZE_BAR` × its average
  over the first epoch;
- **leaves common tokens** (the paper's scan: attention moves from tokens common to many
  contexts to distinctive ones): the final attention on keys of the 20 most frequent types
  is at most :data:`COMMON_BAR` × what uniform attention gives them.
"""
from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np

from ..core._validate import executor as _executor, flag, function
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from .text import TextConfig, text_runs

__all__ = ["RECORD", "SPARSE_BAR", "SETTLE_BAR", "FREEZE_BAR", "COMMON_BAR", "BASE", "SWEEP_LR", "SWEEP_RATIO", "QUICK",
           "run_configs", "summarise", "reproduce", "format_report", "REPRODUCTION"]

RECORD = "scan-snap-text"
SPARSE_BAR, SETTLE_BAR, FREEZE_BAR, COMMON_BAR = 0.8, 0.05, 0.25, 0.8
BASE = TextConfig()                                  # 1 layer, width 64, 2,000 types, lr_z 5, 5 epochs
SWEEP_LR = (1.0, 2.0, 5.0)                           # lr_z
SWEEP_RATIO = (1.0, 2.0, 5.0, 10.0)                  # lr_y / lr_z (the lowest W₁, b₁)
QUICK = dict(vocab=200, d=16, d_hid=16, max_tokens=12_000, epochs=2, eval_every=5, eval_windows=4)


def _grid(quick: bool) -> tuple:
    """(lr_z values, ratios) of the 1-layer sweep."""
    return ((1.0, 5.0), (1.0, 5.0)) if quick else (SWEEP_LR, SWEEP_RATIO)


def run_configs(quick: bool = False) -> dict:
    """The runs by name: the 1-layer sweep ``sweep/lr{lr_z}/ratio{ratio}``, the 3-layer
    models ``layers3/lr{lr_z}``, a second seed of the 1-layer models at ratio 1
    (``seed1/lr{lr_z}``) and the 1-layer model at lr 5 without dropout (``nodropout``)."""
    base = replace(BASE, **QUICK) if flag("quick", quick) else BASE
    lrs, ratios = _grid(quick)
    runs = {f"sweep/lr{lr:g}/ratio{q:g}": replace(base, lr_z=lr, ratio=q) for lr in lrs for q in ratios}
    runs.update({f"layers3/lr{lr:g}": replace(base, layers=3, lr_z=lr) for lr in (1.0, 5.0)})
    if not quick:
        runs.update({f"seed1/lr{lr:g}": replace(base, lr_z=lr, seed=1) for lr in (1.0, 5.0)})
        runs["nodropout"] = replace(base, dropout=0.0)
    return runs


def summarise(run: dict) -> dict:
    """The numbers behind the verdicts (module docstring) of one :func:`~theory.scan_snap.text.train_text` run."""
    need = ("step", "steps", "steps_per_epoch", "entropy", "entropy_last", "change", "qk_change", "top1", "top3",
            "self", "previous", "common", "common_uniform", "val_loss")
    if not isinstance(run, dict) or any(k not in run for k in need):
        raise ValueError(f"run must be what train_text returns (keys {need}); got {str(run)[:60]!r}")
    step, spe, total = np.asarray(run["step"]), run["steps_per_epoch"], run["steps"]
    e, ch = np.asarray(run["entropy"]), np.asarray(run["change"])
    at = step[1:]                                                     # where each change ends
    last, before = step > total - spe, (step > total - 2 * spe) & (step <= total - spe)
    if not before.any():                                              # a one-epoch run: no epoch before
        before = last
    first_ch, last_ch = ch[at <= spe], ch[at > total - spe]
    out = dict(entropy_start=float(e[0]), entropy_end=float(e[-1]), entropy_min=float(e.min()),
               entropy_last_epoch=float(e[last].mean()), entropy_epoch_before=float(e[before].mean()),
               entropy_last_start=float(run["entropy_last"][0]), entropy_last_end=float(run["entropy_last"][-1]),
               top1_end=float(run["top1"][-1]), top3_end=float(run["top3"][-1]), self_end=float(run["self"][-1]),
               previous_end=float(run["previous"][-1]), common_start=float(run["common"][0]),
               common_end=float(run["common"][-1]), common_uniform=float(run["common_uniform"]),
               change_first_epoch=float(first_ch.mean()), change_last_epoch=float(last_ch.mean()),
               qk_change_first_epoch=float(np.asarray(run["qk_change"])[at <= spe].mean()),
               qk_change_last_epoch=float(np.asarray(run["qk_change"])[at > total - spe].mean()),
               val_loss_start=float(run["val_loss"][0]), val_loss_end=float(run["val_loss"][-1]))
    out.update(sparsifies=out["entropy_end"] <= SPARSE_BAR * out["entropy_start"],
               entropy_settles=abs(out["entropy_last_epoch"] - out["entropy_epoch_before"])
               <= SETTLE_BAR * out["entropy_start"],
               pattern_freezes=out["change_last_epoch"] <= FREEZE_BAR * out["change_first_epoch"],
               leaves_common=out["common_end"] <= COMMON_BAR * out["common_uniform"])
    return out


def reproduce(*, quick: bool = False, executor=None, progress=None) -> dict:
    """Train every run of :func:`run_configs` (on ``executor`` if given, the costliest
    first) and summarise each; the run record."""
    quick = flag("quick", quick)
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True) or (lambda m: None)
    configs = run_configs(quick)
    names = sorted(configs, key=lambda n: -configs[n].layers)         # 3-layer runs first
    say(f"{len(names)} runs of {configs[names[-1]].epochs} epochs ...")
    start = time.perf_counter()
    done = dict(zip(names, text_runs([configs[n] for n in names], executor)))
    parts = {"training and measuring": time.perf_counter() - start}
    some = done[names[0]]
    keep = ("step", "entropy", "entropy_last", "top1", "top3", "self", "previous", "common", "change", "to_final",
            "qk_change", "ffn_change", "val_loss")
    curves = {n: {k: done[n][k] for k in keep} for n in configs}
    for n in configs:                                                 # the training loss, one mean per checkpoint interval
        loss, every = np.asarray(done[n]["train_loss"]), configs[n].eval_every
        curves[n]["train_loss"] = [float(loss[i:i + every].mean()) for i in range(0, len(loss), every)]
    examples = {n: done[n]["example"] for n in ("sweep/lr1/ratio1", "sweep/lr5/ratio1", "layers3/lr1", "layers3/lr5")}
    return make_record(
        RECORD,
        settings=dict(quick=quick, runs={n: asdict(c) for n, c in configs.items()}, sweep_lr=_grid(quick)[0],
                      sweep_ratio=_grid(quick)[1],
                      bars=dict(sparse=SPARSE_BAR, settle=SETTLE_BAR, freeze=FREEZE_BAR, common=COMMON_BAR),
                      corpus=dict(source="bible -f gen1:1-rev22:21" if configs[names[0]].path is None
                                  else configs[names[0]].path, train_tokens=some["train_tokens"],
                                  val_tokens=some["val_tokens"], unk_share=some["unk_share"]),
                      steps=some["steps"], steps_per_epoch=some["steps_per_epoch"]),
        parts=parts,
        results={n: summarise(done[n]) for n in configs},
        curves=dict(runs=curves, examples=examples))


def _row(name: str, r: dict) -> str:
    yes = lambda b: "yes" if b else "no"
    return (f"  {name:20s} {r['entropy_start']:5.3f} → {r['entropy_end']:5.3f} (× {r['entropy_end'] / r['entropy_start']:.3f}, "
            f"min {r['entropy_min']:.3f})  last pos {r['entropy_last_start']:.2f} → {r['entropy_last_end']:.2f}  "
            f"top-1 {r['top1_end']:.3f}  self {r['self_end']:.3f} prev {r['previous_end']:.3f}  common "
            f"{r['common_start']:.3f} → {r['common_end']:.3f}  change {r['change_first_epoch']:.3f} → "
            f"{r['change_last_epoch']:.3f}  W_QᵀW_K {r['qk_change_first_epoch']:.3f} → "
            f"{r['qk_change_last_epoch']:.3f}  val {r['val_loss_end']:.3f}   "
            f"{yes(r['sparsifies'])}/{yes(r['entropy_settles'])}/{yes(r['pattern_freezes'])}/{yes(r['leaves_common'])}")


def format_report(record: dict) -> str:
    """The report text, rendered from a record of :func:`reproduce` only."""
    record = check_record(record, RECORD)
    s, r = record["settings"], record["results"]
    c, b = s["corpus"], s["bars"]
    base = s["runs"]["sweep/lr1/ratio1"]
    lines = [f"Tian et al. 2023 on real text: word-level LMs on {c['source']!r} ({c['train_tokens']:,} training "
             f"tokens, {c['val_tokens']:,} held-out tokens measured, {base['vocab']:,} types with <unk> "
             f"{100 * c['unk_share']:.1f} %); width {base['d']}, FFN {base['d_hid']}, one head, post-LN, dropout "
             f"{base['dropout']:g}, bptt {base['bptt']}, batch {base['batch']}, SGD without momentum, constant rate, "
             f"clip {base['clip']:g}; {base['epochs']} epochs = {s['steps']:,} steps, measured every "
             f"{base['eval_every']} steps",
             f"  verdicts: sparsifies (final entropy ≤ {b['sparse']:g} × initial) / entropy settles (last two "
             f"epochs' means within {b['settle']:g} × initial) / pattern freezes (last epoch's change ≤ "
             f"{b['freeze']:g} × first epoch's) / leaves common tokens (final attention on the 20 most frequent "
             f"types ≤ {b['common']:g} × uniform attention's)",
             "  run                  entropy, authors' measure (nats) … common = attention on the 20 most frequent "
             "types (uniform attention: " + f"{r['sweep/lr1/ratio1']['common_uniform']:.3f}); change = TV between "
             "checkpoints, first → last epoch; W_QᵀW_K = its relative change per interval; verdicts"]
    lines += [_row(n, r[n]) for n in r]
    q = s["sweep_ratio"]
    lines += ["", "Final entropy of the 1-layer sweep (rows lr_z, columns lr_y/lr_z = " + ", ".join(f"{x:g}" for x in q) + ")"]
    for lr in s["sweep_lr"]:
        lines.append(f"  lr_z = {lr:<4g}" + "".join(f"{r[f'sweep/lr{lr:g}/ratio{x:g}']['entropy_end']:9.3f}" for x in q))
    return "\n".join(lines)


REPRODUCTION = Reproduction(
    RECORD, "Tian et al. 2023 on real text: 1- and 3-layer LMs on the King James Bible by constant-rate SGD; the "
            "lowest layer's attention entropy, top-key mass and step-to-step change, and the two learning rates "
            "(needs Debian's bible-kjv-text; about 10 min on 2 cores)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor,
                                                                progress=progress),
    report=format_report)
