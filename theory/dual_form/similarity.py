"""Dai et al. 2023's three comparisons of in-context learning (ICL) with finetuning (FT).

The paper compares, on each test example, the zero-shot model (ZS), the model with the
demonstrations in its prompt (ICL), and the zero-shot model finetuned on the same
demonstrations (FT; only ``W_K`` and ``W_V``, one pass in order).  The three metrics are
computed here exactly as the authors' analysis script defines them (``understand_icl/
icl_ft/compute_sim.py`` in microsoft/LMOps; see ``docs/papers.md``):

- **Rec2FTP** (prediction): of the examples that zero-shot gets wrong and finetuning gets
  right (F2T), the share, in percent, that ICL also gets right:
  ``100 · #(ZS wrong ∧ FT right ∧ ICL right) / #(ZS wrong ∧ FT right)``.
- **SimAOU** (representation): per layer, the cosine between the ICL update and the FT
  update of the attention output at the last token, each output first scaled to unit
  length: ``cos(ĥ_ICL − ĥ_ZS, ĥ_FT − ĥ_ZS)``, ``ĥ = h / (‖h‖ + 1e-20)``, averaged over
  examples.  The authors' baseline replaces the FT update by a random one drawn uniformly
  from [0, 1)ᵈ (:func:`random_sim_aou`, ``"uniform"``) — a vector in the positive orthant,
  not a random direction; ``"gaussian"`` draws an isotropic direction instead (the
  baseline Deutch et al. 2023 argue for; a cosine does not depend on the norm, so "the
  same norm as the FT update" changes nothing).
- **SimAM** (attention behaviour): per layer, the cosine between the last token's
  attention scores over the zero-shot prompt's positions under ICL and under FT (the
  authors' code compares the scores *before* the softmax), averaged over heads, then over
  examples; the ZS baseline compares ICL with zero-shot instead (``ZSL SimAM``).

Every metric can be restricted to the F2T examples (:func:`f2t_mask`), the authors'
``f2t`` mode.  Shapes: hidden states ``(n_examples, n_layers, d)``, attention scores
``(n_examples, n_layers, n_heads, n_positions)``; the authors left-pad prompts of
different lengths with 0 (scores before softmax), which callers do before calling.
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, as_rng, choice

__all__ = ["BASELINES", "f2t_mask", "rec2ftp", "sim_aou", "random_sim_aou", "sim_am"]

BASELINES = ("uniform", "gaussian")      # the authors' random update; an isotropic direction


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a·b / (‖a‖ ‖b‖ + 1e-20)`` over the last axis (the authors' ``cal_cos_sim``)."""
    return (a * b).sum(axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-20)


def _unit(h: np.ndarray) -> np.ndarray:
    """``h / (‖h‖ + 1e-20)`` over the last axis (the authors' ``norm_hidden``)."""
    return h / (np.linalg.norm(h, axis=-1, keepdims=True) + 1e-20)


def _outcomes(zs_correct, icl_correct, ft_correct):
    zs = np.asarray(zs_correct)
    if zs.ndim != 1 or zs.size == 0 or zs.dtype != bool:
        raise ValueError(f"zs_correct must be a non-empty 1-D boolean array (one entry an example); got {zs_correct!r}")
    out = [zs]
    for name, x in (("icl_correct", icl_correct), ("ft_correct", ft_correct)):
        x = np.asarray(x)
        if x.shape != zs.shape or x.dtype != bool:
            raise ValueError(f"{name} must be a boolean array of shape {zs.shape}, like zs_correct; got {x!r}")
        out.append(x)
    return out


def f2t_mask(zs_correct, icl_correct, ft_correct) -> np.ndarray:
    """The F2T examples of the authors' ``f2t`` mode: zero-shot wrong, finetuning and ICL right."""
    zs, icl, ft = _outcomes(zs_correct, icl_correct, ft_correct)
    return ~zs & ft & icl


def rec2ftp(zs_correct, icl_correct, ft_correct) -> float:
    """Rec2FTP in percent: ``100 · #(ZS wrong ∧ FT right ∧ ICL right) / #(ZS wrong ∧ FT right)``.

    A ``ValueError`` when finetuning turns no wrong zero-shot answer right (the share is
    undefined; the authors' script would divide by zero)."""
    zs, icl, ft = _outcomes(zs_correct, icl_correct, ft_correct)
    fixed_by_ft = ~zs & ft
    if not fixed_by_ft.any():
        raise ValueError("Rec2FTP is undefined: finetuning turns no wrong zero-shot answer right")
    return float(100.0 * (fixed_by_ft & icl).sum() / fixed_by_ft.sum())


def _hiddens(zs, icl, *ft):
    zs = array("zs_hidden", zs, ndim=3)
    return (zs, array("icl_hidden", icl, shape=zs.shape), *(array("ft_hidden", f, shape=zs.shape) for f in ft))


def sim_aou(zs_hidden, icl_hidden, ft_hidden) -> np.ndarray:
    """SimAOU per layer (n_layers,): ``mean_examples cos(ĥ_ICL − ĥ_ZS, ĥ_FT − ĥ_ZS)``, each
    attention output scaled to unit length first.  Inputs (n_examples, n_layers, d)."""
    zs, icl, ft = (_unit(h) for h in _hiddens(zs_hidden, icl_hidden, ft_hidden))
    return _cos(icl - zs, ft - zs).mean(axis=0)                 # (n_examples, n_layers) → (n_layers,)


def random_sim_aou(zs_hidden, icl_hidden, rng, baseline: str = "uniform") -> np.ndarray:
    """SimAOU per layer with the FT update replaced by a random one: ``"uniform"`` draws each
    entry from U[0, 1) (the authors' ``np.random.random``), ``"gaussian"`` an isotropic
    direction (N(0, I)).  Inputs (n_examples, n_layers, d)."""
    zs, icl = _hiddens(zs_hidden, icl_hidden)
    rng, baseline = as_rng(rng), choice("baseline", baseline, BASELINES)
    update = _unit(icl) - _unit(zs)
    draw = rng.random(update.shape) if baseline == "uniform" else rng.standard_normal(update.shape)
    return _cos(update, draw).mean(axis=0)


def sim_am(zs_scores, icl_scores, ft_scores) -> tuple[np.ndarray, np.ndarray]:
    """``(SimAM, ZSL SimAM)`` per layer (n_layers,): the cosine of the last token's attention
    scores over the zero-shot positions, ICL against FT and ICL against ZS, averaged over
    heads, then examples.  Inputs (n_examples, n_layers, n_heads, n_positions), the scores
    before the softmax as the authors compare them."""
    zs = array("zs_scores", zs_scores, ndim=4)
    icl = array("icl_scores", icl_scores, shape=zs.shape)
    ft = array("ft_scores", ft_scores, shape=zs.shape)
    return _cos(icl, ft).mean(axis=2).mean(axis=0), _cos(icl, zs).mean(axis=2).mean(axis=0)
