"""In-context Markov chains at CPU scale, as a run record (``python -m theory reproduce markov-icl``).

The two-layer transformer (the authors' settings, several seeds) and the minimal model (with
the causal mask and with the authors' unmasked first layer), each trained on fresh ICL-MC
sequences (k = 2 tokens, T = 100), with the KL to each strategy over training, the loss
against the true next-token law beside each strategy's, and the mechanism measures
(:mod:`theory.markov_icl.training`).
"""
from __future__ import annotations

import time
from dataclasses import replace

from ..core._validate import executor as _executor, flag, nonnegative_int
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from .training import STRATEGIES, MarkovConfig, stage_summary, train_markov

__all__ = ["RECORD", "TRANSFORMER", "MINIMAL", "markov_configs", "reproduce", "first_move", "format_report",
           "REPRODUCTION"]

RECORD = "markov-icl"
TRANSFORMER = MarkovConfig(steps=6000, eval_every=100)
MINIMAL = MarkovConfig(model="minimal", batch=128, steps=3000, lr=1e-2, lr_v=1.0, eval_every=100)
SEEDS = (0, 1, 2, 3)


def markov_configs(quick: bool = False, seed: int = 0) -> dict:
    """The runs: ``transformer-<s>`` for each seed, ``minimal-<mask>-<s>`` for two seeds and both masks."""
    tiny = dict(T=20, steps=40, eval_every=10, n_eval=32, batch=16)
    t, m = (replace(TRANSFORMER, **tiny), replace(MINIMAL, **tiny)) if quick else (TRANSFORMER, MINIMAL)
    seeds = SEEDS[:1] if quick else SEEDS
    jobs = {f"transformer-{s}": replace(t, seed=seed + s) for s in seeds}
    for mask in ("causal", "authors"):
        for s in seeds[:2]:
            jobs[f"minimal-{mask}-{s}"] = replace(m, mask=mask, seed=seed + s)
    return jobs


def reproduce(*, quick: bool = False, seed: int = 0, executor=None) -> dict:
    """The run record of the module docstring (``quick``: CI sizes)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    executor = _executor("executor", executor)
    mapper = executor.map if executor is not None else map
    jobs = markov_configs(quick, seed)
    names = sorted(jobs, key=lambda n: -jobs[n].steps * (3 if jobs[n].model == "transformer" else 1))
    start = time.perf_counter()
    runs = dict(zip(names, mapper(train_markov, [jobs[n] for n in names])))
    runs = {n: runs[n] for n in jobs}
    return make_record(RECORD, settings=dict(quick=quick, seed=seed, configs={n: r["config"] for n, r in runs.items()}),
                       parts={"training": time.perf_counter() - start},
                       results={n: {"stages": stage_summary(r), "strategies": r["strategies"], "final": r["final"]}
                                for n, r in runs.items()},
                       curves={n: {"steps": r["steps"], **r["curves"]} for n, r in runs.items()})


def first_move(steps, values, level):
    """The first step at which ``values`` reach ``level`` (None if never)."""
    return next((s for s, v in zip(steps, values) if v >= level), None)


def format_report(record: dict) -> str:
    """The tables of the record (nothing recomputed)."""
    record = check_record(record, RECORD)
    s, r, cur = record["settings"], record["results"], record["curves"]
    first = next(iter(r.values()))
    t = next(c for c in s["configs"].values() if c["model"] == "transformer")
    m = next(c for c in s["configs"].values() if c["model"] == "minimal")
    out = [f"In-context Markov chains (Edelman et al. 2024): k = {t['k']} tokens, T = {t['T']} positions, Dirichlet(1) rows",
           f"  transformer: width {t['d']}, {t['heads']} head(s) in layer 1, AdamW lr {t['lr']:g} betas {tuple(t['betas'])} "
           f"wd {t['weight_decay']:g}, {t['steps']:,} steps of {t['batch']} (no dropout)",
           f"  minimal model: SGD lr {m['lr']:g} (W) and {m['lr_v']:g} (v), {m['steps']:,} steps of {m['batch']}",
           "  the strategies' loss against the true next-token law on the first run's held-out set (each seed has its "
           "own; '− bigram' below uses the run's own): "
           + ", ".join(f"{n} {first['strategies'][n]:.4f}" for n in STRATEGIES), "",
           f"  {'run':24s} {'unigram nearest from':>21s} {'bigram nearest from':>20s} {'final loss':>11s} "
           f"{'− bigram':>9s} {'prev-token':>11s} {'induction':>13s}"]
    for n, row in r.items():
        st = row["stages"]
        c = cur[n]
        ind = f"{c['induction'][-1]:.3f} ({c['induction_chance'][-1]:.2f})" if "induction" in c else "—"
        ind = f"{ind:>13s}"
        out.append(f"  {n:24s} {str(st['unigram_from']):>21s} {str(st['bigram_from']):>20s} {st['final_loss']:11.4f} "
                   f"{st['excess_over_bigram']:+9.4f} {c['previous_token'][-1]:11.3f} {ind}")
    out += ["", "  which layer moves first (the first evaluation where it has moved): layer 1 when its weight on the "
                "previous token exceeds 1.5× its start, the minimal model's W when its diagonal exceeds its off-diagonal "
                "by 0.01"]
    for n, c in cur.items():
        out.append(f"  {n:24s} layer 1 from {first_move(c['steps'], c['previous_token'], 1.5 * c['previous_token'][0])}"
                   + (f", W from {first_move(c['steps'], c['w_diag_minus_off'], 0.01)}" if "w_diag_minus_off" in c else ""))
    out.append("  (nearest: the strategy with the smallest KL to the model on the held-out set; prev-token: layer 1's "
               "mean weight on the previous token; induction: layer 2's attention mass on the positions that follow an "
               "earlier occurrence of the current token, second half of the sequence, with its value under uniform "
               "attention in brackets)")
    return "\n".join(out)


REPRODUCTION = Reproduction(
    RECORD,
    "Edelman et al. 2024: the two-layer transformer (4 seeds) and the minimal model (causal and the authors' unmasked "
    "layer 1) on in-context Markov chains — the KL to the uniform, unigram and bigram strategies over training",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor),
    report=format_report)
