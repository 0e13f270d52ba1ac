"""Reddy 2024's experiments (theory.induction.training, theory.induction.reproduction): one
SGD loop for both models, sweeps, the reproduction report and its record.  The quick runs are in CI; the full ones
are marked slow (``python -m pytest -m slow``)."""
import numpy as np
import pytest

from theory import induction as itr
from theory.induction import reproduction as irep


def test_a_short_training_run_records_everything():
    cfg = itr.NetworkConfig(K=16, L=8, N=4, D=7, n_positions=12, batch=16, steps=6, eval_every=3, n_eval=20)
    r = itr.train_network(cfg)
    assert list(r.steps) == [0, 3, 6] and r.loss.shape == (6,) and np.isfinite(r.loss).all()
    for curve in (r.icl, r.swapped, r.iwl, r.prev_token, r.match_label):
        assert curve.shape == (3,) and ((0 <= curve) & (curve <= 1)).all()


def test_cli_reproduce_induction_head_quick(capsys, monkeypatch, tmp_path):
    """The command's plumbing (the landscape and the models are tested elsewhere)."""
    from dataclasses import replace

    from theory.__main__ import main
    from theory.core.records import read_record
    landscape = itr.reproduction.reproduce_landscape
    monkeypatch.setattr(irep, "reproduce_landscape", lambda **kw: landscape(**dict(kw, steps=1000)))
    monkeypatch.setattr(irep, "TWO_PARAM_QUICK_CONFIG", replace(itr.training.TWO_PARAM_QUICK_CONFIG, steps=20, eval_every=10))
    monkeypatch.setattr(irep, "QUICK_CONFIG", replace(itr.reproduction.QUICK_CONFIG, steps=20, eval_every=10))
    monkeypatch.setitem(itr.reproduction.LANDSCAPE, "Ns", (2, 4))
    monkeypatch.setitem(itr.reproduction.LANDSCAPE, "L_factors", (1, 2))
    out_dir = tmp_path / "records"
    assert main(["reproduce", "induction-head", "--quick", "--workers", "1", "--out", str(out_dir)]) == 0
    out = capsys.readouterr().out                                # patched in this process: --workers 1
    assert "Three-parameter model" in out and "Full network" in out and "never" in out
    assert "Two-parameter model" in out and "step      20" in out
    record = read_record(out_dir / "induction-head.json")       # the printed report is the record's
    assert out.startswith("[--quick: a smoke test") and out.split("]\n\n", 1)[1].rstrip("\n") == itr.format_report(record)
    assert record["settings"]["network"]["steps"] == 20 and len(record["curves"]["network_loss"]) == 20
    assert set(record["curves"]["trajectories"]) == {f"8,{8 * f}" for f in itr.reproduction.LANDSCAPE["L_factors"]}
    run = itr.training.NetworkRun.from_dict(record["results"]["two_param"])
    assert run.model == itr.training.TWO_PARAM.name and run.config.steps == 20
    assert run.icl.tolist() == record["results"]["two_param"]["icl"] and run.loss.size == 0   # loss: in curves
    from theory.core.plotting import have_matplotlib
    from theory.induction.figures import induction_head_figures
    if have_matplotlib():
        assert (out_dir / "induction-head-training.png").stat().st_size > 0
        # the sweep figure, from a record with a tiny sweep added
        base = itr.NetworkConfig(K=16, L=8, N=4, D=5, batch=8, steps=4, eval_every=2, n_eval=10)
        rows = itr.sweep(base, {"B": [0, 2], "eps": [0.5]}, seeds=2)
        record["results"]["sweeps"] = [dict(model="full network", seeds=2, grid={}, rows=[
            dict(name=k, value=v, runs=[r.to_dict(with_loss=False) for r in runs]) for k, v, runs in rows])]
        paths = induction_head_figures(record, tmp_path)
        assert [p.name for p in paths][-2:] == ["induction-head-sweep-network.png", "induction-head-sweep-network.caption.md"]
    assert main(["reproduce", "induction-head", "--quick", "--paper"]) == 2
    assert main(["reproduce", "gd-step", "--seeds", "3"]) == 2
    assert "--seeds is an option of induction-head, not of gd-step" in capsys.readouterr().err


