"""von Oswald et al. 2023: the figures of the gd-step record (``python -m theory reproduce gd-step``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
'icl-theory[plot]'``), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, save, smooth
from ..core.records import check_record

__all__ = ["gd_step_figures"]


def gd_step_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """von Oswald et al. 2023: (1) training loss of the LSA stacks against GD and GD++
    (Figs. 2 and 4 of the paper), (2) the trained 1-layer products beside the GD
    construction (the heat maps of Fig. 2).  Returns the paths written."""
    record = check_record(record, "gd-step")
    out_dir = Path(out_dir)
    res, loss = record["results"], record["curves"]["loss"]
    one = res["one_layer"]
    depths = sorted(int(L) for L in res["deep"])
    fig = figure(4.2 * (1 + len(depths)), 3.6)
    axes = fig.subplots(1, 1 + len(depths), squeeze=False)[0]
    y, x = smooth(loss["lsa-1"])
    ax = axes[0]
    ax.plot(x, y, color="black", label="trained 1-layer LSA (training loss)")
    ax.axhline(one["gd_loss"], color="tab:blue", ls="--", label=f"one GD step at η* = {one['eta']:.2f} (held out)")
    if one.get("loss_star") is not None:
        ax.axhline(one["loss_star"], color="tab:orange", ls=":", label="closed-form optimum L*")
    ax.set_title("1 layer vs one step of GD")
    for ax, L in zip(axes[1:], depths):
        for ls, (kind, label) in zip(LINESTYLES, (("lsa", f"{L}-layer LSA"), ("gd", f"{L} steps of GD (learned η)"),
                                                  ("gdpp", f"{L} steps of GD++ (learned η, γ)"))):
            y, x = smooth(loss[f"{kind}-{L}"])
            ax.plot(x, y, label=label, color={"lsa": "black", "gd": "tab:blue", "gdpp": "tab:orange"}[kind],
                    ls=ls)
        ax.set_title(f"{L} layers vs {L} steps of GD / GD++")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("training step (Adam, fresh tasks each step)")
        ax.set_ylabel("loss ½(ŷ − y)², running mean of 50 steps")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("von Oswald et al. 2023, Figs. 2 and 4: trained linear self-attention vs gradient descent "
                 f"(d = {record['settings']['d']}, N = {record['settings']['n_context']})")
    paths = save(fig, out_dir, "gd-step-loss", pdf)

    pr = {k: np.asarray(v) for k, v in record["curves"]["products"].items()}
    if pr:
        fig = figure(8.4, 7.4)
        axes = fig.subplots(2, 2)
        for row, (key, name) in enumerate((("KQ", "W_K^T W_Q"), ("PV", "P W_V"))):
            lim = float(max(np.abs(pr[key]).max(), np.abs(pr[key + "_gd"]).max()))
            for col, (m, title) in enumerate(((pr[key], f"trained: {name} (shared scale removed)"),
                                              (pr[key + "_gd"], f"GD construction at η*: {name}"))):
                im = axes[row, col].imshow(m, cmap="viridis", vmin=-lim, vmax=lim)
                axes[row, col].set_title(title, fontsize=9)
                axes[row, col].set_xlabel("column (x₁ … x_d, y)")
                axes[row, col].set_ylabel("row")
            fig.colorbar(im, ax=axes[row, :], shrink=0.8, label="entry")
        fig.suptitle("von Oswald et al. 2023, Fig. 2: the trained 1-layer LSA's weight products beside the "
                     "GD construction\n(rel. error after aligning the scale: W_K^T W_Q "
                     f"{one['kq_error']:.3f}, P W_V {one['pv_error']:.3f})", fontsize=10)
        paths += save(fig, out_dir, "gd-step-products", pdf)
    return paths
