"""Dai et al.'s protocol: in-context learning against finetuning on the same demonstrations.

For each test task (its first n points the demonstrations, its last point the query):

- **ZS**: the pretrained model on the zero-shot prompt ``[BOS, x_q]``;
- **ICL**: the same model on ``[BOS, x₁, y₁, …, x_n, y_n, x_q]``;
- **FT**: the zero-shot model finetuned on the demonstrations, each in the zero-shot template
  (``[BOS, x_i]`` → y_i), by plain SGD with batch size 1, one pass in their order, updating
  only ``W_K`` and ``W_V`` of every layer (the authors' ``optim_group=attn_kv``,
  ``--optimizer sgd --max-epoch 1``, the loss summed over the answer), then run on the
  zero-shot prompt.  The learning rate is the one of a grid with the best FT accuracy on
  held-out tasks (:func:`choose_lr`).

What is recorded is what the authors' analysis records (:mod:`theory.dual_form.gpt`): at the
last position, each layer's attention output ``O`` (after ``W_O``) and the scores ``S``
before the softmax over the zero-shot prompt's positions (BOS and the query; in the ICL
prompt those are its first and last positions — the authors insert the demonstrations' keys
and values right after BOS).  :func:`compare` turns them into the three metrics of
:mod:`theory.dual_form.similarity` with their baselines.

The finetuning of the test tasks is batched: every task gets its own copy of the updated
matrices (shape (n_tasks, D, D)), so the loop runs over the n demonstrations, not the tasks.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, finite_scalar, integer_array, nonnegative_int
from . import similarity as sim
from .gpt import WEIGHTS, _backward, _forward, _model_args, _n_layers, _xent
from .tasks import _tokens

__all__ = ["KV", "finetune", "probe", "choose_lr", "run_protocol", "compare", "metrics", "LR_GRID"]

KV = ("W_K", "W_V")                         # what the paper finetunes
LR_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def _keys(keys) -> tuple:
    if isinstance(keys, str) or not hasattr(keys, "__iter__"):
        raise ValueError(f"keys must be a sequence of names among {WEIGHTS}; got {keys!r}")
    keys = tuple(keys)
    if not keys or any(k not in WEIGHTS for k in keys) or len(set(keys)) != len(keys):
        raise ValueError(f"keys must be distinct names among {WEIGHTS}; got {keys!r}")
    return keys


def _data(X, y, n_demos):
    X = array("X", X, ndim=3)
    y = integer_array("y", y, shape=X.shape[:2], low=0, high=2)
    n_demos = nonnegative_int("n_demos", n_demos)
    if n_demos > X.shape[1] - 1:
        raise ValueError(f"n_demos = {n_demos} needs {n_demos + 1} points a task; X has {X.shape[1]}")
    return X, y, n_demos


def _finetune(params, X, y, n_demos, lr, keys, heads, eta):
    n = X.shape[0]
    q = dict(params)
    names = [f"l{l}.{k}" for l in range(1, _n_layers(params) + 1) for k in keys]
    for name in names:                                             # one copy per task
        q[name] = np.repeat(params[name][None], n, axis=0)
    labels = np.full((n, 2), -1, dtype=np.int64)
    for i in range(n_demos):                                       # one pass, in order, batch 1
        tok = _tokens(X[:, i:i + 1], y[:, i:i + 1], 0, query=True)  # [BOS, x_i]
        labels[:, 1] = y[:, i]                                     # → y_i
        logits, cache = _forward(q, tok, heads, eta)
        _, dlogits = _xent(logits, labels, "sum")                  # each task's own loss
        g = _backward(dlogits, cache)
        for name in names:
            q[name] = q[name] - lr * g[name]                       # W ← W − lr ∂L_i/∂W
    return q


def finetune(params, X, y, n_demos: int, lr: float, *, keys=KV, heads: int = 2, eta: float = 0.0) -> dict:
    """The parameters after finetuning on each task's first ``n_demos`` points (one copy of
    the ``keys`` matrices per task, shape (n_tasks, D, D); the rest shared)."""
    params, heads, eta = _model_args(params, heads, eta)
    X, y, n_demos = _data(X, y, n_demos)
    lr = finite_scalar("lr", lr, positive=True)
    return _finetune(params, X, y, n_demos, lr, _keys(keys), heads, eta)


def _probe(params, tok, heads, eta):
    logits, cache = _forward(params, tok, heads, eta)
    out = np.stack([c.O[:, -1] for c in cache.layers], axis=1)              # (n, L, D)
    scores = np.stack([c.S[:, :, -1, [0, -1]] for c in cache.layers], axis=1)  # (n, L, H, 2)
    return logits[:, -1].argmax(-1), out, scores


def probe(params, tokens, *, heads: int = 2, eta: float = 0.0):
    """``(prediction (n,), attention output at the last position (n, L, D), its scores over
    the zero-shot positions — first and last — (n, L, H, 2))``."""
    tokens = array("tokens", tokens, ndim=3)
    params, heads, eta = _model_args(params, heads, eta, tokens, "tokens")
    return _probe(params, tokens, heads, eta)


def _ft_accuracy(params, X, y, n_demos, lr, keys, heads, eta):
    q = _finetune(params, X, y, n_demos, lr, keys, heads, eta)
    pred = _probe(q, _tokens(X, y, 0, query=True), heads, eta)[0]
    return float((pred == y[:, -1]).mean())


def choose_lr(params, X, y, n_demos: int, *, grid=LR_GRID, keys=KV, heads: int = 2, eta: float = 0.0):
    """``(lr, accuracies)``: the learning rate of ``grid`` whose finetuning is most accurate on
    these (held-out) tasks, the smallest among ties, and the accuracy at each."""
    params, heads, eta = _model_args(params, heads, eta)
    X, y, n_demos = _data(X, y, n_demos)
    if isinstance(grid, (str, bytes)) or not hasattr(grid, "__len__") or not len(grid):
        raise ValueError(f"grid must be a non-empty sequence of learning rates; got {grid!r}")
    grid = tuple(finite_scalar("grid", g, positive=True) for g in grid)
    keys = _keys(keys)
    acc = [_ft_accuracy(params, X, y, n_demos, lr, keys, heads, eta) for lr in grid]
    best = max(range(len(grid)), key=lambda i: (acc[i], -grid[i]))
    return grid[best], acc


def run_protocol(params, X, y, n_demos: int, lr: float, *, keys=KV, heads: int = 2, eta: float = 0.0) -> dict:
    """What the authors' analysis records, for each test task: ``{"truth": (n,), "zs", "icl",
    "ft": (prediction (n,), attention output at the last position (n, L, D), its scores over
    the zero-shot positions (n, L, H, 2))}`` — the three settings of their ``run.sh``
    (``zs``, ``icl``, ``ftzs``)."""
    params, heads, eta = _model_args(params, heads, eta)
    q = finetune(params, X, y, n_demos, lr, keys=keys, heads=heads, eta=eta)
    X, y, n_demos = _data(X, y, n_demos)
    zs_tok, icl_tok = _tokens(X, y, 0, query=True), _tokens(X, y, n_demos, query=True)
    return dict(truth=y[:, -1], zs=_probe(params, zs_tok, heads, eta), icl=_probe(params, icl_tok, heads, eta),
                ft=_probe(q, zs_tok, heads, eta))


def compare(params, X, y, n_demos: int, lr: float, *, keys=KV, heads: int = 2, eta: float = 0.0, rng=0) -> dict:
    """The paper's comparison on these tasks: accuracies of ZS, ICL and FT; Rec2FTP (None
    where finetuning corrects nothing); per layer SimAOU, its random baselines (uniform as
    the authors', gaussian), SimAM and ZSL SimAM; and the same SimAOU/SimAM on the F2T
    examples only (None where there are none)."""
    out = run_protocol(params, X, y, n_demos, lr, keys=keys, heads=heads, eta=eta)
    return metrics(out, as_rng(rng))


def metrics(outputs: dict, rng=0) -> dict:
    """The metrics of :func:`compare` from the outputs of :func:`run_protocol`."""
    if not isinstance(outputs, dict) or set(outputs) != {"truth", "zs", "icl", "ft"}:
        raise ValueError(f"outputs must be the dict of run_protocol (truth, zs, icl, ft); got {outputs!r:.80}")
    rng = as_rng(rng)
    truth = outputs["truth"]
    (p_zs, h_zs, s_zs), (p_icl, h_icl, s_icl), (p_ft, h_ft, s_ft) = (outputs[k] for k in ("zs", "icl", "ft"))
    zs, icl, ft = p_zs == truth, p_icl == truth, p_ft == truth
    fixed = ~zs & ft
    f2t = sim.f2t_mask(zs, icl, ft)
    am, zsl_am = sim.sim_am(s_zs, s_icl, s_ft)
    out = dict(acc_zs=zs.mean(), acc_icl=icl.mean(), acc_ft=ft.mean(), n_tasks=len(truth),
               n_fixed_by_ft=int(fixed.sum()), n_f2t=int(f2t.sum()),
               rec2ftp=sim.rec2ftp(zs, icl, ft) if fixed.any() else None,
               sim_aou=sim.sim_aou(h_zs, h_icl, h_ft),
               random_uniform=sim.random_sim_aou(h_zs, h_icl, rng, "uniform"),
               random_gaussian=sim.random_sim_aou(h_zs, h_icl, rng, "gaussian"),
               sim_am=am, zsl_sim_am=zsl_am,
               # the model's own agreement: does ICL predict what FT predicts?
               agree_icl_ft=float((p_icl == p_ft).mean()), agree_icl_zs=float((p_icl == p_zs).mean()))
    if f2t.any():
        out.update(f2t_sim_aou=sim.sim_aou(h_zs[f2t], h_icl[f2t], h_ft[f2t]),
                   f2t_sim_am=sim.sim_am(s_zs[f2t], s_icl[f2t], s_ft[f2t])[0])
    else:
        out.update(f2t_sim_aou=None, f2t_sim_am=None)
    return out
