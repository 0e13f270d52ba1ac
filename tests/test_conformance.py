"""The conformance scripts (conformance/*.py) need the authors' code and its libraries, so
they are not run here; what CI keeps true is that each one starts, says what it needs, and
refuses a folder that is not the authors' checkout before importing anything heavy."""
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "conformance").glob("*.py"))


def test_one_script_per_paper_with_code():
    assert [p.stem for p in SCRIPTS] == ["gd_step", "mesa", "reddy", "tian"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_the_script_starts_and_refuses_a_wrong_checkout(script, tmp_path):
    done = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--repo" in done.stdout and "checkout" in done.stdout
    done = subprocess.run([sys.executable, str(script), "--repo", str(tmp_path)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "give a checkout" in done.stderr
