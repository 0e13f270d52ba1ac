"""von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers"
(arXiv 2309.05858), Sec. 5: truncated iterations for the mesa-layer's preconditioned
input ``(S_t + λ I)^{-1} s_t``, their error bounds, and how stacked causal linear-attention
layers run them.

- **Richardson** ``x_{k+1} = x_k + ω (b − A x_k)`` (from 0: the truncated Neumann series)
  with ``||e_k|| <= ρ^k ||e_0||``, ``ρ = max_i |1 − ω λ_i(A)|``.
- **Chebyshev** (the momentum iteration of the authors' least-squares baseline) with
  ``||e_k|| <= ||e_0|| / T_k(σ)``.
- **Stacked layers**: both iterations are ``p_K(S_t) s_t`` for a fixed polynomial; K
  one-head layers with key = value = ``s_{t'}`` leave ``S_t^k s_t`` in Krylov blocks and a
  linear read-out with the polynomial's coefficients is the iterate (our construction).

The identities are proved in ``proofs/mesa.py`` (Steps 5–7).  Matrices act on columns;
``A`` is (B, d, d), vectors ``b`` are (B, d).
"""
from __future__ import annotations

import numpy as np

from ..core._validate import array, finite_result, finite_scalar, positive_int
from .attention import _attention_forward
from .data import linear_dynamics

__all__ = ["richardson", "richardson_rate", "chebyshev", "chebyshev_bound", "iteration_polynomial",
           "krylov_tokens", "krylov_layers", "krylov_readout", "run_krylov_stack", "preconditioning_systems"]


# --------------------------------------------------------------------------- truncated inverses
def _spd_system(A, b):
    A = array("A", A, ndim=3)
    if A.shape[1] != A.shape[2]:
        raise ValueError(f"A must hold square matrices (B, d, d); got shape {A.shape}")
    if not np.allclose(A, np.swapaxes(A, 1, 2), rtol=0, atol=1e-12 * max(1.0, float(np.abs(A).max()))):
        raise ValueError("A must be symmetric")
    return A, array("b", b, shape=A.shape[:2])


@finite_result
def richardson(A, b, omega: float, steps: int) -> np.ndarray:
    """Richardson iteration for ``A x = b`` from ``x_0 = 0``: ``x_{k+1} = x_k + ω (b − A x_k)``
    (von Oswald et al. 2023b, Sec. 5: what stacked linear layers can run to approximate
    the mesa-layer's ``(S_t + λ I)^{-1} s_t``).  From 0 it is the truncated Neumann series
    ``x_k = ω Σ_{j<k} (I − ωA)^j b``.  A (B, d, d) symmetric, b (B, d); returns the
    iterates ``x_0 … x_steps`` as (steps + 1, B, d)."""
    A, b = _spd_system(A, b)
    omega, steps = finite_scalar("omega", omega, positive=True), positive_int("steps", steps)
    return np.stack(_richardson_steps(lambda x: np.einsum("bij,bj->bi", A, x), b, omega, steps))


def _richardson_steps(apply, b, omega, steps):
    """``x_{k+1} = x_k + ω (b − A x_k)`` from ``x_0 = 0`` for any vectors that add and scale
    (arrays, or polynomials in S: :func:`iteration_polynomial`); ``apply(x) = A x``."""
    x = [0 * b]
    for _ in range(steps):
        x.append(x[-1] + omega * (b - apply(x[-1])))
    return x


@finite_result
def richardson_rate(A, omega: float) -> np.ndarray:
    """``ρ = max_i |1 − ω λ_i(A)|`` per matrix: the error ``e_k = x_k − A^{-1} b`` obeys
    ``e_{k+1} = (I − ωA) e_k``, so for symmetric A ``||e_k|| ≤ ρ^k ||e_0||``.  (B,)."""
    A, _ = _spd_system(A, np.zeros(np.shape(A)[:2]))
    omega = finite_scalar("omega", omega, positive=True)
    return np.abs(1.0 - omega * np.linalg.eigvalsh(A)).max(axis=1)


