"""The grader against the files a real class hands in: right, wrong and hostile.

One row per kind of submission: the exercise, how the file differs from the solution, the
grader's options, and what must come out — PASS or FAIL, the hints it must give and the
hints it must not give (a hint that names the wrong cause is a defect too).  Every file is
graded by the real grader, in its child process, with a short time limit."""
import json
import re
from dataclasses import dataclass, field

import pytest

from theory.coursework import diagnosis, grading, notebooks, report as reports

TIMEOUT = 10.0         # seconds a file here may run
HANG = dict(timeout=1.0)   # the files that never finish use all of theirs


@dataclass(frozen=True)
class Row:
    id: str
    exercise: str
    edits: tuple = ()                   # (old, new) replacements in the solution; old "" = prepend new
    passed: bool = False
    hints: tuple = ()                   # substrings some hint must contain
    not_hints: tuple = ()               # substrings no hint may contain
    options: dict = field(default_factory=dict)
    whole: str | None = None            # the whole file instead of an edited solution


ATT, LSA, GD, TP = "attention_backward", "lsa_backward", "gd_construction", "three_param_gradient"
ATT_SOLUTION = "dS = P * (dP - np.sum(dP * P, axis=1, keepdims=True))"
FD_THREE_PARAM = '''import numpy as np


def three_param_loss(theta, N, L):
    beta, alpha, xi = theta
    y = 1 / (1 + np.exp(-beta))
    w = np.exp(alpha * y) / (np.exp(alpha * y) + N - 1)
    logits = np.array([xi * w, xi * (1 - w) / (N - 1), 0.0])
    counts = np.array([1, N - 1, L - N])
    m = logits.max()
    return -(logits[0] - m - np.log(np.sum(counts * np.exp(logits - m))))


def three_param_gradient(theta, N, L):
    theta, g, h = np.asarray(theta, dtype=float), np.zeros(3), 1e-3
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        f = [three_param_loss(theta + s * e, N, L) for s in (2, 1, -1, -2)]
        g[k] = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)     # a fourth-order difference
    return g
'''
THEORY_THREE_PARAM = '''import numpy as np


def three_param_gradient(theta, N, L):
    from theory.induction.three_param import three_param_loss
    return three_param_loss(np.asarray(theta), N, L)[1]
'''
FAKE_RESULT = '''import json
import os

import numpy as np


def attention_backward(dout, cache):
    json.dump({"load": None, "cases": [{"value": {"kind": "tuple", "items": []}, "calls": {}}]},
              open("result.json", "w"))
    np.savez("outputs.npz")
    os._exit(0)
'''
TAMPER = '''import theory.coursework.grading as g
import theory.core.gradcheck as gc
g.rel_error = gc.rel_error = lambda *a, **k: 0.0
g.TOL = float("inf")
'''

