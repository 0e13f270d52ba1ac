"""Tian et al. 2023: the figure of the scan-snap record (``python -m theory reproduce scan-snap``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
'icl-theory[plot]'``), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save
from ..core.records import check_record

__all__ = ["scan_snap_figures"]


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
    fig = figure(13.5, 3.9)
    a, b, c = fig.subplots(1, 3)
    a.plot(it, c_sgd[:, :nc].sum(axis=1), color="black", lw=2, label="common tokens (sum), SGD")
    a.plot(it, c_flow[:, :nc].sum(axis=1), color="black", lw=1, ls="--", label="common tokens, long-sequence flow")
    grey = np.linspace(0.75, 0.0, nd)
    for j in range(nd):
        a.plot(it, c_sgd[:, nc + j], color=str(grey[j]), lw=1,
               label="distinct tokens, P(l|n) low → high (light → dark)" if j == nd - 1 else None)
    a.set_xlabel("SGD iteration")
    a.set_ylabel("attention c_n(l) of class 0")
    a.set_title("scan: common tokens fall, distinct tokens rank by P(l|n)", fontsize=10)
    legend(a)
    t = np.asarray(cur["long_t"])
    b.plot(t, np.asarray(cur["long_z"]) - cur["long_z"][0], color="black", label="largest logit z (growth)")
    b.plot(t, cur["long_y"], color="tab:blue", ls="--", label="||Y||")
    b.plot(t, 1 - np.asarray(cur["long_alpha"]), color="tab:orange", ls=":", label="1 − α_n")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("iteration t (flow at the steady-state rate η/(1 − β))")
    b.set_ylabel("value")
    b.set_title("snap: logits freeze, ||Y|| ~ ln t, 1 − α ~ 1/t", fontsize=10)
    legend(b)
    mean = np.asarray(r["sweep_distinct_mean"]).mean(axis=0)        # average over the query counts
    for ls, (j, ez) in zip(LINESTYLES, enumerate(s["eta_z"])):
        c.plot(s["ratios"], mean[j], color=f"C{j}", ls=ls, marker="o", label=f"η_Z = {ez:g}")
        if "authors_mean" in r:
            c.plot(s["ratios"], np.asarray(r["authors_mean"]).mean(axis=0)[j], color=f"C{j}", ls="none",
                   marker="x", ms=7, label="the authors' (Fig. 6)" if j == 0 else None)
    c.set_xscale("log")
    c.set_xlabel("η_Y / η_Z")
    c.set_ylabel("entropy of the final c_n, distinct tokens (nats)")
    c.set_title(f"sparsity after the snap ({len(s['n_queries'])} query counts × "
                f"{s['sweep_seeds']} seeds)", fontsize=10)
    legend(c)
    fig.suptitle("Tian et al. 2023 (scan and snap): a one-layer transformer's attention dynamics "
                 f"({nc} common + {nd} distinct tokens a class, T = {s['scan']['T']})")
    paths = save(fig, out_dir, "scan-snap", pdf)
    if "authors_mean" in r:
        paths += _entropy_figure(s, r, out_dir, pdf)
    return paths


def _entropy_figure(s, r, out_dir, pdf):
    """Fig. 6 of the paper, panel by panel: ours (mean ± sample sd over the seeds) beside the
    authors' published numbers (theory/scan_snap/authors.py)."""
    ours, sd = np.asarray(r["sweep_distinct_mean"]), np.asarray(r["sweep_distinct_sd"])
    theirs, theirs_sd = np.asarray(r["authors_mean"]), np.asarray(r["authors_sd"])
    fig = figure(13.5, 3.4)
    axes = fig.subplots(1, len(s["n_queries"]), sharey=True)
    x = np.asarray(s["ratios"], dtype=float)
    for i, (ax, q) in enumerate(zip(axes, s["n_queries"])):
        for j, ez in enumerate(s["eta_z"]):
            ax.errorbar(x * 0.97, ours[i, j], sd[i, j], color=f"C{j}", ls="-", marker="o", ms=3, capsize=2,
                        label=f"η_Z = {ez:g}, ours")
            ax.errorbar(x * 1.03, theirs[i, j], theirs_sd[i, j], color=f"C{j}", ls=":", marker="x", ms=4,
                        capsize=2, label="the authors'" if j == len(s["eta_z"]) - 1 else None)
        ax.set_xscale("log")
        ax.set_xticks(x, [f"{v:g}" for v in x])
        ax.set_xlabel("η_Y / η_Z")
        ax.set_title(f"{q} quer{'y' if q == 1 else 'ies'}, {2 * q} next tokens", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("entropy of c_n, distinct tokens (nats)")
    axes[0].legend(fontsize=7)
    d = np.abs(np.asarray(r["authors_diff_in_sd"]))
    fig.suptitle(f"Tian et al. 2023, Fig. 6: ours (solid, {s['sweep_seeds']} seeds) and the authors' (dotted); "
                 f"|difference| ≤ 2 of their sd in {int((d <= 2).sum())} of {d.size} cells", fontsize=10)
    return save(fig, out_dir, "scan-snap-entropy", pdf)
