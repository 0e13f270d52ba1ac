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
        "bench_markov": ["--batch", "2", "--T", "5", "--d", "4", "--heads", "2", "--steps", "2", "--warmup", "1", "--bound"],
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


def test_the_table_reads_every_kind_of_ratio_line():
    """benchmarks/table.py builds docs/benchmarks.md from the benchmarks' printed lines: each
    benchmark's way of printing its ratio is read (a new format would drop its row)."""
    table = _load(BENCH_DIR / "table.py")
    out = "\n".join([
        "torch same algorithm  (2.13.0+cpu, 2 threads):     1.34 ms/step  -> numpy is 1.66x faster (blocks 1.53-1.72)",
        "float64 torch 2.13.0+cpu autograd (2 threads):    23.55 ms/step  -> numpy is 1.00x faster",
        "torch 2.13.0+cpu autograd (2 threads): training step   134.52 ms/step -> numpy is 0.82x faster",
        "torch mesa-layer (batched solve) forward + backward:    34.78 ms/step -> numpy is 2.33x faster",
        "torch 2.13.0+cpu (2 threads):   68.130 ms/step  -> numpy is 1.06x faster (the two Γ differ by 4.1e-14)",
        "numpy (hand-written backward):     0.81 ms/step (median over blocks)"])
    assert table.ratios(out) == [("torch same algorithm", "1.34", "1.66", "1.53-1.72"),
                                 ("float64 torch 2.13.0+cpu autograd", "23.55", "1.00", ""),
                                 ("torch 2.13.0+cpu autograd", "134.52", "0.82", ""),
                                 ("torch mesa-layer (batched solve) forward + backward", "34.78", "2.33", ""),
                                 ("torch 2.13.0+cpu", "68.130", "1.06", "")]
    assert {script for script, _ in table.RUNS} == {p.name for p in BENCHMARKS}
