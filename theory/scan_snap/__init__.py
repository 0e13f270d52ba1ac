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
- :mod:`~theory.scan_snap.corpus`, :mod:`~theory.scan_snap.text_model`, :mod:`~theory.scan_snap.text`,
  :mod:`~theory.scan_snap.text_reproduction`  the real-text experiment: an offline English corpus
  and its tokens, the authors' word-level language model (forward + hand-written backward), its
  constant-rate SGD with the attention measured, and the run record
- :mod:`~theory.scan_snap.figures`       the figure, drawn from that record
- :mod:`~theory.scan_snap.claims`        the topic's ledger entries (``tian-*``)

Proof: ``proofs/scan_snap.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.scan_snap.<module>.<name>)
from . import (authors, biases, claims, corpus, data, figures, model, reproduction, text, text_model,  # noqa: F401
               text_reproduction, training)
from .data import scan_snap_task, scan_snap_sequences
from .model import init_params, attention_histogram, finite_loss, long_sequence_attention, reduced_loss, paper_flow, entropy, distinct_entropy
from .training import SGDConfig, train_sgd, integrate_flow, snap_fits, entropy_sweep
from .reproduction import reproduce, format_report

TOPIC = Topic("scan_snap", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION, text_reproduction.REPRODUCTION),
              figures={"scan-snap": figures.scan_snap_figures, "scan-snap-text": figures.text_figures},
              title="Tian et al. 2023: scan and snap")

__all__ = ["TOPIC", "scan_snap_task", "scan_snap_sequences", "init_params", "attention_histogram", "finite_loss",
           "long_sequence_attention", "reduced_loss", "paper_flow", "entropy", "distinct_entropy",
           "SGDConfig", "train_sgd", "integrate_flow", "snap_fits", "entropy_sweep", "reproduce",
           "format_report"]