@finite_result
def chebyshev(A, b, mu, L, steps: int) -> np.ndarray:
    """The Chebyshev iteration for ``A x = b`` (A symmetric, spectrum in [μ, L], 0 < μ ≤ L),
    from ``x_0 = 0`` — the momentum form of the authors' least-squares baseline
    (``x_{k+1} = x_k + d_k``, a step along the residual plus momentum on the last step):

        θ = (L + μ)/2, δ = (L − μ)/2, σ = θ/δ;  r_0 = b, d_0 = r_0/θ, ρ_0 = 1/σ;
        x_{k+1} = x_k + d_k,  r_{k+1} = r_k − A d_k,  ρ_{k+1} = 1/(2σ − ρ_k),
        d_{k+1} = ρ_{k+1} ρ_k d_k + (2 ρ_{k+1}/δ) r_{k+1}.

    The error is ``e_k = T_k((θ − A)/δ) e_0 / T_k(σ)`` (T_k the Chebyshev polynomial;
    ``proofs/mesa.py``, Step 6), so ``||e_k|| ≤ ||e_0|| / T_k(σ) = 2 c^k/(1 + c^{2k}) ||e_0||``
    with ``c = (√κ − 1)/(√κ + 1)``, ``κ = L/μ``.  mu, L: one value per matrix (B,) or one
    for all.  Returns the iterates (steps + 1, B, d).  (μ = L is Richardson with ω = 1/μ.)"""
    A, b = _spd_system(A, b)
    B = A.shape[0]
    mu = np.broadcast_to(array("mu", mu, ndim=(0, 1)), (B,)).copy()
    L = np.broadcast_to(array("L", L, ndim=(0, 1)), (B,)).copy()
    if np.any(mu <= 0) or np.any(L < mu):
        raise ValueError(f"mu and L must satisfy 0 < mu <= L; got mu {mu.tolist()}, L {L.tolist()}")
    steps = positive_int("steps", steps)
    theta, delta = (L + mu)[:, None] / 2, (L - mu)[:, None] / 2
    return np.stack(_chebyshev_steps(lambda x: np.einsum("bij,bj->bi", A, x), b, theta, delta, steps))


def _chebyshev_steps(apply, b, theta, delta, steps):
    """The recurrence of :func:`chebyshev` for any vectors that add and scale; θ, δ broadcast
    against them (arrays (B, 1), or floats for polynomials)."""
    x, r = [0 * b], b
    d = r * (1 / theta)
    rho = delta / theta                                    # ρ_0 = 1/σ
    for _ in range(steps):
        x.append(x[-1] + d)
        r = r - apply(d)
        # ρ_{k+1} = 1/(2σ − ρ_k) and 2ρ_{k+1}/δ written without dividing by δ, so that a
        # matrix with μ = L (δ = 0: ρ = 0, steps r/θ) shares the batch with the others
        rho_next = delta / (2 * theta - delta * rho)
        d = d * (rho_next * rho) + r * (2 / (2 * theta - delta * rho))
        rho = rho_next
    return x


def chebyshev_bound(mu, L, k) -> np.ndarray:
    """``1 / T_k(σ) = 2 c^k / (1 + c^{2k})``, ``c = (√κ − 1)/(√κ + 1)``: the factor by which
    k Chebyshev steps at least shrink the error."""
    mu, L, k = array("mu", mu), array("L", L), array("k", k)
    if np.any(mu <= 0) or np.any(L < mu) or np.any(k < 0):
        raise ValueError(f"mu, L and k must satisfy 0 < mu <= L and k >= 0; got mu {mu}, L {L}, k {k}")
    c = (np.sqrt(L / mu) - 1) / (np.sqrt(L / mu) + 1)
    return 2 * c ** k / (1 + c ** (2 * k))


# --------------------------------------------------------------------------- stacked layers run the iterations
@finite_result
def iteration_polynomial(method: str, lam: float, steps: int, *, omega: float | None = None,
                         mu: float | None = None, L: float | None = None) -> np.ndarray:
    """Coefficients ``c_0 … c_steps`` (lowest power first) of the polynomial p with
    ``x_steps = p(S) b`` when ``method`` ("richardson" with ω, or "chebyshev" with μ, L)
    runs ``steps`` steps on ``(S + λ I) x = b`` from ``x_0 = 0``.  Every iterate is a
    polynomial in S applied to b, because each step only adds multiples of b and of
    ``A x = (S + λ I) x``; the same recurrences as :func:`richardson` / :func:`chebyshev`
    run here on polynomials instead of vectors."""
    lam, steps = finite_scalar("lam", lam, nonnegative=True), positive_int("steps", steps)
    one, A = np.polynomial.Polynomial([1.0]), np.polynomial.Polynomial([lam, 1.0])   # b ↦ 1, A ↦ λ + z
    apply = lambda x: A * x
    if method == "richardson":
        if mu is not None or L is not None:
            raise ValueError("richardson takes omega, not mu and L")
        x = _richardson_steps(apply, one, finite_scalar("omega", omega, positive=True), steps)[-1]
    elif method == "chebyshev":
        if omega is not None:
            raise ValueError("chebyshev takes mu and L, not omega")
        mu, L = finite_scalar("mu", mu, positive=True), finite_scalar("L", L, positive=True)
        if L < mu:
            raise ValueError(f"mu and L must satisfy 0 < mu <= L; got mu {mu}, L {L}")
        x = _chebyshev_steps(apply, one, (L + mu) / 2, (L - mu) / 2, steps)[-1]
    else:
        raise ValueError(f"method must be 'richardson' or 'chebyshev'; got {method!r}")
    return np.pad(x.coef, (0, steps + 1 - len(x.coef)))


