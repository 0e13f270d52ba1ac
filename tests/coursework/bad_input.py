"""Bad-input rows of the coursework (theory.coursework): one per public callable (see tests/test_bad_input.py)."""
import runpy
import tempfile

from theory.coursework import diagnosis, grading, report as reports
from theory.coursework import notebooks
from tests.bad_input_kinds import COUNT, Choice, Custom, Flag, Obj, POS, SIZE, Size, Spec, Unchecked


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.coursework.report.Verdict",
                  "theory.coursework.report.Report",
                  "theory.coursework.cases.Exercise"}

SPECS = [
    # coursework
    Spec("theory.coursework.notebooks.student_version", notebooks.student_version,
         lambda: dict(source="a\n### BEGIN SOLUTION\nb\n### END SOLUTION\n"),
         dict(source=Custom(must_fail=("### BEGIN SOLUTION\n", "### END SOLUTION\n", 3)))),
    Spec("theory.coursework.notebooks.percent_cells", notebooks.percent_cells, lambda: dict(source="# %%\nx = 1\n"),
         dict(source=Custom(must_fail=("x = 1\n", 3), must_pass=("",)))),
    Spec("theory.coursework.notebooks.notebook", notebooks.notebook, lambda: dict(source="# %%\nx = 1\n"),
         dict(source=Custom(must_fail=("x = 1\n", 3)))),
    Spec("theory.coursework.notebooks.nbgrader_notebook", notebooks.nbgrader_notebook,
         lambda: dict(name="ex", source="# %%\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", outputs=("x",),
                      points=1),
         dict(name=Custom(must_fail=("", "a b", 3)), source=Custom(must_fail=("x = 1\n", 3)),
              outputs=Custom(must_fail=((), ["x"], ("",), "x")), points=SIZE)),
    Spec("theory.coursework.notebooks.write_exercises", notebooks.write_exercises,
         lambda: dict(out_dir=tempfile.mkdtemp(), solutions=False, format="py", sources=None),
         dict(out_dir=Custom(must_fail=(3,)), solutions=Flag(), format=Choice(),
              sources=Custom(must_fail=(3, "/nonexistent", str(notebooks.STUDENT)),
                             must_pass=(None, str(notebooks.SOLUTIONS)), with_none=False))),
    Spec("theory.coursework.notebooks.solution_sources", notebooks.solution_sources, lambda: dict(sources=None),
         dict(sources=Custom(must_fail=(3, "/nonexistent", str(notebooks.STUDENT), tempfile.gettempdir()),
                             must_pass=(None, str(notebooks.SOLUTIONS)), with_none=False))),
    Spec("theory.coursework.notebooks.read_code", notebooks.read_code,
         lambda: dict(path=str(notebooks.SOLUTIONS / "three_param_gradient.py")),
         dict(path=Custom(must_fail=("/nonexistent.py", str(notebooks.SOLUTIONS), __file__.replace(".py", ".txt"), 3)))),
    Spec("theory.coursework.grading.exercise_of", grading.exercise_of,
         lambda: dict(path=str(notebooks.SOLUTIONS / "three_param_gradient.py"), code=None),
         dict(path=Custom(must_fail=("/nonexistent.py", __file__)), code=Unchecked(reason="read from path when None"))),
    Spec("theory.coursework.grading.grade", grading.grade,
         lambda: dict(path=str(notebooks.SOLUTIONS / "three_param_gradient.py"), seed=0, cases=1, timeout=30.0,
                      no_theory=False, forward_once=False),
         dict(path=Custom(must_fail=("/nonexistent.py", __file__)), seed=Size(zero_ok=True, optional=True),
              cases=SIZE, timeout=POS, no_theory=Flag(), forward_once=Flag())),
    Spec("theory.coursework.diagnosis.check_answer", diagnosis.check_answer,
         lambda: dict(exercise="three_param_gradient", output="gradient",
                      namespace=runpy.run_path(str(notebooks.SOLUTIONS / "three_param_gradient.py")), seed=0, cases=1),
         dict(exercise=Choice(), output=Custom(must_fail=("dQ", 3)), namespace=Custom(must_fail=("globals", 3)),
              seed=COUNT, cases=SIZE)),
    Spec("theory.coursework.report.format_report", reports.format_report,
         lambda: dict(report=reports.Report("x.py", "gd_construction", 0, 1, [reports.Verdict("f", True)])),
         dict(report=Obj())),
    Spec("theory.coursework.report.report_json", reports.report_json,
         lambda: dict(report=reports.Report("x.py", "gd_construction", 0, 1, [reports.Verdict("f", True)])),
         dict(report=Obj())),
]
