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
# every module is an attribute too (theory.induction.<module>.<name>)
from . import claims, data, figures, network, paper, reproduction, three_param, training, two_param  # noqa: F401
from .data import item_label_classes, item_label_sequences
from .three_param import three_param_forward, three_param_backward, three_param_loss, gradient_descent
from .network import init_network, network_forward, network_backward, network_loss, progress_measures
from .two_param import init_two_param, two_param_forward, two_param_backward, two_param_loss
from .training import NetworkConfig, train_network, sweep
from .reproduction import reproduce, format_report

TOPIC = Topic("induction", papers=claims.PAPERS, claims=claims.CLAIMS,
              reproductions=(reproduction.REPRODUCTION,),
              figures={"induction-head": figures.induction_head_figures,
                       paper.RECORD_PREFIX + "*": figures.induction_paper_figures},
              title="Reddy 2024: induction heads and abrupt learning")

__all__ = ["TOPIC", "item_label_classes", "item_label_sequences", "three_param_forward", "three_param_backward",
           "three_param_loss", "gradient_descent", "init_network", "network_forward", "network_backward",
           "network_loss", "progress_measures", "init_two_param", "two_param_forward", "two_param_backward",
           "two_param_loss", "NetworkConfig", "train_network", "sweep", "reproduce", "format_report"]
