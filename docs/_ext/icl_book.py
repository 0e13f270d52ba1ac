"""A Sphinx extension for the course book: the pages and directives generated from the
registry of topics (``theory.claims.TOPICS``), so that a new topic needs no edit here.

- At ``builder-inited``: ``docs/_generated/topics/<topic>.md`` (a page per topic) and
  ``docs/_generated/api.md`` (every public module), written afresh at every build.
- ``{topic-pages}``, ``{proof-pages}``, ``{results-pages}``: the tables of contents of the
  topic pages, the proof scripts and the results pages (``docs/results/<topic>.md``), in
  registry order.
- ``{claim-ledger}``: the claim ledger as a table, every claim checked at build time.
- ``{run-record} NAME``: the run record ``NAME.json`` in ``docs/figures`` — its report and its
  figures with their captions, all drawn from the record at build time.

The text comes from :mod:`book_text` (no Sphinx there, so the tests check it); here it is
parsed as MyST Markdown into the page.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.util.docutils import SphinxDirective

import book_text
from theory import claims as ledger

FIGURES = book_text.FIGURES


class _Markdown(SphinxDirective):
    def markdown(self) -> str:
        raise NotImplementedError

    def run(self):
        return self.parse_text_to_nodes(self.markdown())


class ClaimLedger(_Markdown):
    """The claim ledger, checked now."""
    has_content = False

    def markdown(self) -> str:
        return book_text.ledger_markdown()


class RunRecord(_Markdown):
    """A run record's report, figures and captions."""
    required_arguments = 1
    has_content = False

    def markdown(self) -> str:
        name = self.arguments[0]
        path = FIGURES / f"{name}.json"
        if not path.is_file():
            raise self.error(f"no run record {path}")
        self.env.note_dependency(str(path))
        out = Path(self.env.srcdir) / "docs" / "_build" / "book-figures"
        prefix = Path("/") / out.relative_to(self.env.srcdir)
        return book_text.record_markdown(path, out, f"{prefix.as_posix()}/")


class _Toctree(_Markdown):
    """A table of contents, from the registry."""
    has_content = False
    option_spec = {"caption": str}

    def entries(self) -> list[str]:
        raise NotImplementedError

    def markdown(self) -> str:
        return book_text.toctree_markdown(self.entries(), caption=self.options.get("caption"))


class TopicPages(_Toctree):
    def entries(self):
        return [f"/docs/_generated/topics/{t.name}" for t in ledger.topics()]


class ProofPages(_Toctree):
    def entries(self):
        return [f"/proofs/{name}" for name in ledger.proof_modules()]


class ResultsPages(_Toctree):
    def entries(self):
        return [f"/docs/results/{t.name}" for t in ledger.topics() if (book_text.RESULTS / f"{t.name}.md").is_file()]


def write_generated(app=None) -> None:
    """The generated pages, afresh: a page per topic and the API page (a file is rewritten
    only when its text changes, so an unchanged page is not read again)."""
    pages = {f"topics/{t.name}.md": book_text.topic_markdown(t) for t in ledger.topics()}
    pages["api.md"] = book_text.api_markdown()
    book_text.GENERATED.mkdir(exist_ok=True)
    for old in book_text.GENERATED.rglob("*.md"):
        if old.relative_to(book_text.GENERATED).as_posix() not in pages:
            old.unlink()
    for rel, text in pages.items():
        path = book_text.GENERATED / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def setup(app):
    app.connect("builder-inited", write_generated)
    app.add_directive("topic-pages", TopicPages)
    app.add_directive("proof-pages", ProofPages)
    app.add_directive("results-pages", ResultsPages)
    app.add_directive("claim-ledger", ClaimLedger)
    app.add_directive("run-record", RunRecord)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
