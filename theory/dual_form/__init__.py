"""Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559): the dual form.

- :mod:`~theory.dual_form.dual`      GD on a linear layer = linear attention; ICL split into
  ``W_ZSL q + ΔW_ICL q`` (exact for linear attention; softmax as a convex mixture)
- :mod:`~theory.dual_form.momentum`  the exact dual of heavy-ball momentum, against the
  paper's momentum attention
- :mod:`~theory.dual_form.reproduction`  the measurements behind the figures, as a run record
- :mod:`~theory.dual_form.figures`   the figures, drawn from that record
- :mod:`~theory.dual_form.claims`    the topic's ledger entries (``dai-*``)

Proofs: ``proofs/dual_form.py``, ``proofs/dual_form_momentum.py``.
"""
from ..core.registry import Topic
from . import claims, dual, figures, momentum, reproduction
from .dual import *  # noqa: F401,F403
from .momentum import *  # noqa: F401,F403
from .reproduction import ETAS, SCALES, format_report, reproduce  # noqa: F401

TOPIC = Topic("dual_form", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"dual-form": figures.dual_form_figures})

__all__ = ["dual", "momentum", "reproduction", "figures", "claims", "TOPIC", *dual.__all__, *momentum.__all__,
           "SCALES", "ETAS", "reproduce", "format_report"]
