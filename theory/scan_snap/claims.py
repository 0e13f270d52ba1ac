"""The ledger entries of Tian et al. 2023 (collected by ``theory/claims.py``)."""
from __future__ import annotations

import numpy as np

from ..core._validate import as_rng
from ..core.gradcheck import numerical_gradient, rel_error
from ..core.registry import EMPIRICAL, EXACT, Claim
from .biases import _distinct_rows, _flow, _random_task
from .data import scan_snap_sequences
from .model import HISTOGRAM_T, _attention, _histogram, _instance, _finite_loss, _reduced, paper_flow
from .training import _rank_agreement, snap_fits

TIAN = "Tian et al. 2023"
PAPERS = {"tian": TIAN}

__all__ = ["TIAN", "PAPERS", "CLAIMS"]


def _check_discriminative_bias(rng) -> float:
    """Largest rise of the common tokens' total attention ``Σ_common c_n`` between
    consecutive records of the flow from zero (t = 0, 1, …, 100 iterations): 0 when it only
    falls, as the discriminative bias says."""
    task, nc, nd = _random_task(as_rng(rng))
    common = _flow(task, np.arange(101.0))["c"][:, :, :nc].sum(axis=2)     # (101, K)
    return max(float(np.diff(common, axis=0).max()), 0.0)


def _check_frequency_bias(rng) -> float:
    """``1 − min_n Spearman(Δz, P)`` over the distinct tokens of each class, Δz the growth of
    their attention logits in the first 5 iterations of the flow from zero (0 when the
    logits grow in the order of P(l|n), as the frequency bias says)."""
    task, nc, nd = _random_task(as_rng(rng))
    z = _flow(task, [0.0, 5.0])["z"]
    dz, p = _distinct_rows(task, nc, nd, z[1] - z[0])
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(dz, p))


def _check_scan_order(rng) -> float:
    """``1 − min_n Spearman(c_n, P)`` over the distinct tokens at t = 100 iterations of the
    flow: 0 when the attention ranks them as their co-occurrence does."""
    task, nc, nd = _random_task(as_rng(rng))
    c = _flow(task, [100.0])["c"][0]
    cn, p = _distinct_rows(task, nc, nd, c)
    return 1.0 - min(_rank_agreement(a, b) for a, b in zip(cn, p))


def _check_snap(rng) -> float:
    """After the snap (t from 1e3 to 1e5 iterations of the flow): ``|slope + 1|`` of
    ``ln(1 − α_n)`` against ln t (a 1/t decay has slope −1)."""
    task, _, _ = _random_task(as_rng(rng))
    t = np.geomspace(1e3, 1e5, 30)
    return abs(snap_fits(_flow(task, t), t, 1e3)["log_gap_vs_ln_t"][0] + 1.0)


def _check_finite_gradient(rng) -> float:
    """Worst error of :func:`finite_loss`'s gradient against central differences, on a
    random task, batch and parameters, with or without the residual (drawn): each block's
    error relative to the whole gradient's norm (a block can vanish: Z has no gradient when
    every context token of every sequence is the same one, and 1e-17 of round-off against
    an exact 0 is not an error of 1)."""
    rng = as_rng(rng)
    task, params = _instance(rng)
    batch = scan_snap_sequences(rng, task, 4, int(rng.integers(2, 8)))
    residual = bool(rng.integers(0, 2))
    f = lambda p: _finite_loss(p["Y"], p["Z"], batch.tokens, batch.labels, residual)[0]
    g = _finite_loss(params["Y"], params["Z"], batch.tokens, batch.labels, residual)[1]
    num = numerical_gradient(f, params)
    scale = float(np.sqrt(sum(np.sum(v * v) for v in num.values())))
    return max(rel_error(g["Y"], num["Y"], scale=scale), rel_error(g["Z"], num["Z"], scale=scale))


def _check_histogram_limit(rng) -> float:
    """``|slope + 1/2|`` of ``ln rms ||h − c_n||`` against ln T (T = 64 … 4096, 300 sequences
    each, random Z with entries N(0, 1)): the finite-T histogram is a ratio of two sample
    means of T − 1 i.i.d. terms (``Σ_t e^{z_{x_t}} e_{x_t}`` over ``Σ_t e^{z_{x_t}}``), so by the
    delta method its error shrinks like ``(T − 1)^{-1/2}`` — our derivation of the rate."""
    rng = as_rng(rng)
    task, params = _instance(rng)
    Z = params["Z"]
    c = _attention(Z, task)
    errs = []
    for T in HISTOGRAM_T:
        b = scan_snap_sequences(rng, task, 300, T)
        h = _histogram(Z, b.tokens)[1]
        errs.append(np.sqrt(np.mean(np.sum((h - c[b.classes]) ** 2, axis=1))))
    slope = np.polyfit(np.log(np.array(HISTOGRAM_T) - 1.0), np.log(errs), 1)[0]
    return abs(slope + 0.5)


def _check_invariances(rng) -> float:
    """Largest of: ``|1ᵀ ż_m|`` and ``|1ᵀ Ẏ|`` (column sums) relative to the flow's size, the
    finite-T dZ's row sums relative to its size, and the relative change of both losses
    when a constant is added to every row of Z."""
    rng = as_rng(rng)
    task, params = _instance(rng)
    flow = paper_flow(params, task)
    size = lambda a: max(float(np.abs(a).max()), 1e-300)
    errs = [float(np.abs(flow["Z"].sum(axis=1)).max()) / size(flow["Z"]),
            float(np.abs(flow["Y"].sum(axis=0)).max()) / size(flow["Y"])]
    batch = scan_snap_sequences(rng, task, 6, 5)
    loss, g = _finite_loss(params["Y"], params["Z"], batch.tokens, batch.labels, False)
    errs.append(float(np.abs(g["Z"].sum(axis=1)).max()) / size(g["Z"]))
    shifted = params["Z"] + rng.standard_normal((task.M, 1)) * 3.0                 # a constant per row
    errs.append(abs(_finite_loss(params["Y"], shifted, batch.tokens, batch.labels, False)[0] - loss) / abs(loss))
    red = _reduced(params["Y"], params["Z"], task)[0]
    errs.append(abs(_reduced(params["Y"], shifted, task)[0] - red) / abs(red))
    return max(errs)


