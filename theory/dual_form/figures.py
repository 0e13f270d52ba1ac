"""Dai et al. 2023: the figures of the dual-form record (``python -m theory reproduce dual-form``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save
from ..core.records import check_record

__all__ = ["dual_form_figures", "experiments_figures"]


def dual_form_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Dai et al. 2023: (1) softmax attention against the linear split ``W_ZSL q + ΔW_ICL q``
    the paper reads ICL through, over the logit scale, beside the exact convex split;
    (2) the exact momentum weights s_k against the paper's η^k; (3) the gap between the
    paper's momentum attention and the exact dual, over η."""
    record = check_record(record, "dual-form")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    fig = figure(13.5, 4.4)
    a, b, c = fig.subplots(1, 3)
    qs = np.asarray(r["softmax_gap_quartiles"])
    a.fill_between(s["scales"], qs[:, 0], qs[:, 2], color="0.8", label="25–75 % of instances")
    a.plot(s["scales"], qs[:, 1], color="black", marker="o", label="softmax vs linear split (median)")
    a.axhline(r["exact_split_worst"], color="tab:blue", ls="--", label=r"exact convex split $\lambda$ (worst)")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel(r"query scale $c$ (attention logits $\propto c$; log axis)")
    a.set_ylabel("relative error to softmax attention")
    a.set_title("the linear relaxation is not close at any scale", fontsize=10)
    legend(a, ncols=1)
    ages = np.asarray(cur["ages"])
    for ls, (eta, w) in zip(LINESTYLES, cur["momentum_weights"].items()):
        b.plot(ages, w["exact"], color="black", ls=ls, marker="o", ms=3, label=rf"exact $s_k$, $\eta$ = {eta}")
        b.plot(ages, w["paper"], color="tab:orange", ls=ls, marker="s", ms=3, label=rf"paper $\eta^k$, $\eta$ = {eta}")
    b.set_xlabel(r"age $k$ of the example's update (steps ago)")
    b.set_ylabel("weight of that update in the output")
    b.set_title("momentum weights: exact dual vs the paper's", fontsize=10)
    legend(b)
    qm = np.asarray(r["momentum_gap_quartiles"])
    c.fill_between(s["etas"], qm[:, 0], qm[:, 2], color="0.8", label="25–75 % of instances")
    c.plot(s["etas"], qm[:, 1], color="black", marker="o", label="MoAttn vs exact dual (median)")
    c.set_xlabel(r"momentum $\eta$")
    c.set_ylabel("relative gap")
    c.set_title("the paper's momentum attention vs the exact dual", fontsize=10)
    legend(c, ncols=1)
    fig.suptitle(f"Dai et al. 2023, Secs. 3 and 5: where the dual form is exact and where it is not "
                 f"({s['instances']} random instances per point)")
    caption = (f"Dai et al. 2023, Secs. 3 and 5, over {s['instances']} random instances per point. Left: the "
               "relative error between softmax attention and the linear split W_ZSL q + ΔW_ICL q through which the "
               "paper reads in-context learning, as the attention logits grow with the query scale c (median and "
               f"quartiles): the median stays between {qs[:, 1].min():.2f} and {qs[:, 1].max():.2f} from c = "
               f"{s['scales'][0]:.3g} to {s['scales'][-1]:.3g}, while the exact convex split with weight λ = Z_C/(Z_C + "
               f"Z_D) is exact to round-off ({r['exact_split_worst']:.1e} at worst). Middle: the weight that an update "
               "made k steps ago carries in the output of momentum gradient descent — the exact dual's s_k = 1 + η + "
               "… + η^k against the paper's η^k. Right: the relative gap between the paper's momentum attention and "
               f"the exact dual, median {qm[0, 1]:.2f} at η = {s['etas'][0]:g} rising to {qm[-1, 1]:.2f} at η = "
               f"{s['etas'][-1]:g}.")
    return save(fig, out_dir, "dual-form", pdf, caption)



def _seed_stats(values):
    """Seed mean and sd (0 for one seed) of a stack of per-seed arrays, None entries dropped."""
    v = np.array([x for x in values if x is not None], dtype=float)
    return v.mean(0), (v.std(0, ddof=1) if len(v) > 1 else np.zeros(v.shape[1:]))


