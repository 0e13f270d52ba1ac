"""Training LSA stacks on in-context regression and comparing them with GD
(von Oswald et al. 2023, Sec. 3–4).  The models and identities are in
:mod:`theory.gd_step`; this module holds the experiments.

- :func:`train_lsa` trains an LSA stack ("lsa"), or GD / GD++ with learnable (η, γ) per
  layer ("gd", "gdpp"), with Adam on fresh tasks every step; every gradient is
  hand-written (:func:`theory.gd_step.lsa_loss`).
- :func:`compare_to_gd` computes the paper's equivalence metrics on held-out tasks.
- :func:`reproduce` runs the paper's headline experiments and returns the numbers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ._validate import (array, as_rng, check_step, choice, executor as _executor, finite_result, finite_scalar,
                        flag, function, nonnegative_int, params as _params, positive_int)
from .gd_step import (LSA_KEYS, _lsa_loss, gd_construction, gd_predict, gdpp_construction, layer_params,
                      lsa_loss, optimal_one_step, random_covariance, readout, stack_backward,
                      stack_forward, tokens, zfb_gamma)
from .gradcheck import rel_error
from .optim import Adam, clip_by_global_norm
from .records import check_record as _records_check, make_record
from .tasks import regression_tasks, uniform_moments

__all__ = ["TrainResult", "KINDS", "model_loss", "init_params", "train_lsa", "lsa_predict", "product_matrices",
           "from_products", "align_scale", "effective_matrix", "GDComparison", "grid_search_eta",
           "compare_to_gd", "agreement", "GDReproConfig", "GDReproResult", "reproduce", "format_report"]

KINDS = ("lsa", "gd", "gdpp")


# --------------------------------------------------------------------------- training
@dataclass
class TrainResult:
    """What :func:`train_lsa` returns: final parameters and the loss of every step."""
    params: dict
    losses: np.ndarray                          # (steps,) training loss ½ mean (ŷ - y)²
    kind: str                                   # "lsa", "gd" (learned η) or "gdpp" (η, γ)
    n_layers: int
    shared: bool
    task: dict                                  # d, n_context, inputs, a, cov
    seconds: float = 0.0

    def __post_init__(self):
        choice("kind", self.kind, KINDS)
        positive_int("n_layers", self.n_layers)
        flag("shared", self.shared)
        _check_task(self.task)
        if not isinstance(self.params, dict) or not self.params:
            raise ValueError(f"params must be a non-empty dict of arrays; got {type(self.params).__name__}")

    def lsa_params(self) -> dict:
        """The LSA weights (for "gd"/"gdpp", the construction with the learned η, γ)."""
        if self.kind == "lsa":
            return self.params
        return _constructed(self.params, self.n_layers, self.task["d"], self.task["n_context"])


def _constructed(p, n_layers, d, N):
    out = {}
    for layer in range(n_layers):
        gamma = float(p["gamma"][layer]) if "gamma" in p else 0.0
        make = gdpp_construction(d, 1, N, float(p["eta"][layer]), gamma) if "gamma" in p \
            else gd_construction(d, 1, N, float(p["eta"][layer]))
        out.update({k + str(layer): v for k, v in make.items()})
    return out


def _chain_to_eta_gamma(grads, n_layers, d, N, with_gamma):
    """∂L/∂η_l = tr(∂L/∂P_l [y-block]) / N and ∂L/∂γ_l = -tr(∂L/∂P_l [x-block]):
    P_l = [[-γ_l I, 0], [0, (η_l/N) I]] and nothing else depends on (η_l, γ_l)."""
    g = {"eta": np.array([np.trace(grads[f"P{l}"][d:, d:]) / N for l in range(n_layers)])}
    if with_gamma:
        g["gamma"] = np.array([-np.trace(grads[f"P{l}"][:d, :d]) for l in range(n_layers)])
    return g


@finite_result
def model_loss(params, E, y_query, *, kind: str, n_layers: int, shared: bool = False):
    """Loss and hand-written gradients of an LSA stack ("lsa") or of GD / GD++ with
    learnable (η, γ) per layer ("gd", "gdpp"), on tokens E (B, N+1, d+1)."""
    shared = flag("shared", shared)
    if choice("kind", kind, KINDS) == "lsa":
        return lsa_loss(params, E, y_query, n_layers, shared=shared)
    E = array("E", E, ndim=3)
    n_layers = positive_int("n_layers", n_layers)
    if E.shape[2] < 2 or E.shape[1] < 2:
        raise ValueError(f"E must hold N >= 1 context tokens and a query of width d + 1 >= 2; got shape {E.shape}")
    y_query = array("y_query", y_query, shape=(E.shape[0], 1))
    shapes = {"eta": (n_layers,)} if kind == "gd" else {"eta": (n_layers,), "gamma": (n_layers,)}
    return _model_loss(_params("params", params, shapes), E, y_query, kind, n_layers, shared)


def _model_loss(params, E, y_query, kind: str, n_layers: int, shared: bool = False, ws: list | None = None):
    """Unchecked kernel of :func:`model_loss` (``ws``: per-layer workspaces, see
    :func:`theory.gd_step._buffer`).  "gd" runs the GD steps directly
    (:func:`_gd_loss`); "gdpp" runs the LSA construction (:func:`_constructed_loss`)."""
    if kind == "lsa":
        return _lsa_loss(params, E, y_query, n_layers, shared, ws)
    if kind == "gd":
        return _gd_loss(params["eta"], E, y_query)
    return _constructed_loss(params, E, y_query, kind, n_layers, ws)


def _constructed_loss(params, E, y_query, kind: str, n_layers: int, ws: list | None = None):
    """GD / GD++ as the LSA stack of their construction (Prop. 1, Sec. 4), with the
    gradients of the LSA weights chained to (η, γ)."""
    d, N = E.shape[2] - 1, E.shape[1] - 1
    loss, grads, y_hat = _lsa_loss(_constructed(params, n_layers, d, N), E, y_query, n_layers, ws=ws)
    return loss, _chain_to_eta_gamma(grads, n_layers, d, N, kind == "gdpp"), y_hat


def _gd_loss(eta, E, y_query):
    """L steps of GD with rates η_l, computed on the tokens without the LSA weights.

    The GD construction moves only the y-slots, with keys and queries the x's, which it
    never changes; so with ``K = X X^T`` (B, N, N) and ``k_q = X x_q`` (B, N), layer l is

        r ← r - (η_l/N) K r        (context y-slots: the residuals of the current W)
        s ← s - (η_l/N) r·k_q      (query y-slot; ŷ = -s)

    — the same numbers as the (D, D) construction, at O(N²) per layer instead of O(N D²).
    Backward (g = ∂L/∂ŷ, so ∂L/∂s = -g at every layer; g_r = ∂L/∂r after the layer):
    ∂L/∂η_l = (1/N) Σ_b [g (r·k_q) - g_r·(K r)],  g_r ← g_r - (η_l/N) (K g_r - g k_q).
    """
    B, T, D = E.shape
    N, d = T - 1, D - 1
    X, xq = E[:, :N, :d], E[:, N, :d]                      # (B, N, d), (B, d)
    K = np.matmul(X, np.swapaxes(X, 1, 2))                 # (B, N, N)  x_i^T x_j
    kq = np.matmul(X, xq[:, :, None])[:, :, 0]             # (B, N)     x_i^T x_q
    r, s = E[:, :N, d], E[:, N, d]                         # (B, N), (B,) y-slots
    rs, Krs = [], []
    for eta_l in eta:                                      # forward, keeping r and K r
        Kr = np.matmul(K, r[:, :, None])[:, :, 0]          # (B, N)
        rs.append(r)
        Krs.append(Kr)
        s = s - (eta_l / N) * np.einsum("bi,bi->b", r, kq)
        r = r - (eta_l / N) * Kr
    y_hat = -s[:, None]                                    # (B, 1)
    res = y_hat - y_query                                  # (B, 1)
    loss = 0.5 * float(np.sum(res * res)) / B              # ½ mean (ŷ - y)²
    g = res[:, 0] / B                                      # (B,) ∂L/∂ŷ
    g_r = np.zeros_like(r)
    d_eta = np.empty(len(eta))
    for l in reversed(range(len(eta))):                    # backward
        d_eta[l] = (g @ np.einsum("bi,bi->b", rs[l], kq) - np.sum(g_r * Krs[l])) / N
        g_r = g_r - (eta[l] / N) * (np.matmul(K, g_r[:, :, None])[:, :, 0] - g[:, None] * kq)
    return loss, {"eta": d_eta}, y_hat


def init_params(rng, kind: str, n_layers: int, d: int, n_context: int, *, shared=False,
                init_scale: float | None = None, eta0: float | None = None) -> dict:
    """LSA weights ~ N(0, init_scale²) (default 0.002 / n_layers, as the authors' code);
    for "gd"/"gdpp", η_l = eta0 (default: the closed-form one-step rate / n_layers), γ_l = 0."""
    rng = as_rng(rng)
    kind = choice("kind", kind, KINDS)
    n_layers, d = positive_int("n_layers", n_layers), positive_int("d", d)
    n_context, shared = positive_int("n_context", n_context), flag("shared", shared)
    if eta0 is not None:
        eta0 = finite_scalar("eta0", eta0)
    D = d + 1
    if kind == "lsa":
        scale = 0.002 / n_layers if init_scale is None else finite_scalar("init_scale", init_scale, positive=True)
        names = [""] if shared else [str(l) for l in range(n_layers)]
        return {k + s: scale * rng.standard_normal((D, D)) for s in names for k in LSA_KEYS}
    eta0 = optimal_one_step(d, n_context, *uniform_moments(0.5))[0] / n_layers if eta0 is None else eta0
    p = {"eta": np.full(n_layers, float(eta0))}
    if kind == "gdpp":
        p["gamma"] = np.zeros(n_layers)
    return p


class _TokenStream:
    """Fresh regression tasks every step, drawn straight into one reused token buffer.

    Draws the same numbers in the same order as :func:`theory.tasks.regression_tasks`
    followed by :func:`theory.gd_step.tokens` (one output, no noise), so a run is the same
    either way, but allocates nothing per step: the sampler fills ``x`` in place, and
    ``E`` (B, N+1, d+1) and ``y`` are overwritten.  (Fresh multi-megabyte arrays every
    step cost page faults when the allocator hands them back to the system.)
    """

    def __init__(self, rng, batch: int, n_context: int, d: int, inputs: str, a: float, cov):
        self.rng, self.N, self.d, self.a = rng, n_context, d, a
        self.L = None if inputs == "uniform" else np.linalg.cholesky(np.eye(d) if cov is None else cov).T
        self.x = np.empty((batch, n_context + 1, d))       # inputs x_i and x_q
        self.z = None if self.L is None else np.empty_like(self.x)
        self.W = np.empty((batch, 1, d))                   # task weights, w ~ N(0, I)
        self.y = np.empty((batch, n_context + 1, 1))       # y = W x
        self.E = np.empty((batch, n_context + 1, d + 1))   # tokens (x_i, y_i), query (x_q, 0)

    def draw(self):
        """``(E, y_q)``: tokens (B, N+1, d+1) and query targets (B, 1), valid until the next draw."""
        rng, x, N, d = self.rng, self.x, self.N, self.d
        if self.L is None:
            rng.random(out=x)                              # x ~ U(-a, a): -a + 2a u, as rng.uniform
            x *= 2 * self.a
            x += -self.a
        else:
            rng.standard_normal(out=self.z)                # x = L z, Cov = L L^T
            np.matmul(self.z, self.L, out=x)
        rng.standard_normal(out=self.W)
        np.matmul(x, np.swapaxes(self.W, 1, 2), out=self.y)  # (B, N+1, 1) y = W x
        self.E[:, :, :d] = x
        self.E[:, :N, d:] = self.y[:, :N]
        self.E[:, N, d:] = 0.0                             # the query's y-slot (W0 = 0)
        return self.E, self.y[:, N]


def train_lsa(n_layers: int = 1, *, kind: str = "lsa", shared: bool = False, d: int = 10,
              n_context: int = 10, steps: int = 5000, batch: int = 2048, lr: float = 1e-3,
              beta2: float = 0.98, clip: float | None = None, init_scale: float | None = None,
              inputs: str = "uniform", a: float = 0.5, cov=None, rng=0,
              callback=None) -> TrainResult:
    """Train on fresh in-context regression tasks every step with Adam (one output).

    Defaults follow the authors' notebooks: d = N = 10, x ~ U(-0.5, 0.5), w ~ N(0, I),
    noise-free, Adam(lr 1e-3, β2 = 0.98), batch 2048, 5,000 steps, init N(0, (0.002/L)²).
    ``clip`` is an optional global gradient-norm clip.  ``callback(step, loss)`` is called
    every step (for progress output).  All gradients are hand-written.  Everything is
    validated before the first step; a non-finite loss stops the run with
    :class:`theory._validate.Diverged` naming the step and the learning rate.
    """
    rng = as_rng(rng)
    n_layers = positive_int("n_layers", n_layers)
    steps, batch = positive_int("steps", steps), positive_int("batch", batch)
    if clip is not None:
        clip = finite_scalar("clip", clip, positive=True)
    callback = function("callback", callback, optional=True)
    regression_tasks(0, 1, n_context, d, inputs=inputs, a=a, cov=cov)   # checks the task arguments once
    params = init_params(rng, kind, n_layers, d, n_context, shared=shared, init_scale=init_scale)
    opt = Adam(lr=lr, beta2=beta2)
    losses = np.empty(steps)
    stream = _TokenStream(rng, batch, n_context, d, inputs, a, cov)
    ws = [{} for _ in range(n_layers)]                     # reused buffers, one dict per layer
    start = time.perf_counter()
    for step in range(steps):
        E, yq = stream.draw()
        with np.errstate(over="ignore", invalid="ignore"):   # a divergence is reported by check_step
            loss, grads, _ = _model_loss(params, E, yq, kind, n_layers, shared, ws)
        losses[step] = check_step(loss, grads, step, opt.lr)
        if clip is not None:
            grads = clip_by_global_norm(grads, clip)
        params = opt.step(params, grads)
        if callback is not None:
            callback(step, loss)
    task = dict(d=d, n_context=n_context, inputs=inputs, a=a, cov=None if cov is None else np.asarray(cov))
    return TrainResult(params, losses, kind, n_layers, shared, task, time.perf_counter() - start)


# --------------------------------------------------------------------------- comparison
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


def _check_task(task) -> dict:
    """A task description as in :attr:`TrainResult.task`, checked by sampling one task."""
    keys = {"d", "n_context", "inputs", "a", "cov"}
    if not isinstance(task, dict) or not keys <= set(task):
        raise ValueError(f"task must be a dict with keys {sorted(keys)} (TrainResult.task); got {task!r:.80}")
    try:
        _sample(task, 0, 1)
    except ValueError as err:
        raise ValueError(f"task is not a valid task description: {err}") from None
    return task


def _sample(task: dict, rng, n_tasks: int):
    return regression_tasks(rng, n_tasks, task["n_context"], task["d"], inputs=task["inputs"],
                            a=task["a"], cov=task["cov"])


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


# --------------------------------------------------------------------------- reproduction
@finite_result
def agreement(y1, s1, y2, s2) -> dict:
    """Mean |ŷ1 - ŷ2|, mean ||s1 - s2|| and mean cosine of two models' sensitivities:
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


@dataclass(frozen=True)
class GDReproConfig:
    """Settings of :func:`reproduce`.  ``full()`` is the paper's; ``quick()`` runs in CI."""
    steps: int = 5000
    batch: int = 2048
    lr: float = 1e-3
    lr_gd: float = 1e-2                 # for the 1-2 parameters per layer of GD / GD++
    deep_steps: int = 5000
    deep_init_scale: float = 0.05       # see the note in reproduce()
    depths: tuple = (2, 3)
    d: int = 10
    n_context: int = 10
    n_tasks: int = 10000
    gaussian_steps: int = 5000
    seed: int = 0

    def __post_init__(self):
        for name in ("steps", "batch", "deep_steps", "d", "n_context", "n_tasks", "gaussian_steps"):
            positive_int(name, getattr(self, name))
        nonnegative_int("seed", self.seed)
        for name in ("lr", "lr_gd", "deep_init_scale"):
            finite_scalar(name, getattr(self, name), positive=True)
        if not isinstance(self.depths, tuple):
            raise ValueError(f"depths must be a tuple of layer counts >= 2; got {self.depths!r}")
        for i, L in enumerate(self.depths):
            if positive_int(f"depths[{i}]", L) < 2:
                raise ValueError(f"depths[{i}] must be >= 2 (one layer is trained anyway); got {L}")

    @classmethod
    def full(cls):
        return cls()

    @classmethod
    def quick(cls):
        return cls(steps=300, batch=256, lr=3e-3, lr_gd=3e-2, deep_steps=400, depths=(2,),
                   n_tasks=2000, gaussian_steps=600)


@dataclass
class GDReproResult:
    config: GDReproConfig
    one_layer: GDComparison
    deep: dict                      # L -> {"lsa": loss, "gd": loss, "gdpp": loss, "eta_gd", "eta_gdpp",
                                    #       "gamma_gdpp", "vs_gd": agreement, "vs_gdpp": agreement}
    gaussian: dict                  # cov, Gamma^{-1}, effective matrix, rel. error, losses
    seconds: dict                   # job -> training seconds (in the process that ran it)
    curves: dict                    # job -> loss curve
    parts: dict                     # part -> wall-clock seconds: training, each evaluation
    products: dict = None           # the 1-layer LSA's W_K^T W_Q and P W_V (shared scale removed)
                                    # and the GD construction's at η*: "KQ", "PV", "KQ_gd", "PV_gd"

    def to_record(self) -> dict:
        """The run record (:mod:`theory.records`): every number the report prints, the
        loss curves and the product matrices behind the figures."""
        from dataclasses import asdict
        return make_record("gd-step", settings=asdict(self.config), parts=self.parts,
                           results={"one_layer": asdict(self.one_layer), "deep": self.deep,
                                    "gaussian": self.gaussian, "seconds": self.seconds},
                           curves={"loss": self.curves, "products": self.products or {}})

    @classmethod
    def from_record(cls, record: dict) -> "GDReproResult":
        """The result a record holds (no training); ``format_report`` renders it."""
        record = _records_check(record, "gd-step")
        res, cur = record["results"], record["curves"]
        settings = dict(record["settings"], depths=tuple(record["settings"]["depths"]))
        gauss = {k: np.array(v) if isinstance(v, list) else v for k, v in res["gaussian"].items()}
        return cls(GDReproConfig(**settings), GDComparison(**res["one_layer"]),
                   {int(L): row for L, row in res["deep"].items()}, gauss, res["seconds"],
                   {k: np.array(v) for k, v in cur["loss"].items()}, record["parts"],
                   {k: np.array(v) for k, v in cur["products"].items()})


def _train_job(name, kwargs):
    return name, train_lsa(**kwargs)


def reproduce(config: GDReproConfig | None = None, *, executor=None, progress=None) -> GDReproResult:
    """Train the models of von Oswald et al. 2023, Sec. 3-4, and compare them with GD.

    Jobs: a 1-layer LSA (uniform inputs); for each depth L in ``config.depths`` an L-layer
    LSA with separate weights, L steps of GD with learned η per step, and GD++ with
    learned (η, γ); a 1-layer LSA on Gaussian inputs with a random non-isotropic Λ.
    ``executor`` (any ``concurrent.futures.Executor``) runs the jobs in parallel;
    ``progress(message)`` is told when each job ends.

    Note on initialisation: with the authors' init scale 0.002/L, our deeper stacks sit on
    a plateau at about the one-layer loss for thousands of steps; deeper stacks start
    from N(0, 0.05²) (``deep_init_scale``) instead, which the closing note reports.
    """
    cfg = GDReproConfig.full() if config is None else config
    if not isinstance(cfg, GDReproConfig):
        raise ValueError(f"config must be None or a GDReproConfig; got {type(cfg).__name__}")
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True) or (lambda message: None)
    rng = np.random.default_rng(cfg.seed)
    cov = random_covariance(rng, cfg.d)
    base = dict(d=cfg.d, n_context=cfg.n_context, batch=cfg.batch)
    jobs = {"lsa-1": dict(base, n_layers=1, steps=cfg.steps, lr=cfg.lr, rng=cfg.seed),
            "gaussian-1": dict(base, n_layers=1, steps=cfg.gaussian_steps, lr=cfg.lr, rng=cfg.seed + 1,
                               inputs="gaussian", cov=cov)}
    for L in cfg.depths:
        jobs[f"lsa-{L}"] = dict(base, n_layers=L, steps=cfg.deep_steps, lr=cfg.lr, rng=cfg.seed + L,
                                init_scale=cfg.deep_init_scale)
        for kind in ("gd", "gdpp"):
            jobs[f"{kind}-{L}"] = dict(base, n_layers=L, kind=kind, steps=cfg.deep_steps, lr=cfg.lr_gd,
                                       rng=cfg.seed + L)
    results, parts = {}, {}
    start = time.perf_counter()
    if executor is None:
        for name, kw in jobs.items():
            results[name] = _train_job(name, kw)[1]
            say(f"trained {name:12s} in {results[name].seconds:6.1f} s, final loss {results[name].losses[-1]:.4f}")
    else:
        # the costliest first (an LSA or GD++ step grows with depth; GD's is cheap), so
        # that the workers finish together
        order = sorted(jobs, key=lambda n: -jobs[n]["steps"] * (1 if jobs[n].get("kind") == "gd"
                                                                  else 4 * jobs[n]["n_layers"]))
        futures = [executor.submit(_train_job, name, jobs[name]) for name in order]
        for f in futures:
            name, r = f.result()
            results[name] = r
            say(f"trained {name:12s} in {r.seconds:6.1f} s, final loss {r.losses[-1]:.4f} "
                f"({time.perf_counter() - start:.0f} s elapsed)")
        results = {name: results[name] for name in jobs}
    parts["training"] = time.perf_counter() - start
    start = time.perf_counter()
    one = compare_to_gd(results["lsa-1"], n_tasks=cfg.n_tasks, rng=cfg.seed + 100)
    parts["1-layer comparison"] = time.perf_counter() - start
    start = time.perf_counter()
    deep = {}
    for L in cfg.depths:
        t = _sample(results[f"lsa-{L}"].task, np.random.default_rng(cfg.seed + 200 + L), cfg.n_tasks)
        E, y = tokens(t.X, t.Y, t.xq), t.yq[:, 0]
        preds = {k: lsa_predict(results[f"{k}-{L}"].lsa_params(), E, L) for k in ("lsa", "gd", "gdpp")}
        row = {k: 0.5 * float(np.mean((p[0] - y) ** 2)) for k, p in preds.items()}
        row.update(eta_gd=results[f"gd-{L}"].params["eta"].tolist(),
                   eta_gdpp=results[f"gdpp-{L}"].params["eta"].tolist(),
                   gamma_gdpp=results[f"gdpp-{L}"].params["gamma"].tolist(),
                   vs_gd=agreement(*preds["lsa"], *preds["gd"]),
                   vs_gdpp=agreement(*preds["lsa"], *preds["gdpp"]))
        deep[L] = row
    parts["deeper stacks"] = time.perf_counter() - start
    start = time.perf_counter()
    g = results["gaussian-1"]
    target = np.linalg.inv(zfb_gamma(cov, cfg.n_context))
    A = effective_matrix(g.params, cfg.d, cfg.n_context)
    t = _sample(g.task, np.random.default_rng(cfg.seed + 300), cfg.n_tasks)
    y_tf = lsa_predict(g.params, tokens(t.X, t.Y, t.xq), 1)[0]
    h = np.einsum("bn,bnd->bd", t.Y[:, :, 0], t.X) / cfg.n_context
    y_zfb = np.einsum("bd,de,be->b", t.xq, target, h)      # x_q^T Γ^{-1} (1/N) Σ y_i x_i
    gaussian = dict(cov=cov, gamma_inv=target, effective=A, rel_error=rel_error(A, target),
                    tf_loss=0.5 * float(np.mean((y_tf - t.yq[:, 0]) ** 2)),
                    zfb_loss=0.5 * float(np.mean((y_zfb - t.yq[:, 0]) ** 2)))
    parts["gaussian comparison"] = time.perf_counter() - start
    KQ, PV, _ = align_scale(*product_matrices(results["lsa-1"].params), cfg.d)
    KQ_gd, PV_gd = product_matrices(gd_construction(cfg.d, 1, cfg.n_context, one.eta), shared=True)
    return GDReproResult(cfg, one, deep, gaussian, {k: r.seconds for k, r in results.items()},
                         {k: r.losses for k, r in results.items()}, parts,
                         dict(KQ=KQ, PV=PV, KQ_gd=KQ_gd, PV_gd=PV_gd))


