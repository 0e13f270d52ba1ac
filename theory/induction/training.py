"""Reddy 2024 (ICLR), arXiv 2312.03002: training the full network and the two-parameter
model on bursty item-label sequences with one SGD loop, and sweeps over the data
parameters.

The models: the full network in :mod:`theory.induction.network`, the two-parameter head
in :mod:`theory.induction.two_param` (the three-parameter model, which GD runs directly,
is in :mod:`theory.induction.three_param`); the data sampler in
:mod:`theory.induction.data`.  Every model reaches the loop as a :class:`Model` record of
its unchecked kernels.  The reproduction report is in :mod:`theory.induction.reproduction`,
the runs at the paper's widths in :mod:`theory.induction.paper`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..core.heap import prime_heap
from ..core._validate import check_step, choice, executor as _executor, finite_scalar, function, nonnegative_int, positive_int, probability
from ..core.optim import SGD
from .data import SAMPLERS, _item_label_sequences, check_burstiness, item_label_classes, item_label_sequences
from .network import (INITS, _classifier_activity, _context_label_accuracy, _network_attention, _network_forward,
                      _embed, _network_hidden, _network_loss, _progress_measures, init_network)
from .two_param import _two_param_forward, _two_param_loss, init_two_param

__all__ = ["NetworkConfig", "Model", "NETWORK", "TWO_PARAM", "NetworkRun", "train_network", "sweep",
           "format_sweep", "TWO_PARAM_QUICK_CONFIG", "TWO_PARAM_GRID"]


# --------------------------------------------------------------------------- one loop for every model
@dataclass(frozen=True)
class NetworkConfig:
    """Data and training settings (defaults: Reddy 2024 / the author's code, see docs/papers.md)."""
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
    dtype: str = "float64"          # "float32": the training run in single precision (≈ 2× faster)
    sampler: str = "fresh"          # "author": novel classes and bursty contexts as Reddy's code draws them
    init: str = "package"           # "author": Reddy's code's initialisation (the full network only)

    def __post_init__(self):
        choice("dtype", self.dtype, ("float64", "float32"))
        choice("sampler", self.sampler, SAMPLERS)
        choice("init", self.init, INITS)
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
    hidden: Callable       # cache -> (S, h) the classifier's last ReLU layer

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string; got {self.name!r}")
        for field_name in ("init", "inputs", "forward", "loss", "attention", "hidden"):
            function(field_name, getattr(self, field_name))


def _network_init(rng, cfg):
    return init_network(rng, cfg.n_positions + cfg.D, cfg.L, init=cfg.init, content_dim=cfg.D)


def _network_inputs(content, rng, cfg):
    return _embed(content, rng, cfg.n_positions)


# The training loop validates its configuration once and then calls the unchecked kernels.
NETWORK = Model("full network", _network_init, _network_inputs, _network_forward, _network_loss,
                _network_attention, _network_hidden)


_CURVES = ("icl", "swapped", "iwl", "prev_token", "match_label")
# absent from records made before they existed: CLA and TLA2; the classifier's last ReLU layer
# (classifier_activity) and its scalar biases
_NEW_CURVES = ("context_label", "label_attention", "relu_active", "relu_dead", "relu_silent", "b1", "b2", "b3")


@dataclass
class NetworkRun:
    """Accuracies and progress measures at every evaluation."""
    config: NetworkConfig
    steps: np.ndarray              # (E,) iterations evaluated
    icl: np.ndarray                # (E,) accuracy on novel-class bursty sequences
    swapped: np.ndarray            # (E,) accuracy with every context label shifted by one
    iwl: np.ndarray                # (E,) accuracy on i.i.d. sequences of trained classes
    prev_token: np.ndarray         # (E,) layer-1 label → previous item attention (ILA1)
    match_label: np.ndarray        # (E,) layer-2 target → matching labels attention (TILA2)
    loss: np.ndarray               # (steps,) training loss
    seconds: float
    model: str = NETWORK.name
    context_label: np.ndarray | None = None    # (E,) CLA on the ICL set: predicts a context label
    label_attention: np.ndarray | None = None  # (E,) layer-2 target → all labels attention (TLA2)
    relu_active: np.ndarray | None = None      # (E,) last ReLU layer on the ICL set: outputs above 0
    relu_dead: np.ndarray | None = None        # (E,) ... units at 0 on every sequence
    relu_silent: np.ndarray | None = None      # (E,) ... sequences with every unit at 0
    b1: np.ndarray | None = None               # (E,) the classifier's scalar biases
    b2: np.ndarray | None = None
    b3: np.ndarray | None = None

    def curves(self) -> tuple:
        """The names of the per-evaluation curves this run holds."""
        return _CURVES + tuple(k for k in _NEW_CURVES if getattr(self, k) is not None)

    def to_dict(self, with_loss: bool = True) -> dict:
        """Plain values for a run record (``with_loss``: keep the per-step training loss)."""
        from dataclasses import asdict
        out = {k: getattr(self, k) for k in ("steps",) + self.curves() + ("seconds", "model")}
        return dict(out, config=asdict(self.config), loss=self.loss if with_loss else [])

    @classmethod
    def from_dict(cls, d: dict) -> "NetworkRun":
        """The run a record holds (the inverse of :meth:`to_dict`).  Records made before
        a curve was measured (the context-label accuracy, the label attention, the
        classifier's activity and biases) give None for it."""
        if not isinstance(d, dict) or "config" not in d:
            raise ValueError(f"d must be a dict made by NetworkRun.to_dict; got {type(d).__name__}")
        arr = {k: np.asarray(d[k], dtype=float) for k in _CURVES + ("loss",)}
        new = {k: np.asarray(d[k], dtype=float) for k in _NEW_CURVES if k in d}
        return cls(NetworkConfig(**d["config"]), np.asarray(d["steps"], dtype=int), arr["icl"], arr["swapped"],
                   arr["iwl"], arr["prev_token"], arr["match_label"], arr["loss"], float(d["seconds"]), d["model"],
                   **new)

    def jump(self, curve: str = "icl"):
        """``(iteration, width)`` of the rise of a curve: where it first passes halfway
        from its starting value to its final value, and the iterations from 10 % to 90 %
        of that rise; None if it rose by less than 0.2."""
        y = getattr(self, choice("curve", curve, self.curves()))
        lo, hi = float(y[0]), float(y[-1])
        if hi - lo < 0.2:
            return None
        at = lambda f: int(self.steps[np.argmax(y >= lo + f * (hi - lo))])
        return at(0.5), at(0.9) - at(0.1)


def _eval_sets(classes, cfg, rng):
    B_eval = cfg.B if cfg.B else 1
    common = dict(eps=cfg.eps, sampler=cfg.sampler)
    return {
        "icl": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=B_eval, p_bursty=1.0, p_novel=1.0, **common),
        "swapped": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=B_eval, p_bursty=1.0,
                                        shift_labels=True, alpha=cfg.alpha, **common),
        "iwl": item_label_sequences(rng, classes, cfg.n_eval, cfg.N, B=0, alpha=cfg.alpha, **common),
    }


