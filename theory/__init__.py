"""icl-theory: pure-numpy checks of the theory of in-context learning.

Modules (each small, each citing its paper beside the code):

- :mod:`theory.nn`         forward/backward pairs: linear, softmax, attention, ReLU, losses
- :mod:`theory.gradcheck`  finite-difference checks of hand-written gradients
- :mod:`theory.optim`      SGD, heavy-ball momentum, Adam over dict-of-array params
- :mod:`theory.tasks`      samplers: in-context regression, item-label sequences
- :mod:`theory.dual_form`  Dai et al. 2023: GD on a linear layer == linear attention
- :mod:`theory.gd_step`    von Oswald et al. 2023: LSA layer == GD step, GD++, closed forms
- :mod:`theory.dual_form_runs`  Dai et al. 2023: the measurements behind its figures
- :mod:`theory.mesa`       von Oswald et al. 2023b: the mesa-layer, causal LSA = one GD step,
  deep causal linear attention
- :mod:`theory.mesa_iterations`  von Oswald et al. 2023b: Richardson / Chebyshev for the
  preconditioned input, and the stacked layers that run them
- :mod:`theory.mesa_training`  von Oswald et al. 2023b: trained depth, RevAlg-1, linear probes
- :mod:`theory.lsa_training`  training LSA stacks and comparing them with GD / GD++
- :mod:`theory.induction_head`  Reddy 2024: the three-parameter landscape
- :mod:`theory.induction_network`  Reddy 2024: the full network, its training and sweeps
- :mod:`theory.induction_two_param`  Reddy 2024: the two-parameter induction head (our reading)
- :mod:`theory.induction_training`  Reddy 2024: training runs, sweeps, the reproduction report
- :mod:`theory.scan_snap`  Tian et al. 2023: the one-layer model, its long-sequence limit, the flow
- :mod:`theory.scan_snap_training`  Tian et al. 2023: SGD runs, the flow, snap fits, the η sweep
- :mod:`theory.records`    run records: what a reproduction measured, as JSON
- :mod:`theory.figures`    the papers' figures, drawn from run records (needs matplotlib)
- :mod:`theory.claims`     the claim ledger read by ``python -m theory``

The modules are layered (``LAYERS``): primitives, then one module per model or identity,
then the experiments (training runs, sweeps, reports), then the claim ledger and the CLI.
Each imports only from its own layer or the ones below, with no import circle
(``tests/test_layers.py`` enforces both).
A new paper adds its model module to the second layer and its experiments to the third.
"""
LAYERS = {
    "primitives": ("_validate", "_perf", "gradcheck", "nn", "optim", "tasks"),
    "models": ("dual_form", "gd_step", "mesa", "mesa_iterations", "scan_snap", "induction_head", "induction_network", "induction_two_param"),
    "experiments": ("records", "dual_form_runs", "lsa_training", "mesa_training", "scan_snap_training", "induction_training",
                    "induction_paper", "figures"),
    "ledger and command line": ("claims", "grading", "__main__"),
}

from . import (claims, dual_form, dual_form_runs, figures, gd_step, gradcheck, induction_head,  # noqa: E402
               induction_network, induction_paper, induction_training, induction_two_param, lsa_training, mesa, mesa_iterations, mesa_training, nn, optim,
               records, scan_snap, scan_snap_training, tasks)
from .gradcheck import check_gradients, numerical_gradient, rel_error

__all__ = ["LAYERS", "claims", "dual_form", "dual_form_runs", "figures", "records", "gd_step", "gradcheck", "induction_head", "induction_network",
           "induction_paper", "induction_training", "induction_two_param", "lsa_training", "mesa", "mesa_iterations", "mesa_training", "nn", "optim", "scan_snap", "scan_snap_training", "tasks",
           "check_gradients", "numerical_gradient", "rel_error"]
__version__ = "0.1.0"
