"""The docs tell the truth about the repository: no doc or docstring names a file, a
folder or a ``theory.*`` name that does not exist, nothing points at a document outside
the repository, and the CHANGELOG's table of moved names says where each name is now."""
import ast
import glob
import importlib
import io
import re
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "docs" / "results").glob("*.md"))]
SOURCES = [p for d in ("theory", "proofs", "tests", "benchmarks", "conformance", "docs") for p in sorted((REPO / d).rglob("*.py"))
           if "_build" not in p.parts]
PATH = re.compile(r"(?<![\w./-])((?:theory|proofs|tests|benchmarks|docs)/[\w./*-]*[\w*/])")
NAME = re.compile(r"(?<![\w./])(theory(?:\.[A-Za-z_]\w*)+)")
OUTSIDE = re.compile(r"\.\./shared|PAPERS\.md|ARCHITECTURE\.md")


def prose(path: Path) -> str:
    """The text a reader reads: a markdown file whole; of a Python file its docstrings and
    comments (string literals in code may name things that do not exist on purpose)."""
    text = path.read_text()
    if path.suffix == ".md":
        return text
    parts = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                parts.append(doc)
    parts += [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline) if t.type == tokenize.COMMENT]
    return "\n".join(parts)


def resolves(dotted: str) -> bool:
    """The dotted name is a module of the package, or an attribute chain of one."""
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def problems(path: Path) -> list:
    out = []
    for line in prose(path).splitlines():
        out += [f"names the path {m.group(1)}" for m in PATH.finditer(line)
                if line[m.end():m.end() + 1] != "<"                 # a placeholder: bench_<topic>.py
                and not m.group(1).startswith(("docs/_build", "docs/_generated"))        # what the book's build writes
                and not glob.glob(str(REPO / m.group(1).rstrip(".")))]
        out += [f"names {n}" for n in NAME.findall(line) if n.rsplit(".", 1)[-1] not in ("py", "md", "json", "png")
                and not resolves(n)]
        if OUTSIDE.search(line):
            out.append(f"points outside the repository: {line.strip()}")
    return out


@pytest.mark.parametrize("path", DOCS + SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_docs_name_only_what_exists(path):
    found = problems(path)
    assert not found, f"{path.relative_to(REPO)}: " + "; ".join(found)


def test_the_checker_catches_a_stale_name_and_path(tmp_path):
    outside = "/".join(("..", "shared", "notes.md"))   # spelled out, the path would trip the same check here
    stale = tmp_path / "stale.py"
    stale.write_text(f'"""See theory.lsa_training and theory/tasks.py, or {outside}."""\n'
                     'x = "theory.not_checked_in_code"  # theory.gd_step.lsa_forward exists\n')
    assert problems(stale) == ["names the path theory/tasks.py", "names theory.lsa_training",
                               f"points outside the repository: See theory.lsa_training and theory/tasks.py, or "
                               f"{outside}."]


def _changelog_rows():
    """The rows of the newest "### Moved" table (the older ones record where names were then)."""
    text = (REPO / "CHANGELOG.md").read_text()
    start = text.index("### Moved")
    moved = text[start:text.index("\n## [", start)]
    for line in moved.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`theory"):
            yield cells


def test_the_changelog_says_where_each_moved_name_is():
    rows = list(_changelog_rows())
    assert len(rows) > 10
    for old, now, names in rows:
        target = re.match(r"`(theory[\w.]*)`", now)
        renamed = re.findall(r"`\w+` is now `(\w+)`", names)          # "`old` is now `new`": the new name
        listed = renamed or re.findall(r"`(\w+)`", names)
        if target is None or "<topic>" in now or not listed or names.startswith("every name"):
            continue
        module = importlib.import_module(target.group(1))
        missing = [n for n in listed if not hasattr(module, n)]
        assert not missing, f"CHANGELOG: {missing} are not in {target.group(1)}"
        defined = re.search(r"\(`(theory[\w.]*)`\)", now)
        if defined:
            home = importlib.import_module(defined.group(1))
            assert all(hasattr(home, n) for n in listed), f"CHANGELOG: not all of {listed} in {defined.group(1)}"


def test_one_version_everywhere():
    import theory
    cff = re.search(r"^version: (\S+)$", (REPO / "CITATION.cff").read_text(), re.M).group(1)
    assert cff == theory.__version__
    assert f"## [{theory.__version__}]" in (REPO / "CHANGELOG.md").read_text()
    assert "version = attr: theory.core._version.__version__" in (REPO / "setup.cfg").read_text()



def test_the_readme_is_a_front_page():
    """The README stays short (what it is, the set-up, what check prints, one line of results
    per paper, where to go next) and links every results page, as docs/RESULTS.md does; each
    results page belongs to a topic of the registry (a topic without one yet is allowed)."""
    import theory
    readme = (REPO / "README.md").read_text()
    assert len(readme.encode()) <= 10_500
    index = (REPO / "docs" / "RESULTS.md").read_text()
    pages = sorted(p.stem for p in (REPO / "docs" / "results").glob("*.md"))
    assert pages and set(pages) <= {t.name for t in theory.topics()}
    for name in pages:
        assert f"(docs/results/{name}.md)" in readme, name
        assert f"(results/{name}.md)" in index, name


def test_every_results_page_puts_its_results_first():
    pages = sorted((REPO / "docs" / "results").glob("*.md"))
    assert pages
    for page in pages:
        headings = re.findall(r"^## (.+)$", page.read_text(), flags=re.M)
        assert headings and headings[0] == "Results", page.name
