"""von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers": the
training of Secs. 3–4 at CPU scale, on the constructed tokens of
:func:`theory.mesa.attention.tokens`, and the baselines the trained models are set beside.

**Depth.**  Causal linear-attention transformers (no MLP, no layer norm, residual
stream clipped to ±4 after each layer, as in the authors' code) with 1, 2 and 4 layers
are trained on fresh linear-dynamics batches; their per-position test loss
``Σ_b ||s_{t+1} − ŝ_{t+1}||² / (2B)`` is compared with: predicting 0, one GD step on
``L_t`` with the best η (grid search on training data), the ridge least-squares
predictor (the mesa-layer, best λ on training data), and the true W*.

Training follows the authors' constructed-token runs (docs/papers.md, "von Oswald et al.
2023b"): AdamW with learning rate 1e-4 and weight decay 0.1 after element-wise gradient
clipping at 1, init std 2e-4, batch 256, key size 20; single-layer runs zero the copy of
s_t in block 1.  Reverse-engineering and probes are in :mod:`theory.mesa.analysis`, the
whole experiment in :mod:`theory.mesa.reproduction`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..core.heap import prime_heap
from ..core._validate import array, as_rng, choice, finite_result, finite_scalar, flag, function, nonnegative_int, positive_int
from ..core.optim import Adam, clip_by_value, warmup_cosine
from ..core.parallel import batch_parallel, batch_threads
from .attention import HEAD_KEYS, _next_state_loss, gd_prediction, init_layer, residual_streams, tokens
from .data import LinearDynamics, _linear_dynamics
from .layer import ridge_predictions
from .raw import _copy_backward, _copy_forward, copy_layer_forward, init_copy_layer, raw_tokens

__all__ = ["MesaConfig", "SCHEDULES", "DEPTH", "REVALG", "RAW", "ETA_GRID", "C_GRID", "LAM_GRID", "AUTHOR_ETA", "PAIRS", "quick_config",
           "model_tokens", "model_streams", "train", "predict", "position_losses", "best_gd", "best_c", "best_ridge", "baselines"]


SCHEDULES = ("constant", "warmup_cosine")


@dataclass(frozen=True)
class MesaConfig:
    """One training run.  Defaults: the authors' constructed-token settings (the paper
    trains 5,000 steps at 1–2 layers, 10,000 at 4); :data:`DEPTH` runs them at CPU scale."""
    layers: int = 2
    heads: int = 4
    key_size: int = 20
    steps: int = 5000
    batch: int = 256
    lr: float = 1e-4
    weight_decay: float = 0.1
    grad_clip: float = 1.0          # element-wise (optax.clip)
    resid_clip: float = 4.0         # residual stream clipped to [-4, 4] after each layer
    init_scale: float = 2e-4
    mask_copy: bool = False         # zero block 1 (the copy of s_t): the authors' 1-layer runs
    raw: bool = False               # raw tokens (0, s_t, 0, 0) and a softmax copy layer first (theory.mesa.raw)
    D: int = 10
    T: int = 51                     # states a sequence: 50 inputs, 50 targets, as the authors' code
    sigma: float = 0.01
    seed: int = 0
    threads: int = 1                # split each batch over this many threads (see train)
    schedule: str = "constant"      # or "warmup_cosine": the authors' optax schedule (theory.core.optim.warmup_cosine)
    warmup: int = 1000              # warm-up steps of "warmup_cosine" (the authors' config: 1,000)
    end_lr: float = 1e-5            # the rate "warmup_cosine" decays to at the last step (the authors': 1e-5)

    def __post_init__(self):
        for name in ("layers", "heads", "key_size", "steps", "batch", "D", "threads"):
            positive_int(name, getattr(self, name))
        if positive_int("T", self.T) < 2:
            raise ValueError(f"T must be >= 2 (a sequence needs a transition); got {self.T}")
        for name in ("lr", "grad_clip", "resid_clip", "init_scale"):
            finite_scalar(name, getattr(self, name), positive=True)
        finite_scalar("weight_decay", self.weight_decay, nonnegative=True)
        finite_scalar("sigma", self.sigma, nonnegative=True)
        flag("mask_copy", self.mask_copy)
        if flag("raw", self.raw) and self.mask_copy:
            raise ValueError("raw and mask_copy exclude each other: raw tokens have no copy of s_t to zero")
        nonnegative_int("seed", self.seed)
        choice("schedule", self.schedule, SCHEDULES)
        finite_scalar("end_lr", self.end_lr, nonnegative=True)
        if nonnegative_int("warmup", self.warmup) >= self.steps and self.schedule != "constant":
            raise ValueError(f"warmup must be < steps with a warm-up schedule; got warmup {self.warmup}, steps {self.steps}")


# CPU scale: batch 64 and learning rate 1e-3 (the authors: 256 and 1e-4 with 5,000-10,000 steps),
# 4,000 steps each, so that the whole reproduction fits in 10 minutes on two cores
# and the authors' warm-up + cosine schedule (warm-up 400 = 10 %): with a constant rate the final
# loss of the deeper models varied 0.24-0.53 between runs that differ only in round-off
_CPU = dict(batch=64, lr=1e-3, steps=4000, schedule="warmup_cosine", warmup=400)
DEPTH = (MesaConfig(layers=1, heads=2, mask_copy=True, seed=1, **_CPU),   # also RevAlg-1's model
         MesaConfig(layers=2, seed=2, **_CPU),
         MesaConfig(layers=4, seed=4, **_CPU))
REVALG = DEPTH[0]
RAW = MesaConfig(layers=2, raw=True, seed=3, **_CPU)   # raw tokens: a copy layer, then as DEPTH[1]


def _config(config):
    if not isinstance(config, MesaConfig):
        raise ValueError(f"config must be a MesaConfig; got {type(config).__name__}")
    return config


def _states(config, S, name="S"):
    return array(name, S, shape=(None, None, config.D))


def quick_config(config: MesaConfig) -> MesaConfig:
    """The same run at CI scale: 100 steps (warm-up 10), batch 32, T = 20, D = 4, key size 8, lr 3e-3."""
    config = _config(config)
    return MesaConfig(**{**asdict(config), "steps": 100, "batch": 32, "T": 20, "D": 4, "key_size": 8,
                         "lr": 3e-3, "warmup": 10})


@finite_result
def model_tokens(config: MesaConfig, S) -> np.ndarray:
    """The tokens the model reads: constructed (block 1 zeroed if ``mask_copy``) or, if
    ``raw``, :func:`theory.mesa.raw.raw_tokens`."""
    config = _config(config)
    if config.raw:
        return raw_tokens(_states(config, S))
    E = tokens(_states(config, S))
    if config.mask_copy:
        D = S.shape[2]
        E[:, :, D:2 * D] = 0.0
    return E


def _flat(layers):
    return {f"{k}{i}": v for i, p in enumerate(layers) for k, v in p.items()}


def _unflat(flat, n):
    return [{k: flat[f"{k}{i}"] for k in HEAD_KEYS} for i in range(n)]


def _raw_loss(layers, S, E, clip):
    """:func:`theory.mesa.next_state_loss` with the copy layer (``layers[0]``) first."""
    E1, cache = _copy_forward(E, layers[0])
    passed, E1 = np.abs(E1) < clip, np.clip(E1, -clip, clip)      # MesaConfig always clips
    loss, grads, dE1 = _next_state_loss(layers[1:], S, E1, clip, input_grad=True)
    g0 = _copy_backward(dE1 * passed, cache)[1]
    return loss, [g0] + grads


def _batch_parallel_loss(config, layers, S, E, pool, chunks):
    """:func:`theory.mesa.next_state_loss`'s kernel (:func:`_raw_loss` if ``config.raw``) on
    ``chunks`` slices of the batch, run on the threads of ``pool``
    (:func:`theory.core.parallel.batch_parallel`): the same numbers as one call up to round-off."""
    kernel = _raw_loss if config.raw else _next_state_loss
    return batch_parallel(lambda S_, E_: kernel(layers, S_, E_, config.resid_clip), (S, E), pool, chunks)


def train(config: MesaConfig, *, progress=None):
    """Train the model of ``config`` on fresh batches; returns ``(layers, losses)`` with the
    training loss of every step.  ``progress(step, loss)`` is called every 500 steps.
    ``config.threads > 1`` splits each batch into ``2 × threads`` slices computed on that
    many threads (same result up to round-off), with numpy's BLAS held to one thread
    meanwhile (:func:`theory.core.parallel.batch_threads`; two threads each calling a
    two-thread BLAS run slower than one)."""
    config, progress = _config(config), function("progress", progress, optional=True)
    prime_heap()                                            # steps reuse heap pages (theory/core/heap.py)
    with batch_threads(config.threads) as pool:
        return _train(config, progress, pool)


def _train(config, progress, pool):
    rng = as_rng(config.seed)
    width = 4 * config.D
    layers = [init_layer(rng, width, config.heads, config.key_size, scale=config.init_scale)
              for _ in range(config.layers)]
    if config.raw:
        layers.insert(0, init_copy_layer(rng, width, config.heads, config.key_size, scale=config.init_scale))
    n = len(layers)
    params = _flat(layers)
    opt = Adam(config.lr, weight_decay=config.weight_decay)
    losses = np.empty(config.steps)
    for step in range(config.steps):
        S = _linear_dynamics(rng, config.batch, config.T, config.D, config.sigma).S
        loss, grads = _batch_parallel_loss(config, _unflat(params, n), S, model_tokens(config, S),
                                           pool, 2 * config.threads)
        losses[step] = loss
        if config.schedule == "warmup_cosine":
            opt.lr = warmup_cosine(step, config.lr, config.warmup, config.steps, config.end_lr)
        params = opt.step(params, clip_by_value(_flat(grads), config.grad_clip))
        if progress is not None and (step + 1) % 500 == 0:
            progress(step + 1, loss)
    return _unflat(params, n), losses


@finite_result
def predict(config: MesaConfig, layers, S) -> np.ndarray:
    """``ŝ_{t+1}`` for t = 1 … T−1 from the first block of the last stream: (B, T−1, D)."""
    config = _config(config)
    return model_streams(config, layers, S)[-1][:, :-1, :config.D]


@finite_result
def model_streams(config: MesaConfig, layers, S) -> list:
    """The residual streams ``[E_0, E_1, …]`` of the model of ``config`` (the copy layer's
    output is ``E_1`` if ``config.raw``), each (B, T, 4D)."""
    config = _config(config)
    E, clip = model_tokens(config, S), config.resid_clip
    if not config.raw:
        return residual_streams(layers, E, clip=clip)
    if not isinstance(layers, (list, tuple)) or len(layers) < 2:
        raise ValueError("a raw-token model's layers must be [copy layer, linear layer, …] (train with raw=True)")
    E1 = np.clip(copy_layer_forward(E, layers[0])[0], -clip, clip)
    return [E] + residual_streams(layers[1:], E1, clip=clip)


@finite_result
def position_losses(pred, S) -> np.ndarray:
    """``Σ_b ||s_{t+1} − ŝ_{t+1}||² / (2B)`` for t = 1 … T−1; their mean over the T − 1
    targets is the authors' test loss ``Σ (s − ŝ)² / (2 B (T − 1))``.  pred (B, T−1, D),
    S (B, T, D)."""
    S = array("S", S, ndim=3)
    pred = array("pred", pred, shape=(S.shape[0], S.shape[1] - 1, S.shape[2]))
    r = pred - S[:, 1:]
    return 0.5 * np.sum(r * r, axis=(0, 2)) / S.shape[0]


ETA_GRID = tuple(float(e) for e in np.geomspace(1e-3, 0.3, 41))
C_GRID = tuple(float(c) for c in np.geomspace(1e-2, 10.0, 61))      # η_t = c / t
LAM_GRID = tuple(float(l) for l in np.geomspace(1e-1, 1e5, 25))     # mesa λ: the ridge term is I/λ
AUTHOR_ETA = 0.032                 # the authors' one-GD-step baseline: one fixed η for every t
PAIRS = ("author", "mesa")         # least squares at t on the pairs up to t − 1 (their baseline) or t (the mesa-layer)


def _gd(S, eta):
    """One GD step's prediction ŝ_{t+1}, t = 1 … T−1; ``eta`` a number or one per position (T,)."""
    eta = np.asarray(eta, dtype=float)
    return (gd_prediction(S, 1.0) * (eta[None, :, None] if eta.ndim else eta))[:, :-1]


