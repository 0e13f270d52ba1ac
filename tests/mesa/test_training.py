"""von Oswald et al. 2023b: the training experiments at CI scale — the deep model trains,
the baselines order as they must, RevAlg-1's rebuild is exact where the structure is,
the probes score on held-out data, and the record renders its report."""
from dataclasses import replace

import numpy as np
import pytest

from theory import mesa
from theory import mesa as mt
from theory.core.gradcheck import rel_error
from theory.core.records import round_trip
from theory.mesa.data import linear_dynamics

QUICK = mt.training.quick_config(mt.training.DEPTH[1])


@pytest.fixture(scope="module")
def quick_cli(tmp_path_factory):
    """`python -m theory reproduce mesa --quick --out DIR` once: its stdout and directory."""
    import contextlib
    import io
    from theory.__main__ import main
    out_dir, out = tmp_path_factory.mktemp("mesa"), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["reproduce", "mesa", "--quick", "--workers", "1", "--out", str(out_dir)]) == 0
    return out.getvalue(), out_dir


@pytest.fixture(scope="module")
def quick_record(quick_cli):
    from theory.core.records import read_record
    return read_record(quick_cli[1] / "mesa.json")


def test_the_deep_model_learns_and_beats_predicting_zero():
    layers, losses = mt.train(replace(QUICK, steps=100))
    assert losses[-10:].mean() < 0.8 * losses[:10].mean()
    data = linear_dynamics(np.random.default_rng(5), 128, QUICK.T, QUICK.D)
    model = mt.training.position_losses(mt.predict(QUICK, layers, data.S), data.S).sum()
    zero = mt.training.position_losses(np.zeros_like(data.S[:, 1:]), data.S).sum()
    assert model < 0.8 * zero
    # the same seed gives the same run, and two threads (half batches) the same up to round-off
    short = replace(QUICK, steps=5, warmup=2)
    one, again, threaded = mt.train(short)[0], mt.train(short)[0], mt.train(replace(short, threads=2))[0]
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(one, again) for k in mesa.attention.HEAD_KEYS)
    assert max(rel_error(a[k], b[k]) for a, b in zip(one, threaded) for k in mesa.attention.HEAD_KEYS) < 1e-9


def test_position_losses_sum_to_the_training_loss():
    rng = np.random.default_rng(0)
    layers = [mesa.attention.init_layer(rng, 4 * QUICK.D, 2, 3, scale=0.3)]
    S = linear_dynamics(rng, 8, QUICK.T, QUICK.D).S
    c = replace(QUICK, layers=1)
    loss = mesa.next_state_loss(layers, S, clip=c.resid_clip, E=mt.training.model_tokens(c, S))[0]
    assert abs(mt.training.position_losses(mt.predict(c, layers, S), S).sum() / (S.shape[1] - 1) - loss) < 1e-15


def test_baselines_order_and_the_grids():
    rng = np.random.default_rng(1)
    fit, test = linear_dynamics(rng, 256, 30, 4), linear_dynamics(rng, 256, 30, 4)
    b = mt.baselines(fit.S, test)
    total = {k: b[k].sum() for k in ("zero", "gd", "gd_c_t", "lsq", "mesa_layer", "true")}
    # one pair more (the mesa-layer's t pairs against the authors' t - 1) helps; η_t = c/t beats one η
    assert total["true"] < total["mesa_layer"] < total["lsq"] < total["gd_c_t"] < total["gd"] < total["zero"]
    assert b["gd_author"].shape == b["gd"].shape and b["c"] in mt.training.C_GRID
    # η* is the grid's best on the fitting data: its neighbours are no better
    i = mt.training.ETA_GRID.index(b["eta"])
    loss = lambda eta: mt.training.position_losses(mesa.gd_prediction(fit.S, eta)[:, :-1], fit.S).sum()
    for j in (i - 1, i + 1):
        if 0 <= j < len(mt.training.ETA_GRID):
            assert loss(mt.training.ETA_GRID[j]) >= loss(b["eta"])
    # true W*: the loss is the noise's, σ² D / 2 per position
    assert abs(b["true"].mean() / (0.5 * 0.01 ** 2 * 4) - 1) < 0.05
    # predicting 0: ½ E||s_{t+1}||² = ½ (D/3 + t σ² D) per position (W* orthogonal keeps the norm;
    # s_1 ~ U(-1, 1)^D); on the authors' 51 states its mean is 1.68 for D = 10
    want = 0.5 * (4 / 3 + np.arange(1, 30) * 0.01 ** 2 * 4)
    assert abs(b["zero"].mean() / want.mean() - 1) < 0.05
    assert abs(0.5 * (10 / 3 + np.arange(1, 51) * 0.01 ** 2 * 10).mean() - 1.68) < 0.005


