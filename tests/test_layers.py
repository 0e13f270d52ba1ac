"""The architecture of theory/, checked: a shared core, one package per topic, and the
ledger, the command line and the coursework on top.

- Every module belongs somewhere: to ``theory/core/``, to a topic package named in
  ``theory.TOPICS``, or to the top (``__init__``, ``__main__``, the ledger ``claims``,
  the coursework package ``coursework/``); no other module or folder sits in ``theory/``.
- The core imports no topic and nothing on top.
- A topic imports the core, itself and the topics its ``TOPIC.requires`` declares — never
  the ledger, the command line or the grader; what it declares it really imports.
- No module imports another round a circle (imports inside functions count), and the
  topics' ``requires`` have no circle either.
"""
import ast
from pathlib import Path

import pytest

import theory

ROOT = Path(theory.__file__).parent
TOP = {"theory", "theory.__main__", "theory.claims"}


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(root: Path = ROOT) -> dict:
    """Module name -> path of every .py file of the package."""
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def imports(name: str, path: Path, known: set) -> set:
    """The package's modules that module ``name`` imports, anywhere in its text (a name
    imported from a package counts as that submodule when it is one)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for a in node.names:
                sub = f"{module}.{a.name}"
                out.add(sub if sub in known else module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m in known}


MODULES = _modules()
GRAPH = {m: imports(m, p, set(MODULES)) for m, p in MODULES.items()}
REQUIRES = {t.name: set(t.requires) for t in theory.topics()}


def group(module: str) -> str:
    """'core', a topic's name, 'top', or '?' for a module that belongs nowhere."""
    parts = module.split(".")
    if module in TOP or module == "theory.coursework" or module.startswith("theory.coursework."):
        return "top"
    if len(parts) >= 2 and parts[1] == "core":
        return "core"
    if len(parts) >= 2 and parts[1] in theory.TOPICS:
        return parts[1]
    return "?"


def test_every_module_belongs_somewhere():
    stray = [m for m in MODULES if group(m) == "?"]
    assert not stray, (f"modules outside core/, the topics of theory.TOPICS and the top: {stray} "
                       "(a new topic is a package plus its name in TOPICS, theory/claims.py)")
    flat = sorted(p.name for p in ROOT.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "claims.py"], flat
    folders = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(["core", "coursework", *theory.TOPICS]), folders


def test_every_topic_declares_itself():
    for name in theory.TOPICS:
        topic = getattr(theory, name).TOPIC
        assert topic.name == name and set(topic.requires) <= set(theory.TOPICS)


def test_the_core_imports_no_topic():
    bad = [(m, i) for m in MODULES if group(m) == "core" for i in GRAPH[m] if group(i) != "core"]
    assert not bad, f"core modules importing a topic or the top: {bad}"


def test_a_topic_imports_the_core_itself_and_what_it_declares():
    bad = [(m, i) for m in MODULES if group(m) in REQUIRES for i in GRAPH[m]
           if group(i) not in {"core", group(m)} | REQUIRES[group(m)]]
    assert not bad, f"topic modules importing the top or an undeclared topic: {bad}"
    for topic, declared in REQUIRES.items():
        used = {group(i) for m in MODULES if group(m) == topic for i in GRAPH[m]} - {"core", topic}
        assert used == declared, f"{topic} declares requires={sorted(declared)} but imports {sorted(used)}"


def _circle(graph: dict):
    """A circle of the graph as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path + [node, nxt]
            if nxt not in state:
                found = visit(nxt, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def test_no_import_circle():
    circle = _circle(GRAPH)
    assert circle is None, f"import circle: {' -> '.join(circle)}"
    circle = _circle(REQUIRES)
    assert circle is None, f"circle of topics' requires: {' -> '.join(circle)}"


def test_the_checker_sees_function_level_imports_and_package_names(tmp_path):
    """A lazy import inside a function counts (that is how the old circles hid), and
    ``from . import b`` names the module b, not its package."""
    pkg = tmp_path / "theory" / "topic"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n\nfrom . import c\nfrom ..core import nn\n")
    known = {"theory.topic.b", "theory.topic.c", "theory.core", "theory.core.nn"}
    names = _modules(tmp_path / "theory")
    assert "theory.topic.a" in names and "theory.topic" in names
    assert imports("theory.topic.a", pkg / "a.py", known) == {"theory.topic.b", "theory.topic.c", "theory.core.nn"}
    assert _circle({"a": {"b"}, "b": {"a"}}) in (["a", "b", "a"], ["b", "a", "b"])


def test_the_checker_refuses_a_stray_module_and_an_upward_import():
    assert group("theory.lsa_training") == "?" and group("theory.core.nn") == "core"
    assert group("theory.gd_step.lsa") == "gd_step" and group("theory.claims") == "top"
    with pytest.raises(AssertionError):
        assert _circle({"x": {"y"}, "y": {"z"}, "z": {"x"}}) is None
