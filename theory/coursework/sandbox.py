"""The grader's child process: it runs a student's file and calls its functions, nothing else.

``python -m theory grade`` copies this file into a fresh temporary folder ``JOB_DIR`` and
starts the copy there in a separate, isolated Python process for every submission
(``python -I JOB_DIR/runner.py``: no user site, no ``PYTHON*`` variables, nothing of the
package on its ``sys.path`` or in ``sys.argv``), with a wall-clock limit.  The parent
(:mod:`theory.coursework.grading`) draws the cases, computes the reference answers and
compares; this process only sees the inputs.  So a file that loops forever, exits, crashes
or rebinds the grader's functions cannot change a verdict: the parent reads the answers
from ``JOB_DIR`` (arrays through ``np.load(..., allow_pickle=False)``, the rest as JSON),
checks every field itself and counts a missing or malformed answer as a failure.

What the parent sends, as one JSON document on this process's standard input (nothing in
``JOB_DIR`` names the teacher's switches): ``code`` (the file's Python source, a notebook's
code cells joined), ``filename`` (shown in tracebacks), ``line_map`` (for a notebook:
[cell, line] of every source line, else null), ``plan`` (the calls of one case, see
``_run_case``), ``single`` (the graded call returns one array, not a tuple), ``cases`` (how
many), ``count`` (functions whose calls are counted), ``refuse`` (folders whose files the
student's code may not open or import: the package's, with ``--no-theory``).  In
``JOB_DIR``: ``inputs.npz``, ``"<case>/<name>"`` → the inputs (scalars as 0-d arrays).

What this process writes back: the line ``started`` on its standard output just before
the student's code runs (the parent tells a grader that could not start from a student's
file that ended it), ``output.txt`` (everything the student's code printed),
``outputs.npz`` (``"<case>/<i>"`` → the i-th returned array, copied when the call returned;
arrays too large for the size limit are dropped and ``result["unwritten"]`` says why)
and last ``result.json``; then it ends at once (``os._exit``), so a thread the student left
running cannot hold it open or rewrite the answers afterwards.

The switches are held by an audit hook (PEP 578: it cannot be removed once added): with
``refuse``, opening or importing any file inside those folders raises ``PermissionError``,
whatever the module is called; with ``count``, the calls of the counted functions' code are
counted by a profile function, and ``sys.setprofile``/``sys.settrace`` are refused after it
is set, so neither can be switched off or walked round by a second reference to the
function.  What stays out of reach: code copied into the student's file, calls made from
threads the student starts (not profiled), and a file that reaches the profile function's
counts through ``sys.getprofile().__closure__`` (Python audits neither closures nor frame
links).

This module imports nothing but the standard library and numpy, so that the process it
starts holds nothing of the package for a student's file to tamper with.
"""
from __future__ import annotations

import json
import os
import sys
import traceback

import numpy as np

__all__ = []          # the child's protocol, used by theory.coursework.grading only


