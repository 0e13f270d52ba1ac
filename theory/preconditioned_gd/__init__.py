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
from . import claims, data, figures, flow, model, multilayer, optimum, reproduction, training
from .data import *  # noqa: F401,F403
from .flow import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .multilayer import *  # noqa: F401,F403
from .optimum import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
from .reproduction import LAYERS, SHIFTS, format_report, reproduce  # noqa: F401

TOPIC = Topic("preconditioned_gd", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"preconditioned-gd": figures.preconditioned_gd_figures})

__all__ = ["data", "model", "optimum", "flow", "multilayer", "training", "reproduction", "figures", "claims", "TOPIC",
           "LAYERS", "SHIFTS", "reproduce", "format_report", *data.__all__,
           *model.__all__, *optimum.__all__, *flow.__all__, *multilayer.__all__, *training.__all__]
