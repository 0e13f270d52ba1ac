"""Tian et al. 2023: the dynamics — SGD runs, the long-sequence flow and its step check,
the claims on the flow, the snap fits, the η sweep, the record and the command line."""
from dataclasses import replace

import numpy as np
import pytest

from theory import scan_snap as st
from theory.scan_snap import model as ss
from theory.core.records import round_trip
from theory.scan_snap import claims as C


@pytest.fixture(scope="module")
def quick_cli(tmp_path_factory):
    """`python -m theory reproduce scan-snap --quick --out DIR` once: stdout and directory."""
    import contextlib
    import io
    from theory.__main__ import main
    out_dir, out = tmp_path_factory.mktemp("scan"), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["reproduce", "scan-snap", "--quick", "--workers", "1", "--out", str(out_dir)]) == 0
    return out.getvalue(), out_dir


def test_sgd_scans_common_tokens_away_and_ranks_the_distinct_ones():
    run = st.train_sgd(replace(st.training.SCAN, steps=30, batch=64))
    c0, c1 = run["c"][0], run["c"][-1]
    assert np.all(c1[:, :10].sum(axis=1) < c0[:, :10].sum(axis=1) - 0.1)          # common attention falls
    d = c1[0, 10:20]
    assert np.all(np.diff(d[4:]) > 0)                     # the frequent distinct tokens rank by P(l|n)
    assert np.all(np.diff(run["y_norm"]) >= 0) and run["loss"][-1] < run["loss"][0]
    again = st.train_sgd(replace(st.training.SCAN, steps=30, batch=64))
    assert np.array_equal(run["c"], again["c"])          # seeded


def test_momentum_time():
    tau = st.training.momentum_time(50, 0.9)
    assert tau[1] == 1.0 and abs(tau[2] - 2.9) < 1e-12
    assert abs((tau[50] - tau[49]) - (1 - 0.9 ** 50) / 0.1) < 1e-12   # → 1/(1 − β) a step


def test_flow_is_step_size_independent_and_matches_small_step_sgd():
    task = st.training.SCAN.task()
    p0 = ss.init_params(0, task.M, zero=True)
    t = st.training.momentum_time(40, 0.9)
    assert st.training.flow_step_check(task, p0, 1.0, 1.0, t) < 1e-4
    # with 5× smaller steps over the same flow time the SGD run follows the flow more closely
    # (measured, seeds 0-2: gaps 0.031-0.037 against 0.13-0.20)
    small = st.train_sgd(replace(st.training.SCAN, lr_Z=0.2, steps=200, batch=64))
    flow = st.integrate_flow(task, p0, 0.2, 0.2, st.training.momentum_time(200, 0.9))
    big = st.train_sgd(replace(st.training.SCAN, steps=40, batch=64))
    flow_big = st.integrate_flow(task, p0, 1.0, 1.0, t)
    gap = lambda a, b: float(np.abs(a - b).sum(axis=2).max() / 2)
    assert gap(small["c"], flow["c"]) < 0.5 * gap(big["c"], flow_big["c"])


def test_integrate_flow_refuses_bad_times():
    task = st.training.SCAN.task()
    p0 = ss.init_params(0, task.M, zero=True)
    for bad in ([], [2.0, 1.0], [-1.0], [[1.0]]):
        with pytest.raises(ValueError, match="times"):
            st.integrate_flow(task, p0, 1.0, 1.0, bad)
    with pytest.raises(ValueError, match="eta_Y"):
        st.integrate_flow(task, p0, -1.0, 1.0, [1.0])


@pytest.mark.parametrize("check", [C._check_frequency_bias, C._check_discriminative_bias, C._check_scan_order])
def test_the_flow_claims(check):
    assert check(np.random.default_rng(1)) < 1e-12


def test_snap_fits_on_exact_laws():
    t = np.geomspace(10, 1e4, 40)
    fake = dict(z=(0.3 * np.log(np.log(t)))[:, None, None] * np.ones((1, 2, 3)), y_norm=2.0 * np.log(t) + 1,
                alpha=1 - (5 / t)[:, None] * np.ones((1, 2)))
    f = st.snap_fits(fake, t, 10)
    assert abs(f["y_vs_ln_t"][0] - 2) < 1e-12 and abs(f["log_gap_vs_ln_t"][0] + 1) < 1e-12
    assert abs(f["z_vs_ln_ln_t"][0] - 0.3) < 1e-12 and f["z_vs_ln_ln_t"][2] > f["z_vs_ln_t"][2]
    assert C._check_snap(np.random.default_rng(2)) < 0.02


def test_quick_reproduction_record_report_and_figure(quick_cli):
    out, out_dir = quick_cli
    from theory.core.records import read_record
    record = read_record(out_dir / "scan-snap.json")
    text = st.format_report(record)
    assert text in out and st.format_report(round_trip(record)) == text
    r = record["results"]
    assert r["common_end"] < r["common_start"] and min(r["rank_agreement"]) > 0.99
    for k in ("distinct", "full"):
        assert np.shape(r[f"sweep_{k}_mean"]) == np.shape(r[f"sweep_{k}_sd"]) == (2, 4, 4)
    assert "authors_mean" not in r                           # the quick grid is not the authors'
    assert np.all(np.asarray(r["sweep_distinct_mean"]) <= np.log(10) + 1e-12)   # 10 distinct tokens a class
    from theory.core.plotting import have_matplotlib
    if have_matplotlib():
        assert (out_dir / "scan-snap.png").stat().st_size > 1000


@pytest.mark.slow
def test_full_reproduction():
    """The full run (about a minute on 2 cores): the paper's directions in the η sweep."""
    from theory.core._workers import usable_cpus, worker_pool
    with worker_pool(usable_cpus()) as pool:
        record = st.reproduce(executor=pool)
    print(st.format_report(record))
    r = record["results"]
    mean = np.asarray(r["sweep_distinct_mean"]).mean(axis=0)    # (η_Z, ratio), the authors' quantity
    assert np.all(np.diff(mean, axis=0) < 0)              # a larger η_Z: sparser (lower entropy)
    assert np.all(mean[:, -1] > mean[:, 0])               # a larger η_Y/η_Z: denser
    assert np.all(np.abs(np.asarray(r["authors_diff_in_sd"])) <= 2)   # every cell within 2 of their sd
