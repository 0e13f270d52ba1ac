"""Task diversity at CPU scale, as a run record (``python -m theory reproduce task-diversity``).

1. **τ sweep (double descent in the number of pretraining sequences)**, Lu et al.'s Fig. 1
   setting (α = 1, κ = 0.5, ρ = 0.01): the ridgeless pretrained reduced model's exact ICL
   error at d = 16, 32, 64 (quick: 8, 16), several pools and pretraining sets each, beside
   Result 1; a fit ``e(d) = e_∞ + c/d`` per τ extrapolates the simulation to d = ∞.
2. **κ sweep (the task-diversity transition)**, Fig. 4's setting (α = 10, τ = 2, ρ = 0.01):
   ``g_task = e_ICL − e_IDG`` of the pretrained model beside the theory, and of the dMMSE
   estimator on the same pools (Monte Carlo): dMMSE memorises the pool at every κ, the
   pretrained model stops memorising as κ grows past ~1.
3. **Raventós et al.'s estimators per position** (D = 8, K = 16, σ² = 0.25): dMMSE and ridge on
   pool tasks and on fresh tasks for pools of M = 2 … 4096 tasks.
"""
from __future__ import annotations

import time

import numpy as np

from ..core._validate import executor as _executor, flag, nonnegative_int
from ..core.records import check_record, make_record
from ..core.registry import Reproduction
from .asymptotics import ridgeless_icl, ridgeless_idg
from .bayes import dmmse_predictions, dmmse_query, position_errors, ridge_predictions
from .data import sequences, task_pool
from .error import expected_error
from .model import pretrain_ridge
from .simulation import sizes

__all__ = ["FULL", "QUICK", "reproduce", "format_report", "REPRODUCTION"]

FULL = dict(rho=0.01,
            tau=dict(alpha=1.0, kappa=0.5, taus=(0.2, 0.5, 0.8, 1.25, 1.5, 2.0, 3.0), ds=(16, 32, 64),
                     seeds=(6, 3, 2)),
            kappa=dict(alpha=10.0, tau=2.0, kappas=(0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0), ds=(16, 32),
                       seeds=(3, 2), dmmse_samples=2000),
            raventos=dict(D=8, K=16, noise_var=0.25, pools=(2, 8, 32, 128, 512, 4096), samples=2000))
QUICK = dict(rho=0.01,
             tau=dict(alpha=1.0, kappa=0.5, taus=(0.5, 1.5, 3.0), ds=(8, 16), seeds=(2, 2)),
             kappa=dict(alpha=10.0, tau=2.0, kappas=(0.25, 1.0, 8.0), ds=(8,), seeds=(1,), dmmse_samples=300),
             raventos=dict(D=8, K=16, noise_var=0.25, pools=(2, 64), samples=200))


def _tau_job(args):
    seed, d, alpha, kappa, tau, rho = args
    rng = np.random.default_rng(seed)
    ell, k, n = sizes(d, alpha, kappa, tau)
    pool = task_pool(rng, k, d, "sphere")
    S = sequences(rng, n, ell, d, rho=rho, pool=pool, assign="balanced")
    return expected_error(pretrain_ridge(S.X, S.y, S.x_q, S.y_q), ell, rho, "gaussian")


def _kappa_job(args):
    """The pretrained model's exact ICL and IDG errors and dMMSE's (Monte Carlo, ± SE) on one pool."""
    seed, d, alpha, kappa, tau, rho, samples = args
    rng = np.random.default_rng(seed)
    ell, k, n = sizes(d, alpha, kappa, tau)
    pool = task_pool(rng, k, d, "sphere")
    S = sequences(rng, n, ell, d, rho=rho, pool=pool, assign="balanced")
    G = pretrain_ridge(S.X, S.y, S.x_q, S.y_q)
    out = dict(k=k, e_icl=expected_error(G, ell, rho, "gaussian"), e_idg=expected_error(G, ell, rho, pool))
    for name, p in (("dmmse_icl", None), ("dmmse_idg", pool)):
        T = sequences(rng, samples, ell, d, rho=rho, pool=p, tasks="gaussian")
        e = (dmmse_query(T.X, T.y, T.x_q, pool, rho) - T.y_q) ** 2
        out[name], out[name + "_se"] = float(e.mean()), float(e.std() / np.sqrt(samples))
    return out


def _raventos_job(args):
    seed, D, K, noise_var, M, samples = args
    rng = np.random.default_rng(seed)
    pool = task_pool(rng, M, D, "gaussian")
    out = {}
    for name, p in (("pool", pool), ("fresh", None)):
        S = sequences(rng, samples, K - 1, D, rho=noise_var, pool=p, scale="raventos")
        X = np.concatenate([S.X, S.x_q[:, None]], 1)
        y = np.concatenate([S.y, S.y_q[:, None]], 1)
        dm = np.concatenate([dmmse_predictions(X[s:s + 100], y[s:s + 100], pool, noise_var)
                             for s in range(0, samples, 100)])
        out[f"dmmse_{name}"] = position_errors(dm, X, S.w).tolist()
        out[f"ridge_{name}"] = position_errors(ridge_predictions(X, y, noise_var), X, S.w).tolist()
    return out


