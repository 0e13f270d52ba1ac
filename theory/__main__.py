"""``python -m theory`` (also installed as ``icl-theory``): list and check the claims.

    python -m theory list
    python -m theory check [ID ...] [--seed S] [--instances N]
    python -m theory reproduce NAME [--quick] [--workers K] [--seeds S] [--paper] [--out DIR]
    python -m theory figures DIR [--pdf]

``check`` runs, for each claim, its sympy proof and its numeric check on random
float64 instances, prints one row per claim, and exits 0 only if every claim holds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from .claims import CLAIMS, get, run_check


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(rows[0]), line(["-" * w for w in widths])] + [line(r) for r in rows[1:]])


def cmd_list(_args) -> int:
    rows = [["claim", "paper", "verdict", "statement"]]
    rows += [[c.id, c.paper, c.verdict, c.statement] for c in CLAIMS]
    print(_table(rows))
    return 0


def cmd_check(args) -> int:
    try:
        claims = [get(i) for i in args.ids] if args.ids else CLAIMS
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    rows = [["claim", "paper", "verdict", "symbolic", "worst rel. error", "tol",
             "paper's wording: gap", "time", "status"]]
    notes, failures, all_ok, proofs = [], [], True, {}
    for c in claims:
        r = run_check(c, seed=args.seed, instances=args.instances, proof_cache=proofs)
        gap = "-" if r.gap_range is None else f"{r.gap_range[0]:.2g} .. {r.gap_range[1]:.2g}"
        rows.append([c.id, c.paper, c.verdict, "ok" if r.symbolic_ok else "FAIL",
                     f"{r.worst_error:.2e}", f"{c.tol:.0e}", gap, f"{r.seconds:.2f}s",
                     "holds" if r.ok else "FAILS"])
        if c.paper_says:
            notes.append(f"  {c.id}: the paper says \"{c.paper_says}\"; verified instead: {c.statement}")
        if r.symbolic_error:
            notes.append(f"  {c.id}: {r.symbolic_error}")
        failures += [f"  {c.id}: {f}" for f in r.failures]
        all_ok &= r.ok
        print(f"checked {c.id}", file=sys.stderr, flush=True)
    print(_table(rows))
    print(f"\n{args.instances} random float64 instances per claim, seed {args.seed}.")
    if failures:
        print("Instances that gave no finite answer (a claim with any such instance fails):\n"
              + "\n".join(failures))
    if notes:
        print("Not exact as the paper words it:\n" + "\n".join(notes))
    tol_notes = [f"  {c.id}: {c.tol_note}" for c in claims if c.tol_note]
    if tol_notes:
        print("Tolerances that are not round-off:\n" + "\n".join(tol_notes))
    print("\nALL CLAIMS HOLD" if all_ok else "\nSOME CLAIMS FAIL")
    return 0 if all_ok else 1


REPRODUCTIONS = {
    "dual-form": "Dai et al. 2023: softmax vs linear attention over the logit scale, momentum weights (seconds)",
    "gd-step": "von Oswald et al. 2023: trained LSA stacks vs GD and GD++ (about 3 min on two cores, 6 on one)",
    "induction-head": "Reddy 2024: three-parameter landscape, training runs of the full network and "
                      "of the two-parameter model, and their sweeps over (B, K, ε, α) (about 11 min on one core)",
}


def cmd_reproduce(args) -> int:
    from ._perf import tune_allocator, usable_cpus, worker_pool
    if args.quick and args.paper:
        print("error: --quick and --paper exclude each other", file=sys.stderr)
        return 2
    if args.name != "induction-head" and (args.paper or args.seeds != 1):
        print(f"error: --paper and --seeds belong to induction-head, not {args.name}", file=sys.stderr)
        return 2
    if args.name == "dual-form" and args.workers is not None:
        print("error: --workers belongs to gd-step and induction-head (dual-form takes seconds in this process)",
              file=sys.stderr)
        return 2
    workers = 1 if args.name == "dual-form" else usable_cpus() if args.workers is None else args.workers
    tune_allocator()                         # see theory/_perf.py: helps the induction network
    say = lambda message: print(message, file=sys.stderr, flush=True)
    say(f"reproducing {REPRODUCTIONS[args.name]}" + (" [quick settings]" if args.quick else "")
        + f" with {workers} worker process{'es' if workers > 1 else ''}")
    from .records import round_trip, write_record
    if args.name == "gd-step":
        from .lsa_training import GDReproConfig, format_report, reproduce
        make = lambda executor: reproduce(GDReproConfig.quick() if args.quick else GDReproConfig.full(),
                                          executor=executor, progress=say).to_record()
    elif args.name == "dual-form":
        from .dual_form_runs import format_report, reproduce
        make = lambda executor: reproduce(quick=args.quick)
    else:
        from .induction_training import format_report, reproduce
        make = lambda executor: reproduce(quick=args.quick, paper=args.paper, seeds=args.seeds,
                                          executor=executor, progress=say)

    def run(executor):
        record = make(executor)
        if args.out is not None:
            say(f"wrote {write_record(record, args.out)}")
            _draw(args.out, say)
        return format_report(round_trip(record))         # the report is what the record holds

    start = time.perf_counter()
    if workers > 1:
        with worker_pool(workers, initializer=tune_allocator) as pool:
            report = run(pool)
    else:
        report = run(None)
    print(report)
    say(f"done in {time.perf_counter() - start:.1f} s (wall clock)")
    return 0


def _draw(out_dir, say, pdf: bool = False) -> None:
    """Draw the figures of the records in ``out_dir``, or say how to get matplotlib."""
    from .figures import draw_all, have_matplotlib
    if not have_matplotlib():
        say("figures: matplotlib is not installed; pip install 'icl-theory[plot]' and run "
            f"`python -m theory figures {out_dir}`")
        return
    for path in draw_all(out_dir, pdf=pdf):
        say(f"drew {path}")


def cmd_figures(args) -> int:
    from .figures import have_matplotlib
    if not have_matplotlib():
        print("error: drawing needs matplotlib: pip install 'icl-theory[plot]'", file=sys.stderr)
        return 2
    try:
        _draw(args.dir, print, pdf=args.pdf)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _nonneg_int(text: str) -> int:
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0; got {v}")
    return v


def _pos_int(text: str) -> int:
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1; got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m theory", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print every registered claim").set_defaults(func=cmd_list)
    c = sub.add_parser("check", help="prove and numerically check claims (all by default)")
    c.add_argument("ids", nargs="*", metavar="ID", help="claim ids (see `list`)")
    c.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    c.add_argument("--instances", type=_pos_int, default=20,
                   help="random instances per claim (default 20)")
    c.set_defaults(func=cmd_check)
    r = sub.add_parser("reproduce", help="train the models of a paper and print its figures",
                       description="\n".join(f"{k}: {v}" for k, v in REPRODUCTIONS.items()))
    r.add_argument("name", choices=sorted(REPRODUCTIONS))
    r.add_argument("--quick", action="store_true", help="the quick settings that CI runs")
    r.add_argument("--workers", type=_pos_int, default=None,
                   help="train jobs in K processes with one BLAS thread each (default: one per usable CPU; "
                        "1 trains them one after the other in this process)")
    r.add_argument("--seeds", type=_pos_int, default=1,
                   help="induction-head: seeds per condition of the full network's sweep (default 1)")
    r.add_argument("--paper", action="store_true",
                   help="induction-head: train the full network with the paper's settings "
                        "(150,000 SGD steps, about 40 min on one core) instead of the minutes configuration")
    r.add_argument("--out", metavar="DIR", default=None,
                   help="write the run record DIR/NAME.json (and its figures, if matplotlib is installed)")
    r.set_defaults(func=cmd_reproduce)
    f = sub.add_parser("figures", help="draw the figures of the run records in DIR (needs matplotlib)")
    f.add_argument("dir", metavar="DIR")
    f.add_argument("--pdf", action="store_true", help="also write PDF files")
    f.set_defaults(func=cmd_figures)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:                    # e.g. `icl-theory list | head`
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
