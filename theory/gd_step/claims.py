"""The ledger entries of von Oswald et al. 2023 and of Zhang, Frei & Bartlett 2024's
one-layer optimum (collected by ``theory/claims.py``)."""
from __future__ import annotations

from ..core.registry import EMPIRICAL, EXACT, Claim
from . import closed_forms, construction
from .comparison import compare_to_gd
from .training import train_lsa

VO = "von Oswald et al. 2023"
ZFB = "Zhang, Frei & Bartlett 2024"
PAPERS = {"vo": VO, "zfb": ZFB}

__all__ = ["VO", "ZFB", "PAPERS", "CLAIMS"]


def _trained_lsa_excess(rng) -> float:
    """Relative excess loss of a quickly trained 1-layer LSA over GD at the closed-form η*."""
    seed = int(rng.integers(2**31))
    r = train_lsa(1, steps=400, batch=512, lr=3e-3, rng=seed)
    c = compare_to_gd(r, n_tasks=4000, rng=seed + 1)
    return (c.tf_loss - c.gd_loss) / c.gd_loss


CLAIMS = (
    Claim("vo-gd-step", VO,
          "constructed LSA layer = one GD step from W0 ≠ 0: ŷ = (W0 + ΔW) x_q, y-slots y_i - ΔW x_i",
          EXACT, "gd_step", lambda rng: construction.check_gd_step(rng, steps=1)),
    Claim("vo-k-steps", VO,
          "the same layer applied K times (K = 2..4) = K GD steps",
          EXACT, "gd_step", construction.check_gd_step),
    Claim("vo-gdpp", VO,
          "GD++ layers: x ← (I - γ Σ x_i x_i^T) x for every token, then GD on the new inputs",
          EXACT, "gd_step", construction.check_gdpp),
    Claim("vo-optimal-eta", VO,
          "best one-step η: b* = N s²/(m4 + (d+N-2)s⁴), L* = ½ d s² (1 - s⁴/c) (vs exact quadrature)",
          EXACT, "gd_step", closed_forms.check_optimal_step),
    Claim("zfb-moment", ZFB,
          "x ~ N(0, Λ): E[Ŝ²] = Λ Γ, Γ = (1 + 1/N) Λ + (tr Λ / N) I (vs exact quadrature)",
          EXACT, "gd_step", closed_forms.check_zfb_moment),
    Claim("vo-trained-lsa", VO,
          "a 1-layer LSA trained by Adam reaches the loss of one GD step at η* (quick run)",
          EMPIRICAL, "gd_step", _trained_lsa_excess, tol=0.05, max_instances=1,
          tol_note="quick run (400 steps, batch 512): relative excess of the trained loss over "
                   "GD at η*; `python -m theory reproduce gd-step` gives the full figures"),
)
