"""The exercises as files: jupytext percent scripts (``.py``), plain notebooks (``.ipynb``)
and nbgrader source notebooks — written from the exercise files and read back for grading.

Two sets of files, and only one of them is installed:

- ``theory/coursework/exercises/`` (:data:`STUDENT`): the student versions, installed with the
  package — every solution replaced by ``raise NotImplementedError``;
- ``theory/coursework/solutions/`` (:data:`SOLUTIONS`): the sources, each solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers).  They are in the
  source repository only, **not in the wheel**: a student installs the same package as the
  teacher.  The answers (``solutions=True``) and nbgrader's source notebooks are written from
  them — from a checkout of the repository, or from a folder of sources given as ``sources``.

:func:`student_version` makes a student version from a source; the installed student files
are exactly that (a test keeps them so; after editing a source, ``python -m theory exercises
--out theory/coursework/exercises --sources theory/coursework/solutions`` rewrites them).
Notebooks are written and read as nbformat 4 JSON with the standard library, so none of this
needs Jupyter installed.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..core._validate import choice, flag, positive_int

__all__ = ["STUDENT", "SOLUTIONS", "BEGIN", "END", "FORMATS", "student_version", "percent_cells", "notebook",
           "nbgrader_notebook", "solution_sources", "write_exercises", "read_code"]

STUDENT = Path(__file__).parent / "exercises"        # installed: the student versions
SOLUTIONS = Path(__file__).parent / "solutions"      # the repository only: the sources with their solutions
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
FORMATS = ("py", "ipynb", "nbgrader")
_MARKDOWN, _CODE = "# %% [markdown]", "# %%"


def student_version(source: str) -> str:
    """``source`` with every solution block replaced by ``raise NotImplementedError``
    (indented like the BEGIN marker); ValueError if the markers do not pair up."""
    if not isinstance(source, str):
        raise ValueError(f"source must be the text of an exercise; got {type(source).__name__}")
    out, inside, indent = [], False, ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"source has a {BEGIN} inside another solution block")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError")
        elif stripped == END:
            if not inside:
                raise ValueError(f"source has an {END} without its {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"source has a {BEGIN} without its {END}")
    return "\n".join(out) + "\n"


def percent_cells(source: str) -> list:
    """The cells of a jupytext percent script: ``[(kind, text)]``, kind ``"markdown"`` or
    ``"code"``; a markdown cell's lines lose their leading comment sign and one space."""
    if not isinstance(source, str):
        raise ValueError(f"source must be the text of a percent script; got {type(source).__name__}")
    cells = []
    for line in source.splitlines():
        if line.startswith(_MARKDOWN):
            cells.append(["markdown", []])
        elif line.startswith(_CODE):
            cells.append(["code", []])
        elif not cells:
            raise ValueError("source must be a percent script: its first line is a '# %%' cell marker")
        elif cells[-1][0] == "markdown":
            cells[-1][1].append(line[2:] if line.startswith("# ") else line.lstrip("#"))
        else:
            cells[-1][1].append(line)
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def _cell(kind: str, text: str, metadata: dict | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": metadata or {}, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _notebook(cells: list) -> dict:
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def notebook(source: str) -> dict:
    """A percent script as an nbformat 4 notebook (a dict, ready for ``json.dump``)."""
    return _notebook([_cell(kind, text) for kind, text in percent_cells(source)])


def nbgrader_notebook(name: str, source: str, outputs: tuple, points: int = 1) -> dict:
    """An exercise's nbgrader *source* notebook: the task and the given code locked, the
    cell with the solution markers a solution cell, then one autograded test cell per
    graded output (``points`` each) that calls :func:`theory.coursework.check_answer`.
    ``nbgrader generate_assignment`` makes the student version from it."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an exercise's name; got {name!r:.60}")
    if not isinstance(outputs, tuple) or not outputs or not all(isinstance(o, str) and o for o in outputs):
        raise ValueError(f"outputs must be a non-empty tuple of output names; got {outputs!r:.60}")
    points = positive_int("points", points)
    def meta(grade_id: str, *, grade=False, solution=False, locked=False) -> dict:
        m = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
             "task": False}
        if grade:
            m["points"] = points
        return {"nbgrader": m}

    cells = []
    for i, (kind, text) in enumerate(percent_cells(source)):
        if BEGIN in text:
            cells.append(_cell(kind, text, meta(f"{name}-solution", solution=True)))
        else:
            cells.append(_cell(kind, text, meta(f"{name}-given-{i}", locked=True)))
    for out in outputs:
        test = (f"# Autograded: is {out} right? (several random sizes; the hint says what is off)\n"
                f"from theory.coursework import check_answer\n"
                f"check_answer({name!r}, {out!r}, globals())")
        cells.append(_cell("code", test, meta(f"{name}-test-{out}", grade=True, locked=True)))
    return _notebook(cells)


def solution_sources(sources=None) -> Path:
    """The folder of exercise sources with their solutions: ``sources`` (a folder holding
    ``<exercise>.py`` for every exercise, each with its solution markers) or, when None,
    the repository's ``theory/coursework/solutions/`` — which is not installed with the
    package, so outside a checkout this is a ValueError that says where to find them."""
    from .cases import EXERCISES
    if sources is None:
        if not SOLUTIONS.is_dir():
            raise ValueError("the exercise solutions are not installed with the package (students install the "
                             "same wheel): they are in the source repository, theory/coursework/solutions/ — "
                             "run this from a checkout (pip install -e .) or pass sources=DIR (--sources DIR)")
        folder = SOLUTIONS
    elif isinstance(sources, (str, os.PathLike)):
        folder = Path(sources)
        if not folder.is_dir():
            raise ValueError(f"sources must be a folder of exercise sources; no such folder: {folder}")
    else:
        raise ValueError(f"sources must be a folder path or None; got {type(sources).__name__}")
    for name in EXERCISES:
        path = folder / f"{name}.py"
        if not path.is_file():
            raise ValueError(f"sources {folder} has no {name}.py (every exercise's source is needed)")
        if BEGIN not in path.read_text(encoding="utf-8"):
            raise ValueError(f"sources: {path} has no {BEGIN} block: a student version, not a source")
    return folder


def write_exercises(out_dir, *, solutions: bool = False, format: str = "py", sources=None) -> list:
    """Write every exercise to ``out_dir``: student versions (``solutions=False``) or the
    answers, as percent scripts (``format="py"``) or notebooks (``"ipynb"``); or, with
    ``format="nbgrader"``, the nbgrader source notebooks (they hold the solutions, which
    nbgrader removes: ``solutions`` must stay False).  The student versions come from the
    installed :data:`STUDENT` files; the answers and nbgrader's notebooks need the sources
    (:func:`solution_sources`).  With ``sources`` given, everything is written from those
    sources, the student versions too.  Returns the paths written."""
    from .cases import EXERCISES
    if not isinstance(out_dir, (str, os.PathLike)):
        raise ValueError(f"out_dir must be a path; got {type(out_dir).__name__}")
    solutions = flag("solutions", solutions)
    format = choice("format", format, FORMATS)
    if format == "nbgrader" and solutions:
        raise ValueError("format='nbgrader' writes nbgrader's source notebooks, which hold the solutions already "
                         "(nbgrader generate_assignment removes them): leave solutions False")
    from_sources = solutions or format == "nbgrader" or sources is not None
    folder = solution_sources(sources) if from_sources else STUDENT
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, ex in EXERCISES.items():
        source = (folder / f"{name}.py").read_text(encoding="utf-8")
        if format == "nbgrader":
            text = json.dumps(nbgrader_notebook(name, source, ex.graded_names), indent=1, ensure_ascii=False)
        else:
            source = student_version(source) if from_sources and not solutions else source
            text = source if format == "py" else json.dumps(notebook(source), indent=1, ensure_ascii=False)
        path = out / f"{name}.{'py' if format == 'py' else 'ipynb'}"
        path.write_text(text + ("" if format == "py" else "\n"), encoding="utf-8")
        paths.append(path)
    return paths


def _code_line(line: str) -> str:
    """A notebook line as plain Python: IPython magics and shell escapes become comments
    (the line count stays, so error line numbers still point at the right line)."""
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")):
        return line[: len(line) - len(stripped)] + "pass  # " + stripped
    return line


def read_code(path) -> tuple:
    """The Python code of a ``.py`` file, or of a notebook's code cells joined in order,
    and for a notebook the (cell, line) of every code line (cells counted from 1 among all
    cells, as Jupyter shows them); ``(code, None)`` for a ``.py`` file.  ValueError for a
    missing file, another suffix or a file that is not an nbformat 4 notebook."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path; got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise ValueError(f"path must be an existing file; no such file: {path}")
    if not path.is_file():
        raise ValueError(f"path must be a file; {path} is a folder")
    if path.suffix not in (".py", ".ipynb"):
        raise ValueError(f"path must be a .py file or an .ipynb notebook (what the grader reads); got '{path.suffix}'")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".py":
        return text, None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"path {path} is not a notebook (not JSON: {err})") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ValueError(f"path {path} is not an nbformat 4 notebook")
    lines, line_map = [], []
    for c, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for j, line in enumerate(source.splitlines(), start=1):
            lines.append(_code_line(line))
            line_map.append([c, j])
        lines.append("")
        line_map.append([c, len(source.splitlines()) + 1])
    return "\n".join(lines) + "\n", line_map
