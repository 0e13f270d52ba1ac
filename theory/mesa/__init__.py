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
- :mod:`~theory.mesa.experiments`   the trained products' sparsity, the line from the trained
  model to RevAlg-1, few-shot regression without retraining
- :mod:`~theory.mesa.reproduction`  the experiments as a run record
- :mod:`~theory.mesa.figures`       the figure, drawn from that record
- :mod:`~theory.mesa.claims`        the topic's ledger entries (``mesa-*``)

Proof: ``proofs/mesa.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.mesa.<module>.<name>)
from . import analysis, attention, claims, data, experiments, figures, iterations, layer, raw, reproduction, training  # noqa: F401
from .data import linear_dynamics
from .layer import mesa_layer_forward, mesa_layer_backward, ridge_predictions
from .attention import tokens, causal_lsa_forward, gd_prediction, causal_attention_forward, causal_attention_backward, next_state_loss
from .iterations import richardson, chebyshev, run_krylov_stack
from .training import MesaConfig, train, predict, baselines
from .analysis import revalg_scalars, probe_scores
from .reproduction import reproduce, format_report

TOPIC = Topic("mesa", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"mesa": figures.mesa_figures},
              title="von Oswald et al. 2023b: the mesa-layer and trained depth")

__all__ = ["TOPIC", "linear_dynamics", "mesa_layer_forward", "mesa_layer_backward", "ridge_predictions", "tokens",
           "causal_lsa_forward", "gd_prediction", "causal_attention_forward", "causal_attention_backward",
           "next_state_loss", "richardson", "chebyshev", "run_krylov_stack", "MesaConfig", "train",
           "predict", "baselines", "revalg_scalars", "probe_scores", "reproduce", "format_report"]
