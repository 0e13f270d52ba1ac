"""Coursework: exercises, the autograder, notebooks for Jupyter and nbgrader.

- :mod:`theory.coursework.cases`      the exercises' cases: random sizes, reference answers
  from this package's code, the typical mistakes worth a hint
- :mod:`theory.coursework.grading`    the grader (``python -m theory grade FILE``): the
  student's file runs in a child process with a time limit, the verdict is made outside it
- :mod:`theory.coursework.diagnosis`  one answer against the reference, and the hints; the
  nbgrader test cells' ``check_answer``
- :mod:`theory.coursework.report`     the verdicts of a file, as text and as JSON
- :mod:`theory.coursework.sandbox`    that child process (standard library and numpy only)
- :mod:`theory.coursework.notebooks`  the exercises as percent scripts, notebooks and nbgrader
  source notebooks (``python -m theory exercises --out DIR [--format F]``), and reading a
  notebook's code back
- ``theory/coursework/exercises/``    the student versions (installed)
- ``theory/coursework/solutions/``    the exercise sources, solutions between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION`` — in the source repository only, not in
  the wheel (a student installs the same package)
"""
from .cases import EXERCISES, Exercise
from .diagnosis import TOL, check_answer
from .grading import TIMEOUT, exercise_of, grade
from .report import Report, Verdict, format_report, report_json
from .notebooks import FORMATS, SOLUTIONS, STUDENT, read_code, student_version, write_exercises

__all__ = ["EXERCISES", "Exercise", "TIMEOUT", "TOL", "Report", "Verdict", "check_answer", "exercise_of",
           "format_report", "grade", "report_json", "FORMATS", "SOLUTIONS", "STUDENT", "read_code", "student_version",
           "write_exercises"]
