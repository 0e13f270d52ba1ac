"""von Oswald et al. 2023 (ICML), "Transformers learn in-context by gradient descent": one
linear self-attention layer is one step of gradient descent, K layers are K steps, GD++;
and the one-layer optimum for Gaussian inputs (Zhang, Frei & Bartlett 2024).

- :mod:`~theory.gd_step.data`          in-context linear regression tasks
- :mod:`~theory.gd_step.lsa`           the LSA layer, its stacks and loss (forward + backward)
- :mod:`~theory.gd_step.construction`  the weights of GD and GD++, and the direct algorithms
- :mod:`~theory.gd_step.closed_forms`  the best one-step η and ZFB's Γ, checked by exact quadrature
- :mod:`~theory.gd_step.training`      training LSA stacks (and GD / GD++ with learned rates)
- :mod:`~theory.gd_step.comparison`    the paper's equivalence metrics against GD
- :mod:`~theory.gd_step.reproduction`  the paper's experiments as a run record
- :mod:`~theory.gd_step.figures`       the figures, drawn from that record
- :mod:`~theory.gd_step.claims`        the topic's ledger entries (``vo-*``, ``zfb-*``)

Proof: ``proofs/gd_step.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.gd_step.<module>.<name>)
from . import claims, closed_forms, comparison, construction, data, figures, lsa, reproduction, training  # noqa: F401
from .data import regression_tasks
from .lsa import tokens, readout, lsa_forward, lsa_backward, stack_forward, stack_backward, lsa_loss
from .construction import gd_construction, gdpp_construction, gd_predict, gdpp_predict
from .closed_forms import optimal_one_step, zfb_gamma, exact_one_step
from .training import train_lsa
from .comparison import compare_to_gd
from .reproduction import GDReproConfig, reproduce, format_report

TOPIC = Topic("gd_step", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"gd-step": figures.gd_step_figures},
              title="von Oswald et al. 2023: one attention layer is one step of gradient descent")

__all__ = ["TOPIC", "regression_tasks", "tokens", "readout", "lsa_forward", "lsa_backward", "stack_forward",
           "stack_backward", "lsa_loss", "gd_construction", "gdpp_construction", "gd_predict",
           "gdpp_predict", "optimal_one_step", "zfb_gamma", "exact_one_step", "train_lsa", "compare_to_gd",
           "GDReproConfig", "reproduce", "format_report"]
