"""``python -m theory`` (also installed as ``icl-theory``): the claims, the reproductions,
the figures and the coursework.

    python -m theory list [ID ...]
    python -m theory check [ID ...] [-v] [--seed S] [--instances N]
    python -m theory reproduce NAME [--quick] [--workers K] [NAME's own options] [--out DIR]
    python -m theory figures DIR [--pdf]
    python -m theory exercises --out DIR [--solutions] [--format py|ipynb|nbgrader] [--sources DIR]
    python -m theory grade FILE [FILE ...] [--seed S] [--timeout SECONDS] [--json]

``check`` runs, for each claim, its sympy proof and its numeric check on random
float64 instances, prints one row per claim, and exits 0 only if every claim holds.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time

from .claims import CLAIMS, PAPERS, check_claims, get, topics
from .core._workers import usable_cpus


WIDTH = 100                                    # every line fits a projector / 100-column terminal


def _table(rows: list[list[str]], wrap_last: bool = False) -> str:
    """Columns padded to their widest cell; with ``wrap_last`` the last column is wrapped
    so that no line is longer than WIDTH."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    if wrap_last:
        widths[-1] = max(20, WIDTH - sum(w + 2 for w in widths[:-1]))
    indent = sum(w + 2 for w in widths[:-1])
    out = []
    for k, r in enumerate([rows[0], ["-" * w for w in widths]] + rows[1:]):
        last = textwrap.wrap(r[-1], widths[-1], break_on_hyphens=False) if wrap_last and k != 1 else [r[-1]]
        out.append("  ".join(c.ljust(w) for c, w in zip(r[:-1] + [last[0] if last else ""], widths)).rstrip())
        out += [" " * indent + more for more in last[1:]]
    return "\n".join(out)


def _wrapped(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _describe(c) -> str:
    """Everything the ledger holds about one claim, wrapped to WIDTH."""
    lines = [f"{c.id} — {c.paper} — verdict: {c.verdict}", _wrapped(f"verified: {c.statement}")]
    if c.paper_says:
        lines.append(_wrapped(f"the paper says: {c.paper_says}"))
    lines.append(_wrapped(f"proof: proofs/{c.proof}.py; checked by {c.measured_by}; tolerance {c.tol:.0e} (relative)"
                          + (f" — {c.tol_note}" if c.tol_note else " — float64 round-off")))
    return "\n".join(lines)


def cmd_list(args) -> int:
    try:
        chosen = [get(i) for i in args.ids]
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if chosen:
        print("\n\n".join(_describe(c) for c in chosen))
        return 0
    rows = [["claim", "verdict", "checked by", "statement (`list ID` for everything)"]]
    rows += [[c.id, c.verdict, c.measured_by, c.statement] for c in CLAIMS]
    print(_table(rows, wrap_last=True))
    print("\n" + _wrapped("claim prefixes: " + "; ".join(f"{k} = {v}" for k, v in PAPERS.items()), ""))
    return 0


COLUMNS = ("claim: see `python -m theory list ID`; verdict (what the paper's statement is): exact (it holds as "
           "stated) / approximate (the paper's wording is an approximation; the exact statement is checked) / false "
           "as stated (the corrected statement is checked) / empirical (an outcome of training or of simulated "
           "dynamics); checked by (how the numeric check measures, so what its tolerance means): round-off (float64, "
           "tol <= 1e-10) / finite differences (a gradient, tol <= 1e-6) / integration (an ODE) / Monte Carlo (an "
           "expectation, bar in standard errors) / finite size (a limit compared at finite size) / simulation / "
           "training run, each with its bar in `list ID`; proof: the sympy proof ran and its asserts hold; "
           "error: worst relative error of the numeric check over the instances; tol: the error allowed; "
           "wording gap: for non-exact claims, the range over the instances of the relative distance between "
           "the paper's wording and the truth (it must be clearly above 0 for 'false as stated'); "
           "time: seconds for this claim.")


def _seed_list(text: str) -> list:
    """``0-9`` or ``0,3,7`` (or a mix: ``0-2,5``): non-negative seeds, in order, no repeats."""
    seeds = []
    try:
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            first, last = int(lo), int(hi) if hi else int(lo)
            if first < 0 or last < first:
                raise ValueError
            seeds += [k for k in range(first, last + 1) if k not in seeds]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be like 0-9 or 0,3,7 (non-negative, ranges low-high); "
                                         f"got {text!r}") from None
    return seeds


