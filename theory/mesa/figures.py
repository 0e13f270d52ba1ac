"""von Oswald et al. 2023b: the figure of the mesa record (``python -m theory reproduce mesa``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
'icl-theory[plot]'``), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save, smooth
from ..core.records import check_record

__all__ = ["mesa_figures"]


def mesa_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """von Oswald et al. 2023b: (1) next-state loss by position t for the trained depths
    against one GD step (one fitted η, and η_t = c/t), least squares (the authors' pairs
    < t) and the true W* (Fig. 2 of the paper); (2) training curves; (3) held-out R² of the
    linear probes by layer and t."""
    record = check_record(record, "mesa")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    depths = [str(c["layers"]) for c in s["configs"]]
    pl = cur["position_losses"]
    t = np.arange(1, len(pl["zero"]) + 1)
    fig = figure(13.5, 3.9)
    a, b, c = fig.subplots(1, 3)
    for ls, d in zip(LINESTYLES, depths):
        a.plot(t, pl[d], color="black", ls=ls, label=f"{d}-layer linear attention (trained)")
    for key, label, color, ls in (("gd", f"one GD step, η* = {r['eta']:.3g}", "tab:blue", "--"),
                                  ("gd_c_t", f"one GD step, η_t = {r['c']:.2g}/t", "tab:cyan", ":"),
                                  ("lsq", "least squares (pairs < t)", "tab:orange", "-."),
                                  ("true", "true W*", "0.5", ":")):
        a.plot(t, pl[key], color=color, ls=ls, label=label)
    a.annotate("one η for all t: the GD step's loss\nrises at large t (η_t = c/t: no rise)", xy=(0.97, 0.22),
               xycoords="axes fraction", fontsize=7, ha="right", va="bottom")
    a.set_yscale("log")
    a.set_xlabel("position t in the sequence")
    a.set_ylabel("test loss Σ||s_{t+1} − ŝ||²/(2B)")
    a.set_title("deeper models approach least squares", fontsize=10)
    legend(a)
    for ls, d in zip(LINESTYLES, depths):
        y, x = smooth(cur["train_loss"][d])
        b.plot(x, y, color="black", ls=ls, label=f"{d} layer(s)")
    b.axhline(r["test_loss"]["gd"], color="tab:blue", ls="--", label="one GD step (test)")
    b.axhline(r["test_loss"]["lsq"], color="tab:orange", ls="-.", label="least squares (test)")
    b.set_yscale("log")
    b.set_xlabel("training step (Adam, fresh sequences each step)")
    b.set_ylabel("loss Σ||s − ŝ||²/(2B·targets), running mean of 50")
    b.set_title("training", fontsize=10)
    legend(b)
    for ls, (name, color) in zip(LINESTYLES, (("next_state", "black"), ("preconditioned", "tab:orange"))):
        probes = np.asarray(r["probes"][name])
        for layer in (0, len(probes) - 1):
            c.plot(t, probes[layer], color=color, ls=LINESTYLES[min(layer, 1) * 2],
                   label=f"{'s_{t+1}' if name == 'next_state' else '(S_{t-1}+λI)^{-1} s_t'}, "
                         f"{'tokens' if layer == 0 else f'after layer {layer}'}")
    c.set_ylim(-0.1, 1.05)
    c.set_xlabel("position t")
    c.set_ylabel("held-out R² of a linear probe")
    c.set_title(f"probes of the {depths[-1]}-layer model", fontsize=10)
    legend(c)
    fig.suptitle("von Oswald et al. 2023b, Secs. 3-4: trained causal linear attention on linear dynamics "
                 f"(D = {s['configs'][0]['D']}, T = {s['configs'][0]['T']})")
    return save(fig, out_dir, "mesa", pdf)
