"""The preconditioned-GD reproduction: the quick record (every part, the report read from
the record, the figures and captions), the training loop, and the full run (slow)."""
import numpy as np
import pytest

from theory.__main__ import main
from theory.core.records import read_record, round_trip
from theory.preconditioned_gd import training as T
from theory.preconditioned_gd import reproduction as R


@pytest.fixture(scope="module")
def quick_record():
    return R.reproduce(quick=True)


def test_quick_record_has_every_part_and_its_report(quick_record):
    r = quick_record["results"]
    assert set(r["one_layer"]) == {"one-identity", "one-inverse", "single-index"}
    assert set(r["deep"]) == {"1", "2"} and set(r["baselines"]["2"]) == {"gd", "preconditioned", "gdpp_S"}
    assert r["flow"]["monotone"] and len(r["shifts"]["covariate"]) == len(R.SHIFTS)
    text = R.format_report(round_trip(quick_record))
    assert text == R.format_report(quick_record)                 # the report reads the record only
    assert "closed form L*" in text and "GD++ on S" in text and "covariate" in text


def test_cli_writes_record_and_figures(tmp_path, capsys):
    assert main(["reproduce", "preconditioned-gd", "--quick", "--workers", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    record = read_record(tmp_path / "preconditioned-gd.json")
    assert out.split("]\n\n", 1)[1].rstrip("\n") == R.format_report(record)
    pytest.importorskip("matplotlib")
    for stem in ("preconditioned-gd", "preconditioned-gd-whitened"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
        assert (tmp_path / f"{stem}.caption.md").read_text().count("\n") == 1


def test_training_lowers_the_loss_and_keeps_B_zero_for_gd():
    r = T.train(T.quick_config(2, variant="gd"))
    assert r.loss[-10:].mean() < r.loss[:10].mean() and np.all(r.params["B"] == 0)
    with pytest.raises(ValueError, match="config must be a TrainConfig"):
        T.train({"layers": 1})


@pytest.mark.slow
def test_full_reproduction_meets_the_claims():
    """The issue's bar where it holds at CPU scale (about 20 min on two cores): the trained
    one-layer loss within 2 % of the closed form; at L = 1, 2 the learned A_ℓ within 0.1 of a
    multiple of Σ⁻¹ after whitening; every deeper model below tuned preconditioned GD in the
    median.  (At L = 3, 4 the learned A_ℓ are 0.24-0.62 from S at this budget: docs/results/preconditioned_gd.md.)"""
    from theory.core._workers import usable_cpus, worker_pool
    with worker_pool(usable_cpus()) as pool:
        record = R.reproduce(executor=pool)
    print(R.format_report(record))
    r = record["results"]
    for key in ("one-identity", "one-inverse", "single-index"):
        assert abs(r["one_layer"][key]["loss"] - r["one_layer"][key]["closed"]) / r["one_layer"][key]["closed"] < 0.02
    for L in ("1", "2"):
        assert max(r["deep"][L]["whitened_distance"]) < 0.1, (L, r["deep"][L]["whitened_distance"])
    for L in ("2", "3", "4"):
        assert r["deep"][L]["median"] < r["baselines"][L]["preconditioned"]["median"]
    assert r["flow"]["final_error"] < 1e-10 and r["flow"]["monotone"]
