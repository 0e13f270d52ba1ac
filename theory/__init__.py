"""icl-theory: pure-numpy checks of the theory of in-context learning.

Modules (each small, each citing its paper beside the code):

- :mod:`theory.nn`         forward/backward pairs: linear, softmax, attention, ReLU, losses
- :mod:`theory.gradcheck`  finite-difference checks of hand-written gradients
- :mod:`theory.optim`      SGD, heavy-ball momentum, Adam over dict-of-array params
- :mod:`theory.tasks`      samplers: in-context regression, item-label sequences
- :mod:`theory.dual_form`  Dai et al. 2023: GD on a linear layer == linear attention
- :mod:`theory.gd_step`    von Oswald et al. 2023: LSA layer == GD step, GD++, closed forms
- :mod:`theory.lsa_training`  training LSA stacks and comparing them with GD / GD++
- :mod:`theory.induction_head`  Reddy 2024: the three-parameter landscape
- :mod:`theory.induction_network`  Reddy 2024: the full network, its training and sweeps
- :mod:`theory.induction_two_param`  Reddy 2024: the two-parameter induction head (our reading)
- :mod:`theory.claims`     the claim ledger read by ``python -m theory``
"""
from . import (claims, dual_form, gd_step, gradcheck, induction_head, induction_network,
               induction_two_param, lsa_training, nn, optim, tasks)
from .gradcheck import check_gradients, numerical_gradient, rel_error

__all__ = ["claims", "dual_form", "gd_step", "gradcheck", "induction_head", "induction_network",
           "induction_two_param", "lsa_training", "nn", "optim", "tasks",
           "check_gradients", "numerical_gradient", "rel_error"]
__version__ = "0.1.0"
