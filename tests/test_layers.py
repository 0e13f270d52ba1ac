"""theory/ reads bottom to top: every module belongs to one layer of ``theory.LAYERS``,
imports (at the top or inside functions) only from its own layer or the ones below, and
no two modules import each other, directly or round a circle."""
import ast
from pathlib import Path

import theory

ROOT = Path(theory.__file__).parent
MODULES = sorted(p.stem for p in ROOT.glob("*.py") if p.stem != "__init__")
LAYER_OF = {m: i for i, (_, members) in enumerate(theory.LAYERS.items()) for m in members}


def imports(module: str) -> set:
    """The theory modules that ``module`` imports, anywhere in its text."""
    out = set()
    for node in ast.walk(ast.parse((ROOT / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("theory."):
            out.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("theory.")}
    return out & set(MODULES)


def test_every_module_has_one_layer():
    listed = [m for members in theory.LAYERS.values() for m in members]
    assert sorted(listed) == MODULES, "add the new module to theory.LAYERS (theory/__init__.py)"


def test_nothing_imports_upward():
    upward = [(m, i) for m in MODULES for i in imports(m) if LAYER_OF[i] > LAYER_OF[m]]
    assert not upward, f"imports from a higher layer: {upward}"


def test_no_import_circle():
    graph = {m: imports(m) for m in MODULES}
    state = {}

    def visit(m, path):
        state[m] = "open"
        for n in graph[m]:
            assert state.get(n) != "open", f"import circle: {' -> '.join(path + [m, n])}"
            if n not in state:
                visit(n, path + [m])
        state[m] = "done"

    for m in MODULES:
        if m not in state:
            visit(m, [])


def test_the_checker_sees_function_level_imports(tmp_path, monkeypatch):
    """A lazy import inside a function counts (that is how the old circles hid)."""
    (tmp_path / "a.py").write_text("def f():\n    from .b import g\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    monkeypatch.setattr(__import__(__name__), "MODULES", ["a", "b"])
    assert imports("a") == {"b"}
