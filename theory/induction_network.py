"""Reddy 2024 (ICLR), arXiv 2312.03002: the full network, trained on bursty item-label
sequences (Sec. 2-4), its progress measures, and sweeps over the data parameters.
The three-parameter landscape is in :mod:`theory.induction_head`; the data sampler in
:mod:`theory.tasks`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import nn
from ._validate import (array, as_rng, cache as _cache, check_step, choice, executor as _executor,
                        finite_result, finite_scalar, flag, function, integer_array, nonnegative_int,
                        params as _params, positive_int, probability)
from .induction_head import format_landscape, reproduce_landscape
from .optim import SGD
from .tasks import ItemLabelBatch, check_burstiness, item_label_classes, item_label_sequences

__all__ = ["embed", "init_classifier", "classifier_weights", "network_weights", "classifier_forward", "classifier_backward", "init_network",
           "network_forward", "network_backward", "cross_entropy_loss", "network_loss",
           "progress_measures", "attention_measures", "NetworkConfig", "Model", "NETWORK", "NetworkRun",
           "train_network", "sweep", "format_sweep", "MINUTES_CONFIG", "QUICK_CONFIG", "SWEEP_GRID",
           "reproduce_report"]


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


def init_classifier(rng, d_in: int, h: int, L: int) -> dict:
    """The classifier of the target token: W1 (h, d_in), W2, W3 (h, h) ~ N(0, 2/fan-in),
    one scalar bias per layer = 0, readout R (L, h) ~ N(0, 1/h)."""
    rng = as_rng(rng)
    d_in, h, L = positive_int("d_in", d_in), positive_int("h", h), positive_int("L", L)
    p = {"W1": rng.standard_normal((h, d_in)) * np.sqrt(2.0 / d_in)}
    p.update({k: rng.standard_normal((h, h)) * np.sqrt(2.0 / h) for k in NET_MLP[1:]})
    p.update({f"b{i}": np.zeros(1) for i in (1, 2, 3)})
    p["R"] = rng.standard_normal((L, h)) / np.sqrt(h)
    return p


def classifier_weights(params, d_in: int) -> dict:
    """The classifier's weights, checked: W1 (h, d_in), W2, W3 (h, h), b1-b3 (1,), R (L, h)."""
    d_in = positive_int("d_in", d_in)
    h = _params("params", params, {"W1": (None, d_in)})["W1"].shape[0]
    return _params("params", params, {"W1": (h, d_in), "W2": (h, h), "W3": (h, h), "b1": (1,), "b2": (1,),
                                      "b3": (1,), "R": (None, h)})


@finite_result(with_cache=True)
def classifier_forward(u, params):
    """``u_l = relu(W_l u_{l-1} + b_l)``, l = 1..3, ``u_0 = u`` (S, d_in); ``logits = R u_3``.  (S, L)."""
    u = array("u", u, ndim=2)
    return _classifier_forward(u, classifier_weights(params, u.shape[1]))


def _classifier_forward(u, params):
    """Unchecked kernel of :func:`classifier_forward`."""
    mlp = []
    for i, name in enumerate(NET_MLP, start=1):
        pre = u @ params[name].T + params[f"b{i}"]          # W_l u + b_l (scalar bias)
        mlp.append((u, pre))
        u = np.maximum(pre, 0.0)
    return u @ params["R"].T, (mlp, u)


@finite_result
def classifier_backward(dlogits, cache, params):
    """Gradients of :func:`classifier_forward`: ``(grads, du_0)``."""
    mlp, u = _cache("cache", cache, 2, "classifier_forward", arrays=(1,))
    if not (isinstance(mlp, list) and len(mlp) == len(NET_MLP)):
        raise ValueError(f"cache must be the cache returned by classifier_forward; got {len(mlp)!r:.40} layers")
    p = classifier_weights(params, mlp[0][0].shape[1])
    dlogits = array("dlogits", dlogits, shape=(u.shape[0], p["R"].shape[0]))
    return _classifier_backward(dlogits, cache, p)


