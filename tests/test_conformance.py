"""The conformance scripts (conformance/*.py) need the authors' code and its libraries, so
they are not run here; what CI keeps true is that each one starts, says what it needs, and
refuses a folder that is not the authors' checkout before importing anything heavy."""
import subprocess
import sys
from pathlib import Path

import pytest

import theory

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "conformance").glob("*.py"))


def test_each_script_is_named_after_its_topic_and_documented():
    """``conformance/<topic>.py`` for a topic of the registry, with its section in
    docs/conformance.md (a topic whose authors published no code has none)."""
    stray = {p.stem for p in SCRIPTS} - set(theory.TOPICS)
    assert not stray, f"conformance scripts not named after a topic of theory.TOPICS: {sorted(stray)}"
    page = (REPO / "docs" / "conformance.md").read_text()
    assert not [p.name for p in SCRIPTS if f"`conformance/{p.name}`" not in page]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_the_script_starts_and_refuses_a_wrong_checkout(script, tmp_path):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--repo" in done.stdout and "checkout" in done.stdout
    done = subprocess.run([sys.executable, str(script), "--repo", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "give a checkout" in done.stderr
