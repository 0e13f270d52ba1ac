"""The book's generated text, as Markdown (MyST), from the registry of topics, the package
and the run records only: the claim ledger, a page per topic, the API page, the lists of
topics, proofs and results pages, and each run record's report, figures and captions.  No
Sphinx here, so that the tests can check it (``tests/test_book.py``); ``icl_book.py`` turns
it into pages.  Nothing per topic is written by hand: a topic in ``theory.claims.TOPICS``
gets its page, its proofs and its API from here.

Every number on a reproduction page comes from here at build time: the report is the
reproduction's own ``report(record)`` and the figures and captions are drawn afresh from the
record, so editing a number in a record changes the page.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import theory
from theory import claims as ledger
from theory.core.records import read_record

__all__ = ["reproduction_for", "record_markdown", "ledger_markdown", "records_of", "topic_proofs",
           "topic_markdown", "public_modules", "api_markdown", "toctree_markdown", "GENERATED"]

REPO = Path(__file__).resolve().parents[2]
FIGURES = REPO / "docs" / "figures"
RESULTS = REPO / "docs" / "results"
GENERATED = REPO / "docs" / "_generated"          # written at every build, never committed


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
    """The claim ledger as a table, checked now: id, paper, verdict, how it is checked, what is verified, the
    tolerance, the worst relative error measured on ``instances`` random instances (proof
    run once a module), and whether the claim holds."""
    cache: dict = {}
    rows = ["| claim | paper | verdict | checked by | what is verified | tolerance | worst error (measured now) | holds |",
            "|---|---|---|---|---|---|---|---|"]
    for claim in ledger.CLAIMS:
        r = ledger.run_check(claim, seed=seed, instances=instances, proof_cache=cache)
        rows.append(f"| `{claim.id}` | {_cell(claim.paper)} | {claim.verdict} | {claim.measured_by} | {_cell(claim.statement)} | "
                    f"{claim.tol:.0e} | {r.worst_error:.1e} | {'yes' if r.ok else '**no**'} |")
    return "\n".join(rows) + "\n"


def records_of(rep, figures_dir=FIGURES) -> list[str]:
    """The run records in ``figures_dir`` that ``rep`` wrote: its own name first, then the
    longer ones (``induction-head-paper-novel``) in name order."""
    names = sorted(p.stem for p in Path(figures_dir).glob("*.json"))
    mine = [n for n in names if reproduction_for(n) is rep]
    return sorted(mine, key=lambda n: (n != rep.name, n))


def topic_proofs(topic) -> list[str]:
    """The proof scripts the topic's claims cite, in the order of its claims, each once."""
    return list(dict.fromkeys(c.proof for c in topic.claims))


def _first_paragraph(module) -> str:
    doc = inspect.getdoc(module) or ""
    return " ".join(doc.split("\n\n")[0].split())


def topic_markdown(topic, figures_dir=FIGURES, results_dir=RESULTS) -> str:
    """A topic's page: its heading, the first paragraph of its package's docstring, its
    proofs, results page (where ``results_dir`` has one), API and settings, its claims (static:
    the ledger page checks them) and every run record its reproductions wrote."""
    package = importlib.import_module(f"theory.{topic.name}")
    lines = [f"# {topic.heading}", "", _first_paragraph(package), ""]
    proofs = ", ".join(f"{{doc}}`{name} </proofs/{name}>`" for name in topic_proofs(topic))
    lines += [f"- **The code**: `theory.{topic.name}` ({{ref}}`its API <api-{topic.name}>`)"]
    if proofs:
        lines += [f"- **The proofs**: {proofs}"]
    if (Path(results_dir) / f"{topic.name}.md").is_file():
        lines += [f"- **The results, discussed**: {{doc}}`/docs/results/{topic.name}`"]
    lines += ["- **The settings and where each comes from**: {doc}`/docs/papers`", ""]
    if topic.claims:
        lines += ["## The claims", "",
                  "Checked at every build on the {doc}`ledger page </docs/claims>`.", "",
                  "| claim | verdict | checked by | what is verified |", "|---|---|---|---|"]
        lines += [f"| `{c.id}` | {c.verdict} | {c.measured_by} | {_cell(c.statement)} |" for c in topic.claims]
        lines.append("")
    for rep in topic.reproductions:
        lines += [f"## `python -m theory reproduce {rep.name}`", "", rep.summary + ".", ""]
        records = records_of(rep, figures_dir)
        if not records:
            lines += ["No run record of it is committed yet.", ""]
        for name in records:
            if name != rep.name:
                lines += [f"### `{name}`", ""]
            lines += [f"```{{run-record}} {name}", "```", ""]
    return "\n".join(lines)


