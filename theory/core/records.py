"""Run records: what a reproduction measured, saved as one JSON file per run.

``python -m theory reproduce NAME --out DIR`` writes ``DIR/NAME.json``; the printed report
is rendered from that record (after a JSON round trip), so the two cannot disagree, and
``python -m theory figures DIR`` draws the figures from it without training anything.

Schema (version :data:`SCHEMA_VERSION`), a JSON object::

    schema        "icl-theory run record"
    version       SCHEMA_VERSION; a record of another version is refused
    name          the reproduction ("gd-step", "induction-head")
    created       UTC time the record was made, ISO 8601
    software      {"icl-theory", "numpy", "python"} versions
    machine       {"cpus": usable CPUs, "platform"}
    settings      the configuration the run used (every field), seeds included
    parts         wall-clock seconds of each part of the run
    results       every number the report prints, by name
    curves        the series behind the figures (loss per step, accuracies per evaluation, ...)

Numbers are plain JSON (arrays become nested lists, tuples lists, non-string dict keys
strings); :func:`jsonable` does the conversion and refuses what JSON cannot hold
(NaN, infinities, arbitrary objects), so a record never needs a custom decoder.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import tempfile
from pathlib import Path

import numpy as np

from ._version import __version__
from ._workers import usable_cpus

__all__ = ["SCHEMA", "SCHEMA_VERSION", "jsonable", "make_record", "write_record", "read_record", "check_record",
           "round_trip"]

SCHEMA = "icl-theory run record"
SCHEMA_VERSION = 1
_KEYS = ("schema", "version", "name", "created", "software", "machine", "settings", "parts", "results", "curves")


def jsonable(obj, where: str = "record"):
    """``obj`` as plain JSON values (dict, list, str, int, float, bool, None); ValueError
    naming the place of anything that has no JSON form."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        if not math.isfinite(obj):
            raise ValueError(f"{where} is {float(obj)}, which JSON cannot hold")
        return float(obj)
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist(), where)
    if isinstance(obj, dict):
        return {str(k): jsonable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise ValueError(f"{where} is a {type(obj).__name__}, which has no JSON form in a record")


def make_record(name: str, *, settings: dict, parts: dict, results: dict, curves: dict) -> dict:
    """A record of the current schema, converted to plain JSON values."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    for label, value in (("settings", settings), ("parts", parts), ("results", results), ("curves", curves)):
        if not isinstance(value, dict):
            raise ValueError(f"{label} must be a dict; got {type(value).__name__}")
    return jsonable({
        "schema": SCHEMA, "version": SCHEMA_VERSION, "name": name,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "software": {"icl-theory": __version__, "numpy": np.__version__, "python": platform.python_version()},
        "machine": {"cpus": usable_cpus(), "platform": platform.platform()},
        "settings": settings, "parts": parts, "results": results, "curves": curves})


def round_trip(record: dict) -> dict:
    """The record as it reads back from its file (what the reports are rendered from)."""
    _check(record, "record")
    return json.loads(json.dumps(record, allow_nan=False))


def write_record(record: dict, out_dir) -> Path:
    """Write ``out_dir/<name>.json`` atomically (a temporary file in the same directory,
    then a rename), so an interrupted run never leaves half a file.  Returns the path."""
    _check(record, "record")
    jsonable(record)                                   # plain JSON values only
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{record['name']}.json"
    fd, tmp = tempfile.mkstemp(prefix=f".{record['name']}.", suffix=".tmp", dir=out)
    try:
        os.chmod(tmp, 0o644)                           # mkstemp makes it owner-only
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, separators=(",", ":"), allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_record(path) -> dict:
    """Load and check a record; ValueError if it is not one, or of another schema version."""
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be the path of a run record file; got {type(path).__name__}")
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"path {path} is not a run record: invalid JSON ({err})") from None
    _check(record, f"path {path}")
    return record


def check_record(record, name: str, where: str = "record") -> dict:
    """``record`` if it is a record of the current schema made by reproduction ``name``
    (errors call it ``where``)."""
    _check(record, where)
    if record["name"] != name:
        raise ValueError(f"{where} is of the {record['name']!r} reproduction; name asks for {name!r}")
    return record


def _check(record, where: str) -> None:
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise ValueError(f"{where} is not an icl-theory run record (no \"schema\": {SCHEMA!r})")
    if record.get("version") != SCHEMA_VERSION:
        raise ValueError(f"{where} is a run record of schema version {record.get('version')!r}; this icl-theory "
                         f"reads version {SCHEMA_VERSION} only: re-run the reproduction to make a new one")
    missing = [k for k in _KEYS if k not in record]
    if missing:
        raise ValueError(f"{where} lacks the record fields {missing}")
    if not isinstance(record["name"], str) or not record["name"] or "/" in record["name"]:
        raise ValueError(f"{where} has an invalid name {record['name']!r}")
