"""Tian, Wang, Chen & Du 2023, "Scan and Snap: Understanding Training Dynamics and Token
Composition in 1-layer Transformer" (NeurIPS 2023, arXiv 2305.16380): the SGD dynamics
of a one-layer transformer's attention — frequency bias, discriminative bias, attention
that sparsifies (scan) and then freezes (snap).

- :mod:`~theory.scan_snap.data`          the classes, their token laws, sequences
- :mod:`~theory.scan_snap.model`         the finite-T model, its long-sequence limit, the flow
  (forward + hand-written gradients)
- :mod:`~theory.scan_snap.training`      SGD runs, the flow in log-time, snap fits, the η sweep
- :mod:`~theory.scan_snap.biases`        the paper's qualitative claims, checked on the flow
- :mod:`~theory.scan_snap.reproduction`  the experiments as a run record
- :mod:`~theory.scan_snap.figures`       the figure, drawn from that record
- :mod:`~theory.scan_snap.claims`        the topic's ledger entries (``tian-*``)

Proof: ``proofs/scan_snap.py``.
"""
from ..core.registry import Topic
from . import biases, claims, data, figures, model, reproduction, training
from .biases import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .model import *  # noqa: F401,F403
from .reproduction import GAP_RUNS, format_report, reproduce  # noqa: F401
from .training import *  # noqa: F401,F403

TOPIC = Topic("scan_snap", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={"scan-snap": figures.scan_snap_figures})

__all__ = ["data", "model", "training", "biases", "reproduction", "figures", "claims", "TOPIC", *data.__all__,
           *model.__all__, *training.__all__, *biases.__all__, "GAP_RUNS", "reproduce", "format_report"]
