"""Run every benchmark beside torch and write docs/benchmarks.md from their output: no number
in that page is typed by hand.

    python benchmarks/table.py                       # needs torch (the conformance extra pins it)
    python benchmarks/table.py --out /tmp/bench.md   # anywhere else

Each topic's benchmark (``bench_<topic>.py``, found from the registry of topics) runs in its own process with its default settings and ``--torch`` (and, for
the LSA stack, at 1, 2 and 3 layers: each script's ``TABLE``); the page gets the date, the machine's usable CPUs and
load average, the numpy and torch versions, a table of every "numpy is R× faster" line
(R ≥ 1: numpy is faster), and each benchmark's whole output.  Takes about five minutes on
the 2-core CI machine.
"""
from __future__ import annotations

import argparse
import ast
import datetime
import os
import re
import subprocess
import sys
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


def page(results: list[tuple[str, list[str], str]]) -> str:
    import numpy
    import torch
    from theory.core._workers import usable_cpus
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = ["# Benchmarks: numpy against torch", "",
             "Written by `python benchmarks/table.py` from the benchmarks' own output; rerun it to "
             "refresh. Each line compares one training step (or kernel) of the package with the "
             "same computation in torch on the same batches and weights; **ratio = torch time / "
             "numpy time** (above 1: numpy is faster). Medians over the steps (the LSA lines: over "
             "interleaved blocks, with the blocks' range). `--profile` on any benchmark says where "
             "its numpy step's time goes; `bench_gd_step.py --bound` gives FLOPs and bytes per operation.",
             "", f"- measured {when}, {usable_cpus()} usable CPUs, load average {load} (1, 5, 15 min) at the end",
             f"- numpy {numpy.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
             f"Python {sys.version.split()[0]}", "",
             "| benchmark | settings | compared with | torch ms/step | ratio | blocks |", "|---|---|---|---|---|---|"]
    for script, extra, out in results:
        for what, ms, ratio, spread in ratios(out):
            lines.append(f"| `{script}` | {' '.join(extra) or 'defaults'} | {what} | {ms} | {ratio} | {spread} |")
    lines += ["", "## The runs", ""]
    for script, extra, out in results:
        lines += [f"`python benchmarks/{script} --torch {' '.join(extra)}`".replace("  ", " ").replace(" `", "`"), "",
                  "```text", out.rstrip(), "```", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default=str(HERE.parent / "docs" / "benchmarks.md"))
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE.parent))
    from theory import TOPICS
    results = []
    for script, extra in runs(TOPICS):
        print(f"running {script} {' '.join(extra)}", file=sys.stderr, flush=True)
        results.append((script, extra, run(script, extra)))
    Path(args.out).write_text(page(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
