"""Every benchmark runs: its main path with tiny sizes and few steps, so a renamed
function breaks CI rather than a user.  The torch side runs only where torch is
installed (it is not a dependency)."""
import importlib.util
import sys
from pathlib import Path

import pytest

import theory

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"
BENCHMARKS = sorted(BENCH_DIR.glob("bench_*.py"))
sys.path.insert(0, str(BENCH_DIR))              # their shared helpers (_timing.py), as when run as scripts


def _load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_benchmark_belongs_to_a_topic_and_has_tiny_settings():
    """A benchmark is ``bench_<topic>.py`` for a topic of the registry, and says its own tiny
    settings (``TINY``) and the runs the table makes of it (``TABLE``)."""
    table = _load(BENCH_DIR / "table.py")
    stray = {p.stem for p in BENCHMARKS} - {f"bench_{t}" for t in theory.TOPICS}
    assert not stray, f"benchmarks not named after a topic of theory.TOPICS: {sorted(stray)}"
    assert {p.name for p in table.benchmarks(theory.TOPICS)} == {p.name for p in BENCHMARKS}
    for path in BENCHMARKS:
        module = _load(path)
        assert isinstance(module.TINY, list) and all(isinstance(a, str) for a in module.TINY), path.stem
        assert table.table_runs(path) == module.TABLE and module.TABLE, path.stem


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs(path, capsys):
    module = _load(path)
    module.main(module.TINY + ["--profile"] * ("--profile" not in module.TINY))
    out = capsys.readouterr().out
    assert "ms/step" in out and "profile of the" in out and "minor page faults a step" in out


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: p.stem)
def test_benchmark_runs_beside_torch(path, capsys):
    pytest.importorskip("torch")
    module = _load(path)
    module.main(module.TINY + ["--torch"])
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
    assert {script for script, _ in table.runs(theory.TOPICS)} == {p.name for p in BENCHMARKS}
