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
- :mod:`~theory.induction.markov`        Edelman et al. 2024: in-context Markov chains and the
  exact uniform / unigram / bigram strategies
- :mod:`~theory.induction.minimal_model` Edelman et al.'s minimal two-layer model (forward and
  hand-written backward, causal or the authors' unmasked layer 1)
- :mod:`~theory.induction.markov_transformer` their two-layer attention-only transformer with relative
  positions (forward and hand-written backward)
- :mod:`~theory.induction.markov_training` one training loop for both, the stage measures
- :mod:`~theory.induction.markov_reproduction`, :mod:`~theory.induction.markov_figures`  the
  ``markov-icl`` record and its figures
- :mod:`~theory.induction.claims`        the topic's ledger entries (``reddy-*``, ``edelman-*``)

Proofs: ``proofs/induction_head.py``, ``proofs/statistical_induction_head.py``.
"""
from ..core.registry import Topic
from . import (claims, data, figures, markov, markov_figures, markov_reproduction, markov_training,
               markov_transformer, minimal_model, network, paper, reproduction, three_param, training, two_param)
from .data import *  # noqa: F401,F403
from .markov import *  # noqa: F401,F403
from .minimal_model import *  # noqa: F401,F403
from .markov_transformer import *  # noqa: F401,F403
from .markov_training import *  # noqa: F401,F403
from .network import *  # noqa: F401,F403
from .reproduction import *  # noqa: F401,F403
from .three_param import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .two_param import *  # noqa: F401,F403

TOPIC = Topic("induction", papers=claims.PAPERS, claims=claims.CLAIMS,
              reproductions=(reproduction.REPRODUCTION, markov_reproduction.MARKOV_REPRODUCTION),
              figures={"induction-head": figures.induction_head_figures, "markov-icl": markov_figures.markov_figures,
                       paper.RECORD_PREFIX + "*": figures.induction_paper_figures})

__all__ = ["data", "three_param", "network", "two_param", "training", "reproduction", "paper", "figures", "claims",
           "markov", "minimal_model", "markov_transformer", "markov_training", "markov_reproduction", "markov_figures",
           "TOPIC", *data.__all__, *markov.__all__, *minimal_model.__all__, *markov_transformer.__all__,
           *markov_training.__all__, *three_param.__all__, *network.__all__, *two_param.__all__, *training.__all__,
           *reproduction.__all__]
