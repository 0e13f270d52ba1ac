"""Reddy 2024 (ICLR), "The mechanistic basis of data dependence and abrupt learning in an
in-context classification task" (arXiv 2312.03002): the three-parameter landscape.

**The form implemented.**  The paper's phenomenological model (Sec. 5) tracks three nested
logits: β, the first layer's previous-token attention; α, the second layer's attention
from the target to the matching label; ξ, the alignment of the classifier's readout
with the label vectors.  The paper's printed equation could not be read here, so we
implement the working form of our issue, which has the properties the paper states
(each is proved in ``proofs/induction_head.py`` and tested)::

    y = σ(β)                                                    first-layer attention
    w = e^{α y} / (e^{α y} + N - 1)                             target → matching label
    p = e^{ξ w} / (e^{ξ w} + (N-1) e^{ξ (1-w)/(N-1)} + L - N)   probability of the right label
    loss = -log p

At the origin only ξ has a gradient, ``∂loss/∂ξ = 1/L - 1/N`` (negative, so ξ grows,
when L > N; zero when L = N, so GD never leaves the origin); while ξ grows, p → 1/N (a context label picked at random);
α's gradient is proportional to ξ and β's to α ξ, so they take off one after the other
and the loss falls off a cliff.

Everything is vectorised over leading axes: ``theta`` has shape (..., 3) = (β, α, ξ).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import nn
from ._validate import array, as_rng, finite_scalar, positive_int
from .optim import SGD
from .tasks import item_label_classes, item_label_sequences

__all__ = ["three_param_forward", "three_param_backward", "three_param_loss",
           "origin_gradient", "Trajectory", "gradient_descent", "plateau_table"]


def _sizes(N, L):
    N = positive_int("N", N)
    L = positive_int("L", L)
    if L < N:
        raise ValueError(f"L (labels) must be >= N (context pairs); got L = {L}, N = {N}")
    return N, L


def three_param_forward(theta, N: int, L: int):
    """Loss of the three-parameter model for theta (..., 3) = (β, α, ξ); returns (loss, cache).

    Computed stably as ``loss = -a1 + logsumexp(a1, a2, a3)`` with
    ``a1 = ξ w``, ``a2 = log(N-1) + ξ (1-w)/(N-1)``, ``a3 = log(L-N)`` (a term is left out
    when its count N-1 or L-N is zero).
    """
    N, L = _sizes(N, L)
    theta = array("theta", theta, min_ndim=1)
    if theta.shape[-1] != 3:
        raise ValueError(f"theta must have shape (..., 3) = (beta, alpha, xi); got shape {theta.shape}")
    return _forward(theta, N, L)


def _forward(theta, N, L):
    """Unchecked kernel of :func:`three_param_forward`."""
    beta, alpha, xi = theta[..., 0], theta[..., 1], theta[..., 2]
    y = 1.0 / (1.0 + np.exp(-beta))                        # σ(β)
    if N > 1:
        w = 1.0 / (1.0 + (N - 1) * np.exp(-alpha * y))     # e^{αy} / (e^{αy} + N - 1)
    else:
        w = np.ones_like(y)
    a = [xi * w]                                           # the right label's logit
    if N > 1:
        a.append(np.log(N - 1) + xi * (1.0 - w) / (N - 1))  # the other N-1 context labels
    if L > N:
        a.append(np.full_like(xi, np.log(L - N)))          # the L-N labels not in context
    a = np.stack(a, axis=-1)                               # (..., 1..3)
    m = a.max(axis=-1, keepdims=True)
    lse = (m + np.log(np.exp(a - m).sum(axis=-1, keepdims=True)))[..., 0]
    pi = np.exp(a - lse[..., None])                        # softmax over the three groups
    loss = lse - a[..., 0]                                 # -log p
    return loss, (N, L, y, w, xi, alpha, pi)


def three_param_backward(dloss, cache):
    """Hand-written gradient of :func:`three_param_forward` w.r.t. (β, α, ξ): (..., 3).

    With π the softmax over (a1, a2, a3) and ``π2 = 0`` when N = 1:
    ``∂ℓ/∂ξ = (π1 - 1) w + π2 (1-w)/(N-1)``, ``∂ℓ/∂w = (π1 - 1) ξ - π2 ξ/(N-1)``,
    ``∂w/∂(αy) = w (1-w)``, ``∂ℓ/∂α = ∂ℓ/∂w · w(1-w) · y``,
    ``∂ℓ/∂β = ∂ℓ/∂w · w(1-w) · α · y(1-y)``.
    """
    N, L, y, w, xi, alpha, pi = cache
    dloss = np.asarray(dloss, dtype=np.float64)
    p1 = pi[..., 0]
    p2 = pi[..., 1] if N > 1 else np.zeros_like(p1)
    inv = 1.0 / (N - 1) if N > 1 else 0.0
    d_xi = (p1 - 1.0) * w + p2 * (1.0 - w) * inv
    d_w = (p1 - 1.0) * xi - p2 * xi * inv
    d_ay = d_w * w * (1.0 - w)                             # through w = σ(αy - log(N-1))
    d_alpha = d_ay * y
    d_beta = d_ay * alpha * y * (1.0 - y)
    return dloss[..., None] * np.stack([d_beta, d_alpha, d_xi], axis=-1)


def three_param_loss(theta, N: int, L: int):
    """``(loss, gradient)`` of the three-parameter model."""
    loss, cache = three_param_forward(theta, N, L)
    return loss, three_param_backward(np.ones_like(loss), cache)


def origin_gradient(N: int, L: int) -> np.ndarray:
    """Closed form at the origin: ``(∂/∂β, ∂/∂α, ∂/∂ξ) = (0, 0, 1/L - 1/N)``."""
    N, L = _sizes(N, L)
    return np.array([0.0, 0.0, 1.0 / L - 1.0 / N])


@dataclass
class Trajectory:
    """Gradient descent on the three-parameter model (one row per recorded step)."""
    steps: np.ndarray              # (T,) step numbers
    theta: np.ndarray              # (T, 3) (β, α, ξ)
    loss: np.ndarray               # (T,)
    p: np.ndarray                  # (T,) probability of the right label = accuracy proxy
    jump_step: int | None          # first step with p >= (1 + 1/N)/2, halfway from the
                                   # random-context-label level 1/N to 1 (None: not in the run)


def gradient_descent(N: int, L: int, *, lr: float = 0.1, steps: int = 20000,
                     theta0=(0.0, 0.0, 0.0), record_every: int = 10,
                     stop_at_jump: bool = False) -> Trajectory:
    """Plain GD ``θ ← θ - lr ∇loss`` from ``theta0`` (the origin by default); the loop is
    over time only.  ``stop_at_jump`` ends the run at the jump (see :class:`Trajectory`)."""
    N, L = _sizes(N, L)
    lr = finite_scalar("lr", lr, positive=True)
    steps = positive_int("steps", steps)
    every = positive_int("record_every", record_every)
    theta = array("theta0", theta0, shape=(3,)).copy()
    rec_t, rec_theta, rec_loss = [], [], []
    jump = None
    threshold = 0.5 * (1.0 + 1.0 / N)
    for t in range(steps + 1):
        loss, cache = _forward(theta, N, L)
        if jump is None and np.exp(-loss) >= threshold:
            jump = t
        if t % every == 0 or t == steps or (stop_at_jump and jump is not None):
            rec_t.append(t), rec_theta.append(theta.copy()), rec_loss.append(float(loss))
        if stop_at_jump and jump is not None:
            break
        theta = theta - lr * three_param_backward(1.0, cache)
    loss = np.array(rec_loss)
    return Trajectory(np.array(rec_t), np.array(rec_theta), loss, np.exp(-loss), jump)


def plateau_table(Ns, Ls, *, lr: float = 0.1, steps: int = 200000) -> dict:
    """Jump time (first step with p >= (1 + 1/N)/2, at learning rate ``lr``) for each
    (N, L); None where GD stays on the plateau for the whole run."""
    table = {}
    for N in Ns:
        for L in Ls:
            if L >= N:
                table[(N, L)] = gradient_descent(N, L, lr=lr, steps=steps, record_every=steps,
                                                 stop_at_jump=True).jump_step
    return table


# --------------------------------------------------------------------------- random checks
_SYMBOLIC = {}


def symbolic_gradient():
    """The gradient derived in ``proofs/induction_head.py``, lambdified (cached)."""
    if "grad" not in _SYMBOLIC:
        import sympy as sp
        from .claims import run_proof
        r = run_proof("induction_head")
        _SYMBOLIC["grad"] = sp.lambdify(r["symbols"], r["grad"], "numpy")
    return _SYMBOLIC["grad"]


def _random_point(rng):
    N = int(rng.integers(1, 17))
    L = N + int(rng.integers(0, 40))
    return N, L, rng.uniform(-3, 3, size=3)


def check_gradient_vs_sympy(rng: np.random.Generator) -> float:
    """Relative error of the hand-written gradient against the sympy-derived one."""
    from .gradcheck import rel_error
    N, L, theta = _random_point(rng)
    N = max(N, 2)                                          # the symbolic form divides by N - 1
    L = max(L, N)
    hand = three_param_loss(theta, N, L)[1]
    return rel_error(hand, np.array(symbolic_gradient()(*theta, N, L), dtype=float))


def check_origin_gradient(rng: np.random.Generator) -> float:
    """Absolute error of the gradient at the origin against ``(0, 0, 1/L - 1/N)``
    (absolute: the closed form is exactly 0 when L = N)."""
    N, L, _ = _random_point(rng)
    return float(np.abs(three_param_loss(np.zeros(3), N, L)[1] - origin_gradient(N, L)).max())


# --------------------------------------------------------------------------- the network
# Reddy 2024, Sec. 2 (architecture as in the author's code, see PAPERS.md): tokens are a
# one-hot position (a contiguous block at a random offset per sequence) joined to the
# content; two single-head causal softmax attention layers with a residual stream, no
# normalisation, no output projection, no 1/sqrt(d) scaling; a three-layer ReLU
# classifier (one scalar bias per layer) on the target token; a readout over L labels.
NET_ATTN = ("W_Q1", "W_K1", "W_V1", "W_Q2", "W_K2", "W_V2")
NET_MLP = ("W1", "W2", "W3")


def embed(content, rng, n_positions: int = 65) -> np.ndarray:
    """``[one-hot position ; content]`` with positions ``offset + t``, the offset drawn
    uniformly per sequence so that the block fits in ``n_positions``.  (S, T, P + D)."""
    content = array("content", content, ndim=3)
    S, T, D = content.shape
    P = positive_int("n_positions", n_positions)
    if P < T:
        raise ValueError(f"n_positions must be >= sequence length {T}; got {P}")
    offset = as_rng(rng).integers(0, P - T + 1, size=S)
    X = np.zeros((S, T, P + D))
    X[np.arange(S)[:, None], np.arange(T)[None, :], offset[:, None] + np.arange(T)] = 1.0
    X[:, :, P:] = content
    return X


def init_network(rng, d: int, L: int) -> dict:
    """Q, K, V ~ N(0, 1/d); classifier W ~ N(0, 2/d); readout ~ N(0, 1/d); biases 0
    (the author's code uses 1/63 = 1/D for Q, K, V; we scale by the full width d)."""
    rng = as_rng(rng)
    d, L = positive_int("d", d), positive_int("L", L)
    p = {k: rng.standard_normal((d, d)) / np.sqrt(d) for k in NET_ATTN}
    p.update({k: rng.standard_normal((d, d)) * np.sqrt(2.0 / d) for k in NET_MLP})
    p.update({f"b{i}": np.zeros(1) for i in (1, 2, 3)})
    p["R"] = rng.standard_normal((L, d)) / np.sqrt(d)
    return p


def network_forward(X, params):
    """Logits (S, L) of the target token, and a cache.

    h1 = X + SoftAttn_causal(X W_Q1^T, X W_K1^T, X W_V1^T)            (every token)
    z  = h1_q + SoftAttn(h1_q W_Q2^T, h1 W_K2^T, h1 W_V2^T)           (the target only:
         the last token, which sees every token, is all the classifier reads)
    u_l = relu(W_l u_{l-1} + b_l), u_0 = z;  logits = R u_3.
    """
    X = array("X", X, ndim=3)
    S, T, d = X.shape
    # Layer 1: Q, K, V of every token in one GEMM with the stacked [W_Q1; W_K1; W_V1].
    W_qkv = np.concatenate([params["W_Q1"], params["W_K1"], params["W_V1"]], axis=0)  # (3d, d)
    QKV = (X.reshape(S * T, d) @ W_qkv.T).reshape(S, T, 3 * d)
    Q1, K1, V1 = QKV[..., :d], QKV[..., d:2 * d], QKV[..., 2 * d:]
    a1, c1 = nn._softmax_attention(Q1, K1, V1, mask=nn.attention_mask(T, causal=True))
    h1 = X + a1                                             # (S, T, d)
    # Layer 2 for the target only, in the residual space: the score of token t is
    # (W_Q2 h_q)^T (W_K2 h_t) = (W_K2^T W_Q2 h_q)^T h_t, and the output is
    # W_V2 Σ_t P_t h_t — no projection of every token is needed.
    q, cq = nn._linear(h1[:, -1:], params["W_Q2"])          # (S, 1, d)  W_Q2 h_q
    qk, cqk = nn._linear(q, params["W_K2"].T)               # (S, 1, d)  W_K2^T W_Q2 h_q
    m, ca = nn._softmax_attention(qk, h1, h1)               # (S, 1, d)  Σ_t P_t h_t
    a2, cv = nn._linear(m, params["W_V2"])                  # (S, 1, d)  W_V2 Σ_t P_t h_t
    u = h1[:, -1] + a2[:, 0]                                # (S, d) target's residual stream
    mlp = []
    for i, name in enumerate(NET_MLP, start=1):
        pre = u @ params[name].T + params[f"b{i}"]          # W_l u + b_l (scalar bias)
        mlp.append((u, pre))
        u = np.maximum(pre, 0.0)
    logits = u @ params["R"].T                              # (S, L)
    return logits, (X, c1, h1, cq, cqk, cv, ca, mlp, u, params)


def network_backward(dlogits, cache):
    """Hand-written gradients of :func:`network_forward` for every parameter (not for
    the input tokens, which are data)."""
    X, c1, h1, cq, cqk, cv, ca, mlp, u, params = cache
    g = {"R": dlogits.T @ u}
    du = dlogits @ params["R"]                              # (S, d)
    for i in (3, 2, 1):
        u_in, pre = mlp[i - 1]
        dpre = du * (pre > 0)
        g[f"W{i}"] = dpre.T @ u_in
        g[f"b{i}"] = np.array([dpre.sum()])
        du = dpre @ params[f"W{i}"]
    dm, gv = nn._linear_backward(du[:, None], cv)           # through W_V2
    dqk, dh1_keys, dh1_vals = nn._softmax_attention_backward(dm, ca)
    dq, gkT = nn._linear_backward(dqk, cqk)                 # through W_K2^T
    dh1_q, gq = nn._linear_backward(dq, cq)                 # through W_Q2
    dh1 = dh1_keys + dh1_vals                               # h1 as keys and as values
    dh1[:, -1] += du + dh1_q[:, 0]                          # residual and query of the target
    g.update(W_Q2=gq["W"], W_K2=gkT["W"].T, W_V2=gv["W"])
    # h1 = X + attention(X): X is data, so only the weights' gradients are formed
    dQ1, dK1, dV1 = nn._softmax_attention_backward(dh1, c1)
    S, T, d = X.shape
    dQKV = np.concatenate([dQ1, dK1, dV1], axis=2).reshape(S * T, 3 * d)
    dW = dQKV.T @ X.reshape(S * T, d)                       # (3d, d) stacked weight gradients
    g.update(W_Q1=dW[:d], W_K1=dW[d:2 * d], W_V1=dW[2 * d:])
    return g


def network_loss(params, X, target):
    """Mean cross-entropy of the target labels and its gradients."""
    logits, cache = network_forward(X, params)
    loss, lc = nn.cross_entropy_forward(logits, target)
    grads = network_backward(nn.cross_entropy_backward(1.0, lc), cache)
    return loss, grads, logits


def attention_measures(X, params, batch) -> dict:
    """Progress measures (Reddy 2024, Sec. 4): layer 1's attention from each label token
    to the item just before it, and layer 2's attention from the target to the labels
    that follow items of the target's class (summed), averaged over sequences."""
    _, cache = network_forward(X, params)
    P1 = cache[1][-1]                                       # (S, T, T) layer-1 weights
    P2 = cache[6][-1][:, 0]                                 # (S, T) layer-2 weights of the target
    N = batch.context_labels.shape[1]
    t = np.arange(1, 2 * N, 2)                              # label positions
    prev = P1[:, t, t - 1].mean()
    match = (P2[:, t] * batch.context_match).sum(axis=1)
    has = batch.context_match.any(axis=1)
    return dict(prev_token=float(prev), match_label=float(match[has].mean()) if has.any() else float("nan"))


# --------------------------------------------------------------------------- training the network
@dataclass(frozen=True)
class NetworkConfig:
    """Data and training settings (defaults: Reddy 2024 / the author's code, see PAPERS.md)."""
    K: int = 256
    L: int = 32
    N: int = 8
    D: int = 63
    eps: float = 0.1
    alpha: float = 0.0
    B: int = 4
    p_bursty: float = 1.0
    p_novel: float = 0.0
    n_positions: int = 65
    lr: float = 0.01
    batch: int = 128
    weight_decay: float = 1e-6
    steps: int = 150_000
    eval_every: int = 500
    n_eval: int = 1000
    seed: int = 0


@dataclass
class NetworkRun:
    """Accuracies and progress measures at every evaluation."""
    config: NetworkConfig
    steps: np.ndarray              # (E,) iterations evaluated
    icl: np.ndarray                # (E,) accuracy on novel-class bursty sequences
    swapped: np.ndarray            # (E,) accuracy with every context label shifted by one
    iwl: np.ndarray                # (E,) accuracy on i.i.d. sequences of trained classes
    prev_token: np.ndarray         # (E,) layer-1 label → previous item attention
    match_label: np.ndarray        # (E,) layer-2 target → matching labels attention
    loss: np.ndarray               # (steps,) training loss
    seconds: float

    def jump(self, curve: str = "icl"):
        """``(iteration, width)`` of the rise of a curve: where it first passes halfway
        from its starting value to its final value, and the iterations from 10 % to 90 %
        of that rise; None if it rose by less than 0.2."""
        y = getattr(self, curve)
        lo, hi = float(y[0]), float(y[-1])
        if hi - lo < 0.2:
            return None
        at = lambda f: int(self.steps[np.argmax(y >= lo + f * (hi - lo))])
        return at(0.5), at(0.9) - at(0.1)


def _eval_sets(classes, cfg, rng):
    B_eval = cfg.B if cfg.B else 1
    common = dict(eps=cfg.eps)
    return {
        "icl": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=B_eval, p_bursty=1.0, p_novel=1.0, **common),
        "swapped": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=B_eval, p_bursty=1.0,
                                        shift_labels=True, alpha=cfg.alpha, **common),
        "iwl": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=0, alpha=cfg.alpha, **common),
    }


