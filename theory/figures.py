"""The papers' figures, drawn from run records (:mod:`theory.records`) — nothing is trained.

    python -m theory reproduce gd-step --out out/     # trains, writes out/gd-step.json, draws
    python -m theory figures out/ [--pdf]             # redraws from the records

Needs matplotlib (``pip install 'icl-theory[plot]'``); it is imported only here, and only
matplotlib's object interface is used (``matplotlib.figure.Figure``), so drawing changes
no global state.  Every figure is meant for a slide and a greyscale print: lines differ
in style and marker as well as colour, heat maps use a colour map whose lightness rises
monotonically (viridis), axes say their units, and each title names the paper and figure.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .records import check_record, read_record

__all__ = ["have_matplotlib", "draw_all", "gd_step_figures"]

_STYLES = [dict(ls="-", marker=None), dict(ls="--", marker=None), dict(ls=":", marker=None),
           dict(ls="-.", marker=None)]


def have_matplotlib() -> bool:
    import importlib.util
    return importlib.util.find_spec("matplotlib") is not None


def _figure(width: float, height: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), dpi=120, layout="constrained")


def _save(fig, out_dir: Path, stem: str, pdf: bool) -> list:
    paths = [out_dir / f"{stem}.png"]
    fig.savefig(paths[0])
    if pdf:
        paths.append(out_dir / f"{stem}.pdf")
        fig.savefig(paths[1])
    return paths


def _smooth(y, window: int = 50):
    """Running mean over ``window`` steps (the per-step loss of a fresh batch is noisy)."""
    y = np.asarray(y, dtype=float)
    w = max(1, min(window, len(y)))
    return np.convolve(y, np.ones(w) / w, mode="valid"), np.arange(w - 1, len(y))


def gd_step_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """von Oswald et al. 2023: (1) training loss of the LSA stacks against GD and GD++
    (Figs. 2 and 4 of the paper), (2) the trained 1-layer products beside the GD
    construction (the heat maps of Fig. 2).  Returns the paths written."""
    record = check_record(record, "gd-step")
    out_dir = Path(out_dir)
    res, loss = record["results"], record["curves"]["loss"]
    one = res["one_layer"]
    depths = sorted(int(L) for L in res["deep"])
    fig = _figure(4.2 * (1 + len(depths)), 3.6)
    axes = fig.subplots(1, 1 + len(depths), squeeze=False)[0]
    y, x = _smooth(loss["lsa-1"])
    ax = axes[0]
    ax.plot(x, y, color="black", label="trained 1-layer LSA (training loss)")
    ax.axhline(one["gd_loss"], color="tab:blue", ls="--", label=f"one GD step at η* = {one['eta']:.2f} (held out)")
    if one.get("loss_star") is not None:
        ax.axhline(one["loss_star"], color="tab:orange", ls=":", label="closed-form optimum L*")
    ax.set_title("1 layer vs one step of GD")
    for ax, L in zip(axes[1:], depths):
        for style, (kind, label) in zip(_STYLES, (("lsa", f"{L}-layer LSA"), ("gd", f"{L} steps of GD (learned η)"),
                                                  ("gdpp", f"{L} steps of GD++ (learned η, γ)"))):
            y, x = _smooth(loss[f"{kind}-{L}"])
            ax.plot(x, y, label=label, color={"lsa": "black", "gd": "tab:blue", "gdpp": "tab:orange"}[kind],
                    ls=style["ls"])
        ax.set_title(f"{L} layers vs {L} steps of GD / GD++")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("training step (Adam, fresh tasks each step)")
        ax.set_ylabel("loss ½(ŷ − y)², running mean of 50 steps")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("von Oswald et al. 2023, Figs. 2 and 4: trained linear self-attention vs gradient descent "
                 f"(d = {record['settings']['d']}, N = {record['settings']['n_context']})")
    paths = _save(fig, out_dir, "gd-step-loss", pdf)

    pr = {k: np.asarray(v) for k, v in record["curves"]["products"].items()}
    if pr:
        fig = _figure(8.4, 7.4)
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
        paths += _save(fig, out_dir, "gd-step-products", pdf)
    return paths


DRAWERS = {"gd-step": gd_step_figures}


def draw_all(records_dir, *, pdf: bool = False) -> list:
    """Draw the figures of every run record (``*.json``) in ``records_dir``, beside them."""
    if not isinstance(records_dir, (str, os.PathLike)) or not Path(records_dir).is_dir():
        raise ValueError(f"records_dir must be a directory of run records; got {records_dir!r}")
    d = Path(records_dir)
    records = sorted(p for p in d.glob("*.json") if not p.name.startswith("."))
    if not records:
        raise ValueError(f"{d} holds no run records (*.json); write one with "
                         f"`python -m theory reproduce NAME --out {d}`")
    paths = []
    for p in records:
        record = read_record(p)
        if record["name"] not in DRAWERS:
            raise ValueError(f"{p}: no figures are defined for the {record['name']!r} reproduction")
        paths += DRAWERS[record["name"]](record, d, pdf=pdf)
    return paths
