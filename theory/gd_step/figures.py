"""von Oswald et al. 2023: the figures of the gd-step record (``python -m theory reproduce gd-step``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save, signed_image, smooth
from ..core.records import check_record

__all__ = ["gd_step_figures"]


def gd_step_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """von Oswald et al. 2023: (1) training loss of the LSA stacks against GD and GD++
    (Figs. 2 and 4 of the paper), (2) the trained 1-layer products beside the GD
    construction (the heat maps of Fig. 2).  Returns the paths written."""
    record = check_record(record, "gd-step")
    out_dir = Path(out_dir)
    st, res, loss = record["settings"], record["results"], record["curves"]["loss"]
    one = res["one_layer"]
    depths = sorted(int(L) for L in res["deep"])
    fig = figure(4.2 * (1 + len(depths)), 4.3)
    axes = fig.subplots(1, 1 + len(depths), squeeze=False)[0]
    y, x = smooth(loss["lsa-1"])
    ax = axes[0]
    ax.plot(x, y, color="black", label="trained 1-layer LSA (training loss)")
    ax.axhline(one["gd_loss"], color="tab:blue", ls="--", label=rf"one GD step at $\eta^*$ = {one['eta']:.2f} (held out)")
    if one.get("loss_star") is not None:
        ax.axhline(one["loss_star"], color="tab:orange", ls=":", label=r"closed-form optimum $L^*$")
    ax.set_title("1 layer vs one step of GD")
    for ax, L in zip(axes[1:], depths):
        for ls, (kind, label) in zip(LINESTYLES, (("lsa", f"{L}-layer LSA"), ("gd", rf"{L} steps of GD (learned $\eta$)"),
                                                  ("gdpp", rf"{L} steps of GD++ (learned $\eta$, $\gamma$)"))):
            y, x = smooth(loss[f"{kind}-{L}"])
            ax.plot(x, y, label=label, color={"lsa": "black", "gd": "tab:blue", "gdpp": "tab:orange"}[kind],
                    ls=ls)
        ax.set_title(f"{L} layers vs {L} steps of GD / GD++")
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("training step (Adam, fresh tasks each step)")
        ax.set_ylabel(r"loss $\frac{1}{2}(\hat{y} - y)^2$, running mean of 50 (log axis)")
        legend(ax, ncols=1)
    fig.suptitle("von Oswald et al. 2023, Figs. 2 and 4: trained linear self-attention vs gradient descent "
                 f"(d = {st['d']}, N = {st['n_context']})")
    deep = "; ".join(f"{L} layers {res['deep'][str(L)]['lsa']:.3f}, {L} GD steps {res['deep'][str(L)]['gd']:.3f}, "
                     f"{L} GD++ steps {res['deep'][str(L)]['gdpp']:.3f}" for L in depths)
    caption = (f"von Oswald et al. 2023, Figs. 2 and 4, with d = {st['d']} inputs and N = {st['n_context']} context "
               f"pairs (x ~ U(−1/2, 1/2)^d, w ~ N(0, I)), {st['steps']:,} Adam steps on fresh batches of {st['batch']:,} "
               "tasks; the training loss is a running mean of 50 steps and the horizontal lines are held-out losses "
               f"on {one['n_tasks']:,} tasks. Left: one trained linear self-attention layer reaches "
               f"{one['tf_loss']:.4f}, one gradient-descent step at the best learning rate η* = {one['eta']:.2f} "
               f"reaches {one['gd_loss']:.4f}, and the closed-form optimum is {one['loss_star']:.4f} (predicting 0 scores "
               f"{one['zero_loss']:.3f}). Right: deeper stacks against as many steps of GD and of GD++ with learned "
               f"step sizes (held-out losses: {deep})"
               + (": at every depth the trained stack is below plain GD."
                  if all(res["deep"][str(L)]["lsa"] < res["deep"][str(L)]["gd"] for L in depths) else "."))
    paths = save(fig, out_dir, "gd-step-loss", pdf, caption)

    pr = {k: np.asarray(v) for k, v in record["curves"]["products"].items()}
    if pr:
        fig = figure(8.4, 7.4)
        axes = fig.subplots(2, 2)
        for row, (key, name) in enumerate((("KQ", r"$W_K^\top W_Q$"), ("PV", r"$P\,W_V$"))):
            lim = float(max(np.abs(pr[key]).max(), np.abs(pr[key + "_gd"]).max()))
            for col, (m, title) in enumerate(((pr[key], f"trained: {name} (shared scale removed)"),
                                              (pr[key + "_gd"], rf"GD construction at $\eta^*$: {name}"))):
                im = signed_image(axes[row, col], m, lim=lim)
                axes[row, col].set_title(title, fontsize=9)
                axes[row, col].set_xlabel(r"column ($x_1 \ldots x_d$, $y$)")
                axes[row, col].set_ylabel("row")
            fig.colorbar(im, ax=axes[row, :], shrink=0.8, label="entry (0 is white)")
        fig.suptitle("von Oswald et al. 2023, Fig. 2: the trained 1-layer LSA's weight products beside the "
                     "GD construction\n" + rf"(rel. error after aligning the scale: $W_K^\top W_Q$ "
                     f"{one['kq_error']:.3f}, $P\\,W_V$ {one['pv_error']:.3f})", fontsize=10)
        caption = ("von Oswald et al. 2023, Fig. 2: the weight products of the trained one-layer linear "
                   "self-attention (left) beside those of the gradient-descent construction of Prop. 1 at η* (right), "
                   "on a diverging colour scale centred at 0 (blue negative, red positive). The two products share a "
                   "scale that only their product fixes, so it is removed before comparing. W_K^T W_Q is the identity "
                   "on the inputs (the scores x_i·x_q) and P W_V a single negative entry that carries −y into the "
                   f"output slot; after aligning the scale the trained products differ from the construction by "
                   f"{one['kq_error']:.3f} (W_K^T W_Q) and {one['pv_error']:.3f} (P W_V) in relative Frobenius norm.")
        paths += save(fig, out_dir, "gd-step-products", pdf, caption)
    return paths
