"""Hypothesis profiles and the BLAS threads of the test processes (the shared strategies
are in ``tests/helpers.py``).

Profiles, chosen with ``HYPOTHESIS_PROFILE``:

- ``dev``      the local default: 25 examples a test, no deadline.
- ``ci``       hypothesis' built-in profile, loaded automatically when ``CI`` is set
               (derandomized, no deadline, 100 examples).
- ``thorough`` 500 examples a test, for a long local run.
"""
import functools
import os
import sys

# Under pytest-xdist (`python -m pytest -n 2`) each worker is a process of its own: one
# BLAS thread each, so that two workers on two cores do not fight over four threads.
# This must happen before numpy loads its BLAS, i.e. before any test module imports it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    if "numpy" in sys.modules:
        raise RuntimeError("numpy was imported before tests/conftest.py could limit its BLAS threads")

from hypothesis import HealthCheck, settings  # noqa: E402  (after the thread settings)

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
if "HYPOTHESIS_PROFILE" in os.environ:
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif not os.environ.get("CI"):
    settings.load_profile("dev")


# Under pytest-xdist both workers need the proofs' RESULTS (a sympy run of 0.2-2.3 s each,
# 7 s for all): the first worker to need one runs it — its asserts and all — and leaves the
# RESULTS (a few kB, pickled) for the other, which waits on a lock instead of running it
# again.  The files live in a folder of this test run only (xdist's run id).
def _share_proof_results():
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run_id or os.name != "posix":
        return
    import fcntl
    import pickle
    import tempfile
    from pathlib import Path

    import theory.core.proofs as proofs

    folder = Path(tempfile.gettempdir()) / f"icl-theory-proofs-{run_id}"
    folder.mkdir(exist_ok=True)
    run_here = proofs._derived

    def derived(name):
        with open(folder / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)            # the other worker may be running it now
            done = folder / f"{name}.pickle"
            if done.exists():
                return pickle.loads(done.read_bytes())
            results = run_here(name)                    # raises, and leaves nothing, if an assert fails
            done.write_bytes(pickle.dumps(results))
            return results

    proofs._derived = functools.lru_cache(maxsize=None)(derived)


_share_proof_results()
