"""von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers"
(arXiv 2309.05858): the mesa-layer (in-context ridge regression), causal linear attention
as online GD on autoregressive tasks, the iterations stacked layers run, and the trained
models read with RevAlg-1 and linear probes.

- :mod:`~theory.mesa.data`          sequences of a linear dynamical system
- :mod:`~theory.mesa.layer`         the mesa-layer (Sherman–Morrison) and its backward
- :mod:`~theory.mesa.attention`     the tokens; causal LSA = one GD step; deep causal linear
  attention and its backward
- :mod:`~theory.mesa.iterations`    Richardson, Chebyshev, and the stacked layers that run them
- :mod:`~theory.mesa.training`      training the depths; the GD, least-squares and W* baselines
- :mod:`~theory.mesa.analysis`      RevAlg-1 and linear probes
- :mod:`~theory.mesa.reproduction`  the experiments as a run record
- :mod:`~theory.mesa.figures`       the figure, drawn from that record
- :mod:`~theory.mesa.claims`        the topic's ledger entries (``mesa-*``)

Proof: ``proofs/mesa.py``.
"""
from ..core.registry import Topic
from . import analysis, attention, claims, data, figures, iterations, layer, reproduction, training
from .analysis import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .iterations import *  # noqa: F401,F403
from .layer import *  # noqa: F401,F403
from .reproduction import BASELINES, PROBE_T, SHOW_T, format_report, reproduce  # noqa: F401
from .training import *  # noqa: F401,F403

TOPIC = Topic("mesa", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"mesa": figures.mesa_figures})

__all__ = ["data", "layer", "attention", "iterations", "training", "analysis", "reproduction", "figures", "claims",
           "TOPIC", *data.__all__, *layer.__all__, *attention.__all__, *iterations.__all__, *training.__all__,
           *analysis.__all__, "BASELINES", "PROBE_T", "SHOW_T", "reproduce", "format_report"]
