"""Training LSA stacks and the comparison with GD (von Oswald et al. 2023, Sec. 3-4).

The quick reproduction runs in CI; the full one is marked slow
(``python -m pytest -m slow``) and asserts the paper's headline numbers."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given

from tests.helpers import rng_from, seeds
from theory import gd_step as g
from theory import gd_step as T
from theory.__main__ import main
from theory.core.gradcheck import check_gradients, numerical_gradient, rel_error
from theory.gd_step.data import uniform_moments


def _constructed_result(eta, d=10, N=10):
    params = {k + "0": v for k, v in g.gd_construction(d, 1, N, eta).items()}
    task = dict(d=d, n_context=N, inputs="uniform", a=0.5, cov=None)
    return T.training.TrainResult(params, np.zeros(1), "lsa", 1, False, task)


def test_comparison_of_the_construction_with_gd_is_exact():
    """If the 'trained' model is the GD construction at η*, every metric says so."""
    eta = g.optimal_one_step(10, 10, *uniform_moments(0.5))[0]
    c = T.compare_to_gd(_constructed_result(eta), n_tasks=2000)
    assert c.pred_diff < 1e-12 and c.sens_diff < 1e-12 and abs(c.sens_cos - 1) < 1e-12
    assert c.kq_error < 1e-12 and c.pv_error < 1e-12 and abs(c.eta_tf - eta) < 1e-12
    assert rel_error(c.tf_loss, c.gd_loss) < 1e-12 and rel_error(c.interp_loss, c.gd_loss) < 1e-12
    assert abs(c.eta_grid / eta - 1) < 0.05                 # the grid search finds η* too
    # a construction at a wrong η is seen as different
    off = T.compare_to_gd(_constructed_result(eta / 2), n_tasks=2000)
    assert off.pred_diff > 0.01 and off.tf_loss > c.tf_loss and abs(off.eta_tf - eta / 2) < 1e-12


@given(seeds)
def test_sensitivity_is_the_derivative_in_x_query(seed):
    rng = rng_from(seed)
    X, Y, xq = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 1)), rng.standard_normal((2, 3))
    p = {k + s: rng.standard_normal((4, 4)) / 3 for s in ("0", "1") for k in g.lsa.LSA_KEYS}
    _, sens = T.comparison.lsa_predict(p, g.tokens(X, Y, xq), 2)
    for b in range(2):
        f = lambda q: T.comparison.lsa_predict(p, g.tokens(X, Y, np.vstack([xq[:b], q["x"], xq[b + 1:]])), 2)[0][b]
        num = numerical_gradient(f, {"x": xq[b:b + 1]})["x"][0]
        assert rel_error(sens[b], num) < 1e-7


@given(seeds)
def test_gd_and_gdpp_parameter_gradients(seed):
    rng = rng_from(seed)
    X, Y, xq = rng.standard_normal((3, 5, 2)) / 2, rng.standard_normal((3, 5, 1)), rng.standard_normal((3, 2)) / 2
    E, y = g.tokens(X, Y, xq), rng.standard_normal((3, 1))
    for kind in ("gd", "gdpp"):
        p = {"eta": rng.uniform(0.2, 1.0, 2)}
        if kind == "gdpp":
            p["gamma"] = rng.uniform(0.05, 0.3, 2)
        _, grads = T.training.model_loss(p, E, y, kind=kind, n_layers=2)
        check_gradients(lambda q: T.training.model_loss(q, E, y, kind=kind, n_layers=2)[0], p, grads)


@pytest.fixture(scope="module")
def quick():
    return T.reproduce(T.GDReproConfig.quick())


def test_quick_reproduction(quick):
    c = quick.one_layer
    assert c.tf_loss < 1.05 * c.gd_loss and c.tf_loss < 0.6 * c.zero_loss
    assert c.sens_cos > 0.98 and c.kq_error < 0.2 and c.pv_error < 0.2
    assert abs(c.eta_tf / c.eta - 1) < 0.1 and c.interp_loss < 1.05 * c.gd_loss
    row = quick.deep[2]
    assert row["gdpp"] < row["gd"] < c.gd_loss             # GD++ beats GD beats one step
    assert row["lsa"] < c.gd_loss                          # two layers learn more than one step
    gauss = quick.gaussian
    assert gauss["tf_loss"] < 1.1 * gauss["zfb_loss"]
    report = T.format_report(quick)
    assert "Deeper stacks" in report and "Γ^-1" in report


def test_executor_gives_the_same_numbers():
    cfg = T.GDReproConfig(steps=3, batch=16, deep_steps=3, depths=(2,), n_tasks=200, gaussian_steps=3, d=3, n_context=4)
    serial = T.reproduce(cfg)
    with ThreadPoolExecutor(2) as pool:
        parallel = T.reproduce(cfg, executor=pool, progress=lambda m: None)
    assert serial.one_layer.tf_loss == parallel.one_layer.tf_loss
    assert serial.deep[2] == parallel.deep[2]


def test_cli_reproduce(monkeypatch, capsys):
    """In this process and in two worker processes: the same report, times aside."""
    tiny = T.GDReproConfig(steps=3, batch=16, deep_steps=3, depths=(2,), n_tasks=200, gaussian_steps=3)
    monkeypatch.setattr(T.GDReproConfig, "quick", classmethod(lambda cls: tiny))
    reports = []
    for workers in ("1", "2"):
        assert main(["reproduce", "gd-step", "--quick", "--workers", workers]) == 0
        out = capsys.readouterr()
        assert "trained 1-layer LSA vs one step of GD" in out.out and "trained lsa-1" in out.err
        assert f"with {workers} worker process" in out.err and "done in" in out.err
        reports.append([line for line in out.out.splitlines() if "time of each" not in line])
    assert reports[0] == reports[1]
    with pytest.raises(SystemExit):
        main(["reproduce", "no-such-paper"])


def test_worker_pool_gives_each_worker_one_blas_thread(monkeypatch):
    from theory.core import _workers as _perf
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "2")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with _perf.worker_pool(2) as pool:
        assert set(pool.map(_perf.thread_settings, range(4))) == {("1", "1", "1")}
    assert _perf.thread_settings()[:2] == ("2", None)        # the parent's environment is back
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_workers"):
            _perf.worker_pool(bad)


def test_direct_gd_is_the_construction():
    """GD computed on the tokens (K = X X^T) equals the LSA stack of the GD construction,
    loss, η-gradients and prediction, to round-off (a non-zero query y-slot included)."""
    rng = np.random.default_rng(5)
    for L in (1, 2, 3, 5):
        X, Y, xq = rng.standard_normal((6, 7, 3)), rng.standard_normal((6, 7, 1)), rng.standard_normal((6, 3))
        E, y = g.tokens(X, Y, xq), rng.standard_normal((6, 1))
        E[:, -1, -1] = rng.standard_normal(6)
        p = {"eta": rng.uniform(0.2, 1.0, L)}
        direct = T.training._model_loss(p, E, y, "gd", L)
        built = T.training._constructed_loss(p, E, y, "gd", L)
        assert rel_error(direct[0], built[0]) < 1e-12 and rel_error(direct[2], built[2]) < 1e-12
        assert rel_error(direct[1]["eta"], built[1]["eta"]) < 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="kind must be"):
        T.train_lsa(1, kind="adam", steps=1, batch=4)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        T.train_lsa(1, steps=0)
    with pytest.raises(ValueError, match="n_layers"):
        T.train_lsa(0, steps=1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        T.train_lsa(1, steps=1, batch=4, lr=-1.0)
    with pytest.raises(ValueError, match="zero-trace"):
        T.comparison.align_scale(np.zeros((3, 3)), np.eye(3), 2)


@pytest.mark.slow
def test_full_reproduction():
    """The paper's settings (about 13 minutes on 2 cores): the headline claims."""
    r = T.reproduce(T.GDReproConfig.full())
    print(T.format_report(r))
    c = r.one_layer
    assert c.tf_loss <= 1.02 * c.gd_loss                   # within 2 % of GD at η*
    assert c.sens_cos >= 0.99
    assert c.kq_error < 0.1 and c.pv_error < 0.1           # products match up to their scale
    for L, row in r.deep.items():
        assert row["gdpp"] <= row["gd"]


