"""The conformance scripts (conformance/*.py) need the authors' code and its libraries, so
CI does not run their comparisons; what it keeps true is that each one starts, says what it
needs, and refuses a folder that is not the authors' checkout at the right commit before
importing anything heavy.

With ``ICL_THEORY_CHECKOUTS`` naming a folder that holds the authors' checkouts (each under
its repository's name: ``self-organising-systems``, ``transformers_mesa_optimization_paper``,
``ICL``, ``LMOps``, ``luckmatters``) and the ``conformance`` extra installed,
``python -m pytest -m conformance`` runs every script as it is (exit 0) and with each of its
perturbations of our settings (exit 1: a comparison that cannot fail proves nothing)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import theory

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (REPO / "conformance").glob("*.py") if not p.name.startswith("_"))
CHECKOUTS = os.environ.get("ICL_THEORY_CHECKOUTS")


def _script(path: Path):
    """The script as a module (its top level imports only numpy and theory)."""
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(f"conformance_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module


def _run(script: Path, *args: str, timeout: int = 60):
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=timeout)


def test_each_script_is_named_after_its_topic_and_documented():
    """``conformance/<topic>.py`` for a topic of the registry, with its section in
    docs/conformance.md (a topic whose authors published no code has none)."""
    stray = {p.stem for p in SCRIPTS} - set(theory.TOPICS)
    assert not stray, f"conformance scripts not named after a topic of theory.TOPICS: {sorted(stray)}"
    page = (REPO / "docs" / "conformance.md").read_text()
    assert not [p.name for p in SCRIPTS if f"`conformance/{p.name}`" not in page]


def _exit_of(script: Path, capsys, *args: str):
    """Run the script's ``main`` in this process (argparse's exits caught): (status, stdout, stderr)."""
    sys.path.insert(0, str(script.parent))
    try:
        status = _script(script).main(list(args))
    except SystemExit as stop:
        status = stop.code
    finally:
        sys.path.remove(str(script.parent))
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_the_script_starts_and_refuses_a_wrong_checkout(script, tmp_path, capsys):
    done = _run(script, "--help")                       # as a program: its imports hold nothing heavy
    assert done.returncode == 0 and "--repo" in done.stdout and "checkout" in done.stdout
    assert "--perturb" in done.stdout and "--any-commit" in done.stdout
    status, _, err = _exit_of(script, capsys, "--repo", str(tmp_path))
    assert status == 2 and "give a checkout" in err


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_a_checkout_at_another_commit_or_without_git_is_refused(script, tmp_path, capsys):
    """The file the script needs is there, but the folder is not the authors' commit: exit 2
    naming what was found, before anything heavy is imported."""
    m = _script(script)
    (tmp_path / m.MARKER).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / m.MARKER).write_text("# not the authors' file\n")
    status, _, err = _exit_of(script, capsys, "--repo", str(tmp_path))
    assert status == 2 and "no git metadata" in err and m.COMMIT in err
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "another commit"], check=True)
    status, _, err = _exit_of(script, capsys, "--repo", str(tmp_path))
    assert status == 2 and f"not {m.COMMIT}" in err, err


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_each_script_names_what_it_pins_down(script):
    """Every script has at least one perturbation of our settings, each said in words."""
    m = _script(script)
    assert m.PERTURBATIONS and all(isinstance(v, str) and ("→" in v or "removed" in v) for v in m.PERTURBATIONS.values())
    assert m.REPOSITORY.count("/") == 1 and len(m.COMMIT) >= 7


def _checkout(script: Path) -> Path:
    m = _script(script)
    if not CHECKOUTS:
        pytest.skip("ICL_THEORY_CHECKOUTS is not set (a folder with the authors' checkouts)")
    repo = Path(CHECKOUTS) / m.REPOSITORY.split("/")[1]
    if not (repo / m.MARKER).is_file():
        pytest.skip(f"no checkout of {m.REPOSITORY} in {CHECKOUTS}")
    return repo


CASES = [(s, p) for s in SCRIPTS for p in [None, *_script(s).PERTURBATIONS]]


@pytest.mark.conformance
@pytest.mark.parametrize("script, perturb", CASES, ids=lambda c: getattr(c, "stem", c or "as-is"))
def test_the_comparison_agrees_and_fails_when_one_of_our_settings_is_perturbed(script, perturb):
    repo = _checkout(script)
    done = _run(script, "--repo", str(repo), *(["--perturb", perturb] if perturb else []), timeout=1200)
    tail = (done.stdout + done.stderr)[-3000:]
    if perturb is None:
        assert done.returncode == 0 and "all agree" in done.stdout, tail
    else:
        assert done.returncode == 1 and "DIFFERS" in done.stdout and "PERTURBED" in done.stdout, tail
