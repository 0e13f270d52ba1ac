"""What the conformance scripts share: their command line, the check that ``--repo`` is the
authors' code at the commit the paper's numbers come from, and the switch that perturbs one
setting of ours so that a script can be seen to fail.

A comparison that cannot fail proves nothing.  Each script names, in ``PERTURBATIONS``, the
settings of ours it claims to pin down (an optimiser's β2, a clip, a sampler's share); run
with ``--perturb NAME`` it changes that one setting on our side only and must then exit 1
(``tests/test_conformance.py`` runs every perturbation where the authors' code is present).

The checkout is verified before anything heavy is imported: the file the script needs must
be there (else exit 2, "give a checkout"), ``git rev-parse HEAD`` must start with the
script's commit and no tracked file may be modified (else exit 2, naming what was found).
``--any-commit`` compares anyway and says so loudly in the report's first line.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def parser(doc: str, repository: str, commit: str, perturbations: dict, tol: float) -> argparse.ArgumentParser:
    """The common command line: ``--repo``, ``--tol``, ``--any-commit``, ``--perturb``."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                 epilog="perturbations (each must make the script exit 1): "
                                        + "; ".join(f"{k}: {v}" for k, v in perturbations.items()))
    ap.add_argument("--repo", required=True, type=Path, help=f"a checkout of {repository} at {commit}")
    ap.add_argument("--tol", type=float, default=tol, help=f"largest relative difference allowed (default {tol:g})")
    ap.add_argument("--any-commit", action="store_true",
                    help=f"compare with a checkout at another commit than {commit} (reported, never silent)")
    ap.add_argument("--perturb", choices=sorted(perturbations), default=None,
                    help="change one setting of ours (the authors' side untouched): the run must then differ")
    return ap


def _git(repo: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def checkout(ap: argparse.ArgumentParser, args, marker: str, repository: str, commit: str) -> str:
    """Refuse (exit 2) a ``--repo`` without ``marker``, at another commit, or with modified
    tracked files; return the line that heads the report."""
    repo = args.repo
    if not (repo / marker).is_file():
        ap.error(f"{repo} has no {marker}: give a checkout of {repository} at {commit}")
    head = (_git(repo, "rev-parse", "HEAD") or "").strip()
    found = None
    if not head:
        found = "has no git metadata (its commit cannot be verified)"
    elif not head.startswith(commit):
        found = f"is at commit {head[:7]}, not {commit}"
    else:
        status = _git(repo, "status", "--porcelain", "--untracked-files=no") or ""
        changed = [line[3:] for line in status.splitlines() if "M" in line[:2]]
        if changed:
            found = f"has modified files ({', '.join(changed[:5])}{', ...' if len(changed) > 5 else ''})"
    if found and not args.any_commit:
        ap.error(f"{repo} {found}: give a clean checkout of {repository} at {commit} "
                 f"(`git -C {repo} checkout {commit}`; `git -C {repo} stash` for local changes), or --any-commit "
                 "to compare anyway")
    if found:
        print(f"WARNING: --any-commit: {repo} {found}; these numbers are NOT against the paper's code",
              file=sys.stderr)
        return f"{repository} — NOT VERIFIED: {found}"
    return f"{repository}@{commit}"


def announce_perturbation(args, perturbations: dict) -> None:
    """Print the report's warning when a setting of ours is perturbed (the run must then differ)."""
    if args.perturb is not None:
        print(f"PERTURBED on our side, so this run must differ: {args.perturb} — {perturbations[args.perturb]}")