def train_network(cfg: NetworkConfig, progress=None) -> NetworkRun:
    """Plain SGD with decoupled weight decay on fresh batches (Reddy 2024, Sec. 2)."""
    import time
    rng = np.random.default_rng(cfg.seed)
    classes = item_label_classes(rng, cfg.K, cfg.L, cfg.D)
    evals = {k: (embed(b.content, rng, cfg.n_positions), b) for k, b in _eval_sets(classes, cfg, rng).items()}
    params = init_network(rng, cfg.n_positions + cfg.D, cfg.L)
    opt = SGD(lr=cfg.lr, weight_decay=cfg.weight_decay)
    rec = {k: [] for k in ("steps", "icl", "swapped", "iwl", "prev_token", "match_label")}
    losses = np.empty(cfg.steps)
    start = time.perf_counter()
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            rec["steps"].append(step)
            for k, (X, b) in evals.items():
                logits, _ = network_forward(X, params)
                rec[k].append(float(np.mean(np.argmax(logits, axis=1) == b.target)))
            m = attention_measures(evals["icl"][0], params, evals["icl"][1])
            rec["prev_token"].append(m["prev_token"]), rec["match_label"].append(m["match_label"])
            if progress is not None:
                progress(f"step {step:7d}  ICL {rec['icl'][-1]:.3f}  swapped {rec['swapped'][-1]:.3f}  "
                         f"IWL {rec['iwl'][-1]:.3f}  prev-token {m['prev_token']:.3f}  "
                         f"match-label {m['match_label']:.3f}  ({time.perf_counter() - start:.0f} s)")
        if step == cfg.steps:
            break
        b = item_label_sequences(rng, classes, cfg.batch, cfg.N, B=cfg.B, eps=cfg.eps, alpha=cfg.alpha,
                                 p_bursty=cfg.p_bursty, p_novel=cfg.p_novel)
        loss, grads, _ = network_loss(params, embed(b.content, rng, cfg.n_positions), b.target)
        params = opt.step(params, grads)
        losses[step] = loss
    arr = {k: np.array(v) for k, v in rec.items()}
    return NetworkRun(cfg, arr["steps"], arr["icl"], arr["swapped"], arr["iwl"], arr["prev_token"],
                      arr["match_label"], losses, time.perf_counter() - start)


