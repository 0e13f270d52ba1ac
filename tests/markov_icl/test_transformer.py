"""Edelman et al.'s two-layer transformer, its training loop and the markov-icl record — each
with a wrong variant it catches."""
import numpy as np
import pytest

from theory.__main__ import main
from theory.core.records import read_record, round_trip
from theory.markov_icl import claims as C, data as M, reproduction as MR, training as MTR, transformer as MT
from tests.helpers import rng_from


def test_gradient_matches_finite_differences():
    for seed in range(4):
        assert C._check_transformer_gradient(rng_from(seed)) < 1e-7


def _loop_layer(X, p, l, H, offset_sign=1):
    """One layer written with loops over heads, queries and keys (B = 1), the offset r_{t−j}
    (``offset_sign=-1``: the wrong r_{j−t})."""
    T, d = X.shape
    hs = d // H
    mu, var = X.mean(-1, keepdims=True), X.var(-1, keepdims=True)
    U = (X - mu) / np.sqrt(var + 1e-5) * p[f"l{l}.ln_g"] + p[f"l{l}.ln_b"]
    Q, K, V = U @ p[f"l{l}.Wq"], U @ p[f"l{l}.Wk"], U @ p[f"l{l}.Wv"]
    Y = np.zeros((T, d))
    for h in range(H):
        sl = slice(h * hs, (h + 1) * hs)
        for t in range(T):
            s = np.array([(Q[t, sl] @ K[j, sl] + Q[t, sl] @ p[f"l{l}.wpe"][abs(offset_sign * (t - j)) if offset_sign > 0
                                                                        else (j - t) % T, sl]) / np.sqrt(hs)
                          for j in range(t + 1)])
            a = np.exp(s - s.max())
            Y[t, sl] = (a / a.sum()) @ V[:t + 1, sl]
    return X + Y @ p[f"l{l}.Wo"]


def test_forward_against_loops_and_the_wrong_offset():
    rng = rng_from(1)
    p = {n: v + 0.3 * rng.standard_normal(v.shape) for n, v in MT.init_transformer(rng, 3, 6, 4, 2).items()}
    x, _ = M.markov_sequences(rng, 1, 7, 3)
    logits, _ = MT.transformer_forward(p, x, heads=2)

    def model(sign):
        X = p["wte"][x[0, :-1]]
        X = _loop_layer(_loop_layer(X, p, 1, 2, sign), p, 2, 1, sign)
        Z = (X - X.mean(-1, keepdims=True)) / np.sqrt(X.var(-1, keepdims=True) + 1e-5) * p["lnf_g"] + p["lnf_b"]
        return Z @ p["W_U"]
    assert np.abs(logits[0] - model(1)).max() < 1e-12
    assert np.abs(logits[0] - model(-1)).max() > 1e-4


def test_two_threads_train_the_same_run_up_to_round_off():
    c = MTR.MarkovConfig(T=12, steps=6, eval_every=3, n_eval=16, batch=8, d=8)
    one, two = MTR.train_markov(c), MTR.train_markov(MTR.MarkovConfig(**{**c.__dict__, "threads": 2}))
    for key in one["curves"]:
        assert np.allclose(one["curves"][key], two["curves"][key], rtol=1e-9, atol=1e-12), key


def test_the_mask_is_causal():
    rng = rng_from(2)
    p = MT.init_transformer(rng, 2, 8, 4, 1)
    x, _ = M.markov_sequences(rng, 3, 9, 2)
    y = x.copy()
    y[:, 6:] = 1 - y[:, 6:]                                               # change the future
    a, b = MT.transformer_forward(p, x)[0], MT.transformer_forward(p, y)[0]
    assert np.abs(a[:, :6] - b[:, :6]).max() == 0 and np.abs(a[:, 6:] - b[:, 6:]).max() > 0


def test_training_reaches_the_unigram_strategy_and_the_summary_reads_the_stages():
    c = MTR.MarkovConfig(T=20, steps=60, eval_every=20, n_eval=64, batch=32, lr=5e-3)
    run = MTR.train_markov(c)
    cur = run["curves"]
    assert cur["loss"][-1] < cur["loss"][0] and cur["kl_unigram"][-1] < cur["kl_uniform"][-1]
    s = MTR.stage_summary(run)
    assert s["unigram_from"] is not None and s["excess_over_bigram"] == cur["loss"][-1] - run["strategies"]["bigram"]
    made_up = {"steps": [0, 1, 2, 3], "strategies": run["strategies"],
               "curves": {"loss": [1, 1, 1, 1], "kl_uniform": [0, 3, 3, 3], "kl_unigram": [1, 1, 2, 2],
                          "kl_bigram": [2, 2, 1, 1]}}
    assert MTR.stage_summary(made_up)["unigram_from"] == 1 and MTR.stage_summary(made_up)["bigram_from"] == 2
    with pytest.raises(ValueError, match="config must be a MarkovConfig"):
        MTR.train_markov({"T": 4})


def test_quick_record_and_cli(tmp_path, capsys):
    record = MR.reproduce(quick=True)
    assert set(record["results"]) == {"transformer-0", "minimal-causal-0", "minimal-authors-0"}
    text = MR.format_report(round_trip(record))
    assert text == MR.format_report(record) and "bigram nearest from" in text
    assert main(["reproduce", "markov-icl", "--quick", "--workers", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.split("]\n\n", 1)[1].rstrip("\n") == MR.format_report(read_record(tmp_path / "markov-icl.json"))
    pytest.importorskip("matplotlib")
    for stem in ("markov-icl", "markov-icl-attention"):
        assert (tmp_path / f"{stem}.png").stat().st_size > 1000
        assert (tmp_path / f"{stem}.caption.md").read_text().count("\n") == 1


@pytest.mark.slow
def test_full_markov_run_passes_the_unigram_plateau_and_ends_near_bigram():
    """The issue's bar (about 22 min on two cores): most transformer seeds are nearest the
    unigram strategy before the bigram one, and end much nearer the bigram strategy's loss than
    the unigram one's — within 20 % of the gap between the two (measured: 12-17 %)."""
    from theory.core._workers import usable_cpus, worker_pool
    with worker_pool(usable_cpus()) as pool:
        record = MR.reproduce(executor=pool)
    print(MR.format_report(record))
    runs = [v for n, v in record["results"].items() if n.startswith("transformer")]
    assert sum(v["stages"]["unigram_first"] and v["stages"]["bigram_from"] is not None for v in runs) > len(runs) / 2
    for v in runs:
        gap = v["strategies"]["unigram"] - v["strategies"]["bigram"]
        assert v["stages"]["excess_over_bigram"] < 0.2 * gap
    minimal = {n: v["stages"]["bigram_from"] for n, v in record["results"].items() if n.startswith("minimal")}
    assert all(minimal[f"minimal-authors-{s}"] > minimal[f"minimal-causal-{s}"] for s in (0, 1))   # the leak delays it
