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
    mean = np.asarray(r["sweep_mean"]).mean(axis=0)        # average over the query counts
    for ls, (j, ez) in zip(LINESTYLES, enumerate(s["eta_z"])):
        c.plot(s["ratios"], mean[j], color="black", ls=ls, marker="o", label=f"η_Z = {ez:g}")
    c.set_xscale("log")
    c.set_xlabel("η_Y / η_Z")
    c.set_ylabel("entropy of the final c_n (nats)")
    c.set_title(f"sparsity after the snap ({len(s['n_queries'])} query counts × "
                f"{s['sweep_seeds']} seeds)", fontsize=10)
    legend(c)
    fig.suptitle("Tian et al. 2023 (scan and snap): a one-layer transformer's attention dynamics "
                 f"({nc} common + {nd} distinct tokens a class, T = {s['scan']['T']})")
    return save(fig, out_dir, "scan-snap", pdf)
