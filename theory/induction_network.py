"""Reddy 2024 (ICLR), arXiv 2312.03002: the full network, trained on bursty item-label
sequences (Sec. 2-4), its progress measures, and sweeps over the data parameters.
The three-parameter landscape is in :mod:`theory.induction_head`; the data sampler in
:mod:`theory.tasks`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import nn
from ._validate import array, as_rng, positive_int
from .induction_head import format_landscape, reproduce_landscape
from .optim import SGD
from .tasks import item_label_classes, item_label_sequences

__all__ = ["embed", "init_network", "network_forward", "network_backward", "network_loss",
           "attention_measures", "NetworkConfig", "NetworkRun", "train_network", "sweep",
           "format_sweep", "MINUTES_CONFIG", "QUICK_CONFIG", "SWEEP_GRID", "reproduce_report"]


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
