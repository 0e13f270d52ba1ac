"""The course book's generated text (docs/_ext/book_text.py): every number on a reproduction
page comes from the run record at build time, and the claim ledger is checked when the book
is built.  (The build itself, with warnings as errors, and the browser check run in CI's
book step: `bash docs/build && python docs/browser_check.py`.)"""
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def book_text():
    spec = importlib.util.spec_from_file_location("book_text", REPO / "docs" / "_ext" / "book_text.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_record_s_numbers_reach_the_page(book_text, tmp_path):
    """Edit a number in a run record and the page changes: the report and the caption are
    computed from the record when the page is built, not retyped."""
    pytest.importorskip("matplotlib")
    record = json.loads((REPO / "docs" / "figures" / "dual-form.json").read_text())
    page = book_text.record_markdown(REPO / "docs" / "figures" / "dual-form.json", tmp_path / "a", "/a/")
    assert "dual-form.json" in page and "```{figure} /a/dual-form.png" in page
    worst = record["results"]["exact_split_worst"]
    assert f"{worst:.1e}" in page                                # the caption's number, from the record
    record["results"]["exact_split_worst"] = 4.56e-9
    edited = tmp_path / "dual-form.json"
    edited.write_text(json.dumps(record))
    page2 = book_text.record_markdown(edited, tmp_path / "b", "/b/")
    assert "4.6e-09" in page2 and f"{worst:.1e}" not in page2
    shutil.rmtree(tmp_path)


def test_each_record_has_its_reproduction(book_text):
    assert book_text.reproduction_for("induction-head-paper-novel").name == "induction-head"
    assert book_text.reproduction_for("mesa").name == "mesa"
    with pytest.raises(ValueError, match="no reproduction writes a record called 'nope'"):
        book_text.reproduction_for("nope")


def test_the_ledger_is_checked_at_build_time(book_text, monkeypatch):
    from theory import claims
    monkeypatch.setattr(book_text.ledger, "CLAIMS", claims.CLAIMS[:2])
    table = book_text.ledger_markdown(instances=2)
    rows = table.strip().splitlines()
    assert len(rows) == 4 and rows[0].startswith("| claim |")
    assert all(row.endswith("| yes |") for row in rows[2:])
    assert f"`{claims.CLAIMS[0].id}`" in rows[2]


def test_every_record_has_a_page(book_text):
    """Each run record in docs/figures is shown on its topic's generated page (found from the
    registry: the reproduction that wrote it), and a topic with a record has a results page."""
    import theory
    for topic in theory.topics():
        page = book_text.topic_markdown(topic)
        for rep in topic.reproductions:
            for name in book_text.records_of(rep):
                assert f"```{{run-record}} {name}\n" in page, name
                assert (REPO / "docs" / "results" / f"{topic.name}.md").is_file(), topic.name
    shown = {n for t in theory.topics() for rep in t.reproductions for n in book_text.records_of(rep)}
    assert shown == {p.stem for p in (REPO / "docs" / "figures").glob("*.json")}


def test_a_topic_page_comes_from_the_registry(book_text, tmp_path):
    """A topic's page: its heading, its package's docstring, its proofs and claims, its
    reproductions, a record only where one is committed, the results link only where the
    page exists."""
    import theory
    topic = next(t for t in theory.topics() if t.name == "dual_form")
    page = book_text.topic_markdown(topic, figures_dir=tmp_path, results_dir=tmp_path)
    assert page.startswith(f"# {topic.heading}\n\nDai et al. 2023")
    assert "{doc}`dual_form </proofs/dual_form>`, {doc}`dual_form_momentum </proofs/dual_form_momentum>`" in page
    assert all(f"| `{c.id}` | {c.verdict} | {c.measured_by} |" in page for c in topic.claims)
    assert "No run record of it is committed yet." in page and "run-record" not in page
    assert "/docs/results/" not in page
    (tmp_path / "dual_form.md").write_text("# x\n")
    (tmp_path / "dual-form.json").write_text("{}")
    page = book_text.topic_markdown(topic, figures_dir=tmp_path, results_dir=tmp_path)
    assert "{doc}`/docs/results/dual_form`" in page and "```{run-record} dual-form\n" in page


def test_the_api_page_documents_every_public_name(book_text):
    """Every function, class and constant in the ``__all__`` of every public module is on
    the API page, and each function and class once only (twice is a duplicate object in
    Sphinx): each ``automodule`` lists its members (a module is a section of its own; a
    ``TOPIC`` is what its topic's page shows)."""
    import importlib
    import inspect
    page = book_text.api_markdown()
    blocks = re.findall(r"^\.\. automodule:: (\S+)\n   :(members|no-members):(.*)\n", page, flags=re.M)
    assert sorted(set(book_text.public_modules()) | {"theory"}) == sorted(name for name, _, _ in blocks)
    documented = {}
    for name, option, listed in blocks:
        module = importlib.import_module(name)
        for attr in ([n.strip() for n in listed.split(",")] if option == "members" else []):
            documented.setdefault(id(getattr(module, attr)), []).append(f"{name}.{attr}")
    missing, twice = [], []
    for name in book_text.public_modules() + ["theory"]:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.ismodule(obj) or attr == "TOPIC" or attr.startswith("__"):
                continue
            where = documented.get(id(obj), [])
            if not where:
                missing.append(f"{name}.{attr}")
            elif (inspect.isfunction(obj) or inspect.isclass(obj)) and len(where) > 1:
                twice.append(where)
    assert not missing, missing
    assert not twice, twice


def test_the_api_check_catches_a_module_left_out(book_text, monkeypatch):
    modules = book_text.public_modules()
    monkeypatch.setattr(book_text, "public_modules", lambda package="theory": [m for m in modules if m != "theory.gd_step.lsa"])
    with pytest.raises(AssertionError):
        test_the_api_page_documents_every_public_name(book_text)
