"""Training on in-context Markov chains (Edelman et al. 2024) and the stage measures.

One loop for both models: the minimal model by SGD at the authors' rates (1e-2 for W, 1 for
v, batch 128) and the two-layer transformer by AdamW at theirs (lr 5e-4, betas (0.9, 0.95),
weight decay 0.1 on the matrices Q, K, V, O and the unembedding, batch 64), each step on fresh
sequences of T + 1 tokens.  Every ``eval_every`` steps, on one fixed held-out set: the loss
against the true next-token law ``P[x_t, :]`` (the paper's test loss), the KL from each strategy
to the model (the paper's stage measure), and the mechanism — for the transformer layer 1's
attention to the previous token and layer 2's attention to the positions that follow an
earlier occurrence of the current token; for the minimal model the weight of offset 1 and W's
diagonal minus its off-diagonal.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..core._validate import choice, finite_scalar, nonnegative_int, positive_int
from ..core.heap import prime_heap
from ..core.nn import _logsumexp
from ..core.optim import SGD, Adam
from ..core.parallel import batch_parallel, batch_threads
from .data import _markov_sequences, markov_sequences
from .minimal_model import MASKS, _minimal_forward, _minimal_loss, _offset_attention, init_minimal
from .strategies import _distance, bigram_strategy, unigram_strategy, uniform_strategy
from .transformer import _transformer_forward, _transformer_loss, init_transformer

__all__ = ["MarkovConfig", "STRATEGIES", "train_markov", "stage_summary"]

STRATEGIES = ("uniform", "unigram", "bigram")
DECAYED = ("Wq", "Wk", "Wv", "Wo", "W_U")


@dataclass(frozen=True)
class MarkovConfig:
    """A training run; the defaults are the authors' transformer settings (k = 2 tokens,
    T = 100 predicted positions, width 16, one head in each layer, 2,000 steps of 64)."""
    model: str = "transformer"          # or "minimal"
    k: int = 2
    T: int = 100
    batch: int = 64
    steps: int = 2000
    lr: float = 5e-4                    # AdamW (transformer) or SGD on W (minimal: 1e-2)
    lr_v: float = 1.0                   # minimal model: SGD on v
    betas: tuple = (0.9, 0.95)
    weight_decay: float = 0.1
    d: int = 16
    heads: int = 1
    mask: str = "causal"                # minimal model: "causal" or the authors' unmasked layer 1
    eval_every: int = 50
    n_eval: int = 256
    seed: int = 0
    threads: int = 1                    # transformer: split each batch over this many threads

    def __post_init__(self):
        choice("model", self.model, ("transformer", "minimal"))
        choice("mask", self.mask, MASKS)
        for name in ("k", "T", "batch", "steps", "d", "heads", "eval_every", "n_eval", "threads"):
            positive_int(name, getattr(self, name))
        if self.k < 2 or self.T < 2:
            raise ValueError(f"k and T must be at least 2; got k = {self.k}, T = {self.T}")
        finite_scalar("lr", self.lr, positive=True)
        finite_scalar("lr_v", self.lr_v, positive=True)
        finite_scalar("weight_decay", self.weight_decay, nonnegative=True)
        if not (isinstance(self.betas, tuple) and len(self.betas) == 2):
            raise ValueError(f"betas must be a pair; got {self.betas!r}")
        for b in self.betas:
            finite_scalar("betas", b, nonnegative=True, below=1.0)
        nonnegative_int("seed", self.seed)


def _measures(config, params, x, P, strategies):
    """The held-out measures of the module docstring."""
    if config.model == "transformer":
        logits, cache = _transformer_forward(params, x, config.heads)
    else:
        logits, cache = _minimal_forward(params, x[:, :-1], config.mask)
    logp = logits - _logsumexp(logits, -1)
    inputs = x[:, :-1]
    true = P[np.arange(len(x))[:, None], inputs]                           # P[x_t, :]
    out = {"loss": float(-(true * logp).sum(-1).mean()),
           **{f"kl_{n}": float(_distance(q, logits).mean()) for n, q in strategies.items()}}
    T = inputs.shape[1]
    if config.model == "transformer":
        A1, A2 = cache.layer1.A, cache.layer2.A[:, 0]                             # (B, H, T, T), (B, T, T)
        out["previous_token"] = float(max(np.diagonal(A1[:, h], -1, axis1=1, axis2=2).mean() for h in range(A1.shape[1])))
        follows = np.zeros_like(A2, dtype=bool)                            # j ≥ 1 with x_{j−1} = x_t
        follows[:, :, 1:] = inputs[:, :, None] == inputs[:, None, :-1]
        follows &= np.tril(np.ones((T, T), bool))[None]
        out["induction"] = float((A2 * follows).sum(-1)[:, T // 2:].mean())   # the mass on those, second half
        out["induction_chance"] = float((follows.sum(-1) / np.arange(1, T + 1))[:, T // 2:].mean())  # uniform attention
    else:
        A = _offset_attention(params["v"], T, config.mask)
        out["previous_token"] = float(np.diagonal(A, -1).mean())
        W = params["W"]
        out["w_diag_minus_off"] = float(np.diag(W).mean() - (W.sum() - np.trace(W)) / (W.size - len(W)))
    return out


def train_markov(config: MarkovConfig) -> dict:
    """Train one model; returns ``{"config", "steps", "curves", "strategies", "final"}`` where
    ``curves`` holds every measure at each evaluation, ``strategies`` each strategy's loss against
    the true law on the held-out set, and ``final`` the attention maps (transformer) or the
    parameters (minimal model) at the end."""
    if not isinstance(config, MarkovConfig):
        raise ValueError(f"config must be a MarkovConfig; got {type(config).__name__}")
    c = config
    prime_heap()                                            # steps reuse heap pages (theory/core/heap.py)
    rng = np.random.default_rng(c.seed)
    x_eval, P_eval = markov_sequences(np.random.default_rng(c.seed + 10 ** 6), c.n_eval, c.T + 1, c.k)
    strategies = {n: f(x_eval[:, :-1], c.k) for n, f in zip(STRATEGIES, (uniform_strategy, unigram_strategy,
                                                                         bigram_strategy))}
    true = P_eval[np.arange(c.n_eval)[:, None], x_eval[:, :-1]]
    strategy_loss = {n: float(-(true * np.log(q)).sum(-1).mean()) for n, q in strategies.items()}
    if c.model == "transformer":
        params = init_transformer(rng, c.k, c.T, c.d, c.heads)
        dec = [n for n in params if n.split(".")[-1] in DECAYED]
        opts = (Adam(c.lr, *c.betas, weight_decay=c.weight_decay), Adam(c.lr, *c.betas),
                dec, [n for n in params if n not in dec])
    else:
        params = init_minimal(c.T + 1, c.k)
        opts = (SGD(c.lr), SGD(c.lr_v))
    steps, curves = [], {}
    with batch_threads(c.threads if c.model == "transformer" else 1) as pool:
        for step in range(c.steps + 1):
            if step % c.eval_every == 0 or step == c.steps:
                steps.append(step)
                for key, v in _measures(c, params, x_eval, P_eval, strategies).items():
                    curves.setdefault(key, []).append(v)
            if step == c.steps:
                break
            params = _step(c, params, rng, pool, opts)
    if c.model == "transformer":
        _, cache = _transformer_forward(params, x_eval, c.heads)
        final = {"layer1": cache.layer1.A.mean(0)[:, :24, :24].tolist(), "layer2": cache.layer2.A.mean(0)[0, :24, :24].tolist()}
    else:
        final = {"v": params["v"][:12].tolist(), "W": params["W"].tolist()}
    return {"config": asdict(c), "steps": steps, "curves": curves, "strategies": strategy_loss, "final": final}


def _step(c, params, rng, pool, opts):
    """One training step on a fresh batch.  The transformer: AdamW in two groups (``opts``:
    the two optimizers, the decayed names, the other names), the batch split over the threads
    of ``pool`` if there is one.  The minimal model: SGD on W and on v."""
    x, _ = _markov_sequences(rng, c.batch, c.T + 1, c.k)
    if c.model == "transformer":
        _, g = batch_parallel(lambda xs: _transformer_loss(params, xs, c.heads), (x,), pool, c.threads)
        dec, rest = opts[2], opts[3]
        return {**opts[0].step({n: params[n] for n in dec}, {n: g[n] for n in dec}),
                **opts[1].step({n: params[n] for n in rest}, {n: g[n] for n in rest})}
    _, g = _minimal_loss(params, x, c.mask)
    return {"W": opts[0].step({"W": params["W"]}, {"W": g["W"]})["W"],
            "v": opts[1].step({"v": params["v"]}, {"v": g["v"]})["v"]}


def stage_summary(run: dict) -> dict:
    """Per run: the first evaluation where unigram is the nearest strategy (``unigram_from``),
    the first from which bigram stays the nearest to the end (``bigram_from``), whether unigram
    came first, and the final loss's excess over the bigram strategy's."""
    if not (isinstance(run, dict) and {"steps", "curves", "strategies"} <= set(run)
            and all(f"kl_{n}" in run["curves"] for n in STRATEGIES) and "loss" in run["curves"]):
        raise ValueError(f"run must be a result of train_markov; got {run!r:.80}")
    steps, cur = run["steps"], run["curves"]
    kl = np.array([cur[f"kl_{n}"] for n in STRATEGIES])                   # (3, evals)
    nearest = kl.argmin(0)
    uni = [s for s, n in zip(steps, nearest) if n == 1]
    bigram_from = None
    for i in range(len(steps)):
        if np.all(nearest[i:] == 2):
            bigram_from = steps[i]
            break
    unigram_from = uni[0] if uni else None
    return {"unigram_from": unigram_from, "bigram_from": bigram_from,
            "unigram_first": unigram_from is not None and (bigram_from is None or unigram_from < bigram_from),
            "final_loss": cur["loss"][-1], "excess_over_bigram": cur["loss"][-1] - run["strategies"]["bigram"]}