def public_modules(package: str = "theory") -> list[str]:
    """Every public module of the package: a module whose dotted name has no part starting
    with ``_``, the students' exercise files left out."""
    pkg = importlib.import_module(package)
    found = [m.name for m in pkgutil.walk_packages(pkg.__path__, f"{package}.")
             if not any(part.startswith("_") for part in m.name.split("."))
             and ".exercises" not in m.name]
    return sorted(found)


def _automodules(names) -> list[str]:
    out = ["```{eval-rst}"]
    for name in names:
        own = _own_names(name)
        out += [f".. automodule:: {name}"] + ([f"   :members: {', '.join(own)}", "   :undoc-members:"] if own
                                               else ["   :no-members:"])
    return out + ["```", ""]


def _own_names(name: str) -> list[str]:
    """The names of a module's ``__all__`` that its section documents: its constants, and
    the functions and classes defined in it or in one of its private modules
    (``theory.draw_all``; ``theory.core.Diverged``, from ``theory.core._validate``). A
    function or class re-exported from a public module is documented there, once; a module
    is a section of its own, a ``TOPIC`` is what its topic's page shows."""
    module = importlib.import_module(name)
    own = []
    for attr in getattr(module, "__all__", []):
        obj = getattr(module, attr)
        if inspect.ismodule(obj) or attr == "TOPIC" or attr.startswith("__"):
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            home = obj.__module__
            parent, _, last = home.rpartition(".")
            if not (home == name or (parent == name and last.startswith("_"))):
                continue
        own.append(attr)
    return own


def api_markdown() -> str:
    """The API page: every public module, by topic; a package's docstring first, with the
    names it defines itself (its re-exported names are documented once, in the module that
    defines them)."""
    modules = public_modules()
    packages = {m for m in modules if hasattr(importlib.import_module(m), "__path__")}  # their overview first
    lines = ["# API reference", "",
             "From the docstrings, generated from the registry of topics at every build: every public",
             "module of `theory`, with every name in its `__all__`. A topic package re-exports the",
             "names a user calls; each is documented in the module that defines it.", ""]
    groups = [("The core", "theory.core", "api-core"),
              *[(t.heading, f"theory.{t.name}", f"api-{t.name}") for t in theory.topics()],
              ("The coursework", "theory.coursework", "api-coursework")]
    seen = set()
    for heading, prefix, label in groups:
        inside = [m for m in modules if m == prefix or m.startswith(prefix + ".")]
        seen.update(inside)
        lines += [f"({label})=", f"## {heading} — `{prefix}`", ""]
        lines += _automodules([m for m in inside if m in packages] + [m for m in inside if m not in packages])
    rest = [m for m in modules if m not in seen]
    lines += ["(api-ledger)=", "## The ledger and the command line", ""]
    lines += _automodules(["theory"] + rest)
    return "\n".join(lines)


def toctree_markdown(entries, *, caption: str | None = None) -> str:
    """A MyST toctree of the given document names."""
    head = ["```{toctree}", ":maxdepth: 1"] + ([f":caption: {caption}"] if caption else [])
    return "\n".join(head + [""] + list(entries) + ["```", ""])