def _classifier_backward(dlogits, cache, params):
    """Unchecked kernel of :func:`classifier_backward`."""
    mlp, u = cache
    g = {"R": dlogits.T @ u}
    du = dlogits @ params["R"]                              # (S, h)
    for i in (3, 2, 1):
        u_in, pre = mlp[i - 1]
        dpre = du * (pre > 0)
        g[f"W{i}"] = dpre.T @ u_in
        g[f"b{i}"] = np.array([dpre.sum()])
        du = dpre @ params[f"W{i}"]
    return g, du


def init_network(rng, d: int, L: int) -> dict:
    """Q, K, V ~ N(0, 1/d); classifier W ~ N(0, 2/d); readout ~ N(0, 1/d); biases 0
    (the author's code uses 1/63 = 1/D for Q, K, V; we scale by the full width d)."""
    rng = as_rng(rng)
    d, L = positive_int("d", d), positive_int("L", L)
    p = {k: rng.standard_normal((d, d)) / np.sqrt(d) for k in NET_ATTN}
    p.update(init_classifier(rng, d, d, L))
    return p


def network_weights(params, d: int) -> dict:
    """The network's weights, checked: six (d, d) attention matrices and the classifier."""
    d = positive_int("d", d)
    p = _params("params", params, {k: (d, d) for k in NET_ATTN})
    p.update(classifier_weights(params, d))
    return p


@finite_result(with_cache=True)
def network_forward(X, params):
    """Logits (S, L) of the target token, and a cache.

    h1 = X + SoftAttn_causal(X W_Q1^T, X W_K1^T, X W_V1^T)            (every token)
    z  = h1_q + SoftAttn(h1_q W_Q2^T, h1 W_K2^T, h1 W_V2^T)           (the target only:
         the last token, which sees every token, is all the classifier reads)
    logits = classifier(z)   (:func:`classifier_forward`)
    """
    X = array("X", X, ndim=3)
    return _network_forward(X, network_weights(params, X.shape[2]))


def _network_forward(X, params):
    """Unchecked kernel of :func:`network_forward`."""
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
    logits, cc = _classifier_forward(u, params)             # (S, L)
    return logits, (X, c1, h1, cq, cqk, cv, ca, cc, params)


@finite_result
def network_backward(dlogits, cache):
    """Hand-written gradients of :func:`network_forward` for every parameter (not for
    the input tokens, which are data)."""
    X, params = _cache("cache", cache, 9, "network_forward")[::8]
    dlogits = array("dlogits", dlogits, shape=(X.shape[0], params["R"].shape[0]))
    return _network_backward(dlogits, cache)


def _network_backward(dlogits, cache):
    """Unchecked kernel of :func:`network_backward`."""
    X, c1, h1, cq, cqk, cv, ca, cc, params = cache
    g, du = _classifier_backward(dlogits, cc, params)      # du: (S, d)
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


def _cross_entropy_loss(forward, backward, params, X, target, check_target: bool = False):
    """Kernel of :func:`cross_entropy_loss` (the training loop passes checked targets)."""
    logits, cache = forward(X, params)
    if check_target:
        target = integer_array("target", target, shape=(logits.shape[0],), low=0, high=logits.shape[1])
    loss, lc = nn._cross_entropy(logits, target)
    return loss, backward(nn._cross_entropy_backward(1.0, lc), cache), logits


@finite_result
def cross_entropy_loss(forward, backward, params, X, target):
    """Mean cross-entropy of the target labels under ``forward`` and its gradients by
    ``backward``: ``(loss, grads, logits)``.  ``target`` (S,) holds label ids."""
    forward, backward = function("forward", forward), function("backward", backward)
    return _cross_entropy_loss(forward, backward, params, X, target, check_target=True)


def network_loss(params, X, target):
    """Mean cross-entropy of the full network and its gradients."""
    return cross_entropy_loss(network_forward, network_backward, params, X, target)


