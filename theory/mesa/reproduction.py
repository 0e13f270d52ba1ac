"""von Oswald et al. 2023b at CPU scale, as a run record: the trained depths against the
baselines (:mod:`theory.mesa.training`), RevAlg-1 and the linear probes
(:mod:`theory.mesa.analysis`).  :func:`format_report` renders the tables from the record
only (``python -m theory reproduce mesa``).
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict

import numpy as np

from ..core._validate import as_rng, executor as _executor, flag, nonnegative_int, positive_int
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from .analysis import norm_inliers, preconditioned_inputs, probe_scores, revalg_layer, revalg_scalars
from .attention import residual_streams
from .data import linear_dynamics
from .experiments import (block_scalar_layer, copy_probes, eos_loss, fewshot_losses, fewshot_sequences,
                          interpolated_layer, tune_eos, weight_sparsity)
from .raw import copy_layer_forward, previous_weight
from .training import AUTHOR_ETA, C_GRID, DEPTH, RAW, model_streams, ETA_GRID, LAM_GRID, baselines, model_tokens, position_losses, predict, quick_config, train

__all__ = ["PROBE_T", "SHOW_T", "BASELINES", "ALPHAS", "SPARSITY_THRESHOLD", "reproduce", "format_report", "REPRODUCTION"]


# --------------------------------------------------------------------------- the reproduction
PROBE_T = (2, 5, 10, 15, 20, 30, 40, 50)     # positions (1-based t) shown in the probe table
SHOW_T = (1, 2, 5, 10, 20, 30, 40, 50)       # positions shown in the depth table
BASELINES = ("zero", "gd", "gd_author", "gd_c_t", "lsq", "mesa_layer", "true")
ALPHAS = tuple(round(a, 2) for a in np.linspace(0.0, 1.0, 11))   # trained (0) → RevAlg-1 (1)
SPARSITY_THRESHOLD = 0.01                    # an entry counts above 1 % of its product's largest
EOS = dict(steps=300, batch=64, lr=1e-2)     # prompt tuning: Adam on the EOS state alone (the authors' lr: 1e-3)
QUICK_EOS = dict(steps=60, batch=32, lr=3e-2)  # the same at CI scale


def _run(config):
    say = lambda step, loss: print(f"  {config.layers} layer(s): step {step:5d}, loss {loss:.5f}", file=sys.stderr)
    start = time.perf_counter()
    layers, losses = train(config, progress=say)
    return layers, losses, time.perf_counter() - start


def reproduce(*, quick: bool = False, seed: int = 0, test_batch: int | None = None, executor=None) -> dict:
    """Train the models of :data:`DEPTH` (:func:`quick_config` if ``quick``), compare them
    with the baselines, reverse-engineer the 1-layer model and probe the deepest; returns
    the run record.  ``executor``: runs the trainings in parallel (``map``)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    executor = _executor("executor", executor)
    n_test = (256 if quick else 2048) if test_batch is None else positive_int("test_batch", test_batch)
    configs = [quick_config(c) if quick else c for c in DEPTH]
    raw_c = quick_config(RAW) if quick else RAW
    everything = configs + [raw_c]
    parts, start = {}, time.perf_counter()
    order = sorted(range(len(everything)), key=lambda i: -everything[i].layers - 3 * everything[i].raw)   # costliest first
    done = list((executor.map if executor is not None else map)(_run, [everything[i] for i in order]))
    runs = [done[order.index(i)] for i in range(len(everything))]
    raw_run = runs.pop()
    parts["training"] = time.perf_counter() - start
    for c, r in zip(everything, runs + [raw_run]):
        parts[f"training {c.layers} layer(s){' raw' if c.raw else ''} (in its process)"] = r[2]
    start = time.perf_counter()
    c0 = configs[0]
    rng = as_rng(10_000 + seed)
    fit = linear_dynamics(rng, n_test, c0.T, c0.D, sigma=c0.sigma)
    test = linear_dynamics(rng, n_test, c0.T, c0.D, sigma=c0.sigma)
    base = baselines(fit.S, test)
    models = {f"{c.layers}": position_losses(predict(c, r[0], test.S), test.S) for c, r in zip(configs, runs)}
    parts["baselines and test losses"] = time.perf_counter() - start
    start = time.perf_counter()
    scal = revalg_scalars(runs[0][0][0], c0.D)
    rebuilt = position_losses(predict(c0, [revalg_layer(scal, c0.D)], test.S), test.S)
    deep_c, deep = configs[-1], runs[-1][0]
    streams_fit = residual_streams(deep, model_tokens(deep_c, fit.S), clip=deep_c.resid_clip)
    streams_test = residual_streams(deep, model_tokens(deep_c, test.S), clip=deep_c.resid_clip)
    Y = {"next_state": (fit.S[:, 1:], test.S[:, 1:]),
         "preconditioned": (preconditioned_inputs(fit.S)[:, :-1], preconditioned_inputs(test.S)[:, :-1])}
    keep = {"next_state": (None, None),                                 # bounded: every sequence counts
            "preconditioned": (norm_inliers(Y["preconditioned"][0]), norm_inliers(Y["preconditioned"][1]))}
    probes = {name: np.array([probe_scores(Xf[:, :-1], yf, Xt[:, :-1], yt, keep_fit=keep[name][0],
                                           keep_test=keep[name][1])
                              for Xf, Xt in zip(streams_fit, streams_test)])
              for name, (yf, yt) in Y.items()}                             # (layers + 1, T − 1)
    left_out = 1.0 - float(keep["preconditioned"][1].mean())
    parts["RevAlg-1 and probes"] = time.perf_counter() - start
    start = time.perf_counter()
    targets = c0.T - 1                                     # the test loss: the mean over the targets
    sparsity = {f"{c.layers}": [weight_sparsity(layer, SPARSITY_THRESHOLD) for layer in r[0]]
                for c, r in zip(configs, runs)}
    rev = revalg_layer(scal, c0.D)
    interpolation = [float(position_losses(predict(c0, [interpolated_layer(runs[0][0][0], rev, a)], test.S),
                                           test.S).sum() / targets) for a in ALPHAS]
    n_pairs = (c0.T - 1) // 2
    fs_fit, _ = fewshot_sequences(rng, n_test, n_pairs, c0.D)
    fs_test, _ = fewshot_sequences(rng, n_test, n_pairs, c0.D)
    fewshot = {f"{c.layers}": fewshot_losses(c, r[0], fs_fit, fs_test) for c, r in zip(configs, runs)}
    parts["sparsity, interpolation, few-shot"] = time.perf_counter() - start
    start = time.perf_counter()                    # prompt tuning: an EOS state after every pair
    n_eos = (c0.T - 1) // 3
    eos_test = fs_test[:, :2 * n_eos]
    eos, eos_settings = {}, QUICK_EOS if quick else EOS
    for c, r in zip(configs, runs):
        tuned = tune_eos(c, r[0], as_rng(20_000 + seed + c.layers), n_pairs=n_eos, sigma=c.sigma, **eos_settings)
        eos[f"{c.layers}"] = dict(tuned=eos_loss(c, r[0], eos_test, tuned["eos"])[0],
                                  init=eos_loss(c, r[0], eos_test, tuned["init"])[0], train=tuned["loss"])
    parts["prompt tuning"] = time.perf_counter() - start
    start = time.perf_counter()                    # RevAlg-d: every layer's products as block scalars × I
    revalg_d, revalg_d_kept, d_line = {}, {}, {}
    for c, r in zip(configs[1:], runs[1:]):
        rebuilt_d = [block_scalar_layer(layer, c.D) for layer in r[0]]
        revalg_d[f"{c.layers}"] = float(position_losses(predict(c, [b[0] for b in rebuilt_d], test.S),
                                                        test.S).sum() / targets)
        revalg_d_kept[f"{c.layers}"] = [b[1] for b in rebuilt_d]
        d_line[f"{c.layers}"] = [float(position_losses(predict(c, [interpolated_layer(l, b[0], a) for l, b in
                                                                    zip(r[0], rebuilt_d)], test.S), test.S).sum() / targets)
                                 for a in ALPHAS]
    parts["RevAlg-d"] = time.perf_counter() - start
    start = time.perf_counter()                    # raw tokens: loss, the copy probes, attention on t − 1
    raw_layers = raw_run[0]
    raw_pl = position_losses(predict(raw_c, raw_layers, test.S), test.S)
    copy = {"tokens": copy_probes(raw_c, raw_layers, fit.S, test.S, layer=0),
            "copy layer": copy_probes(raw_c, raw_layers, fit.S, test.S, layer=1)}
    prev = previous_weight(copy_layer_forward(model_streams(raw_c, raw_layers, test.S)[0], raw_layers[0])[1])
    parts["raw tokens"] = time.perf_counter() - start
    return make_record(
        "mesa",
        settings=dict(quick=quick, seed=seed, test_batch=n_test, configs=[asdict(c) for c in configs], raw_config=asdict(raw_c),
                      eta_grid=ETA_GRID, c_grid=C_GRID, lam_grid=LAM_GRID, author_eta=AUTHOR_ETA, probe_lam=1e-3),
        parts=parts,
        results=dict(eta=base["eta"], c=base["c"], lam=base["lam"], lam_mesa=base["lam_mesa"],
                     test_loss={**{k: float(v.sum() / targets) for k, v in models.items()},
                                **{k: float(base[k].sum() / targets) for k in BASELINES},
                                "revalg": float(rebuilt.sum() / targets)},
                     revalg_qk=scal["qk"], revalg_pv=scal["pv"], revalg_qk_kept=scal["qk_kept"],
                     revalg_pv_kept=scal["pv_kept"], probes=probes, probe_left_out=left_out,
                     sparsity=sparsity, sparsity_threshold=SPARSITY_THRESHOLD, fewshot_eta=fewshot[f"{configs[0].layers}"]["eta"],
                     revalg_d=revalg_d, revalg_d_kept=revalg_d_kept, raw_test_loss=float(raw_pl.sum() / targets),
                     raw_previous_weight=prev, eos_settings=eos_settings, eos_pairs=n_eos),
        curves=dict(position_losses={**models, **{k: base[k] for k in BASELINES}, "revalg": rebuilt},
                    train_loss={f"{c.layers}": r[1] for c, r in zip(configs, runs)},
                    interpolation=dict(alpha=ALPHAS, test_loss=interpolation),
                    fewshot={**{d: f["model"] for d, f in fewshot.items()},
                             **{k: next(iter(fewshot.values()))[k] for k in ("lsq", "gd", "zero")}},
                    eos=eos, revalg_d_line=dict(alpha=ALPHAS, test_loss=d_line),
                    raw=dict(position_losses=raw_pl, train_loss=raw_run[1], copy_probes=copy)))


