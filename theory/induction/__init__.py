"""Reddy 2024 (ICLR), "The mechanistic basis of data dependence and abrupt learning in an
in-context classification task" (arXiv 2312.03002): bursty item-label data, a two-layer
attention network whose induction head forms abruptly, and the three-parameter model
whose loss landscape has a cliff.

- :mod:`~theory.induction.data`          item-label classes and bursty sequences
- :mod:`~theory.induction.three_param`   the three-parameter model (β, α, ξ) and GD on it
- :mod:`~theory.induction.network`       the full network (forward + hand-written backward)
  and its progress measures
- :mod:`~theory.induction.two_param`     the two-parameter induction head (our reading of Sec. 4)
- :mod:`~theory.induction.training`      one SGD loop for both models, sweeps
- :mod:`~theory.induction.reproduction`  landscape, minutes-scale runs and sweeps as a run record
- :mod:`~theory.induction.paper`         the runs at the paper's widths (its own reproduction
  functions: ``induction.paper.reproduce``)
- :mod:`~theory.induction.figures`       the figures, drawn from the records
- :mod:`~theory.induction.claims`        the topic's ledger entries (``reddy-*``)

Proof: ``proofs/induction_head.py``.
"""
from ..core.registry import Topic
from . import claims, data, figures, network, paper, reproduction, three_param, training, two_param
from .data import *  # noqa: F401,F403
from .network import *  # noqa: F401,F403
from .reproduction import *  # noqa: F401,F403
from .three_param import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .two_param import *  # noqa: F401,F403

TOPIC = Topic("induction", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"induction-head": figures.induction_head_figures,
                       paper.RECORD_PREFIX + "*": figures.induction_paper_figures})

__all__ = ["data", "three_param", "network", "two_param", "training", "reproduction", "paper", "figures", "claims",
           "TOPIC", *data.__all__, *three_param.__all__, *network.__all__, *two_param.__all__, *training.__all__,
           *reproduction.__all__]
