"""Tian et al. 2023 ("Scan and Snap"), Secs. 5–6: the paper's qualitative claims, checked
on the gradient flow of the long-sequence model from zero on random tasks of the authors'
layout — frequency bias, discriminative bias, the scan's order, and the snap's 1/t decay.
Each check returns 0 when the claim holds exactly (the ledger's ``tian-*`` empirical
claims).
"""
from __future__ import annotations

import numpy as np

from . import model as ss
from .data import ScanSnapTask, scan_snap_task
from .training import integrate_flow

__all__ = ["FLOW_RATE"]


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