def train_network(cfg: NetworkConfig, progress=None, model: Model = NETWORK) -> NetworkRun:
    """Plain SGD with decoupled weight decay on fresh batches (Reddy 2024, Sec. 2);
    ``model`` is the full network by default.  ``progress(message)`` is told each
    evaluation.  A non-finite loss stops the run with :class:`theory.core.Diverged`
    naming the step and the learning rate."""
    if not isinstance(cfg, NetworkConfig):
        raise ValueError(f"cfg must be a NetworkConfig; got {type(cfg).__name__}")
    if not isinstance(model, Model):
        raise ValueError(f"model must be a Model (e.g. NETWORK); got {type(model).__name__}")
    progress = function("progress", progress, optional=True)
    prime_heap()                                            # steps reuse heap pages (theory/core/heap.py)
    rng = np.random.default_rng(cfg.seed)
    dt = np.dtype(cfg.dtype)                                # float32: same draws, single-precision arithmetic
    classes = item_label_classes(rng, cfg.K, cfg.L, cfg.D)
    evals = {k: (model.inputs(b.content, rng, cfg).astype(dt, copy=False), b)
             for k, b in _eval_sets(classes, cfg, rng).items()}
    params = {k: v.astype(dt, copy=False) for k, v in model.init(rng, cfg).items()}
    opt = SGD(lr=cfg.lr, weight_decay=cfg.weight_decay)
    rec = {k: [] for k in ("steps",) + _CURVES + _NEW_CURVES}
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
                    m.update(_classifier_activity(model.hidden(cache)))
                    rec["context_label"].append(_context_label_accuracy(logits, b))
            for k in ("prev_token", "match_label", "label_attention", "relu_active", "relu_dead", "relu_silent"):
                rec[k].append(m[k])
            for k in ("b1", "b2", "b3"):
                rec[k].append(float(params[k][0]))
            if progress is not None:
                progress(f"step {step:7d}  ICL {rec['icl'][-1]:.3f}  swapped {rec['swapped'][-1]:.3f}  "
                         f"IWL {rec['iwl'][-1]:.3f}  context-label {rec['context_label'][-1]:.3f}  "
                         f"prev-token {m['prev_token']:.3f}  match-label {m['match_label']:.3f}  "
                         f"({time.perf_counter() - start:.0f} s)")
        if step == cfg.steps:
            break
        b = _item_label_sequences(rng, classes, cfg.batch, cfg.N, cfg.B, cfg.eps, cfg.alpha, cfg.p_bursty,
                                  cfg.p_novel, False, cfg.sampler)
        loss, grads, _ = model.loss(params, model.inputs(b.content, rng, cfg).astype(dt, copy=False), b.target)
        losses[step] = check_step(loss, grads, step, cfg.lr)
        params = opt.step(params, grads)
    arr = {k: np.array(v) for k, v in rec.items()}
    return NetworkRun(cfg, arr["steps"], arr["icl"], arr["swapped"], arr["iwl"], arr["prev_token"],
                      arr["match_label"], losses, time.perf_counter() - start, model.name,
                      **{k: arr[k] for k in _NEW_CURVES})


