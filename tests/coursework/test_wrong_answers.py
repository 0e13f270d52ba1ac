"""The grader against the files a real class hands in: right, wrong and hostile.

One row per kind of submission: the exercise, how the file differs from the solution, the
grader's options, and what must come out — PASS or FAIL, the hints it must give and the
hints it must not give (a hint that names the wrong cause is a defect too).  Every file is
graded by the real grader, in its child process, with a short time limit."""
import json
import re
from dataclasses import dataclass, field

import numpy as np
import pytest

from theory.coursework import diagnosis, grading, notebooks, report as reports

TIMEOUT = 10.0         # seconds a file here may run
HANG = dict(timeout=0.5)   # the files that never finish use all of theirs


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
SIGXFSZ_PRINTS = """    import signal
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)     # Python ignores it: a write past the limit raises instead
    while True:
        print('x' * 10 ** 6)"""
TAMPER = '''import theory.coursework.grading as g
import theory.core.gradcheck as gc
g.rel_error = gc.rel_error = lambda *a, **k: 0.0
g.TOL = float("inf")
'''

# --- issue 36: the ways round the grader a class found, each in a file of our own
THEORY_DIR = str(grading.PACKAGE_DIRS[0])
TP_WRONG = ("    return np.array([dbeta, dalpha, dxi])", "    return np.array([dbeta, dalpha, dxi]) + 1.0")
PATCHED_OPEN = '''import builtins
_open = builtins.open
def _bad(path, *a, **k):
    if str(path).endswith("result.json"):
        path = "elsewhere.json"
    return _open(path, *a, **k)
builtins.open = _bad
'''
ATEXIT_EXIT = '''import atexit, json, os
def _rewrite():
    json.dump({"cases": []}, open("result.json", "w"))
    os._exit(0)
atexit.register(_rewrite)
'''
FORGED_COMPLETE = '''import json, os, threading, time
def _forge():
    while True:                                   # rewrite the answers over and over, malformed
        try:
            with open("result.json", "w") as f:
                f.write('{"complete": true, "cases": "all passed"}')
        except OSError:
            pass
        time.sleep(0.001)
threading.Thread(target=_forge, daemon=True).start()
time.sleep(0.05)
'''
ARGV_SOLUTION = '''import sys, pathlib
_src = pathlib.Path(sys.argv[0]).resolve().parent / "exercises" / "three_param_gradient.py"
exec(_src.read_text())                            # the package's source, with its solution block
'''
ALIAS_PACKAGE = f'''import importlib.util, sys
spec = importlib.util.spec_from_file_location("notheory", {THEORY_DIR!r} + "/__init__.py",
                                              submodule_search_locations=[{THEORY_DIR!r}])
mod = importlib.util.module_from_spec(spec)
sys.modules["notheory"] = mod
spec.loader.exec_module(mod)
from notheory.induction.three_param import three_param_loss as _theirs
'''
HOOK_REMOVED = '''import sys, inspect
for frame in inspect.stack():                     # the sandbox's frame and its hooks
    pass
sys.meta_path[:] = [f for f in sys.meta_path if "Refused" not in type(f).__name__]
from theory.induction.three_param import three_param_loss as _theirs
for name in [m for m in sys.modules if m.startswith("theory")]:
    del sys.modules[name]
'''
READS_SWITCHES = '''import json
_job = json.load(open("job.json"))                # the teacher's switches, to pick a cheat they allow
'''
COUNTER_RESET = FD_THREE_PARAM.split("\n\ndef three_param_gradient")[0] + '''

_loss = three_param_loss                          # a second reference, saved before the grader wraps anything


def three_param_gradient(theta, N, L):
    f = globals()["three_param_loss"]
    if hasattr(f, "fn"):                          # the old counter: call what it wraps, zero its count
        f.calls = 0
    theta, g, h = np.asarray(theta, dtype=float), np.zeros(3), 1e-3
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fs = [_loss(theta + s * e, N, L) for s in (2, 1, -1, -2)]
        g[k] = (-fs[0] + 8 * fs[1] - 8 * fs[2] + fs[3]) / (12 * h)
    return g
'''
REUSED_BUFFER = '''_right = three_param_gradient
_buffer = np.zeros(3)


def three_param_gradient(theta, N, L):
    _buffer[:] = _right(theta, N, L)              # right each time, in one reused buffer
    return _buffer
'''
LEFT_THREAD = '''import threading, time
threading.Thread(target=lambda: time.sleep(600)).start()      # not a daemon: it keeps a plain exit waiting
'''
UNUSUAL_ATT = '''import collections
import numpy as np


def attention_forward(Q, K, V):
    S = np.einsum("id,jd->ij", Q, K)
    P = np.exp(S - S.max(axis=1, keepdims=True))
    P = P / P.sum(axis=1, keepdims=True)
    return P @ V, (Q, K, V, P)


Grads = collections.namedtuple("Grads", "dQ dK dV")


def attention_backward(dout, cache):
    Q, K, V, P = cache
    dV = np.einsum("ji,jd->id", P, dout)
    dP = dout @ V.T
    dS = P * (dP - np.einsum("ij,ij->i", dP, P)[:, None])
    dQ = np.matrix(dS @ K)                                 # np.matrix
    dK = np.asfortranarray((dS.T @ Q).astype(">f8"))       # Fortran order, big-endian
    big = np.zeros((dV.shape[0], 2 * dV.shape[1]))
    big[:, ::2] = dV
    return Grads(dQ, dK, big[:, ::2])                       # a strided view
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
    Row("writes a fake result and exits, beside the forward", ATT,
        whole=(notebooks.SOLUTIONS / f"{ATT}.py").read_text() + "\n" + FAKE_RESULT,
        hints=("answers are malformed (not marked complete)",)),
    Row("writes a fake result, then prints without end, killed by SIGXFSZ", ATT,
        whole=(notebooks.SOLUTIONS / f"{ATT}.py").read_text() + "\n" + FAKE_RESULT.replace("    np.savez(\"outputs.npz\")\n    os._exit(0)", SIGXFSZ_PRINTS),
        hints=("killed by SIGXFSZ", "64 MB to one file (printing in a loop?)", "answers it left are malformed"),
        not_hints=("rewrote the grader's result",)),
    Row("returns answers too large to write", ATT, (("    return dQ, dK, dV", "    return dQ, dK, np.zeros(10 ** 7)"),),
        hints=("answers were too large to write back (more than 64 MB",), not_hints=("ended the grading",)),
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
        hints=("the grader refuses reading", "--no-theory", "line 5")),
    # --- the ways round the grader (issue 36): each a FAIL with a reason, or graded as written
    Row("patches open() to keep the grader's result away", TP, (("", PATCHED_OPEN), TP_WRONG),
        not_hints=("malformed",)),
    Row("rewrites the result at exit, then os._exit", TP, (("", ATEXIT_EXIT), TP_WRONG), not_hints=("malformed",)),
    Row("a thread rewrites the result over and over", TP, (("", FORGED_COMPLETE), TP_WRONG)),
    Row("reads the solution beside sys.argv[0]", TP, whole=ARGV_SOLUTION, hints=("FileNotFoundError",)),
    Row("the package under another name, --no-theory", TP, (("", ALIAS_PACKAGE),), options=dict(no_theory=True),
        hints=("the grader refuses reading",)),
    Row("removes the import hook and tidies sys.modules, --no-theory", TP, (("", HOOK_REMOVED),),
        options=dict(no_theory=True), hints=("the grader refuses reading",)),
    Row("reads the switches from job.json", TP, (("", READS_SWITCHES),), hints=("FileNotFoundError",)),
    Row("a second reference to the forward and a reset counter, --forward-once", TP, whole=COUNTER_RESET,
        options=dict(forward_once=True), hints=("called three_param_loss 12 times",)),
    Row("a right answer in a buffer reused from case to case", TP,
        (("    return np.array([dbeta, dalpha, dxi])\n", "    return np.array([dbeta, dalpha, dxi])\n" + REUSED_BUFFER),),
        passed=True),
    Row("leaves a non-daemon thread running", TP, (("", LEFT_THREAD),), passed=True),
    Row("einsum, a namedtuple, np.matrix, Fortran order, big-endian, strided", ATT, whole=UNUSUAL_ATT, passed=True),
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
    text = (notebooks.SOLUTIONS / f"{row.exercise}.py").read_text()
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


@pytest.mark.parametrize("result, why", [
    ([], "not a JSON object"),
    ({"cases": []}, "not marked complete"),
    ({"complete": True, "load": None, "missing": [], "imported": [], "cases": "all passed"}, "no list of at most"),
    ({"complete": True, "load": {"type": 1}, "missing": [], "imported": [], "cases": []}, "malformed load error"),
    ({"complete": True, "load": None, "missing": "x", "imported": [], "cases": []}, "'missing'"),
    ({"complete": True, "load": None, "missing": [], "imported": [], "cases": [{"calls": {}}]}, "neither one value"),
    ({"complete": True, "load": None, "missing": [], "imported": [], "cases": [{"value": {"kind": 3}, "calls": {}}]},
     "malformed value"),
    ({"complete": True, "load": None, "missing": [], "imported": [],
      "cases": [{"value": {"kind": "tuple", "items": []}, "calls": {"f": -1}}]}, "call counts"),
])
def test_a_malformed_result_is_named_not_a_crash(result, why, tmp_path):
    """Every field the verdict reads is checked in the grader's own process."""
    (tmp_path / "result.json").write_text(json.dumps(result))
    np.savez(tmp_path / "outputs.npz")
    got, arrays, reason = grading._read_result(tmp_path, 3, ["f"] if "call counts" in why else [])
    assert got is None and why in reason


def test_a_batch_with_a_crashing_file_grades_every_other_file(tmp_path, capsys):
    from theory.__main__ import main
    bad, good = tmp_path / "bad" / "attention_backward.py", tmp_path / "good" / "attention_backward.py"
    bad.parent.mkdir()
    good.parent.mkdir()
    bad.write_text((notebooks.SOLUTIONS / "attention_backward.py").read_text() + "\n" + FAKE_RESULT)
    good.write_text((notebooks.SOLUTIONS / "attention_backward.py").read_text())
    assert main(["grade", str(bad), str(tmp_path / "missing.py"), str(good), "--json", "--timeout", "10"]) == 2
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]      # JSON lines, one per file
    assert [x.get("passed") for x in lines] == [False, None, True]
    assert "error" in lines[1] and "malformed" in " ".join(lines[0]["functions"][0]["hints"])
