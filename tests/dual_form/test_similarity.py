"""Dai et al.'s comparisons of ICL with finetuning (theory.dual_form.similarity): the three
metrics against loop-by-loop definitions written from the authors' analysis script, the
properties a cosine must have, and the wrong variants a reader could fall into."""
import numpy as np
import pytest
from hypothesis import given, settings

from theory.dual_form import similarity as sim
from tests.helpers import seeds


def _literal_sim_aou(zs, icl, ft):
    """Example by example, layer by layer: unit attention outputs, their updates, a cosine."""
    n, L, _ = zs.shape
    out = np.zeros(L)
    for layer in range(L):
        for i in range(n):
            z, c, f = (h[i, layer] / (np.linalg.norm(h[i, layer]) + 1e-20) for h in (zs, icl, ft))
            u, v = c - z, f - z
            out[layer] += u @ v / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-20) / n
    return out


def _literal_sim_am(zs, icl, ft):
    n, L, H, _ = zs.shape
    am, zsl = np.zeros(L), np.zeros(L)
    for layer in range(L):
        for i in range(n):
            for h in range(H):
                a, b, z = icl[i, layer, h], ft[i, layer, h], zs[i, layer, h]
                am[layer] += a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-20) / (n * H)
                zsl[layer] += a @ z / (np.linalg.norm(a) * np.linalg.norm(z) + 1e-20) / (n * H)
    return am, zsl


def test_rec2ftp_counts_what_finetuning_fixes():
    zs = np.array([False, False, False, False, True])
    ft = np.array([True, True, True, False, True])       # fixes examples 0, 1, 2
    icl = np.array([True, False, True, True, False])     # of those, gets 0 and 2 right
    assert sim.rec2ftp(zs, icl, ft) == pytest.approx(200 / 3, rel=1e-15)
    assert sim.f2t_mask(zs, icl, ft).tolist() == [True, False, True, False, False]
    # wrong variant: the share of all examples ICL gets right is not Rec2FTP
    assert icl.mean() * 100 != pytest.approx(sim.rec2ftp(zs, icl, ft))
    with pytest.raises(ValueError, match="undefined"):
        sim.rec2ftp(zs, icl, np.zeros(5, bool))


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_sim_aou_is_the_authors_definition(seed):
    rng = np.random.default_rng(seed)
    n, L, d = rng.integers(1, 6), rng.integers(1, 4), rng.integers(2, 7)
    zs, icl, ft = (rng.standard_normal((n, L, d)) for _ in range(3))
    got = sim.sim_aou(zs, icl, ft)
    np.testing.assert_allclose(got, _literal_sim_aou(zs, icl, ft), rtol=1e-12, atol=1e-15)
    # each output is scaled to unit length first: a positive factor per example and layer changes nothing
    scale = rng.uniform(0.1, 10, size=(n, L, 1))
    np.testing.assert_allclose(sim.sim_aou(zs * scale, icl * scale[::-1], ft * 2.0), got, rtol=1e-12, atol=1e-15)
    assert np.all(np.abs(got) <= 1 + 1e-12)


def test_without_the_unit_scaling_the_metric_changes():
    """Wrong variant: the cosine of the raw updates depends on each output's length; the
    authors' metric does not."""
    rng = np.random.default_rng(5)
    zs, icl, ft = rng.standard_normal((3, 50, 2, 4))
    scale = rng.uniform(0.1, 10, size=(50, 2, 1))
    def raw(z, c, f):
        return sim._cos(c - z, f - z).mean(axis=0)
    assert np.abs(raw(zs * scale, icl, ft) - raw(zs, icl, ft)).max() > 0.05
    np.testing.assert_allclose(sim.sim_aou(zs * scale, icl, ft), sim.sim_aou(zs, icl, ft), rtol=1e-12)


def test_sim_aou_bounds():
    rng = np.random.default_rng(0)
    zs, icl = rng.standard_normal((2, 8, 3, 5))
    np.testing.assert_allclose(sim.sim_aou(zs, icl, icl), 1.0, rtol=1e-12)     # the same update
    u = lambda h: h / np.linalg.norm(h, axis=-1, keepdims=True)    # noqa: E731
    mirrored = 2 * u(zs) - u(icl)            # the ICL update reversed (its unit scaling bends it a little)
    assert np.all(sim.sim_aou(zs, icl, mirrored) < 0)


def test_random_baselines():
    """The authors' uniform draw lies in the positive orthant, so its SimAOU is not centred
    at 0; an isotropic direction's is (mean 0, sd about 1/sqrt(n d))."""
    rng = np.random.default_rng(1)
    n, L, d = 4000, 2, 16
    zs, icl = rng.standard_normal((2, n, L, d))
    gauss = sim.random_sim_aou(zs, icl, 2, baseline="gaussian")
    assert np.all(np.abs(gauss) < 5 / np.sqrt(n * d))
    # an ICL update with a positive mean: the uniform baseline reads it as similarity
    shifted = sim.random_sim_aou(zs, icl + 3 * np.abs(icl).mean(), 3, baseline="uniform")
    assert np.all(shifted > 0.1)
    assert np.all(np.abs(sim.random_sim_aou(zs, icl + 3 * np.abs(icl).mean(), 3, baseline="gaussian")) < 5 / np.sqrt(n * d))
    # same seed, same draw
    np.testing.assert_array_equal(sim.random_sim_aou(zs, icl, 7), sim.random_sim_aou(zs, icl, 7))


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_sim_am_is_the_authors_definition(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 5, size=3)) + (int(rng.integers(2, 7)),)
    zs, icl, ft = (rng.standard_normal(shape) for _ in range(3))
    am, zsl = sim.sim_am(zs, icl, ft)
    want_am, want_zsl = _literal_sim_am(zs, icl, ft)
    np.testing.assert_allclose(am, want_am, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(zsl, want_zsl, rtol=1e-12, atol=1e-15)
    # wrong variant: swapping the arguments swaps the two metrics
    np.testing.assert_allclose(sim.sim_am(zs, icl, zs)[0], zsl, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sim.sim_am(zs, icl, icl)[0], 1.0, rtol=1e-12)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="icl_hidden"):
        sim.sim_aou(np.ones((2, 1, 3)), np.ones((2, 1, 4)), np.ones((2, 1, 3)))
    with pytest.raises(ValueError, match="ft_scores"):
        sim.sim_am(np.ones((2, 1, 1, 3)), np.ones((2, 1, 1, 3)), np.ones((2, 1, 1, 4)))
    with pytest.raises(ValueError, match="icl_correct"):
        sim.rec2ftp(np.array([True]), np.array([True, False]), np.array([True]))
