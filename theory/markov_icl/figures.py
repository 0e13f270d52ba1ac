"""In-context Markov chains: the figures of the ``markov-icl`` record (drawn from the record only;
needs matplotlib, imported inside :mod:`theory.core.plotting`'s helpers)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.plotting import figure, legend, save
from ..core.records import check_record
from .training import STRATEGIES

__all__ = ["markov_icl_figures"]

COLOURS = {"uniform": "tab:grey", "unigram": "tab:orange", "bigram": "tab:blue"}


def markov_icl_figures(record: dict, out_dir, *, pdf: bool = False) -> list:
    """(1) per transformer seed, the KL from each strategy to the model over training, with the
    mechanism measures; the minimal model with both masks; (2) the attention maps of both layers
    of the first transformer seed at the end."""
    record = check_record(record, "markov-icl")
    s, r, cur = record["settings"], record["results"], record["curves"]
    trans = [n for n in r if n.startswith("transformer")]
    mini = [n for n in r if n.startswith("minimal")]
    cols = max(len(trans), 3)
    fig = figure(3.6 * cols, 9.4)
    grid = fig.subplots(2, cols, squeeze=False)
    for ax in list(grid[0][len(trans):]) + list(grid[1][3:]):
        ax.set_visible(False)
    never = lambda v: "never" if v is None else f"from step {v:,}"
    for ax, n in zip(grid[0], trans):
        c = cur[n]
        for name in STRATEGIES:
            ax.plot(c["steps"], c[f"kl_{name}"], color=COLOURS[name], label=f"KL({name} ‖ model)")
        ax.set_yscale("log")
        ax.set_xlabel("AdamW step")
        tw = ax.twinx()
        tw.plot(c["steps"], c["previous_token"], color="black", ls=":", label="layer 1 → previous token")
        tw.plot(c["steps"], c["induction"], color="black", ls="--", label="layer 2 → after current token")
        tw.plot(c["steps"], c["induction_chance"], color="grey", ls="-.", lw=0.8, label="the same, uniform attention")
        tw.set_ylim(0, 1)
        st = r[n]["stages"]
        ax.set_title(f"transformer, seed {s['configs'][n]['seed']}: bigram nearest {never(st['bigram_from'])}",
                     fontsize=9)
        if n == trans[0]:
            ax.set_ylabel("KL on held-out sequences (log axis)")
            h1, l1 = ax.get_legend_handles_labels()
            h2, l2 = tw.get_legend_handles_labels()
            ax.legend(h1 + h2, l1 + l2, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
        if n == trans[-1]:
            tw.set_ylabel("attention weight")
    a, b, w = grid[1][0], grid[1][1], grid[1][2]
    seen = set()
    for n in mini:
        c, mask = cur[n], s["configs"][n]["mask"]
        ls = "-" if mask == "causal" else "--"
        for name in ("unigram", "bigram"):
            label = f"KL({name} ‖ model), {mask} mask" if (name, mask) not in seen else None
            seen.add((name, mask))
            a.plot(c["steps"], c[f"kl_{name}"], color=COLOURS[name], ls=ls, label=label)
        b.plot(c["steps"], c["previous_token"], color="black", ls=ls)
        w.plot(c["steps"], c["w_diag_minus_off"], color="black", ls=ls)
    a.set_yscale("log")
    a.set_xlabel("SGD step")
    a.set_title("minimal model: KL (dashed: the authors' unmasked layer 1)", fontsize=9)
    legend(a, ncols=1)
    b.set_ylim(0, 1)
    b.set_xlabel("SGD step")
    b.set_ylabel("layer 1's weight on the previous token")
    b.set_title("minimal model: layer 1 (v)", fontsize=9)
    w.set_xlabel("SGD step")
    w.set_ylabel("W: mean diagonal − mean off-diagonal")
    w.set_title("minimal model: layer 2 (W)", fontsize=9)
    for ax in (b, w):
        ax.grid(alpha=0.3)
    fig.suptitle("In-context Markov chains (Edelman et al. 2024): uniform → unigram → bigram")
    first = r[mini[0]]["strategies"] if mini else next(iter(r.values()))["strategies"]
    t0 = s["configs"][trans[0]] if trans else {}
    caption = (
        f"Edelman et al. 2024 at CPU scale: sequences of {t0.get('T', '?')} + 1 tokens from a Markov chain over "
        f"k = {t0.get('k', '?')} states drawn per sequence (Dirichlet(1) rows). For each transformer seed (two "
        f"attention-only layers of width {t0.get('d', '?')}, AdamW lr {t0.get('lr', 0):g}, {t0.get('steps', 0):,} steps "
        f"of {t0.get('batch', '?')}, no dropout), the KL from the uniform, unigram and bigram strategies to the model on "
        "held-out sequences (log axis) and, on the right axis, layer 1's weight on the previous token and layer 2's "
        "attention to the positions that follow an earlier occurrence of the current token: "
        + "; ".join(f"seed {s['configs'][n]['seed']}: unigram nearest {never(r[n]['stages']['unigram_from'])}, "
                    f"bigram nearest {never(r[n]['stages']['bigram_from'])}, final loss {r[n]['stages']['final_loss']:.4f}"
                    for n in trans)
        + f" (the strategies score uniform {first['uniform']:.4f}, unigram {first['unigram']:.4f}, bigram "
        f"{first['bigram']:.4f} against the true next-token law). Bottom: the minimal model (SGD at the authors' rates) "
        "with the causal mask (solid) and with the authors' unmasked first layer (dashed) — the KL to the unigram and "
        "bigram strategies, layer 1's weight on the previous token and how far W is from a constant matrix: "
        + "; ".join(f"{s['configs'][n]['mask']} seed {s['configs'][n]['seed']}: bigram nearest "
                    f"{never(r[n]['stages']['bigram_from'])}" for n in mini) + ".")
    paths = save(fig, Path(out_dir), "markov-icl", pdf, caption)
    if not trans:
        return paths
    n0 = trans[0]
    maps = r[n0]["final"]
    L1, L2 = np.asarray(maps["layer1"]), np.asarray(maps["layer2"])
    fig = figure(4.0 * (len(L1) + 1), 4.0)
    axes = fig.subplots(1, len(L1) + 1, squeeze=False)[0]
    for h, ax in enumerate(axes[:-1]):
        ax.imshow(L1[h], cmap="Greys", vmin=0, vmax=1)
        ax.set_title(f"layer 1, head {h + 1}", fontsize=9)
    axes[-1].imshow(L2, cmap="Greys", vmin=0, vmax=max(float(L2.max()), 1e-9))
    axes[-1].set_title("layer 2 (scale: its own maximum)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("key position j")
        ax.set_ylabel("query position t")
    fig.suptitle(f"seed {s['configs'][n0]['seed']}: attention averaged over held-out sequences, first {len(L2)} positions")
    prev = float(np.mean(np.diagonal(L1[0], -1)))
    caption = (f"The attention of the transformer (seed {s['configs'][n0]['seed']}) at the end of training, averaged over "
               f"held-out sequences, for the first {len(L2)} positions (row t: the query, column j: the key). Layer 1 "
               f"puts a mean weight of {prev:.2f} on the previous token (the sub-diagonal); layer 2's average spreads over "
               "the earlier positions because where it looks depends on the sequence (the positions right after an "
               "earlier occurrence of the current token).")
    return paths + save(fig, Path(out_dir), "markov-icl-attention", pdf, caption)
