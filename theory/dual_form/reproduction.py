"""Dai et al. 2023 (the dual form): the measurements behind its two figures, as a run record.

Nothing is trained; the record collects, over random instances (:mod:`theory.dual_form.dual`, :mod:`theory.dual_form.momentum`):

1. **Softmax vs linear attention.**  The paper relaxes softmax attention over
   ``[X'; X]`` to linear attention to read ICL as ``W_ZSL q + ΔW_ICL q``.  For query
   scales c (the attention logits grow with c) we measure the relative gap between
   softmax attention and that linear split, and, for contrast, the error of the exact
   convex split ``λ SoftAttn(X) + (1 − λ) SoftAttn(X')``.
2. **Momentum.**  The exact dual of heavy-ball momentum weighs the update of the example
   of age k by ``s_k = (1 − η^{k+1}) / (1 − η)``; the paper's momentum attention adds
   ``η^{t−i}`` times the value.  We record both weights for several η and the relative
   gap between the paper's MoAttn and the exact dual over η.

``python -m theory reproduce dual-form [--out DIR]`` prints the numbers and (with
``--out``) writes the record and draws the figures.
"""
from __future__ import annotations

import time

import numpy as np

from ..core._validate import as_rng, flag, nonnegative_int, positive_int
from ..core.gradcheck import rel_error
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from . import dual as df, momentum as mo

__all__ = ["SCALES", "ETAS", "reproduce", "format_report", "REPRODUCTION"]

SCALES = tuple(float(c) for c in np.logspace(-2, 1.5, 15))   # query scales c
ETAS = tuple(round(float(e), 2) for e in np.linspace(0.05, 0.95, 10))
WEIGHT_ETAS, WEIGHT_AGES = (0.3, 0.6, 0.9), 20


def reproduce(*, quick: bool = False, seed: int = 0, instances: int | None = None) -> dict:
    """The run record of the two measurements (``instances`` per point; default 200,
    ``quick`` 20; ``seed`` an int, so that the record can say it)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    n = (20 if quick else 200) if instances is None else positive_int("instances", instances)
    rng = as_rng(seed)
    parts, start = {}, time.perf_counter()
    gap, exact = np.empty((len(SCALES), n)), np.empty((len(SCALES), n))
    for j in range(n):
        W_V, W_K, X_demo, X_ctx, Q = df._icl_instance(rng)
        for i, c in enumerate(SCALES):
            full, lam, zero_shot, demo = df.softmax_icl_mixture(W_V, W_K, X_demo, X_ctx, c * Q)
            gap[i, j] = rel_error(full, df.icl_split_output(W_V, W_K, X_demo, X_ctx, c * Q))
            exact[i, j] = rel_error(full, lam * zero_shot + (1 - lam) * demo)
    parts["softmax vs linear"] = time.perf_counter() - start
    start = time.perf_counter()
    mo_gap = np.empty((len(ETAS), n))
    for j in range(n):
        W0, X, targets, lr, _ = mo._momentum_instance(rng)
        Xq = rng.standard_normal((5, X.shape[1]))
        for i, eta in enumerate(ETAS):
            _, E = mo.momentum_sgd(W0, X, targets, lr=lr, eta=eta)
            mo_gap[i, j] = mo.momentum_gap(E, X, Xq, eta)
    ages = np.arange(WEIGHT_AGES)
    weights = {str(eta): dict(exact=mo.momentum_weights(WEIGHT_AGES, eta)[::-1], paper=eta ** ages)
               for eta in WEIGHT_ETAS}                        # by age k = 0, 1, ...
    parts["momentum"] = time.perf_counter() - start
    q = lambda a: np.percentile(a, [25, 50, 75], axis=1).T   # (points, 3) quartiles
    return make_record("dual-form", settings=dict(quick=quick, seed=seed, instances=n, scales=SCALES, etas=ETAS),
                       parts=parts,
                       results=dict(softmax_gap_quartiles=q(gap), exact_split_worst=exact.max(),
                                    momentum_gap_quartiles=q(mo_gap)),
                       curves=dict(momentum_weights=weights, ages=ages))


def format_report(record: dict) -> str:
    """The report text, rendered from a record of :func:`reproduce` only."""
    record = check_record(record, "dual-form")
    s, r = record["settings"], record["results"]
    lines = [f"Dai et al. 2023: softmax attention over [X'; X] vs the linear split W_ZSL q + ΔW_ICL q "
             f"({s['instances']} random instances per scale; relative error, quartiles)",
             "  query scale c   25 %      median    75 %"]
    lines += [f"  {c:11.3g}   {a:8.3g}  {b:8.3g}  {d:8.3g}" for c, (a, b, d) in zip(s["scales"],
                                                                           r["softmax_gap_quartiles"])]
    lines.append(f"  the exact convex split λ SoftAttn(X) + (1-λ) SoftAttn(X'): worst error {r['exact_split_worst']:.1e}")
    lines += ["", "Momentum: the paper's MoAttn vs the exact dual of heavy-ball momentum (relative gap, quartiles)",
              "  η      25 %      median    75 %"]
    lines += [f"  {e:4.2f}   {a:8.3g}  {b:8.3g}  {d:8.3g}" for e, (a, b, d) in zip(s["etas"],
                                                                            r["momentum_gap_quartiles"])]
    return "\n".join(lines)


REPRODUCTION = Reproduction(
    "dual-form", "Dai et al. 2023: softmax vs linear attention over the logit scale, momentum weights (seconds)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"]),
    report=format_report, workers=False)
