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
from . import claims, closed_forms, comparison, construction, data, figures, lsa, reproduction, training
from .closed_forms import *  # noqa: F401,F403
from .comparison import *  # noqa: F401,F403
from .construction import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .lsa import *  # noqa: F401,F403
from .reproduction import GDReproConfig, GDReproResult, format_report, reproduce  # noqa: F401
from .training import *  # noqa: F401,F403

TOPIC = Topic("gd_step", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"gd-step": figures.gd_step_figures})

__all__ = ["data", "lsa", "construction", "closed_forms", "training", "comparison", "reproduction", "figures",
           "claims", "TOPIC", *data.__all__, *lsa.__all__, *construction.__all__, *closed_forms.__all__,
           *training.__all__, *comparison.__all__, "GDReproConfig", "GDReproResult", "reproduce", "format_report"]