def best_gd(S_fit) -> float:
    """The η of one GD step (:func:`theory.mesa.attention.gd_prediction`) with the least loss on S_fit."""
    S_fit = array("S_fit", S_fit, ndim=3)
    losses = [position_losses(_gd(S_fit, eta), S_fit).sum() for eta in ETA_GRID]
    return ETA_GRID[int(np.argmin(losses))]


def best_c(S_fit) -> float:
    """The c of one GD step with the rate η_t = c/t at position t (the least loss on S_fit):
    the step of the mean-squared error ``L_t / t`` rather than of the sum ``L_t``."""
    S_fit = array("S_fit", S_fit, ndim=3)
    t = np.arange(1, S_fit.shape[1] + 1)
    losses = [position_losses(_gd(S_fit, c / t), S_fit).sum() for c in C_GRID]
    return C_GRID[int(np.argmin(losses))]


def _ridge(S, lam, pairs="mesa"):
    """Least squares ``Ŵ_t s_t`` from the pairs (s_{t'−1} → s_{t'}), s_0 = 0, ridge term
    I/λ, for t = 1 … T−1: (B, T−1, D).  ``pairs="mesa"``: t' ≤ t, the mesa-layer (keys
    s_{t'−1}, values s_{t'}, causal, the current token included); ``"author"``: t' ≤ t − 1,
    as the authors' least-squares baseline fits (``LeastSquaresSequenceSolver``)."""
    prev = np.concatenate([np.zeros_like(S[:, :1]), S[:, :-1]], axis=1)
    if pairs == "mesa":
        return ridge_predictions(prev, S, S, lam)[:, :-1]
    # pairs up to t − 1: the keys and values of the mesa-layer one step behind the query s_t
    K = np.concatenate([np.zeros_like(S[:, :1]), prev[:, :-1]], axis=1)
    V = np.concatenate([np.zeros_like(S[:, :1]), S[:, :-1]], axis=1)
    return ridge_predictions(K, V, S, lam)[:, :-1]


