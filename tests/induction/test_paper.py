"""Reddy 2024 at the paper's widths (theory/induction/paper.py): the regimes, the
record and its report, the per-seed summary.  The 150,000-step runs themselves are
marked slow (``python -m pytest -m slow``); CI runs the same path for 10 steps."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from theory.induction import paper as ip
from theory import induction as itr
from theory.core.records import make_record, round_trip


def test_the_regimes_are_the_papers():
    """Every regime keeps the paper's widths and SGD settings and changes only the data."""
    base = itr.NetworkConfig()
    for regime, fields in ip.PAPER_REGIMES.items():
        cfg = ip.paper_config(regime, seed=3)
        assert (cfg.D, cfg.n_positions, cfg.N, cfg.lr, cfg.batch, cfg.steps, cfg.seed) == (63, 65, 8, 0.01, 128,
                                                                                           150_000, 3)
        assert cfg == replace(base, **fields, eval_every=1000, seed=3, dtype="float32", sampler="author")
    assert ip.paper_config("l-equals-n").L == ip.paper_config("l-equals-n").N == 8
    assert (ip.paper_config("novel").B, ip.paper_config("novel").p_novel) == (1, 0.8)
    assert ip.paper_config("competition", K=2048).K == 2048
    assert ip.record_name("competition", 2048) == "induction-head-paper-competition-K2048"
    assert ip.record_name("l-equals-n", model="two-param") == "induction-head-paper-l-equals-n-two-param"
    assert ip.record_name("novel", sampler="fresh", init="author") == "induction-head-paper-novel-fresh-sampler-author-init"
    assert (ip.paper_config("novel", init="author").init, ip.paper_config("novel", sampler="fresh").sampler) == \
        ("author", "fresh")
    with pytest.raises(ValueError, match="K must be a multiple of L"):
        ip.paper_config("novel", K=100)
    with pytest.raises(ValueError, match="regime"):
        ip.paper_config("bursty")


def _run(icl, cla, iwl, steps=None):
    n = len(icl)
    steps = np.arange(n) * 1000 if steps is None else steps
    z = np.zeros(n)
    return itr.training.NetworkRun(ip.paper_config("novel"), np.asarray(steps), np.asarray(icl, float), z, np.asarray(iwl, float),
                          z, z, z, 1.0, context_label=np.asarray(cla, float), label_attention=z)


def test_seed_summary_reads_the_curves():
    """A made-up run: CLA rises first (90 % of its final 1.0 at step 2,000, ICL 0.125
    there), ICL jumps half-way at step 4,000, IWL peaks at step 3,000."""
    m = ip.seed_summary(_run(icl=[0.03, 0.05, 0.125, 0.13, 0.6, 0.99, 1.0], cla=[0.25, 0.6, 0.95, 1, 1, 1, 1],
                             iwl=[0.03, 0.1, 0.15, 0.18, 0.1, 0.07, 0.07]))
    assert m["cla_90"] == 2000 and m["icl_at_cla_90"] == 0.125
    assert m["rise"]["icl"] == (4000, 2000) and m["rise"]["context_label"] == (2000, 1000)
    assert m["rise"]["prev_token"] is None
    assert (m["iwl_peak"], m["iwl_peak_step"]) == (0.18, 3000) and m["learned"]
    assert not ip.seed_summary(_run(icl=[0.12, 0.13, 0.14], cla=[0.3, 0.3, 0.3], iwl=[0.1, 0.5, 1.0]))["learned"]
    with pytest.raises(ValueError, match="context-label"):
        ip.seed_summary(replace(_run([0.1] * 3, [0.3] * 3, [0.1] * 3), context_label=None))