def test_training_stops_on_divergence_naming_step_and_lr():
    from theory.core._validate import Diverged
    with pytest.raises(Diverged, match=r"Adam step 1 \(learning rate 0.001\): grads\['\w+'\] is too large"):
        T.train_lsa(1, d=2, n_context=3, steps=3, batch=8, a=1e40)    # the gradient's square overflows
    with pytest.raises(Diverged, match=r"the loss is not finite at step 0"):
        T.train_lsa(1, d=2, n_context=3, steps=3, batch=8, a=1e200)


def test_long_runs_refuse_bad_arguments_before_any_work():
    import time
    start = time.perf_counter()
    with pytest.raises(ValueError, match="executor"):
        T.reproduce(executor="pool")
    with pytest.raises(ValueError, match="depths"):
        T.GDReproConfig(depths=(1,))
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("inputs", ["uniform", "gaussian"])
def test_training_token_stream_draws_exactly_what_the_sampler_draws(inputs):
    """train_lsa samples into one reused buffer; the numbers must be the sampler's, so a
    run does not depend on that optimisation."""
    from theory.gd_step.data import regression_tasks
    cov = None if inputs == "uniform" else np.diag([1.0, 2.0, 0.5]) + 0.1
    stream = T.training._TokenStream(np.random.default_rng(5), 7, 4, 3, inputs, 0.5, cov)
    rng = np.random.default_rng(5)
    for _ in range(3):
        E, yq = stream.draw()
        t = regression_tasks(rng, 7, 4, 3, inputs=inputs, a=0.5, cov=cov)
        assert np.array_equal(E, g.tokens(t.X, t.Y, t.xq)) and np.array_equal(yq, t.yq)
