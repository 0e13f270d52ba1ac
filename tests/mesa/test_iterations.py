"""von Oswald et al. 2023b, Sec. 5: Richardson and Chebyshev for the mesa-layer's
preconditioned input, their error bounds (each with a wrong variant that must break
them), and the stacked causal linear-attention layers that run them."""
import numpy as np
import pytest
from hypothesis import given

from tests.helpers import rng_from, seeds
from theory import mesa
from theory.mesa import iterations as mesa_iterations
from theory.core.gradcheck import rel_error
from theory.mesa import claims as C


@given(seeds)
def test_richardson_bound_and_neumann_series(seed):
    assert C._check_richardson_bound(rng_from(seed)) == 0.0
    assert C._check_neumann(rng_from(seed)) < 1e-12
    # the bound is attained: with b along the eigenvector of the slowest mode e_k = ρ^k e_0
    # exactly, so a faster rate (the wrong variant ρ² here) is violated from the first step
    A, b, omegas = mesa_iterations.preconditioning_systems(rng_from(seed))
    lam, vecs = np.linalg.eigh(A[0])
    slow = int(np.argmax(np.abs(1 - omegas[0] * lam)))
    rho = mesa_iterations.richardson_rate(A[:1], omegas[0])[0]
    x = mesa_iterations.richardson(A[:1], vecs[None, :, slow], omegas[0], 5)[:, 0]
    err = np.linalg.norm(x - vecs[:, slow] / lam[slow], axis=1)
    assert rel_error(err, rho ** np.arange(6) * err[0]) < 1e-9
    assert np.all(err[1:] > (rho ** 2) ** np.arange(1, 6) * err[0])


def test_richardson_refuses_what_is_not_a_symmetric_system():
    with pytest.raises(ValueError, match="square"):
        mesa_iterations.richardson(np.ones((1, 2, 3)), np.ones((1, 2)), 0.1, 3)
    with pytest.raises(ValueError, match="symmetric"):
        mesa_iterations.richardson(np.array([[[1.0, 2.0], [0.0, 1.0]]]), np.ones((1, 2)), 0.1, 3)
    with pytest.raises(ValueError, match="omega"):
        mesa_iterations.richardson(np.eye(2)[None], np.ones((1, 2)), 0.0, 3)


@given(seeds)
def test_chebyshev_bound_and_rate(seed):
    assert C._check_chebyshev_bound(rng_from(seed)) == 0.0
    A, b, _ = mesa_iterations.preconditioning_systems(rng_from(seed))
    ev = np.linalg.eigvalsh(A)
    exact = np.linalg.solve(A, b[..., None])[..., 0]
    # the worst-case factor beats the best Richardson's: 1/T_k(σ) <= (1/σ)^k, 1/σ = (L-μ)/(L+μ)
    k = np.arange(1, 31)[:, None]
    rho = (ev[:, -1] - ev[:, 0]) / (ev[:, -1] + ev[:, 0])
    assert np.all(mesa_iterations.chebyshev_bound(ev[:, 0], ev[:, -1], k) <= rho ** k * (1 + 1e-12))
    # wrong variant: a spectrum interval that misses λ_max is not a valid bound any more
    short = ev[:, 0] + (ev[:, -1] - ev[:, 0]) / 3             # [μ, short] leaves λ_max out
    x = mesa_iterations.chebyshev(A, b, ev[:, 0], short, 30)
    err = np.linalg.norm(x - exact[None], axis=2)
    assert np.any(err[-1] > mesa_iterations.chebyshev_bound(ev[:, 0], short, 30) * err[0])


def test_chebyshev_with_one_eigenvalue_is_richardson():
    A, b = 2.0 * np.eye(3)[None], np.arange(1.0, 4.0)[None]
    x = mesa_iterations.chebyshev(A, b, 2.0, 2.0, 3)
    assert rel_error(x[1], b / 2) < 1e-15 and rel_error(x[-1], b / 2) < 1e-15   # exact after one step
    with pytest.raises(ValueError, match="0 < mu <= L"):
        mesa_iterations.chebyshev(A, b, 3.0, 2.0, 3)
    # in one batch with a matrix whose interval is wide, each runs as it would alone
    B2, b2 = np.diag([1.0, 2.0, 5.0])[None], np.ones((1, 3))
    both = mesa_iterations.chebyshev(np.concatenate([A, B2]), np.concatenate([b, b2]), np.array([2.0, 1.0]),
                          np.array([2.0, 5.0]), 6)
    alone = mesa_iterations.chebyshev(B2, b2, 1.0, 5.0, 6)
    assert rel_error(both[:, 1], alone[:, 0]) < 1e-15 and rel_error(both[-1, 0], b[0] / 2) < 1e-15


@given(seeds)
def test_stacked_layers_run_richardson_and_chebyshev(seed):
    assert C._check_stack_runs_iterations(rng_from(seed)) < 1e-12
    S, lam, K, A, b = mesa_iterations._krylov_instance(rng_from(seed))
    # the layers fill the Krylov blocks: block k+1 = S_t^k s_t, S_t inclusive of t
    E = mesa_iterations.krylov_tokens(S, K)
    for p in mesa_iterations.krylov_layers(S.shape[2], K):
        E = mesa.causal_attention_forward(E, p)[0]
    St = (A - lam * np.eye(A.shape[1])).reshape(S.shape[:2] + A.shape[1:])
    D = S.shape[2]
    for k in range(K + 1):
        want = np.einsum("btij,btj->bti", np.linalg.matrix_power(St, k), S)
        assert rel_error(E[:, :, (k + 1) * D:(k + 2) * D], want) < 1e-12
    # Richardson's polynomial in closed form: ω Σ_{j<K} (1 − ω(λ + z))^j (degree K − 1)
    omega = 0.3
    P = np.polynomial.Polynomial
    closed = sum(omega * P([1 - omega * lam, -omega]) ** j for j in range(K))
    assert rel_error(mesa_iterations.iteration_polynomial("richardson", lam, K, omega=omega), np.pad(closed.coef, (0, 1))) < 1e-13
    # wrong variant: a read-out that forgets the ridge term λ is not the iteration any more
    # (3 steps: a 1-step iterate b/θ does not involve λ)
    ev = np.linalg.eigvalsh(A)
    mu, L = float(ev[:, 0].min()), float(ev[:, -1].max())
    right = mesa_iterations.chebyshev(A, b, mu, L, 3)[-1]
    wrong = mesa_iterations.run_krylov_stack(S, mesa_iterations.iteration_polynomial("chebyshev", 0.0, 3, mu=mu, L=L)).reshape(b.shape)
    assert rel_error(wrong, right) > 1e-3