def test_sweep_with_seeds():
    """One run per (condition, seed), the seeds consecutive, the table shows the range."""
    from theory.induction.training import TWO_PARAM
    base = itr.NetworkConfig(K=16, L=8, N=4, D=5, batch=8, steps=4, eval_every=2, n_eval=10, seed=7)
    rows = itr.sweep(base, {"B": [0, 2], "eps": [0.5]}, seeds=2, model=TWO_PARAM)
    assert [(n, v, len(runs)) for n, v, runs in rows] == [("B", 0, 2), ("B", 2, 2), ("eps", 0.5, 2)]
    assert [r.config.seed for r in rows[1][2]] == [7, 8] and rows[1][2][0].config.B == 2
    assert all(r.model == "two-parameter model" for _, _, runs in rows for r in runs)
    table = itr.training.format_sweep(rows)
    assert table.count("\n") == 4 and table.splitlines()[2].split()[3].startswith("(")   # mean (min-max)
    with pytest.raises(ValueError, match="seeds"):
        itr.sweep(base, {"B": [0]}, seeds=0)


@pytest.mark.slow
def test_minutes_configuration_shows_the_transition():
    """About 50 s: ICL goes from chance to > 0.9 while layer-1 previous-token and layer-2
    matching-label attention grow (Reddy 2024, Sec. 3-4)."""
    r = itr.train_network(itr.reproduction.MINUTES_CONFIG)
    assert r.icl[0] < 0.1 and r.icl[-1] > 0.9 and r.swapped[-1] > 0.9
    assert r.prev_token[-1] > r.prev_token[0] + 0.2 and r.match_label[-1] > r.match_label[0] + 0.3
    assert r.jump("icl") is not None


@pytest.mark.slow
def test_paper_settings():
    """About 30 min (40 min on one core): the paper's settings (the defaults of NetworkConfig:
    D = 63, 65 positions, K = 256, B = 4, ε = 0.1, lr 0.01, batch 128, 150,000 SGD steps),
    in float64: the competition regime of `reproduce induction-head --paper` (which now
    trains in float32 and evaluates every 1,000 steps).  Measured (seed 0): only the first
    stage — ICL 0.025 → 0.36, IWL 0.52, prev-token 0.172 → 0.180, matching label 0.234 →
    0.270: no induction head within 150k steps (a finding, see README; the author's
    Q, K, V scale 1/D instead of our 1/width gave no head either).  Held here to what it
    reached: the network learns in context and in weights, well above 1/L."""
    from dataclasses import replace
    r = itr.train_network(replace(itr.NetworkConfig(), eval_every=2500))
    assert r.steps[-1] == 150_000
    assert r.icl[-1] > 5 / r.config.L and r.iwl[-1] > 5 / r.config.L


@pytest.mark.slow
def test_sweep_directions():
    """About 1-3 min: ICL rises and IWL falls with B and with K."""
    from dataclasses import replace
    base = replace(itr.reproduction.MINUTES_CONFIG, K=256, eval_every=1000)
    rows = {(n, v): runs[0] for n, v, runs in itr.sweep(base, {"B": [0, 4], "K": [64, 1024]})}
    assert rows[("B", 4)].icl[-1] > rows[("B", 0)].icl[-1] + 0.3
    assert rows[("B", 4)].iwl[-1] < rows[("B", 0)].iwl[-1] - 0.3
    assert rows[("K", 1024)].icl[-1] > rows[("K", 64)].icl[-1] + 0.3


