"""The grader's child process: it runs a student's file and calls its functions, nothing else.

``python -m theory grade`` starts this file as a script in a separate Python process for
every submission (``python sandbox.py JOB_DIR``), with a wall-clock limit.  The parent
(:mod:`theory.coursework.grading`) draws the cases, computes the reference answers and
compares; this process only sees the inputs.  So a file that loops forever, exits, crashes
or rebinds the grader's functions cannot change a verdict: the parent reads the answers
from ``JOB_DIR`` (arrays through ``np.load(..., allow_pickle=False)``, the rest as JSON) and
counts a missing or malformed answer as a failure.

What the parent writes to ``JOB_DIR``:

- ``job.json``: ``code`` (the file's Python source, a notebook's code cells joined),
  ``filename`` (shown in tracebacks), ``line_map`` (for a notebook: [cell, line] of every
  source line, else null), ``plan`` (the calls of one case, see ``_run_case``),
  ``single`` (the graded call returns one array, not a tuple), ``cases`` (how many),
  ``count`` (functions whose calls are counted), ``refuse`` (packages the student's code
  may not import, e.g. ``["theory"]``).
- ``inputs.npz``: ``"<case>/<name>"`` → the inputs (scalars as 0-d arrays).

What this process writes back: the line ``started`` on its standard output just before
the student's code runs (the parent tells a grader that could not start from a student's
file that ended it), ``output.txt`` (everything the student's code printed),
``outputs.npz`` (``"<case>/<i>"`` → the i-th returned array) and last ``result.json``.

This module imports nothing but the standard library and numpy, so that the process it
starts holds nothing of the package for a student's file to tamper with.
"""
from __future__ import annotations

import importlib.abc
import json
import os
import sys
import traceback

import numpy as np

__all__ = []          # the child's protocol, used by theory.coursework.grading only


class _RefusedImports(importlib.abc.MetaPathFinder):
    """An import hook that refuses the packages ``names`` (and their submodules) with an
    ``ImportError`` that says why."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            raise ImportError(f"the grader refuses `import {fullname}` in this exercise (the teacher switched "
                              "on --no-theory): write the computation yourself")
        return None


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
    """(description, array or None) of one returned value."""
    try:
        a = np.asarray(x)
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


class _Counted:
    """A student's function that counts its calls (the teacher's --forward-once check)."""

    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


def _main(job_dir: str) -> int:
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as f:
        job = json.load(f)
    with np.load(os.path.join(job_dir, "inputs.npz"), allow_pickle=False) as z:
        raw = {k: z[k] for k in z.files}
    inputs = [{} for _ in range(job["cases"])]
    for key, a in raw.items():
        case, name = key.split("/", 1)
        inputs[int(case)][name] = a.item() if a.ndim == 0 else a
    write_json, savez, result_path = json.dump, np.savez, os.path.join(job_dir, "result.json")

    # everything the student's code prints goes to a file, C-level output included; the
    # parent learns from the one line on the real stdout that the student's code is next
    out = os.open(os.path.join(job_dir, "output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"started\n")
    os.dup2(out, 1)
    os.dup2(out, 2)
    if job["refuse"]:
        sys.meta_path.insert(0, _RefusedImports(job["refuse"]))

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
        counted = {}
        for name in job["count"]:
            if callable(namespace.get(name)):
                counted[name] = namespace[name] = _Counted(namespace[name])
        for i, case in enumerate(inputs):
            for c in counted.values():
                c.calls = 0
            entry = {}
            try:
                value = _run_case(namespace, job["plan"], case)
                entry["value"], got = _describe(value, job["single"])
                for j, a in enumerate(got):
                    if a is not None:
                        arrays[f"{i}/{j}"] = a
            except BaseException as err:
                entry["error"] = _where(err, job["filename"], job["line_map"])
            entry["calls"] = {name: c.calls for name, c in counted.items()}
            result["cases"].append(entry)
            if "error" in entry and entry["error"].get("exit"):
                break
    result["imported"] = sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in job["refuse"]))
    savez(os.path.join(job_dir, "outputs.npz"), **arrays)
    with open(result_path, "w", encoding="utf-8") as f:
        write_json(result, f)
    return 0


if __name__ == "__main__":
    sys.path.pop(0)                                # not this folder: a student's `import grading` finds nothing here
    sys.exit(_main(sys.argv[1]))
