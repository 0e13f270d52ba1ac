"""Running a proof script of ``proofs/`` from the package: quietly and once, or aloud.

A proof script (``proofs/<name>.py``) is a worked sympy derivation whose cells run top
to bottom, every step ending in ``assert``s, and whose last cell defines ``RESULTS``:
the symbolic objects that a claim's check or a test turns into numpy functions (with
``sympy.lambdify``) and compares with the package's code.  The ledger
(``theory.claims.run_proof``) checks that the name is a registered proof and calls these;
a topic whose check needs a derived formula calls :func:`proof_results` directly.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import io
import runpy

__all__ = ["proof_results", "run_proof_aloud"]


def _name(name) -> str:
    if (not isinstance(name, str) or not name.isidentifier() or name.startswith("_")
            or importlib.util.find_spec("proofs") is None or importlib.util.find_spec(f"proofs.{name}") is None):
        raise ValueError(f"name must be the name of a proof script in proofs/ (e.g. 'dual_form'); got {name!r}")
    return name


def proof_results(name: str) -> dict:
    """The ``RESULTS`` of ``proofs/<name>.py``.  The script runs once per process, as an
    import with its printing captured, and is cached (sympy is slow); an ``assert`` that
    fails in it raises ``AssertionError``."""
    return _derived(_name(name))


@functools.lru_cache(maxsize=None)
def _derived(name: str):
    with contextlib.redirect_stdout(io.StringIO()):
        module = importlib.import_module(f"proofs.{name}")
    return module.RESULTS


def run_proof_aloud(name: str) -> dict:
    """Run ``proofs/<name>.py`` afresh as ``python -m proofs.<name>`` does, printing its
    derivation, and return its ``RESULTS``."""
    path = importlib.util.find_spec(f"proofs.{_name(name)}").origin
    return runpy.run_path(path, run_name="__main__")["RESULTS"]
