"""Preconditioned GD: the figures of the record (``python -m theory reproduce preconditioned-gd``).

Drawn from run records only (nothing is trained); needs matplotlib (``pip install
-e '.[plot]'`` from a clone), imported inside :mod:`theory.core.plotting`'s helpers only.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import LINESTYLES, figure, legend, save, signed_image
from ..core.records import check_record

__all__ = ["preconditioned_gd_figures"]


def preconditioned_gd_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """(1) held-out loss against the number of layers — trained, plain GD, GD preconditioned
    by Σ⁻¹, GD++ on S; (2) the deepest model's A_ℓ after whitening (a multiple of I when
    A_ℓ ∝ Σ⁻¹); (3) ZFB's flow; (4) the error under covariate shift against least squares."""
    record = check_record(record, "preconditioned-gd")
    s, r, cur = record["settings"], record["results"], record["curves"]
    Ls = sorted(r["deep"], key=int)
    fig = figure(13.5, 4.3)
    a, c, e = fig.subplots(1, 3)
    x = [int(L) for L in Ls]
    a.plot(x, [r["deep"][L]["median"] for L in Ls], color="black", marker="o", label="trained (GD++ form)")
    for (key, label), ls, mk in zip((("gd", "plain GD, tuned"), ("preconditioned", r"GD $\cdot\Sigma^{-1}$, tuned"),
                                     ("gdpp_S", "GD++ on S, tuned")), LINESTYLES[1:], "s^v"):
        a.plot(x, [r["baselines"][L][key]["median"] for L in Ls], ls=ls, marker=mk, label=label)
    a.set_yscale("log")
    a.set_xticks(x)
    a.set_xlabel("layers L (= steps)")
    a.set_ylabel(r"median held-out $(\hat y - y)^2$ (log axis)")
    a.set_title("deeper models: preconditioned steps", fontsize=10)
    legend(a, ncols=1)
    deepest = max(Ls, key=int)
    t, fl = np.asarray(cur["flow_t"]), np.asarray(cur["flow_loss"])
    c.plot(t, fl - fl.min() + 1e-16, color="black")
    c.set_yscale("log")
    c.set_xlabel("flow time t")
    c.set_ylabel(r"$\frac{1}{2}L(t) - \frac{1}{2}L(\infty)$ (log axis)")
    c.set_title("ZFB's gradient flow converges", fontsize=10)
    c.grid(alpha=0.3)
    sh = r["shifts"]
    e.plot(sh["scales"], sh["covariate"], color="black", marker="o", label="trained layer, covariate shift")
    e.plot(sh["scales"], sh["query"], color="tab:blue", ls="--", marker="s", label="trained layer, query shift")
    e.plot(sh["scales"], np.maximum(sh["covariate_ls"], 1e-16), color="tab:orange", ls=":", marker="^",
           label="least squares, covariate shift")
    e.set_xscale("log")
    e.set_yscale("log")
    e.set_xticks(sh["scales"], [f"{v:g}" for v in sh["scales"]])
    e.set_xticks([], minor=True)                           # no minor labels crowding the named scales
    e.set_xlabel("scale c of the test covariance (log axis)")
    e.set_ylabel(r"test error $E(\hat y - y)^2$ (log axis)")
    e.set_title("robust to query shift, not covariate shift", fontsize=10)
    legend(e, ncols=1)
    c0 = s["configs"]["one-inverse"]
    cd = s["configs"][f"deep-{deepest}"]
    fig.suptitle(f"Preconditioned GD (Ahn et al. 2023; ZFB 2024): d = {c0['d']}, n = {c0['n']}, rotated Σ")
    one = r["one_layer"]
    caption = (f"Ahn et al. 2023, Mahankali et al. 2024 and Zhang, Frei & Bartlett 2024 at CPU scale (d = {c0['d']}, "
               f"n = {c0['n']} context pairs, x ~ N(0, Σ) with the authors' rotated Σ = U diag"
               f"{tuple(round(v, 3) for v in c0['D'])}² Uᵀ, tasks w ~ N(0, Σ⁻¹); the L-layer models trained with the "
               f"authors' Adam recipe, lr {cd['lr']:g} halved every {cd['halve_every']:,} steps, for {cd['steps']:,} steps "
               f"of {cd['batch']:,} fresh prompts). Left: the median held-out "
               f"squared error of trained L-layer models (GD++ form) against L tuned steps of plain GD, of GD "
               f"preconditioned by Σ⁻¹ and of GD++ on S = {{A = aΣ⁻¹, B = bI}}, on the same prompts: " + "; ".join(
                   f"L = {L}: {r['deep'][L]['median']:.3g} trained, {r['baselines'][L]['gd']['median']:.3g} plain GD, "
                   f"{r['baselines'][L]['preconditioned']['median']:.3g} preconditioned, "
                   f"{r['baselines'][L]['gdpp_S']['median']:.3g} GD++ on S" for L in Ls)
               + " (the medians: the means, in the report, can be ruled by a few large prompts)"
               + f". Middle: Zhang, Frei & Bartlett's gradient flow from their initialisation, its loss falling to the "
               f"limit u Uᵀ = Γ⁻¹ (reached to {r['flow']['final_error']:.0e}). Right: the limit's exact test error when "
               "the test prompts' covariates (context and query) or only the query are drawn from N(0, cΛ), against "
               "least squares on the same shifted prompts (the labels are noiseless, so least squares is exact: its error "
               "is round-off). The one-layer checks are in the report: trained loss "
               f"{one['one-identity']['loss']:.4f} against the closed form {one['one-identity']['closed']:.4f} "
               f"(w ~ N(0, I)) and {one['one-inverse']['loss']:.4f} against {one['one-inverse']['closed']:.4f} "
               "(w ~ N(0, Σ⁻¹)).")
    paths = save(fig, Path(out_dir), "preconditioned-gd", pdf, caption)

    Ms = [np.asarray(M) for M in r["deep"][deepest]["whitened"]]
    fig = figure(3.0 * len(Ms) + 1.2, 3.4)
    axes = fig.subplots(1, len(Ms), squeeze=False)[0]
    lim = max(float(np.abs(M).max()) for M in Ms)
    for ax, M, dist, l in zip(axes, Ms, r["deep"][deepest]["whitened_distance"], range(1, len(Ms) + 1)):
        im = signed_image(ax, M, lim=lim)
        ax.set_title(f"layer {l}: distance {dist:.3f}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes), shrink=0.8, label="entry (0 is white)")
    fig.suptitle(rf"the {deepest}-layer model's $C^\top A_\ell C$ ($CC^\top = \Sigma$): a multiple of $I$ when "
                 r"$A_\ell \propto \Sigma^{-1}$", fontsize=10)
    caption = (f"The learned score matrices A_ℓ of the trained {deepest}-layer model, whitened (M_ℓ = Cᵀ A_ℓ C with "
               "C Cᵀ = Σ), on a diverging colour scale centred at 0. Ahn et al.'s S = {A_ℓ = a_ℓ Σ⁻¹} is where every "
               "M_ℓ is a multiple of the identity; the panel titles give ‖M_ℓ − (tr M_ℓ/d) I‖/‖M_ℓ‖: "
               + ", ".join(f"{v:.3f}" for v in r["deep"][deepest]["whitened_distance"]) + ".")
    return paths + save(fig, Path(out_dir), "preconditioned-gd-whitened", pdf, caption)