ROWS = [
    # --- files that never answer
    Row("hang at the top", ATT, (("", "while True:\n    pass\n"),), hints=("did not finish within",), options=HANG),
    Row("hang in the function", ATT, (("    dV = P.T @ dout", "    while True:\n        pass"),),
        hints=("did not finish within",), options=HANG),
    Row("sleep", TP, (("    y = 1 / (1", "    import time\n    time.sleep(600)\n    y = 1 / (1"),),
        hints=("did not finish within",), options=HANG),
    Row("loop that ignores SIGTERM", ATT,
        (("", "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n"),),
        hints=("did not finish within",), options=HANG),
    Row("sys.exit(0) in the function", ATT, (("    dV = P.T @ dout", "    import sys\n    sys.exit(0)"),),
        hints=("calls exit() or sys.exit() at line",)),
    Row("exit() at the top", ATT, (("", "exit()\n"),), hints=("calls exit() or sys.exit() at line 1",)),
    Row("raise SystemExit(3) at the top", LSA, (("", "raise SystemExit(3)\n"),), hints=("calls exit()",)),
    Row("os._exit(0) in the function", ATT, (("    dV = P.T @ dout", "    import os\n    os._exit(0)"),),
        hints=("ended the grading process (exit status 0)",)),
    Row("segfault", TP, (("    y = 1 / (1", "    import ctypes\n    ctypes.string_at(0)\n    y = 1 / (1"),),
        hints=("killed by SIGSEGV",)),
    Row("prints without end", GD, (("", "while True:\n    print('x' * 1000000)\n"),),
        hints=("more than 64 MB",)),
    Row("deletes the grader's folder", ATT, (("", "import os, shutil\nshutil.rmtree(os.getcwd())\n"),),
        hints=("ended the grading process",)),
    Row("writes a fake result and exits", ATT, whole=FAKE_RESULT),
    Row("memory bomb", ATT, (("    dV = P.T @ dout", "    np.ones(6 * 10 ** 8)\n    dV = P.T @ dout"),),
        hints=("MemoryError",)),
    # --- files that run but do not run right
    Row("syntax error", LSA, (("    dH = dout @ P", "    dH = dout @@ P"),), hints=("SyntaxError at line",)),
    Row("exception at the top", TP, (("", "1 / 0\n"),), hints=("ZeroDivisionError at line 1 (`1 / 0`)",)),
    Row("exception in the function", LSA, (("    dP = dout.T @ H", "    dP = dout.T @ H[:2, :1]"),),
        hints=("raised ValueError at line",)),
    Row("not implemented (the student version)", ATT, ((ATT_SOLUTION, "raise NotImplementedError"),),
        hints=("not implemented yet",)),
    Row("function renamed", ATT, (("def attention_backward(", "def attention_backwards("),),
        hints=("no function attention_backward",)),
    Row("wrong signature", ATT, (("def attention_backward(dout, cache):", "def attention_backward(dout):"),),
        hints=("raised TypeError",)),
    Row("returns None", ATT, (("    return dQ, dK, dV", "    dQ, dK, dV"),), hints=("returns None",)),
    Row("too few values", ATT, (("    return dQ, dK, dV", "    return dQ, dK"),),
        hints=("returns 2 values, expected 3",)),
    Row("too many values", ATT, (("    return dQ, dK, dV", "    return dQ, dK, dV, P"),),
        hints=("returns 4 values, expected 3",)),
    Row("a dict instead of a tuple", ATT, (("    return dQ, dK, dV", "    return dict(dQ=dQ, dK=dK, dV=dV)"),),
        hints=("returns a dict", "return the tuple (dQ, dK, dV)"), not_hints=("softmax",)),
    Row("one array instead of a tuple", LSA, (("    return dE, dW_K, dW_Q, dW_V, dP", "    return dE"),),
        hints=("returns one array, expected 5 values",)),
    Row("a string", ATT, (("    return dQ, dK, dV", "    return 'dQ', dK, dV"),), hints=("dQ is a str",)),
    Row("a ragged list", ATT, (("    return dQ, dK, dV", "    return [[1.0, 2.0], [3.0]], dK, dV"),),
        hints=("dQ is a list", "not an array of numbers")),
    Row("complex", ATT, (("    return dQ, dK, dV", "    return dQ + 0j, dK, dV"),), hints=("dQ is complex",)),
    Row("integers", ATT, (("    return dQ, dK, dV", "    return dQ.astype(int), dK, dV"),),
        hints=("dQ is an integer array",), not_hints=("constant factor",)),
    Row("an extra axis", ATT, (("    return dQ, dK, dV", "    return dQ[None], dK, dV"),),
        hints=("extra or missing axis",)),
    Row("NaN", TP, (("    return np.array([dbeta, dalpha, dxi])", "    return np.array([np.nan, dalpha, dxi])"),),
        hints=("gradient contains NaN",), not_hints=("nan", "constant factor")),
    Row("inf", TP, (("    return np.array([dbeta, dalpha, dxi])", "    return np.array([np.inf, dalpha, dxi])"),),
        hints=("gradient contains inf",)),
    Row("all zeros", ATT, (("    return dQ, dK, dV", "    return np.zeros_like(dQ), dK, dV"),),
        hints=("dQ is all zeros",), not_hints=("constant factor", "softmax")),
    Row("float32", ATT, (("    return dQ, dK, dV", "    return dQ.astype(np.float32), dK, dV"),),
        hints=("dQ is float32",), not_hints=("close", "sign", "constant factor")),
    Row("float16", TP, (("    return np.array([dbeta, dalpha, dxi])",
                         "    return np.array([dbeta, dalpha, dxi], dtype=np.float16)"),),
        hints=("gradient is float16",)),
    Row("float32 inside", ATT, (("    Q, K, V, P = cache", "    Q, K, V, P = (np.float32(x) for x in cache)"),),
        hints=("close (relative error",)),
    Row("transposed (rectangular)", ATT, (("    dK = dS.T @ Q", "    dK = (dS.T @ Q).T"),),
        hints=("dK is the transpose of the answer",), not_hints=("softmax",)),
    Row("transposed (square)", LSA, (("    dW_K = dKs.T @ C", "    dW_K = C.T @ dKs"),),
        hints=("dW_K is the transpose of the answer (square",)),
    Row("dQ and dK both transposed", ATT, (("    dQ = dS @ K", "    dQ = (dS @ K).T"),
                                           ("    dK = dS.T @ Q", "    dK = (dS.T @ Q).T")),
        hints=("dQ is the transpose", "dK is the transpose"), not_hints=("softmax",)),
    Row("wrong order (shapes differ)", ATT, (("    return dQ, dK, dV", "    return dK, dQ, dV"),),
        hints=("dQ holds what dK should be", "dK holds what dQ should be")),
    Row("wrong order (square)", LSA, (("    return dE, dW_K, dW_Q, dW_V, dP", "    return dE, dW_Q, dW_K, dW_V, dP"),),
        hints=("dW_K holds what dW_Q should be",)),
    Row("softmax rowsum term missing", ATT, ((ATT_SOLUTION, "dS = P * dP"),),
        hints=("−p (p·dp) term is missing",), not_hints=("transpose",)),
    Row("sign flipped", TP, (("    return np.array([dbeta, dalpha, dxi])", "    return -np.array([dbeta, dalpha, dxi])"),),
        hints=("wrong sign",)),
    Row("constant factor", TP, (("    return np.array([dbeta, dalpha, dxi])", "    return 2 * np.array([dbeta, dalpha, dxi])"),),
        hints=("constant factor 2",)),
    Row("1/N missing", GD, (("    P = (eta / N) * np.eye(D)", "    P = eta * np.eye(D)"),),
        hints=("the factor is N: a 1/N missing?",)),
    Row("N hard-coded", GD, (("    P = (eta / N) * np.eye(D)", "    P = (eta / 5) * np.eye(D)"),),
        hints=("written into the code as a number",)),
    Row("N hard-coded (context slice)", LSA, (("    C = E[:N]", "    C = E[:3]"),), not_hints=("softmax", "sign")),
    Row("wrong weight shapes", GD, (("    P = (eta / N) * np.eye(D)", "    P = (eta / N) * np.eye(d)"),),
        hints=("P has shape",)),
    Row("values with the wrong sign", GD, (("    W_V[d, d] = -1.0", "    W_V[d, d] = 1.0"),),
        hints=("wrong sign",)),
    Row("residual missing from dE", LSA, (("    dE = dout + dQs @ W_Q", "    dE = dQs @ W_Q"),),
        hints=("dE misses the residual",)),
    Row("keys and values missing from dE", LSA, (("    dE[:N] += dKs @ W_K + dVs @ W_V", "    pass"),),
        not_hints=("residual", "sign", "transpose")),
    Row("dalpha without y", TP, (("    dalpha = du * y", "    dalpha = du"),), not_hints=("sign", "zeros")),
    Row("tampers with the grader", ATT, (("", TAMPER), (ATT_SOLUTION, "dS = P * dP")),
        hints=("−p (p·dp) term is missing",)),
    Row("tampers with numpy", TP, (("", "import numpy\nnumpy.allclose = lambda *a, **k: True\n"),
                                   ("    return np.array([dbeta, dalpha, dxi])", "    return np.ones(3)"),)),
    Row("finite differences, --forward-once", TP, whole=FD_THREE_PARAM, options=dict(forward_once=True),
        hints=("called three_param_loss 12 times",)),
    Row("the package's own answer, --no-theory", TP, whole=THEORY_THREE_PARAM, options=dict(no_theory=True),
        hints=("refuses `import theory`", "line 5")),
    # --- right answers, however they are written
    Row("the solution", ATT, passed=True),
    Row("the solution, printing a lot", LSA, (("", "for i in range(1000):\n    print('debug', i)\n"),), passed=True),
    Row("nested lists", GD, (("    return W_K, W_Q, W_V, P", "    return W_K.tolist(), W_Q.tolist(), W_V.tolist(), "
                                                              "P.tolist()"),), passed=True),
    Row("another right construction", GD, (("    W_V[d, d] = -1.0", "    W_V[d, d] = 1.0"),
                                           ("    P = (eta / N) * np.eye(D)", "    P = -(eta / N) * np.eye(D)")),
        passed=True),
    Row("a tuple of floats", TP, (("    return np.array([dbeta, dalpha, dxi])", "    return dbeta, dalpha, dxi"),),
        passed=True),
    Row("leaves a process running", ATT, (("", "import subprocess\nsubprocess.Popen(['sleep', '30'])\n"),),
        passed=True),
    Row("finite differences (not judged by default)", TP, whole=FD_THREE_PARAM, passed=True),
    Row("the package's own answer (not judged by default)", TP, whole=THEORY_THREE_PARAM, passed=True),
]


