"""Every benchmark runs: its main path with tiny sizes and few steps, so a renamed
function breaks CI rather than a user.  The torch side runs only where torch is
installed (it is not a dependency)."""
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
BENCHMARKS = sorted(BENCH_DIR.glob("bench_*.py"))
sys.path.insert(0, str(BENCH_DIR))              # their shared helpers (_timing.py), as when run as scripts
TINY = {"bench_lsa": ["--batch", "8", "--steps", "4", "--block", "2", "--warmup", "1", "--layers", "2", "--d", "3",
                      "--n-context", "4", "--bound"],
        "bench_induction": ["--batch", "4", "--steps", "2", "--warmup", "1", "--K", "8", "--L", "4", "--N", "2",
                            "--B", "1", "--D", "3", "--positions", "6", "--dtype", "both"],
        "bench_scan_snap": ["--batch", "4", "--T", "5", "--steps", "2", "--warmup", "1", "--common", "2", "--distinct", "2"],
        "bench_mesa": ["--batch", "4", "--steps", "2", "--warmup", "1", "--D", "3", "--T", "5", "--heads", "2",
                       "--key-size", "3"],
        "bench_preconditioned_gd": ["--batch", "4", "--steps", "2", "--warmup", "1", "--d", "2", "--n", "3",
                                    "--layers", "2"],
        "bench_markov": ["--batch", "2", "--T", "5", "--d", "4", "--heads", "2", "--steps", "2", "--warmup", "1"],
        "bench_task_diversity": ["--d", "3", "--tau", "3", "--steps", "2", "--warmup", "1", "--chunk", "7"]}


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_has_tiny_settings():
    assert {p.stem for p in BENCHMARKS} == set(TINY)


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs(path, capsys):
    _load(path).main(TINY[path.stem] + ["--profile"] * ("--profile" not in TINY[path.stem]))
    out = capsys.readouterr().out
    assert "ms/step" in out and "profile of the" in out and "minor page faults a step" in out


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs_beside_torch(path, capsys):
    pytest.importorskip("torch")
    _load(path).main(TINY[path.stem] + ["--torch"])
    assert "torch" in capsys.readouterr().out
