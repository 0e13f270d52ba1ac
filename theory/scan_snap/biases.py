"""Tian et al. 2023 ("Scan and Snap"), Secs. 5–6: the paper's qualitative claims, checked
on the gradient flow of the long-sequence model from zero on random tasks of the authors'
layout — frequency bias, discriminative bias, the scan's order, and the snap's 1/t decay.
Each check returns 0 when the claim holds exactly (the ledger's ``tian-*`` empirical
claims).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng
from . import model as ss
from .data import ScanSnapTask, scan_snap_task
from .training import _rank_agreement, integrate_flow, snap_fits

__all__ = ["FLOW_RATE", "check_frequency_bias", "check_discriminative_bias", "check_scan_order", "check_snap"]


FLOW_RATE = 10.0        # η/(1 − β) with η = 1, β = 0.9: the scan figure's steady-state rate per iteration


def _random_task(rng):
    """A task of the authors' layout with random distinct weights in [0.1, 1] (no ties) and
    at least two classes (with one class, nothing needs telling apart and Z gets no gradient)."""
    nq, cpq = int(rng.integers(1, 3)), int(rng.integers(1, 3))
    cpq = 2 if nq * cpq == 1 else cpq
    nc, nd = int(rng.integers(2, 11)), int(rng.integers(3, 11))
    base = scan_snap_task(nq, cpq, nc, nd)
    P = np.zeros_like(base.P)
    P[:, :nc] = 1.0
    for n in range(base.K):
        P[n, nc + n * nd: nc + (n + 1) * nd] = rng.permutation(np.linspace(0.1, 1.0, nd)) * rng.uniform(0.9, 1.1)
    P /= P.sum(axis=1, keepdims=True)
    return ScanSnapTask(P, base.query, base.next_token), nc, nd


def _flow(task, times):
    return integrate_flow(task, ss.init_params(0, task.M, zero=True), FLOW_RATE, FLOW_RATE, times)


def _distinct_rows(task, nc, nd, values):
    """values (K, M) -> per class the distinct block (K, nd), with P's block beside it."""
    idx = [np.arange(nc + n * nd, nc + (n + 1) * nd) for n in range(task.K)]
    return [values[n, i] for n, i in enumerate(idx)], [task.P[n, i] for n, i in enumerate(idx)]


def check_frequency_bias(rng) -> float:
    """``1 − min_n Spearman(Δz, P)`` over the distinct tokens of each class, Δz the growth of
    their attention logits in the first 5 iterations of the flow from zero (0 when the
    logits grow in the order of P(l|n), as the frequency bias says)."""
    task, nc, nd = _random_task(as_rng(rng))
    z = _flow(task, [0.0, 5.0])["z"]
    dz, p = _distinct_rows(task, nc, nd, z[1] - z[0])
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(dz, p))


def check_discriminative_bias(rng) -> float:
    """Largest rise of the common tokens' total attention ``Σ_common c_n`` between
    consecutive records of the flow from zero (t = 0, 1, …, 100 iterations): 0 when it only
    falls, as the discriminative bias says."""
    task, nc, nd = _random_task(as_rng(rng))
    common = _flow(task, np.arange(101.0))["c"][:, :, :nc].sum(axis=2)     # (101, K)
    return max(float(np.diff(common, axis=0).max()), 0.0)


def check_scan_order(rng) -> float:
    """``1 − min_n Spearman(c_n, P)`` over the distinct tokens at t = 100 iterations of the
    flow: 0 when the attention ranks them as their co-occurrence does."""
    task, nc, nd = _random_task(as_rng(rng))
    c = _flow(task, [100.0])["c"][0]
    cn, p = _distinct_rows(task, nc, nd, c)
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(cn, p))


def check_snap(rng) -> float:
    """After the snap (t from 1e3 to 1e5 iterations of the flow): ``|slope + 1|`` of
    ``ln(1 − α_n)`` against ln t (a 1/t decay has slope −1)."""
    task, _, _ = _random_task(as_rng(rng))
    t = np.geomspace(1e3, 1e5, 30)
    return abs(snap_fits(_flow(task, t), t, 1e3)["log_gap_vs_ln_t"][0] + 1.0)
