"""Dai et al. 2023: the figures of the dual-form record (``python -m theory reproduce dual-form``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save
from ..core.records import check_record

__all__ = ["dual_form_figures"]


def dual_form_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Dai et al. 2023: (1) softmax attention against the linear split ``W_ZSL q + ΔW_ICL q``
    the paper reads ICL through, over the logit scale, beside the exact convex split;
    (2) the exact momentum weights s_k against the paper's η^k; (3) the gap between the
    paper's momentum attention and the exact dual, over η."""
    record = check_record(record, "dual-form")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    fig = figure(13.5, 4.4)
    a, b, c = fig.subplots(1, 3)
    qs = np.asarray(r["softmax_gap_quartiles"])
    a.fill_between(s["scales"], qs[:, 0], qs[:, 2], color="0.8", label="25–75 % of instances")
    a.plot(s["scales"], qs[:, 1], color="black", marker="o", label="softmax vs linear split (median)")
    a.axhline(r["exact_split_worst"], color="tab:blue", ls="--", label=r"exact convex split $\lambda$ (worst)")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel(r"query scale $c$ (attention logits $\propto c$; log axis)")
    a.set_ylabel("relative error to softmax attention")
    a.set_title("the linear relaxation is not close at any scale", fontsize=10)
    legend(a, ncols=1)
    ages = np.asarray(cur["ages"])
    for ls, (eta, w) in zip(LINESTYLES, cur["momentum_weights"].items()):
        b.plot(ages, w["exact"], color="black", ls=ls, marker="o", ms=3, label=rf"exact $s_k$, $\eta$ = {eta}")
        b.plot(ages, w["paper"], color="tab:orange", ls=ls, marker="s", ms=3, label=rf"paper $\eta^k$, $\eta$ = {eta}")
    b.set_xlabel(r"age $k$ of the example's update (steps ago)")
    b.set_ylabel("weight of that update in the output")
    b.set_title("momentum weights: exact dual vs the paper's", fontsize=10)
    legend(b)
    qm = np.asarray(r["momentum_gap_quartiles"])
    c.fill_between(s["etas"], qm[:, 0], qm[:, 2], color="0.8", label="25–75 % of instances")
    c.plot(s["etas"], qm[:, 1], color="black", marker="o", label="MoAttn vs exact dual (median)")
    c.set_xlabel(r"momentum $\eta$")
    c.set_ylabel("relative gap")
    c.set_title("the paper's momentum attention vs the exact dual", fontsize=10)
    legend(c, ncols=1)
    fig.suptitle(f"Dai et al. 2023, Secs. 3 and 5: where the dual form is exact and where it is not "
                 f"({s['instances']} random instances per point)")
    caption = (f"Dai et al. 2023, Secs. 3 and 5, over {s['instances']} random instances per point. Left: the "
               "relative error between softmax attention and the linear split W_ZSL q + ΔW_ICL q through which the "
               "paper reads in-context learning, as the attention logits grow with the query scale c (median and "
               f"quartiles): the median stays between {qs[:, 1].min():.2f} and {qs[:, 1].max():.2f} from c = "
               f"{s['scales'][0]:.3g} to {s['scales'][-1]:.3g}, while the exact convex split with weight λ = Z_C/(Z_C + "
               f"Z_D) is exact to round-off ({r['exact_split_worst']:.1e} at worst). Middle: the weight that an update "
               "made k steps ago carries in the output of momentum gradient descent — the exact dual's s_k = 1 + η + "
               "… + η^k against the paper's η^k. Right: the relative gap between the paper's momentum attention and "
               f"the exact dual, median {qm[0, 1]:.2f} at η = {s['etas'][0]:g} rising to {qm[-1, 1]:.2f} at η = "
               f"{s['etas'][-1]:g}.")
    return save(fig, out_dir, "dual-form", pdf, caption)
