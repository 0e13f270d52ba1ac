"""Tian et al. 2023 (scan and snap): this package's finite-T model against the authors'
``Model2`` and ``Dataset2``, on the same parameters and the same batches.

    pip install -e '.[conformance]'
    git clone https://github.com/facebookresearch/luckmatters && git -C luckmatters checkout 625b5f7
    python conformance/scan_snap.py --repo luckmatters

``decoder_only.py`` (and the ``common_utils`` it imports) are imported from the checkout,
not copied.  In float64 on both sides the script prints the largest relative difference of:
the loss and the gradients of Y (their ``K1``) and Z (their ``K2``) on one batch, with and
without the residual; the parameters after three steps of their two SGD optimisers with
momentum 0.9 (η_Y = 2 η_Z) against ours; and the class distributions P(l|n), the query and
next tokens of their ``Dataset2`` against ``scan_snap_task`` — for the scan figure's task
and for every task of the entropy figure (their probabilities are float32 tensors, so those
rows are compared to float32 round-off, 1e-6).  Where pandas can read their
``figure_6_data.pkl`` (pandas < 2, which needs numpy < 2: run ``--figure-6-only`` in such an
environment), it also checks that ``theory/scan_snap/authors.py`` holds its 64 cells.
Exit status 0 when everything agrees.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from theory.core.gradcheck import rel_error
from theory.core.optim import Momentum
from theory.scan_snap import model as ss
from theory.scan_snap.authors import FIGURE_6
from theory.scan_snap.data import scan_snap_sequences, scan_snap_task

COMMIT = "625b5f7"


class _Float64:
    """Their forward casts the one-hot tokens with ``.float()`` (float32); inside this
    context ``.float()`` gives float64, so that their model runs in float64 like ours."""

    def __init__(self, torch):
        self.torch = torch

    def __enter__(self):
        self.saved = self.torch.Tensor.float
        self.torch.Tensor.float = lambda tensor, *a, **kw: tensor.double()

    def __exit__(self, *exc):
        self.torch.Tensor.float = self.saved


def compare_model(dec, torch, rng) -> dict:
    task = scan_snap_task(2, 1, 10, 10)                      # the scan figure's task
    T = 128
    out = {}
    for residual in (False, True):
        p = ss.init_params(rng, task.M)
        b = scan_snap_sequences(rng, task, 128, T)
        m = dec.Model2(task.M, T, SimpleNamespace(normalize=True, zero_init=False, attn_include_base_token=False,
                                                  residual=residual)).double()
        with torch.no_grad():
            m.K1.weight[:] = torch.from_numpy(p["Y"])
            m.K2.weight[:] = torch.from_numpy(p["Z"])
        with _Float64(torch):
            loss = m(torch.from_numpy(b.tokens), torch.from_numpy(b.labels))
        loss.backward()
        ours, g = ss.finite_loss(p, b.tokens, b.labels, residual=residual)
        tag = "with the residual" if residual else "no residual"
        out[f"loss ({tag})"] = rel_error(np.array([ours]), np.array([loss.item()]))
        out[f"gradient of Y = K1 ({tag})"] = rel_error(g["Y"], m.K1.weight.grad.numpy())
        out[f"gradient of Z = K2 ({tag})"] = rel_error(g["Z"], m.K2.weight.grad.numpy())
    # three SGD steps with momentum, separate rates, on the same batches
    p = ss.init_params(rng, task.M)
    lr_z, lr_y = 1.0, 2.0
    m = dec.Model2(task.M, T, SimpleNamespace(normalize=True, zero_init=False, attn_include_base_token=False,
                                              residual=False)).double()
    with torch.no_grad():
        m.K1.weight[:] = torch.from_numpy(p["Y"])
        m.K2.weight[:] = torch.from_numpy(p["Z"])
    opt_y = torch.optim.SGD([m.K1.weight], lr=lr_y, momentum=0.9, weight_decay=0)
    opt_z = torch.optim.SGD([m.K2.weight], lr=lr_z, momentum=0.9, weight_decay=0)
    oy, oz = Momentum(lr_y, 0.9), Momentum(lr_z, 0.9)
    for _ in range(3):
        b = scan_snap_sequences(rng, task, 128, T)
        opt_y.zero_grad()
        opt_z.zero_grad()
        with _Float64(torch):
            loss = m(torch.from_numpy(b.tokens), torch.from_numpy(b.labels))
        loss.backward()
        opt_y.step()
        opt_z.step()
        _, g = ss.finite_loss(p, b.tokens, b.labels)
        p = {"Y": oy.step({"Y": p["Y"]}, {"Y": g["Y"]})["Y"], "Z": oz.step({"Z": p["Z"]}, {"Z": g["Z"]})["Z"]}
    out["Y after three SGD steps with momentum"] = rel_error(p["Y"], m.K1.weight.detach().numpy())
    out["Z after three SGD steps with momentum"] = rel_error(p["Z"], m.K2.weight.detach().numpy())
    return out


def compare_tasks(dec) -> dict:
    """P(l|n), the query and the next token of every class, theirs against ours."""
    out = {}
    for nq, npl in [(2, 1)] + [(q, 2) for q in (1, 3, 5, 10)]:
        args = SimpleNamespace(num_last=nq, num_next_per_last=npl, num_common=10, num_common_per_last=0,
                               num_unique_per_next=10, common_unnormalized_prob=1, unique_unnormalized_min=0.1,
                               unique_unnormalized_max=1)
        d = dec.Dataset2(128, args)
        task = scan_snap_task(nq, npl, 10, 10)
        P = np.zeros((len(d.facts), d.M))
        for i, f in enumerate(d.facts):
            P[i, f["tokens"].numpy()] = f["probs"].double().numpy()
        same = (d.M == task.M and [f["last_token"] for f in d.facts] == list(task.query)
                and [f["next_token"] for f in d.facts] == list(task.next_token))
        out[f"P(l|n) of {nq} quer{'y' if nq == 1 else 'ies'} × {npl} classes"] = \
            rel_error(P, task.P) if same else float("inf")
    return out


def check_figure_6(repo: Path):
    """The largest difference between FIGURE_6 and their pickle, or None where pandas cannot read it."""
    import pickle
    try:
        import pandas  # noqa: F401
        table = pickle.load(open(repo / "ssl/real-dataset/scan_snap/figure_6_data.pkl", "rb"))
    except Exception as err:                                  # pandas >= 2 cannot unpickle pandas 1 blocks
        return f"skipped: pandas could not read the pickle ({type(err).__name__}); pandas < 2 can"
    matcher = re.compile(r"([\d\.\-]+) ± ([\d\.]+) \[(\d+)\]")
    worst = 0.0
    for idx, line in table.iterrows():
        mean, sd, n = matcher.match(line[("entropy", "agg")]).groups()
        ours = FIGURE_6[int(idx[0])][float(idx[1])][int(idx[2])]
        worst = max(worst, abs(ours[0] - float(mean)), abs(ours[1] - float(sd)), abs(int(n) - 10))
    return worst


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, type=Path, help=f"a checkout of facebookresearch/luckmatters at {COMMIT}")
    ap.add_argument("--tol", type=float, default=1e-10)
    ap.add_argument("--figure-6-only", action="store_true",
                    help="only compare theory/scan_snap/authors.py with figure_6_data.pkl (in an environment with "
                         "pandas < 2, which needs numpy < 2: not the conformance extra's)")
    args = ap.parse_args(argv)
    if args.figure_6_only:
        fig6 = check_figure_6(args.repo)
        print(f"theory/scan_snap/authors.py against figure_6_data.pkl: "
              + (fig6 if isinstance(fig6, str) else f"largest difference {fig6:g}"))
        return 0 if fig6 == 0 else 1
    code = args.repo / "ssl" / "real-dataset"
    if not (code / "decoder_only.py").is_file():
        ap.error(f"{args.repo} has no ssl/real-dataset/decoder_only.py: give a checkout of luckmatters at {COMMIT}")
    sys.path[:0] = [str(code), str(args.repo / "ssl")]
    import torch
    import decoder_only as dec
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ok = True
    print(f"Tian et al. 2023: ours against facebookresearch/luckmatters@{COMMIT} (float64; relative difference)")
    rows = [(k, v, args.tol) for k, v in compare_model(dec, torch, rng).items()]
    rows += [(k, v, 1e-6) for k, v in compare_tasks(dec).items()]
    for name, d, tol in rows:
        ok &= d <= tol
        print(f"  {name:52s} {d:.1e}  (tolerance {tol:g}){'' if d <= tol else '   DIFFERS'}")
    fig6 = check_figure_6(args.repo)
    if isinstance(fig6, str):
        print(f"  theory/scan_snap/authors.py against figure_6_data.pkl: {fig6}")
    else:
        ok &= fig6 == 0
        print(f"  theory/scan_snap/authors.py against figure_6_data.pkl: largest difference {fig6:g}"
              f"{'' if fig6 == 0 else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
