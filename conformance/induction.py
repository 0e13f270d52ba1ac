"""Reddy 2024: this package's network against the author's JAX code, on the same
parameters and the same batch.

    pip install -e '.[conformance]'
    git clone https://github.com/YiranHuangIrene/ICL && git -C ICL checkout 045dccf
    python conformance/induction.py --repo ICL

The author's modules ``transformer_v2`` and ``datasets_v2`` are imported from the given
checkout (commit 045dccf, the first commit of that repository, which carries the author's
code as it circulates); nothing of them is copied here.  In float64 on both sides, for
parameters drawn with ``init_network(..., init="author")`` and one batch of this package's
sampler (``sampler="author"``) embedded with its positions, the script prints the largest
relative difference (``||a − b|| / max(||a||, ||b||)``) of: the logits, the loss, the
gradient of every parameter (``jax.grad`` of their loss against our hand-written
backward), and the parameters after one SGD step with weight decay (their ``update``
against our ``SGD``; plain SGD keeps no state, so one step shows its rate and decay).  Then
it draws 100,000 sequences (ten calls of 10,000) from their sampler (``generate_input_seqs``
with ``no_repeats=True``) and from ours and prints statistics that the two must share: the
share of novel sequences — both within four standard errors (±0.005) of p_C, the law both
implement, so a bias of two points is 16 standard errors — and, in one call, the number of
distinct novel class means and the distinct labels per novel context.  Exit status 0 when
every difference is at most ``--tol`` (1e-10) and the statistics agree.  ``--perturb``
changes one setting of ours (the novel share 0.8 → 0.78, the weight decay 1e-6 → 2e-6) and
must give exit 1; the checkout's commit is verified (another is refused unless
``--any-commit``).
"""
from __future__ import annotations

import sys

import numpy as np

from _common import announce_perturbation, checkout, parser
from theory.core.gradcheck import rel_error
from theory.core.optim import SGD
from theory.induction.data import item_label_classes, item_label_sequences
from theory.induction.network import NET_ATTN, embed, init_network, network_forward, network_loss

REPOSITORY, COMMIT, MARKER = "YiranHuangIrene/ICL", "045dccf", "transformer_v2.py"
PERTURBATIONS = {"novel-share": "our sampler's share of novel sequences p_C 0.8 → 0.78",
                 "weight-decay": "our SGD's weight decay 1e-6 → 2e-6"}
K, L, N, D, P = 256, 32, 8, 63, 65            # the paper's sizes: width P + D = 128
LR, WD, EPS = 0.01, 1e-6, 0.1


def _theirs(params):
    """Our dict -> the author's list: [[Q1, K1, V1], [Q2, K2, V2], [W1, b1], [W2, b2], [W3, b3], [R]]."""
    import jax.numpy as jnp
    j = lambda k: jnp.asarray(params[k])
    return [[j("W_Q1"), j("W_K1"), j("W_V1")], [j("W_Q2"), j("W_K2"), j("W_V2")],
            [j("W1"), j("b1")], [j("W2"), j("b2")], [j("W3"), j("b3")], [j("R")]]


def _ours(theirs) -> dict:
    names = [["W_Q1", "W_K1", "W_V1"], ["W_Q2", "W_K2", "W_V2"], ["W1", "b1"], ["W2", "b2"], ["W3", "b3"], ["R"]]
    return {k: np.asarray(v) for ks, vs in zip(names, theirs) for k, v in zip(ks, vs)}


def compare_model(T, rng, wd: float = WD) -> dict:
    """The largest relative difference of each array, ours against the author's."""
    import jax
    params = init_network(rng, P + D, L, init="author", content_dim=D)
    classes = item_label_classes(rng, K, L, D)
    batch = item_label_sequences(rng, classes, 128, N, B=1, eps=EPS, p_novel=0.8, sampler="author")
    X = embed(batch.content, rng, P)                             # [one-hot position ; content]
    onehot = np.eye(L, dtype=bool)[batch.target]
    theirs = _theirs(params)
    out = {"logits": rel_error(network_forward(X, params)[0], np.asarray(T.forward(theirs, X)))}
    loss, grads = network_loss(params, X, batch.target)
    out["loss"] = rel_error(np.array([loss]), np.array([float(T.loss(theirs, X, onehot))]))
    g = _ours(jax.grad(T.loss)(theirs, X, onehot))
    for k in [*NET_ATTN, "W1", "W2", "W3", "b1", "b2", "b3", "R"]:
        out[f"gradient {k}"] = rel_error(grads[k], g[k])
    stepped = SGD(LR, weight_decay=wd).step(params, grads)
    their_step = _ours(T.update(theirs, X, onehot, lr=LR, w_decay=WD))
    out["parameters after one SGD step"] = max(rel_error(stepped[k], their_step[k]) for k in stepped)
    return out