def _network_loss(params, X, target):
    return _cross_entropy_loss(_network_forward, _network_backward, params, X, target)


def progress_measures(P1, P2, batch) -> dict:
    """Progress measures (Reddy 2024, Sec. 4) from layer-1 weights ``P1`` (S or 1, T, T)
    and the target's layer-2 weights ``P2`` (S, T): layer 1's attention from each label
    token to the item just before it, and layer 2's attention from the target to the
    labels that follow items of the target's class (summed), averaged over the sequences
    whose context holds the target's class (there must be at least one)."""
    if not isinstance(batch, ItemLabelBatch):
        raise ValueError(f"batch must be an ItemLabelBatch (see tasks.item_label_sequences); got {type(batch).__name__}")
    S, N = batch.context_labels.shape
    T = 2 * N + 1
    P1 = array("P1", P1, ndim=3)
    if P1.shape[1:] != (T, T) or P1.shape[0] not in (1, S):
        raise ValueError(f"P1 must have shape ({S} or 1, {T}, {T}) for this batch; got shape {P1.shape}")
    P2 = array("P2", P2, shape=(S, T))
    for name, P in (("P1", P1), ("P2", P2)):
        if P.min() < 0 or P.max() > 1:
            raise ValueError(f"{name} must hold attention weights in [0, 1]; got range [{P.min():.3g}, {P.max():.3g}]")
    has = batch.query_in_context
    if not has.any():
        raise ValueError("batch has no sequence whose context holds the target's class: "
                         "the matching-label attention is undefined")
    return _progress_measures(P1, P2, batch)


def _progress_measures(P1, P2, batch) -> dict:
    """Unchecked kernel of :func:`progress_measures`."""
    N = batch.context_labels.shape[1]
    t = np.arange(1, 2 * N, 2)                              # label positions
    prev = P1[:, t, t - 1].mean()
    match = (P2[:, t] * batch.context_match).sum(axis=1)
    has = batch.query_in_context
    return dict(prev_token=float(prev), match_label=float(match[has].mean()))


def _network_attention(cache):
    return cache[1][-1], cache[6][-1][:, 0]                 # (S, T, T), (S, T)


def attention_measures(X, params, batch) -> dict:
    """:func:`progress_measures` of the full network on tokens ``X``."""
    return progress_measures(*_network_attention(network_forward(X, params)[1]), batch)


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

    def __post_init__(self):
        for name in ("K", "L", "N", "D", "n_positions", "batch", "steps", "eval_every", "n_eval"):
            positive_int(name, getattr(self, name))
        nonnegative_int("seed", self.seed)
        check_burstiness(self.B, self.N)
        finite_scalar("eps", self.eps, nonnegative=True)
        finite_scalar("alpha", self.alpha, nonnegative=True)
        probability("p_bursty", self.p_bursty)
        probability("p_novel", self.p_novel)
        finite_scalar("lr", self.lr, positive=True)
        finite_scalar("weight_decay", self.weight_decay, nonnegative=True, below=1.0)
        if self.L > self.K or self.K % self.L:
            raise ValueError(f"K must be a multiple of L (class k has label k mod L); got K = {self.K}, L = {self.L}")
        if self.B and self.N // self.B > self.L:
            raise ValueError(f"N/B = {self.N // self.B} distinct labels per bursty context exceed L = {self.L}")
        if self.n_positions < 2 * self.N + 1:
            raise ValueError(f"n_positions must be >= the sequence length 2N + 1 = {2 * self.N + 1}; "
                             f"got {self.n_positions}")