# --------------------------------------------------------------------------- reproduction
def reproduce_landscape(Ns=(2, 4, 8, 16), L_factors=(1, 2, 4, 8, 16), *, lr: float = 0.1,
                        steps: int = 100_000, executor=None) -> dict:
    """Jump times of GD on the three-parameter model from the origin, per (N, L = f N),
    and the escape times for L = N from (0, 0, δ).  ``executor`` runs the (N, L) pairs
    in parallel (any ``concurrent.futures.Executor``)."""
    pairs = [(N, f * N) for N in Ns for f in L_factors]
    if executor is not None:
        jumps = list(executor.map(_jump_time, pairs, [lr] * len(pairs), [steps] * len(pairs)))
    else:
        jumps = [_jump_time(p, lr, steps) for p in pairs]
    escape = {delta: gradient_descent(8, 8, lr=lr, steps=steps, theta0=(0.0, 0.0, delta),
                                      record_every=steps, stop_at_jump=True).jump_step
              for delta in (1e-2, 1e-6, 1e-10)}
    return dict(jumps=dict(zip(pairs, jumps)), escape=escape, lr=lr)


def _jump_time(NL, lr, steps):
    return gradient_descent(NL[0], NL[1], lr=lr, steps=steps, record_every=steps, stop_at_jump=True).jump_step


