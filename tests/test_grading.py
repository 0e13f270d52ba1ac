"""The coursework kit: exercises with nbgrader/otter-style solution markers, and the
autograder that grades a student's file function by function with hints."""
import pytest

from theory import grading
from theory.__main__ import main

# typical wrong answers: (exercise, solution line, wrong line, the hint that must appear)
WRONG = [
    ("attention_backward", "dS = P * (dP - np.sum(dP * P, axis=1, keepdims=True))", "dS = P * dP",
     "softmax Jacobian"),
    ("attention_backward", "dK = dS.T @ Q", "dK = (dS.T @ Q).T", "transposed?"),
    ("attention_backward", "return dQ, dK, dV", "return dQ.astype(np.float32), dK, dV", "float32"),
    ("three_param_gradient", "return np.array([dbeta, dalpha, dxi])", "return -np.array([dbeta, dalpha, dxi])",
     "wrong sign"),
    ("gd_construction", "P = (eta / N) * np.eye(D)", "P = eta * np.eye(D)", "constant factor 5"),
    ("lsa_backward", "dE[:N] += dKs @ W_K + dVs @ W_V", "dE[:N] += dVs @ W_V", "dE"),
]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("exercises")
    assert main(["exercises", "--out", str(d / "student")]) == 0
    assert main(["exercises", "--out", str(d / "solutions"), "--solutions"]) == 0
    return d


def test_sources_carry_the_markers_and_strip_cleanly():
    for name in grading.EXERCISES:
        source = (grading.SOURCES / f"{name}.py").read_text()
        assert source.startswith("# %% [markdown]") and source.count(grading.BEGIN) == 1 == source.count(grading.END)
        student = grading.student_version(source)
        assert grading.BEGIN not in student and "raise NotImplementedError" in student
    with pytest.raises(ValueError, match="without its"):
        grading.student_version(f"x\n{grading.BEGIN}\ny\n")


@pytest.mark.parametrize("name", list(grading.EXERCISES))
def test_solutions_pass_and_student_versions_fail_cleanly(written, name, capsys):
    assert main(["grade", str(written / "solutions" / f"{name}.py")]) == 0
    assert "PASS" in capsys.readouterr().out
    assert main(["grade", str(written / "student" / f"{name}.py")]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "not implemented yet" in out


@pytest.mark.parametrize("name,right,wrong,hint", WRONG, ids=[f"{w[0]}:{w[3]}" for w in WRONG])
def test_typical_wrong_answers_fail_with_their_hint(written, tmp_path, name, right, wrong, hint):
    source = (written / "solutions" / f"{name}.py").read_text()
    assert right in source
    path = tmp_path / f"{name}.py"
    path.write_text(source.replace(right, wrong))
    [verdict] = grading.grade(path)
    assert not verdict.passed
    if hint in verdict.errors:          # no hint applies: the error names the wrong output, and only it
        assert verdict.errors[hint] > 1e-3 and all(e < 1e-12 for k, e in verdict.errors.items() if k != hint)
    else:
        assert any(hint in h for h in verdict.hints), verdict


def test_grade_says_what_is_wrong_with_the_file(tmp_path, capsys):
    bad = tmp_path / "mine.py"
    bad.write_text("def unrelated():\n    pass\n")
    assert main(["grade", str(bad)]) == 2 and "not one of the exercises" in capsys.readouterr().err
    broken = tmp_path / "three_param_gradient.py"
    broken.write_text("import numpy as np\n1 / 0\n")
    [v] = grading.grade(broken)
    assert not v.passed and "does not run: ZeroDivisionError" in v.hints[0]


@pytest.mark.parametrize("name", list(grading.EXERCISES))
def test_exercise_opens_as_a_notebook(name):
    """jupytext reads each exercise as markdown and top-level code cells (no kernel here:
    the solutions run in the grading tests above, the student versions in the CLI test)."""
    jupytext = pytest.importorskip("jupytext")
    source = (grading.SOURCES / f"{name}.py").read_text()
    assert not [line for line in source.splitlines() if line.startswith(" ") and line.lstrip().startswith("# %%")]
    nb = jupytext.reads(source, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[:2] == ["markdown", "code"] and kinds.count("code") >= 2
    assert any(f"def {grading.EXERCISES[name].function}(" in c.source for c in nb.cells if c.cell_type == "code")