def best_ridge(S_fit, pairs: str = "mesa") -> float:
    """The λ (ridge term I/λ) of least squares on ``pairs`` (see :data:`PAIRS`) with the
    least loss on S_fit."""
    S_fit = array("S_fit", S_fit, ndim=3)
    pairs = choice("pairs", pairs, PAIRS)
    losses = [position_losses(_ridge(S_fit, lam, pairs), S_fit).sum() for lam in LAM_GRID]
    return LAM_GRID[int(np.argmin(losses))]


def baselines(S_fit, data) -> dict:
    """Per-position losses on ``data`` (a :class:`theory.mesa.data.LinearDynamics`) of the
    reference predictors, their rates and ridge terms chosen on S_fit: ``zero``; one GD step
    ``gd`` (η* fitted), ``gd_author`` (the authors' fixed η = 0.032), ``gd_c_t`` (η_t = c/t,
    c fitted); least squares ``lsq`` (the pairs up to t − 1, the authors' baseline) and
    ``mesa_layer`` (the pairs up to t); and ``true`` (W*)."""
    if not isinstance(data, LinearDynamics):
        raise ValueError(f"data must be a LinearDynamics; got {type(data).__name__}")
    S = data.S
    S_fit = array("S_fit", S_fit, shape=(None, None, S.shape[2]))
    eta, c = best_gd(S_fit), best_c(S_fit)
    lam, lam_mesa = best_ridge(S_fit, "author"), best_ridge(S_fit, "mesa")
    true = np.einsum("bij,btj->bti", data.W, S[:, :-1])                 # W* s_t
    t = np.arange(1, S.shape[1] + 1)
    return dict(eta=eta, c=c, lam=lam, lam_mesa=lam_mesa,
                zero=position_losses(np.zeros_like(S[:, 1:]), S),
                gd=position_losses(_gd(S, eta), S),
                gd_author=position_losses(_gd(S, AUTHOR_ETA), S),
                gd_c_t=position_losses(_gd(S, c / t), S),
                lsq=position_losses(_ridge(S, lam, "author"), S),
                mesa_layer=position_losses(_ridge(S, lam_mesa, "mesa"), S),
                true=position_losses(true, S))
