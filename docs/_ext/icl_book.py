"""A Sphinx extension for the course book: the directives that put generated text into pages.

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

FIGURES = Path(__file__).resolve().parents[1] / "figures"


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


def setup(app):
    app.add_directive("claim-ledger", ClaimLedger)
    app.add_directive("run-record", RunRecord)
    return {"parallel_read_safe": False, "parallel_write_safe": True}
