"""Reddy 2024: the full network — hand-written gradients, the target-only second layer,
positions (its training runs: tests/induction/test_training.py)."""
import numpy as np
import pytest
from hypothesis import assume, given, settings

from tests.helpers import rng_from, seeds
from theory.induction import network as inet
from theory.core.gradcheck import check_gradients, rel_error
from theory.induction.data import item_label_classes, item_label_sequences


# --------------------------------------------------------------------------- the network


def _small_batch(seed, B=1):
    classes = item_label_classes(seed, 8, 4, 3)
    b = item_label_sequences(seed, classes, 5, 2, B=B, eps=0.1)
    return inet.embed(b.content, rng_from(seed), n_positions=6), b       # width 6 + 3


@settings(max_examples=5)                  # ~800 finite-difference entries per example
@given(seeds)
def test_network_gradients(seed):
    X, b = _small_batch(seed)
    p = inet.init_network(rng_from(seed), X.shape[2], 4)
    # ReLU has a kink at 0: finite differences across it are meaningless, so every
    # pre-activation must be farther from 0 than the step (b_l shifts all of them)
    _, cache = inet.network_forward(X, p)
    assume(min(np.abs(pre).min() for _, pre in cache.classifier.mlp) > 1e-3)
    loss, grads = inet.network_loss(p, X, b.target)
    assert np.isfinite(loss) and set(grads) == set(p)
    check_gradients(lambda q: inet.network_loss(q, X, b.target)[0], p, grads)


def test_network_layer2_equals_full_attention():
    """The target-only layer 2 (scores in residual space) equals ordinary attention."""
    from theory.core import nn
    X, b = _small_batch(3)
    p = inet.init_network(rng_from(3), X.shape[2], 4)
    logits, cache = inet.network_forward(X, p)
    h1 = cache.h1
    full, _ = nn.self_attention_forward(h1, {"W_Q": p["W_Q2"], "W_K": p["W_K2"], "W_V": p["W_V2"]},
                                        kind="softmax", mask=nn.attention_mask(h1.shape[1], causal=True))
    u = h1[:, -1] + full[:, -1]
    for i in (1, 2, 3):
        u = np.maximum(u @ p[f"W{i}"].T + p[f"b{i}"], 0)
    assert rel_error(logits, u @ p["R"].T) < 1e-12


def test_embed_positions():
    X = inet.embed(np.ones((3, 5, 2)), rng_from(0), n_positions=9)
    assert X.shape == (3, 5, 11)
    pos = X[:, :, :9].argmax(-1)
    assert (np.diff(pos, axis=1) == 1).all() and (X[:, :, :9].sum(-1) == 1).all()
    with pytest.raises(ValueError, match="n_positions must be >= sequence length 5"):
        inet.embed(np.ones((3, 5, 2)), rng_from(0), n_positions=4)




def test_context_label_accuracy_counts_any_label_of_the_context():
    """CLA: a prediction counts when it is one of the context's labels, right or wrong;
    an argmax outside the context does not."""
    from theory.induction.data import ItemLabelBatch
    ctx = np.array([[0, 1], [2, 3], [4, 5]])
    b = ItemLabelBatch(np.zeros((3, 5, 2)), np.array([0, 3, 4]), ctx, np.array([[1, 0], [0, 1], [1, 0]], bool))
    logits = np.zeros((3, 6))
    logits[0, 1] = logits[1, 3] = logits[2, 0] = 1.0          # a wrong context label, the right one, outside
    assert inet.context_label_accuracy(logits, b) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="logits"):
        inet.context_label_accuracy(logits[:, :4], b)           # label 5 has no logit


def test_the_author_initialisation():
    """init="author": Q, K, V of variance 1/D (the content width), three independent scalar
    biases of variance 1/d; the package's: variance 1/d and zero biases."""
    d, D = 128, 63
    ours = inet.init_network(0, d, 32)
    theirs = inet.init_network(0, d, 32, init="author", content_dim=D)
    for k in inet.NET_ATTN:
        assert abs(ours[k].var() * d - 1) < 0.02 and abs(theirs[k].var() * D - 1) < 0.02
    assert all(ours[f"b{i}"][0] == 0 for i in (1, 2, 3))
    b = [theirs[f"b{i}"][0] for i in (1, 2, 3)]
    assert len(set(b)) == 3 and all(b)                       # drawn one by one: b3 is not b2
    biases = np.array([[inet.init_network(s, d, 4, init="author", content_dim=D)[f"b{i}"][0] for i in (1, 2, 3)]
                       for s in range(300)])
    assert abs(biases.var() * d - 1) < 0.15
    with pytest.raises(ValueError, match="content_dim must be given"):
        inet.init_network(0, d, 32, init="author")


def test_classifier_activity():
    u3 = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    a = inet.classifier_activity(u3)
    assert a == dict(relu_active=3 / 12, relu_dead=1 / 3, relu_silent=2 / 4)
    with pytest.raises(ValueError, match="u3 must hold ReLU outputs"):
        inet.classifier_activity(-u3 - 1)
