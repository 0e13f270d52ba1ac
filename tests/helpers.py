"""Strategies and draws the tests share (``from tests.helpers import seeds, rng_from``).

Hypothesis draws sizes and integer seeds; numpy draws the values from
``np.random.default_rng(seed)`` (hypothesis' own float arrays are mostly singular).
"""
import numpy as np
from hypothesis import strategies as st

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
