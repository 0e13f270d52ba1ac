"""The coursework kit: the files the command line writes (scripts, notebooks, nbgrader source notebooks), the grader's command
line (exit codes, JSON, seeds) and the in-process check of the nbgrader test cells."""
import json

import numpy as np
import pytest

from theory import coursework
from theory.__main__ import main
from theory.coursework import diagnosis, grading, notebooks


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    d = tmp_path_factory.mktemp("exercises")
    assert main(["exercises", "--out", str(d / "student")]) == 0
    assert main(["exercises", "--out", str(d / "solutions"), "--solutions"]) == 0
    assert main(["exercises", "--out", str(d / "nb-student"), "--format", "ipynb"]) == 0
    assert main(["exercises", "--out", str(d / "nb-solutions"), "--format", "ipynb", "--solutions"]) == 0
    return d


@pytest.mark.parametrize("name", list(coursework.EXERCISES))
def test_solutions_pass_and_student_versions_fail_cleanly(written, name, capsys):
    for solutions, student in (("solutions", "student"), ("nb-solutions", "nb-student")):
        suffix = "py" if solutions == "solutions" else "ipynb"
        assert main(["grade", str(written / solutions / f"{name}.{suffix}")]) == 0
        assert "PASS" in capsys.readouterr().out
        assert main(["grade", str(written / student / f"{name}.{suffix}")]) == 1
        out = capsys.readouterr().out
        assert "FAIL" in out and "not implemented yet" in out


def test_the_notebooks_are_the_scripts_cell_for_cell(written):
    """A written notebook holds the percent script's cells, and the grader reads its code
    back line for line (a notebook's error names its cell and line)."""
    for name in coursework.EXERCISES:
        script = (written / "solutions" / f"{name}.py").read_text()
        nb = json.loads((written / "nb-solutions" / f"{name}.ipynb").read_text())
        cells = notebooks.percent_cells(script)
        assert [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]] == cells
        code, line_map = notebooks.read_code(written / "nb-solutions" / f"{name}.ipynb")
        assert code.split() == " ".join(t for k, t in cells if k == "code").split()
        assert len(line_map) == len(code.splitlines())


def test_a_notebook_error_names_its_cell_and_line(tmp_path):
    nb = notebooks.notebook((notebooks.SOLUTIONS / "three_param_gradient.py").read_text().replace(
        "    dalpha = du * y", "    dalpha = du * yy"))
    nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                           "source": ["%matplotlib inline\n", "!pip list\n"]})
    path = tmp_path / "mine.ipynb"
    path.write_text(json.dumps(nb))
    [v] = grading.grade(path, seed=0).verdicts
    cell = next(i for i, c in enumerate(nb["cells"], 1) if "dalpha = du * yy" in "".join(c["source"]))
    line = 1 + "".join(nb["cells"][cell - 1]["source"]).splitlines().index("    dalpha = du * yy")
    assert f"raised NameError in cell {cell}, line {line} (`dalpha = du * yy`)" in v.hints[0], v.hints


def test_the_grader_says_what_is_wrong_with_the_file(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "missing.py")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "mine.py"
    bad.write_text("def unrelated():\n    pass\n")
    assert main(["grade", str(bad)]) == 2 and "not one of the exercises" in capsys.readouterr().err
    (tmp_path / "notes.txt").write_text("x")
    assert main(["grade", str(tmp_path / "notes.txt")]) == 2 and ".py file or an .ipynb notebook" in capsys.readouterr().err
    (tmp_path / "attention_backward.ipynb").write_text("{not json")
    assert main(["grade", str(tmp_path / "attention_backward.ipynb")]) == 2
    assert "not a notebook" in capsys.readouterr().err
    empty = tmp_path / "attention_backward.py"
    empty.write_text("")
    [v] = grading.grade(empty).verdicts
    assert not v.passed and v.hints == ["no function attention_backward, attention_forward in the file"]


