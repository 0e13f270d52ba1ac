"""The core every topic stands on; it imports no topic.

- :mod:`theory.core.nn`         forward/backward pairs: linear, softmax, attention, ReLU, losses
- :mod:`theory.core.gradcheck`  finite-difference checks of hand-written gradients (coursework too)
- :mod:`theory.core.optim`      SGD, heavy-ball momentum, Adam over dict-of-array parameters
- :mod:`theory.core.records`    run records: what a reproduction measured, as versioned JSON
- :mod:`theory.core.plotting`   what the topics' figures share (matplotlib imported lazily)
- :mod:`theory.core.registry`   what a topic declares: :class:`Claim`, ``Reproduction``, ``Topic``
- :mod:`theory.core.proofs`     running a proof script of ``proofs/`` quietly or aloud
- ``theory.core._validate``     the argument checks every public function uses
  (its :class:`Diverged` is public: training loops raise it)
- ``theory.core._workers``      worker processes and the allocator setting of the long runs
"""
from ._version import __version__
from . import gradcheck, nn, optim, plotting, proofs, records, registry
from ._validate import Diverged
from .registry import Claim, Reproduction, Topic

__all__ = ["__version__", "gradcheck", "nn", "optim", "plotting", "proofs", "records", "registry", "Diverged", "Claim",
           "Reproduction", "Topic"]
