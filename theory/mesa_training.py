"""von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers": the
training experiments of Secs. 3–4 at CPU scale, on the constructed tokens of
:func:`theory.mesa.tokens`.

1. **Depth.**  Causal linear-attention transformers (no MLP, no layer norm, residual
   stream clipped to ±4 after each layer, as in the authors' code) with 1, 2 and 4 layers
   are trained on fresh linear-dynamics batches; their per-position test loss
   ``Σ_b ||s_{t+1} − ŝ_{t+1}||² / (2B)`` is compared with: predicting 0, one GD step on
   ``L_t`` with the best η (grid search on training data), the ridge least-squares
   predictor (the mesa-layer, best λ on training data), and the true W*.
2. **RevAlg-1** (Sec. 4): the 1-layer, 2-head model's products ``W_K^T W_Q`` and ``P W_V``
   are read as block-scalar × identity on the channel blocks (12 scalars: per head 4 for
   the query/key blocks {s_t, s_{t−1}}² and 2 for the value blocks into block 0), the model
   is rebuilt from those scalars alone and its loss set beside the trained one's.
3. **Linear probes** (Sec. 4): least squares from each layer's residual stream at each t to
   ``s_{t+1}`` and to the preconditioned input ``(S_{t−1} + λ I)^{-1} s_t``, fitted on one
   set of sequences and scored (R²) on another.

Training follows the authors' constructed-token runs (``../shared/PAPERS.md``): AdamW
with learning rate 1e-4 and weight decay 0.1 after element-wise gradient clipping at 1,
init std 2e-4, batch 256, key size 20; single-layer runs zero the copy of s_t in block 1.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import mesa
from ._validate import array, as_rng, executor as _executor, finite_result, finite_scalar, flag, function, nonnegative_int, positive_int
from .optim import Adam, clip_by_value
from .records import check_record, make_record
from .tasks import linear_dynamics

__all__ = ["MesaConfig", "DEPTH", "REVALG", "quick_config", "model_tokens", "train", "predict",
           "position_losses", "best_gd", "best_ridge", "baselines", "revalg_scalars", "revalg_layer",
           "probe_scores", "norm_inliers", "preconditioned_inputs", "reproduce", "format_report"]


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
    D: int = 10
    T: int = 50
    sigma: float = 0.01
    seed: int = 0
    threads: int = 1                # split each batch over this many threads (see train)

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
        nonnegative_int("seed", self.seed)


# CPU scale: batch 64 and learning rate 1e-3 (the authors: 256 and 1e-4 with 5,000-10,000 steps),
# 4,000 steps each, so that the whole reproduction fits in 10 minutes on two cores
_CPU = dict(batch=64, lr=1e-3, steps=4000)
DEPTH = (MesaConfig(layers=1, heads=2, mask_copy=True, seed=1, **_CPU),   # also RevAlg-1's model
         MesaConfig(layers=2, seed=2, **_CPU),
         MesaConfig(layers=4, seed=4, **_CPU))
REVALG = DEPTH[0]


def _config(config):
    if not isinstance(config, MesaConfig):
        raise ValueError(f"config must be a MesaConfig; got {type(config).__name__}")
    return config


def _states(config, S, name="S"):
    return array(name, S, shape=(None, None, config.D))


def quick_config(config: MesaConfig) -> MesaConfig:
    """The same run at CI scale: 100 steps, batch 32, T = 20, D = 4, key size 8, lr 3e-3."""
    config = _config(config)
    return MesaConfig(**{**asdict(config), "steps": 100, "batch": 32, "T": 20, "D": 4, "key_size": 8,
                         "lr": 3e-3})


@finite_result
def model_tokens(config: MesaConfig, S) -> np.ndarray:
    """The constructed tokens the model reads (block 1 zeroed if ``mask_copy``)."""
    config = _config(config)
    E = mesa.tokens(_states(config, S))
    if config.mask_copy:
        D = S.shape[2]
        E[:, :, D:2 * D] = 0.0
    return E


def _flat(layers):
    return {f"{k}{i}": v for i, p in enumerate(layers) for k, v in p.items()}


def _unflat(flat, n):
    return [{k: flat[f"{k}{i}"] for k in mesa.HEAD_KEYS} for i in range(n)]


def _batch_parallel_loss(layers, S, E, clip, pool, chunks):
    """:func:`theory.mesa.next_state_loss`'s kernel on ``chunks`` slices of the batch, run on
    the threads of ``pool`` (numpy releases the GIL in its matrix products), the losses and
    gradients averaged with the slices' sizes as weights: the same numbers as one call up
    to round-off.  Worth it with one BLAS thread per process: numpy's batched products
    of small matrices run on one core otherwise."""
    if pool is None:
        return mesa._next_state_loss(layers, S, E, clip)
    B = S.shape[0]
    cuts = np.linspace(0, B, chunks + 1).astype(int)
    parts = [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    results = list(pool.map(lambda ab: mesa._next_state_loss(layers, S[ab[0]:ab[1]], E[ab[0]:ab[1]], clip), parts))
    w = [(b - a) / B for a, b in parts]
    loss = sum(wi * r[0] for wi, r in zip(w, results))
    grads = [{k: sum(wi * r[1][i][k] for wi, r in zip(w, results)) for k in mesa.HEAD_KEYS} for i in range(len(layers))]
    return loss, grads


def train(config: MesaConfig, *, progress=None):
    """Train the model of ``config`` on fresh batches; returns ``(layers, losses)`` with the
    training loss of every step.  ``progress(step, loss)`` is called every 500 steps.
    ``config.threads > 1`` splits each batch into ``2 × threads`` slices computed on that
    many threads (same result up to round-off; run the process with one BLAS thread)."""
    config, progress = _config(config), function("progress", progress, optional=True)
    if config.threads > 1:
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(config.threads) as pool:
            return _train(config, progress, pool)
    return _train(config, progress, None)


def _train(config, progress, pool):
    rng = as_rng(config.seed)
    width = 4 * config.D
    layers = [mesa.init_layer(rng, width, config.heads, config.key_size, scale=config.init_scale)
              for _ in range(config.layers)]
    params = _flat(layers)
    opt = Adam(config.lr, weight_decay=config.weight_decay)
    losses = np.empty(config.steps)
    for step in range(config.steps):
        S = linear_dynamics(rng, config.batch, config.T, config.D, sigma=config.sigma).S
        loss, grads = _batch_parallel_loss(_unflat(params, config.layers), S, model_tokens(config, S),
                                           config.resid_clip, pool, 2 * config.threads)
        losses[step] = loss
        params = opt.step(params, clip_by_value(_flat(grads), config.grad_clip))
        if progress is not None and (step + 1) % 500 == 0:
            progress(step + 1, loss)
    return _unflat(params, config.layers), losses


@finite_result
def predict(config: MesaConfig, layers, S) -> np.ndarray:
    """``ŝ_{t+1}`` for t = 1 … T−1 from the first block of the last stream: (B, T−1, D)."""
    config = _config(config)
    return mesa.residual_streams(layers, model_tokens(config, S), clip=config.resid_clip)[-1][:, :-1, :config.D]


@finite_result
def position_losses(pred, S) -> np.ndarray:
    """``Σ_b ||s_{t+1} − ŝ_{t+1}||² / (2B)`` for t = 1 … T−1; their sum / T is the paper's
    test loss ``Σ (s − ŝ)² / (2 B T)``.  pred (B, T−1, D), S (B, T, D)."""
    S = array("S", S, ndim=3)
    pred = array("pred", pred, shape=(S.shape[0], S.shape[1] - 1, S.shape[2]))
    r = pred - S[:, 1:]
    return 0.5 * np.sum(r * r, axis=(0, 2)) / S.shape[0]


ETA_GRID = tuple(float(e) for e in np.geomspace(1e-3, 0.3, 41))
LAM_GRID = tuple(float(l) for l in np.geomspace(1e-1, 1e5, 25))     # mesa λ: the ridge term is I/λ


def best_gd(S_fit) -> float:
    """The η of one GD step (:func:`theory.mesa.gd_prediction`) with the least loss on S_fit."""
    S_fit = array("S_fit", S_fit, ndim=3)
    losses = [position_losses(mesa.gd_prediction(S_fit, eta)[:, :-1], S_fit).sum() for eta in ETA_GRID]
    return ETA_GRID[int(np.argmin(losses))]


def _ridge(S, lam):
    """The mesa-layer's prediction ``Ŵ_t s_t``, keys s_{t'−1}, values s_{t'}: (B, T−1, D)."""
    prev = np.concatenate([np.zeros_like(S[:, :1]), S[:, :-1]], axis=1)
    return mesa.ridge_predictions(prev, S, S, lam)[:, :-1]


def best_ridge(S_fit) -> float:
    """The mesa-layer's λ (ridge term I/λ) with the least loss on S_fit."""
    S_fit = array("S_fit", S_fit, ndim=3)
    losses = [position_losses(_ridge(S_fit, lam), S_fit).sum() for lam in LAM_GRID]
    return LAM_GRID[int(np.argmin(losses))]


def baselines(S_fit, data) -> dict:
    """Per-position losses on ``data`` (a :class:`theory.tasks.LinearDynamics`) of the four
    reference predictors, with η and λ chosen on S_fit."""
    from .tasks import LinearDynamics
    if not isinstance(data, LinearDynamics):
        raise ValueError(f"data must be a LinearDynamics; got {type(data).__name__}")
    S = data.S
    S_fit = array("S_fit", S_fit, shape=(None, None, S.shape[2]))
    eta, lam = best_gd(S_fit), best_ridge(S_fit)
    true = np.einsum("bij,btj->bti", data.W, S[:, :-1])                 # W* s_t
    return dict(eta=eta, lam=lam,
                zero=position_losses(np.zeros_like(S[:, 1:]), S),
                gd=position_losses(mesa.gd_prediction(S, eta)[:, :-1], S),
                ridge=position_losses(_ridge(S, lam), S),
                true=position_losses(true, S))


# --------------------------------------------------------------------------- RevAlg-1
def _block_means(M, D, rows, cols):
    """Mean diagonal of each D×D block (r, c) of M (width × width)."""
    return np.array([[np.trace(M[r * D:(r + 1) * D, c * D:(c + 1) * D]) / D for c in cols] for r in rows])


QK_BLOCKS, V_BLOCKS = (2, 3), (2, 3)       # blocks s_t, s_{t−1} (block 1 is zeroed in the 1-layer runs)


def revalg_scalars(layer, D: int) -> dict:
    """The 12 scalars of RevAlg-1 from a 1-layer, 2-head model: per head, the mean diagonals
    of ``W_K^T W_Q`` on key blocks × query blocks {s_t, s_{t−1}} (2×2) and of ``P W_V`` from
    those blocks into block 0 (2); and the fraction of each product's squared norm that the
    block-scalar form keeps (1 = the product is exactly block scalar × identity)."""
    D = positive_int("D", D)
    try:
        layer = mesa._check_layer(np.zeros((1, 1, 4 * D)), layer)[1]
    except ValueError as err:
        raise ValueError(f"layer: {err}") from None
    kq = np.einsum("hkd,hke->hde", layer["W_K"], layer["W_Q"])         # (H, width, width): e'^T M e
    pv = np.einsum("hdk,hke->hde", layer["P"], layer["W_V"])
    out = dict(qk=[], pv=[], qk_kept=[], pv_kept=[])
    for h in range(kq.shape[0]):
        a = _block_means(kq[h], D, QK_BLOCKS, QK_BLOCKS)
        b = _block_means(pv[h], D, (0,), V_BLOCKS)[0]
        out["qk"].append(a)
        out["pv"].append(b)
        out["qk_kept"].append(np.sum(a ** 2) * D / np.sum(kq[h] ** 2))
        out["pv_kept"].append(np.sum(b ** 2) * D / np.sum(pv[h] ** 2))
    return {k: np.array(v) for k, v in out.items()}


@finite_result
def revalg_layer(scalars: dict, D: int) -> dict:
    """A layer whose products are exactly the block-scalar form of ``scalars``: per head
    ``W_K = I``, ``W_Q = Σ a_{rc} I`` on blocks (r, c), ``W_V = Σ b_c I`` from block c into
    block 0, ``P = I`` (key size = width; attention depends on the weights only through
    ``W_K^T W_Q`` and ``P W_V``)."""
    if not isinstance(scalars, dict) or not {"qk", "pv"} <= set(scalars):
        raise ValueError(f"scalars must be a dict with 'qk' and 'pv' (from revalg_scalars); got {scalars!r:.60}")
    qk = array("scalars['qk']", scalars["qk"], shape=(None, 2, 2))
    pv = array("scalars['pv']", scalars["pv"], shape=(qk.shape[0], 2))
    D = positive_int("D", D)
    H, width, I = qk.shape[0], 4 * D, np.eye(D)
    W_Q, W_V = np.zeros((H, width, width)), np.zeros((H, width, width))
    for h in range(H):
        for i, r in enumerate(QK_BLOCKS):
            for j, c in enumerate(QK_BLOCKS):
                W_Q[h, r * D:(r + 1) * D, c * D:(c + 1) * D] = qk[h, i, j] * I
        for j, c in enumerate(V_BLOCKS):
            W_V[h, :D, c * D:(c + 1) * D] = pv[h, j] * I
    eye = np.broadcast_to(np.eye(width), (H, width, width)).copy()
    return {"W_Q": W_Q, "W_K": eye, "W_V": W_V, "P": eye.copy()}


# --------------------------------------------------------------------------- linear probes
@finite_result
def preconditioned_inputs(S, lam: float = 1e-3) -> np.ndarray:
    """``(S_{t−1} + λ I)^{-1} s_t`` with ``S_{t−1} = Σ_{t'<t} s_{t'} s_{t'}^T`` (S_0 = 0): the
    vector the mesa-layer's query becomes (λ = 0.001 as in the authors' probes).  (B, T, D)."""
    S = array("S", S, ndim=3)
    B, T, D = S.shape
    lam = finite_scalar("lam", lam, positive=True)
    outer = np.cumsum(S[:, :, :, None] * S[:, :, None, :], axis=1)
    prev = np.concatenate([np.zeros((B, 1, D, D)), outer[:, :-1]], axis=1) + lam * np.eye(D)
    return np.linalg.solve(prev, S[..., None])[..., 0]


@finite_result
def probe_scores(X_fit, Y_fit, X_test, Y_test, *, keep_fit=None, keep_test=None) -> np.ndarray:
    """Held-out R² of least-squares probes (with a bias) fitted per position:
    X (N, T, w) residual streams, Y (N, T, D) targets; returns (T,) with
    ``R² = 1 − Σ||Y − X W||² / Σ||Y − Ȳ||²`` on the test set (Ȳ its mean).  ``keep_fit`` /
    ``keep_test`` (N, T) booleans: the sequences that count at each t (default all)."""
    X_fit = array("X_fit", X_fit, ndim=3)
    Y_fit = array("Y_fit", Y_fit, shape=X_fit.shape[:2] + (None,))
    X_test = array("X_test", X_test, shape=(None, X_fit.shape[1], X_fit.shape[2]))
    Y_test = array("Y_test", Y_test, shape=X_test.shape[:2] + (Y_fit.shape[2],))
    w_fit = _keep("keep_fit", keep_fit, X_fit.shape[:2])
    w_test = _keep("keep_test", keep_test, X_test.shape[:2])
    add1 = lambda X: np.concatenate([X, np.ones(X.shape[:2] + (1,))], axis=2).transpose(1, 0, 2)   # (T, N, w+1)
    Xf, Xt, Yf, Yt = add1(X_fit), add1(X_test), Y_fit.transpose(1, 0, 2), Y_test.transpose(1, 0, 2)
    wf, wt = w_fit.T[..., None], w_test.T[..., None]                    # (T, N, 1)
    W = np.linalg.pinv(wf * Xf, rcond=1e-10) @ (wf * Yf)               # (T, w+1, D) least squares on the kept
    mean = (wt * Yt).sum(axis=1, keepdims=True) / wt.sum(axis=1, keepdims=True)
    sse = np.sum(wt * (Yt - Xt @ W) ** 2, axis=(1, 2))
    sst = np.sum(wt * (Yt - mean) ** 2, axis=(1, 2))
    return 1.0 - sse / sst


def _keep(name, keep, shape):
    if keep is None:
        return np.ones(shape)
    keep = np.asarray(keep)
    if keep.dtype != bool or keep.shape != shape:
        raise ValueError(f"{name} must be a boolean array of shape {shape}; got {keep.dtype} {keep.shape}")
    if not keep.any(axis=0).all():
        raise ValueError(f"{name} must keep at least one sequence at every position")
    return keep.astype(float)


@finite_result
def norm_inliers(Y, z: float = 3.0) -> np.ndarray:
    """``|z-score of ||y||| <= z`` at each position, over the sequences: (N, T) booleans (the
    authors' outlier rule for the preconditioned target, whose norm has a heavy tail)."""
    Y = array("Y", Y, ndim=3)
    z = finite_scalar("z", z, positive=True)
    n = np.linalg.norm(Y, axis=2)
    sd = n.std(axis=0)
    return np.abs(n - n.mean(axis=0)) <= z * np.where(sd > 0, sd, 1.0)


# --------------------------------------------------------------------------- the reproduction
PROBE_T = (2, 5, 10, 15, 20, 30, 40, 49)     # positions (1-based t) shown in the probe table
SHOW_T = (1, 2, 5, 10, 20, 30, 49)           # positions shown in the depth table


def _run(config):
    say = lambda step, loss: print(f"  {config.layers} layer(s): step {step:5d}, loss {loss:.5f}", file=sys.stderr)
    start = time.perf_counter()
    layers, losses = train(config, progress=say)
    return layers, losses, time.perf_counter() - start


def reproduce(*, quick: bool = False, seed: int = 0, test_batch: int | None = None, executor=None) -> dict:
    """Train the models of :data:`DEPTH` (:func:`quick_config` if ``quick``), compare them
    with the baselines, reverse-engineer the 1-layer model and probe the deepest; returns
    the run record.  ``executor``: runs the trainings in parallel (``map``)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    executor = _executor("executor", executor)
    n_test = (256 if quick else 2048) if test_batch is None else positive_int("test_batch", test_batch)
    configs = [quick_config(c) if quick else c for c in DEPTH]
    parts, start = {}, time.perf_counter()
    order = sorted(range(len(configs)), key=lambda i: -configs[i].layers)   # costliest first
    done = list((executor.map if executor is not None else map)(_run, [configs[i] for i in order]))
    runs = [done[order.index(i)] for i in range(len(configs))]
    parts["training"] = time.perf_counter() - start
    for c, r in zip(configs, runs):
        parts[f"training {c.layers} layer(s) (in its process)"] = r[2]
    start = time.perf_counter()
    c0 = configs[0]
    rng = as_rng(10_000 + seed)
    fit = linear_dynamics(rng, n_test, c0.T, c0.D, sigma=c0.sigma)
    test = linear_dynamics(rng, n_test, c0.T, c0.D, sigma=c0.sigma)
    base = baselines(fit.S, test)
    models = {f"{c.layers}": position_losses(predict(c, r[0], test.S), test.S) for c, r in zip(configs, runs)}
    parts["baselines and test losses"] = time.perf_counter() - start
    start = time.perf_counter()
    scal = revalg_scalars(runs[0][0][0], c0.D)
    rebuilt = position_losses(predict(c0, [revalg_layer(scal, c0.D)], test.S), test.S)
    deep_c, deep = configs[-1], runs[-1][0]
    streams_fit = mesa.residual_streams(deep, model_tokens(deep_c, fit.S), clip=deep_c.resid_clip)
    streams_test = mesa.residual_streams(deep, model_tokens(deep_c, test.S), clip=deep_c.resid_clip)
    Y = {"next_state": (fit.S[:, 1:], test.S[:, 1:]),
         "preconditioned": (preconditioned_inputs(fit.S)[:, :-1], preconditioned_inputs(test.S)[:, :-1])}
    keep = {"next_state": (None, None),                                 # bounded: every sequence counts
            "preconditioned": (norm_inliers(Y["preconditioned"][0]), norm_inliers(Y["preconditioned"][1]))}
    probes = {name: np.array([probe_scores(Xf[:, :-1], yf, Xt[:, :-1], yt, keep_fit=keep[name][0],
                                           keep_test=keep[name][1])
                              for Xf, Xt in zip(streams_fit, streams_test)])
              for name, (yf, yt) in Y.items()}                             # (layers + 1, T − 1)
    left_out = 1.0 - float(keep["preconditioned"][1].mean())
    parts["RevAlg-1 and probes"] = time.perf_counter() - start
    T = c0.T
    return make_record(
        "mesa",
        settings=dict(quick=quick, seed=seed, test_batch=n_test, configs=[asdict(c) for c in configs],
                      eta_grid=ETA_GRID, lam_grid=LAM_GRID, probe_lam=1e-3),
        parts=parts,
        results=dict(eta=base["eta"], lam=base["lam"],
                     test_loss={**{k: float(v.sum() / T) for k, v in models.items()},
                                **{k: float(base[k].sum() / T) for k in ("zero", "gd", "ridge", "true")},
                                "revalg": float(rebuilt.sum() / T)},
                     revalg_qk=scal["qk"], revalg_pv=scal["pv"], revalg_qk_kept=scal["qk_kept"],
                     revalg_pv_kept=scal["pv_kept"], probes=probes, probe_left_out=left_out),
        curves=dict(position_losses={**models, **{k: base[k] for k in ("zero", "gd", "ridge", "true")},
                                     "revalg": rebuilt},
                    train_loss={f"{c.layers}": r[1] for c, r in zip(configs, runs)}))


def format_report(record: dict) -> str:
    """The report text, rendered from a record of :func:`reproduce` only."""
    record = check_record(record, "mesa")
    s, r, cur = record["settings"], record["results"], record["curves"]
    configs = s["configs"]
    depths = [str(c["layers"]) for c in configs]
    T = configs[0]["T"]
    show = [t for t in SHOW_T if t < T]
    pl = cur["position_losses"]
    names = [(f"{d}-layer LSA (trained)", d) for d in depths] + [
        (f"one GD step, η* = {r['eta']:.3g}", "gd"), (f"least squares (mesa-layer, λ = {r['lam']:.3g})", "ridge"),
        ("predict 0", "zero"), ("true W*", "true")]
    c = configs[0]
    lines = [f"von Oswald et al. 2023b: next-state loss on linear dynamics (D = {c['D']}, T = {T}, σ = {c['sigma']}; "
             f"{s['test_batch']} test sequences; Σ||s - ŝ||²/(2B) at position t)",
             f"  {'model':42s}{'test loss':>10s}" + "".join(f"{'t=' + str(t):>9s}" for t in show)]
    for label, key in names:
        lines.append(f"  {label:42s}{r['test_loss'][key]:10.5f}" + "".join(f"{pl[key][t - 1]:9.5f}" for t in show))
    steps = ", ".join(f"{cc['layers']} layer(s) {cc['heads']} heads {cc['steps']} steps" for cc in configs)
    lines += [f"  (training: {steps}; batch {c['batch']}, Adam lr {c['lr']:g}, weight decay {c['weight_decay']:g}, "
              f"element-wise gradient clip {c['grad_clip']:g}, residual clip ±{c['resid_clip']:g})", ""]
    qk, pv = np.asarray(r["revalg_qk"]), np.asarray(r["revalg_pv"])
    lines += ["RevAlg-1: the 1-layer model's products read as block scalar × I (12 scalars)",
              "  head   W_K^T W_Q [key s_t, s_t-1] × [query s_t, s_t-1]        P W_V [s_t, s_t-1] -> block 0   "
              "norm kept (qk, pv)"]
    for h in range(qk.shape[0]):
        lines.append(f"  {h:4d}   [{qk[h, 0, 0]:8.4f} {qk[h, 0, 1]:8.4f}; {qk[h, 1, 0]:8.4f} {qk[h, 1, 1]:8.4f}]"
                     f"              [{pv[h, 0]:8.4f} {pv[h, 1]:8.4f}]"
                     f"           {r['revalg_qk_kept'][h]:.3f}, {r['revalg_pv_kept'][h]:.3f}")
    eta_heads = float(np.sum(qk[:, 1, 0] * pv[:, 0]))      # key s_{t'-1}, query s_t, value s_{t'}: the GD term
    lines += [f"  test loss: trained {r['test_loss'][depths[0]]:.5f}, rebuilt from the 12 scalars "
              f"{r['test_loss']['revalg']:.5f}",
              f"  the GD term Σ_h (W_K^T W_Q)_h[key s_t-1, query s_t] · (P W_V)_h[s_t] = {eta_heads:.4f} "
              f"(one GD step's best η* = {r['eta']:.4f})", ""]
    pt = [t for t in PROBE_T if t < T]
    lines.append(f"Linear probes of the {depths[-1]}-layer model (held-out R²; fitted on {s['test_batch']} other "
                 f"sequences), by layer and position t")
    for name, label in (("next_state", "target s_{t+1}"),
                        ("preconditioned", f"target (S_t-1 + {s['probe_lam']:g} I)^-1 s_t *")):
        lines.append(f"  {label:34s}" + "".join(f"{'t=' + str(t):>8s}" for t in pt))
        for layer, row in enumerate(r["probes"][name]):
            lines.append(f"    {'tokens' if layer == 0 else f'after layer {layer}':32s}"
                         + "".join(f"{row[t - 1]:8.3f}" for t in pt))
    lines.append(f"  * sequences whose target norm has |z| > 3 at that t are left out of fit and score "
                 f"(the authors' rule; {100 * r['probe_left_out']:.1f} % of the test entries)")
    return "\n".join(lines)
