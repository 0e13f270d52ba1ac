"""von Oswald et al. 2023b: the figure of the mesa record (``python -m theory reproduce mesa``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
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
    fig = figure(13.5, 4.9)
    a, b, c = fig.subplots(1, 3)
    for ls, d in zip(LINESTYLES, depths):
        a.plot(t, pl[d], color="black", ls=ls, label=f"{d}-layer linear attention (trained)")
    for key, label, color, ls in (("gd", rf"one GD step, $\eta^*$ = {r['eta']:.3g}", "tab:blue", "--"),
                                  ("gd_c_t", rf"one GD step, $\eta_t$ = {r['c']:.2g}$/t$", "tab:cyan", ":"),
                                  ("lsq", r"least squares (pairs $< t$)", "tab:orange", "-."),
                                  ("true", r"true $W^*$", "0.5", ":")):
        a.plot(t, pl[key], color=color, ls=ls, label=label)
    a.set_yscale("log")
    a.set_xlabel(r"position $t$ in the sequence")
    a.set_ylabel(r"test loss $\sum\|s_{t+1} - \hat{s}_{t+1}\|^2 / 2B$ (log axis)")
    a.set_title("deeper models approach least squares", fontsize=10)
    legend(a)
    for ls, d in zip(LINESTYLES, depths):
        y, x = smooth(cur["train_loss"][d])
        b.plot(x, y, color="black", ls=ls, label=f"{d} layer(s)")
    b.axhline(r["test_loss"]["gd"], color="tab:blue", ls="--", label="one GD step (test)")
    b.axhline(r["test_loss"]["lsq"], color="tab:orange", ls="-.", label="least squares (test)")
    b.set_yscale("log")
    b.set_xlabel("training step (Adam, fresh sequences each step)")
    b.set_ylabel(r"loss $\sum\|s - \hat{s}\|^2 / (2B \cdot$targets$)$, running mean of 50")
    b.set_title("training", fontsize=10)
    legend(b)
    targets = {"next_state": r"$s_{t+1}$", "preconditioned": r"$(S_{t-1} + \lambda I)^{-1} s_t$"}
    for ls, (name, color) in zip(LINESTYLES, (("next_state", "black"), ("preconditioned", "tab:orange"))):
        probes = np.asarray(r["probes"][name])
        for layer in (0, len(probes) - 1):
            where = "tokens" if layer == 0 else f"after layer {layer}"
            c.plot(t, probes[layer], color=color, ls=LINESTYLES[min(layer, 1) * 2], label=f"{targets[name]}, {where}")
    c.set_ylim(-0.1, 1.05)
    c.set_xlabel(r"position $t$")
    c.set_ylabel(r"held-out $R^2$ of a linear probe")
    c.set_title(f"probes of the {depths[-1]}-layer model", fontsize=10)
    legend(c, ncols=1)
    cfg = s["configs"][0]
    fig.suptitle("von Oswald et al. 2023b, Secs. 3-4: trained causal linear attention on linear dynamics "
                 f"(D = {cfg['D']}, {cfg['T']} states a sequence)")
    tl = r["test_loss"]
    probes = {k: np.asarray(v) for k, v in r["probes"].items()}
    caption = (f"von Oswald et al. 2023b, Secs. 3–4 (their Fig. 2 at CPU scale): sequences of {cfg['T']} states of a "
               f"random orthogonal linear system in D = {cfg['D']} dimensions with noise σ = {cfg['sigma']:g}; causal "
               f"linear attention with {', '.join(depths)} layers trained for {cfg['steps']:,} Adam steps on batches "
               f"of {cfg['batch']}. Left: the test loss at each position t on the authors' scale (predicting 0 scores "
               f"{tl['zero']:.3f} overall): {', '.join(f'{d} layer(s) {tl[d]:.3f}' for d in depths)}, against one "
               f"gradient-descent step with one fitted η* = {r['eta']:.3g} ({tl['gd']:.3f}; its loss rises again at "
               f"large t, where the summed gradient outgrows a fixed η) and with η_t = {r['c']:.2g}/t "
               f"({tl['gd_c_t']:.3f}), least squares on the pairs before t as the authors fit it ({tl['lsq']:.3f}) "
               f"and the true W* ({tl['true']:.4f}): deeper models approach least squares. Middle: the training "
               "loss (running mean of 50 steps) beside the test losses of GD and least squares. Right: the held-out "
               f"R² of linear probes of the {depths[-1]}-layer model's residual stream, on the tokens and after its "
               f"last layer, for the next state s_(t+1) (mean over t {probes['next_state'][0].mean():.2f} → "
               f"{probes['next_state'][-1].mean():.2f}) and for the preconditioned input (S_(t−1) + λI)^(−1) s_t "
               f"({probes['preconditioned'][0].mean():.2f} → {probes['preconditioned'][-1].mean():.2f}).")
    return save(fig, out_dir, "mesa", pdf, caption)