def experiments_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Dai et al.'s experiments at CPU scale: (1) SimAOU, SimAM and Rec2FTP per layer beside
    their baselines (seed mean ± sd); (2) momentum against vanilla attention: held-out loss
    over training on both objectives and the ICL accuracy against the number of demonstrations."""
    record = check_record(record, "dai-experiments")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    comp = r["comparison"]
    names = list(comp)
    L = s["model"]["layers"]
    n_seeds = len(s["seeds"])
    fig = figure(14, 4.6)
    a, b, c = fig.subplots(1, 3)
    x = np.arange(L)
    bars = [(f"SimAOU, {n}", [run["sim_aou"] for run in comp[n]]) for n in names]
    bars += [("random update (uniform, the authors')", [run["random_uniform"] for run in comp[names[0]]]),
             ("random update (gaussian)", [run["random_gaussian"] for run in comp[names[0]]])]
    width = 0.8 / len(bars)
    for i, (label, vals) in enumerate(bars):
        m, sd = _seed_stats(vals)
        a.bar(x + (i - (len(bars) - 1) / 2) * width, m, width, yerr=sd, capsize=2, label=label,
              color=("black", "0.45", "0.75", "tab:orange", "tab:blue")[i % 5])
    a.axhline(0, color="black", lw=0.5)
    a.set_xticks(x, [f"layer {l + 1}" for l in x])
    a.set_ylabel("SimAOU (cosine of the updates)")
    a.set_title("representation: ICL update vs FT update", fontsize=10)
    legend(a, ncols=1)
    bars = [(f"SimAM, {n}", [run["sim_am"] for run in comp[n]]) for n in names]
    bars.append(("ZSL SimAM (ICL vs zero-shot, the paper's baseline)", [run["zsl_sim_am"] for run in comp[names[0]]]))
    width = 0.8 / len(bars)
    for i, (label, vals) in enumerate(bars):
        m, sd = _seed_stats(vals)
        b.bar(x + (i - (len(bars) - 1) / 2) * width, m, width, yerr=sd, capsize=2, label=label,
              color=("black", "0.45", "0.75", "tab:green")[i % 4])
    b.set_xticks(x, [f"layer {l + 1}" for l in x])
    b.set_ylabel("SimAM (cosine of the scores before softmax)")
    b.set_title("attention: ICL vs FT over the zero-shot positions", fontsize=10)
    legend(b, ncols=1)
    keys = ("acc_zs", "acc_icl", "acc_ft")
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        m, sd = _seed_stats([[run[k] for k in keys] for run in comp[n]])
        c.bar(np.arange(3) + (i - (len(names) - 1) / 2) * width, m, width, yerr=sd, capsize=2,
              color=("black", "0.45", "0.75")[i], label=n + " — Rec2FTP " + _rec(comp[n]))
    c.set_xticks(np.arange(3), ["ZS", "ICL", "FT"])
    c.set_ylim(0.3, 1.0)
    c.set_ylabel("accuracy on the test tasks")
    c.set_title("prediction: accuracy and Rec2FTP", fontsize=10)
    legend(c, ncols=1)
    spread = f"mean ± sd over {n_seeds} seeds" if n_seeds > 1 else "one seed"
    fig.suptitle(f"Dai et al. 2023, Sec. 4 at CPU scale: ICL against finetuning, with the baselines ({spread})")
    first = {n: _seed_stats([run["sim_aou"] for run in comp[n]])[0] for n in names}
    caption = (f"Dai et al. 2023's comparison of in-context learning with finetuning, on a {L}-layer softmax "
               f"transformer pretrained on in-context linear classification ({spread}, {s['n_test']} test tasks "
               f"each, {s['model']['N']} demonstrations). Left: SimAOU per layer — the cosine between the ICL and "
               "the finetuning updates of the last token's attention output — for the paper's finetuning of W_K, "
               f"W_V ({', '.join(f'{v:.2f}' for v in first[names[0]])} by layer), finetuning of W_Q, W_O instead "
               f"({', '.join(f'{v:.2f}' for v in first[names[1]])}) and the untrained model "
               f"({', '.join(f'{v:.2f}' for v in first[names[2]])}), beside random updates (the authors' uniform "
               "draw and a gaussian direction). Middle: SimAM per layer, beside the paper's ZSL SimAM (ICL against "
               "the zero-shot model). Right: the accuracies of zero-shot, ICL and finetuning, and Rec2FTP (the "
               "share of the answers finetuning corrects that ICL also gets right).")
    files = save(fig, out_dir, "dai-experiments", pdf, caption)
    fig = figure(14, 4.4)
    a, b, c = fig.subplots(1, 3)
    mom = cur["momentum"]
    for ax, obj, title in ((a, "icl", "in-context classification"), (b, "lm", "language model (in-context Markov chains)")):
        for ls, key in zip(LINESTYLES, [k for k in mom if k.startswith(obj)]):
            steps = np.asarray(mom[key][0]["steps"])
            m, sd = _seed_stats([run["loss"] for run in mom[key]])
            line, = ax.plot(steps, m, ls=ls, color="black" if key.endswith("=0") else None, label=key.split(" ", 1)[1])
            ax.fill_between(steps, m - sd, m + sd, color=line.get_color(), alpha=0.2)
        ax.set_xlabel("training step")
        ax.set_ylabel("held-out loss (cross-entropy)")
        ax.set_title(title, fontsize=10)
        legend(ax, ncols=1)
    demos = np.asarray(s["demos"])
    for ls, key in zip(LINESTYLES, [k for k in r["momentum"] if k.startswith("icl")]):
        m, sd = _seed_stats([run["accuracy"] for run in r["momentum"][key]])
        c.errorbar(demos, m, yerr=sd, ls=ls, marker="o", ms=3, capsize=2, label=key.split(" ", 1)[1],
                   color="black" if key.endswith("=0") else None)
    c.set_xscale("symlog", linthresh=1)
    c.set_xlabel("demonstrations in the prompt")
    c.set_ylabel("accuracy on the query")
    c.set_title("ICL accuracy after training", fontsize=10)
    legend(c, ncols=1)
    fig.suptitle(f"Dai et al. 2023, Sec. 5 at CPU scale: momentum attention against vanilla attention ({spread}, "
                 f"{s['steps']:,} steps each)")
    end = {k: _seed_stats([run["loss"][-1] for run in v]) for k, v in mom.items()}
    caption = (f"Dai et al. 2023's momentum attention (each head adds Σ_(i<t) η^(t−i) v_i) against vanilla attention, "
               f"trained with the same seeds, data and budget ({s['steps']:,} Adam steps, {spread}). Left and middle: "
               "held-out loss over training on in-context classification and on a small language of in-context Markov "
               "chains (final: " + "; ".join(f"{k} {m:.3f} ± {sd:.3f}" for k, (m, sd) in end.items()) +
               "). Right: the classification model's accuracy against the number of demonstrations.")
    return files + save(fig, out_dir, "dai-experiments-momentum", pdf, caption)


def _rec(runs) -> str:
    v = [run["rec2ftp"] for run in runs if run["rec2ftp"] is not None]
    return f"{np.mean(v):.0f} %" if v else "undefined"
