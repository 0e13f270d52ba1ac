"""The ledger and the command line that reads it."""
import re
import subprocess
import sys

import numpy as np
import pytest

import theory.claims as claims
from theory.__main__ import main
from theory.claims import CLAIMS, EXACT, FALSE_AS_STATED, get, run_check


def test_ledger_is_well_formed():
    ids = [c.id for c in CLAIMS]
    assert len(ids) == len(set(ids))
    for c in CLAIMS:
        assert c.verdict in (EXACT, claims.APPROXIMATE, FALSE_AS_STATED, claims.EMPIRICAL)
        if c.verdict in (claims.APPROXIMATE, FALSE_AS_STATED):
            assert c.literal_gap is not None and c.paper_says, c.id
        if c.tol > 1e-12:                       # a tolerance that is not round-off says why
            assert c.tol_note, c.id


_PROOFS: dict = {}


@pytest.mark.parametrize("seed", (1, 2))
@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_every_claim_holds(claim, seed):
    """At two seeds other than `theory check`'s default 0 (a ledger that holds at one seed only is
    not a check; `python -m theory check --seeds 0-9 --instances 50` sweeps further)."""
    r = run_check(claim, seed=seed, instances=3, proof_cache=_PROOFS)       # each proof once a worker
    assert r.symbolic_ok and r.worst_error <= claim.tol and r.ok, r


def test_check_over_seeds(capsys):
    """`check --seeds`: one row per claim, its worst error over the seeds, where it fails."""
    assert main(["check", "dai-icl-split", "dai-momentum", "--seeds", "0-1,4", "--instances", "2", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "ALL CLAIMS HOLD AT EVERY SEED (0,1,4)" in out and "worst error over the seeds" in out
    with pytest.raises(SystemExit):
        main(["check", "--seeds", "3-1"])
    assert "seeds must be like 0-9" in capsys.readouterr().err


def test_list(capsys):
    """Every claim and its whole statement (wrapped), in 100 columns; `list ID` gives the rest."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    flat = " ".join(out.split())
    for c in CLAIMS:
        assert c.id in out and " ".join(c.statement.split()) in flat
    assert main(["list", "dai-momentum"]) == 0
    out = capsys.readouterr().out
    assert "the paper says: MoAttn" in out and "proofs/dual_form_momentum.py" in out and max(map(len, out.splitlines())) <= 100
    assert main(["list", "nope"]) == 2


def test_check_selected_claims(capsys):
    assert main(["check", "dai-icl-split", "dai-momentum", "--seed", "3", "--instances", "4", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "dai-icl-split" in out and "dai-dual-xent" not in out
    assert "ALL CLAIMS HOLD" in out and "seed 3" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "wording gap: for non-exact claims" in " ".join(out.split())      # every column is explained
    assert main(["check", "vo-optimal-eta", "--instances", "1", "-v"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(vs exact quadrature)" in out and "checked on 1 instance" in out


def test_checking_in_two_processes_gives_what_one_process_gives(capsys):
    """Claims of two proof scripts (the two cheapest) over two workers, through the command
    line: the same errors as in one process, in the order asked."""
    chosen = [get("dai-momentum"), get("dai-icl-split")]
    one = claims.check_claims(chosen, seed=5, instances=3, jobs=1)
    assert main(["check", "dai-momentum", "dai-icl-split", "--seed", "5", "--instances", "3", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith(("dai-momentum ", "dai-icl-split "))]
    assert [r.split()[0] for r in rows] == ["dai-momentum", "dai-icl-split"]
    assert [re.search(r"\d\.\de[-+]\d\d", r).group() for r in rows] == [f"{r.worst_error:.1e}" for r in one]
    assert "ALL CLAIMS HOLD" in out


def test_a_broken_claim_fails_the_check(monkeypatch, capsys):
    c = get("dai-icl-split")
    broken = claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, lambda rng: 1e-9)
    monkeypatch.setattr(claims, "CLAIMS", [broken if x is c else x for x in CLAIMS])
    assert main(["check", "dai-icl-split", "--instances", "2"]) == 1
    assert "FAILS" in capsys.readouterr().out
    # with workers too: a swapped-in claim runs in this process, where the swap is visible
    assert main(["check", "dai-icl-split", "vo-gdpp", "--instances", "2", "--jobs", "2"]) == 1
    assert "FAILS" in capsys.readouterr().out


def test_a_false_claim_whose_gap_vanishes_fails(monkeypatch):
    """If the paper's wording turned out to hold, the 'false as stated' verdict is wrong."""
    c = get("dai-momentum")
    fake = claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check,
                        literal_gap=lambda rng: 0.0, paper_says=c.paper_says)
    assert not run_check(fake, instances=2).ok


def _with_check(claim, check, **kw):
    return claims.Claim(claim.id, claim.paper, claim.statement, claim.verdict, claim.proof, check,
                        literal_gap=claim.literal_gap, paper_says=claim.paper_says, **kw)


def test_a_check_that_returns_nan_never_holds():
    """The issue's case: errors 0.0 then nan gave ok=True, worst_error=0.0 (max drops nan)."""
    values = iter([0.0, float("nan"), 0.0])
    r = run_check(_with_check(get("dai-icl-split"), lambda rng: next(values)), instances=3)
    assert not r.ok
    assert np.isnan(r.worst_error)
    assert r.failures == ["check instance 1: returned nan"]


def test_a_check_that_raises_on_nan_fails_with_the_reason():
    from theory.core.gradcheck import rel_error
    r = run_check(_with_check(get("dai-icl-split"), lambda rng: rel_error([np.nan], [1.0])), instances=2)
    assert not r.ok and len(r.failures) == 2
    assert "ValueError" in r.failures[0] and "non-finite" in r.failures[0]


def test_a_nan_literal_gap_never_supports_false_as_stated():
    c = get("dai-momentum")
    fake = claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check,
                        literal_gap=lambda rng: float("nan"), paper_says=c.paper_says)
    r = run_check(fake, instances=2)
    assert not r.ok and r.failures and "literal gap instance 0: returned nan" in r.failures


