"""Tian, Wang, Chen & Du 2023, "Scan and Snap: Understanding Training Dynamics and Token
Composition in 1-layer Transformer" (NeurIPS 2023, arXiv 2305.16380): the model, its
long-sequence limit and the exact gradients of both.

**Finite-T model** (the paper's reparameterisation, as the authors' code trains it;
docs/papers.md, "Tian et al. 2023"): one-hot tokens; the attention logit of key position t is
``Z[x_T, x_t]`` (Z: M×M, row = query token, column = key token); softmax over the T − 1
contextual positions; the attention-weighted token histogram ``h = Σ_t b_t e_{x_t}``
(optionally plus the query's one-hot, the residual); ``f = h / ||h||``; logits ``Y f``
(Y: M×M, row = next token); cross-entropy against the class's next token.

**Long-sequence limit** (T → ∞, the paper's Sec. 4 assumption): the histogram becomes
``c_n = p_n ⊙ e^{z_m} / (p_nᵀ e^{z_m})`` with ``p_n = P(·|n)``, ``z_m`` the row of Z of the
query m = ψ(n); ``f_n = c_n / ||c_n||``, ``α_n = softmax(Y f_n)``; the expected loss
``L = (1/K) Σ_n −log α_n[next token of n]``.  Its gradient flow (derived here and checked
against finite differences; the paper's theorems could not be read word for word):

    Ẏ   = η_Y E_n[(e_n − α_n) f_nᵀ]
    ż_m = η_Z E_n[1{ψ(n) = m} (diag c_n − c_n c_nᵀ)(I − f_n f_nᵀ) Yᵀ (e_n − α_n) / ||c_n||]

(E_n the uniform average over the K classes; e_n the one-hot of n's next token).  Since
``(diag c − c cᵀ) 1 = 0`` and ``1ᵀ (e_n − α_n) = 0``: ``1ᵀ ż_m = 0`` (a constant added to a
row of Z changes nothing) and ``1ᵀ Ẏ = 0``.  ``proofs/scan_snap.py`` derives both.

Token index arrays are (B, T) with the query last; Z, Y are (M, M); a batch of class
distributions is (K, M).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, finite_result, finite_scalar, flag, integer_array, positive_int
from .data import ScanSnapTask, scan_snap_task

__all__ = ["HISTOGRAM_T", "init_params", "attention_histogram", "finite_loss", "long_sequence_attention",
           "reduced_loss", "paper_flow", "entropy", "distinct_entropy"]


def init_params(rng, M: int, *, zero: bool = False) -> dict:
    """``{"Y", "Z"}`` (M, M): zero (the authors' ``zero_init``) or, by default, uniform on
    ``±1/√M`` (a linear layer's default initialisation, which the authors' code keeps)."""
    rng, M = as_rng(rng), positive_int("M", M)
    if flag("zero", zero):
        return {"Y": np.zeros((M, M)), "Z": np.zeros((M, M))}
    bound = 1.0 / np.sqrt(M)
    return {"Y": rng.uniform(-bound, bound, (M, M)), "Z": rng.uniform(-bound, bound, (M, M))}


def _model_params(params, M=None):
    """``(Y, Z)`` from ``{"Y", "Z"}``, both (M, M) (M from Z when not given)."""
    if not isinstance(params, dict) or set(params) != {"Y", "Z"}:
        raise ValueError(f"params must be a dict with keys 'Y' and 'Z'; got {params!r:.60}")
    Z = array("params['Z']", params["Z"], ndim=2)
    M = Z.shape[0] if M is None else M
    Z = array("params['Z']", Z, shape=(M, M))
    return array("params['Y']", params["Y"], shape=(M, M)), Z


def _check(params, tokens, labels=None):
    Y, Z = _model_params(params)
    M = Z.shape[0]
    tokens = integer_array("tokens", tokens, low=0, high=M)
    if tokens.ndim != 2 or tokens.shape[1] < 2:
        raise ValueError(f"tokens must be (B, T) with T >= 2 (contextual tokens, then the query); "
                         f"got shape {tokens.shape}")
    if labels is not None:
        labels = integer_array("labels", labels, shape=tokens.shape[:1], low=0, high=M)
    return Y, Z, tokens, labels


def _histogram(Z, tokens):
    """Softmax weights b (B, T−1) over the contextual positions and the histogram h (B, M)."""
    B, T = tokens.shape
    M = Z.shape[0]
    q, X = tokens[:, -1], tokens[:, :-1]
    a = Z[q[:, None], X]                                   # (B, T−1) logits Z[x_T, x_t]
    a = a - a.max(axis=1, keepdims=True)
    b = np.exp(a)
    b /= b.sum(axis=1, keepdims=True)                      # softmax over t
    idx = (np.arange(B)[:, None] * M + X).ravel()
    h = np.bincount(idx, weights=b.ravel(), minlength=B * M).reshape(B, M)   # Σ_t b_t e_{x_t}
    return b, h


@finite_result
def attention_histogram(Z, tokens) -> np.ndarray:
    """The attention-weighted token histogram ``h = Σ_{t<T} b_t e_{x_t}`` of each sequence
    (no residual): (B, M).  For T → ∞ it tends to ``c_n`` (claim ``tian-histogram-limit``)."""
    Z = array("Z", Z, ndim=2)
    _, Z, tokens, _ = _check({"Y": np.zeros_like(Z), "Z": Z}, tokens)
    return _histogram(Z, tokens)[1]


def finite_loss(params, tokens, labels, *, residual: bool = False):
    """Cross-entropy of the finite-T model on one batch and its hand-written gradients
    ``{"Y", "Z"}``.  Backward: dlogits = (softmax − e_label)/B, dY = dlogitsᵀ f,
    df = dlogits Y, dh = (I − f fᵀ) df / ||h||, db_t = dh[x_t], da = b ⊙ (db − Σ b db),
    dZ[x_T, x_t] += da_t."""
    Y, Z, tokens, labels = _check(params, tokens, labels)
    if labels is None:
        raise ValueError("labels must be an integer array (B,); got None")
    return _finite_loss(Y, Z, tokens, labels, flag("residual", residual))


def _finite_loss(Y, Z, tokens, labels, residual):
    B, T = tokens.shape
    M = Z.shape[0]
    q, X = tokens[:, -1], tokens[:, :-1]
    b, h = _histogram(Z, tokens)
    if residual:
        h[np.arange(B), q] += 1.0                          # the query's own embedding
    r = np.linalg.norm(h, axis=1, keepdims=True)           # (B, 1)
    f = h / r
    logits = f @ Y.T                                       # (B, M)
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    loss = -float(np.mean(np.log(p[np.arange(B), labels])))
    dlogits = p
    dlogits[np.arange(B), labels] -= 1.0
    dlogits /= B
    dY = dlogits.T @ f
    df = dlogits @ Y
    dh = (df - f * np.sum(f * df, axis=1, keepdims=True)) / r      # (I − f fᵀ) df / ||h||
    db = dh[np.arange(B)[:, None], X]                      # (B, T−1)
    da = b * (db - np.sum(b * db, axis=1, keepdims=True))  # softmax backward
    dZ = np.bincount((q[:, None] * M + X).ravel(), weights=da.ravel(), minlength=M * M).reshape(M, M)
    return loss, {"Y": dY, "Z": dZ}


def _check_task(task):
    if not isinstance(task, ScanSnapTask):
        raise ValueError(f"task must be a ScanSnapTask; got {type(task).__name__}")
    return task


@finite_result
def long_sequence_attention(Z, task: ScanSnapTask) -> np.ndarray:
    """``c_n = p_n ⊙ e^{z_{ψ(n)}} / (p_nᵀ e^{z_{ψ(n)}})`` for every class: (K, M)."""
    task = _check_task(task)
    Z = array("Z", Z, shape=(task.M, task.M))
    return _attention(Z, task)


def _attention(Z, task):
    z = Z[task.query]                                      # (K, M) rows z_{ψ(n)}
    z = z - np.where(task.P > 0, z, -np.inf).max(axis=1, keepdims=True)
    w = task.P * np.exp(np.minimum(z, 700.0))              # exp only matters where P > 0
    return w / w.sum(axis=1, keepdims=True)


def reduced_loss(params, task: ScanSnapTask):
    """The expected loss of the long-sequence model ``L = (1/K) Σ_n −log α_n[next(n)]`` and
    its exact gradients ``{"Y", "Z"}`` (only the query rows of Z have one)."""
    task = _check_task(task)
    Y, Z = _model_params(params, task.M)
    loss, g, _ = _reduced(Y, Z, task)
    return loss, g


def _reduced(Y, Z, task):
    K = task.K
    c = _attention(Z, task)                                # (K, M)
    r = np.linalg.norm(c, axis=1, keepdims=True)
    f = c / r
    logits = f @ Y.T
    logits -= logits.max(axis=1, keepdims=True)
    alpha = np.exp(logits)
    alpha /= alpha.sum(axis=1, keepdims=True)
    loss = -float(np.mean(np.log(alpha[np.arange(K), task.next_token])))
    e = np.zeros_like(alpha)
    e[np.arange(K), task.next_token] = 1.0
    dlogits = (alpha - e) / K
    dY = dlogits.T @ f
    df = dlogits @ Y
    dc = (df - f * np.sum(f * df, axis=1, keepdims=True)) / r      # (I − f fᵀ) df / ||c||
    dz = c * (dc - np.sum(c * dc, axis=1, keepdims=True))          # (diag c − c cᵀ) dc
    dZ = np.zeros_like(Z)
    np.add.at(dZ, task.query, dz)                          # classes sharing a query add up
    return loss, {"Y": dY, "Z": dZ}, dict(c=c, f=f, alpha=alpha, r=r, e=e)


@finite_result
def paper_flow(params, task: ScanSnapTask, eta_Y: float = 1.0, eta_Z: float = 1.0) -> dict:
    """``{"Y": Ẏ, "Z": Ż}`` by the formulas of the module docstring (written out, not through
    the loss's gradient), so the two can be compared (claim ``tian-flow``)."""
    task = _check_task(task)
    Y, Z = _model_params(params, task.M)
    eta_Y, eta_Z = finite_scalar("eta_Y", eta_Y, positive=True), finite_scalar("eta_Z", eta_Z, positive=True)
    _, _, s = _reduced(Y, Z, task)
    c, f, alpha, r, e = s["c"], s["f"], s["alpha"], s["r"], s["e"]
    K, M = c.shape
    Ydot = eta_Y * np.mean((e - alpha)[:, :, None] * f[:, None, :], axis=0)          # E_n[(e_n − α_n) f_nᵀ]
    Zdot = np.zeros((M, M))
    I = np.eye(M)
    for n in range(K):                                     # the formula term by term (K is small)
        J = np.diag(c[n]) - np.outer(c[n], c[n])           # diag c_n − c_n c_nᵀ
        proj = I - np.outer(f[n], f[n])                    # I − f_n f_nᵀ
        Zdot[task.query[n]] += eta_Z / K * (J @ proj @ Y.T @ (e[n] - alpha[n])) / r[n, 0]
    return {"Y": Ydot, "Z": Zdot}


@finite_result
def entropy(c) -> np.ndarray:
    """``−Σ_l c(l) ln c(l)`` of each row (nats; 0 ln 0 = 0): (K,)."""
    c = array("c", c, ndim=2)
    if np.any(c < 0):
        raise ValueError("c must be non-negative (distributions)")
    return _entropy(c)


def _entropy(c):
    logc = np.log(np.where(c > 0, c, 1.0))
    return -np.sum(c * logc, axis=1)


def distinct_entropy(c, task: ScanSnapTask) -> np.ndarray:
    """The entropy of each class's attention over its *distinct* tokens only (those no
    other class draws), renormalised to sum to one: ``H(c_n|distinct(n) / Σ c_n|distinct(n))``
    in nats, (K,).  The quantity of Tian et al. 2023's entropy figure (Fig. 6, "average
    entropy of c_n" — the mean over n of this), in our reading of their numbers (see
    :mod:`theory.scan_snap.authors`); :func:`entropy` of the whole c_n counts the common
    tokens too.  ``c``: (K, M) rows of the long-sequence attention."""
    task = _check_task(task)
    c = array("c", c, shape=(task.K, task.M))
    if np.any(c < 0):
        raise ValueError("c must be non-negative (distributions)")
    distinct = (task.P > 0) & ((task.P > 0).sum(axis=0) == 1)[None, :]   # (K, M) class n's own tokens
    d = np.where(distinct, c, 0.0)
    mass = d.sum(axis=1, keepdims=True)
    if np.any(mass <= 0):
        raise ValueError("c must put some weight on every class's distinct tokens")
    return _entropy(d / mass)


# --------------------------------------------------------------------------- random checks
def _instance(rng):
    task = scan_snap_task(int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(0, 3)),
                          int(rng.integers(2, 4)))              # M <= 20: central differences stay cheap
    params = {"Y": rng.standard_normal((task.M, task.M)), "Z": rng.standard_normal((task.M, task.M))}
    return task, params


HISTOGRAM_T = (64, 256, 1024, 4096)
