"""The ledger entries of Dai et al. 2023 (collected by ``theory/claims.py``)."""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng, choice
from ..core.gradcheck import rel_error
from ..core.registry import APPROXIMATE, EXACT, FALSE_AS_STATED, Claim
from .dual import (LOSSES, _icl_instance, _sizes, dual_output, finetuned_output, gd_step_linear,
    icl_linear_attention, icl_split_output, softmax_icl_mixture)
from .momentum import _momentum_instance, momentum_dual_output, momentum_gap, momentum_sgd
from . import gpt, icl_vs_ft, tasks

DAI = "Dai et al. 2023"
PAPERS = {"dai": DAI}

__all__ = ["DAI", "PAPERS", "CLAIMS"]


def _both_losses(check):
    """The worse of a check under squared error and under cross-entropy."""
    def run(rng):
        return max(check(rng, "squared"), check(rng, "cross_entropy"))
    run.__doc__ = check.__doc__
    return run


def _check_dual_form(rng: np.random.Generator, loss: str = "squared") -> float:
    """Relative error of ``(W0 + ΔW) x = W0 x + LinearAttn(E, X', x)`` on a random instance."""
    rng = as_rng(rng)
    loss = choice("loss", loss, LOSSES)
    d_out, d_in, N = _sizes(rng)
    d_out = max(d_out, 2) if loss == "cross_entropy" else d_out
    W0 = rng.standard_normal((d_out, d_in))
    X = rng.standard_normal((N, d_in))
    Xq = rng.standard_normal((3, d_in))
    targets = (rng.integers(0, d_out, size=N) if loss == "cross_entropy"
               else rng.standard_normal((N, d_out)))
    step = gd_step_linear(W0, X, targets, lr=float(rng.uniform(0.05, 1.0)), loss=loss)
    return rel_error(finetuned_output(W0, step.delta_W, Xq), dual_output(W0, step.E, X, Xq))


def _check_icl_split(rng: np.random.Generator) -> float:
    """Relative error of ``LinearAttn over [X'; X] = W_ZSL q + ΔW_ICL q``."""
    rng = as_rng(rng)
    args = _icl_instance(rng)
    return rel_error(icl_linear_attention(*args), icl_split_output(*args))


def _check_softmax_mixture(rng: np.random.Generator) -> float:
    """Relative error of ``SoftAttn([X'; X]) = λ SoftAttn(X) + (1-λ) SoftAttn(X')``."""
    rng = as_rng(rng)
    full, lam, zero_shot, demo = softmax_icl_mixture(*_icl_instance(rng))
    return rel_error(full, lam * zero_shot + (1 - lam) * demo)


def _softmax_split_gap(rng: np.random.Generator) -> float:
    """How far the *linear* split ``W_ZSL q + ΔW_ICL q`` is from softmax attention."""
    rng = as_rng(rng)
    args = _icl_instance(rng)
    full = softmax_icl_mixture(*args)[0]
    return rel_error(full, icl_split_output(*args))


def _check_momentum_dual(rng: np.random.Generator, loss: str = "squared") -> float:
    """Relative error of ``W_N x = W0 x + Σ s_{N-i} e_i x_i^T x`` for online momentum SGD."""
    rng = as_rng(rng)
    loss = choice("loss", loss, LOSSES)
    W0, X, targets, lr, eta = _momentum_instance(rng, loss)
    W_N, E = momentum_sgd(W0, X, targets, lr=lr, eta=eta, loss=loss)
    Xq = rng.standard_normal((3, X.shape[1]))
    return rel_error(Xq @ W_N.T, momentum_dual_output(W0, E, X, Xq, eta))


def _momentum_literal_gap(rng: np.random.Generator) -> float:
    """Gap between the paper's MoAttn and the exact momentum dual (η >= 0.05)."""
    rng = as_rng(rng)
    W0, X, targets, lr, _ = _momentum_instance(rng)
    eta = float(rng.uniform(0.05, 0.95))
    _, E = momentum_sgd(W0, X, targets, lr=lr, eta=eta)
    return momentum_gap(E, X, rng.standard_normal((5, X.shape[1])), eta)


