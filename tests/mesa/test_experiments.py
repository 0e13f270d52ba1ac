"""von Oswald et al. 2023b, the rest of Secs. 4–5 (theory.mesa.experiments): the sparsity
measure, the line of products from the trained model to RevAlg-1, and few-shot regression
laid out as a sequence — each against a definition written out here."""
from dataclasses import replace

import numpy as np
import pytest

from theory import mesa as mt
from theory.core.gradcheck import rel_error
from theory.mesa import experiments as X
from theory.mesa.data import linear_dynamics

ONE = replace(mt.training.quick_config(mt.training.REVALG), steps=60)


@pytest.fixture(scope="module")
def one_layer():
    return mt.train(ONE)[0]


def test_the_line_of_products_ends_at_both_models(one_layer):
    """α = 0 is the trained layer and α = 1 RevAlg-1, to round-off (the products are all a
    layer reads); α = 0.5 is neither."""
    S = linear_dynamics(1, 16, ONE.T, ONE.D).S
    rev = mt.analysis.revalg_layer(mt.revalg_scalars(one_layer[0], ONE.D), ONE.D)
    at = lambda a: mt.predict(ONE, [X.interpolated_layer(one_layer[0], rev, a)], S)
    trained, rebuilt = mt.predict(ONE, one_layer, S), mt.predict(ONE, [rev], S)
    assert rel_error(at(0.0), trained) < 1e-13 and rel_error(at(1.0), rebuilt) < 1e-13
    assert min(rel_error(at(0.5), trained), rel_error(at(0.5), rebuilt)) > 1e-6
    with pytest.raises(ValueError, match="as many heads"):
        X.interpolated_layer(one_layer[0], {k: v[:1] for k, v in rev.items()}, 0.5)


def test_sparsity_counts_the_block_scalar_form():
    """RevAlg-1's layer has, per head, 4 scalar × I blocks in W_K^T W_Q (4D entries of
    (4D)²) and 2 in P W_V: shares 1/(4D) and 1/(8D); a dense product has share 1."""
    D = 3
    scal = {"qk": np.ones((2, 2, 2)) + 0.5, "pv": np.ones((2, 2))}
    sp = X.weight_sparsity(mt.analysis.revalg_layer(scal, D))
    assert np.allclose(sp["qk"], 1 / (4 * D)) and np.allclose(sp["pv"], 1 / (8 * D))
    dense = mt.training.init_layer(np.random.default_rng(0), 4 * D, 2, 4 * D, scale=1.0)
    assert np.all(X.weight_sparsity(dense, threshold=0.0)["qk"] == 1.0)


def test_fewshot_baselines_and_the_models_reading(one_layer):
    """y_i = W x_i; least squares on noise-free pairs is exact once D pairs are in context;
    one GD step is η Σ_{j<i} y_j x_jᵀ x_i; the model's answer for query i is its prediction
    at the position of x_i."""
    S, W = X.fewshot_sequences(2, 8, 6, ONE.D)
    assert np.allclose(S[:, 1::2], np.einsum("bij,bnj->bni", W, S[:, 0::2]), atol=1e-14)
    r = X.fewshot_losses(ONE, one_layer, S, S)
    assert np.all(r["lsq"][ONE.D + 1:] < 1e-8) and r["lsq"][0] == pytest.approx(r["zero"][0])
    Xs, Ys = S[:, 0::2], S[:, 1::2]
    gd = np.stack([sum(np.einsum("bi,bj,bj->bi", Ys[:, j], Xs[:, j], Xs[:, i]) for j in range(i)) * r["eta"]
                   if i else np.zeros_like(Ys[:, 0]) for i in range(6)], axis=1)
    assert rel_error(r["gd"], 0.5 * np.sum((gd - Ys) ** 2, axis=(0, 2)) / 8) < 1e-12
    pred = mt.predict(ONE, one_layer, S)[:, 0::2]
    assert rel_error(r["model"], 0.5 * np.sum((pred - Ys) ** 2, axis=(0, 2)) / 8) < 1e-13
