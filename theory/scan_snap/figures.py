"""Tian et al. 2023: the figure of the scan-snap record (``python -m theory reproduce scan-snap``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, categorical_axis, figure, legend, save
from ..core.records import check_record
from .text import MIN_KEYS

__all__ = ["scan_snap_figures", "text_figures"]


def scan_snap_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Tian et al. 2023: (1) the scan — c_n of one class over SGD iterations (common tokens
    together, each distinct token), with the long-sequence flow dashed; (2) the snap — the
    flow's largest logit, ||Y|| and 1 − α_n over a long time; (3) the entropy of the final
    c_n against η_Y/η_Z for each η_Z."""
    record = check_record(record, "scan-snap")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    nc, nd = s["scan"]["n_common"], s["scan"]["n_distinct"]
    c_sgd, c_flow = np.asarray(cur["c_sgd"]), np.asarray(cur["c_flow"])
    it = np.arange(len(c_sgd))
    fig = figure(13.5, 4.7)
    a, b, c = fig.subplots(1, 3)
    a.plot(it, c_sgd[:, :nc].sum(axis=1), color="black", lw=2, label="common tokens (sum), SGD")
    a.plot(it, c_flow[:, :nc].sum(axis=1), color="black", lw=1, ls="--", label="common tokens, long-sequence flow")
    grey = np.linspace(0.75, 0.0, nd)
    for j in range(nd):
        a.plot(it, c_sgd[:, nc + j], color=str(grey[j]), lw=1,
               label=r"distinct tokens, $P(l|n)$ low → high (light → dark)" if j == nd - 1 else None)
    a.set_xlabel("SGD iteration")
    a.set_ylabel(r"attention $c_n(l)$ of class 0")
    a.set_title(r"scan: common tokens fall, distinct tokens rank by $P(l|n)$", fontsize=10)
    legend(a, ncols=1)
    t = np.asarray(cur["long_t"])
    growth = np.asarray(cur["long_z"]) - cur["long_z"][0]
    keep = growth > 0                                              # 0 at the start: no point on a log axis
    b.plot(t[keep], growth[keep], color="black", label=r"largest logit $z$ (growth since $t = 1$)")
    b.plot(t, cur["long_y"], color="tab:blue", ls="--", label=r"$\|Y\|$")
    b.plot(t, 1 - np.asarray(cur["long_alpha"]), color="tab:orange", ls=":", label=r"$1 - \alpha_n$")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel(r"iteration $t$ (flow at the steady-state rate $\eta/(1 - \beta)$; log axis)")
    b.set_ylabel("value (log axis)")
    b.set_title(r"snap: logits freeze, $\|Y\| \sim \ln t$, $1 - \alpha \sim 1/t$", fontsize=10)
    legend(b, ncols=1)
    mean = np.asarray(r["sweep_distinct_mean"]).mean(axis=0)        # average over the query counts
    for ls, (j, ez) in zip(LINESTYLES, enumerate(s["eta_z"])):
        c.plot(s["ratios"], mean[j], color=f"C{j}", ls=ls, marker="o", label=rf"$\eta_Z$ = {ez:g}")
        if "authors_mean" in r:
            c.plot(s["ratios"], np.asarray(r["authors_mean"]).mean(axis=0)[j], color=f"C{j}", ls="none",
                   marker="x", ms=7, label="the authors' (Fig. 6)" if j == 0 else None)
    c.set_xscale("log")
    c.set_xticks(s["ratios"], [f"{v:g}" for v in s["ratios"]])
    c.set_xlabel(r"$\eta_Y / \eta_Z$ (log axis)")
    c.set_ylabel(r"entropy of the final $c_n$, distinct tokens (nats)")
    c.set_title(f"sparsity after the snap ({len(s['n_queries'])} query counts × "
                f"{s['sweep_seeds']} seeds)", fontsize=10)
    legend(c, ncols=3)
    sc = s["scan"]
    fig.suptitle("Tian et al. 2023 (scan and snap): a one-layer transformer's attention dynamics "
                 f"({nc} common + {nd} distinct tokens a class, T = {sc['T']})")
    f = r["fits"]
    caption = (f"Tian et al. 2023. Left (the scan): the attention c_n of one class over {sc['steps']} SGD iterations "
               f"(T = {sc['T']}, batch {sc['batch']}, η_Z = η_Y = {sc['lr_Z']:g}, momentum {sc['momentum']:g}, zero "
               f"init): the {nc} common tokens' share falls from {r['common_start']:.3f} to {r['common_end']:.3f} "
               f"while the {nd} distinct tokens gain attention in the order of P(l|n) (rank correlation "
               f"{min(r['rank_agreement']):.3f}), and the attention then stops moving; the long-sequence gradient "
               f"flow (dashed) ends {r['flow_gap_end']:.3f} away in total variation at this step size. Middle (the "
               f"snap): the flow continued to t = {f['t_range'][1]:,.0f}: the largest logit grows by only "
               f"{f['z_growth']:.3f} after t = {f['t_range'][0]:,.0f} and fits ln ln t (R² {f['z_vs_ln_ln_t'][2]:.5f}) "
               f"better than ln t (R² {f['z_vs_ln_t'][2]:.4f}); ‖Y‖ grows like {f['y_vs_ln_t'][0]:.3f} ln t and "
               f"1 − α_n decays like t^{f['log_gap_vs_ln_t'][0]:.3f}. Right: the entropy of the final attention over "
               f"each class's distinct tokens (the quantity of the paper's Fig. 6), averaged over "
               f"{len(s['n_queries'])} query counts and {s['sweep_seeds']} seeds, against η_Y/η_Z for each η_Z, "
               "with the authors' published numbers (×)"
               + (": a larger η_Z gives sparser attention at every ratio." if np.all(np.diff(mean, axis=0) < 0)
                  else "."))
    paths = save(fig, out_dir, "scan-snap", pdf, caption)
    if "authors_mean" in r:
        paths += _entropy_figure(s, r, out_dir, pdf)
    return paths


