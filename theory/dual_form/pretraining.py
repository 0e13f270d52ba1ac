"""Pretraining the small transformer of :mod:`theory.dual_form.gpt` on two objectives.

- ``"icl"``: in-context classification (:mod:`theory.dual_form.tasks`), the loss at every
  input position (the label that follows it), fresh tasks every step;
- ``"lm"``: language modelling of in-context Markov chains — each sequence drawn from its own
  random bigram chain over k states (the sampler of :mod:`theory.markov_icl.data`), one-hot
  tokens, the next-token loss at every position: a small language whose statistics must be
  read from the context.

Adam with the same learning rate, batch, steps and seed for every model, so that vanilla
attention (``eta = 0``) and Dai's momentum attention (``eta > 0``) meet on equal terms.  The
held-out loss is evaluated every ``every`` steps on a fixed set drawn from ``seed + 1``.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng, check_step, choice, finite_scalar, nonnegative_int, positive_int
from ..core.optim import Adam
from ..markov_icl.data import _markov_sequences
from .gpt import _backward, _forward, _model_args, _xent, init_gpt
from .icl_vs_ft import _data
from .tasks import _tokens, pretraining_batch

__all__ = ["OBJECTIVES", "DEFAULTS", "batch_for", "pretrain", "icl_accuracy"]

OBJECTIVES = ("icl", "lm")
DEFAULTS = dict(D=32, layers=2, heads=2, N=16, d=4, prior=1.5, k=3, T_lm=32, batch=64, lr=3e-3)


def _lm_batch(rng, batch, T, k):
    """``(inputs, next tokens, tokens, P)``: T one-hot inputs of sequences of T + 1 tokens, the
    token that follows each, and the sequences with their chains (for reference strategies)."""
    tokens, P = _markov_sequences(rng, batch, T + 1, k)
    return np.eye(k)[tokens[:, :-1]], tokens[:, 1:], tokens, P


def batch_for(objective: str, rng, batch: int, s: dict):
    """``(tokens, labels)`` of one training batch of ``objective`` with settings ``s``
    (keys of :data:`DEFAULTS`)."""
    objective = choice("objective", objective, OBJECTIVES)
    if objective == "icl":
        return pretraining_batch(rng, batch, s["N"], s["d"], s["prior"])
    return _lm_batch(as_rng(rng), positive_int("batch", batch), s["T_lm"], s["k"])[:2]


def pretrain(seed: int, objective: str = "icl", *, steps: int = 2000, eta: float = 0.0, every: int = 100,
             n_eval: int = 512, settings: dict | None = None):
    """``(params, curve)``: the model after ``steps`` Adam steps and its held-out loss every
    ``every`` steps (``curve``: steps (n,), loss (n,)).  ``settings`` override :data:`DEFAULTS`
    (e.g. ``{"N": 8, "D": 16}``)."""
    seed = nonnegative_int("seed", seed)
    objective = choice("objective", objective, OBJECTIVES)
    steps, every, n_eval = positive_int("steps", steps), positive_int("every", every), positive_int("n_eval", n_eval)
    eta = finite_scalar("eta", eta, nonnegative=True, below=1.0)
    settings = {} if settings is None else settings
    if not isinstance(settings, dict):
        raise ValueError(f"settings must be a dict overriding {sorted(DEFAULTS)}; got {settings!r}")
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; the settings are {sorted(DEFAULTS)}")
    s = {**DEFAULTS, **settings}
    rng = as_rng(seed)
    x_eval, y_eval = batch_for(objective, as_rng(seed + 1), n_eval, s)
    d_tok, n_out = (s["d"] + 4, 2) if objective == "icl" else (s["k"], s["k"])
    p = init_gpt(rng, d_tok, n_out, D=s["D"], layers=s["layers"], heads=s["heads"], T=x_eval.shape[1] + 1)
    opt = Adam(lr=s["lr"])
    at, loss = [], []
    for step in range(steps + 1):
        if step % every == 0 or step == steps:
            at.append(step)
            loss.append(_xent(_forward(p, x_eval, s["heads"], eta)[0], y_eval, "mean")[0])
        if step == steps:
            break
        x, y = batch_for(objective, rng, s["batch"], s)
        logits, cache = _forward(p, x, s["heads"], eta)
        value, dlogits = _xent(logits, y, "mean")
        g = _backward(dlogits, cache)
        check_step(value, g, step, s["lr"])
        p = opt.step(p, g)
    return p, dict(steps=np.array(at), loss=np.array(loss))


def icl_accuracy(params, X, y, demos=(0, 1, 2, 4, 8, 16), *, heads: int = 2, eta: float = 0.0) -> np.ndarray:
    """The accuracy on each task's last point with its first n points as demonstrations,
    for each n of ``demos``."""
    params, heads, eta = _model_args(params, heads, eta)
    X, y, _ = _data(X, y, 0)
    if isinstance(demos, (str, bytes)) or not hasattr(demos, "__len__") or not len(demos):
        raise ValueError(f"demos must be a non-empty sequence of numbers of demonstrations; got {demos!r}")
    for n in demos:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or not 0 <= n < X.shape[1]:
            raise ValueError(f"demos must hold numbers of demonstrations in [0, {X.shape[1] - 1}] (the last point "
                             f"is the query); got {demos!r}")
    out = []
    for n in demos:
        logits = _forward(params, _tokens(X, y, n, query=True), heads, eta)[0]
        out.append(float((logits[:, -1].argmax(-1) == y[:, -1]).mean()))
    return np.array(out)