def cmd_check_seeds(args, claims) -> int:
    """``check --seeds``: every claim at every seed; one row per claim with its worst error over
    the seeds and the seeds where it fails."""
    jobs = args.jobs if args.jobs is not None else usable_cpus()
    worst = {c.id: 0.0 for c in claims}
    failing = {c.id: [] for c in claims}
    for seed in args.seeds:
        results = check_claims(claims, seed=seed, instances=args.instances, jobs=jobs)
        for c, r in zip(claims, results):
            worst[c.id] = max(worst[c.id], r.worst_error)
            if not r.ok:
                failing[c.id].append(seed)
        print(f"seed {seed}: {sum(1 for c in claims if seed not in failing[c.id])} of {len(claims)} claims hold",
              file=sys.stderr, flush=True)
    rows = [["claim", "verdict", "checked by", "worst error over the seeds", "tol", "fails at seeds", "status"]]
    rows += [[c.id, c.verdict, c.measured_by, f"{worst[c.id]:.1e}", f"{c.tol:.0e}", ",".join(map(str, failing[c.id])) or "-",
              "FAILS" if failing[c.id] else "holds"] for c in claims]
    print(_table(rows))
    seeds = ",".join(map(str, args.seeds))
    print("\n" + _wrapped(f"{args.instances} random float64 instances per claim (fewer where a claim caps them) "
                          f"at each of the seeds {seeds}.", ""))
    ok = not any(failing.values())
    print(f"\nALL CLAIMS HOLD AT EVERY SEED ({seeds})" if ok else "\nSOME CLAIMS FAIL AT SOME SEED")
    return 0 if ok else 1


def cmd_check(args) -> int:
    try:
        claims = [get(i) for i in args.ids] if args.ids else CLAIMS
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.seeds is not None:
        return cmd_check_seeds(args, claims)
    rows = [["claim", "verdict", "checked by", "proof", "error", "tol", "wording gap", "time", "status"]]
    notes, failures, all_ok = [], [], True
    jobs = args.jobs if args.jobs is not None else usable_cpus()
    results = check_claims(claims, seed=args.seed, instances=args.instances, jobs=jobs,
                           progress=lambda claim_id: print(f"checked {claim_id}", file=sys.stderr, flush=True))
    for c, r in zip(claims, results):
        gap = "-" if r.gap_range is None else f"{r.gap_range[0]:.2g}..{r.gap_range[1]:.2g}"
        rows.append([c.id, c.verdict, c.measured_by, "ok" if r.symbolic_ok else "FAIL", f"{r.worst_error:.1e}",
                     f"{c.tol:.0e}", gap, f"{r.seconds:.1f}s", "holds" if r.ok else "FAILS"])
        n = min(args.instances, c.max_instances or args.instances)
        if args.verbose:
            notes.append(_describe(c) + f"\n  checked on {n} instance{'s' * (n > 1)}")
        if r.symbolic_error:
            notes.append(_wrapped(f"{c.id}: {r.symbolic_error}"))
        failures += [_wrapped(f"{c.id}: {f}") for f in r.failures]
        all_ok &= r.ok
    print(_table(rows))
    capped = [c for c in claims if c.max_instances and c.max_instances < args.instances]
    fewer = "; ".join(f"{', '.join(c.id for c in capped if c.max_instances == k)}: {k}"
                      for k in sorted({c.max_instances for c in capped}))
    print("\n" + _wrapped(f"{args.instances} random float64 instances per claim, seed {args.seed}"
                          + (f", except {fewer} (expensive checks: what each runs is in its checked-by column "
                             "and `list ID`)" if capped else "") + ".", ""))
    print(_wrapped(COLUMNS, ""))
    if failures:
        print("Instances that gave no finite answer (a claim with any such instance fails):\n" + "\n".join(failures))
    if notes:
        print("\n" + "\n\n".join(notes))
    elif not args.ids or len(claims) > 1:
        print(_wrapped("`python -m theory check ID -v` prints a claim's full statement, the paper's wording "
                       "and why its tolerance is what it is.", ""))
    print("\nALL CLAIMS HOLD" if all_ok else "\nSOME CLAIMS FAIL")
    return 0 if all_ok else 1


def reproductions() -> dict:
    """Every topic's reproductions by name (``theory.TOPICS`` order)."""
    return {r.name: r for topic in topics() for r in topic.reproductions}


