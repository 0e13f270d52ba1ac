"""The course book's generated text (docs/_ext/book_text.py): every number on a reproduction
page comes from the run record at build time, and the claim ledger is checked when the book
is built.  (The build itself, with warnings as errors, and the browser check run in CI's
book step: `bash docs/build && python docs/browser_check.py`.)"""
import importlib.util
import json
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


def test_every_record_has_a_page():
    """Each run record in docs/figures is shown by a {run-record} directive of a topic page."""
    pages = "".join(p.read_text() for p in (REPO / "docs" / "topics").glob("*.md"))
    for record in (REPO / "docs" / "figures").glob("*.json"):
        assert f"```{{run-record}} {record.stem}\n" in pages, record.stem
