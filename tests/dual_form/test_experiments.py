"""Dai et al.'s experiments at CPU scale: the small transformer (theory.dual_form.gpt), its tasks,
the ICL-vs-finetuning protocol, pretraining and the run record — each against a definition
written out here, and the wrong variants a reader could fall into."""
import numpy as np
import pytest

from theory.core import records as R
from theory.core.gradcheck import check_gradients, rel_error
from theory.dual_form import claims, experiments as E, gpt, icl_vs_ft as C, momentum, pretraining as PT, tasks


def _model(rng, d_tok=6, n_out=2, D=8, T=9, scale=10.0):
    p = gpt.init_gpt(rng, d_tok, n_out, D=D, layers=2, heads=2, T=T)
    return {k: v * scale if v.ndim == 2 else v + 0.1 * rng.standard_normal(v.shape) for k, v in p.items()}


@pytest.mark.parametrize("eta", [0.0, 0.7])
def test_gradients_match_finite_differences(eta):
    """Every parameter, shared weights and one copy per sequence, vanilla and momentum attention."""
    rng = np.random.default_rng(1)
    p = _model(rng)
    x = rng.standard_normal((3, 7, 6))
    labels = rng.integers(-1, 2, (3, 7))
    labels[0, 0] = 1
    loss, g = gpt.gpt_loss(p, x, labels, eta=eta)
    assert max(check_gradients(lambda q: gpt.gpt_loss(q, x, labels, eta=eta)[0], p, g).values()) < 1e-7
    q = dict(p, **{"l1.W_K": p["l1.W_K"] + 0.3 * rng.standard_normal((3, 8, 8)),
                   "l2.W_V": np.repeat(p["l2.W_V"][None], 3, 0)})
    loss, g = gpt.gpt_loss(q, x, labels, eta=eta, reduce="sum")
    assert g["l1.W_K"].shape == (3, 8, 8)
    assert max(check_gradients(lambda r: gpt.gpt_loss(r, x, labels, eta=eta, reduce="sum")[0], q, g).values()) < 1e-7


def test_per_sequence_weights_are_each_sequence_alone():
    """A (B, D, D) copy of W per sequence gives each sequence what the shared W would give it alone."""
    rng = np.random.default_rng(2)
    p = _model(rng)
    x = rng.standard_normal((3, 5, 6))
    W = rng.standard_normal((3, 8, 8))
    batched = gpt.gpt_forward(dict(p, **{"l2.W_Q": W}), x)[0]
    alone = np.concatenate([gpt.gpt_forward(dict(p, **{"l2.W_Q": W[b]}), x[b:b + 1])[0] for b in range(3)])
    assert rel_error(batched, alone) < 1e-13


def test_causal_and_recorded_scores():
    """A later token never changes an earlier output; the recorded S is q·k/√s before the mask
    (finite above the diagonal, as fairseq records it); O is Y W_O."""
    rng = np.random.default_rng(3)
    p = _model(rng)
    x = rng.standard_normal((2, 6, 6))
    y = x.copy()
    y[:, 4:] += 1.0
    (a, ca), (b, _) = gpt.gpt_forward(p, x), gpt.gpt_forward(p, y)
    assert np.array_equal(a[:, :4], b[:, :4]) and not np.allclose(a[:, 4:], b[:, 4:])
    c = ca.layers[0]
    assert np.isfinite(c.S).all() and rel_error(c.S, c.Q @ c.K.transpose(0, 1, 3, 2) / 2.0) < 1e-15
    assert np.all(c.A[..., ~np.tri(6, dtype=bool)] == 0)
    assert rel_error(c.O, c.Y @ p["l1.W_O"]) < 1e-15


def test_momentum_term_is_dais_operator():
    """With η > 0 each head adds Σ_{i<t} η^{t−i} v_i: theory.dual_form.momentum's MoAttn with
    zero keys and queries (its attention part vanishes), head by head."""
    rng = np.random.default_rng(4)
    p = _model(rng)
    x = rng.standard_normal((2, 6, 6))
    c0, c1 = gpt.gpt_forward(p, x, eta=0.0)[1].layers[0], gpt.gpt_forward(p, x, eta=0.6)[1].layers[0]
    V = c1.V                                                        # layer 1's values do not depend on η
    expected = momentum.momentum_attention(V, np.zeros_like(V), np.zeros_like(V), 0.6)
    heads = lambda Y: Y.reshape(2, 6, 2, 4).transpose(0, 2, 1, 3)
    assert rel_error(heads(c1.Y) - heads(c0.Y), expected) < 1e-13
    wrong = momentum.momentum_attention(V, np.zeros_like(V), np.zeros_like(V), 0.3)
    assert rel_error(heads(c1.Y) - heads(c0.Y), wrong) > 0.1


def test_task_tokens_and_the_zero_shot_rule():
    """The prompt is the pretraining sequence's prefix with the query in x_{n+1}'s place; the
    best zero-shot rule's accuracy is 1 − E[θ]/π, θ the angle between w and e1."""
    rng = np.random.default_rng(5)
    X, y, w = tasks.sample_tasks(rng, 4, 4, d=3)
    assert np.array_equal(y, (np.einsum("npd,nd->np", X, w) > 0).astype(int))
    tok = tasks.prompt_tokens(X, y, 3)
    assert tok.shape == (4, 8, 7)
    seq = tasks._tokens(X, y, 4, query=False)
    assert np.array_equal(tok[:, :7], seq[:, :7]) and np.array_equal(tok[:, 7], seq[:, 7])
    assert np.array_equal(tok[:, 2, 3], 2 * y[:, 0] - 1) and tok[:, 0, 4].all() and not tok[:, 1:, 4].any()
    zs = tasks.prompt_tokens(X, y, 0)
    assert zs.shape == (4, 2, 7) and np.array_equal(zs[:, 1, :3], X[:, -1])
    toks, labels = tasks.pretraining_batch(rng, 3, 5, d=3)
    assert toks.shape == (3, 11, 7) and (labels[:, 1::2] >= 0).all() and (labels[:, ::2] == -1).all()
    X, _, w = tasks.sample_tasks(np.random.default_rng(6), 100_000, 1, d=4)
    theta = np.arccos(w[:, 0] / np.linalg.norm(w, axis=1))
    assert tasks.zero_shot_accuracy(4, 1.5, 100_000, rng=7) == pytest.approx(1 - theta.mean() / np.pi, abs=5e-3)


