"""Tian et al. 2023 on real text: train the word-level language model of
:mod:`~theory.scan_snap.text_model` by SGD at a constant learning rate on the corpus of
:mod:`~theory.scan_snap.corpus`, and watch the lowest layer's attention.

The authors' protocol (luckmatters ``decoder_wiki.py``, May 2023): the tutorial's
``batchify`` into 20 streams, windows of ``bptt = 35`` in order (no shuffling), every
window once an epoch, 5 epochs; SGD without momentum at ``lr_z`` for every parameter but
the lowest layer's first feed-forward map (``linear1``: W₁, b₁), which moves at
``lr_z · lr_y_multi_on_z`` (:attr:`TextConfig.ratio`); the gradient's global norm clipped
to 0.5 (torch's ``clip_grad_norm_``: scale by ``0.5 / (‖g‖ + 1e-6)`` when that is < 1);
dropout 0.2.  Their ``StepLR`` is built but never stepped, so the rate is constant.

Measured every ``eval_every`` steps on the same held-out windows (no dropout), the lowest
layer's attention ``A`` (sequences × queries × keys, causal):

- ``entropy``: the authors' measure, ``−Σ_k a log(a + 1e-8)`` over the keys, mean over
  every query and sequence (a query at position t has t + 1 keys, so the uniform
  attention's value is the mean of ln(t + 1));
- ``entropy_last``: the same at the last position only (``bptt`` keys; uniform = ln bptt);
- ``top1``, ``top3``: the attention on the query's largest one and three keys, mean over
  the queries with at least ``MIN_KEYS`` keys; ``self`` and ``previous``: the attention on
  the key at the query's own position and at the one before (same queries); ``common``:
  the attention on keys of the :data:`N_COMMON` most frequent types (``, the and of . to
  …`` in the King James Bible) — the paper's scan moves attention away from such common
  tokens — beside ``common_uniform``, its value under uniform attention;
- ``change``: the total variation ``½ Σ_k |a_k − a'_k|`` between this checkpoint's
  attention and the previous one's, mean over queries (the attention's step-to-step
  motion; one fewer than the checkpoints: entry k is between checkpoints k and k + 1);
  ``to_final``: the same against the last checkpoint;
- ``qk_change``: ``‖Δ(W_Qᵀ W_K)‖_F / ‖W_Qᵀ W_K‖_F`` between checkpoints (the bilinear
  form of the logits, biases aside), beside ``ffn_change``, the same relative change of
  the lowest W₁ (the fast "Y" side);
- ``val_loss``: the cross-entropy on those windows.
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass

import numpy as np

from ..core._validate import array, as_rng, check_step, choice, executor as _executor, finite_scalar, nonnegative_int, positive_int, probability
from . import corpus as C
from . import text_model as tm

__all__ = ["MIN_KEYS", "N_COMMON", "FAST", "TextConfig", "attention_measures", "train_text", "text_runs"]

MIN_KEYS = 10                  # top1/top3 are read at queries with at least this many keys
N_COMMON = 20                  # "common" keys: the 20 most frequent types (ids 1 … 20; 0 is <unk>)


@dataclass(frozen=True)
class TextConfig:
    """One real-text run.  Defaults: the authors' protocol (module docstring) at CPU scale —
    width 64 and a 2,000-type vocabulary where they use 200 and WikiText-2's 33,278 —
    with the learning rate of their comments (SGD lr 5 gives sparse attention)."""
    layers: int = 1
    d: int = 64
    d_hid: int = 64
    vocab: int = 2000
    dropout: float = 0.2
    lr_z: float = 5.0
    ratio: float = 1.0             # lr_y_multi_on_z: the lowest W₁, b₁ move at lr_z · ratio
    clip: float = 0.5
    bptt: int = 35
    batch: int = 20
    epochs: int = 5
    eval_every: int = 100
    eval_streams: int = 10         # the tutorial's eval_batch_size
    eval_windows: int = 20         # held-out windows of bptt tokens per stream, measured every eval_every
    max_tokens: int | None = None  # first this many training tokens (quick runs); None: the whole corpus
    dtype: str = "float32"
    seed: int = 0
    path: str | None = None        # a text file instead of the King James Bible

    def __post_init__(self):
        for name in ("layers", "d", "d_hid", "bptt", "batch", "epochs", "eval_every", "eval_streams",
                     "eval_windows"):
            positive_int(name, getattr(self, name))
        if positive_int("vocab", self.vocab) < 2:
            raise ValueError(f"vocab must be at least 2 (<unk> and one type); got {self.vocab}")
        if self.bptt < MIN_KEYS:
            raise ValueError(f"bptt must be at least MIN_KEYS = {MIN_KEYS} (top1/top3 read such queries); "
                             f"got {self.bptt}")
        if probability("dropout", self.dropout) >= 1.0:
            raise ValueError(f"dropout must be in [0, 1); got {self.dropout}")
        for name in ("lr_z", "ratio", "clip"):
            finite_scalar(name, getattr(self, name), positive=True)
        if self.max_tokens is not None:
            positive_int("max_tokens", self.max_tokens)
        choice("dtype", self.dtype, ("float32", "float64"))
        nonnegative_int("seed", self.seed)
        if self.path is not None and not isinstance(self.path, str):
            raise ValueError(f"path must be None or a file name; got {self.path!r}")


@functools.lru_cache(maxsize=4)
def _corpus(vocab: int, path, max_tokens) -> C.Corpus:
    return C.load_corpus(vocab, path, max_tokens=max_tokens)


def attention_measures(A, common=None) -> dict:
    """The entropy (authors' measure and at the last query), top-1 and top-3 mass, the
    weight on the query's own and previous position of causal attention A (..., T, T)
    (module docstring); with ``common`` (..., T) booleans (which keys are common types),
    also ``common``, the attention those keys get."""
    A = array("A", A, min_ndim=2)
    if A.shape[-1] != A.shape[-2] or A.shape[-1] < MIN_KEYS or np.any(A < 0):
        raise ValueError(f"A must be causal attention (..., T, T) with T >= {MIN_KEYS}, non-negative; "
                         f"got shape {A.shape}")
    if common is not None:
        common = np.asarray(common)
        if common.dtype != bool or common.shape != A.shape[:-1]:
            raise ValueError(f"common must be booleans of shape {A.shape[:-1]} (one per key); got "
                             f"{common.dtype} {common.shape}")
    return _measures(A, common)


def _measures(A: np.ndarray, common=None) -> dict:
    A = A.astype(np.float64, copy=False)
    h = -(A * np.log(A + 1e-8)).sum(axis=-1)                        # (..., T) per query, authors' measure
    late = A[..., MIN_KEYS - 1:, :]                                  # queries with >= MIN_KEYS keys
    top = np.sort(late, axis=-1)
    extra = {} if common is None else dict(                          # Σ_k a_k [w_k common], the same queries
        common=float((late * common[..., None, :]).sum(axis=-1).mean()))
    return dict(**extra, entropy=float(h.mean()), entropy_last=float(h[..., -1].mean()),
                top1=float(top[..., -1].mean()), top3=float(top[..., -3:].sum(axis=-1).mean()),
                self=float(np.diagonal(late, MIN_KEYS - 1, -2, -1).mean()),            # key t' = t
                previous=float(np.diagonal(late, MIN_KEYS - 2, -2, -1).mean()))        # key t' = t − 1


def _tv(A: np.ndarray, B: np.ndarray) -> float:
    """Mean over queries of ½ Σ_k |a_k − b_k|."""
    return float(0.5 * np.abs(A.astype(np.float64) - B).sum(axis=-1).mean())


def _qk(p: dict, d: int) -> np.ndarray:
    W = p["l0.W_in"].astype(np.float64)
    return W[:d].T @ W[d:2 * d]                                      # W_Qᵀ W_K (d, d)


def _rel(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.linalg.norm(new - old) / max(np.linalg.norm(old), 1e-300))


FAST = ("l0.W1", "l0.b1")      # the authors' lr_z · lr_y_multi_on_z group: the lowest layer's linear1


def _sgd_step(p: dict, g: dict, lr_z: float, ratio: float, clip: float) -> None:
    """In place: ``g ← g · min(1, clip / (‖g‖ + 1e-6))`` (torch's ``clip_grad_norm_``, the
    norm over every parameter), then ``θ ← θ − lr g`` with ``lr = lr_z · ratio`` for
    :data:`FAST` and ``lr_z`` for the rest (SGD, no momentum).  ``g`` is overwritten."""
    norm = math.sqrt(sum(float(np.vdot(v, v)) for v in g.values()))
    coef = min(1.0, clip / (norm + 1e-6))
    for k, v in g.items():
        v *= v.dtype.type(coef * lr_z * (ratio if k in FAST else 1.0))
        p[k] -= v


def train_text(config: TextConfig) -> dict:
    """One run (module docstring): the measures at every checkpoint (step 0 included), the
    training loss per step, the final attention of one held-out sequence, and the settings."""
    if not isinstance(config, TextConfig):
        raise ValueError(f"config must be a TextConfig; got {type(config).__name__}")
    cfg = config
    corpus = _corpus(cfg.vocab, cfg.path, cfg.max_tokens)
    train = C.batchify(corpus.train, cfg.batch)                      # (batch, N / batch)
    val = C.batchify(corpus.val, cfg.eval_streams)
    n_val = min(cfg.eval_windows, (val.shape[1] - 1) // cfg.bptt)
    if n_val < 1:
        raise ValueError(f"the validation part ({len(corpus.val)} tokens) has no window of {cfg.bptt} tokens in "
                         f"{cfg.eval_streams} streams")
    xv = np.concatenate([val[:, j * cfg.bptt:(j + 1) * cfg.bptt] for j in range(n_val)])      # (S, bptt)
    yv = np.concatenate([val[:, j * cfg.bptt + 1:(j + 1) * cfg.bptt + 1] for j in range(n_val)])
    dtype = np.dtype(cfg.dtype)
    rng = as_rng(cfg.seed)
    p = {k: v.astype(dtype) for k, v in tm.init_lm(rng, len(corpus.vocab), cfg.d, cfg.d_hid, cfg.layers).items()}
    sizes = (len(corpus.vocab), cfg.d, cfg.d_hid, cfg.layers)
    starts = list(range(0, train.shape[1] - 1, cfg.bptt))            # the tutorial's windows, in order
    steps = cfg.epochs * len(starts)
    common = (xv >= 1) & (xv <= N_COMMON)                             # (S, bptt) keys of the most frequent types
    uniform = np.tri(cfg.bptt) / np.arange(1, cfg.bptt + 1)[:, None]
    common_uniform = _measures(np.broadcast_to(uniform, (len(xv),) + uniform.shape), common)["common"]
    keys = ("step", "entropy", "entropy_last", "top1", "top3", "self", "previous", "common", "change", "to_final",
            "qk_change", "ffn_change", "val_loss")
    log = {k: [] for k in keys}
    attn, prev = [], None

    def measure(step):
        nonlocal prev
        x, _, caches = tm._forward(p, xv, sizes)
        A = caches[0].A                                              # (S, bptt, bptt) the lowest layer
        logits = tm._affine(x, p["W_dec"], p["b_dec"])
        loss = tm._decoder_loss(logits, yv)[0]
        state = (A, _qk(p, cfg.d), p["l0.W1"].astype(np.float64))
        m = _measures(A, common)
        log["step"].append(step)
        for k in ("entropy", "entropy_last", "top1", "top3", "self", "previous", "common"):
            log[k].append(m[k])
        if prev is not None:                                         # between the previous checkpoint and this
            log["change"].append(_tv(A, prev[0]))
            log["qk_change"].append(_rel(state[1], prev[1]))
            log["ffn_change"].append(_rel(state[2], prev[2]))
        log["val_loss"].append(loss)
        attn.append(A.astype(np.float16))                            # for to_final (half precision: a TV of
        prev = state                                                 # 1e-3 is far above its round-off)

    measure(0)
    losses = np.empty(steps)                                         # training loss of each step (with dropout)
    step = 0
    for epoch in range(cfg.epochs):
        for i in starts:
            x, y = C.get_batch(train, i, cfg.bptt)
            loss, g, _ = tm._loss_and_grads(p, x, y, sizes, cfg.dropout, rng)
            check_step(loss, g, step, cfg.lr_z)
            _sgd_step(p, g, cfg.lr_z, cfg.ratio, cfg.clip)
            losses[step] = loss
            step += 1
            if step % cfg.eval_every == 0 or step == steps:
                measure(step)
    final = attn[-1].astype(np.float64)
    log["to_final"] = [_tv(a, final) for a in attn]
    out = {k: np.asarray(v, dtype=float if k != "step" else int) for k, v in log.items()}
    return dict(config=asdict(cfg), steps=steps, steps_per_epoch=len(starts), train_loss=losses, **out,
                unk_share=corpus.unk_share, common_uniform=common_uniform, train_tokens=len(corpus.train),
                val_tokens=int(xv.size),
                example=dict(attention=final[0], tokens=[corpus.vocab[t] for t in xv[0]]))


def text_runs(configs, executor=None) -> list:
    """:func:`train_text` for each config, on ``executor`` if given (in order)."""
    if not isinstance(configs, (list, tuple)) or not configs or not all(isinstance(c, TextConfig) for c in configs):
        raise ValueError(f"configs must be a non-empty list of TextConfig; got {configs!r:.80}")
    executor = _executor("executor", executor)
    if executor is None:
        return [train_text(c) for c in configs]
    return [f.result() for f in [executor.submit(train_text, c) for c in configs]]
