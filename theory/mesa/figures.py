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
    return save(fig, out_dir, "mesa", pdf, caption) + _experiments_figure(record, out_dir, pdf)


def _experiments_figure(record, out_dir, pdf):
    """Top: (1) the share of non-negligible entries of each layer's products; (2) the test
    loss on the line from the trained 1-layer model to RevAlg-1; (3) few-shot regression by
    the number of pairs in context, the trained models against least squares and one GD step.
    Bottom (records with them): (4) prompt tuning, the error per query without, with the
    initial and with the tuned EOS; (5) the line from each deeper model to RevAlg-d; (6) the
    raw-token model's copy layer, R² of a linear probe to s_{t−k}."""
    s, r, cur = record["settings"], record["results"], record["curves"]
    if "interpolation" not in cur:                     # a record written before these experiments
        return []
    more = "raw_test_loss" in r
    fig = figure(13.5, 9.2 if more else 4.6)
    axes = fig.subplots(2 if more else 1, 3)
    a, b, c = axes[0] if more else axes
    labels, qk, pv = [], [], []
    for d, per_layer in r["sparsity"].items():
        for i, sp in enumerate(per_layer):
            labels.append(f"{d}L·{i + 1}")
            qk.append(np.mean(sp["qk"]))
            pv.append(np.mean(sp["pv"]))
    x = np.arange(len(labels))
    a.bar(x - 0.2, qk, 0.4, color="black", label=r"$W_K^\top W_Q$")
    a.bar(x + 0.2, pv, 0.4, color="0.6", label=r"$P W_V$")
    a.set_xticks(x, labels)
    a.set_xlabel("model (layers) · layer")
    a.set_ylabel(f"share of entries above {100 * r['sparsity_threshold']:g} % of the largest")
    a.set_title("how sparse the trained products are", fontsize=10)
    legend(a, ncols=1)
    ip = cur["interpolation"]
    b.plot(ip["alpha"], ip["test_loss"], color="black", marker="o")
    b.set_xlabel(r"$\alpha$: products $(1-\alpha)$ trained $+\ \alpha$ RevAlg-1")
    b.set_ylabel("test loss (the authors' scale)")
    b.set_title("from the trained 1-layer model to RevAlg-1", fontsize=10)
    fs = cur["fewshot"]
    i = np.arange(1, len(fs["lsq"]) + 1)
    depths = [str(cc["layers"]) for cc in s["configs"]]
    for ls, d in zip(LINESTYLES, depths):
        c.plot(i - 1, fs[d], color="black", ls=ls, label=f"{d}-layer, trained on sequences")
    c.plot(i - 1, fs["gd"], color="tab:blue", label=f"one GD step, η = {r['fewshot_eta']:.2g} (fitted)")
    c.plot(i - 1, fs["lsq"], color="tab:orange", label="least squares on the pairs")
    c.plot(i - 1, fs["zero"], color="0.6", ls=":", label="predict 0")
    c.set_xlabel("pairs (x, y) in context before the query")
    c.set_ylabel(r"error $\sum\|y - \hat y\|^2 / 2B$")
    c.set_title("few-shot regression, no retraining", fontsize=10)
    legend(c, ncols=1)
    fig.suptitle("von Oswald et al. 2023b, Secs. 4–5 at CPU scale" if more else
                 "von Oswald et al. 2023b, Secs. 4–5 at CPU scale: sparsity, RevAlg-1 interpolation, few-shot")
    deep = depths[-1]
    caption = (f"von Oswald et al. 2023b on the trained constructed-token models. Left: per layer, the share of "
               f"the entries of each head's W_K^T W_Q and P W_V above {100 * r['sparsity_threshold']:g} % of that "
               f"product's largest (heads averaged; our threshold — the paper's is not in the authors' code). "
               f"Middle: the test loss along the straight line of products from the trained 1-layer model "
               f"({ip['test_loss'][0]:.4f}) to RevAlg-1 ({ip['test_loss'][-1]:.4f}), lowest "
               f"{min(ip['test_loss']):.4f}. Right: supervised few-shot regression laid out as the sequence "
               f"x_1, y_1, x_2, y_2, … and read by the models trained on linear dynamics, without retraining: the "
               f"{deep}-layer model's error falls from {fs[deep][0]:.3f} to {fs[deep][-1]:.3f} over "
               f"{len(i) - 1} pairs, against {fs['gd'][-1]:.3f} for one GD step and {fs['lsq'][-1]:.2g} for least "
               "squares.")
    if more:
        for side in ("Left", "Middle", "Right"):
            caption = caption.replace(f"{side}:", f"Top {side.lower()}:", 1)
        caption += " " + _more_experiments(axes[1], record, depths)
    return save(fig, out_dir, "mesa-experiments", pdf, caption)