def test_the_paper_path_end_to_end(tmp_path):
    """The same path as the 150,000-step runs, for 10 steps, two seeds: the record
    holds every seed's curves (context-label accuracy and label attention included),
    the report is rendered from it, and the figure draws."""
    rec = round_trip(ip.reproduce("l-equals-n", seeds=2, first_seed=5, steps=10))
    assert rec["name"] == "induction-head-paper-l-equals-n" and rec["settings"]["seeds"] == [5, 6]
    runs = [itr.training.NetworkRun.from_dict(r) for r in rec["results"]["runs"]]
    assert [r.config.seed for r in runs] == [5, 6] and all(r.config.L == 8 for r in runs)
    for r in runs:
        assert list(r.steps) == [0, 10] and r.context_label is not None and r.label_attention is not None
        assert np.all((r.context_label >= r.icl) & (r.context_label <= 1))   # a right answer is a context label
    assert len(rec["curves"]["loss"]) == 2 and len(rec["curves"]["loss"][0]) == 1
    text = ip.format_report(rec)
    assert "regime 'l-equals-n'" in text and "of 2 seeds learned ICL" in text and "the author sampler" in text
    assert text.count("\n     5  ") == 2 and text.count("\n     6  ") == 2        # the rises and the classifier
    early = rec["results"]["summaries"][0]["early"]
    assert early["step"] == 10 and 0 <= early["relu_dead"] <= 1 and early["b1"] == runs[0].b1[-1]
    # a record made before 0.2.0 (the fresh sampler, no classifier curves) still renders
    from theory.core.records import read_record
    old = read_record(Path(__file__).resolve().parents[2] / "docs" / "figures" / "induction-head-paper-novel.json")
    old_text = ip.format_report(old)
    assert "the fresh sampler, the package initialisation" in old_text and "last ReLU layer" not in old_text
    from theory import draw_all
    from theory.core.plotting import have_matplotlib
    if have_matplotlib():
        from theory.core.records import write_record
        write_record(rec, tmp_path)
        assert [p.name for p in draw_all(tmp_path)] == ["induction-head-paper-l-equals-n.png",
                                                        "induction-head-paper-l-equals-n.caption.md"]
    with pytest.raises(ValueError, match="induction-head-paper-"):
        ip.format_report(make_record("induction-head", settings={}, parts={}, results={}, curves={}))
    two = round_trip(ip.reproduce("novel", steps=10, model="two-param"))
    assert two["name"] == "induction-head-paper-novel-two-param" and two["results"]["runs"][0]["model"] == \
        itr.training.TWO_PARAM.name
    assert "the two-parameter model, regime 'novel'" in ip.format_report(two)


def test_the_command_line_options(capsys):
    """--regime, --first-seed and --K belong to --paper runs of induction-head; a K that
    the regime cannot use is refused before anything trains."""
    from theory.__main__ import main
    assert main(["reproduce", "induction-head", "--regime", "novel"]) == 2
    assert main(["reproduce", "induction-head", "--first-seed", "2"]) == 2
    assert main(["reproduce", "mesa", "--regime", "novel"]) == 2
    assert main(["reproduce", "induction-head", "--paper", "--regime", "l-equals-n", "--K", "100"]) == 2
    assert main(["reproduce", "induction-head", "--model", "two-param"]) == 2
    err = capsys.readouterr().err
    assert "apply to --paper runs" in err and "K must be a multiple" in err
    assert "--regime is an option of induction-head, not of mesa" in err


@pytest.mark.slow
def test_novel_regime_forms_the_head():
    """About 35 min: seed 2 of the novel-class regime (B = 1, p_C = 0.8) at the paper's
    widths forms the induction head abruptly, the context-label accuracy rising first
    (measured through this path, docs/figures/induction-head-paper-novel.json: ICL
    half-way at step 51,000, 10-90 % width 20,000; both progress measures rise at
    52,000-53,000; CLA at 90 % of its final value at step 38,000 with ICL 0.130 ≈ 1/N)."""
    run = itr.training.NetworkRun.from_dict(ip.reproduce("novel", first_seed=2)["results"]["runs"][0])
    assert run.icl[-1] > 0.9 and run.jump("icl")[1] <= 20_000
    assert run.jump("prev_token") is not None and run.jump("match_label") is not None
    m = ip.seed_summary(run)
    assert m["cla_90"] < m["rise"]["icl"][0] and abs(m["icl_at_cla_90"] - 1 / run.config.N) < 0.05


@pytest.mark.slow
def test_l_equals_n_learns_no_icl():
    """About 35 min: with L = N = 8 the network learns in weights and not in context
    (measured through this path, seed 2: final ICL 0.121 at chance 0.125, IWL 1.000,
    previous-token attention 0.164-0.170 throughout)."""
    run = itr.training.NetworkRun.from_dict(ip.reproduce("l-equals-n", first_seed=2)["results"]["runs"][0])
    assert run.icl[-1] < 0.25 and run.iwl[-1] > 0.9 and run.jump("icl") is None
    assert run.prev_token.max() < 0.2