def _source(row: Row) -> str:
    if row.whole is not None:
        return row.whole
    text = (notebooks.SOURCES / f"{row.exercise}.py").read_text()
    for old, new in row.edits:
        if old == "":
            text = new + text
        else:
            assert old in text, (row.id, old)
            text = text.replace(old, new)
    return text


def test_the_table_covers_the_kinds_a_class_hands_in():
    assert len(ROWS) >= 45 and len({r.id for r in ROWS}) == len(ROWS)
    assert {r.exercise for r in ROWS} == set(grading.EXERCISES)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_each_file_gets_its_verdict_and_its_hint(row, tmp_path):
    path = tmp_path / f"{row.exercise}.py"
    path.write_text(_source(row))
    report = grading.grade(path, seed=11, **{"timeout": TIMEOUT, **row.options})
    [verdict] = report.verdicts
    hints = " | ".join(verdict.hints)
    assert verdict.passed is row.passed, (reports.format_report(report))
    for h in row.hints:
        assert h in hints, (h, reports.format_report(report))
    for h in row.not_hints:
        assert h not in hints, (h, reports.format_report(report))
    if not row.passed:
        assert verdict.hints or any(e is None or e > diagnosis.TOL for e in verdict.errors.values())
    assert report.seconds < row.options.get("timeout", TIMEOUT) + 2     # nothing outlives its limit by much
    json.dumps(reports.report_json(report))              # the JSON form always serialises


def test_the_relative_error_of_an_incomparable_answer_is_shown_as_a_dash(tmp_path):
    path = tmp_path / "three_param_gradient.py"
    path.write_text(_source(ROWS[[r.id for r in ROWS].index("NaN")]))
    text = reports.format_report(grading.grade(path, seed=1))
    assert "gradient —" in text and "nan" not in text.lower().replace("contains nan", "")


def test_hints_line_numbers_point_at_the_student_s_line(tmp_path):
    source = _source(ROWS[[r.id for r in ROWS].index("exception in the function")])
    line = 1 + next(i for i, text in enumerate(source.splitlines()) if "dP = dout.T @ H[:2, :1]" in text)
    path = tmp_path / "lsa_backward.py"
    path.write_text(source)
    [v] = grading.grade(path, seed=2).verdicts
    assert re.search(rf"at line {line} \(`dP = dout.T @ H\[:2, :1\] # out = E", " ".join(v.hints)), v.hints