def format_landscape(r: dict) -> str:
    Ns = sorted({N for N, _ in r["jumps"]})
    fs = sorted({L // N for N, L in r["jumps"]})
    lines = [f"Three-parameter model, GD from the origin (lr = {r['lr']}): first step with p >= (1 + 1/N)/2",
             "  N \\ L   " + "  ".join(f"{'L=' + str(f) + 'N':>8}" for f in fs)]
    for N in Ns:
        cells = [r["jumps"][(N, f * N)] for f in fs]
        lines.append(f"  {N:>5}   " + "  ".join(f"{'never' if c is None else c:>8}" for c in cells))
    lines.append("  L = N: the origin is a saddle with zero gradient; from (0, 0, δ) GD escapes after "
                 + ", ".join(f"{v} steps (δ = {k:g})" for k, v in r["escape"].items()))
    return "\n".join(lines)


def _train_quietly(cfg: NetworkConfig) -> NetworkRun:
    return train_network(cfg)


def sweep(base: NetworkConfig, grid: dict, *, executor=None, progress=None) -> list:
    """One-at-a-time sweep: for each ``name -> values`` in ``grid``, train ``base`` with
    that one field changed.  Returns ``[(name, value, NetworkRun), ...]``.  ``executor``
    (any ``concurrent.futures.Executor``) trains the conditions in parallel."""
    from dataclasses import replace
    jobs = [(name, v, replace(base, **{name: v})) for name, values in grid.items() for v in values]
    if executor is None:
        runs = []
        for name, v, cfg in jobs:
            runs.append(train_network(cfg))
            if progress:
                progress(f"trained {name} = {v}: ICL {runs[-1].icl[-1]:.3f}, IWL {runs[-1].iwl[-1]:.3f}")
    else:
        runs = list(executor.map(_train_quietly, [cfg for _, _, cfg in jobs]))
    return [(name, v, r) for (name, v, _), r in zip(jobs, runs)]


def format_sweep(rows) -> str:
    lines = ["  varied      value   ICL    swapped  IWL    prev-token  match-label  ICL rise (iter, width)",
             "  ---------   -----   -----  -------  -----  ----------  -----------  ----------------------"]
    for name, v, r in rows:
        lines.append(f"  {name:<9}   {v:>5}   {r.icl[-1]:.3f}  {r.swapped[-1]:.3f}    {r.iwl[-1]:.3f}  "
                     f"{r.prev_token[-1]:.3f}       {r.match_label[-1]:.3f}        {r.jump('icl')}")
    return "\n".join(lines)


# Reddy 2024's data and network at smaller widths (content D = 31, 25 positions) and lr
# 0.05, with K = 1024 classes: ICL rises from chance to 0.97 within 4,000 SGD steps (48 s).
MINUTES_CONFIG = NetworkConfig(K=1024, D=31, n_positions=25, lr=0.05, steps=4000, eval_every=100, n_eval=500)
QUICK_CONFIG = NetworkConfig(K=64, L=16, N=4, D=15, n_positions=12, B=2, lr=0.05, steps=300,
                             eval_every=100, n_eval=200)
SWEEP_GRID = {"B": [0, 1, 2, 4], "K": [64, 1024], "eps": [0.0, 0.4], "alpha": [1.0]}


def reproduce_report(*, quick: bool = False, executor=None, progress=None) -> str:
    """The landscape table, one network run, and (full only) the one-at-a-time sweep
    around B = 4, K = 256, ε = 0.1, α = 0; returns the report text."""
    from dataclasses import replace
    say = progress or (lambda message: None)
    out = [format_landscape(reproduce_landscape(steps=5_000 if quick else 100_000, executor=executor))]
    cfg = QUICK_CONFIG if quick else MINUTES_CONFIG
    run = train_network(cfg, progress=say)
    out.append(f"\nFull network ({cfg}):")
    for i, step in enumerate(run.steps):
        out.append(f"  step {step:7d}  ICL {run.icl[i]:.3f}  swapped {run.swapped[i]:.3f}  IWL {run.iwl[i]:.3f}"
                   f"  layer-1 previous-token {run.prev_token[i]:.3f}  layer-2 matching-label {run.match_label[i]:.3f}")
    out.append(f"  ICL rise (iteration at half-way, 10-90 % width): {run.jump('icl')}; {run.seconds:.0f} s")
    if not quick:
        base = replace(MINUTES_CONFIG, K=256, eval_every=1000)
        rows = sweep(base, SWEEP_GRID, executor=executor, progress=say)
        out.append(f"\nOne-at-a-time sweep around B = 4, K = 256, ε = 0.1, α = 0 ({base.steps} steps each):")
        out.append(format_sweep(rows))
    return "\n".join(out)
