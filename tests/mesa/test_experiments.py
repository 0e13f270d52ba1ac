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


# --------------------------------------------------------------------------- prompt tuning, RevAlg-d, raw tokens
def _fd(f, x, h=1e-6):
    return np.array([(f(x + e) - f(x - e)) / (2 * h) for e in h * np.eye(x.size)])


@pytest.mark.parametrize("mask_copy", [True, False])
def test_the_eos_gradient_matches_finite_differences(mask_copy):
    """dL/de collects the EOS state's three places in the tokens (blocks 1, 2 at its own
    position, block 3 at the next); with block 1 zeroed it has two."""
    rng = np.random.default_rng(0)
    c = mt.MesaConfig(layers=2, heads=2, key_size=4, D=3, T=9, mask_copy=mask_copy)
    layers = [mt.attention.init_layer(rng, 12, 2, 4, scale=0.3) for _ in range(2)]
    S, e = X.fewshot_sequences(rng, 5, 4, 3, sigma=0.1)[0], rng.standard_normal(3)
    err, g = X.eos_loss(c, layers, S, e)
    assert err.shape == (4,)
    assert rel_error(g, _fd(lambda v: X.eos_loss(c, layers, S, v)[0].mean(), e)) < 1e-7


def test_eos_sequences_and_the_first_query_cannot_see_the_eos():
    S = np.arange(2 * 4 * 2, dtype=float).reshape(2, 4, 2) / 16       # small: the clip at 4 does not bite
    out = X.eos_sequences(S, np.array([-1.0, -2.0]))
    assert out.shape == (2, 6, 2) and (out[:, 2::3] == [-1.0, -2.0]).all()
    assert (out[:, 0::3] == S[:, 0::2]).all() and (out[:, 1::3] == S[:, 1::2]).all()
    c = mt.MesaConfig(layers=1, heads=2, key_size=3, D=2, T=6)
    layer = [mt.attention.init_layer(0, 8, 2, 3, scale=0.5)]
    a, b = X.eos_loss(c, layer, S, np.zeros(2))[0], X.eos_loss(c, layer, S, np.ones(2))[0]
    assert a[0] == b[0] and a[1] != b[1]                       # causal: query 1 comes before any EOS


def test_tuning_the_eos_lowers_its_held_out_loss_and_leaves_the_model():
    """A quick 2-layer model: the tuned EOS does better than its N(0, I) start on held-out
    tasks (at CI scale the gain is small, ~0.1 %, but the runs are deterministic)."""
    c = replace(mt.training.quick_config(mt.training.DEPTH[1]), steps=150)
    layers = mt.train(c)[0]
    before = [p.copy() for p in layers[0].values()]
    r = X.tune_eos(c, layers, 0, steps=60, batch=32, n_pairs=4, lr=3e-2)
    S = X.fewshot_sequences(np.random.default_rng(9), 512, 4, c.D)[0]
    assert X.eos_loss(c, layers, S, r["eos"])[0].mean() < X.eos_loss(c, layers, S, r["init"])[0].mean()
    assert all((a == b).all() for a, b in zip(before, layers[0].values()))


def test_block_scalar_layer_projects():
    """A layer of block scalars × I is kept whole (share 1, same products); any layer's
    projection is idempotent and keeps less; the wrong projection (block means of all
    entries) is not the block-scalar one."""
    rng, D = np.random.default_rng(2), 3
    C = rng.standard_normal((2, 4, 4))
    exact = {"W_Q": np.array([np.kron(c, np.eye(D)) for c in C]), "W_K": np.broadcast_to(np.eye(4 * D), (2, 12, 12)).copy(),
             "W_V": np.array([np.kron(c.T, np.eye(D)) for c in C]), "P": np.broadcast_to(np.eye(4 * D), (2, 12, 12)).copy()}
    rebuilt, kept = X.block_scalar_layer(exact, D)
    assert np.allclose(kept["qk"], 1.0, rtol=0, atol=1e-13) and np.allclose(kept["pv"], 1.0, rtol=0, atol=1e-13)
    assert all(rel_error(a, b) < 1e-13 for a, b in zip(X._products(rebuilt), X._products(exact)))
    layer = mt.attention.init_layer(rng, 4 * D, 2, 5, scale=1.0)
    once, k1 = X.block_scalar_layer(layer, D)
    twice, k2 = X.block_scalar_layer(once, D)
    assert (k1["qk"] < 1).all() and np.allclose(k2["qk"], 1.0, atol=1e-13)
    assert rel_error(X._products(once)[0], X._products(twice)[0]) < 1e-13
    kq = X._products(layer)[0][0]
    wrong = np.kron(kq.reshape(4, D, 4, D).mean(axis=(1, 3)), np.eye(D))
    assert rel_error(wrong, X._products(once)[0][0]) > 1e-3


