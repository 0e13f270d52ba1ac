"""Comparing a trained LSA stack with gradient descent: the equivalence metrics of
von Oswald et al. 2023, Sec. 3, on held-out tasks.

- :func:`compare_to_gd`: test losses of the stack and of GD (as many steps as layers, η
  from a grid search or, for one layer on uniform inputs, the closed form η*), the mean
  difference of their predictions and of their sensitivities ∂ŷ/∂x_q, the mean cosine
  of the sensitivities, and (one layer) the loss of the model whose products
  ``W_K^T W_Q`` and ``P W_V`` are averaged ½-½ with the construction's.
- :func:`product_matrices`, :func:`align_scale`, :func:`from_products`,
  :func:`effective_matrix`: reading a trained layer through the two products it depends on.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core._validate import array, as_rng, finite_result, params as _params, positive_int
from ..core.gradcheck import rel_error
from .closed_forms import optimal_one_step
from .construction import gd_construction, gd_predict
from .data import uniform_moments
from .lsa import LSA_KEYS, layer_params, readout, stack_backward, stack_forward, tokens
from .training import TrainResult, _check_task, _sample

__all__ = ["lsa_predict", "product_matrices", "from_products", "align_scale", "effective_matrix", "GDComparison",
           "grid_search_eta", "compare_to_gd", "agreement"]


@finite_result
def lsa_predict(params, E, n_layers: int, *, shared: bool = False):
    """Predictions ŷ (B,) and sensitivities ∂ŷ/∂x_q (B, d) of an LSA stack (one output).

    The sensitivities come from the hand-written backward with ``∂L/∂ŷ = 1``.
    """
    E = array("E", E, ndim=3)
    if E.shape[1] < 2 or E.shape[2] < 2:
        raise ValueError(f"E must hold >= 1 context token and a query, each of width d + 1 >= 2; got shape {E.shape}")
    d = E.shape[2] - 1
    out, caches = stack_forward(E, params, n_layers, E.shape[1] - 1, shared=shared, query_only=True)
    dout = np.zeros_like(out)
    dout[:, -1, d] = -1.0                                  # ŷ = -(query's y-slot)
    dE, _ = stack_backward(dout, caches, shared=shared)
    return readout(out, d)[:, 0], dE[:, -1, :d]


@finite_result
def product_matrices(params, layer: int = 0, shared: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(W_K^T W_Q, P W_V)``: the two products one LSA layer depends on."""
    p = layer_params(params, layer, shared)
    D = _params("params", p, {"W_K": (None, None)})["W_K"].shape[0]
    p = _params("params", p, {k: (D, D) for k in LSA_KEYS})
    return p["W_K"].T @ p["W_Q"], p["P"] @ p["W_V"]


def from_products(KQ, PV) -> dict:
    """LSA weights with the given products: ``W_Q = KQ``, ``W_K = I``, ``W_V = PV``, ``P = I``."""
    KQ = array("KQ", KQ, ndim=2)
    KQ = array("KQ", KQ, shape=(KQ.shape[0], KQ.shape[0]))
    PV = array("PV", PV, shape=KQ.shape)
    eye = np.eye(KQ.shape[0])
    return {"W_K": eye, "W_Q": KQ, "W_V": PV, "P": eye.copy()}


@finite_result
def align_scale(KQ, PV, d: int):
    """Remove the scale shared by the products (``KQ → KQ/c``, ``PV → c PV``) so that the
    x-block of KQ has mean diagonal 1, as in the construction; returns (KQ, PV, c)."""
    KQ = array("KQ", KQ, ndim=2)
    PV = array("PV", PV, shape=KQ.shape)
    d = positive_int("d", d)
    if d > min(KQ.shape):
        raise ValueError(f"d must be <= the size of KQ {KQ.shape}; got {d}")
    c = np.trace(KQ[:d, :d]) / d
    if c == 0.0:
        raise ValueError("W_K^T W_Q has a zero-trace x-block: no scale to align")
    return KQ / c, PV * c, c


@finite_result
def effective_matrix(params, d: int, n_context: int) -> np.ndarray:
    """``A`` in ``ŷ ≈ x_q^T A (1/N) Σ_i y_i x_i`` for a one-layer LSA:
    ``A = -N (P W_V)[y, y] (W_K^T W_Q)[x, x]^T`` (the GD construction gives ``A = η I``)."""
    KQ, PV = product_matrices(params)
    d, n_context = positive_int("d", d), positive_int("n_context", n_context)
    if d >= KQ.shape[0]:
        raise ValueError(f"d must be < the token width {KQ.shape[0]}; got {d}")
    return -n_context * PV[d, d] * KQ[:d, :d].T


@dataclass
class GDComparison:
    """The equivalence metrics of von Oswald et al. 2023 (Sec. 3), on held-out tasks."""
    n_layers: int
    n_tasks: int
    tf_loss: float              # ½ mean (ŷ_TF - y)²
    gd_loss: float              # GD (n_layers steps) at the η compared against
    eta: float                  # that η: closed form for 1 layer on uniform inputs, else grid
    eta_grid: float             # η from a grid search on separate tasks
    gd_loss_grid: float
    eta_closed: float | None    # closed-form one-step η (uniform inputs only)
    loss_star: float | None     # closed-form optimal one-step loss (uniform inputs only)
    zero_loss: float            # loss of predicting 0
    pred_diff: float            # mean |ŷ_TF - ŷ_GD|
    sens_diff: float            # mean ||∂ŷ_TF/∂x_q - ∂ŷ_GD/∂x_q||
    sens_cos: float             # mean cosine of the two sensitivities
    interp_loss: float | None = None      # 1 layer: products averaged ½-½ with the construction
    kq_error: float | None = None         # 1 layer: rel. error of aligned W_K^T W_Q[:, x] vs construction
    pv_error: float | None = None         # 1 layer: rel. error of aligned P W_V[y, :] vs construction
    eta_tf: float | None = None           # 1 layer: -N (aligned P W_V)[y, y], the TF's own η


