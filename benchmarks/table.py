"""Run every benchmark beside torch and write docs/benchmarks.md from their output: no number
in that page is typed by hand.

    python benchmarks/table.py                       # needs torch (the conformance extra pins it)
    python benchmarks/table.py --out /tmp/bench.md   # anywhere else

Each topic's benchmark (``bench_<topic>.py``, found from the registry of topics) runs in its own process with its default settings and ``--torch`` (and, for
the LSA stack, at 1, 2 and 3 layers: each script's ``TABLE``); the page gets the date, the machine's usable CPUs and
load average, the numpy and torch versions, a table of every "numpy is R× faster" line
(R ≥ 1: numpy is faster), and each benchmark's whole output.  Takes about five minutes on
the 2-core CI machine.

Then, with ``--loaded N`` (default 2; 0 skips it), the kernels that adapt numpy's BLAS threads
to the load (``UNDER_LOAD``) run again beside N busy processes, as they are and with
``--fixed-blas``, interleaved, two rounds: a further minute.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def benchmarks(topics) -> list[Path]:
    """The benchmark of each topic that has one, ``bench_<topic>.py``, in registry order."""
    return [HERE / f"bench_{t}.py" for t in topics if (HERE / f"bench_{t}.py").is_file()]


def table_runs(path: Path) -> list[list[str]]:
    """The runs a benchmark asks the table for: its module-level ``TABLE`` (read, not imported)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["TABLE"]:
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path.name} has no TABLE (the argument lists of its runs in the table)")


# the kernels decorated with theory.core._workers.load_adapted_blas, and their settings
UNDER_LOAD = [("bench_task_diversity.py", []), ("bench_induction.py", ["--dtype", "float32"])]


def loaded_runs(n_busy: int, rounds: int = 2) -> list[tuple[str, list[str], str, str]]:
    """``(script, arguments, load, output)`` of the UNDER_LOAD runs beside ``n_busy`` spinning
    processes, adapted and ``--fixed-blas`` in turn."""
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n_busy)]
    try:
        time.sleep(5)
        out = []
        for _ in range(rounds):
            for script, extra in UNDER_LOAD:
                for fixed in ([], ["--fixed-blas"]):
                    load = open("/proc/loadavg").read().split()[3] if os.path.exists("/proc/loadavg") else "?"
                    out.append((script, extra + fixed, load, run(script, extra + fixed)))
        return out
    finally:
        for b in busy:
            b.kill()


def runs(topics) -> list[tuple[str, list[str]]]:
    """``(script, arguments)`` of every run of the table."""
    return [(p.name, extra) for p in benchmarks(topics) for extra in table_runs(p)]
RATIO = re.compile(r"^(?P<what>.*?):\s+(?:training step\s+)?(?P<ms>[\d.]+) ms/step\s+->\s+numpy is "
                   r"(?P<ratio>[\d.]+)x faster(?P<rest>.*)$")


def run(script: str, extra: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, str(HERE / script), "--torch", *extra], capture_output=True, text=True,
                         env=env, cwd=HERE, check=False)
    if out.returncode:
        raise SystemExit(f"{script} {' '.join(extra)} failed:\n{out.stderr}")
    return out.stdout


def ratios(output: str) -> list[tuple[str, str, str, str]]:
    """``(comparison, torch ms, ratio, spread)`` for every "numpy is R× faster" line."""
    rows = []
    for line in output.splitlines():
        m = RATIO.match(line.strip())
        if m:
            spread = re.search(r"\(blocks ([\d.]+-[\d.]+)\)", m["rest"])
            what = re.sub(r"\s*\(\d[^)]*threads?\)|\s*\([\d.]+\+cpu, \d+ threads\)", "", m["what"]).strip()
            rows.append((what, m["ms"], m["ratio"], spread[1] if spread else ""))
    return rows


def page(results: list[tuple[str, list[str], str]], loaded=(), n_busy: int = 0, load=None) -> str:
    import numpy
    import torch
    from theory.core._workers import usable_cpus
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = " / ".join(f"{x:.2f}" for x in (load or os.getloadavg()))
    lines = ["# Benchmarks: numpy against torch", "",
             "Written by `python benchmarks/table.py` from the benchmarks' own output; rerun it to "
             "refresh. Each line compares one training step (or kernel) of the package with the "
             "same computation in torch on the same batches and weights; **ratio = torch time / "
             "numpy time** (above 1: numpy is faster). Medians over the steps (the LSA lines: over "
             "interleaved blocks, with the blocks' range). `--profile` on any benchmark says where "
             "its numpy step's time goes; `bench_gd_step.py --bound` gives FLOPs and bytes per operation.",
             "", f"- measured {when}, {usable_cpus()} usable CPUs, load average {load} (1, 5, 15 min) after the main runs",
             f"- numpy {numpy.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
             f"Python {sys.version.split()[0]}", "",
             "| benchmark | settings | compared with | torch ms/step | ratio | blocks |", "|---|---|---|---|---|---|"]
    for script, extra, out in results:
        for what, ms, ratio, spread in ratios(out):
            lines.append(f"| `{script}` | {' '.join(extra) or 'defaults'} | {what} | {ms} | {ratio} | {spread} |")
    if loaded:
        lines += ["", "## Under load", "",
                  f"The same kernels beside {n_busy} busy processes (`python -c 'while True: pass'`) on these "
                  f"{usable_cpus()} CPUs. OpenBLAS splits a product or a factorisation over its threads and "
                  "waits for the slowest at each barrier, so a thread descheduled by the other processes stalls "
                  "the rest; the kernels below therefore take only the CPUs idle when they start "
                  "(`theory.core._workers.load_adapted_blas`, as MKL's dynamic threads do for torch). "
                  "`--fixed-blas` keeps numpy's threads fixed, to show what that buys. Runnable tasks "
                  "(/proc/loadavg) when each run started are in the last column.", "",
                  "| benchmark | settings | compared with | torch ms/step | ratio | runnable |", "|---|---|---|---|---|---|"]
        for script, extra, load, out in loaded:
            for what, ms, ratio, _ in ratios(out):
                lines.append(f"| `{script}` | {' '.join(extra) or 'defaults'} | {what} | {ms} | {ratio} | {load} |")
    lines += ["", "## The runs", ""]
    for script, extra, out in results:
        lines += [f"`python benchmarks/{script} --torch {' '.join(extra)}`".replace("  ", " ").replace(" `", "`"), "",
                  "```text", out.rstrip(), "```", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(HERE.parent / "docs" / "benchmarks.md"))
    p.add_argument("--loaded", type=int, default=2, help="busy processes beside the under-load runs (0: none)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    from theory import TOPICS
    results = []
    for script, extra in runs(TOPICS):
        print(f"running {script} {' '.join(extra)}", file=sys.stderr, flush=True)
        results.append((script, extra, run(script, extra)))
    load = os.getloadavg()                          # before the under-load runs raise it
    loaded = loaded_runs(args.loaded) if args.loaded > 0 else []
    Path(args.out).write_text(page(results, loaded, args.loaded, load))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