def test_json_report_and_reproducible_seeds(written, capsys):
    path = str(written / "solutions" / "gd_construction.py")
    assert main(["grade", path, "--json", "--seed", "7", "--cases", "2"]) == 0
    [report] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]       # JSON lines
    assert report["seed"] == 7 and report["cases"] == 2 and report["passed"] is True
    assert set(report["functions"][0]) == {"function", "passed", "errors", "hints"}
    seeds = set()
    for _ in range(3):                                          # no --seed: a fresh seed each run, in the report
        assert main(["grade", path, "--json"]) == 0
        seeds.add(json.loads(capsys.readouterr().out)["seed"])
    assert len(seeds) == 3
    a = grading.grade(path, seed=5)
    b = grading.grade(path, seed=5)
    assert a.verdicts[0].errors == b.verdicts[0].errors


def test_every_case_is_a_different_size():
    """A size written into an answer cannot pass every case: the cases of one run differ in
    the size an answer would have to hard-code, and attention's four sizes differ."""
    rng = np.random.default_rng(0)
    for name, ex in coursework.EXERCISES.items():
        for _ in range(20):
            drawn = ex.draw(rng, 3)
            key = {"attention_backward": "Q", "lsa_backward": "E"}.get(name)
            sizes = [inputs[key].shape[0] if key else inputs["N"] for inputs, _, _ in drawn]
            assert len(set(sizes)) == 3, (name, sizes)
            if name == "attention_backward":
                inputs = drawn[0][0]
                dims = (inputs["Q"].shape[0], inputs["K"].shape[0], inputs["Q"].shape[1], inputs["V"].shape[1])
                assert len(set(dims)) == 4, dims


def test_check_answer_grades_one_output_in_process():
    """The nbgrader test cells: one output at a time, so a wrong dK costs dK's points only."""
    ns = {}
    exec((notebooks.SOLUTIONS / "attention_backward.py").read_text(), ns)
    for out in ("dQ", "dK", "dV"):
        diagnosis.check_answer("attention_backward", out, ns)
    wrong = {}
    exec((notebooks.SOLUTIONS / "attention_backward.py").read_text().replace("dK = dS.T @ Q", "dK = (dS.T @ Q).T"),
         wrong)
    diagnosis.check_answer("attention_backward", "dQ", wrong)
    diagnosis.check_answer("attention_backward", "dV", wrong)
    with pytest.raises(AssertionError, match="dK is the transpose of the answer"):
        diagnosis.check_answer("attention_backward", "dK", wrong)
    with pytest.raises(ValueError, match="output must be one of"):
        diagnosis.check_answer("attention_backward", "dX", ns)


@pytest.mark.parametrize("name", list(coursework.EXERCISES))
def test_exercise_opens_as_a_notebook(name):
    """jupytext reads each exercise as markdown and top-level code cells, as our own reader
    does (no kernel here: the solutions run in the grading tests above)."""
    jupytext = pytest.importorskip("jupytext")
    source = (notebooks.SOLUTIONS / f"{name}.py").read_text()
    assert not [line for line in source.splitlines() if line.startswith(" ") and line.lstrip().startswith("# %%")]
    nb = jupytext.reads(source, fmt="py:percent")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == [k for k, _ in notebooks.percent_cells(source)]
    assert any(f"def {coursework.EXERCISES[name].function}(" in c.source for c in nb.cells if c.cell_type == "code")


def test_nbgrader_notebooks_carry_the_metadata(tmp_path):
    """Every cell of an nbgrader source notebook: locked (the task, the given code), a
    solution cell with the markers, autograded test cells with points; ids unique."""
    paths = notebooks.write_exercises(tmp_path, format="nbgrader")
    for path in paths:
        nb = json.loads(path.read_text())
        metas = [c["metadata"]["nbgrader"] for c in nb["cells"]]
        ids = [m["grade_id"] for m in metas]
        assert len(set(ids)) == len(ids)
        solutions = [c for c, m in zip(nb["cells"], metas) if m["solution"]]
        assert len(solutions) == 1 and notebooks.BEGIN in "".join(solutions[0]["source"])
        tests = [m for m in metas if m["grade"]]
        assert [m["grade_id"].rsplit("-", 1)[1] for m in tests] == list(
            coursework.EXERCISES[path.stem].graded_names)
        assert all(m["points"] == 1 and m["locked"] for m in tests)
    with pytest.raises(ValueError, match="leave solutions False"):
        notebooks.write_exercises(tmp_path, format="nbgrader", solutions=True)