def compare_sampler(Dv, rng, calls: int = 10, S: int = 10000, p_novel_ours: float = 0.8) -> list:
    """(statistic, ours, theirs, target, allowed) rows for the two samplers: each side must lie
    within ``allowed`` of ``target`` (for the counts: equal to each other, allowed 0)."""
    classes = item_label_classes(rng, K, L, D)
    rows = []
    for p_B, p_C in ((1.0, 0.8), (0.5, 0.8)):
        novel = {"ours": 0, "theirs": 0}
        for call in range(calls):
            ours = item_label_sequences(rng, classes, S, N, B=1, eps=0.0, p_bursty=p_B, p_novel=p_novel_ours,
                                        sampler="author")
            mus_label, mus_class, labels_class = Dv.get_mus_label_class(K, L, D)
            x, _, target_classes = Dv.generate_input_seqs(mus_label, mus_class, labels_class, S, N, 32, eps=0.0, B=1,
                                                          p_B=p_B, p_C=p_C, output_target_labels=True, no_repeats=True)
            trained_q = np.isclose(ours.content[:, -1][:, None], classes.means[None]).all(axis=2).any(axis=1)
            novel["ours"] += int((~trained_q).sum())
            novel["theirs"] += int((target_classes == -1).sum())
            if call == 0:                                           # the per-call counts, on the first call
                x = np.asarray(x)[:, :, 2 * 32 + 1:]                  # their content part
                nov = target_classes == -1
                distinct = lambda c: len(np.unique(np.round(c[:, 0:-1:2].reshape(-1, D), 12), axis=0))
                labels = lambda c: np.mean([len(np.unique(np.round(r, 12), axis=0)) for r in c[:, 1:-1:2]])
                counts = [(f"distinct novel class means in one call (p_B {p_B})",
                           distinct(ours.content[~trained_q]), distinct(x[nov])),
                          (f"distinct labels per novel context (B = 1, N = {N})",
                           labels(ours.content[~trained_q]), labels(x[nov]))]
        n = calls * S
        rows.append((f"share of novel sequences (p_B {p_B}, p_C {p_C}; {n:,})", novel["ours"] / n,
                     novel["theirs"] / n, p_C, 4 * np.sqrt(p_C * (1 - p_C) / n)))
        rows += [(name, a, b, None, 0) for name, a, b in counts]
    return rows


def main(argv=None) -> int:
    ap = parser(__doc__, REPOSITORY, COMMIT, PERTURBATIONS, tol=1e-10)
    args = ap.parse_args(argv)
    source = checkout(ap, args, MARKER, REPOSITORY, COMMIT)
    import jax
    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(args.repo))
    import datasets_v2 as Dv
    import transformer_v2 as T
    np.random.seed(0)                                            # their sampler uses numpy's global state
    rng = np.random.default_rng(0)
    ok = True
    print(f"Reddy 2024: ours against {source} (float64; relative difference, tolerance {args.tol:g})")
    announce_perturbation(args, PERTURBATIONS)
    for name, d in compare_model(T, rng, 2 * WD if args.perturb == "weight-decay" else WD).items():
        ok &= d <= args.tol
        print(f"  {name:42s} {d:.1e}{'' if d <= args.tol else '   DIFFERS'}")
    print("The samplers (statistics, not arrays):")
    for name, a, b, target, allowed in compare_sampler(Dv, rng, p_novel_ours=0.78 if args.perturb == "novel-share"
                                                       else 0.8):
        agree = a == b if target is None else max(abs(a - target), abs(b - target)) <= allowed
        ok &= bool(agree)
        law = "" if target is None else f" (law {target:g} ± {allowed:.4f})"
        print(f"  {name:60s} ours {a:<8.4g} theirs {b:<8.4g}{law}{'' if agree else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
