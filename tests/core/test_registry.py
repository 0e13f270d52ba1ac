"""What a topic declares (theory.core.registry) and how the ledger and the command line
collect it: a new topic is one package and one line in ``theory.claims.TOPICS``."""
import sys
import textwrap

import numpy as np
import pytest

import theory
from theory import claims
from theory.__main__ import main, reproductions
from theory.core.registry import EXACT, Claim, Option, Reproduction, Topic

DEMO = '''
"""A demo topic, written by the test."""
from theory.core.records import make_record
from theory.core.registry import EXACT, Claim, Option, Reproduction, Topic

def check_demo(rng):
    return 0.0

def _run(options, executor=None, progress=None):
    return make_record("demo-topic", settings=dict(options), parts={}, results={"size": options["size"]}, curves={})

def _report(record):
    return f"demo report, size {record['results']['size']}"

def demo_figures(record, out_dir, *, pdf=False):
    return []

TOPIC = Topic("demo_topic", papers={"demo": "Demo et al. 2026"},
              claims=(Claim("demo-zero", "Demo et al. 2026", "zero is zero", EXACT, "dual_form", check_demo),),
              reproductions=(Reproduction("demo-topic", "a demo reproduction", _run, _report, workers=False,
                                          options=(Option("--size", type=int, default=3),)),),
              figures={"demo-topic": demo_figures})
'''


@pytest.fixture
def demo_topic(tmp_path, monkeypatch):
    """A topic package on disk beside the real ones, registered by one line in TOPICS."""
    (tmp_path / "demo_topic").mkdir()
    (tmp_path / "demo_topic" / "__init__.py").write_text(textwrap.dedent(DEMO))
    monkeypatch.setattr(theory, "__path__", [*theory.__path__, str(tmp_path)])
    monkeypatch.setattr(claims, "TOPICS", (*claims.TOPICS, "demo_topic"))      # the one line
    yield
    sys.modules.pop("theory.demo_topic", None)
    if hasattr(theory, "demo_topic"):
        delattr(theory, "demo_topic")


def test_a_new_topic_is_one_package_and_one_line(demo_topic, capsys, tmp_path):
    assert [t.name for t in claims.topics()][-1] == "demo_topic"
    assert claims.collect_claims()[-1].id == "demo-zero"
    assert claims.run_check(claims.collect_claims()[-1], instances=2).ok
    assert "demo-topic" in reproductions()
    assert main(["reproduce", "demo-topic", "--size", "5", "--quick"]) == 0
    assert "demo report, size 5" in capsys.readouterr().out
    assert main(["reproduce", "gd-step", "--size", "5"]) == 2         # its option is its own
    assert "--size is an option of demo-topic, not of gd-step" in capsys.readouterr().err
    assert theory.drawer_for("demo-topic").__name__ == "demo_figures"


def test_the_registry_collects_every_topic_in_order():
    assert [t.name for t in claims.topics()] == list(claims.TOPICS) == list(theory.TOPICS)
    assert claims.CLAIMS == claims.collect_claims()
    assert [c.id.split("-")[0] for c in claims.CLAIMS][0] == "dai"
    names = [rep.name for topic in claims.topics() for rep in topic.reproductions]
    assert list(reproductions()) == names and len(set(names)) == len(names)       # one name, one reproduction
    assert theory.drawer_for("induction-head-paper-novel-K512") is theory.induction.figures.induction_paper_figures
    assert theory.drawer_for("induction-head") is theory.induction.figures.induction_head_figures
    assert theory.drawer_for("no-such-record") is None


def _claim(**kw):
    return Claim(**{**dict(id="demo-x", paper="Demo", statement="s", verdict=EXACT, proof="dual_form",
                           check=lambda rng: 0.0), **kw})


def test_a_topic_refuses_what_does_not_fit():
    good = dict(name="demo", papers={"demo": "Demo"}, claims=(_claim(),))
    assert Topic(**good).drawer("x") is None
    with pytest.raises(ValueError, match="claims: 'other-x' has a prefix"):
        Topic(**dict(good, claims=(_claim(id="other-x"),)))
    with pytest.raises(ValueError, match="requires must name other topic packages"):
        Topic(**dict(good, requires=("demo",)))
    with pytest.raises(ValueError, match="figures must map"):
        Topic(**dict(good, figures={"": len}))
    with pytest.raises(ValueError, match="name must be lower-case words"):
        Reproduction("Gd Step", "s", run=len, report=len)
    with pytest.raises(ValueError, match="flags must be long options"):
        Option("-s")
    assert Option("--first-seed", type=int).dest == "first_seed"
    pattern = Topic(**dict(good, figures={"demo-*": len, "demo-a": abs}))
    assert pattern.drawer("demo-a") is abs and pattern.drawer("demo-b") is len and pattern.drawer("other") is None
    assert np.isfinite(_claim().check(np.random.default_rng(0)))
