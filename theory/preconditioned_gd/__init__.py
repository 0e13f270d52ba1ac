"""Preconditioned gradient descent: what linear attention learns in context (Ahn, Cheng,
Daneshmand & Sra 2023; Mahankali, Hashimoto & Ma 2024; Zhang, Frei & Bartlett 2024).

- :mod:`~theory.preconditioned_gd.data`        Gaussian prompts (w ~ N(0, I) or N(0, Σ⁻¹)),
  ReLU targets, the authors' rotated covariance
- :mod:`~theory.preconditioned_gd.model`       Ahn et al.'s linear transformer (dense and sparse),
  forward and hand-written backward; L layers = L steps of preconditioned GD
- :mod:`~theory.preconditioned_gd.optimum`     the one-layer population loss and its minimiser in
  closed form; the dense form is no better; Mahankali et al.'s nonlinear targets
- :mod:`~theory.preconditioned_gd.flow`        Zhang, Frei & Bartlett's gradient flow and the
  shifted test errors
- :mod:`~theory.preconditioned_gd.multilayer`  L layers on S = {A = aΣ⁻¹, B = bI}: the gradient's
  form, the best 2L scalars
- :mod:`~theory.preconditioned_gd.training`    training as the authors do, at CPU scale
- :mod:`~theory.preconditioned_gd.claims`      the topic's ledger entries (``ahn-*``,
  ``mahankali-*``, ``zfb-flow``)

Proof: ``proofs/preconditioned_gd.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.preconditioned_gd.<module>.<name>)
from . import claims, data, figures, flow, model, multilayer, optimum, reproduction, training  # noqa: F401
from .data import regression_prompts, single_index_prompts, rotated_covariance
from .model import prompt, layer_forward, layer_backward, stack_forward, stack_backward, predict, sparse_loss, preconditioned_gd
from .optimum import population_loss, optimal_gamma, optimal_loss
from .flow import integrate_flow, shifted_error
from .multilayer import best_scalars
from .training import TrainConfig, train, evaluate
from .reproduction import reproduce, format_report

TOPIC = Topic("preconditioned_gd", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"preconditioned-gd": figures.preconditioned_gd_figures},
              title="Preconditioned GD: what linear attention should learn in context")

__all__ = ["TOPIC", "regression_prompts", "single_index_prompts", "rotated_covariance", "prompt", "layer_forward",
           "layer_backward", "stack_forward", "stack_backward", "predict", "sparse_loss",
           "preconditioned_gd", "population_loss", "optimal_gamma", "optimal_loss", "integrate_flow",
           "shifted_error", "best_scalars", "TrainConfig", "train", "evaluate", "reproduce", "format_report"]
