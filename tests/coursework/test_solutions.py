"""The exercise sources with their solutions (theory/coursework/solutions/, the repository
only) and the student versions the package installs (theory/coursework/exercises/): the
markers, the stripped versions kept equal to the sources, and the solutions kept out of what
setuptools packs.  That every solution passes the grader: tests/coursework/test_grading.py."""
import pytest

from theory import coursework
from theory.__main__ import main
from theory.coursework import notebooks


def test_sources_carry_the_markers_and_strip_cleanly():
    for name in coursework.EXERCISES:
        source = (notebooks.SOLUTIONS / f"{name}.py").read_text()
        assert source.startswith("# %% [markdown]") and source.count(notebooks.BEGIN) == 1 == source.count(notebooks.END)
        student = notebooks.student_version(source)
        assert notebooks.BEGIN not in student and "raise NotImplementedError" in student
    with pytest.raises(ValueError, match="without its"):
        notebooks.student_version(f"x\n{notebooks.BEGIN}\ny\n")


def test_installed_student_versions_are_the_sources_stripped():
    """The package installs the student versions only; they are the sources' student
    versions exactly (after editing a source: ``python -m theory exercises --out
    theory/coursework/exercises --sources theory/coursework/solutions``)."""
    for name in coursework.EXERCISES:
        source = (notebooks.SOLUTIONS / f"{name}.py").read_text(encoding="utf-8")
        installed = (notebooks.STUDENT / f"{name}.py").read_text(encoding="utf-8")
        assert installed == notebooks.student_version(source), f"{name}.py: rewrite the student versions"


def test_the_solutions_are_not_in_the_package(tmp_path, monkeypatch):
    """What setuptools packs (setup.cfg's packages = find: with its include list) holds no
    solution: the solutions folder is no package, and no packaged file carries a marker.
    Without the repository's folder, the answers and nbgrader's notebooks say where the
    sources are, and the student versions are still written."""
    import configparser
    from pathlib import Path
    import setuptools

    root = Path(notebooks.__file__).resolve().parents[2]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    include = cfg["options.packages.find"]["include"].split()
    packages = setuptools.find_packages(str(root), include=include)
    assert "theory.coursework.exercises" in packages
    assert not any(p.endswith(".solutions") for p in packages)
    packed = [f for p in packages for f in (root / p.replace(".", "/")).glob("*.py")]
    marked = [f for f in packed if notebooks.BEGIN in map(str.strip, f.read_text(encoding="utf-8").splitlines())]
    assert packed and not marked, marked
    assert "include_package_data" not in cfg["options"]           # nothing else from the folders goes in

    monkeypatch.setattr(notebooks, "SOLUTIONS", tmp_path / "absent")
    for kwargs in (dict(solutions=True), dict(format="nbgrader"), dict(format="ipynb", solutions=True)):
        with pytest.raises(ValueError, match="not installed with the package.*--sources DIR"):
            notebooks.write_exercises(tmp_path / "out", **kwargs)
    assert len(notebooks.write_exercises(tmp_path / "student")) == len(coursework.EXERCISES)
    assert main(["exercises", "--out", str(tmp_path / "answers"), "--solutions"]) == 2
    assert main(["exercises", "--out", str(tmp_path / "answers"), "--solutions", "--sources",
                 str(root / "theory" / "coursework" / "solutions")]) == 0
    assert notebooks.BEGIN in (tmp_path / "answers" / "lsa_backward.py").read_text(encoding="utf-8")
