"""Training LSA stacks on in-context regression (von Oswald et al. 2023, Sec. 3–4).

- :func:`train_lsa` trains an LSA stack ("lsa"), or GD / GD++ with learnable (η, γ) per
  layer ("gd", "gdpp"), with Adam on fresh tasks every step; every gradient is
  hand-written (:func:`theory.gd_step.lsa.lsa_loss`).
- :func:`model_loss` is the loss and gradient of any of the three kinds.

The comparison with GD is in :mod:`theory.gd_step.comparison`, the paper's experiments
in :mod:`theory.gd_step.reproduction`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..core._validate import (array, as_rng, check_step, choice, finite_result, finite_scalar, flag, function,
                              params as _params, positive_int)
from ..core.optim import Adam, clip_by_global_norm
from .construction import _gd_construction, _gdpp_construction
from .closed_forms import optimal_one_step
from .data import regression_tasks, uniform_moments
from .lsa import LSA_KEYS, _lsa_loss, lsa_loss

__all__ = ["TrainResult", "KINDS", "model_loss", "init_params", "train_lsa"]

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
        make = _gdpp_construction(d, 1, N, float(p["eta"][layer]), gamma) if "gamma" in p \
            else _gd_construction(d, 1, N, float(p["eta"][layer]))
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
    """``(loss, grads)`` of an LSA stack ("lsa") or of GD / GD++ with learnable (η, γ) per
    layer ("gd", "gdpp"), on tokens E (B, N+1, d+1); grads keyed as ``params``."""
    shared = flag("shared", shared)
    if choice("kind", kind, KINDS) == "lsa":
        return lsa_loss(params, E, y_query, n_layers, shared=shared)
    E = array("E", E, ndim=3)
    n_layers = positive_int("n_layers", n_layers)
    if E.shape[2] < 2 or E.shape[1] < 2:
        raise ValueError(f"E must hold N >= 1 context tokens and a query of width d + 1 >= 2; got shape {E.shape}")
    y_query = array("y_query", y_query, shape=(E.shape[0], 1))
    shapes = {"eta": (n_layers,)} if kind == "gd" else {"eta": (n_layers,), "gamma": (n_layers,)}
    return _model_loss(_params("params", params, shapes), E, y_query, kind, n_layers, shared)[:2]


def _model_loss(params, E, y_query, kind: str, n_layers: int, shared: bool = False, ws: list | None = None):
    """Unchecked kernel of :func:`model_loss`: ``(loss, grads, y_hat)`` (``ws``: per-layer workspaces, see
    :func:`theory.gd_step.lsa._buffer`).  "gd" runs the GD steps directly
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

    Draws the same numbers in the same order as :func:`theory.gd_step.data.regression_tasks`
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
    :class:`theory.core.Diverged` naming the step and the learning rate.
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