def _fit_inverse_d(ds, values) -> tuple[float, float]:
    """Least squares ``e(d) = e_∞ + c/d``: (e_∞, c)."""
    A = np.column_stack([np.ones(len(ds)), 1.0 / np.asarray(ds, float)])
    return tuple(float(v) for v in np.linalg.lstsq(A, np.asarray(values, float), rcond=None)[0])


def reproduce(*, quick: bool = False, seed: int = 0, executor=None) -> dict:
    """The run record of the module docstring's three parts (``quick``: CI sizes)."""
    quick, seed = flag("quick", quick), nonnegative_int("seed", seed)
    executor = _executor("executor", executor)
    mapper = executor.map if executor is not None else map
    cfg = QUICK if quick else FULL
    rho, ct, ck, cr = cfg["rho"], cfg["tau"], cfg["kappa"], cfg["raventos"]
    parts = {}
    start = time.perf_counter()
    tau_args = [(seed + 1000 * i + s, d, ct["alpha"], ct["kappa"], tau, rho)
                for i, (d, reps) in enumerate(zip(ct["ds"], ct["seeds"])) for tau in ct["taus"] for s in range(reps)]
    tau_args.sort(key=lambda a: -a[1] ** 6 * a[4])                       # costliest first
    tau_out = dict(zip(tau_args, mapper(_tau_job, tau_args)))
    tau = {}
    for d in ct["ds"]:
        rows = []
        for t in ct["taus"]:
            v = [e for a, e in tau_out.items() if a[1] == d and a[4] == t]
            rows.append(dict(tau=t, mean=float(np.mean(v)), sd=float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
                             runs=len(v), n=sizes(d, ct["alpha"], ct["kappa"], t)[2]))
        tau[str(d)] = rows
    theory_tau = [ridgeless_icl(ct["alpha"], ct["kappa"], t, rho) for t in ct["taus"]]
    extrapolated = [_fit_inverse_d(ct["ds"], [tau[str(d)][i]["mean"] for d in ct["ds"]]) for i in range(len(ct["taus"]))]
    parts["tau sweep"] = time.perf_counter() - start
    start = time.perf_counter()
    kappa_args = [(seed + 5000 + 1000 * i + s, d, ck["alpha"], kap, ck["tau"], rho, ck["dmmse_samples"])
                  for i, (d, reps) in enumerate(zip(ck["ds"], ck["seeds"])) for kap in ck["kappas"] for s in range(reps)]
    kappa_out = dict(zip(kappa_args, mapper(_kappa_job, kappa_args)))
    kap = {}
    for d in ck["ds"]:
        rows = []
        for kv in ck["kappas"]:
            runs = [o for a, o in kappa_out.items() if a[1] == d and a[3] == kv]
            row = dict(kappa=kv, k=runs[0]["k"], runs=len(runs))
            for key in ("e_icl", "e_idg", "dmmse_icl", "dmmse_idg", "dmmse_icl_se", "dmmse_idg_se"):
                row[key] = float(np.mean([o[key] for o in runs]))
            row["g_task"] = row["e_icl"] - row["e_idg"]
            row["dmmse_g_task"] = row["dmmse_icl"] - row["dmmse_idg"]
            rows.append(row)
        kap[str(d)] = rows
    theory_kappa = [dict(kappa=kv, e_icl=ridgeless_icl(ck["alpha"], kv, ck["tau"], rho),
                         e_idg=ridgeless_idg(ck["alpha"], kv, ck["tau"], rho)) for kv in ck["kappas"]]
    for row in theory_kappa:
        row["g_task"] = row["e_icl"] - row["e_idg"]
    parts["kappa sweep"] = time.perf_counter() - start
    start = time.perf_counter()
    rav_args = [(seed + 9000 + M, cr["D"], cr["K"], cr["noise_var"], M, cr["samples"]) for M in cr["pools"]]
    raventos = dict(zip((str(M) for M in cr["pools"]), mapper(_raventos_job, rav_args)))
    parts["Raventós estimators"] = time.perf_counter() - start
    return make_record(
        "task-diversity",
        settings=dict(quick=quick, seed=seed, rho=rho, tau=ct, kappa=ck, raventos=cr, tasks="sphere ‖w‖ = √d (pool)",
                      assign="balanced", pretraining="ridgeless (minimum-norm) least squares"),
        parts=parts,
        results=dict(tau=tau, tau_theory=theory_tau, tau_extrapolated=[e for e, _ in extrapolated],
                     tau_slope=[c for _, c in extrapolated], kappa=kap, kappa_theory=theory_kappa,
                     kappa_infinite=ridgeless_icl(ck["alpha"], np.inf, ck["tau"], rho), raventos=raventos),
        curves=dict(tau_grid=list(np.r_[np.linspace(0.05, 0.95, 40), np.linspace(1.05, 4.0, 60)]),
                    tau_curve=[ridgeless_icl(ct["alpha"], ct["kappa"], t, rho)
                               for t in np.r_[np.linspace(0.05, 0.95, 40), np.linspace(1.05, 4.0, 60)]],
                    kappa_grid=list(np.geomspace(min(ck["kappas"]), max(ck["kappas"]), 60)),
                    kappa_curve=[ridgeless_icl(ck["alpha"], kv, ck["tau"], rho)
                                 - ridgeless_idg(ck["alpha"], kv, ck["tau"], rho)
                                 for kv in np.geomspace(min(ck["kappas"]), max(ck["kappas"]), 60)]))


