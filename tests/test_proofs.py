"""Every proof script in the ledger runs, prints its narrative, and stands on its own."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from theory.claims import proof_modules

PROOFS = Path(__file__).resolve().parents[1] / "proofs"


@pytest.mark.parametrize("name", proof_modules())
def test_proof_stands_on_its_own(name):
    """A teacher can hand out one script: it imports sympy and nothing from this package,
    and is in jupytext percent format."""
    source = (PROOFS / f"{name}.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or ".").split(".")[0])
    assert imported <= {"sympy"}, imported
    assert source.startswith("# %% [markdown]")


def test_every_proof_file_is_in_the_ledger():
    scripts = {p.stem for p in PROOFS.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(proof_modules())


def test_python_m_proofs_runs_named_proofs_and_narrates_them():
    """`python -m proofs NAME ...` runs the named scripts (every script runs in full in the
    claim checks and, as a notebook, in CI's notebook step)."""
    names = ["dual_form", "mesa"]
    done = subprocess.run([sys.executable, "-m", "proofs", *names], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in names:
        assert f"proofs/{name}.py" in done.stdout
    assert done.stdout.count("All assertions hold.") == len(names) == done.stdout.count("## Step 1")
    assert f"{len(names)} proof scripts ran" in done.stdout


def test_python_m_proofs_help_and_a_wrong_name(capsys):
    from proofs.__main__ import main
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and all(name in out for name in proof_modules())
    with pytest.raises(SystemExit) as done:
        main(["nope"])
    assert done.value.code == 2 and "unknown proof nope" in capsys.readouterr().err


def test_a_single_proof_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "proofs.dual_form"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "All assertions hold." in done.stdout


def test_proofs_use_canonical_forms_only():
    """The README says so: equality is decided by expand, cancel or factor (and Step 4 of
    scan_snap, the one numeric spot check, says it is one) — never the heuristic simplify."""
    for name in proof_modules():
        source = (PROOFS / f"{name}.py").read_text()
        assert "simplify(" not in source, name
        assert "✓" not in source, f"{name}: a step shows its algebra, not a tick"
    assert "numeric spot check" in (PROOFS / "scan_snap.py").read_text()


@pytest.mark.notebook
@pytest.mark.parametrize("name", proof_modules())
def test_proof_runs_as_a_notebook(name):
    """jupytext opens the script as a notebook whose code cells are top-level code (no cell
    marker inside a function), and a real kernel runs them top to bottom.  Each step is a
    markdown heading (not repeated by its code), its code cell shows its algebra as LaTeX
    (no step prints only a tick), and the test plumbing — RESULTS — sits in the last cell,
    tagged remove-cell so that Jupyter Book leaves it out of the lesson."""
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    source = (PROOFS / f"{name}.py").read_text()
    assert not [line for line in source.splitlines() if line.startswith(" ") and line.lstrip().startswith("# %%")]
    nb = jupytext.reads(source, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds.count("code") >= 3
    steps = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and c.source.startswith("## Step")]
    assert steps, "the notebook shows its steps as markdown headings"
    last = nb.cells[-1]
    assert last.cell_type == "code" and "RESULTS = " in last.source and last.metadata.get("tags") == ["remove-cell"]
    assert not any("RESULTS = " in c.source for c in nb.cells[:-1])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [c.get("outputs", []) for c in nb.cells]
    text = "\n".join(o.get("text", "") for out in outputs for o in out)
    assert "## Step" not in text, "a code cell repeats its markdown heading"
    for i in steps:
        code = nb.cells[i + 1]
        assert code.cell_type == "code", nb.cells[i].source
        latex = [o for o in code.get("outputs", []) if "text/latex" in o.get("data", {})]
        assert latex, f"{nb.cells[i].source.splitlines()[0]}: no formula shown"
    assert "All assertions hold." in text
    assert not [o for out in outputs for o in out if o.get("output_type") == "error"]