def test_warmup_cosine_is_optax_schedule():
    """Written out: linear from start to peak over the warm-up, then a half cosine to end
    over total − warmup steps (total counts the warm-up), held at end after."""
    from theory.core.optim import warmup_cosine as w
    assert w(0, 1.0, 10, 110) == 0.0 and w(5, 1.0, 10, 110) == 0.5 and w(10, 1.0, 10, 110) == 1.0
    assert abs(w(60, 1.0, 10, 110, end=0.1) - 0.55) < 1e-15 and w(110, 1.0, 10, 110, end=0.1) == 0.1
    assert w(500, 1.0, 10, 110, end=0.1) == 0.1 and w(0, 1.0, 10, 110, start=0.2) == 0.2


RAW_SMALL = mt.MesaConfig(layers=1, heads=2, key_size=4, D=3, T=7, raw=True, resid_clip=0.8)


def test_the_raw_model_gradient_matches_finite_differences():
    """The copy layer (softmax, positions in keys and queries) and a linear layer after it,
    the clip active: every weight's gradient against central differences."""
    from theory.core.gradcheck import check_gradients
    from theory.mesa.training import _flat, _raw_loss, _unflat
    rng = np.random.default_rng(0)
    layers = [mt.raw.init_copy_layer(rng, 12, 2, 4, scale=0.5), mt.attention.init_layer(rng, 12, 2, 4, scale=0.5)]
    S = rng.uniform(-1, 1, (4, 7, 3))
    E = mt.training.model_tokens(RAW_SMALL, S)
    f = lambda p: _raw_loss(_unflat(p, 2), S, E, RAW_SMALL.resid_clip)[0]
    grads = _flat(_raw_loss(layers, S, E, RAW_SMALL.resid_clip)[1])
    assert (np.abs(mt.training.model_streams(RAW_SMALL, layers, S)[1]) == 0.8).any()      # the clip bites
    check_gradients(f, _flat(layers), grads, tol=1e-7)


def test_the_copy_layer_reads_positions_and_can_copy_the_previous_state():
    """Zero weights attend uniformly (weight 1/t on t − 1); a head whose keys and queries
    read only positions, scaled up, attends to t − 1 (the positions' dot product is largest
    between neighbours after the token itself, so W_Q shifts by one step) and writes s_{t−1}."""
    T, D, w = 12, 2, 8
    S = np.random.default_rng(0).uniform(-1, 1, (3, T, D))
    E = mt.raw.raw_tokens(S)
    p = mt.raw.init_copy_layer(np.random.default_rng(1), w, 1, w, scale=0.0)
    _, cache = mt.raw.copy_layer_forward(E, p)
    assert np.allclose(mt.raw.previous_weight(cache), np.mean(1.0 / np.arange(2, T + 1)), rtol=0, atol=1e-14)
    pe = mt.raw.positions(T, w)
    shift = np.linalg.lstsq(pe[1:], pe[:-1], rcond=None)[0].T            # p_t -> p_{t−1}
    p["W_K"][0, :, w:] = 200.0 * np.eye(w)
    p["W_Q"][0, :, w:] = 200.0 * shift
    p["W_V"][0, :, :] = np.eye(w)
    p["P"][0] = np.zeros((w, w))
    p["P"][0][3 * D:, D:2 * D] = np.eye(D)                               # value block 1 (s) -> block 3
    out, cache = mt.raw.copy_layer_forward(E, p)
    assert mt.raw.previous_weight(cache)[0] > 0.99
    assert rel_error(out[:, 2:, 3 * D:], S[:, 1:-1]) < 1e-2


def test_copy_probes_on_the_tokens_see_only_the_current_state():
    S_fit, S_test = (linear_dynamics(i, 200, 12, 3).S for i in (0, 1))
    c = replace(RAW_SMALL, T=12)
    layers = [mt.raw.init_copy_layer(np.random.default_rng(0), 12, 2, 4), mt.attention.init_layer(0, 12, 2, 4)]
    r = X.copy_probes(c, layers, S_fit, S_test, layer=0)
    assert r.shape == (X.COPY_LAGS,) and abs(r[0] - 1) < 1e-12 and (np.abs(r[1:]) < 0.1).all()


def test_raw_excludes_mask_copy_and_the_streams_name_the_layers():
    with pytest.raises(ValueError, match="raw and mask_copy"):
        mt.MesaConfig(raw=True, mask_copy=True)
    with pytest.raises(ValueError, match="warmup"):
        mt.MesaConfig(steps=10, warmup=10, schedule="warmup_cosine")
