"""Reddy 2024: the figures of the induction-head records (``python -m theory reproduce induction-head [--paper]``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
'icl-theory[plot]'``), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save
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
    fig = figure(13.5, 3.8)
    a, b, c = fig.subplots(1, 3)
    trajectories = sorted(cur["trajectories"].items(), key=lambda kv: int(kv[0].split(",")[1]))
    for ls, (key, tr) in zip(LINESTYLES * 2, trajectories):
        N, L = key.split(",")
        a.plot(np.asarray(tr["steps"]) + 1, tr["loss"], ls=ls, label=f"N = {N}, L = {L}")
    a.set_xscale("log")
    a.set_xlabel("GD step + 1 (lr = 0.1)")
    a.set_ylabel("loss −log p (nats)")
    a.set_title("GD from the origin: plateau, then a cliff")
    legend(a)
    key, tr = trajectories[len(trajectories) // 2]
    theta = np.asarray(tr["theta"])
    for i, (name, ls) in enumerate(zip(("β (layer-1 attention)", "α (layer-2 attention)", "ξ (readout)"),
                                          LINESTYLES)):
        b.plot(np.asarray(tr["steps"]) + 1, theta[:, i], ls=ls, color="black", label=name)
    b.set_xscale("log")
    b.set_xlabel("GD step + 1")
    b.set_ylabel("logit value")
    b.set_title(f"the three logits take off in turn (N, L = {key.replace(',', ', ')})")
    legend(b)
    jumps = res["landscape"]["jumps"]
    factors = sorted({L // N for N, L, _ in jumps})
    for ls, f in zip(LINESTYLES * 2, factors):
        pts = sorted((N, j) for N, L, j in jumps if L == f * N and j is not None)
        if pts:
            c.plot(*zip(*pts), ls=ls, marker="os^vD"[factors.index(f) % 5], label=f"L = {f} N")
    c.set_xscale("log", base=2)
    c.set_yscale("log")
    c.set_xlabel("N (context pairs)")
    c.set_ylabel("GD steps until p ≥ (1 + 1/N)/2")
    c.set_title("plateau length before the cliff")
    legend(c)
    fig.suptitle("Reddy 2024, Sec. 5: the three-parameter model of the induction head")
    paths = save(fig, out_dir, "induction-head-landscape", pdf)

    fig = figure(12, 4.2)
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
    paths += save(fig, out_dir, "induction-head-training", pdf)

    for sw in res["sweeps"]:
        names = list(dict.fromkeys(row["name"] for row in sw["rows"]))
        fig = figure(3.2 * len(names), 3.4)
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
        for ax, name in zip(axes, names):
            rows = [r for r in sw["rows"] if r["name"] == name]
            x = np.arange(len(rows))
            for curve, label, color, ls in _CURVES[:3:2]:
                final = np.array([[run[curve][-1] for run in r["runs"]] for r in rows])
                mean = final.mean(axis=1)
                ax.errorbar(x, mean, yerr=[mean - final.min(axis=1), final.max(axis=1) - mean], color=color, ls=ls,
                            marker="o" if curve == "icl" else "s", capsize=3, label=label)
            ax.set_xticks(x, [str(r["value"]) for r in rows])
            ax.set_xlabel(name)
            legend(ax)
        axes[0].set_ylabel(f"final accuracy (mean, min-max over {sw['seeds']} seeds)")
        fig.suptitle(f"Reddy 2024, Fig. 2: data parameters, one at a time — {sw['model']}")
        stem = "induction-head-sweep-" + ("network" if sw["model"] == "full network" else "two-param")
        paths += save(fig, out_dir, stem, pdf)
    return paths


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
        panels += ((("relu_active", "last ReLU: outputs > 0"), ("relu_dead", "dead units")),)
    fig = figure(3.25 * len(panels), 3.8)
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
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Reddy 2024 at the paper's widths, {s.get('model', 'full network')}, regime {s['regime']!r}: "
                 f"K = {c['K']}, L = {c['L']}, N = {c['N']}, B = {c['B']}, p_C = {c['p_novel']} ({c['steps']:,} SGD "
                 f"steps; {c.get('sampler', 'fresh')} sampler, {c.get('init', 'package')} init; dashed: 1/N)",
                 fontsize=10)
    return save(fig, Path(out_dir), record["name"], pdf)