def _check_ft_dual_transformer(rng: np.random.Generator, inputs: str = "each step") -> float:
    """Relative error of Dai's dual form inside the small transformer: after finetuning
    ``W_K`` and ``W_V`` of every layer on the demonstrations (SGD, batch 1, one pass in order;
    :func:`theory.dual_form.icl_vs_ft.finetune`), a layer's key/value of any input u is
    ``u W⁰ + Σ_steps Σ_j (u_j · u) e_j`` — linear attention over that step's layer inputs
    u_j with values ``e_j = −lr ∂L/∂(u_j W)`` (the signals of the backward pass).
    ``inputs="first step"`` (a wrong variant, for the tests) keeps the layer inputs of the
    first demonstration's pass for every step: wrong in layer 2, whose inputs move with
    layer 1's finetuned weights."""
    rng = as_rng(rng)
    inputs = choice("inputs", inputs, ("each step", "first step"))
    d, n_tasks, n_demos, D = int(rng.integers(2, 5)), 3, int(rng.integers(2, 6)), 8
    p = gpt.init_gpt(rng, d + 4, 2, D=D, layers=2, heads=2, T=4)
    p = {k: v * 15 if v.ndim == 2 else v for k, v in p.items()}        # O(1) weights, non-trivial signals
    X, y, _ = tasks.sample_tasks(rng, n_tasks, n_demos + 1, d)
    lr = float(rng.uniform(0.05, 0.5))
    tuned = icl_vs_ft.finetune(p, X, y, n_demos, lr)                  # through the parameter gradients
    q = {k: (np.repeat(v[None], n_tasks, 0) if k.split(".")[-1] in icl_vs_ft.KV else v) for k, v in p.items()}
    u = rng.standard_normal((n_tasks, 5, D))                          # any inputs of a layer
    dual = {k: u @ p[k] for k in q if k.split(".")[-1] in icl_vs_ft.KV}
    labels, first = np.full((n_tasks, 2), -1), {}
    for i in range(n_demos):                                          # the same pass, read as attention
        tok = tasks._tokens(X[:, i:i + 1], y[:, i:i + 1], 0, query=True)
        labels[:, 1] = y[:, i]
        logits, cache = gpt._forward(q, tok, 2, 0.0)
        signals = {}
        g = gpt._backward(gpt._xent(logits, labels, "sum")[1], cache, signals)
        for k in dual:
            U = cache.layers[int(k[1]) - 1].U                         # the layer's inputs u_j (n, T, D)
            if inputs == "first step":
                U = first.setdefault(k, U)
            dual[k] = dual[k] + (u @ U.transpose(0, 2, 1)) @ (-lr * signals[k])   # Σ_j (u·u_j) e_j
            q[k] = q[k] - lr * g[k]
    return max(rel_error(u @ tuned[k], dual[k]) for k in dual)


CLAIMS = (
    Claim("dai-dual-squared", DAI,
          "GD on W0 x (squared error): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: _check_dual_form(rng, "squared")),
    Claim("dai-dual-xent", DAI,
          "GD on W0 x (cross-entropy): (W0 + ΔW) x = W0 x + LinearAttn(E, X', x)",
          EXACT, "dual_form", lambda rng: _check_dual_form(rng, "cross_entropy")),
    Claim("dai-icl-split", DAI,
          "linear attention over [X'; X]: W_V[X';X](W_K[X';X])^T q = W_ZSL q + ΔW_ICL q",
          EXACT, "dual_form", _check_icl_split),
    Claim("dai-icl-softmax", DAI,
          "softmax attention over [X'; X] = λ SoftAttn(X) + (1-λ) SoftAttn(X'), λ = Z_X/(Z_X+Z_X')",
          APPROXIMATE, "dual_form", _check_softmax_mixture,
          literal_gap=_softmax_split_gap,
          paper_says="softmax attention ≈ W_ZSL q + ΔW_ICL q (after relaxing softmax to linear)"),
    Claim("dai-momentum", DAI,
          "heavy-ball momentum SGD: W_N x = W0 x + Σ_i s_{N-i} e_i x_i^T x, s_k = (1-η^{k+1})/(1-η)",
          FALSE_AS_STATED, "dual_form_momentum", _both_losses(_check_momentum_dual),
          literal_gap=_momentum_literal_gap,
          paper_says="MoAttn = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i is the dual of momentum GD"),
    Claim("dai-ft-transformer-dual", DAI,
          "finetuning W_K, W_V of a softmax transformer on demonstrations (SGD, one pass): u W' = u W + Σ_j (u_j·u) e_j",
          EXACT, "dual_form", _check_ft_dual_transformer),
)