def grid_search_eta(task: dict, n_layers: int, rng, *, n_tasks: int = 10000, grid=None) -> float:
    """The η of ``n_layers`` GD steps with the lowest loss on fresh tasks (a two-stage grid,
    ``grid`` of positive step sizes, 0.1 to 100 by default)."""
    task, n_layers = _check_task(task), positive_int("n_layers", n_layers)
    t = _sample(task, as_rng(rng), positive_int("n_tasks", n_tasks))
    grid = np.geomspace(0.1, 100.0, 61) if grid is None else array("grid", grid, ndim=1)
    if grid.min() <= 0:
        raise ValueError(f"grid must hold positive step sizes; got minimum {grid.min()}")
    loss = lambda eta: 0.5 * float(np.mean((gd_predict(t.X, t.Y, t.xq, eta, n_layers)[0] - t.yq) ** 2))
    best = grid[np.argmin([loss(e) for e in grid])]
    fine = np.linspace(best / 1.15, best * 1.15, 41)
    return float(fine[np.argmin([loss(e) for e in fine])])


@finite_result
def compare_to_gd(result: TrainResult, *, n_tasks: int = 10000, rng=1) -> GDComparison:
    """Compare a trained LSA stack with GD (as many steps as layers) on held-out tasks."""
    if not isinstance(result, TrainResult):
        raise ValueError(f"result must be a TrainResult (from train_lsa); got {type(result).__name__}")
    n_tasks = positive_int("n_tasks", n_tasks)
    rng = as_rng(rng)
    task, L = result.task, result.n_layers
    d, N = task["d"], task["n_context"]
    eta_grid = grid_search_eta(task, L, rng, n_tasks=n_tasks)
    eta_closed = loss_star = None
    if task["inputs"] == "uniform":
        eta_closed, loss_star = optimal_one_step(d, N, *uniform_moments(task["a"]))
    eta = eta_closed if (L == 1 and eta_closed is not None) else eta_grid
    t = _sample(task, rng, n_tasks)
    E = tokens(t.X, t.Y, t.xq)
    y = t.yq[:, 0]
    params = result.lsa_params()
    shared = result.shared and result.kind == "lsa"
    y_tf, s_tf = lsa_predict(params, E, L, shared=shared)
    y_gd, W = gd_predict(t.X, t.Y, t.xq, eta, L)
    y_gd, s_gd = y_gd[:, 0], W[:, 0, :]                    # ŷ = W x_q: ∂ŷ/∂x_q = W
    half_mse = lambda pred: 0.5 * float(np.mean((pred - y) ** 2))
    cos = np.sum(s_tf * s_gd, 1) / (np.linalg.norm(s_tf, axis=1) * np.linalg.norm(s_gd, axis=1))
    cmp = GDComparison(
        n_layers=L, n_tasks=n_tasks, tf_loss=half_mse(y_tf), gd_loss=half_mse(y_gd), eta=eta,
        eta_grid=eta_grid, gd_loss_grid=half_mse(gd_predict(t.X, t.Y, t.xq, eta_grid, L)[0][:, 0]),
        eta_closed=eta_closed, loss_star=loss_star, zero_loss=half_mse(np.zeros_like(y)),
        pred_diff=float(np.mean(np.abs(y_tf - y_gd))),
        sens_diff=float(np.mean(np.linalg.norm(s_tf - s_gd, axis=1))), sens_cos=float(np.mean(cos)))
    if L == 1:
        KQ, PV, _ = align_scale(*product_matrices(params, 0, shared), d)
        KQ_gd, PV_gd = product_matrices(gd_construction(d, 1, N, eta), shared=True)
        mixed = from_products((KQ + KQ_gd) / 2, (PV + PV_gd) / 2)
        cmp.interp_loss = half_mse(lsa_predict(mixed, E, 1, shared=True)[0])
        cmp.kq_error = rel_error(KQ[:, :d], KQ_gd[:, :d])
        cmp.pv_error = rel_error(PV[d:, :], PV_gd[d:, :])
        cmp.eta_tf = float(-N * PV[d, d])
    return cmp


@finite_result
def agreement(y1, s1, y2, s2) -> dict:
    """Mean abs(ŷ1 − ŷ2), mean ‖s1 − s2‖ and mean cosine of two models' sensitivities:
    ŷ1, ŷ2 (B,) and s1, s2 (B, d), no sensitivity zero (its cosine is undefined)."""
    y1 = array("y1", y1, ndim=1)
    y2 = array("y2", y2, shape=y1.shape)
    s1 = array("s1", s1, shape=(y1.shape[0], None))
    s2 = array("s2", s2, shape=s1.shape)
    for name, sv in (("s1", s1), ("s2", s2)):
        if not np.linalg.norm(sv, axis=1).all():
            raise ValueError(f"{name} has a zero row: the cosine of a zero sensitivity is undefined")
    cos = np.sum(s1 * s2, 1) / (np.linalg.norm(s1, axis=1) * np.linalg.norm(s2, axis=1))
    return dict(pred_diff=float(np.mean(np.abs(y1 - y2))),
                sens_diff=float(np.mean(np.linalg.norm(s1 - s2, axis=1))), sens_cos=float(np.mean(cos)))
