"""Dai et al. 2023's measurements behind its figures (theory.dual_form.reproduction)."""
from theory.core import records as R
from theory.__main__ import main

def test_dual_form_record_and_cli(capsys, tmp_path):
    """Dai et al.'s measurements: the exact split is exact, the linear relaxation and the
    paper's momentum attention are not (the numbers behind the figure), and the CLI prints
    the report of the record it writes."""
    from theory import dual_form as D
    rec = R.round_trip(D.reproduce(quick=True, instances=5))
    assert rec["settings"]["instances"] == 5 and rec["results"]["exact_split_worst"] < 1e-12
    assert min(q[1] for q in rec["results"]["softmax_gap_quartiles"]) > 0.5       # median gap, every scale
    mo = [q[1] for q in rec["results"]["momentum_gap_quartiles"]]
    assert mo[0] > 1e-3 and mo == sorted(mo)                                      # grows with η
    w = rec["curves"]["momentum_weights"]["0.6"]
    assert w["exact"][0] == w["paper"][0] == 1.0 and w["exact"][5] > 2 > w["paper"][1]
    assert main(["reproduce", "dual-form", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.split("]\n\n", 1)[1].rstrip("\n") == D.format_report(R.read_record(tmp_path / "dual-form.json"))
    assert main(["reproduce", "dual-form", "--workers", "2"]) == 2
    from theory.core.plotting import have_matplotlib
    if have_matplotlib():                                   # `figures DIR --pdf` redraws from the file
        (tmp_path / "dual-form.png").unlink()
        assert main(["figures", str(tmp_path), "--pdf"]) == 0
        assert (tmp_path / "dual-form.png").stat().st_size > 1000 and (tmp_path / "dual-form.pdf").exists()
