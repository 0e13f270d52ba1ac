"""Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559): the dual form.

- :mod:`~theory.dual_form.dual`      GD on a linear layer = linear attention; ICL split into
  ``W_ZSL q + ΔW_ICL q`` (exact for linear attention; softmax as a convex mixture)
- :mod:`~theory.dual_form.momentum`  the exact dual of heavy-ball momentum, against the
  paper's momentum attention
- :mod:`~theory.dual_form.similarity` the paper's comparisons of ICL with finetuning (Rec2FTP,
  SimAOU, SimAM) as the authors' analysis script computes them
- :mod:`~theory.dual_form.gpt`        a small causal softmax transformer (optional momentum
  attention) with a hand-written backward; :mod:`~theory.dual_form.tasks` its in-context
  classification tasks; :mod:`~theory.dual_form.pretraining` pretraining on them or on a
  small language
- :mod:`~theory.dual_form.icl_vs_ft`  the paper's protocol: ICL against finetuning of W_K, W_V
- :mod:`~theory.dual_form.reproduction`  the measurements behind the figures, as a run record
- :mod:`~theory.dual_form.experiments`  the paper's experiments at CPU scale, as a run record
- :mod:`~theory.dual_form.figures`   the figures, drawn from that record
- :mod:`~theory.dual_form.claims`    the topic's ledger entries (``dai-*``)

Proofs: ``proofs/dual_form.py``, ``proofs/dual_form_momentum.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.dual_form.<module>.<name>)
from . import claims, dual, experiments, figures, gpt, icl_vs_ft, momentum, pretraining, reproduction, similarity, tasks  # noqa: F401
from .dual import GDStep, gd_step_linear, finetuned_output, dual_output, icl_linear_attention, icl_split, icl_split_output, softmax_icl_mixture
from .momentum import momentum_sgd, momentum_weights, momentum_dual_output, momentum_attention, momentum_gap
from .reproduction import reproduce, format_report
from .similarity import f2t_mask, rec2ftp, sim_aou, random_sim_aou, sim_am

TOPIC = Topic("dual_form", papers=claims.PAPERS, claims=claims.CLAIMS,
              reproductions=(reproduction.REPRODUCTION, experiments.REPRODUCTION),
              figures={"dual-form": figures.dual_form_figures, "dai-experiments": figures.experiments_figures},
              requires=("markov_icl",),             # the in-context Markov-chain sampler of the language objective
              title="Dai et al. 2023: gradient descent is linear attention")

__all__ = ["TOPIC", "GDStep", "gd_step_linear", "finetuned_output", "dual_output", "icl_linear_attention", "icl_split",
           "icl_split_output", "softmax_icl_mixture", "momentum_sgd", "momentum_weights",
           "momentum_dual_output", "momentum_attention", "momentum_gap", "reproduce", "format_report",
           "f2t_mask", "rec2ftp", "sim_aou", "random_sim_aou", "sim_am"]