def _entropy_figure(s, r, out_dir, pdf):
    """Fig. 6 of the paper, panel by panel: ours (mean ± sample sd over the seeds) beside the
    authors' published numbers (theory/scan_snap/authors.py)."""
    ours, sd = np.asarray(r["sweep_distinct_mean"]), np.asarray(r["sweep_distinct_sd"])
    theirs, theirs_sd = np.asarray(r["authors_mean"]), np.asarray(r["authors_sd"])
    fig = figure(13.5, 4.0)
    axes = fig.subplots(1, len(s["n_queries"]), sharey=True)
    x = np.asarray(s["ratios"], dtype=float)
    for i, (ax, q) in enumerate(zip(axes, s["n_queries"])):
        for j, ez in enumerate(s["eta_z"]):
            ax.errorbar(x * 0.97, ours[i, j], sd[i, j], color=f"C{j}", ls="-", marker="o", ms=3, capsize=2,
                        label=rf"$\eta_Z$ = {ez:g}, ours")
            ax.errorbar(x * 1.03, theirs[i, j], theirs_sd[i, j], color=f"C{j}", ls=":", marker="x", ms=4,
                        capsize=2, label="the authors'" if j == len(s["eta_z"]) - 1 else None)
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_xlabel(r"$\eta_Y / \eta_Z$ (log axis)")
        ax.set_title(f"{q} quer{'y' if q == 1 else 'ies'}, {2 * q} next tokens", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"entropy of $c_n$, distinct tokens (nats)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=len(labels), frameon=False)
    d = np.abs(np.asarray(r["authors_diff_in_sd"]))
    fig.suptitle(f"Tian et al. 2023, Fig. 6: ours (solid, {s['sweep_seeds']} seeds) and the authors' (dotted); "
                 f"|difference| ≤ 2 of their sd in {int((d <= 2).sum())} of {d.size} cells", fontsize=10)
    caption = (f"Tian et al. 2023, Fig. 6, cell by cell: the entropy (nats) of the final attention c_n over each "
               f"class's distinct tokens, renormalised and averaged over the classes, after {s['sweep_steps']} SGD "
               f"iterations (T = {s['sweep_T']}, momentum 0.9, default init), for {', '.join(map(str, s['n_queries']))} "
               f"queries with two next tokens each, η_Z ∈ {{{', '.join(f'{v:g}' for v in s['eta_z'])}}} and η_Y/η_Z ∈ "
               f"{{{', '.join(f'{v:g}' for v in s['ratios'])}}}: ours (solid, mean ± sample sd over "
               f"{s['sweep_seeds']} seeds) beside the authors' published means and sds (dotted, from their "
               f"figure_6_data.pkl). Our runs and theirs draw different random numbers, so the yardstick is the "
               f"seeds' spread: the difference is within 2 of their sd in {int((d <= 2).sum())} of {d.size} cells "
               f"(median {np.median(d):.2f}, largest {d.max():.2f}).")
    return save(fig, out_dir, "scan-snap-entropy", pdf, caption)


HEADLINE = (("sweep/lr1/ratio1", "1 layer, lr 1"), ("sweep/lr5/ratio1", "1 layer, lr 5"),
            ("layers3/lr1", "3 layers, lr 1"), ("layers3/lr5", "3 layers, lr 5"))


def text_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Tian et al. 2023 on real text: (1) the lowest layer's attention entropy (the authors'
    measure), its step-to-step change and its distance to the final attention over training
    for 1 and 3 layers at two learning rates, and the final entropy over the two learning
    rates; (2) the final attention of one held-out sequence in each of those four runs."""
    record = check_record(record, "scan-snap-text")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]["runs"]
    base = s["runs"]["sweep/lr1/ratio1"]
    fig = figure(14, 8.4)
    (a, e, f), (b, c, d) = fig.subplots(2, 3)
    for ls, (name, label) in zip(LINESTYLES, HEADLINE):
        run = cur[name]
        color = "tab:blue" if "lr1" in name else "tab:red"
        step = np.asarray(run["step"])
        a.plot(step, run["entropy"], color=color, ls=ls, label=label)
        e.plot(step, run["top1"], color=color, ls=ls, label=label)
        f.plot(step, run["common"], color=color, ls=ls, label=label)
        b.plot(step[1:], run["change"], color=color, ls=ls, label=label)
        c.plot(step, run["to_final"], color=color, ls=ls, label=label)
    a.axhline(r["sweep/lr1/ratio1"]["entropy_start"], color="grey", lw=0.8, ls=":")
    e.set_ylim(0, 1)
    e.set_xlabel("SGD step")
    e.set_ylabel("weight on the largest key (queries with ≥ " + str(MIN_KEYS) + " keys)")
    e.set_title("sparsity: the top key's weight", fontsize=10)
    legend(e)
    f.axhline(r["sweep/lr1/ratio1"]["common_uniform"], color="grey", lw=0.8, ls=":")
    f.set_ylim(0, 1)
    f.set_xlabel("SGD step")
    f.set_ylabel("attention on the 20 most frequent types")
    f.set_title("the scan: off common tokens?\n(dotted: uniform attention)", fontsize=10)
    legend(f)
    a.set_ylim(bottom=0)
    a.set_xlabel("SGD step")
    a.set_ylabel("attention entropy, lowest layer (nats)")
    a.set_title("sparsity: the authors' entropy measure\n(dotted: at initialisation)", fontsize=10)
    legend(a)
    b.set_yscale("log")
    b.set_xlabel("SGD step")
    b.set_ylabel(f"TV between checkpoints {base['eval_every']} steps apart (log axis)")
    b.set_title("motion: the attention's step-to-step change", fontsize=10)
    legend(b)
    c.set_xlabel("SGD step")
    c.set_ylabel("TV to the final attention")
    c.set_title("distance to where it ends", fontsize=10)
    legend(c)
    ratios = s["sweep_ratio"]
    x = categorical_axis(d, list(ratios), r"$\eta_Y/\eta_Z$ (the lowest $W_1$)")
    for ls, lr in zip(LINESTYLES, s["sweep_lr"]):
        d.plot(x, [r[f"sweep/lr{lr:g}/ratio{q:g}"]["entropy_end"] for q in ratios], marker="o", ls=ls,
               label=rf"$\eta_Z$ = {lr:g}")
    d.set_ylim(bottom=0)
    d.set_ylabel("final attention entropy (nats)")
    d.set_title("the two learning rates (1 layer, one seed)", fontsize=10)
    legend(d, ncols=3)
    corpus = s["corpus"]
    fig.suptitle(f"Tian et al. 2023 on real text (theirs on WikiText; here the King James Bible): "
                 f"the lowest layer's attention under constant-rate SGD ({base['epochs']} epochs, "
                 f"{s['steps']:,} steps)", fontsize=11)
    h = {n: r[n] for n, _ in HEADLINE}
    caption = (f"Tian et al. 2023 on real text at CPU scale: word-level transformer language models (width {base['d']}, "
               f"one head, post-LN, dropout {base['dropout']:g}) trained by SGD at a constant rate on "
               f"{corpus['train_tokens']:,} tokens of the King James Bible ({base['vocab']:,} types), "
               f"{s['steps']:,} steps. Top left: the lowest layer's attention entropy on {corpus['val_tokens']:,} held-out "
               f"tokens (the authors' measure) falls from {h['sweep/lr1/ratio1']['entropy_start']:.2f} nats to "
               + ", ".join(f"{h[n]['entropy_end']:.2f} ({label})" for n, label in HEADLINE)
               + f". Bottom left: the total variation between the attention at checkpoints {base['eval_every']} steps "
               f"apart, first epoch → last epoch: "
               + ", ".join(f"{h[n]['change_first_epoch']:.3f} → {h[n]['change_last_epoch']:.3f} ({label})"
                           for n, label in HEADLINE)
               + f" — the pattern freezes (last epoch ≤ {s['bars']['freeze']:g} × first) in "
               f"{sum(h[n]['pattern_freezes'] for n in h)} of 4 runs. Top middle: the weight of each query's largest "
               f"key; top right: the attention on the 20 most frequent types (`, the and of . …`), "
               + ", ".join(f"{h[n]['common_end']:.2f} ({label})" for n, label in HEADLINE)
               + f" at the end against {h['sweep/lr1/ratio1']['common_uniform']:.2f} under uniform attention. "
               f"Bottom middle: the distance to the final attention. "
               f"Bottom right: the final entropy of the 1-layer model over η_Z and η_Y/η_Z (the learning rate of the lowest "
               f"feed-forward map W₁, the authors' lr_y_multi_on_z), one seed each.")
    paths = save(fig, out_dir, "scan-snap-text", pdf, caption)
    return paths + _attention_maps(record, out_dir, pdf)


def _attention_maps(record, out_dir, pdf):
    """The final lowest-layer attention of one held-out sequence, for the four headline runs."""
    ex, r = record["curves"]["examples"], record["results"]
    fig = figure(15, 4.4)
    axes = fig.subplots(1, 4)
    for ax, (name, label) in zip(axes, HEADLINE):
        A, words = np.asarray(ex[name]["attention"]), ex[name]["tokens"]
        im = ax.imshow(A, cmap="Greys", vmin=0, vmax=1)
        ticks = np.arange(0, len(words), 5)
        ax.set_xticks(ticks, [words[t] for t in ticks], rotation=90, fontsize=6)
        ax.set_yticks(ticks, [words[t] for t in ticks], fontsize=6)
        ax.set_xlabel("key (earlier token)")
        ax.set_ylabel("query")
        ax.set_title(f"{label}: top-1 {r[name]['top1_end']:.2f}, self {r[name]['self_end']:.2f}, "
                     f"previous {r[name]['previous_end']:.2f}", fontsize=8)
    fig.colorbar(im, ax=axes[-1], shrink=0.8, label="attention weight")
    fig.suptitle("Tian et al. 2023 on real text: the lowest layer's final attention on one held-out sequence "
                 "(causal: keys up to the query)", fontsize=11)
    caption = ("The final attention of the lowest layer on one held-out sequence of 35 tokens, for the 1- and "
               "3-layer models at learning rates 1 and 5 (black = weight 1). Means over all held-out queries with at "
               "least 10 keys: " + "; ".join(f"{label}: largest weight {r[n]['top1_end']:.2f}, on the query's own "
                                               f"token {r[n]['self_end']:.2f}, on the previous token "
                                               f"{r[n]['previous_end']:.2f}" for n, label in HEADLINE) + ".")
    return save(fig, out_dir, "scan-snap-text-attention", pdf, caption)