def _refuse_files(refuse: list, attempts: list) -> None:
    """An audit hook (module docstring) refusing to open any file under the folders ``refuse``;
    each attempt is recorded in ``attempts``."""
    roots = tuple(os.path.join(os.path.realpath(r), "") for r in refuse)

    def hook(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            path = os.fsdecode(args[0])
            if os.path.join(os.path.realpath(path), "").startswith(roots):
                attempts.append(path)
                raise PermissionError(f"the grader refuses reading {path} in this exercise (the teacher switched "
                                      "on --no-theory): write the computation yourself")
    sys.addaudithook(hook)


def _count_calls(calls: dict) -> None:
    """Count the calls of the code objects keyed in ``calls`` with a profile function, and an
    audit hook refusing any other profile or trace function from then on."""
    def profile(frame, event, arg):
        if event == "call" and frame.f_code in calls:
            calls[frame.f_code] += 1

    def hook(event, args):
        if event in ("sys.setprofile", "sys.settrace"):
            raise RuntimeError(f"{event} is refused while the grader counts calls (--forward-once)")
    sys.setprofile(profile)
    sys.addaudithook(hook)


def _argument(spec, inputs: dict, saved: dict):
    """An argument of a call: an input by name, or ``["@", name, index]`` — item ``index`` of
    what an earlier call saved as ``name`` (a forward pass's cache, say)."""
    if isinstance(spec, str):
        return inputs[spec]
    _, name, index = spec
    return saved[name][index]


def _run_case(namespace: dict, plan: list, inputs: dict):
    """Run one case's calls in the student's ``namespace`` and return what the graded call
    returned.  ``plan`` is a list of steps ``{"call": function name, "args": [argument spec,
    ...], "as": name to save the result under (optional)}``; the last step is the graded
    one.  A missing function is a ``NameError`` naming it."""
    saved, value = {}, None
    for step in plan:
        fn = namespace.get(step["call"])
        if not callable(fn):
            raise NameError(f"no function {step['call']} is defined (did the cell that defines it run?)")
        value = fn(*[_argument(a, inputs, saved) for a in step["args"]])
        if step.get("as"):
            saved[step["as"]] = value
    return value


def _item(x):
    """(description, array or None) of one returned value, the array a copy made now (a
    buffer the student's code reuses or a thread changes later cannot change it)."""
    try:
        a = np.array(x, copy=True)
    except Exception:                              # a ragged list, an object numpy refuses
        return {"kind": type(x).__name__}, None
    if a.dtype.kind in "biufc":
        return {"kind": "array", "type": type(x).__name__, "dtype": str(a.dtype), "shape": list(a.shape)}, a
    return {"kind": type(x).__name__, "dtype": str(a.dtype)}, None


def _describe(value, single: bool):
    """What a graded call returned, for the parent: (description, [arrays]).  ``single``:
    the call should return one array (a list or tuple of numbers is one array too);
    otherwise a tuple (or list) of arrays."""
    if value is None:
        return {"kind": "none"}, []
    if isinstance(value, dict):
        return {"kind": "dict", "keys": [str(k) for k in list(value)[:10]]}, []
    if single:
        d, a = _item(value)
        return {"kind": "single", "item": d}, ([a] if a is not None else [None])
    if isinstance(value, (tuple, list)):
        items = [_item(x) for x in value]
        return {"kind": type(value).__name__, "items": [d for d, _ in items]}, [a for _, a in items]
    d, a = _item(value)
    return {"kind": "one", "item": d}, []


def _where(err: BaseException, filename: str, line_map) -> dict:
    """The exception and the line of the student's file where it happened (the innermost
    frame in that file)."""
    lineno = None
    if isinstance(err, SyntaxError) and err.filename == filename:
        lineno = err.lineno
    for frame in traceback.extract_tb(err.__traceback__):
        if frame.filename == filename:
            lineno = frame.lineno
    out = {"type": type(err).__name__, "message": str(err)[:400]}
    if isinstance(err, SystemExit):
        out["exit"] = True
    if lineno is not None:
        out["line"] = lineno
        if line_map and 1 <= lineno <= len(line_map):
            out["cell"], out["cell_line"] = line_map[lineno - 1]
    return out


def _main(job_dir: str, job_text: str) -> None:
    job = json.loads(job_text)
    with np.load(os.path.join(job_dir, "inputs.npz"), allow_pickle=False) as z:
        raw = {k: z[k] for k in z.files}
    inputs = [{} for _ in range(job["cases"])]
    for key, a in raw.items():
        case, name = key.split("/", 1)
        inputs[int(case)][name] = a.item() if a.ndim == 0 else a
    savez, dumps = np.savez, json.dumps
    os_open, os_write, os_close, os_exit = os.open, os.write, os.close, os._exit
    result_path = os.path.join(job_dir, "result.json")

    # everything the student's code prints goes to a file, C-level output included; the
    # parent learns from the one line on the real stdout that the student's code is next
    out = os.open(os.path.join(job_dir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"started\n")
    os.dup2(out, 1)
    os.dup2(out, 2)
    attempts = []
    if job["refuse"]:
        _refuse_files(job["refuse"], attempts)

    result = {"load": None, "cases": []}
    namespace = {"__name__": "__student__", "__file__": job["filename"], "__builtins__": __builtins__}
    arrays = {}
    try:
        exec(compile(job["code"], job["filename"], "exec"), namespace)
    except BaseException as err:                   # SystemExit and KeyboardInterrupt too
        result["load"] = _where(err, job["filename"], job["line_map"])
    result["missing"] = [] if result["load"] else sorted({step["call"] for step in job["plan"]
                                                         if not callable(namespace.get(step["call"]))})
    if result["load"] is None and not result["missing"]:
        codes = {name: getattr(namespace.get(name), "__code__", None) for name in job["count"]}
        calls = {c: 0 for c in codes.values() if c is not None}
        if calls:
            _count_calls(calls)
        for i, case in enumerate(inputs):
            before = dict(calls)
            entry = {}
            try:
                value = _run_case(namespace, job["plan"], case)
                entry["value"], got = _describe(value, job["single"])
                for j, a in enumerate(got):
                    if a is not None:
                        arrays[f"{i}/{j}"] = a
            except BaseException as err:
                entry["error"] = _where(err, job["filename"], job["line_map"])
            entry["calls"] = {name: (calls[c] - before[c] if c in calls else 0) for name, c in codes.items()}
            result["cases"].append(entry)
            if "error" in entry and entry["error"].get("exit"):
                break
    result["imported"] = sorted(set(attempts))[:20]
    result["complete"] = True
    try:
        savez(os.path.join(job_dir, "outputs.npz"), **arrays)
    except OSError as err:                         # past the size limit (Python ignores SIGXFSZ): say so
        savez(os.path.join(job_dir, "outputs.npz"))
        result["unwritten"] = f"{type(err).__name__}: {err}"[:200]
    fd = os_open(result_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os_write(fd, dumps(result).encode())
    os_close(fd)
    os_exit(0)                                     # now: no atexit handler, no thread left running


if __name__ == "__main__":
    sys.path.pop(0)                                # not this folder: a student's `import runner` finds nothing here
    _main(os.path.dirname(os.path.abspath(__file__)), sys.stdin.read())
