"""nbgrader for real: the exported source notebooks go through ``nbgrader
generate_assignment`` and ``autograde`` in a course folder, with a right and a wrong
submission, and the exported scores are what they must be.

Needs the ``teach`` extra (``pip install -e '.[teach]'``, part of the README's test
command); without it the test is skipped, except under CI, where a missing nbgrader is a
failure.  It runs in the README's notebook step (``python -m pytest -n 2 -m notebook``:
eight notebooks executed in Jupyter kernels, about 20 s); ``python -m pytest -m teach``
runs it alone."""
import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from theory.coursework import EXERCISES, notebooks

pytestmark = [pytest.mark.teach, pytest.mark.notebook]      # it executes notebooks in kernels: the notebook step

POINTS = sum(len(ex.graded_names) for ex in EXERCISES.values())     # one point a graded output


def _nbgrader(course: Path, *args: str) -> None:
    """Run nbgrader in ``course`` with this interpreter's scripts on PATH (nbgrader calls
    ``alembic`` by name)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0 and "ERROR" not in done.stdout + done.stderr, done.stdout + done.stderr


def _submit(course: Path, student: str, edit: tuple | None) -> None:
    """A student's submission: the released notebooks with the solution typed into each
    solution cell (``edit`` = (old, new) in the attention exercise: a wrong answer)."""
    out = course / "submitted" / student / "ps1"
    out.mkdir(parents=True)
    for path in sorted((course / "release" / "ps1").glob("*.ipynb")):
        released = json.loads(path.read_text())
        source = json.loads((course / "source" / "ps1" / path.name).read_text())
        for mine, theirs in zip(released["cells"], source["cells"]):
            if theirs["metadata"]["nbgrader"]["solution"]:
                text = "\n".join(line for line in "".join(theirs["source"]).splitlines()
                                 if line.strip() not in (notebooks.BEGIN, notebooks.END))
                if edit and path.stem == "attention_backward":
                    assert edit[0] in text
                    text = text.replace(*edit)
                mine["source"] = text
        (out / path.name).write_text(json.dumps(released))


def test_generate_assignment_and_autograde_give_the_scores(tmp_path):
    if not os.environ.get("CI"):
        pytest.importorskip("nbgrader")
    course = tmp_path / "course"
    notebooks.write_exercises(course / "source" / "ps1", format="nbgrader")
    (course / "nbgrader_config.py").write_text('c = get_config()\nc.CourseDirectory.course_id = "icl"\n'
                                               f'c.CourseDirectory.root = {str(course)!r}\n')
    _nbgrader(course, "generate_assignment", "ps1", "--force")
    released = (course / "release" / "ps1" / "attention_backward.ipynb").read_text()
    assert "raise NotImplementedError" in released and notebooks.BEGIN not in released
    _submit(course, "right", None)
    _submit(course, "wrong", ("dK = dS.T @ Q", "dK = (dS.T @ Q).T"))
    _nbgrader(course, "autograde", "ps1", "--force")
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as f:
        scores = {row["student_id"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(f)}
    assert scores == {"right": (POINTS, POINTS), "wrong": (POINTS - 1, POINTS)}, scores
    graded = json.loads((course / "autograded" / "wrong" / "ps1" / "attention_backward.ipynb").read_text())
    errors = [o for c in graded["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1 and "dK is the transpose of the answer" in errors[0]["evalue"]
    shutil.rmtree(course)