@dataclass(frozen=True)
class Model:
    """A model of Reddy's task as the training loop needs it.  Every field is a
    module-level function, so that a model can be sent to worker processes."""
    name: str
    init: Callable         # (rng, cfg) -> params
    inputs: Callable       # (content (S, T, D), rng, cfg) -> the model's input X
    forward: Callable      # (X, params) -> (logits (S, L), cache)
    loss: Callable         # (params, X, target) -> (loss, grads, logits)
    attention: Callable    # cache -> (P1 (S or 1, T, T) layer-1 weights, P2 (S, T) target's layer 2)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string; got {self.name!r}")
        for field_name in ("init", "inputs", "forward", "loss", "attention"):
            function(field_name, getattr(self, field_name))


def _network_init(rng, cfg):
    return init_network(rng, cfg.n_positions + cfg.D, cfg.L)


def _network_inputs(content, rng, cfg):
    return embed(content, rng, cfg.n_positions)


# The training loop validates its configuration once and then calls the unchecked kernels.
NETWORK = Model("full network", _network_init, _network_inputs, _network_forward, _network_loss,
                _network_attention)


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
    model: str = NETWORK.name

    def jump(self, curve: str = "icl"):
        """``(iteration, width)`` of the rise of a curve: where it first passes halfway
        from its starting value to its final value, and the iterations from 10 % to 90 %
        of that rise; None if it rose by less than 0.2."""
        y = getattr(self, choice("curve", curve, ("icl", "swapped", "iwl", "prev_token", "match_label")))
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


def train_network(cfg: NetworkConfig, progress=None, model: Model = NETWORK) -> NetworkRun:
    """Plain SGD with decoupled weight decay on fresh batches (Reddy 2024, Sec. 2);
    ``model`` is the full network by default.  ``progress(message)`` is told each
    evaluation.  A non-finite loss stops the run with :class:`theory._validate.Diverged`
    naming the step and the learning rate."""
    import time
    if not isinstance(cfg, NetworkConfig):
        raise ValueError(f"cfg must be a NetworkConfig; got {type(cfg).__name__}")
    if not isinstance(model, Model):
        raise ValueError(f"model must be a Model (e.g. NETWORK); got {type(model).__name__}")
    progress = function("progress", progress, optional=True)
    rng = np.random.default_rng(cfg.seed)
    classes = item_label_classes(rng, cfg.K, cfg.L, cfg.D)
    evals = {k: (model.inputs(b.content, rng, cfg), b) for k, b in _eval_sets(classes, cfg, rng).items()}
    params = model.init(rng, cfg)
    opt = SGD(lr=cfg.lr, weight_decay=cfg.weight_decay)
    rec = {k: [] for k in ("steps", "icl", "swapped", "iwl", "prev_token", "match_label")}
    losses = np.empty(cfg.steps)
    start = time.perf_counter()
    for step in range(cfg.steps + 1):
        if step % cfg.eval_every == 0 or step == cfg.steps:
            rec["steps"].append(step)
            for k, (X, b) in evals.items():
                logits, cache = model.forward(X, params)
                rec[k].append(float(np.mean(np.argmax(logits, axis=1) == b.target)))
                if k == "icl":
                    m = _progress_measures(*model.attention(cache), b)
            rec["prev_token"].append(m["prev_token"]), rec["match_label"].append(m["match_label"])
            if progress is not None:
                progress(f"step {step:7d}  ICL {rec['icl'][-1]:.3f}  swapped {rec['swapped'][-1]:.3f}  "
                         f"IWL {rec['iwl'][-1]:.3f}  prev-token {m['prev_token']:.3f}  "
                         f"match-label {m['match_label']:.3f}  ({time.perf_counter() - start:.0f} s)")
        if step == cfg.steps:
            break
        b = item_label_sequences(rng, classes, cfg.batch, cfg.N, B=cfg.B, eps=cfg.eps, alpha=cfg.alpha,
                                 p_bursty=cfg.p_bursty, p_novel=cfg.p_novel)
        loss, grads, _ = model.loss(params, model.inputs(b.content, rng, cfg), b.target)
        losses[step] = check_step(loss, grads, step, cfg.lr)
        params = opt.step(params, grads)
    arr = {k: np.array(v) for k, v in rec.items()}
    return NetworkRun(cfg, arr["steps"], arr["icl"], arr["swapped"], arr["iwl"], arr["prev_token"],
                      arr["match_label"], losses, time.perf_counter() - start, model.name)