def test_the_cli_reports_a_nan_check_as_failing(monkeypatch, capsys):
    c = get("dai-icl-split")
    monkeypatch.setattr(claims, "CLAIMS", [_with_check(c, lambda rng: float("nan")) if x is c else x
                                           for x in CLAIMS])
    assert main(["check", "dai-icl-split", "--instances", "2"]) == 1
    out = capsys.readouterr().out
    assert "FAILS" in out and "check instance 0: returned nan" in out


def test_claim_records_validate_themselves():
    c = get("dai-icl-split")
    with pytest.raises(ValueError, match="verdict must be one of"):
        claims.Claim(c.id, c.paper, c.statement, "roughly", c.proof, c.check)
    with pytest.raises(ValueError, match="check must be callable"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, None)
    with pytest.raises(ValueError, match="tol must be > 0"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check, tol=0.0)
    with pytest.raises(ValueError, match="literal_gap and paper_says are required"):
        claims.Claim(c.id, c.paper, c.statement, FALSE_AS_STATED, c.proof, c.check)


def test_a_loose_tolerance_says_how_it_measures():
    """One meaning per word: "exact" is the statement's status; how the check measures is
    ``measured_by``, and a tolerance above round-off cannot pass as round-off."""
    c = get("dai-icl-split")
    assert c.measured_by == "round-off"                          # the default, for tol <= 1e-10
    with pytest.raises(ValueError, match="not round-off; say how the check measures"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check, tol=1e-7)
    with pytest.raises(ValueError, match="a finite differences check allows at most 1e-06"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check, tol=1e-3,
                     measured_by="finite differences", tol_note="x")
    with pytest.raises(ValueError, match="says its bar in tol_note"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check, tol=0.1, measured_by="Monte Carlo")
    with pytest.raises(ValueError, match="an empirical claim is measured by a simulation or a training run"):
        claims.Claim(c.id, c.paper, c.statement, c.verdict, c.proof, c.check, tol=0.1,
                     measured_by="training run", tol_note="x")
    limit = get("tian-histogram-limit")
    assert limit.verdict == EXACT and limit.measured_by == "finite size"
    assert {x.measured_by for x in CLAIMS if x.tol > 1e-10} <= set(claims.MEASURES) - {"round-off"}


def test_unknown_claim_and_bad_options(capsys):
    assert main(["check", "no-such-claim"]) == 2
    assert "got 'no-such-claim' (unknown claim)" in capsys.readouterr().err
    for argv in (["check", "--instances", "0"], ["check", "--seed", "-1"], ["frobnicate"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    with pytest.raises(ValueError, match="unknown claim"):
        get("nope")
    with pytest.raises(ValueError, match="instances"):
        run_check(CLAIMS[0], instances=0)


def test_console_entry_point_runs_as_module():
    done = subprocess.run([sys.executable, "-m", "theory", "check", "dai-dual-squared", "--instances", "3"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ALL CLAIMS HOLD" in done.stdout
