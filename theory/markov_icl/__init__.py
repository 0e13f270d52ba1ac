"""Edelman, Edelman, Goel, Malach & Tsilivis 2024, "The evolution of statistical induction
heads: in-context learning Markov chains" (arXiv 2402.11004): each sequence has its own
Markov chain; the Bayes predictor given the context is the add-one bigram count, and a
transformer passes from the uniform answer through the context's unigram statistics to the
bigram ones.

- :mod:`~theory.markov_icl.data`           the ICL-MC sampler (a Dirichlet(1) chain per sequence)
- :mod:`~theory.markov_icl.strategies`     the uniform, unigram and bigram strategies, and the KL to them
- :mod:`~theory.markov_icl.minimal_model`  the minimal two-layer model (forward and hand-written
  backward, causal or the authors' unmasked layer 1)
- :mod:`~theory.markov_icl.transformer`    the two-layer attention-only transformer with relative
  positions (forward and hand-written backward)
- :mod:`~theory.markov_icl.training`       one training loop for both, with the stage measures
- :mod:`~theory.markov_icl.reproduction`   the ``markov-icl`` run record
- :mod:`~theory.markov_icl.figures`        its figures, drawn from the record
- :mod:`~theory.markov_icl.claims`         the topic's ledger entries (``edelman-*``)

Proof: ``proofs/statistical_induction_head.py``.
"""
from ..core.registry import Topic
# every module is an attribute too (theory.markov_icl.<module>.<name>)
from . import claims, data, figures, minimal_model, reproduction, strategies, training, transformer  # noqa: F401
from .data import markov_sequences, transition_matrices
from .strategies import uniform_strategy, unigram_strategy, bigram_strategy, strategy_losses, distance
from .minimal_model import init_minimal, minimal_forward, minimal_backward, minimal_loss
from .transformer import init_transformer, transformer_forward, transformer_backward, transformer_loss, attention_maps
from .training import MarkovConfig, train_markov, stage_summary
from .reproduction import reproduce, format_report

TOPIC = Topic("markov_icl", papers=claims.PAPERS, claims=claims.CLAIMS, reproductions=(reproduction.REPRODUCTION,),
              figures={reproduction.RECORD: figures.markov_icl_figures},
              title="Edelman et al. 2024: statistical induction heads")

__all__ = ["TOPIC", "markov_sequences", "transition_matrices", "uniform_strategy", "unigram_strategy",
           "bigram_strategy", "strategy_losses", "distance", "init_minimal", "minimal_forward",
           "minimal_backward", "minimal_loss", "init_transformer", "transformer_forward",
           "transformer_backward", "transformer_loss", "attention_maps", "MarkovConfig", "train_markov",
           "stage_summary", "reproduce", "format_report"]
