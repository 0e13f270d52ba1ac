"""Run records (theory.core.records): schema, atomic writes, and reports rendered from them."""
import json

import numpy as np
import pytest

from theory import gd_step as T
from theory.core import records as R
from theory.__main__ import main

TINY = T.GDReproConfig(steps=3, batch=16, deep_steps=3, depths=(2,), n_tasks=200, gaussian_steps=3)


@pytest.fixture(scope="module")
def tiny_result():
    return T.reproduce(TINY)


def _record(**results):
    return R.make_record("demo", settings={"seed": 0}, parts={"training": 1.5},
                         results=dict(results or {"x": np.float64(0.25)}), curves={"loss": np.arange(3.0)})


def test_record_round_trip(tmp_path):
    rec = _record(x=np.float64(0.1), n=np.int64(3), m=np.eye(2), t=(1, 2), k={2: "two"})
    assert rec["version"] == R.SCHEMA_VERSION and rec["machine"]["cpus"] >= 1
    assert rec["results"] == {"x": 0.1, "n": 3, "m": [[1.0, 0.0], [0.0, 1.0]], "t": [1, 2], "k": {"2": "two"}}
    path = R.write_record(rec, tmp_path / "out")
    assert path.name == "demo.json" and R.read_record(path) == rec == R.round_trip(rec)


def test_records_refuse_what_json_cannot_hold():
    with pytest.raises(ValueError, match=r"record\['results'\]\['x'\] is nan"):
        _record(x=float("nan"))
    with pytest.raises(ValueError, match="has no JSON form"):
        _record(x=object())


def test_other_schema_versions_and_non_records_are_refused(tmp_path):
    rec = _record()
    path = R.write_record(rec, tmp_path)
    path.write_text(json.dumps(dict(rec, version=R.SCHEMA_VERSION + 1)))
    with pytest.raises(ValueError, match="schema version 2; this icl-theory reads version 1"):
        R.read_record(path)
    path.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="not an icl-theory run record"):
        R.read_record(path)
    path.write_text('{"schema": ')
    with pytest.raises(ValueError, match="invalid JSON"):
        R.read_record(path)
    with pytest.raises(ValueError, match="name asks for 'gd-step'"):
        R.check_record(rec, "gd-step")


def test_writing_is_atomic(tmp_path, monkeypatch):
    """A write interrupted half-way leaves the previous file whole and no temporary file."""
    rec = _record()
    path = R.write_record(rec, tmp_path)
    before = path.read_text()

    def half_then_fail(obj, f, **kw):
        f.write('{"schema": "icl-theory run rec')
        raise KeyboardInterrupt
    monkeypatch.setattr(R.json, "dump", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        R.write_record(_record(x=0.5), tmp_path)
    assert path.read_text() == before and sorted(p.name for p in tmp_path.iterdir()) == ["demo.json"]


def test_gd_step_report_is_rendered_from_its_record(tiny_result, tmp_path):
    """Everything the report prints comes back from the file: the report of the reloaded
    record is the report of the run, character for character."""
    path = R.write_record(tiny_result.to_record(), tmp_path)
    again = T.reproduction.GDReproResult.from_record(R.read_record(path))
    assert T.format_report(again) == T.format_report(tiny_result) == T.format_report(R.read_record(path))
    assert again.config == tiny_result.config and again.one_layer == tiny_result.one_layer
    assert np.array_equal(again.curves["lsa-2"], tiny_result.curves["lsa-2"])
    assert set(again.products) == {"KQ", "PV", "KQ_gd", "PV_gd"}
    # a number changed in the file shows in the report: the renderer reads the file
    rec = R.read_record(path)
    rec["results"]["one_layer"]["tf_loss"] = 123.0
    assert "trained LSA 123.0000" in T.format_report(rec)


def test_cli_writes_the_record_it_prints(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(T.GDReproConfig, "quick", classmethod(lambda cls: TINY))
    assert main(["reproduce", "gd-step", "--quick", "--workers", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr()
    record = R.read_record(tmp_path / "gd-step.json")
    assert out.out.split("]\n\n", 1)[1].rstrip("\n") == T.format_report(record)   # after the --quick banner
    assert record["settings"]["steps"] == 3 and set(record["parts"]) >= {"training", "1-layer comparison"}
    from theory.core.plotting import have_matplotlib
    if have_matplotlib():
        assert (tmp_path / "gd-step-loss.png").stat().st_size > 0 and "drew" in out.err
    else:
        assert "matplotlib is not installed" in out.err


