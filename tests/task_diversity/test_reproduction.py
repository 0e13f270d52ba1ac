"""The task-diversity reproduction: the quick record (every part, the report read from the
record, the figure and its caption) and the full run (slow)."""
import numpy as np
import pytest

from theory.__main__ import main
from theory.core.records import read_record, round_trip
from theory.task_diversity import reproduction as R


@pytest.fixture(scope="module")
def quick_record():
    return R.reproduce(quick=True)


def test_quick_record_has_every_part_and_its_report(quick_record):
    r, q = quick_record["results"], R.QUICK
    assert set(r["tau"]) == {str(d) for d in q["tau"]["ds"]} and len(r["tau_theory"]) == len(q["tau"]["taus"])
    assert len(r["kappa"][str(q["kappa"]["ds"][0])]) == len(q["kappa"]["kappas"])
    assert set(r["raventos"]) == {str(M) for M in q["raventos"]["pools"]}
    text = R.format_report(round_trip(quick_record))
    assert text == R.format_report(quick_record)
    assert "fit d = ∞" in text and "g_task" in text and "dMMSE pool" in text


def test_cli_writes_record_and_figure(tmp_path, capsys):
    assert main(["reproduce", "task-diversity", "--quick", "--workers", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    record = read_record(tmp_path / "task-diversity.json")
    assert out.split("]\n\n", 1)[1].rstrip("\n") == R.format_report(record)
    pytest.importorskip("matplotlib")
    assert (tmp_path / "task-diversity.png").stat().st_size > 1000
    assert (tmp_path / "task-diversity.caption.md").read_text().count("\n") == 1


@pytest.mark.slow
def test_full_reproduction_approaches_the_theory():
    """At every τ away from the threshold the largest d is closer to Result 1 than the smallest;
    the pretrained model's g_task falls with κ while dMMSE's stays above it at κ ≥ 1."""
    from theory.core._workers import usable_cpus, worker_pool
    with worker_pool(usable_cpus()) as pool:
        record = R.reproduce(executor=pool)
    print(R.format_report(record))
    r = record["results"]
    small, large = r["tau"][str(min(R.FULL["tau"]["ds"]))], r["tau"][str(max(R.FULL["tau"]["ds"]))]
    for i, th in enumerate(r["tau_theory"]):
        assert abs(large[i]["mean"] - th) < abs(small[i]["mean"] - th), R.FULL["tau"]["taus"][i]
    rows = r["kappa"][str(max(R.FULL["kappa"]["ds"]))]
    assert rows[-1]["g_task"] < 0.1 * rows[0]["g_task"]
    assert all(row["dmmse_g_task"] > row["g_task"] for row in rows if row["kappa"] >= 1)