def format_report(r) -> str:
    """The reproduction's numbers as plain-text tables, from a :class:`GDReproResult` or
    its run record (the command line prints what it renders from the record)."""
    if isinstance(r, dict):
        r = GDReproResult.from_record(_records_check(r, "gd-step", "r"))
    if not isinstance(r, GDReproResult):
        raise ValueError(f"r must be a GDReproResult (from reproduce) or its record; got {type(r).__name__}")
    c = r.one_layer
    lines = ["von Oswald et al. 2023: a trained 1-layer LSA vs one step of GD "
             f"(d = N = {r.config.n_context if r.config.d == r.config.n_context else (r.config.d, r.config.n_context)}, "
             f"x ~ U(-0.5, 0.5), {c.n_tasks} held-out tasks)",
             f"  loss: trained LSA {c.tf_loss:.4f} | GD at closed-form η* = {c.eta:.3f}: {c.gd_loss:.4f} "
             f"| GD at grid η = {c.eta_grid:.3f}: {c.gd_loss_grid:.4f} | closed-form L* {c.loss_star:.4f} "
             f"| predict 0: {c.zero_loss:.4f}",
             f"  LSA loss / GD loss = {c.tf_loss / c.gd_loss:.4f}",
             f"  mean |ŷ_TF - ŷ_GD| = {c.pred_diff:.4f}; mean ||∂ŷ_TF/∂x_q - ∂ŷ_GD/∂x_q|| = {c.sens_diff:.4f}; "
             f"mean cosine = {c.sens_cos:.5f}",
             f"  products after removing their shared scale: W_K^T W_Q[:, x] rel. error {c.kq_error:.3f}, "
             f"P W_V[y, :] rel. error {c.pv_error:.3f}; the TF's own η = {c.eta_tf:.3f}",
             f"  loss of the model averaged ½-½ with the construction: {c.interp_loss:.4f}", ""]
    if r.deep:
        lines.append("Deeper stacks (held-out loss; agreement of the trained LSA with GD / GD++):")
        lines.append(f"  {'L':>2}  {'LSA':>7}  {'GD':>7}  {'GD++':>7}  {'cos vs GD':>9}  {'cos vs GD++':>11}"
                     f"  {'|Δŷ| GD':>8}  {'|Δŷ| GD++':>10}  learned η (GD) / (η, γ) (GD++)")
        for L, row in r.deep.items():
            lines.append(f"  {L:>2}  {row['lsa']:7.4f}  {row['gd']:7.4f}  {row['gdpp']:7.4f}  "
                         f"{row['vs_gd']['sens_cos']:9.4f}  {row['vs_gdpp']['sens_cos']:11.4f}  "
                         f"{row['vs_gd']['pred_diff']:8.4f}  {row['vs_gdpp']['pred_diff']:10.4f}  "
                         f"{np.round(row['eta_gd'], 3).tolist()} / "
                         f"{list(zip(np.round(row['eta_gdpp'], 3).tolist(), np.round(row['gamma_gdpp'], 3).tolist()))}")
        lines.append("")
    g = r.gaussian
    lines.append(f"Gaussian inputs x ~ N(0, Λ), Λ eigenvalues {np.round(np.linalg.eigvalsh(g['cov']), 3).tolist()}:")
    lines.append(f"  trained 1-layer LSA's matrix A vs Γ^-1 (Zhang, Frei & Bartlett 2024): rel. error "
                 f"{g['rel_error']:.4f}; loss LSA {g['tf_loss']:.4f} vs x_q^T Γ^-1 (1/N) Σ y_i x_i: {g['zfb_loss']:.4f}")
    lines.append("Training time of each job (s): " + ", ".join(f"{k} {v:.1f}" for k, v in r.seconds.items()))
    lines.append("Wall-clock time of each part (s): " + ", ".join(f"{k} {v:.1f}" for k, v in r.parts.items()))
    return "\n".join(lines)
