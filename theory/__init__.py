"""icl-theory: pure-numpy checks of the theory of in-context learning.

The package is a shared core under one folder per topic, with the ledger, the command
line and the coursework on top:

- :mod:`theory.core`       what every topic stands on: ``nn`` (forward/backward pairs),
  ``gradcheck``, ``optim``, run ``records``, ``plotting``, the ``registry`` types
- :mod:`theory.dual_form`  Dai et al. 2023: GD on a linear layer == linear attention
- :mod:`theory.gd_step`    von Oswald et al. 2023: an LSA layer == a GD step, GD++, closed forms
- :mod:`theory.mesa`       von Oswald et al. 2023b: the mesa-layer, causal GD, trained depths
- :mod:`theory.scan_snap`  Tian et al. 2023: scan and snap, the SGD dynamics of attention
- :mod:`theory.induction`  Reddy 2024: induction heads and abrupt learning
- :mod:`theory.claims`     the claim ledger (every topic's claims) read by ``python -m theory``
- :mod:`theory.coursework` exercises, their autograder and notebooks (``theory/coursework/``)

``TOPICS`` (kept in the ledger, :mod:`theory.claims`) is the registry: each topic package
ends with a ``TOPIC`` (see :mod:`theory.core.registry`) holding its claims, reproductions
and figure drawers, and the ledger and the command line collect them from the packages
named there (importing the ledger imports every topic, so ``theory.gd_step`` and the rest
are set after ``import theory``).  A topic imports the core and the topics it declares in
``TOPIC.requires``; never the ledger, the command line or another topic
(``tests/test_layers.py`` checks it).  Adding a topic is one folder and one line in
``TOPICS``; ``CONTRIBUTING.md`` walks through it.
"""
from __future__ import annotations

from . import claims
from .claims import TOPICS, topics
from .core import Diverged, __version__, gradcheck, nn, optim  # noqa: F401  (coursework reaches them here)
from .core.gradcheck import check_gradients, check_layer, numerical_gradient, rel_error


def drawer_for(record_name: str):
    """The figure drawer of a run record's name (from any topic), or None."""
    if not isinstance(record_name, str) or not record_name:
        raise ValueError(f"record_name must be a run record's name (e.g. 'gd-step'); got {record_name!r}")
    for topic in topics():
        draw = topic.drawer(record_name)
        if draw is not None:
            return draw
    return None


def draw_all(records_dir, *, pdf: bool = False) -> list:
    """Draw the figures of every run record (``*.json``) in ``records_dir``, beside them
    (needs matplotlib); the paths written.  ``python -m theory figures DIR`` calls it."""
    from .core.plotting import draw_records
    return draw_records(records_dir, drawer_for, pdf=pdf)


__all__ = ["TOPICS", "topics", "drawer_for", "draw_all", "claims", *TOPICS, "core", "nn", "gradcheck", "optim",
           "Diverged", "check_gradients", "check_layer", "numerical_gradient", "rel_error", "__version__"]