@finite_result
def krylov_tokens(S, steps: int) -> np.ndarray:
    """Tokens for :func:`krylov_layers`: ``e_t = (s_t, s_t, 0, …, 0)`` with ``steps + 2``
    blocks of width D; block 0 feeds keys and values, block 1 is ``S_t^0 s_t``.  (B, T, (steps+2) D)."""
    S = array("S", S, ndim=3)
    B, T, D = S.shape
    E = np.zeros((B, T, (positive_int("steps", steps) + 2) * D))
    E[:, :, :D] = S
    E[:, :, D:2 * D] = S
    return E


@finite_result
def krylov_layers(D: int, steps: int) -> list:
    """``steps`` one-head causal linear-attention layers (for :func:`causal_attention_forward`)
    that fill the Krylov blocks: layer k (k = 1 … steps) has key and value ← ``s_{t'}``
    (block 0), query ← block k, and writes into block k + 1, so
    ``block_{k+1} = Σ_{t'<=t} s_{t'} s_{t'}^T block_k = S_t^k s_t`` with
    ``S_t = Σ_{t'<=t} s_{t'} s_{t'}^T`` (von Oswald et al. 2023b, Sec. 5: stacked linear layers
    can run truncated iterations for ``(S_t + λ I)^{-1} s_t``; this is our construction of
    that statement, derived and tested here, with the iteration's coefficients in the
    read-out :func:`krylov_readout`)."""
    D, steps = positive_int("D", D), positive_int("steps", steps)
    width = (steps + 2) * D
    layers = []
    for k in range(1, steps + 1):
        W_Q, W_K, W_V = (np.zeros((1, D, width)) for _ in range(3))
        P = np.zeros((1, width, D))
        W_K[0, :, :D] = np.eye(D)                          # key:   s_{t'}
        W_V[0, :, :D] = np.eye(D)                          # value: s_{t'}
        W_Q[0, :, k * D:(k + 1) * D] = np.eye(D)           # query: S_t^{k-1} s_t
        P[0, (k + 1) * D:(k + 2) * D] = np.eye(D)          # write: S_t^k s_t
        layers.append({"W_Q": W_Q, "W_K": W_K, "W_V": W_V, "P": P})
    return layers


@finite_result
def krylov_readout(E, coef) -> np.ndarray:
    """``x_t = Σ_j c_j S_t^j s_t``: a token-wise linear read of the Krylov blocks (a linear
    probe) with the coefficients of :func:`iteration_polynomial`.  E (B, T, (K+2) D),
    coef (K+1,); returns (B, T, D)."""
    E = array("E", E, ndim=3)
    coef = array("coef", coef, ndim=1)
    width, blocks = E.shape[2], coef.shape[0] + 1
    if width % blocks:
        raise ValueError(f"E's width {width} must be (len(coef) + 1) blocks of D; got len(coef) = {coef.shape[0]}")
    D = width // blocks
    return np.einsum("j,btjd->btd", coef, E[:, :, D:].reshape(E.shape[:2] + (blocks - 1, D)))


def run_krylov_stack(S, coef) -> np.ndarray:
    """The stacked layers on the Krylov tokens, then the read-out: ``p(S_t) s_t`` (B, T, D)."""
    S, coef = array("S", S, ndim=3), array("coef", coef, ndim=1)
    steps = coef.shape[0] - 1
    E = krylov_tokens(S, steps)
    for p in krylov_layers(S.shape[2], steps):
        E = _attention_forward(E, p)[0]
    return krylov_readout(E, coef)


def preconditioning_systems(rng, batch: int = 4, T: int = 20, D: int = 5, lam: float = 0.1):
    """The systems the mesa-layer solves on linear-dynamics data: ``A = S_{t-1} + λ I``
    (``S_{t-1} = Σ_{t'<t} s_{t'} s_{t'}^T``) and ``b = s_t`` at the last t, with
    ``ω = 2 / (λ_min + λ_max)`` (the step that minimises ρ).  Returns (A, b, ω per matrix)."""
    S = linear_dynamics(rng, batch, T, D).S
    lam = finite_scalar("lam", lam, positive=True)
    A = np.einsum("bti,btj->bij", S[:, :-1], S[:, :-1]) + lam * np.eye(D)
    ev = np.linalg.eigvalsh(A)
    return A, S[:, -1], 2.0 / (ev[:, 0] + ev[:, -1])


def _krylov_instance(rng):
    B, T, D, K = 2, int(rng.integers(2, 9)), int(rng.integers(1, 5)), int(rng.integers(1, 6))
    S, lam = rng.uniform(-1, 1, size=(B, T, D)), float(rng.uniform(0.1, 1.0))
    A = (np.cumsum(S[..., :, None] * S[..., None, :], axis=1) + lam * np.eye(D)).reshape(-1, D, D)   # S_t + λI
    return S, lam, K, A, S.reshape(-1, D)