def cmd_reproduce(args) -> int:
    from .core._workers import tune_allocator, worker_pool
    from .core.records import round_trip, write_record
    r = reproductions()[args.name]
    options = {o.dest: getattr(args, o.dest) for o in r.options}
    options["quick"] = bool(getattr(args, "quick", False))
    try:
        if r.check is not None:
            r.check(options)                 # a bad combination is refused before anything trains
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    workers = 1 if not r.workers else usable_cpus() if args.workers is None else args.workers
    tune_allocator()                         # see theory/core/_workers.py: helps the induction network
    say = lambda message: print(message, file=sys.stderr, flush=True)
    say(f"reproducing {r.announce(options)}" + (" [quick settings]" if options["quick"] else "")
        + f" with {workers} worker process{'es' if workers > 1 else ''}")

    def run(executor):
        record = r.run(options, executor=executor, progress=say)
        if args.out is not None:
            say(f"wrote {write_record(record, args.out)}")
            _draw(args.out, say)
        return r.report(round_trip(record))          # the report is what the record holds

    start = time.perf_counter()
    if workers > 1:
        with worker_pool(workers, initializer=tune_allocator) as pool:
            report = run(pool)
    else:
        report = run(None)
    if options["quick"]:
        print(textwrap.fill("[--quick: a smoke test of the pipeline with CI-sized settings. Its numbers are not "
                            "the paper's and can even order the models differently; run without --quick for "
                            "the reproduction.]", WIDTH) + "\n")
    print(report)
    say(f"done in {time.perf_counter() - start:.1f} s (wall clock)")
    return 0


def _draw(out_dir, say, pdf: bool = False) -> None:
    """Draw the figures of the records in ``out_dir``, or say how to get matplotlib."""
    from . import draw_all
    from .core.plotting import have_matplotlib
    if not have_matplotlib():
        say("figures: matplotlib is not installed; pip install -e '.[plot]' and run "
            f"`python -m theory figures {out_dir}`")
        return
    for path in draw_all(out_dir, pdf=pdf):
        say(f"drew {path}")


def cmd_figures(args) -> int:
    from .core.plotting import have_matplotlib
    if not have_matplotlib():
        print("error: drawing needs matplotlib: pip install -e '.[plot]'", file=sys.stderr)
        return 2
    try:
        _draw(args.dir, print, pdf=args.pdf)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def cmd_exercises(args) -> int:
    from .coursework import write_exercises
    try:
        paths = write_exercises(args.out, solutions=args.solutions, format=args.format, sources=args.sources)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    if args.format == "nbgrader":
        print("These are nbgrader source notebooks: put them in COURSE/source/ASSIGNMENT/ and run "
              "`nbgrader generate_assignment ASSIGNMENT` (pip install -e '.[teach]').")
    else:
        print("Open one in Jupyter (pip install -e '.[teach]'); grade it with `python -m theory grade FILE`.")
    return 0


def cmd_grade(args) -> int:
    """Exit 0: every file passed; 1: some function failed; 2: some file could not be graded
    (no such file, not an exercise) or the grader itself could not run.  Every other file
    is graded; ``--json`` prints one JSON object per file (JSON lines) as soon as it is done."""
    from .coursework import format_report, grade, report_json
    reports, unusable = [], False
    for f in args.files:
        try:
            report = grade(f, seed=args.seed, cases=args.cases, timeout=args.timeout, no_theory=args.no_theory,
                           forward_once=args.forward_once)
        except ValueError as err:                  # this file: said, and the others graded
            unusable = True
            print(f"error: {err}", file=sys.stderr)
            if args.json:
                print(json.dumps({"file": str(f), "error": str(err)}, ensure_ascii=False), flush=True)
            continue
        except RuntimeError as err:                # the grader itself cannot run: nothing more can be graded
            print(f"error: {err}", file=sys.stderr)
            return 2
        reports.append(report)
        print(json.dumps(report_json(report), ensure_ascii=False) if args.json else format_report(report), flush=True)
    if unusable:
        return 2
    return 0 if all(r.passed for r in reports) else 1