def test_finetune_is_one_pass_of_sgd_on_the_keys_only():
    """Batched finetuning equals, task by task, plain SGD on [BOS, x_i] → y_i in order; only
    W_K, W_V move; a shared update (the tasks' gradients summed) is not the same."""
    rng = np.random.default_rng(8)
    p = _model(rng, d_tok=7, D=8, T=4, scale=15.0)
    X, y, _ = tasks.sample_tasks(rng, 3, 4, d=3)
    q = C.finetune(p, X, y, 3, 0.2)
    for b in range(3):
        r = dict(p)
        for i in range(3):
            lab = np.array([[-1, y[b, i]]])
            zs = tasks._tokens(X[b:b + 1, i:i + 1], y[b:b + 1, i:i + 1], 0, query=True)   # [BOS, x_i]
            _, g = gpt.gpt_loss(r, zs, lab, reduce="sum")
            r = {k: v - 0.2 * g[k] if k.split(".")[-1] in C.KV else v for k, v in r.items()}
        for k in p:
            moved = q[k][b] if q[k].ndim == 3 else q[k]
            assert rel_error(moved, r[k]) < 1e-13, k
    assert all(np.array_equal(q[k], p[k]) for k in p if k.split(".")[-1] not in C.KV)
    assert min(rel_error(q[k][0], p[k]) for k in q if q[k].ndim == 3) > 1e-4
    q2 = C.finetune(p, X, y, 3, 0.2, keys=("W_Q", "W_O"))
    assert all(np.array_equal(q2[k], p[k]) for k in p if k.split(".")[-1] in C.KV)


def test_claim_ft_is_linear_attention_and_the_wrong_variant_fails():
    """Dai's dual form inside the transformer holds to round-off; keeping the first step's
    layer inputs (ignoring that layer 2's inputs move with layer 1) does not."""
    errs = [claims._check_ft_dual_transformer(np.random.default_rng(s)) for s in range(4)]
    wrong = [claims._check_ft_dual_transformer(np.random.default_rng(s), "first step") for s in range(4)]
    assert max(errs) < 1e-13 and min(wrong) > 1e-3


def test_probe_reads_the_zero_shot_positions():
    """The scores at the last position over its first and last columns — BOS and the query."""
    rng = np.random.default_rng(9)
    p = _model(rng, d_tok=7, T=6)
    X, y, _ = tasks.sample_tasks(rng, 2, 3, d=3)
    tok = tasks.prompt_tokens(X, y, 2)
    pred, out, scores = C.probe(p, tok)
    cache = gpt.gpt_forward(p, tok)[1]
    assert out.shape == (2, 2, 8) and scores.shape == (2, 2, 2, 2)
    assert np.array_equal(scores[:, 1, :, 1], cache.layers[1].S[:, :, -1, -1])
    assert np.array_equal(scores[:, 0, :, 0], cache.layers[0].S[:, :, -1, 0])


def test_compare_with_a_vanishing_learning_rate():
    """Finetuning with a learning rate near 0 changes nothing: FT = ZS, Rec2FTP undefined (None),
    ICL and FT agree exactly as often as ICL and ZS; choose_lr picks the best of its grid."""
    rng = np.random.default_rng(10)
    p = _model(rng, d_tok=7, T=6, scale=3.0)
    X, y, _ = tasks.sample_tasks(rng, 50, 3, d=3)
    r = C.compare(p, X, y, 2, 1e-12)
    assert r["acc_ft"] == r["acc_zs"] and r["rec2ftp"] is None and r["agree_icl_ft"] == r["agree_icl_zs"]
    assert r["sim_aou"].shape == (2,) and np.all(np.abs(r["sim_am"] - r["zsl_sim_am"]) < 1e-9)
    lr, acc = C.choose_lr(p, X, y, 2, grid=(1e-12, 0.3, 3.0))
    assert len(acc) == 3 and acc[(1e-12, 0.3, 3.0).index(lr)] == max(acc)


def test_pretraining_learns_in_context_and_the_record():
    """A short pretraining lowers the held-out loss on both objectives; the quick record
    renders its report from the record alone, and the figures draw."""
    p, curve = PT.pretrain(0, "icl", steps=40, every=20, n_eval=64, settings=dict(N=4))
    assert curve["steps"].tolist() == [0, 20, 40] and curve["loss"][-1] < curve["loss"][0]
    p, curve = PT.pretrain(0, "lm", steps=40, every=40, n_eval=64, settings=dict(T_lm=8), eta=0.5)
    assert curve["loss"][-1] < curve["loss"][0]
    with pytest.raises(ValueError, match="unknown settings"):
        PT.pretrain(0, steps=1, settings=dict(width=3))
    rec = R.round_trip(E.reproduce(quick=True))
    text = E.format_report(rec)
    assert "Rec2FTP" in text and "eta=0.5" in text
    c = rec["results"]["comparison"]["pretrained, FT of W_K, W_V"][0]
    assert 0 <= c["acc_zs"] <= 1 and len(c["sim_aou"]) == 2 and c["lr"] in rec["settings"]["lr_grid"]