def format_report(record: dict) -> str:
    """The report text, rendered from a record of :func:`reproduce` only."""
    record = check_record(record, "mesa")
    s, r, cur = record["settings"], record["results"], record["curves"]
    configs = s["configs"]
    depths = [str(c["layers"]) for c in configs]
    T = configs[0]["T"]
    show = [t for t in SHOW_T if t < T]
    pl = cur["position_losses"]
    names = [(f"{d}-layer LSA (trained)", d) for d in depths] + [
        (f"one GD step, η* = {r['eta']:.3g} (fitted)", "gd"),
        (f"one GD step, η = {s['author_eta']:g} (the authors')", "gd_author"),
        (f"one GD step, η_t = c/t, c = {r['c']:.3g}", "gd_c_t"),
        (f"least squares, pairs < t (authors'), 1/λ = {1 / r['lam']:.2g}", "lsq"),
        (f"mesa-layer, pairs <= t, 1/λ = {1 / r['lam_mesa']:.2g}", "mesa_layer"),
        ("predict 0", "zero"), ("true W*", "true")]
    c = configs[0]
    lines = [f"von Oswald et al. 2023b: next-state loss on linear dynamics (D = {c['D']}, {T} states = {T - 1} "
             f"targets, σ = {c['sigma']}; {s['test_batch']} test sequences). Test loss Σ||s - ŝ||²/(2B·{T - 1}) "
             f"(the authors' scale); by position, Σ||s - ŝ||²/(2B) at t",
             f"  {'model':50s}{'test loss':>10s}" + "".join(f"{'t=' + str(t):>9s}" for t in show)]
    for label, key in names:
        lines.append(f"  {label:50s}{r['test_loss'][key]:10.5f}" + "".join(f"{pl[key][t - 1]:9.5f}" for t in show))
    g, gc = np.asarray(pl["gd"]), np.asarray(pl["gd_c_t"])
    lines.append(f"  one η for every t: the GD step's loss at t = {T - 1} is {g[-1] / g.min():.3f}× its minimum "
                 f"(at t = {int(np.argmin(g)) + 1}); with η_t = c/t it is {gc[-1] / gc.min():.3f}× (at t = "
                 f"{int(np.argmin(gc)) + 1})")
    steps = ", ".join(f"{cc['layers']} layer(s) {cc['heads']} heads {cc['steps']} steps" for cc in configs)
    lines += [f"  (training: {steps}; batch {c['batch']}, Adam lr {c['lr']:g}, weight decay {c['weight_decay']:g}, "
              f"element-wise gradient clip {c['grad_clip']:g}, residual clip ±{c['resid_clip']:g})", ""]
    qk, pv = np.asarray(r["revalg_qk"]), np.asarray(r["revalg_pv"])
    lines += ["RevAlg-1: the 1-layer model's products read as block scalar × I (12 scalars)",
              "  head   W_K^T W_Q [key s_t, s_t-1] × [query s_t, s_t-1]        P W_V [s_t, s_t-1] -> block 0   "
              "norm kept (qk, pv)"]
    for h in range(qk.shape[0]):
        lines.append(f"  {h:4d}   [{qk[h, 0, 0]:8.4f} {qk[h, 0, 1]:8.4f}; {qk[h, 1, 0]:8.4f} {qk[h, 1, 1]:8.4f}]"
                     f"              [{pv[h, 0]:8.4f} {pv[h, 1]:8.4f}]"
                     f"           {r['revalg_qk_kept'][h]:.3f}, {r['revalg_pv_kept'][h]:.3f}")
    eta_heads = float(np.sum(qk[:, 1, 0] * pv[:, 0]))      # key s_{t'-1}, query s_t, value s_{t'}: the GD term
    lines += [f"  test loss: trained {r['test_loss'][depths[0]]:.5f}, rebuilt from the 12 scalars "
              f"{r['test_loss']['revalg']:.5f}",
              f"  the GD term Σ_h (W_K^T W_Q)_h[key s_t-1, query s_t] · (P W_V)_h[s_t] = {eta_heads:.4f} "
              f"(one GD step's best η* = {r['eta']:.4f})", ""]
    pt = [t for t in PROBE_T if t < T]
    lines.append(f"Linear probes of the {depths[-1]}-layer model (held-out R²; fitted on {s['test_batch']} other "
                 f"sequences), by layer and position t")
    for name, label in (("next_state", "target s_{t+1}"),
                        ("preconditioned", f"target (S_t-1 + {s['probe_lam']:g} I)^-1 s_t *")):
        lines.append(f"  {label:34s}" + "".join(f"{'t=' + str(t):>8s}" for t in pt))
        for layer, row in enumerate(r["probes"][name]):
            lines.append(f"    {'tokens' if layer == 0 else f'after layer {layer}':32s}"
                         + "".join(f"{row[t - 1]:8.3f}" for t in pt))
    lines.append(f"  * sequences whose target norm has |z| > 3 at that t are left out of fit and score "
                 f"(the authors' rule; {100 * r['probe_left_out']:.1f} % of the test entries)")
    if "sparsity" not in r:                           # a record written before these experiments
        return "\n".join(lines)
    lines += ["", f"Sparsity: the share of entries above {100 * r['sparsity_threshold']:g} % of their product's largest, "
                  "per layer (heads averaged)",
              f"  {'model':12s}{'layer':>6s}{'W_K^T W_Q':>11s}{'P W_V':>9s}"]
    for d, per_layer in r["sparsity"].items():
        for i, sp in enumerate(per_layer):
            lines.append(f"  {d + '-layer':12s}{i + 1:6d}{np.mean(sp['qk']):11.3f}{np.mean(sp['pv']):9.3f}")
    ip = cur["interpolation"]
    lines += ["", "The line from the trained 1-layer model (α = 0) to RevAlg-1 (α = 1), products (1 − α) M + α M_RevAlg; "
                  "test loss", "  " + "  ".join(f"α={a:g} {l:.5f}" for a, l in zip(ip["alpha"], ip["test_loss"]))]
    fs = cur["fewshot"]
    n = len(fs["lsq"])
    show_fs = [i for i in (1, 2, 3, 5, 8, 10, 15, 20, 25) if i <= n]
    lines += ["", "Few-shot regression without retraining: pairs (x_i, y_i = W x_i) as the sequence x_1, y_1, …; "
                  "the error Σ||y_i − ŷ_i||²/(2B) at query i (after i − 1 pairs)",
              f"  {'predictor':40s}" + "".join(f"{'i=' + str(i):>8s}" for i in show_fs)]
    rows = [(f"{d}-layer (autoregressively trained)", d) for d in depths] + [
        ("least squares on the pairs before", "lsq"), (f"one GD step, η = {r['fewshot_eta']:.3g} (fitted)", "gd"),
        ("predict 0", "zero")]
    for label, key in rows:
        lines.append(f"  {label:40s}" + "".join(f"{fs[key][i - 1]:8.4f}" for i in show_fs))
    if "raw_test_loss" not in r:                      # a record written before prompt tuning, RevAlg-d, raw tokens
        return "\n".join(lines)
    n_eos, e = r["eos_pairs"], r["eos_settings"]
    show_e = [i for i in show_fs if i <= n_eos]
    lines += ["", f"Prompt tuning: an EOS state after every pair (x_1, y_1, EOS, x_2, …; {n_eos} pairs), only the EOS "
                  f"learned (Adam lr {e['lr']:g}, {e['steps']} steps of {e['batch']} tasks, from N(0, I)); error at query i",
              f"  {'model':40s}" + "".join(f"{'i=' + str(i):>8s}" for i in show_e) + f"{'mean':>8s}"]
    for d, v in cur["eos"].items():
        for label, vals in ((f"{d}-layer, no EOS", fs[d][:n_eos]), (f"{d}-layer, EOS before tuning", v["init"]),
                            (f"{d}-layer, tuned EOS", v["tuned"])):
            lines.append(f"  {label:40s}" + "".join(f"{vals[i - 1]:8.4f}" for i in show_e) + f"{np.mean(vals):8.4f}")
    lines += ["", "RevAlg-d: every layer's W_K^T W_Q and P W_V projected on 4 × 4 blocks of scalar × I; test loss and "
                  "the share of the products' squared norm kept (heads averaged, by layer)"]
    for d, loss in r["revalg_d"].items():
        kept = ", ".join(f"{np.mean(k['qk']):.3f}/{np.mean(k['pv']):.3f}" for k in r["revalg_d_kept"][d])
        line = cur["revalg_d_line"]["test_loss"][d]
        lines.append(f"  {d}-layer: trained {r['test_loss'][d]:.5f}, RevAlg-{d} {loss:.5f}; kept (qk/pv) {kept}")
        lines.append("    line trained → RevAlg: " + "  ".join(f"α={a:g} {l:.4f}" for a, l in
                                                            zip(cur["revalg_d_line"]["alpha"], line)))
    rc, cp = s["raw_config"], cur["raw"]["copy_probes"]
    lines += ["", f"Raw tokens (0, s_t, 0, 0): a softmax copy layer ({rc['heads']} heads, positions in keys and queries), "
                  f"then {rc['layers']} linear layers, trained as the {rc['layers']}-layer model",
              f"  test loss {r['raw_test_loss']:.5f} against the constructed-token {rc['layers']}-layer "
              f"{r['test_loss'].get(str(rc['layers']), float('nan')):.5f}",
              "  attention weight on the previous token, per head: "
              + ", ".join(f"{w:.3f}" for w in r["raw_previous_weight"]),
              "  held-out R² of a linear probe to s_{t-k}:   " + "".join(f"{'k=' + str(k):>7s}" for k in range(len(cp["tokens"])))]
    for name, row in cp.items():
        lines.append(f"    from the {name:28s}" + "".join(f"{v:7.3f}" for v in row))
    return "\n".join(lines)


REPRODUCTION = Reproduction(
    "mesa", "von Oswald et al. 2023b: trained 1/2/4-layer causal linear attention vs GD, least squares and W*, "
            "RevAlg-1, linear probes (minutes)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor),
    report=format_report)