def _positive_float(text: str) -> float:
    v = float(text)
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds; got {text}")
    return v


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
    li = sub.add_parser("list", help="print every registered claim (or everything about the given ones)")
    li.add_argument("ids", nargs="*", metavar="ID", help="claim ids: print each one's full record")
    li.set_defaults(func=cmd_list)
    c = sub.add_parser("check", help="prove and numerically check claims (all by default)")
    c.add_argument("ids", nargs="*", metavar="ID", help="claim ids (see `list`)")
    c.add_argument("-v", "--verbose", action="store_true",
                   help="also print each claim's full statement, the paper's wording and its tolerance note")
    c.add_argument("--seed", type=_nonneg_int, default=0, help="random seed (default 0)")
    c.add_argument("--seeds", type=_seed_list, default=None, metavar="S",
                   help="check at every seed of S (e.g. 0-9 or 0,3,7) and print each claim's worst error over "
                        "them and the seeds where it fails (instead of --seed)")
    c.add_argument("--instances", type=_pos_int, default=20,
                   help="random instances per claim (default 20)")
    c.add_argument("--jobs", type=_pos_int, default=None, metavar="K",
                   help="check in K processes, one proof script's claims each (default: one per usable CPU; "
                        "1 checks everything in this process); the results do not depend on K")
    c.set_defaults(func=cmd_check)
    r = sub.add_parser("reproduce", help="train the models of a paper and print its figures",
                       description="\n".join(textwrap.fill(f"{k}: {v.summary}", 78, subsequent_indent="    ")
                                             for k, v in sorted(reproductions().items())),
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    names = r.add_subparsers(dest="name", required=True, metavar="NAME")
    for name, rep in sorted(reproductions().items()):
        one = names.add_parser(name, help=rep.summary, description=rep.summary)
        if rep.quick:
            one.add_argument("--quick", action="store_true",
                             help="the quick settings that CI runs: a smoke test of the pipeline, not the paper's "
                                  "numbers")
        if rep.workers:
            one.add_argument("--workers", type=_pos_int, default=None, metavar="K",
                             help="train jobs in K processes with one BLAS thread each (default: one per usable "
                                  "CPU; 1 trains them one after the other in this process)")
        for o in rep.options:
            one.add_argument(*o.flags, **o.kwargs)
        one.add_argument("--out", metavar="DIR", default=None,
                         help="write the run record DIR/NAME.json (and its figures, if matplotlib is installed)")
        one.set_defaults(func=cmd_reproduce)
    e = sub.add_parser("exercises", help="write the coursework exercises (student versions) to DIR")
    e.add_argument("--out", metavar="DIR", required=True)
    e.add_argument("--solutions", action="store_true",
                   help="write the versions with their solutions (needs the sources: a checkout, or --sources)")
    e.add_argument("--sources", metavar="DIR", default=None,
                   help="the exercise sources with their solutions (not installed with the package; default: "
                        "the checkout's theory/coursework/solutions/); everything is written from them")
    e.add_argument("--format", choices=("py", "ipynb", "nbgrader"), default="py",
                   help="py: jupytext percent scripts (default); ipynb: notebooks; nbgrader: nbgrader source "
                        "notebooks with autograded test cells")
    e.set_defaults(func=cmd_exercises)
    g = sub.add_parser("grade", help="grade exercise files (.py or .ipynb) function by function",
                       description="Grade exercise files function by function. Exit status: 0 every function "
                                   "passed, 1 some failed, 2 the grader could not run (no such file, not an "
                                   "exercise).")
    g.add_argument("files", nargs="+", metavar="FILE")
    g.add_argument("--seed", type=_nonneg_int, default=None,
                   help="the seed that draws the cases (default: a fresh one, printed in the report)")
    g.add_argument("--cases", type=_pos_int, default=3, help="random cases per function, each a different size "
                                                                  "(default 3)")
    g.add_argument("--timeout", type=_positive_float, default=60.0, metavar="SECONDS",
                   help="wall-clock limit for each file (default 60)")
    g.add_argument("--no-theory", action="store_true",
                   help="refuse `import theory` in the student's code (no calling this package's answers)")
    g.add_argument("--forward-once", action="store_true",
                   help="fail a function that calls the exercise's forward function more than once a case "
                        "(a finite-difference gradient)")
    g.add_argument("--json", action="store_true", help="print one JSON object per file as it is graded (JSON lines; "
                                                       "per function: passed, errors, hints)")
    g.set_defaults(func=cmd_grade)
    f = sub.add_parser("figures", help="draw the figures of the run records in DIR (needs matplotlib)")
    f.add_argument("dir", metavar="DIR")
    f.add_argument("--pdf", action="store_true", help="also write PDF files")
    f.set_defaults(func=cmd_figures)
    return p


def _foreign_options(args, unknown: list) -> int:
    """``reproduce NAME`` with options NAME does not take: say whose options they are."""
    owners = {}
    for rep in reproductions().values():
        flags = ["--quick"] * rep.quick + ["--workers"] * rep.workers + [f for o in rep.options for f in o.flags]
        for f in flags:
            owners.setdefault(f, []).append(rep.name)
    for token in (t.split("=")[0] for t in unknown if t.startswith("-")):
        whose = ", ".join(owners.get(token, [])) or "no reproduction"
        print(f"error: {token} is an option of {whose}, not of {args.name}", file=sys.stderr)
    if not any(t.startswith("-") for t in unknown):
        print(f"error: unrecognized arguments: {' '.join(unknown)}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if args.command != "reproduce":
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        return _foreign_options(args, unknown)
    try:
        return args.func(args)
    except BrokenPipeError:                    # e.g. `icl-theory list | head`
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