def format_report(record: dict) -> str:
    """The tables of the record (nothing recomputed)."""
    record = check_record(record, "task-diversity")
    s, r = record["settings"], record["results"]
    ct, ck, cr = s["tau"], s["kappa"], s["raventos"]
    ds = [str(d) for d in ct["ds"]]
    out = [f"Task diversity (Lu et al. 2024; Raventós et al. 2023): the reduced linear-attention model pretrained by "
           f"ridgeless least squares on a pool of tasks (‖w‖ = √d, each used n/k times), scored by its exact error; "
           f"ρ = {s['rho']:g}", "",
           f"1. ICL error against τ = n/d² (α = {ct['alpha']:g}, κ = {ct['kappa']:g}): simulation mean ± sd over "
           f"pools and pretraining sets ({', '.join(f'd = {d}: {k} runs' for d, k in zip(ct['ds'], ct['seeds']))}), "
           "the fit e_∞ + c/d over d, and Result 1 (d = ∞)",
           "  " + f"{'τ':>6s}" + "".join(f"{'d = ' + d:>17s}" for d in ds) + f"{'fit d = ∞':>11s}{'theory':>9s}"]
    for i, t in enumerate(ct["taus"]):
        out.append("  " + f"{t:6g}" + "".join(f"{r['tau'][d][i]['mean']:10.3f} ± {r['tau'][d][i]['sd']:.3f}"
                                            for d in ds)
                   + f"{r['tau_extrapolated'][i]:11.3f}{r['tau_theory'][i]:9.3f}")
    out.append("  (at finite d the interpolation threshold is n = d(d+1), τ = 1 + 1/d)")
    out += ["", f"2. The task-diversity transition (α = {ck['alpha']:g}, τ = {ck['tau']:g}): g_task = e_ICL − e_IDG of "
                "the pretrained model (exact errors) and of dMMSE on the same pools (Monte Carlo, "
                f"{ck['dmmse_samples']:,} sequences each), against κ = k/d",
            "  " + f"{'κ':>7s}" + "".join(f"{'model d = ' + str(d):>15s}{'dMMSE d = ' + str(d):>15s}" for d in ck["ds"])
            + f"{'theory':>9s}{'e_ICL theory':>14s}"]
    for i, kv in enumerate(ck["kappas"]):
        th = r["kappa_theory"][i]
        out.append("  " + f"{kv:7g}" + "".join(f"{r['kappa'][str(d)][i]['g_task']:15.3f}"
                                             f"{r['kappa'][str(d)][i]['dmmse_g_task']:15.3f}" for d in ck["ds"])
                   + f"{th['g_task']:9.3f}{th['e_icl']:14.3f}")
    deep = str(max(ck["ds"]))
    out.append(f"  ICL error at d = {deep}: model " + ", ".join(f"{row['e_icl']:.3f}" for row in r["kappa"][deep])
               + "; dMMSE " + ", ".join(f"{row['dmmse_icl']:.3f}" for row in r["kappa"][deep])
               + f" (κ = ∞ theory: {r['kappa_infinite']:.3f})")
    out += ["", f"3. Raventós et al.'s estimators (D = {cr['D']}, K = {cr['K']}, σ² = {cr['noise_var']:g}; "
                f"{cr['samples']:,} sequences): error against the noiseless target ÷ D at the last position",
            f"  {'pool M':>7s} {'dMMSE pool':>11s} {'ridge pool':>11s} {'dMMSE fresh':>12s} {'ridge fresh':>12s}"]
    for M, row in r["raventos"].items():
        out.append(f"  {M:>7s} {row['dmmse_pool'][-1]:11.4f} {row['ridge_pool'][-1]:11.4f} "
                   f"{row['dmmse_fresh'][-1]:12.4f} {row['ridge_fresh'][-1]:12.4f}")
    return "\n".join(out)


REPRODUCTION = Reproduction(
    "task-diversity",
    "Lu et al. 2024, Raventós et al. 2023: the reduced linear-attention model pretrained on task pools against "
    "the asymptotic theory over τ (double descent) and κ (the task-diversity transition), dMMSE and ridge (minutes)",
    run=lambda options, executor=None, progress=None: reproduce(quick=options["quick"], executor=executor),
    report=format_report)