def _train_quietly(cfg: NetworkConfig, model: Model) -> NetworkRun:
    return train_network(cfg, model=model)


def sweep(base: NetworkConfig, grid: dict, *, seeds: int = 1, model: Model = NETWORK,
          executor=None, progress=None) -> list:
    """One-at-a-time sweep: for each ``name -> values`` in ``grid``, train ``base`` with
    that one field changed, with seeds ``base.seed, ..., base.seed + seeds - 1``.
    Returns ``[(name, value, [NetworkRun per seed]), ...]``.  ``executor`` (any
    ``concurrent.futures.Executor``) trains the runs in parallel."""
    from dataclasses import replace
    if not isinstance(base, NetworkConfig):
        raise ValueError(f"base must be a NetworkConfig; got {type(base).__name__}")
    seeds = positive_int("seeds", seeds)
    if not isinstance(model, Model):
        raise ValueError(f"model must be a Model (e.g. NETWORK); got {type(model).__name__}")
    executor, progress = _executor("executor", executor), function("progress", progress, optional=True)
    fields = set(NetworkConfig.__dataclass_fields__) - {"seed"}
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict of NetworkConfig field -> list of values; got {grid!r}")
    for name, values in grid.items():
        if name not in fields:
            raise ValueError(f"grid keys must be NetworkConfig fields other than seed; got {name!r}")
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not len(values):
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values; got {values!r}")
    conds = [(name, v) for name, values in grid.items() for v in values]
    jobs = []
    for name, v in conds:                                   # every configuration is checked before any run
        try:
            jobs += [(name, v, replace(base, **{name: v}, seed=base.seed + i)) for i in range(seeds)]
        except ValueError as err:
            raise ValueError(f"grid[{name!r}] holds {v!r}, which makes an invalid configuration: {err}") from None
    cfgs = [cfg for _, _, cfg in jobs]
    if executor is None:
        runs = []
        for name, v, cfg in jobs:
            runs.append(train_network(cfg, model=model))
            if progress:
                progress(f"trained the {model.name}, {name} = {v}, seed {cfg.seed}: "
                         f"ICL {runs[-1].icl[-1]:.3f}, IWL {runs[-1].iwl[-1]:.3f}")
    else:
        runs = list(executor.map(_train_quietly, cfgs, [model] * len(cfgs)))
    return [(name, v, runs[j * seeds:(j + 1) * seeds]) for j, (name, v) in enumerate(conds)]