def _train_quietly(cfg: NetworkConfig, model: Model) -> NetworkRun:
    return train_network(cfg, model=model)


def sweep(base: NetworkConfig, grid: dict, *, seeds: int = 1, model: Model = NETWORK,
          executor=None, progress=None) -> list:
    """One-at-a-time sweep: for each ``name -> values`` in ``grid``, train ``base`` with
    that one field changed, with seeds ``base.seed, ..., base.seed + seeds - 1``.
    Returns ``[(name, value, [NetworkRun per seed]), ...]``.  ``executor`` (any
    ``concurrent.futures.Executor``) trains the runs in parallel."""
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


# --------------------------------------------------------------------------- the two-parameter model in the loop
def _two_param_init(rng, cfg):
    if cfg.init != "package":
        raise ValueError(f"init must be 'package' for the two-parameter model (init={cfg.init!r} is the full "
                         "network's initialisation in the author's code)")
    return init_two_param(rng, cfg.D, cfg.L)


def _two_param_inputs(content, rng, cfg):
    return content                                          # no positions: layer 1 is fixed-form


def _two_param_attention(cache):
    return cache.P1[None], cache.P2                         # (1, T, T), (S, T)


def _two_param_hidden(cache):
    return cache.classifier.u                               # (S, h) the classifier's last ReLU layer


TWO_PARAM = Model("two-parameter model", _two_param_init, _two_param_inputs, _two_param_forward, _two_param_loss,
                  _two_param_attention, _two_param_hidden)


# A CI-sized configuration (about 2 s on one core): 16 labels, 4 context pairs of 2
# classes (B = 2), 512 classes of width 15.  ICL on novel classes jumps from ≈ 0.07 to
# ≈ 0.99 around step 600 (half-way between steps 450 and 1,000 over seeds 0-23; final
# ICL 0.973-1.0).
TWO_PARAM_QUICK_CONFIG = NetworkConfig(K=512, L=16, N=4, D=15, B=2, lr=0.1, steps=1500, eval_every=50,
                                       n_eval=300)


# The one-at-a-time grid of the reproduction (around B = 4, K = 256, ε = 0.1, α = 0): the
# full network's grid and, since a run takes seconds, the paper's wider ranges of K, ε, α.
TWO_PARAM_GRID = {"B": [0, 1, 2, 4], "K": [64, 128, 512, 1024], "eps": [0.0, 0.4, 1.6, 6.4],
                  "alpha": [0.5, 1.0, 1.5]}


