"""Dai et al. 2023: this package's three metrics against the authors' analysis script, on
the same records.

    pip install -e '.[conformance]'
    git clone https://github.com/microsoft/LMOps && git -C LMOps checkout 4f2a9de
    python conformance/dual_form.py --repo LMOps

A short pretraining of :mod:`theory.dual_form.gpt` (300 steps) and the protocol of
:func:`theory.dual_form.icl_vs_ft.run_protocol` on 400 test tasks give the ZS, ICL and FT
records; the script writes them as the authors' ``record_info.jsonl`` files (one JSON line
an example: ``gold_label``, ``pred_label``, ``self_attn_out_hiddens`` (n_layers, d),
``attn_map`` (n_layers, n_heads, zero-shot positions)) into the folder layout their
``understand_icl/icl_ft/compute_sim.py`` reads — a folder literally named ``$base_dir``, as
the script's unexpanded ``base_dir = "$base_dir/ana_rlt"`` asks — runs their script
unchanged in a temporary folder in both modes (``all``, ``f2t``), and compares what it
saves (``Recall2FTP``, ``SimAOU``, ``SimAM``, ``ZSL SimAM``) with
:mod:`theory.dual_form.similarity` on the same arrays.  Their ``Random SimAOU`` draws from
numpy's unseeded global generator, so it is compared as a statistic: ours (``uniform``)
and theirs must agree within 5/√n.  Their script needs ``jsonlines`` and ``scipy`` (in the
``conformance`` extra).  Exit status 0 when every difference is at most ``--tol`` (1e-12).

The checkout's commit is verified (``git rev-parse HEAD``): another commit, a folder without
git metadata or modified files are refused unless ``--any-commit``.  ``--perturb unit-length``
computes our SimAOU without scaling each attention output to unit length first (their
script's normalisation) and must give exit 1.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from _common import announce_perturbation, checkout, parser

REPOSITORY, COMMIT = "microsoft/LMOps", "4f2a9de"
SCRIPT = Path("understand_icl") / "icl_ft" / "compute_sim.py"
MARKER = SCRIPT.as_posix()
PERTURBATIONS = {"unit-length": "our SimAOU without the unit-length scaling of each attention output (removed)"}
TASK, MODEL = "lincls", "tiny"


def _records(seed: int = 0, n_tasks: int = 400):
    """The protocol's outputs on a briefly pretrained model, and their truth."""
    from theory.dual_form import icl_vs_ft, pretraining, tasks
    params, _ = pretraining.pretrain(seed, "icl", steps=300, every=300, n_eval=64)
    s = pretraining.DEFAULTS
    X, y, _ = tasks.sample_tasks(np.random.default_rng([seed, 7]), n_tasks, s["N"] + 1, s["d"], s["prior"])
    return icl_vs_ft.run_protocol(params, X, y, s["N"], 0.1)


def _write(outputs: dict, root: Path) -> None:
    """``root/$base_dir/ana_rlt/en_dense_lm_<model>/<task>/{zs,icl,ftzs}/record_info.jsonl`` and the
    folder ``root/$base_dir/ana_rlt/rlt_json`` their script saves its numbers in."""
    base = root / "$base_dir" / "ana_rlt"                   # their base_dir, taken literally
    (base / "rlt_json").mkdir(parents=True)
    for ours, theirs in (("zs", "zs"), ("icl", "icl"), ("ft", "ftzs")):
        pred, hidden, scores = outputs[ours]
        folder = base / f"en_dense_lm_{MODEL}" / TASK / theirs
        folder.mkdir(parents=True)
        with open(folder / "record_info.jsonl", "w") as f:
            for i in range(len(pred)):
                f.write(json.dumps(dict(gold_label=int(outputs["truth"][i]), pred_label=int(pred[i]),
                                        self_attn_out_hiddens=hidden[i].tolist(), attn_map=scores[i].tolist())) + "\n")


def _theirs(repo: Path, root: Path, mode: str) -> dict:
    done = subprocess.run([sys.executable, str(repo / SCRIPT), TASK, mode, MODEL], cwd=root, capture_output=True,
                          text=True)
    if done.returncode != 0:
        raise SystemExit(f"their compute_sim.py failed:\n{done.stderr[-2000:]}")
    return json.loads((root / "$base_dir" / "ana_rlt" / "rlt_json" / f"{TASK}-en_dense_lm_{MODEL}.json").read_text())


def main(argv=None) -> int:
    ap = parser(__doc__, REPOSITORY, COMMIT, PERTURBATIONS, tol=1e-12)
    args = ap.parse_args(argv)
    source = checkout(ap, args, MARKER, REPOSITORY, COMMIT)
    from theory.core.gradcheck import rel_error
    from theory.dual_form import similarity as sim
    if args.perturb == "unit-length":
        sim._unit = lambda h: h                             # the perturbation: SimAOU on the raw outputs
    outputs = _records()
    truth = outputs["truth"]
    zs, icl, ft = (outputs[k][0] == truth for k in ("zs", "icl", "ft"))
    f2t = sim.f2t_mask(zs, icl, ft)
    ok = True
    print(f"Dai et al. 2023: our metrics against {source} "
          f"understand_icl/icl_ft/compute_sim.py on the same records ({len(truth)} tasks, {int(f2t.sum())} F2T; "
          f"relative difference, tolerance {args.tol:g})")
    announce_perturbation(args, PERTURBATIONS)
    for mode in ("all", "f2t"):
        keep = np.ones(len(truth), bool) if mode == "all" else f2t
        h = [outputs[k][1][keep] for k in ("zs", "icl", "ft")]
        s = [outputs[k][2][keep] for k in ("zs", "icl", "ft")]
        am, zsl = sim.sim_am(*s)
        ours = {"Recall2FTP": sim.rec2ftp(zs, icl, ft), "SimAOU": sim.sim_aou(*h), "SimAM": am, "ZSL SimAM": zsl}
        with tempfile.TemporaryDirectory() as tmp:
            _write(outputs, Path(tmp))
            theirs = _theirs(args.repo, Path(tmp), mode)
        for name, value in ours.items():
            d = rel_error(np.atleast_1d(value), np.atleast_1d(theirs[name]))
            ok &= d <= args.tol
            print(f"  {mode:3s} {name:12s} ours {np.round(value, 4)!s:24s} theirs {np.round(theirs[name], 4)!s:24s} "
                  f"{d:.1e}{'' if d <= args.tol else '   DIFFERS'}")
        rand = sim.random_sim_aou(h[0], h[1], np.random.default_rng(1), "uniform")
        allowed = 5 / np.sqrt(keep.sum())
        agree = np.all(np.abs(rand - np.asarray(theirs["Random SimAOU"])) <= allowed)
        ok &= bool(agree)
        print(f"  {mode:3s} Random SimAOU ours {np.round(rand, 4)!s:24s} theirs {np.round(theirs['Random SimAOU'], 4)!s:24s} "
              f"(unseeded draws; allowed {allowed:.2f}){'' if agree else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
