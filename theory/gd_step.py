"""von Oswald et al. 2023 (ICML), "Transformers learn in-context by gradient descent".

Tokens ``e_i = (x_i, y_i)`` for the N context pairs and ``e_q = (x_q, -W0 x_q)`` for the
query.  A linear self-attention (LSA) layer (von Oswald et al. 2023, Eq. (5)) updates
every token ``j`` with keys and values from the context tokens only::

    e_j ← e_j + P Σ_{i<=N} (W_V e_i)(W_K e_i)^T (W_Q e_j).

The GD construction (Prop. 1): ``W_K = W_Q = [[I, 0], [0, 0]]``,
``W_V = [[0, 0], [W0, -I]]``, ``P = (η/N) I`` makes every y-slot move by ``-ΔW x_j``
with ``ΔW = -(η/N) Σ_i (W0 x_i - y_i) x_i^T``, one GD step on
``L(W) = 1/(2N) Σ_i ||W x_i - y_i||²``; the prediction is ``-(query's y-slot) = (W0 + ΔW) x_q``.

GD++ (Sec. 4): the value also copies x and the projection's x-block is ``-γ I``, so the
same layer also applies ``x ← (I - γ Σ_i x_i x_i^T) x`` to every token (the y-update of
that layer uses the x it received; the next layer sees the transformed x).

Row convention: tokens are rows, ``E: (B, N+1, D)``, ``D = d + d_out``; matrices act on
columns as in the paper, so ``W e`` is computed as ``E @ W.T``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from . import nn
from ._validate import array, as_rng, finite_scalar, positive_int, same_size
from .optim import Adam, clip_by_global_norm
from .tasks import regression_tasks, uniform_moments

__all__ = [
    "LSA_KEYS", "tokens", "readout", "lsa_forward", "lsa_backward",
    "layer_params", "stack_forward", "stack_backward", "lsa_loss",
    "gd_construction", "gdpp_construction", "gd_predict", "gdpp_predict",
    "optimal_one_step", "zfb_gamma",
]

LSA_KEYS = ("W_K", "W_Q", "W_V", "P")


# --------------------------------------------------------------------------- tokens
def tokens(X, Y, xq, W0=None) -> np.ndarray:
    """Stack ``e_i = (x_i, y_i)`` and the query ``(x_q, -W0 x_q)``: (B, N+1, d+d_out).

    X: (B, N, d); Y: (B, N, d_out); xq: (B, d); W0: (d_out, d) or None (= 0).
    """
    X = array("X", X, ndim=3)
    B, N, d = X.shape
    Y = array("Y", Y, shape=(B, N, None))
    xq = array("xq", xq, shape=(B, d))
    d_out = Y.shape[2]
    yq_slot = np.zeros((B, d_out))
    if W0 is not None:
        W0 = array("W0", W0, shape=(d_out, d))
        yq_slot = -xq @ W0.T                               # (B, d_out)  -W0 x_q
    context = np.concatenate([X, Y], axis=2)               # (B, N, D)
    query = np.concatenate([xq, yq_slot], axis=1)[:, None]  # (B, 1, D)
    return np.concatenate([context, query], axis=1)         # (B, N+1, D)


def readout(E, d: int) -> np.ndarray:
    """The prediction ``ŷ = -(query's y-slot)``: (B, d_out) from E (B, T, D)."""
    return -E[:, -1, d:]


# --------------------------------------------------------------------------- LSA layer
def _check_params(params, D: int, suffix: str = ""):
    missing = [k + suffix for k in LSA_KEYS if k + suffix not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; got keys {sorted(params)}")
    return {k: array(k + suffix, params[k + suffix], shape=(D, D)) for k in LSA_KEYS}


def lsa_forward(E, params, n_context: int, *, include_query: bool = False,
                query_only: bool = False):
    """One LSA layer: ``e_j ← e_j + P Σ_i (W_V e_i)(W_K e_i)^T (W_Q e_j)``.

    E: (B, T, D) tokens, the first ``n_context`` of them context tokens; params
    ``{"W_K", "W_Q", "W_V", "P"}``, each (D, D).  Keys and values come from the context
    tokens only; ``include_query=True`` uses every token (the variant that breaks the
    GD identity when W0 ≠ 0).  Returns the new tokens (B, T, D) and a cache; with
    ``query_only=True`` only the updated query token (B, 1, D), which is all that the
    last layer needs to give the prediction.

    Computed through the context's second-moment matrix ``G = Σ_i e_i e_i^T``:
    ``Σ_i (W_V e_i)(W_K e_i)^T W_Q e_j = W_V G W_K^T W_Q e_j``, so the update of every
    token is ``P W_V G A e_j`` with ``A = W_K^T W_Q`` — the layer sees its context only
    through G (two batched matmuls instead of one per score and value).
    """
    E = array("E", E, ndim=3)
    B, T, D = E.shape
    N = positive_int("n_context", n_context)
    if N >= T and not include_query:
        raise ValueError(f"n_context must be < number of tokens {T} (the last is the query); got {N}")
    p = _check_params(params, D)
    S = T if include_query else N
    C = np.ascontiguousarray(E[:, :S])                     # (B, S, D) key/value tokens
    G = np.swapaxes(C, 1, 2) @ C                           # (B, D, D)  Σ_i e_i e_i^T
    A = p["W_K"].T @ p["W_Q"]                              # (D, D)     W_K^T W_Q
    Bm = p["P"] @ p["W_V"]                                 # (D, D)     P W_V
    GA = (G.reshape(B * D, D) @ A).reshape(B, D, D)        # (B, D, D)  G A
    R = E[:, -1:] if query_only else E                     # (B, R, D) the tokens updated
    H = R @ np.swapaxes(GA, 1, 2)                          # (B, R, D)  rows (G A e_j)^T
    U = (H.reshape(-1, D) @ Bm.T).reshape(R.shape)         # (B, R, D)  rows (P W_V G A e_j)^T
    return R + U, (E, R, C, G, GA, H, A, Bm, p)


def lsa_backward(dout, cache):
    """Hand-written gradients of :func:`lsa_forward`: ``dE, {"W_K", "W_Q", "W_V", "P"}``.

    Reverse of ``U = H Bm^T``, ``H = E GA^T``, ``GA = G A``, ``G = C^T C``:
    dBm = Σ dU^T H, dH = dU Bm, dGA = dH^T E, dE += dH GA, dA = Σ_b G dGA,
    dG = dGA A^T, dC = C (dG + dG^T); then dP = dBm W_V^T, dW_V = P^T dBm,
    dW_K = W_Q dA^T, dW_Q = W_K dA.
    """
    E, R, C, G, GA, H, A, Bm, p = cache
    B, T, D = E.shape
    dU = array("dout", dout, shape=R.shape)
    dU2 = dU.reshape(-1, D)
    dBm = dU2.T @ H.reshape(-1, D)                         # (D, D)
    dH = (dU2 @ Bm).reshape(R.shape)                       # (B, R, D)
    dGA = np.swapaxes(dH, 1, 2) @ R                        # (B, D, D)  Σ_j dh_j e_j^T
    dR = dU + dH @ GA                                      # residual + through the queries
    if R.shape[1] == T:
        dE = dR
    else:                                                  # query_only: other rows get 0
        dE = np.zeros_like(E)
        dE[:, -1:] = dR
    dA = G.reshape(B * D, D).T @ dGA.reshape(B * D, D)     # (D, D)     Σ_b G_b dGA_b
    dG = (dGA.reshape(B * D, D) @ A.T).reshape(B, D, D)    # (B, D, D)
    dE[:, :C.shape[1]] += C @ (dG + np.swapaxes(dG, 1, 2))  # G = C^T C
    return dE, {"W_K": p["W_Q"] @ dA.T, "W_Q": p["W_K"] @ dA,
                "W_V": p["P"].T @ dBm, "P": dBm @ p["W_V"].T}


# --------------------------------------------------------------------------- stacks
def layer_params(params, layer: int, shared: bool) -> dict:
    """The weights of one layer: keys ``W_K`` ... (shared) or ``W_K0``, ``W_K1`` ... ."""
    suffix = "" if shared else str(layer)
    missing = [k + suffix for k in LSA_KEYS if k + suffix not in params]
    if missing:
        raise ValueError(f"params is missing {missing} for layer {layer}; got keys {sorted(params)}")
    return {k: params[k + suffix] for k in LSA_KEYS}


def stack_forward(E, params, n_layers: int, n_context: int, *, shared: bool = False,
                  query_only: bool = False):
    """``n_layers`` LSA layers in sequence (the same weights each time if ``shared``).

    With ``query_only`` the last layer returns only the query token (B, 1, D).
    """
    n_layers = positive_int("n_layers", n_layers)
    caches = []
    for layer in range(n_layers):
        E, cache = lsa_forward(E, layer_params(params, layer, shared), n_context,
                               query_only=query_only and layer == n_layers - 1)
        caches.append(cache)
    return E, caches


def stack_backward(dout, caches, *, shared: bool = False):
    """Gradients of :func:`stack_forward`; shared weights sum their layers' gradients."""
    grads: dict[str, np.ndarray] = {}
    for layer in reversed(range(len(caches))):
        dout, g = lsa_backward(dout, caches[layer])
        suffix = "" if shared else str(layer)
        for k, v in g.items():
            grads[k + suffix] = grads[k + suffix] + v if k + suffix in grads else v
    return dout, grads


def lsa_loss(params, E, y_query, n_layers: int, *, shared: bool = False):
    """``L = 1/(2B) Σ_b ||ŷ_b - y_b||²`` of the stack's readout, and its gradients.

    E: (B, N+1, D) tokens; y_query: (B, d_out).  Returns ``(loss, grads, y_hat)``.
    """
    E = array("E", E, ndim=3)
    d = E.shape[2] - array("y_query", y_query, shape=(E.shape[0], None)).shape[1]
    out, caches = stack_forward(E, params, n_layers, E.shape[1] - 1, shared=shared, query_only=True)
    y_hat = readout(out, d)                                # (B, d_out)
    loss, lc = nn.squared_error_forward(y_hat, y_query)
    dout = np.zeros_like(out)
    dout[:, -1, d:] = -nn.squared_error_backward(1.0, lc)  # ŷ = -(query's y-slot)
    _, grads = stack_backward(dout, caches, shared=shared)
    return loss, grads, y_hat


# --------------------------------------------------------------------------- constructions
def gd_construction(d: int, d_out: int, n_context: int, eta: float, W0=None) -> dict:
    """von Oswald et al. 2023, Prop. 1: the LSA weights of one GD step with rate η.

    ``W_K = W_Q = [[I_d, 0], [0, 0]]``, ``W_V = [[0, 0], [W0, -I]]``, ``P = (η/N) I``.
    """
    d, d_out, N = (positive_int(n, v) for n, v in (("d", d), ("d_out", d_out), ("n_context", n_context)))
    eta = finite_scalar("eta", eta)
    D = d + d_out
    WK = np.zeros((D, D))
    WK[:d, :d] = np.eye(d)
    WV = np.zeros((D, D))
    WV[d:, d:] = -np.eye(d_out)
    if W0 is not None:
        WV[d:, :d] = array("W0", W0, shape=(d_out, d))
    return {"W_K": WK, "W_Q": WK.copy(), "W_V": WV, "P": (eta / N) * np.eye(D)}


def gdpp_construction(d: int, d_out: int, n_context: int, eta: float, gamma: float) -> dict:
    """GD++ layer (Sec. 4; W0 = 0): value ``W_V = [[I, 0], [0, -I]]`` also copies x,
    projection ``P = [[-γ I, 0], [0, (η/N) I]]``; keys and queries as for GD."""
    p = gd_construction(d, d_out, n_context, eta)
    gamma = finite_scalar("gamma", gamma)
    p["W_V"][:d, :d] = np.eye(d)
    p["P"][:d, :d] = -gamma * np.eye(d)
    return p


# --------------------------------------------------------------------------- direct algorithms
def _regression_inputs(X, Y, xq):
    X = array("X", X, ndim=3)
    Y = array("Y", Y, shape=(X.shape[0], X.shape[1], None))
    xq = array("xq", xq, shape=(X.shape[0], X.shape[2]))
    return X, Y, xq


def gd_predict(X, Y, xq, eta, steps: int = 1, W0=None):
    """K steps of GD on ``L(W) = 1/(2N) Σ_i ||W x_i - y_i||²`` from W0, for every task.

    ``W ← W - η (1/N) Σ_i (W x_i - y_i) x_i^T``; ``eta`` is a number or one per step.
    Returns ``(y_hat (B, d_out), W (B, d_out, d))``, ``y_hat = W_K x_q``.
    """
    X, Y, xq = _regression_inputs(X, Y, xq)
    B, N, d = X.shape
    steps = positive_int("steps", steps)
    etas = np.broadcast_to(np.asarray(eta, dtype=np.float64), (steps,))
    W = np.zeros((B, Y.shape[2], d))
    if W0 is not None:
        W = W + array("W0", W0, shape=(Y.shape[2], d))
    for k in range(steps):
        R = X @ np.swapaxes(W, 1, 2) - Y                   # (B, N, d_out) residuals W x_i - y_i
        W = W - (etas[k] / N) * np.swapaxes(R, 1, 2) @ X   # (B, d_out, d)
    return np.einsum("bod,bd->bo", W, xq), W


def gdpp_predict(X, Y, xq, etas, gammas):
    """GD++ (von Oswald et al. 2023, Sec. 4), W0 = 0, one entry of (η, γ) per layer.

    Layer l, with the x's it receives: a GD step from W = 0 on the current residual
    targets ``r_i`` (``ΔW = (η/N) Σ_i r_i x_i^T``, ``ŷ += ΔW x_q``, ``r_i -= ΔW x_i``), and
    every input, query included, becomes ``x ← (I - γ Σ_i x_i x_i^T) x``.
    Returns ŷ (B, d_out).
    """
    X, R, xq = _regression_inputs(X, Y, xq)
    etas = np.atleast_1d(np.asarray(etas, dtype=np.float64))
    gammas = np.atleast_1d(np.asarray(gammas, dtype=np.float64))
    if etas.shape != gammas.shape or etas.ndim != 1:
        raise ValueError(f"etas and gammas must be 1-d of equal length; got {etas.shape} and {gammas.shape}")
    N, d = X.shape[1], X.shape[2]
    y_hat = np.zeros((X.shape[0], R.shape[2]))
    for eta, gamma in zip(etas, gammas):
        dW = (eta / N) * np.swapaxes(R, 1, 2) @ X          # (B, d_out, d)
        y_hat = y_hat + np.einsum("bod,bd->bo", dW, xq)
        R = R - X @ np.swapaxes(dW, 1, 2)
        T = np.eye(d) - gamma * np.swapaxes(X, 1, 2) @ X   # (B, d, d)  I - γ Σ x_i x_i^T
        X = X @ T                                          # T symmetric: rows x ← T x
        xq = np.einsum("bde,be->bd", T, xq)
    return y_hat


# --------------------------------------------------------------------------- closed forms
def optimal_one_step(d: int, n_context: int, s2: float, m4: float) -> tuple[float, float]:
    """Best ``b`` for ``ŷ = b (1/N) Σ_i y_i x_i^T x_q`` (one GD step from 0, η = b).

    Inputs with i.i.d. zero-mean coordinates of variance ``s2`` and fourth moment ``m4``,
    ``w ~ N(0, I)``, noise-free, one output (proofs/gd_step.py derives it):
    ``b* = N s² / (m4 + (d+N-2) s⁴)``, ``L* = ½ d s² (1 - s⁴ / c)``,
    ``c = (m4 + (d+N-2) s⁴) / N``; the loss is ``½ E(ŷ - y)²``.
    """
    d, N = positive_int("d", d), positive_int("n_context", n_context)
    s2 = finite_scalar("s2", s2, positive=True)
    m4 = finite_scalar("m4", m4, positive=True)
    c = (m4 + (d + N - 2) * s2 * s2) / N
    return s2 / c, 0.5 * d * s2 * (1.0 - s2 * s2 / c)


def zfb_gamma(cov, n_context: int) -> np.ndarray:
    """Zhang, Frei & Bartlett 2024: ``Γ = (1 + 1/N) Λ + (tr Λ / N) I`` for x ~ N(0, Λ);
    the optimal one-layer LSA predicts ``x_q^T Γ^{-1} (1/N) Σ_i y_i x_i``."""
    cov = array("cov", cov, ndim=2)
    same_size("cov sides", rows=cov.shape[0], cols=cov.shape[1])
    N = positive_int("n_context", n_context)
    return (1 + 1 / N) * cov + (np.trace(cov) / N) * np.eye(cov.shape[0])


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


def model_loss(params, E, y_query, *, kind: str, n_layers: int, shared: bool = False):
    """Loss and hand-written gradients of an LSA stack ("lsa") or of GD / GD++ with
    learnable (η, γ) per layer ("gd", "gdpp"), on tokens E (B, N+1, d+1)."""
    if kind == "lsa":
        return lsa_loss(params, E, y_query, n_layers, shared=shared)
    if kind not in ("gd", "gdpp"):
        raise ValueError(f"kind must be 'lsa', 'gd' or 'gdpp'; got {kind!r}")
    d, N = E.shape[2] - 1, E.shape[1] - 1
    loss, grads, y_hat = lsa_loss(_constructed(params, n_layers, d, N), E, y_query, n_layers)
    return loss, _chain_to_eta_gamma(grads, n_layers, d, N, kind == "gdpp"), y_hat


def init_params(rng, kind: str, n_layers: int, d: int, n_context: int, *, shared=False,
                init_scale: float | None = None, eta0: float | None = None) -> dict:
    """LSA weights ~ N(0, init_scale²) (default 0.002 / n_layers, as the authors' code);
    for "gd"/"gdpp", η_l = eta0 (default: the closed-form one-step rate / n_layers), γ_l = 0."""
    rng = as_rng(rng)
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


def train_lsa(n_layers: int = 1, *, kind: str = "lsa", shared: bool = False, d: int = 10,
              n_context: int = 10, steps: int = 5000, batch: int = 2048, lr: float = 1e-3,
              beta2: float = 0.98, clip: float | None = None, init_scale: float | None = None,
              inputs: str = "uniform", a: float = 0.5, cov=None, rng=0,
              callback=None) -> TrainResult:
    """Train on fresh in-context regression tasks every step with Adam (one output).

    Defaults follow the authors' notebooks: d = N = 10, x ~ U(-0.5, 0.5), w ~ N(0, I),
    noise-free, Adam(lr 1e-3, β2 = 0.98), batch 2048, 5,000 steps, init N(0, (0.002/L)²).
    ``clip`` is an optional global gradient-norm clip.  ``callback(step, loss)`` is called
    every step (for progress output).  All gradients are hand-written.
    """
    rng = as_rng(rng)
    n_layers = positive_int("n_layers", n_layers)
    steps = positive_int("steps", steps)
    params = init_params(rng, kind, n_layers, d, n_context, shared=shared, init_scale=init_scale)
    opt = Adam(lr=lr, beta2=beta2)
    losses = np.empty(steps)
    start = time.perf_counter()
    for step in range(steps):
        t = regression_tasks(rng, batch, n_context, d, inputs=inputs, a=a, cov=cov)
        E = tokens(t.X, t.Y, t.xq)
        loss, grads, _ = model_loss(params, E, t.yq, kind=kind, n_layers=n_layers, shared=shared)
        if clip is not None:
            grads = clip_by_global_norm(grads, clip)
        params = opt.step(params, grads)
        losses[step] = loss
        if callback is not None:
            callback(step, loss)
    task = dict(d=d, n_context=n_context, inputs=inputs, a=a, cov=None if cov is None else np.asarray(cov))
    return TrainResult(params, losses, kind, n_layers, shared, task, time.perf_counter() - start)
