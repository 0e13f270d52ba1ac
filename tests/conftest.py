"""Hypothesis profiles and shared strategies.

Profiles, chosen with ``HYPOTHESIS_PROFILE``:

- ``dev``      the local default: 25 examples a test, no deadline.
- ``ci``       hypothesis' built-in profile, loaded automatically when ``CI`` is set
               (derandomized, no deadline, 100 examples).
- ``thorough`` 500 examples a test, for a long local run.

Hypothesis draws sizes and integer seeds; numpy draws the values from
``np.random.default_rng(seed)`` (hypothesis' own float arrays are mostly singular).
"""
import os
import sys

# Under pytest-xdist (`python -m pytest -n 2`) each worker is a process of its own: one
# BLAS thread each, so that two workers on two cores do not fight over four threads.
# This must happen before numpy loads its BLAS, i.e. before the import below.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "numpy" in sys.modules:
        raise RuntimeError("numpy was imported before tests/conftest.py could limit its BLAS threads")

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif not os.environ.get("CI"):
    settings.load_profile("dev")

seeds = st.integers(min_value=0, max_value=2**32 - 1)
sizes = st.integers(min_value=1, max_value=8)
small = st.integers(min_value=1, max_value=5)


def rng_from(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def well_scaled(rng: np.random.Generator, shape) -> np.ndarray:
    """Entries of magnitude in [0.5, 1.5] with random signs.

    For gradient checks: a central difference has an error floor (round-off ~ 1e-16 |f| / eps,
    truncation ~ eps^2 |f'''|) that is not small *relative* to a gradient that happens to
    be tiny, e.g. when the only input of a 1x1 case is drawn as 0.001.  Such draws test
    the finite-difference method, not the backward pass, so inputs stay away from 0.
    """
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape)
