"""The ledger entries of Edelman et al. 2024 (collected by ``theory/claims.py``), and the
checks they run: each returns the relative error of one random instance."""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng
from ..core.gradcheck import numerical_gradient, rel_error
from ..core.registry import EXACT, Claim
from .data import markov_sequences
from .minimal_model import MASKS, minimal_loss
from .strategies import bigram_strategy
from .transformer import init_transformer, transformer_loss

EDELMAN = "Edelman et al. 2024"
PAPERS = {"edelman": EDELMAN}

__all__ = ["EDELMAN", "PAPERS", "CLAIMS"]


def _check_bigram_bayes(rng) -> float:
    """``edelman-bigram-bayes``: for k = 2 the posterior predictive ``E[P[x_t, 1] | x_1 … x_t]``
    under uniform (Dirichlet(1)) rows, by 60-point Gauss–Legendre quadrature of
    ``∫ p·p^{c(a→1)}(1−p)^{c(a→0)} dp / ∫ p^{c(a→1)}(1−p)^{c(a→0)} dp`` (exact for these
    polynomial degrees), against :func:`bigram_strategy` (relative error, random sequences)."""
    rng = as_rng(rng)
    T = int(rng.integers(2, 40))
    x, _ = markov_sequences(rng, 8, T, 2)
    nodes, weights = np.polynomial.legendre.leggauss(60)
    p, w = (nodes + 1) / 2, weights / 2                                  # on [0, 1]
    q = bigram_strategy(x, 2)
    err = 0.0
    for b in range(len(x)):
        for t in range(T):
            a = x[b, t]
            pairs = list(zip(x[b, :t], x[b, 1:t + 1]))
            c1 = sum(1 for u, v in pairs if u == a and v == 1)
            c0 = sum(1 for u, v in pairs if u == a and v == 0)
            lik = p ** c1 * (1 - p) ** c0
            err = max(err, abs((w @ (p * lik)) / (w @ lik) - q[b, t, 1]) / q[b, t, 1])
    return float(err)


def _check_minimal_gradient(rng) -> float:
    """``edelman-minimal-gradient``: the hand-written gradient against central differences (both
    masks, random v, W, tokens) — the worst error of a block relative to the norm of the whole
    gradient: the v block vanishes when every sequence repeats one token (each offset then reads
    the same token; measured: ‖∂L/∂v‖ = 1e-17 against ‖∂L/∂W‖ = 0.27) and is 400× smaller than
    the W block on others, where the central differences' ~1e-11 floor reads as 1.0 or 1e-6
    relative to the block itself."""
    rng = as_rng(rng)
    k, T = int(rng.integers(2, 4)), int(rng.integers(3, 9))
    x, _ = markov_sequences(rng, 3, T, k)
    p = {"v": rng.standard_normal(T), "W": rng.standard_normal((k, k))}
    worst = 0.0
    for mask in MASKS:
        _, g = minimal_loss(p, x, mask)
        fd = numerical_gradient(lambda q: minimal_loss(q, x, mask)[0], p, eps=1e-6)
        scale = float(np.sqrt(sum(np.sum(v * v) for v in g.values())))    # the whole gradient's norm
        worst = max(worst, *(rel_error(g[n], fd[n], scale=scale) for n in p))
    return float(worst)


def _check_init_gradient(rng) -> float:
    """``edelman-init-gradient``: ``‖∂L/∂v‖ / ‖∂L/∂W‖`` with every entry of W equal to a random c and a
    random v (0 when layer 1 has no gradient), both masks; 1 more if ``∂L/∂W`` vanishes too."""
    rng = as_rng(rng)
    k, T = int(rng.integers(2, 5)), int(rng.integers(3, 30))
    x, _ = markov_sequences(rng, 4, T, k)
    p = {"v": rng.standard_normal(T), "W": np.full((k, k), float(rng.uniform(-1, 1)))}
    worst = 0.0
    for mask in MASKS:
        _, g = minimal_loss(p, x, mask)
        nW = np.linalg.norm(g["W"])
        worst = max(worst, np.linalg.norm(g["v"]) / nW + (1.0 if nW == 0 else 0.0))
    return float(worst)


def _check_transformer_gradient(rng) -> float:
    """``edelman-transformer-gradient``: every parameter's hand-written gradient against central
    differences (random small model, 1 or 2 heads in layer 1, random weights of scale 0.5 so that
    every path matters) — the worst error of a block relative to the norm of the whole gradient
    (a block can be 0 by symmetry, e.g. the attention's when a sequence repeats one token, and
    central differences have an absolute floor of about 1e-10 here)."""
    rng = as_rng(rng)
    k, T, heads = int(rng.integers(2, 4)), int(rng.integers(3, 7)), int(rng.integers(1, 3))
    d = 2 * heads * int(rng.integers(1, 3))
    p = {n: v + 0.5 * rng.standard_normal(v.shape) for n, v in init_transformer(rng, k, T, d, heads).items()}
    x, _ = markov_sequences(rng, 3, T + 1, k)
    _, g = transformer_loss(p, x, heads)
    fd = numerical_gradient(lambda q: transformer_loss(q, x, heads)[0], p, eps=1e-6)
    scale = float(np.sqrt(sum(np.sum(v * v) for v in g.values())))        # the whole gradient's norm
    return float(max(rel_error(g[n], fd[n], scale=scale) for n in p))


CLAIMS = (
    Claim("edelman-bigram-bayes", EDELMAN,
          "the add-one bigram strategy (c(x_t→s) + 1)/(n_{x_t} + k) is the posterior predictive of a Markov chain "
          "with Dirichlet(1) rows given the context (the first token's law left out)",
          EXACT, "statistical_induction_head", _check_bigram_bayes,
          tol_note="the posterior by 60-point Gauss–Legendre quadrature, exact for these polynomial degrees"),
    Claim("edelman-minimal-gradient", EDELMAN,
          "the minimal model's hand-written gradient (offset attention, then a k × k bilinear read-out) matches "
          "central differences, with the causal mask and with the authors' unmasked layer 1",
          EXACT, "statistical_induction_head", _check_minimal_gradient, tol=1e-7,
          measured_by="finite differences", tol_note="central differences with step 1e-6: their own error is ~1e-9-1e-8 relative; each block's error "
                   "relative to the whole gradient's norm (the v block can vanish)"),
    Claim("edelman-transformer-gradient", EDELMAN,
          "the two-layer attention-only transformer's hand-written gradient (pre-LayerNorm, relative-position logits, "
          "causal softmax, final LayerNorm, unembedding) matches central differences for every parameter",
          EXACT, "statistical_induction_head", _check_transformer_gradient, tol=1e-7, max_instances=3,
          measured_by="finite differences", tol_note="central differences with step 1e-6; each block's error relative to the whole gradient's norm "
                   "(a block can vanish by symmetry)"),
    Claim("edelman-init-gradient", EDELMAN,
          "with every entry of W equal (the authors' start) the loss does not depend on layer 1: ∂L/∂v = 0 for any v "
          "while ∂L/∂W ≠ 0, so the read-out moves first",
          EXACT, "statistical_induction_head", _check_init_gradient),
)
