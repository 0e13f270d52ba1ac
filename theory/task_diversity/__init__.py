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
# every module is an attribute too (theory.task_diversity.<module>.<name>)
from . import asymptotics, bayes, claims, data, error, figures, model, reproduction, simulation  # noqa: F401
from .data import task_pool, fresh_tasks, sequences
from .model import features, predict, lsa_prediction, pretraining_loss, pretrain_ridge, pretrain_gd
from .error import expected_error, optimal_gamma, optimal_error
from .asymptotics import icl_limit
from .bayes import dmmse_predictions, ridge_predictions
from .simulation import pretrain_and_score
from .reproduction import reproduce, format_report

TOPIC = Topic("task_diversity", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"task-diversity": figures.task_diversity_figures},
              requires=("preconditioned_gd",),      # lu-optimum: the one-layer optimum of that topic
              title="Task diversity: when in-context learning stops being Bayesian")

__all__ = ["TOPIC", "task_pool", "fresh_tasks", "sequences", "features", "predict", "lsa_prediction",
           "pretraining_loss", "pretrain_ridge", "pretrain_gd", "expected_error", "optimal_gamma",
           "optimal_error", "icl_limit", "dmmse_predictions", "ridge_predictions", "pretrain_and_score",
           "reproduce", "format_report"]