def _more_experiments(axes, record, depths):
    """The bottom row of :func:`_experiments_figure`; returns its part of the caption."""
    r, cur = record["results"], record["curves"]
    d, e, f = axes
    deep, n_eos = depths[-1], r["eos_pairs"]
    q = np.arange(1, n_eos + 1)
    eos = cur["eos"][deep]
    d.plot(q - 1, cur["fewshot"][deep][:n_eos], color="black", label="no EOS")
    d.plot(q - 1, eos["init"], color="0.6", ls="--", label=r"EOS $\sim N(0, I)$, before tuning")
    d.plot(q - 1, eos["tuned"], color="tab:red", label="tuned EOS")
    d.set_xlabel("pairs (x, y) in context before the query")
    d.set_ylabel(r"error $\sum\|y - \hat y\|^2 / 2B$")
    d.set_title(f"prompt tuning, {deep}-layer model", fontsize=10)
    legend(d, ncols=1)
    line = cur["revalg_d_line"]
    for ls, k in zip(LINESTYLES[1:], line["test_loss"]):
        e.plot(line["alpha"], line["test_loss"][k], color="black", ls=ls, marker="o", label=f"{k}-layer → RevAlg-{k}")
    e.set_xlabel(r"$\alpha$: products $(1-\alpha)$ trained $+\ \alpha$ RevAlg-d")
    e.set_ylabel("test loss (the authors' scale)")
    e.set_title("from the deeper models to RevAlg-d", fontsize=10)
    legend(e, ncols=1)
    probes = cur["raw"]["copy_probes"]
    k = np.arange(len(probes["tokens"]))
    f.plot(k, probes["tokens"], color="0.6", marker="o", label="from the raw tokens")
    f.plot(k, probes["copy layer"], color="black", marker="o", label="after the copy layer")
    f.set_xlabel(r"lag k: probe target $s_{t-k}$")
    f.set_ylabel("held-out R²")
    f.set_title("raw tokens: what the first layer writes", fontsize=10)
    legend(f, ncols=1)
    prev = r["raw_previous_weight"]
    mean = lambda v: float(np.mean(v))
    return (f"Bottom left: prompt tuning on {n_eos} pairs, the {deep}-layer model's mean error "
            f"{mean(cur['fewshot'][deep][:n_eos]):.4f} without an EOS, {mean(eos['init']):.4f} with the initial and "
            f"{mean(eos['tuned']):.4f} with the tuned one. Bottom middle: the line from each deeper trained model to "
            f"its projection on block scalars × I (RevAlg-d), ending at "
            + ", ".join(f"{r['revalg_d'][k]:.4f} ({k} layers)" for k in line["test_loss"])
            + f". Bottom right: the raw-token model (test loss {r['raw_test_loss']:.4f}); its copy layer's heads put "
            f"{', '.join(f'{p:.2f}' for p in prev)} of their attention on the previous token, and a linear probe of "
            f"its output reads s_(t−1) with R² {probes['copy layer'][1]:.3f} (the raw tokens: "
            f"{probes['tokens'][1]:.3f}).")