def _check_paper_flow(rng) -> float:
    """The formulas of :func:`paper_flow` = ``(−η_Y ∂L/∂Y, −η_Z ∂L/∂Z)`` (relative error)."""
    rng = as_rng(rng)
    task, params = _instance(rng)
    eta_Y, eta_Z = float(rng.uniform(0.1, 3)), float(rng.uniform(0.1, 3))
    flow = paper_flow(params, task, eta_Y, eta_Z)
    g = _reduced(params["Y"], params["Z"], task)[1]
    return max(rel_error(flow["Y"], -eta_Y * g["Y"]), rel_error(flow["Z"], -eta_Z * g["Z"]))


def _check_reduced_gradient(rng) -> float:
    """Worst relative error of :func:`reduced_loss` against central differences."""
    rng = as_rng(rng)
    task, params = _instance(rng)
    g = _reduced(params["Y"], params["Z"], task)[1]
    num = numerical_gradient(lambda p: _reduced(p["Y"], p["Z"], task)[0], params)
    return max(rel_error(g["Y"], num["Y"]), rel_error(g["Z"], num["Z"]))


CLAIMS = (
    Claim("tian-histogram-limit", TIAN,
          "Sec. 4 (the long-sequence assumption): the finite-T attention histogram tends to "
          "c_n = p_n ⊙ e^{z_m}/(p_nᵀ e^{z_m}) with rms error ∝ (T - 1)^{-1/2} (|fitted slope + 1/2|)",
          EXACT, "scan_snap", _check_histogram_limit, tol=0.1, max_instances=5,
          measured_by="finite size", tol_note="Monte Carlo (T = 64 ... 4096, 300 sequences each); the rate is our derivation (delta "
                   "method for a ratio of sample means); measured worst 0.041 over 60 instances"),
    Claim("tian-finite-gradient", TIAN,
          "the finite-T one-layer model (Z logits, token histogram, ℓ2 norm, decoder Y, cross-entropy; with "
          "and without the residual): hand-written gradient = central differences",
          EXACT, "scan_snap", _check_finite_gradient, tol=1e-7,
          measured_by="finite differences", tol_note="central differences; the package's gradient standard"),
    Claim("tian-reduced-gradient", TIAN,
          "the long-sequence model's expected loss: hand-written gradient = central differences",
          EXACT, "scan_snap", _check_reduced_gradient, tol=1e-7,
          measured_by="finite differences", tol_note="central differences; the package's gradient standard"),
    Claim("tian-flow", TIAN,
          "Secs. 5-6 (derived; the paper's equations not read word for word): Ẏ = η_Y E_n[(e_n - α_n) f_nᵀ], "
          "ż_m = η_Z E_n[1{ψ(n)=m} (diag c_n - c_n c_nᵀ)(I - f_n f_nᵀ) Yᵀ (e_n - α_n)/||c_n||] = -η ∇L",
          EXACT, "scan_snap", _check_paper_flow),
    Claim("tian-invariances", TIAN,
          "1ᵀ ż_m = 0, 1ᵀ Ẏ = 0, the finite-T dZ has zero row sums, and a constant added to a row of Z "
          "changes neither loss",
          EXACT, "scan_snap", _check_invariances),
    Claim("tian-frequency-bias", TIAN,
          "frequency bias: on the flow from zero (random distinct weights), the distinct tokens' attention "
          "logits grow in the order of P(l|n) (1 - Spearman, first 5 iterations)",
          EMPIRICAL, "scan_snap", _check_frequency_bias, tol=1e-12, max_instances=10,
          measured_by="simulation", tol_note="0 when the order is exact; the gradient flow of the long-sequence model, zero init, "
                   "rate 10 per iteration (η = 1, momentum 0.9)"),
    Claim("tian-discriminative", TIAN,
          "discriminative bias: the common tokens' total attention Σ_common c_n only falls along the flow "
          "(largest rise between iterations 0 ... 100)",
          EMPIRICAL, "scan_snap", _check_discriminative_bias, tol=1e-12, max_instances=10,
          measured_by="simulation", tol_note="0 when it never rises; the flow from zero, random distinct weights"),
    Claim("tian-scan-order", TIAN,
          "scan: after 100 iterations of the flow the distinct tokens' attention c_n ranks them as P(l|n) "
          "does (1 - Spearman)",
          EMPIRICAL, "scan_snap", _check_scan_order, tol=1e-12, max_instances=10,
          measured_by="simulation", tol_note="0 when the ranking is exact; the flow from zero, random distinct weights"),
    Claim("tian-snap", TIAN,
          "snap: after the transition (t = 1e3 ... 1e5 iterations of the flow) 1 - α_n decays like 1/t "
          "(|slope of ln(1 - α) against ln t + 1|)",
          EMPIRICAL, "scan_snap", _check_snap, tol=0.02, max_instances=10,
          measured_by="simulation", tol_note="a fitted exponent; measured worst 0.0065 over 40 random tasks"),
)