def test_revalg_layer_reads_back_its_scalars_and_holds_the_gd_step():
    rng = np.random.default_rng(2)
    D = 3
    scal = dict(qk=rng.standard_normal((2, 2, 2)), pv=rng.standard_normal((2, 2)))
    back = mt.revalg_scalars(mt.analysis.revalg_layer(scal, D), D)
    assert rel_error(back["qk"], scal["qk"]) < 1e-15 and rel_error(back["pv"], scal["pv"]) < 1e-15
    assert np.allclose(back["qk_kept"], 1.0) and np.allclose(back["pv_kept"], 1.0)
    # one head with key s_{t'-1} (block 3), query s_t (block 2), value s_{t'} (block 2) -> block 0,
    # scaled by η, is one GD step: the orientation of the 12 scalars is the paper's
    eta = 0.3
    gd = dict(qk=np.array([[[0.0, 0.0], [1.0, 0.0]]]), pv=np.array([[eta, 0.0]]))
    c = replace(QUICK, D=D, layers=1, mask_copy=True)
    S = rng.uniform(-1, 1, size=(2, 7, D))
    assert rel_error(mt.predict(c, [mt.analysis.revalg_layer(gd, D)], S), mesa.gd_prediction(S, eta)[:, :-1]) < 1e-14
    # wrong variant: the transposed block (key s_t, query s_{t-1}) is not the GD step
    wrong = dict(qk=np.array([[[0.0, 1.0], [0.0, 0.0]]]), pv=gd["pv"])
    assert rel_error(mt.predict(c, [mt.analysis.revalg_layer(wrong, D)], S), mesa.gd_prediction(S, eta)[:, :-1]) > 1e-2
    # a product that is not block scalar keeps less than all of its norm
    noisy = mt.analysis.revalg_layer(scal, D)
    noisy["W_Q"] = noisy["W_Q"] + 0.3 * rng.standard_normal(noisy["W_Q"].shape)
    assert np.all(mt.revalg_scalars(noisy, D)["qk_kept"] < 1.0)


def test_probes_score_on_held_out_data():
    rng = np.random.default_rng(3)
    X_fit, X_test = rng.standard_normal((200, 4, 6)), rng.standard_normal((100, 4, 6))
    W, b = rng.standard_normal((6, 2)), rng.standard_normal(2)
    exact = mt.probe_scores(X_fit, X_fit @ W + b, X_test, X_test @ W + b)
    assert np.all(np.abs(exact - 1.0) < 1e-12)
    # targets unrelated to X: fitted R² would be positive, held-out R² is not
    Y_fit, Y_test = rng.standard_normal((200, 4, 2)), rng.standard_normal((100, 4, 2))
    assert np.all(mt.probe_scores(X_fit, Y_fit, X_test, Y_test) < 0.05)
    assert np.all(mt.probe_scores(X_fit, Y_fit, X_fit, Y_fit) > 0.0)
    # an outlier ruins the exact fit; leaving it out (fit and score) restores it
    Yo_fit, Yo_test = X_fit @ W + b, X_test @ W + b
    Yo_fit[0, 1] += 1e4
    Yo_test[3, 1] += 1e4
    assert mt.probe_scores(X_fit, Yo_fit, X_test, Yo_test)[1] < 0.5
    kf, kt = mt.analysis.norm_inliers(Yo_fit), mt.analysis.norm_inliers(Yo_test)
    assert not kf[0, 1] and not kt[3, 1] and kf.mean() > 0.95 and kt.mean() > 0.95
    assert np.all(np.abs(mt.probe_scores(X_fit, Yo_fit, X_test, Yo_test, keep_fit=kf, keep_test=kt) - 1) < 1e-12)


def test_preconditioned_inputs_solve_the_ridge_system():
    S = np.random.default_rng(4).uniform(-1, 1, size=(2, 6, 3))
    x = mt.analysis.preconditioned_inputs(S, 0.1)
    t = 4                                                   # 0-based: S_{t-1} sums s_1..s_4
    A = np.einsum("bti,btj->bij", S[:, :t], S[:, :t]) + 0.1 * np.eye(3)
    assert rel_error(x[:, t], np.linalg.solve(A, S[:, t][..., None])[..., 0]) < 1e-13
    assert rel_error(x[:, 0], S[:, 0] / 0.1) < 1e-15        # S_0 = 0


def test_quick_reproduction_record_and_report(quick_record):
    r = quick_record["results"]
    assert set(r["test_loss"]) == {"1", "2", "4", "revalg", *mt.reproduction.BASELINES}
    assert r["test_loss"]["true"] < r["test_loss"]["lsq"] < r["test_loss"]["zero"]
    for d in ("1", "2", "4"):
        assert r["test_loss"][d] < r["test_loss"]["zero"]
    assert np.shape(r["probes"]["next_state"]) == (5, QUICK.T - 1)
    text = mt.format_report(quick_record)
    assert mt.format_report(round_trip(quick_record)) == text
    assert "RevAlg-1" in text and "Linear probes" in text and "one GD step" in text


def test_reproduce_mesa_on_the_command_line(quick_cli, quick_record):
    out, out_dir = quick_cli
    assert mt.format_report(quick_record) in out            # the printed report is the record's
    from theory.core.plotting import have_matplotlib
    if have_matplotlib():                                   # drawn from the record, beside it
        assert (out_dir / "mesa.png").stat().st_size > 1000


@pytest.mark.slow
def test_full_reproduction():
    """The CPU-scale runs of `python -m theory reproduce mesa` (about 6 minutes on 2 cores):
    the paper's qualitative result — a trained layer is at least one GD step, deeper models
    come closer to least squares — and a RevAlg-1 rebuild within 5 % of the trained loss."""
    from theory.core._workers import usable_cpus, worker_pool
    with worker_pool(usable_cpus()) as pool:
        record = mt.reproduce(executor=pool)
    print(mt.format_report(record))
    loss = record["results"]["test_loss"]
    assert loss["1"] <= 1.01 * loss["gd"]
    assert loss["lsq"] < loss["4"] < loss["2"] < loss["1"]          # least squares on the authors' pairs < t
    assert abs(loss["revalg"] / loss["1"] - 1) < 0.05
