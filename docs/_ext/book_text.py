"""The book's generated text, as Markdown (MyST), from the package and the run records only:
the claim ledger and each run record's report, figures and captions.  No Sphinx here, so
that the tests can check it (``tests/test_book.py``); ``icl_book.py`` turns it into pages.

Every number on a reproduction page comes from here at build time: the report is the
reproduction's own ``report(record)`` and the figures and captions are drawn afresh from the
record, so editing a number in a record changes the page.
"""
from __future__ import annotations

from pathlib import Path

import theory
from theory import claims as ledger
from theory.core.records import read_record

__all__ = ["reproduction_for", "record_markdown", "ledger_markdown"]


def reproduction_for(name: str):
    """The reproduction whose record is called ``name`` (the longest matching name:
    ``induction-head-paper-novel`` is one of ``induction-head``'s records)."""
    found = [rep for topic in theory.topics() for rep in topic.reproductions
             if name == rep.name or name.startswith(rep.name + "-")]
    if not found:
        raise ValueError(f"no reproduction writes a record called {name!r}")
    return max(found, key=lambda rep: len(rep.name))


def record_markdown(record_path, figures_dir, image_prefix: str) -> str:
    """A run record as a page section: where it comes from, its report (a text block), then
    each of its figures, drawn now from the record into ``figures_dir``, with the caption
    the drawer computes (``image_prefix`` + the file name is the image's path from the page)."""
    record_path, figures_dir = Path(record_path), Path(figures_dir)
    record = read_record(record_path)
    name = record["name"]
    figures_dir.mkdir(parents=True, exist_ok=True)
    drawn = theory.drawer_for(name)(record, figures_dir, pdf=False)
    software = record.get("software", {})
    lines = [f"**Run record `{record_path.name}`** (made {record['created'][:10]} with icl-theory "
             f"{software.get('icl-theory', '?')}, numpy {software.get('numpy', '?')}; "
             f"`python -m theory reproduce` wrote it, the page reads it at build time).", "",
             "```text", reproduction_for(name).report(record).rstrip(), "```", ""]
    for png in (p for p in drawn if p.suffix == ".png"):
        caption = (figures_dir / f"{png.stem}.caption.md").read_text(encoding="utf-8").strip()
        lines += [f"```{{figure}} {image_prefix}{png.name}", f":alt: {png.stem}", f":name: fig-{png.stem}", "",
                  caption, "```", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    text = " ".join(str(text).split())
    for c in "|[]*_`":                                   # table separators and inline markup, literally
        text = text.replace(c, "\\" + c)
    return text


def ledger_markdown(*, seed: int = 0, instances: int = 20) -> str:
    """The claim ledger as a table, checked now: id, paper, verdict, what is verified, the
    tolerance, the worst relative error measured on ``instances`` random instances (proof
    run once a module), and whether the claim holds."""
    cache: dict = {}
    rows = ["| claim | paper | verdict | what is verified | tolerance | worst error (measured now) | holds |",
            "|---|---|---|---|---|---|---|"]
    for claim in ledger.CLAIMS:
        r = ledger.run_check(claim, seed=seed, instances=instances, proof_cache=cache)
        rows.append(f"| `{claim.id}` | {_cell(claim.paper)} | {claim.verdict} | {_cell(claim.statement)} | "
                    f"{claim.tol:.0e} | {r.worst_error:.1e} | {'yes' if r.ok else '**no**'} |")
    return "\n".join(rows) + "\n"
