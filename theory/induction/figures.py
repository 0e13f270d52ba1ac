"""Reddy 2024: the figures of the induction-head records (``python -m theory reproduce induction-head [--paper]``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, categorical_axis, figure, legend, over_seeds, save
from ..core.records import check_record

__all__ = ["induction_head_figures", "induction_paper_figures"]


_CURVES = (("icl", "ICL: novel classes, bursty", "black", "-"), ("swapped", "ICL: swapped labels", "0.45", "--"),
           ("iwl", "IWL: trained classes, i.i.d.", "tab:blue", ":"),
           ("prev_token", "layer 1: label → previous item", "tab:orange", "-."),
           ("match_label", "layer 2: target → matching label", "tab:green", (0, (5, 1, 1, 1, 1, 1))))


def induction_head_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Reddy 2024: (1) the three-parameter model's loss cliff — GD trajectories for N = 8
    and several L, the three logits of one run, and the plateau length against N (Sec. 5);
    (2) accuracies and both progress measures over training for the full network and the
    two-parameter model (Figs. 2-4); (3) the one-at-a-time sweeps as small multiples."""
    record = check_record(record, "induction-head")
    out_dir = Path(out_dir)
    res, cur = record["results"], record["curves"]
    fig = figure(13.5, 4.5)
    a, b, c = fig.subplots(1, 3)
    trajectories = sorted(cur["trajectories"].items(), key=lambda kv: int(kv[0].split(",")[1]))
    for ls, (key, tr) in zip(LINESTYLES * 2, trajectories):
        N, L = key.split(",")
        a.plot(np.asarray(tr["steps"]) + 1, tr["loss"], ls=ls, label=f"N = {N}, L = {L}")
    lr = res["landscape"]["lr"]
    a.set_xscale("log")
    a.set_xlabel(f"GD step + 1 (lr = {lr:g}; log axis)")
    a.set_ylabel(r"loss $-\log p$ (nats)")
    a.set_title("GD from the origin: plateau, then a cliff")
    legend(a, ncols=3)
    key, tr = trajectories[len(trajectories) // 2]
    theta = np.asarray(tr["theta"])
    for i, (name, ls) in enumerate(zip((r"$\beta$ (layer-1 attention)", r"$\alpha$ (layer-2 attention)",
                                        r"$\xi$ (readout)"), LINESTYLES)):
        b.plot(np.asarray(tr["steps"]) + 1, theta[:, i], ls=ls, color="black", label=name)
    b.set_xscale("log")
    b.set_xlabel("GD step + 1 (log axis)")
    b.set_ylabel("logit value")
    b.set_title(f"the three logits take off in turn (N, L = {key.replace(',', ', ')})")
    legend(b, ncols=3)
    jumps = res["landscape"]["jumps"]
    factors = sorted({L // N for N, L, _ in jumps})
    for ls, f in zip(LINESTYLES * 2, factors):
        pts = sorted((N, j) for N, L, j in jumps if L == f * N and j is not None)
        if pts:
            c.plot(*zip(*pts), ls=ls, marker="os^vD"[factors.index(f) % 5], label=f"L = {f} N")
    c.set_xscale("log", base=2)
    c.set_yscale("log")
    c.set_xlabel("N (context pairs; log axis)")
    c.set_ylabel(r"GD steps until $p \geq (1 + 1/N)/2$ (log axis)")
    c.set_title("plateau length before the cliff")
    legend(c, ncols=3)
    fig.suptitle("Reddy 2024, Sec. 5: the three-parameter model of the induction head")
    stuck = sorted({N for N, L, j in jumps if j is None})
    caption = ("Reddy 2024, Sec. 5: gradient descent (lr = "
               f"{lr:g}) on the three-parameter model of the induction head from the origin. Left: the loss for N = "
               f"{trajectories[0][0].split(',')[0]} context pairs and L = "
               f"{', '.join(k.split(',')[1] for k, _ in trajectories)} labels: a plateau, then a cliff. Middle: the "
               f"three logits of the run with N, L = {key.replace(',', ', ')}: ξ (the readout) moves first, then α "
               "(layer 2), then β (layer 1) — each gradient carries the logit before it as a factor. Right: the "
               "number of GD steps before p reaches half-way from 1/N to 1, against N, for L = "
               f"{', '.join(f'{f}N' for f in factors if f > 1)}"
               + (f"; with L = N the origin is a critical point and exact GD never leaves it (N = "
                  f"{', '.join(map(str, stuck))})." if stuck else "."))
    paths = save(fig, out_dir, "induction-head-landscape", pdf, caption)

    fig = figure(12, 4.9)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (key, title) in zip(axes, (("network", "full network (two attention layers + MLP)"),
                                       ("two_param", "two-parameter model (our reading of Sec. 4)"))):
        run = res[key]
        for name, label, color, ls in _CURVES:
            ax.plot(run["steps"], run[name], color=color, ls=ls, label=label)
        ax.set_xlabel("SGD step")
        ax.set_title(title, fontsize=10)
        legend(ax)
    axes[0].set_ylabel("accuracy / attention weight")
    fig.suptitle("Reddy 2024, Figs. 2-4: in-context learning arrives abruptly, with the induction head's attention")
    net, two = res["network"], res["two_param"]
    nc = net["config"]
    caption = ("Reddy 2024, Figs. 2–4 at a width that trains in minutes (K = "
               f"{nc['K']} classes, L = {nc['L']} labels, N = {nc['N']} pairs, D = {nc['D']}, B = {nc['B']}, "
               f"ε = {nc['eps']:g}; SGD lr {nc['lr']:g}, batch {nc['batch']}, {nc['steps']:,} steps, evaluated on "
               f"{nc['n_eval']} sequences every {nc['eval_every']} steps; one seed). The in-context accuracy on novel "
               "classes (ICL), on contexts with swapped labels, and the in-weights accuracy on trained classes "
               "(IWL), with the induction head's two attention measures — layer 1 from a label to the item before "
               "it, layer 2 from the target to the label after the matching item — for the full network (left: "
               f"final ICL {net['icl'][-1]:.2f}, IWL {net['iwl'][-1]:.2f}) and the two-parameter model (right: final "
               f"ICL {two['icl'][-1]:.2f}, IWL {two['iwl'][-1]:.2f}). ICL rises abruptly, together with both "
               "attention measures.")
    paths += save(fig, out_dir, "induction-head-training", pdf, caption)

    for sw in res["sweeps"]:
        names = list(dict.fromkeys(row["name"] for row in sw["rows"]))
        fig = figure(3.2 * len(names), 4.0)
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
        finals, rows_of = {}, {}
        for ax, name in zip(axes, names):
            rows = [r for r in sw["rows"] if r["name"] == name]
            rows_of[name] = [r["value"] for r in rows]
            x = categorical_axis(ax, [r["value"] for r in rows], {"eps": r"$\varepsilon$", "alpha": r"$\alpha$"}.get(name, name))
            for curve, label, color, ls in _CURVES[:3:2]:
                final = np.array([[run[curve][-1] for run in r["runs"]] for r in rows])
                mean = final.mean(axis=1)
                finals[name, curve] = mean
                ax.errorbar(x, mean, yerr=[mean - final.min(axis=1), final.max(axis=1) - mean] if sw["seeds"] > 1
                            else None, color=color, ls="none", marker="o" if curve == "icl" else "s", ms=6,
                            capsize=3, label=label)
            legend(ax, ncols=1)
        axes[0].set_ylabel("final accuracy" + over_seeds(sw["seeds"]))
        fig.suptitle(f"Reddy 2024, Fig. 2: data parameters, one at a time — {sw['model']}")
        stem = "induction-head-sweep-" + ("network" if sw["model"] == "full network" else "two-param")
        base = record["settings"].get("sweep_base") or _sweep_base(sw)
        caption = (f"Reddy 2024, Fig. 2, for the {sw['model']}: the final in-context accuracy on novel classes (ICL, "
                   "circles) and in-weights accuracy on trained classes (IWL, squares) as one data parameter at a "
                   f"time moves away from the base setting (K = {base['K']}, B = {base['B']}, ε = {base['eps']:g}, "
                   f"α = {base['alpha']:g}; {base['steps']:,} SGD steps"
                   + (f"; mean with min–max bars over {sw['seeds']} seeds" if sw["seeds"] > 1 else "; one seed")
                   + "). Each panel's axis is categorical: the values are evenly spaced whatever their steps. "
                   + " ".join(f"{ {'eps': 'ε', 'alpha': 'α'}.get(name, name)} from "
                              f"{rows_of[name][0]:g} to {rows_of[name][-1]:g}: ICL {finals[name, 'icl'][0]:.2f} → "
                              f"{finals[name, 'icl'][-1]:.2f}, IWL "
                              f"{finals[name, 'iwl'][0]:.2f} → {finals[name, 'iwl'][-1]:.2f}."
                              for name in names if len(finals[name, 'icl']) > 1))
        paths += save(fig, out_dir, stem, pdf, caption)
    return paths


def _sweep_base(sw: dict) -> dict:
    """The base setting of a sweep whose record does not hold it: each parameter from a run
    of a row that varies another one."""
    configs = [(row["name"], row["runs"][0]["config"]) for row in sw["rows"]]
    return {p: next((c[p] for name, c in configs if name != p), configs[0][1][p])
            for p in ("K", "B", "eps", "alpha", "steps")}


def induction_paper_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Reddy 2024 at the paper's widths (a record of :func:`theory.induction.paper.reproduce`):
    per seed, over SGD steps, the ICL accuracy with the context-label accuracy, the
    in-weights accuracy, the two attention progress measures (Figs. 3-4) and, where the
    run measured it, the classifier's last ReLU layer (the share of its outputs above 0
    and of its units dead on every sequence)."""
    from .paper import check_paper_record
    record = check_paper_record(record)
    s, runs = record["settings"], record["results"]["runs"]
    c = s["network"]
    panels = ((("icl", "ICL (novel classes)"), ("context_label", "context-label accuracy")),
              (("iwl", "IWL (trained classes, i.i.d.)"),),
              (("prev_token", "layer 1: label → previous item"),),
              (("match_label", "layer 2: target → matching label"),))
    if all("relu_active" in run for run in runs):
        panels += ((("relu_active", "last ReLU: active"), ("relu_dead", "dead units")),)
    fig = figure(3.25 * len(panels), 4.2)
    axes = fig.subplots(1, len(panels), sharex=True)
    markers = "os^vDP<>"
    for ax, panel in zip(axes, panels):
        for i, run in enumerate(runs):
            for (curve, label), ls in zip(panel, ("-", ":")):
                ax.plot(np.asarray(run["steps"]) / 1000, run[curve], ls=ls, lw=1, color=f"C{i % 10}",
                        marker=markers[i % len(markers)], markevery=max(1, len(run["steps"]) // 8), ms=3,
                        label=f"seed {run['config']['seed']}" if curve == panel[0][0] else None)
        ax.set_title(" / ".join(lbl + (" (solid)" if len(panel) > 1 and j == 0 else " (dotted)" if j else "")
                                for j, (_, lbl) in enumerate(panel)), fontsize=9)
        ax.set_xlabel("SGD step (thousands)")
        ax.grid(alpha=0.3)
    axes[0].axhline(1 / c["N"], color="0.5", lw=0.8, ls="--")
    axes[0].set_ylabel("accuracy / attention weight")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="outside lower center", ncols=len(labels), frameon=False)
    model = s.get("model", "full network")
    fig.suptitle(f"Reddy 2024 at the paper's widths, {model}, regime {s['regime']!r}: "
                 f"K = {c['K']}, L = {c['L']}, N = {c['N']}, B = {c['B']}, $p_C$ = {c['p_novel']} ({c['steps']:,} SGD "
                 f"steps; {c.get('sampler', 'fresh')} sampler, {c.get('init', 'package')} init; dashed: 1/N)",
                 fontsize=10)
    summaries = record["results"]["summaries"]
    learned = [x for x in summaries if x["learned"]]
    jumps = [x["rise"]["icl"][0] for x in learned if x["rise"]["icl"]]
    caption = (f"Reddy 2024 at the paper's widths ({model}; K = {c['K']} classes, L = {c['L']} labels, N = {c['N']} "
               f"pairs, D = {c['D']}, B = {c['B']}, p_C = {c['p_novel']} novel sequences; SGD lr {c['lr']:g}, batch "
               f"{c['batch']}, {c['steps']:,} steps in {c.get('dtype', 'float64')}, evaluated every "
               f"{c['eval_every']:,} steps on {c['n_eval']:,} sequences; the {c.get('sampler', 'fresh')} sampler and "
               f"the {c.get('init', 'package')} initialisation), one curve per seed: the in-context accuracy on novel "
               "classes with the context-label accuracy (predicting some label of the context; dashed line 1/N), the "
               "in-weights accuracy, the two attention progress measures of the induction head"
               + (", and the share of the classifier's last ReLU layer that is active and of its units that are "
                  "dead" if len(panels) == 5 else "")
               + f". Seed{'s' if len(summaries) > 1 else ''} {', '.join(str(x['seed']) for x in summaries)}: "
               f"{len(learned)} of {len(summaries)} learn in context (final ICL ≥ 0.5)"
               + (f", the ICL accuracy rising half-way at step{'s' if len(jumps) > 1 else ''} "
                  + (f"{min(jumps):,}–{max(jumps):,}" if len(set(jumps)) > 1 else f"{jumps[0]:,}") if jumps else "")
               + ".")
    return save(fig, Path(out_dir), record["name"], pdf, caption)
