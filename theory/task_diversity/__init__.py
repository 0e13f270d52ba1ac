"""Task diversity: when in-context learning stops being Bayesian (Raventós, Paul, Chen &
Ganguli 2023; Lu, Letey, Zavatone-Veth, Maiti & Pehlevan 2024).

- :mod:`~theory.task_diversity.data`         in-context regression with a finite task pool
  (Lu et al.'s scaling x ~ N(0, I/d); Raventós et al.'s x ~ N(0, I))
- :mod:`~theory.task_diversity.model`        the reduced linear-attention model ŷ = ⟨Γ, H_Z⟩, the
  layer it comes from, its pretraining (closed-form ridge, gradient descent)
- :mod:`~theory.task_diversity.error`        the exact finite-d error of any Γ; the best Γ
- :mod:`~theory.task_diversity.asymptotics`  Result 1: the d → ∞ ridgeless errors over α, κ, τ
- :mod:`~theory.task_diversity.bayes`        Raventós et al.'s dMMSE and ridge estimators
- :mod:`~theory.task_diversity.simulation`   one pretraining run scored exactly
- :mod:`~theory.task_diversity.claims`       the topic's ledger entries (``lu-*``, ``raventos-*``)

Proof: ``proofs/task_diversity.py``.
"""
from ..core.registry import Topic
from . import asymptotics, bayes, claims, data, error, figures, model, reproduction, simulation
from .asymptotics import *  # noqa: F401,F403
from .bayes import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .error import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .simulation import *  # noqa: F401,F403
from .reproduction import format_report, reproduce  # noqa: F401

TOPIC = Topic("task_diversity", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"task-diversity": figures.task_diversity_figures},
              requires=("preconditioned_gd",))      # lu-optimum: the one-layer optimum of that topic

__all__ = ["data", "model", "error", "asymptotics", "bayes", "simulation", "reproduction", "figures", "claims", "TOPIC",
           "reproduce", "format_report", *data.__all__, *model.__all__, *error.__all__, *asymptotics.__all__,
           *bayes.__all__, *simulation.__all__]