def test_quick_configuration_shows_the_transition():
    """CI-sized (1,500 steps, K = 512, N = 4, B = 2): ICL on novel classes goes from
    chance to > 0.9 while layer-1 previous-token and layer-2 matching-label attention
    grow (Reddy 2024, Sec. 3-4) — the induction head forms."""
    r = itr.train_network(itr.reproduction.QUICK_CONFIG)
    assert r.icl[0] < 0.15 and r.icl[-1] > 0.9 and r.swapped[-1] > 0.9
    assert r.prev_token[-1] > r.prev_token[0] + 0.3 and r.match_label[-1] > r.match_label[0] + 0.4
    assert r.jump("icl") is not None
    assert r.loss[-50:].mean() < r.loss[:50].mean() - 1.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")           # the divergence is the point
def test_training_stops_on_divergence_and_configs_refuse_bad_values():
    from dataclasses import replace

    from theory.core._validate import Diverged
    with pytest.raises(Diverged, match=r"at step \d+ \(loss .*learning rate 1e\+08\)"):
        itr.train_network(replace(itr.reproduction.QUICK_CONFIG, lr=1e8, steps=50, eval_every=50))
    for bad, match in ((dict(lr=float("nan")), "lr"), (dict(eval_every=0), "eval_every"), (dict(steps=0), "steps"),
                       (dict(B=3), "B must be 0 or a positive integer dividing N"), (dict(L=0), "L")):
        with pytest.raises(ValueError, match=match):
            replace(itr.reproduction.QUICK_CONFIG, **bad)
    with pytest.raises(ValueError, match="seeds"):            # refused at once, not minutes later
        itr.reproduction.reproduce_report(seeds=0)


def test_float32_training_draws_the_same_and_follows_float64():
    """dtype = "float32" trains on the same draws and initial weights in single precision:
    the first steps' losses agree to single-precision round-off; other dtypes are refused."""
    from dataclasses import replace
    cfg = itr.NetworkConfig(K=16, L=8, N=4, D=7, n_positions=12, batch=16, steps=6, eval_every=3, n_eval=20)
    r64, r32 = itr.train_network(cfg), itr.train_network(replace(cfg, dtype="float32"))
    assert np.max(np.abs(r32.loss - r64.loss)) < 1e-4 * np.max(np.abs(r64.loss))
    assert not np.array_equal(r32.loss, r64.loss)                     # it did compute in float32
    with pytest.raises(ValueError, match="dtype"):
        replace(cfg, dtype="float16")


@pytest.mark.slow
def test_float32_curves_within_the_seed_spread():
    """The minutes configuration in float32 and float64 (seeds 0 and 1; about 2 min): each
    seed's float32 ICL curve stays closer to its float64 curve than the two seeds are to
    each other (measured: 0.006-0.010 against 0.058-0.082 over seeds 0-2)."""
    from dataclasses import replace
    runs = {(s, d): itr.train_network(replace(itr.reproduction.MINUTES_CONFIG, seed=s, dtype=d))
            for s in (0, 1) for d in ("float64", "float32")}
    spread = np.abs(runs[0, "float64"].icl - runs[1, "float64"].icl).max()
    for s in (0, 1):
        assert np.abs(runs[s, "float32"].icl - runs[s, "float64"].icl).max() < spread / 3
        assert runs[s, "float32"].jump("icl") == runs[s, "float64"].jump("icl")


def test_a_sweep_runs_on_a_dask_cluster():
    """The sweep's ``executor`` takes a dask.distributed executor (``pip install
    'icl-theory[dist]'``): a tiny sweep on a two-process LocalCluster gives exactly the
    serial run's results for the same seeds."""
    distributed = pytest.importorskip("distributed")
    tiny = itr.NetworkConfig(K=16, L=8, N=4, D=5, batch=8, steps=4, eval_every=2, n_eval=10, seed=3)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        on_cluster = itr.sweep(tiny, {"B": [0, 1]}, seeds=2, executor=client.get_executor())
    serial = itr.sweep(tiny, {"B": [0, 1]}, seeds=2)
    for (name, v, runs), (name2, v2, runs2) in zip(on_cluster, serial):
        assert (name, v) == (name2, v2)
        for a, b in zip(runs, runs2):
            assert np.array_equal(a.icl, b.icl) and np.array_equal(a.loss, b.loss)
