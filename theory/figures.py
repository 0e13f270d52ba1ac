"""The papers' figures, drawn from run records (:mod:`theory.records`) — nothing is trained.

    python -m theory reproduce gd-step --out out/     # trains, writes out/gd-step.json, draws
    python -m theory reproduce induction-head --out out/
    python -m theory reproduce dual-form --out out/   # random instances, seconds
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

__all__ = ["have_matplotlib", "draw_all", "gd_step_figures", "induction_head_figures", "induction_paper_figures",
           "dual_form_figures", "mesa_figures", "scan_snap_figures"]

_LINESTYLES = ("-", "--", ":", "-.")                     # told apart in greyscale too


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
        for ls, (kind, label) in zip(_LINESTYLES, (("lsa", f"{L}-layer LSA"), ("gd", f"{L} steps of GD (learned η)"),
                                                  ("gdpp", f"{L} steps of GD++ (learned η, γ)"))):
            y, x = _smooth(loss[f"{kind}-{L}"])
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


def _legend(ax):
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


_CURVES = (("icl", "ICL: novel classes, bursty", "black", "-"), ("swapped", "ICL: swapped labels", "0.45", "--"),
           ("iwl", "IWL: trained classes, i.i.d.", "tab:blue", ":"),
           ("prev_token", "layer 1: label → previous item", "tab:orange", "-."),
           ("match_label", "layer 2: target → matching label", "tab:green", (0, (5, 1, 1, 1, 1, 1))))


def induction_head_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Reddy 2024: (1) the three-parameter model's loss cliff — GD trajectories for N = 8
    and several L, the three logits of one run, and the plateau length against N (Sec. 5);
    (2) accuracies and both progress measures over training for the full network and the
    two-parameter model (Figs. 2-4); (3) the one-at-a-time sweeps as small multiples."""
    record = check_record(record, "induction-head")
    out_dir = Path(out_dir)
    res, cur = record["results"], record["curves"]
    fig = _figure(13.5, 3.8)
    a, b, c = fig.subplots(1, 3)
    trajectories = sorted(cur["trajectories"].items(), key=lambda kv: int(kv[0].split(",")[1]))
    for ls, (key, tr) in zip(_LINESTYLES * 2, trajectories):
        N, L = key.split(",")
        a.plot(np.asarray(tr["steps"]) + 1, tr["loss"], ls=ls, label=f"N = {N}, L = {L}")
    a.set_xscale("log")
    a.set_xlabel("GD step + 1 (lr = 0.1)")
    a.set_ylabel("loss −log p (nats)")
    a.set_title("GD from the origin: plateau, then a cliff")
    _legend(a)
    key, tr = trajectories[len(trajectories) // 2]
    theta = np.asarray(tr["theta"])
    for i, (name, ls) in enumerate(zip(("β (layer-1 attention)", "α (layer-2 attention)", "ξ (readout)"),
                                          _LINESTYLES)):
        b.plot(np.asarray(tr["steps"]) + 1, theta[:, i], ls=ls, color="black", label=name)
    b.set_xscale("log")
    b.set_xlabel("GD step + 1")
    b.set_ylabel("logit value")
    b.set_title(f"the three logits take off in turn (N, L = {key.replace(',', ', ')})")
    _legend(b)
    jumps = res["landscape"]["jumps"]
    factors = sorted({L // N for N, L, _ in jumps})
    for ls, f in zip(_LINESTYLES * 2, factors):
        pts = sorted((N, j) for N, L, j in jumps if L == f * N and j is not None)
        if pts:
            c.plot(*zip(*pts), ls=ls, marker="os^vD"[factors.index(f) % 5], label=f"L = {f} N")
    c.set_xscale("log", base=2)
    c.set_yscale("log")
    c.set_xlabel("N (context pairs)")
    c.set_ylabel("GD steps until p ≥ (1 + 1/N)/2")
    c.set_title("plateau length before the cliff")
    _legend(c)
    fig.suptitle("Reddy 2024, Sec. 5: the three-parameter model of the induction head")
    paths = _save(fig, out_dir, "induction-head-landscape", pdf)

    fig = _figure(12, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (key, title) in zip(axes, (("network", "full network (two attention layers + MLP)"),
                                       ("two_param", "two-parameter model (our reading of Sec. 4)"))):
        run = res[key]
        for name, label, color, ls in _CURVES:
            ax.plot(run["steps"], run[name], color=color, ls=ls, label=label)
        ax.set_xlabel("SGD step")
        ax.set_title(title, fontsize=10)
        _legend(ax)
    axes[0].set_ylabel("accuracy / attention weight")
    fig.suptitle("Reddy 2024, Figs. 2-4: in-context learning arrives abruptly, with the induction head's attention")
    paths += _save(fig, out_dir, "induction-head-training", pdf)

    for sw in res["sweeps"]:
        names = list(dict.fromkeys(row["name"] for row in sw["rows"]))
        fig = _figure(3.2 * len(names), 3.4)
        axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
        for ax, name in zip(axes, names):
            rows = [r for r in sw["rows"] if r["name"] == name]
            x = np.arange(len(rows))
            for curve, label, color, ls in _CURVES[:3:2]:
                final = np.array([[run[curve][-1] for run in r["runs"]] for r in rows])
                mean = final.mean(axis=1)
                ax.errorbar(x, mean, yerr=[mean - final.min(axis=1), final.max(axis=1) - mean], color=color, ls=ls,
                            marker="o" if curve == "icl" else "s", capsize=3, label=label)
            ax.set_xticks(x, [str(r["value"]) for r in rows])
            ax.set_xlabel(name)
            _legend(ax)
        axes[0].set_ylabel(f"final accuracy (mean, min-max over {sw['seeds']} seeds)")
        fig.suptitle(f"Reddy 2024, Fig. 2: data parameters, one at a time — {sw['model']}")
        stem = "induction-head-sweep-" + ("network" if sw["model"] == "full network" else "two-param")
        paths += _save(fig, out_dir, stem, pdf)
    return paths


def dual_form_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Dai et al. 2023: (1) softmax attention against the linear split ``W_ZSL q + ΔW_ICL q``
    the paper reads ICL through, over the logit scale, beside the exact convex split;
    (2) the exact momentum weights s_k against the paper's η^k; (3) the gap between the
    paper's momentum attention and the exact dual, over η."""
    record = check_record(record, "dual-form")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    fig = _figure(13.5, 3.9)
    a, b, c = fig.subplots(1, 3)
    qs = np.asarray(r["softmax_gap_quartiles"])
    a.fill_between(s["scales"], qs[:, 0], qs[:, 2], color="0.8", label="25-75 % of instances")
    a.plot(s["scales"], qs[:, 1], color="black", marker="o", label="softmax vs linear split (median)")
    a.axhline(r["exact_split_worst"], color="tab:blue", ls="--", label="exact convex split λ (worst)")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("query scale c (attention logits ∝ c)")
    a.set_ylabel("relative error to softmax attention")
    a.set_title("the linear relaxation is not close at any scale", fontsize=10)
    _legend(a)
    ages = np.asarray(cur["ages"])
    for ls, (eta, w) in zip(_LINESTYLES, cur["momentum_weights"].items()):
        b.plot(ages, w["exact"], color="black", ls=ls, marker="o", ms=3, label=f"exact s_k, η = {eta}")
        b.plot(ages, w["paper"], color="tab:orange", ls=ls, marker="s", ms=3, label=f"paper η^k, η = {eta}")
    b.set_xlabel("age k of the example's update (steps ago)")
    b.set_ylabel("weight of that update in the output")
    b.set_title("momentum weights: exact dual vs the paper's", fontsize=10)
    _legend(b)
    qm = np.asarray(r["momentum_gap_quartiles"])
    c.fill_between(s["etas"], qm[:, 0], qm[:, 2], color="0.8", label="25-75 % of instances")
    c.plot(s["etas"], qm[:, 1], color="black", marker="o", label="MoAttn vs exact dual (median)")
    c.set_xlabel("momentum η")
    c.set_ylabel("relative gap")
    c.set_title("the paper's momentum attention vs the exact dual", fontsize=10)
    _legend(c)
    fig.suptitle(f"Dai et al. 2023, Secs. 3 and 5: where the dual form is exact and where it is not "
                 f"({s['instances']} random instances per point)")
    return _save(fig, out_dir, "dual-form", pdf)


def mesa_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """von Oswald et al. 2023b: (1) next-state loss by position t for the trained depths
    against one GD step, least squares (the mesa-layer) and the true W* (Fig. 2 of the
    paper); (2) training curves; (3) held-out R² of the linear probes by layer and t."""
    record = check_record(record, "mesa")
    out_dir = Path(out_dir)
    s, r, cur = record["settings"], record["results"], record["curves"]
    depths = [str(c["layers"]) for c in s["configs"]]
    pl = cur["position_losses"]
    t = np.arange(1, len(pl["zero"]) + 1)
    fig = _figure(13.5, 3.9)
    a, b, c = fig.subplots(1, 3)
    for ls, d in zip(_LINESTYLES, depths):
        a.plot(t, pl[d], color="black", ls=ls, label=f"{d}-layer linear attention (trained)")
    for key, label, color, ls in (("gd", f"one GD step, η* = {r['eta']:.3g}", "tab:blue", "--"),
                                  ("ridge", "least squares (mesa-layer)", "tab:orange", "-."),
                                  ("true", "true W*", "0.5", ":")):
        a.plot(t, pl[key], color=color, ls=ls, label=label)
    a.set_yscale("log")
    a.set_xlabel("position t in the sequence")
    a.set_ylabel("test loss Σ||s_{t+1} − ŝ||²/(2B)")
    a.set_title("deeper models approach least squares", fontsize=10)
    _legend(a)
    for ls, d in zip(_LINESTYLES, depths):
        y, x = _smooth(cur["train_loss"][d])
        b.plot(x, y, color="black", ls=ls, label=f"{d} layer(s)")
    b.axhline(r["test_loss"]["gd"], color="tab:blue", ls="--", label="one GD step (test)")
    b.axhline(r["test_loss"]["ridge"], color="tab:orange", ls="-.", label="least squares (test)")
    b.set_yscale("log")
    b.set_xlabel("training step (Adam, fresh sequences each step)")
    b.set_ylabel("loss Σ||s − ŝ||²/(2BT), running mean of 50")
    b.set_title("training", fontsize=10)
    _legend(b)
    for ls, (name, color) in zip(_LINESTYLES, (("next_state", "black"), ("preconditioned", "tab:orange"))):
        probes = np.asarray(r["probes"][name])
        for layer in (0, len(probes) - 1):
            c.plot(t, probes[layer], color=color, ls=_LINESTYLES[min(layer, 1) * 2],
                   label=f"{'s_{t+1}' if name == 'next_state' else '(S_{t-1}+λI)^{-1} s_t'}, "
                         f"{'tokens' if layer == 0 else f'after layer {layer}'}")
    c.set_ylim(-0.1, 1.05)
    c.set_xlabel("position t")
    c.set_ylabel("held-out R² of a linear probe")
    c.set_title(f"probes of the {depths[-1]}-layer model", fontsize=10)
    _legend(c)
    fig.suptitle("von Oswald et al. 2023b, Secs. 3-4: trained causal linear attention on linear dynamics "
                 f"(D = {s['configs'][0]['D']}, T = {s['configs'][0]['T']})")
    return _save(fig, out_dir, "mesa", pdf)


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
    fig = _figure(13.5, 3.9)
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
    _legend(a)
    t = np.asarray(cur["long_t"])
    b.plot(t, np.asarray(cur["long_z"]) - cur["long_z"][0], color="black", label="largest logit z (growth)")
    b.plot(t, cur["long_y"], color="tab:blue", ls="--", label="||Y||")
    b.plot(t, 1 - np.asarray(cur["long_alpha"]), color="tab:orange", ls=":", label="1 − α_n")
    b.set_xscale("log")
    b.set_yscale("log")
    b.set_xlabel("iteration t (flow at the steady-state rate η/(1 − β))")
    b.set_ylabel("value")
    b.set_title("snap: logits freeze, ||Y|| ~ ln t, 1 − α ~ 1/t", fontsize=10)
    _legend(b)
    mean = np.asarray(r["sweep_mean"]).mean(axis=0)        # average over the query counts
    for ls, (j, ez) in zip(_LINESTYLES, enumerate(s["eta_z"])):
        c.plot(s["ratios"], mean[j], color="black", ls=ls, marker="o", label=f"η_Z = {ez:g}")
    c.set_xscale("log")
    c.set_xlabel("η_Y / η_Z")
    c.set_ylabel("entropy of the final c_n (nats)")
    c.set_title(f"sparsity after the snap ({len(s['n_queries'])} query counts × "
                f"{s['sweep_seeds']} seeds)", fontsize=10)
    _legend(c)
    fig.suptitle("Tian et al. 2023 (scan and snap): a one-layer transformer's attention dynamics "
                 f"({nc} common + {nd} distinct tokens a class, T = {s['scan']['T']})")
    return _save(fig, out_dir, "scan-snap", pdf)


def induction_paper_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """Reddy 2024 at the paper's widths (a record of :func:`theory.induction_paper.reproduce`):
    per seed, over SGD steps, the ICL accuracy with the context-label accuracy, the
    in-weights accuracy, and the two attention progress measures (Figs. 3-4)."""
    from .induction_paper import check_paper_record
    record = check_paper_record(record)
    s, runs = record["settings"], record["results"]["runs"]
    c = s["network"]
    fig = _figure(13, 3.8)
    axes = fig.subplots(1, 4, sharex=True)
    panels = ((("icl", "ICL (novel classes)"), ("context_label", "context-label accuracy")),
              (("iwl", "IWL (trained classes, i.i.d.)"),),
              (("prev_token", "layer 1: label → previous item"),),
              (("match_label", "layer 2: target → matching label"),))
    markers = "os^vDP<>"
    for ax, panel in zip(axes, panels):
        for i, run in enumerate(runs):
            for (curve, label), ls in zip(panel, ("-", ":")):
                ax.plot(np.asarray(run["steps"]) / 1000, run[curve], ls=ls, lw=1, color=f"C{i % 10}",
                        marker=markers[i % len(markers)], markevery=max(1, len(run["steps"]) // 8), ms=3,
                        label=f"seed {run['config']['seed']}" if curve == panel[0][0] else None)
        ax.set_title(" / ".join(lbl + (" (solid)" if len(panel) > 1 and j == 0 else " (dotted)" if j else "")
                                for j, (_, lbl) in enumerate(panel)), fontsize=9)
        ax.set_xlabel("SGD step (thousands)")
        ax.grid(alpha=0.3)
    axes[0].axhline(1 / c["N"], color="0.5", lw=0.8, ls="--")
    axes[0].set_ylabel("accuracy / attention weight")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Reddy 2024 at the paper's widths, {s.get('model', 'full network')}, regime {s['regime']!r}: K = {c['K']}, L = {c['L']}, "
                 f"N = {c['N']}, B = {c['B']}, p_C = {c['p_novel']} ({c['steps']:,} SGD steps; dashed: 1/N)",
                 fontsize=10)
    return _save(fig, Path(out_dir), record["name"], pdf)


def _drawer(name: str):
    if name.startswith("induction-head-paper-"):
        return induction_paper_figures
    return DRAWERS.get(name)


DRAWERS = {"gd-step": gd_step_figures, "induction-head": induction_head_figures, "dual-form": dual_form_figures,
           "mesa": mesa_figures, "scan-snap": scan_snap_figures}


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
        draw = _drawer(record["name"])
        if draw is None:
            raise ValueError(f"{p}: no figures are defined for the {record['name']!r} reproduction")
        paths += draw(record, d, pdf=pdf)
    return paths