def _spread(values) -> str:
    """``mean`` of one run, ``mean (min-max)`` of several."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.3f}" if v.size == 1 else f"{v.mean():.3f} ({v.min():.2f}-{v.max():.2f})"


def format_sweep(rows) -> str:
    """One line per condition: final accuracies and attention measures (mean, and the
    range over seeds when there are several), and the ICL rise of each seed."""
    if not isinstance(rows, list) or not rows or not all(
            isinstance(r, tuple) and len(r) == 3 and r[2] and all(isinstance(x, NetworkRun) for x in r[2])
            for r in rows):
        raise ValueError("rows must be the non-empty list of (name, value, [NetworkRun, ...]) returned by sweep")
    cols = ("ICL", "swapped", "IWL", "prev-token", "match-label")
    lines = ["  varied   value  " + "  ".join(c.ljust(17) for c in cols) + "  ICL rise (iter, width) per seed"]
    lines.append("  " + "-" * (len(lines[0]) - 2))
    for name, v, runs in rows:
        cells = [_spread([getattr(r, c)[-1] for r in runs]).ljust(17)
                 for c in ("icl", "swapped", "iwl", "prev_token", "match_label")]
        lines.append(f"  {name:<7}  {v:>5}  " + "  ".join(cells) + "  " + ", ".join(str(r.jump("icl")) for r in runs))
    return "\n".join(lines)


# Reddy 2024's data and network at smaller widths (content D = 31, 25 positions) and lr
# 0.05, with K = 1024 classes: ICL rises from chance to 0.97 within 4,000 SGD steps (48 s).
MINUTES_CONFIG = NetworkConfig(K=1024, D=31, n_positions=25, lr=0.05, steps=4000, eval_every=100, n_eval=500)
# CI-sized (about 2-4 s): 16 labels, N = 4 pairs of 2 classes (B = 2), K = 512, width 27.
# ICL 0.03-0.08 -> 0.94-0.99 in 1,500 steps over seeds 0-4, half-way at steps 700-900.
QUICK_CONFIG = NetworkConfig(K=512, L=16, N=4, D=15, n_positions=12, B=2, lr=0.1, steps=1500,
                             eval_every=100, n_eval=300)
SWEEP_GRID = {"B": [0, 1, 2, 4], "K": [64, 1024], "eps": [0.0, 0.4], "alpha": [1.0]}


def _format_run(title: str, run: NetworkRun) -> list:
    out = [f"\n{title} ({run.config}):"]
    for i, step in enumerate(run.steps):
        out.append(f"  step {step:7d}  ICL {run.icl[i]:.3f}  swapped {run.swapped[i]:.3f}  IWL {run.iwl[i]:.3f}"
                   f"  layer-1 previous-token {run.prev_token[i]:.3f}  layer-2 matching-label {run.match_label[i]:.3f}")
    out.append(f"  ICL rise (iteration at half-way, 10-90 % width): {run.jump('icl')}; {run.seconds:.0f} s")
    return out


def reproduce_report(*, quick: bool = False, paper: bool = False, seeds: int = 1, executor=None,
                     progress=None) -> str:
    """Returns the report text: the landscape table; one run of the full network (the
    minutes configuration, or with ``paper`` the paper's 150k-step settings); one run of
    the two-parameter model; and (not ``quick``) the one-at-a-time sweeps around B = 4,
    K = 256, ε = 0.1, α = 0 of both models — the network over ``SWEEP_GRID`` with
    ``seeds`` seeds per condition, the two-parameter model over its wider
    ``TWO_PARAM_GRID`` with five."""
    from dataclasses import replace

    from .induction_two_param import TWO_PARAM, TWO_PARAM_GRID, TWO_PARAM_QUICK_CONFIG
    quick, paper = flag("quick", quick), flag("paper", paper)
    if quick and paper:
        raise ValueError("quick and paper exclude each other; got quick=True, paper=True")
    seeds = positive_int("seeds", seeds)
    executor = _executor("executor", executor)
    say = function("progress", progress, optional=True) or (lambda message: None)
    out = [format_landscape(reproduce_landscape(steps=5_000 if quick else 100_000, executor=executor))]
    cfg = QUICK_CONFIG if quick else replace(NetworkConfig(), eval_every=2500) if paper else MINUTES_CONFIG
    out += _format_run("Full network", train_network(cfg, progress=say))
    tcfg = TWO_PARAM_QUICK_CONFIG if quick else replace(MINUTES_CONFIG, eval_every=250)
    out += _format_run("Two-parameter model (our reading of Sec. 4)", train_network(tcfg, progress=say, model=TWO_PARAM))
    if not quick:
        base = replace(MINUTES_CONFIG, K=256, eval_every=250)
        for model, grid, n in ((NETWORK, SWEEP_GRID, seeds), (TWO_PARAM, TWO_PARAM_GRID, 5)):
            rows = sweep(base, grid, seeds=n, model=model, executor=executor, progress=say)
            out.append(f"\nOne-at-a-time sweep of the {model.name} around B = 4, K = 256, ε = 0.1, α = 0 "
                       f"({base.steps} steps each, {n} seed{'s' * (n > 1)}: mean (min-max)):")
            out.append(format_sweep(rows))
    return "\n".join(out)
