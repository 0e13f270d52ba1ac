"""Reddy 2024's data: bursty item-label sequences, novel and swapped sets, Zipf."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import seeds
from theory.induction.data import item_label_classes, item_label_sequences, zipf_probabilities


@given(seeds, st.sampled_from([1, 2, 4, 8]), st.floats(0.0, 1.0))
def test_bursty_sequences(seed, B, eps):
    classes = item_label_classes(seed, 64, 16, 7)
    b = item_label_sequences(seed, classes, 50, 8, B=B, eps=eps, p_bursty=1.0)
    assert b.content.shape == (50, 17, 7) and b.target.shape == (50,)
    assert b.query_in_context.all()                        # bursty: the query's class is shown
    for labels, match, target in zip(b.context_labels, b.context_match, b.target):
        values, counts = np.unique(labels, return_counts=True)
        assert len(values) == 8 // B and (counts == B).all()   # N/B distinct labels, B copies each
        assert (labels[match] == target).all() and match.sum() == B
    # label tokens are the bare label vectors
    assert np.array_equal(b.content[:, 1:16:2], classes.labels[b.context_labels])


def test_items_are_noisy_class_means():
    classes = item_label_classes(0, 32, 8, 50)
    b = item_label_sequences(1, classes, 400, 4, B=0, eps=0.0)
    # with ε = 0 the items are exactly class means, whose label is the class mod L
    first = b.content[:, 0]
    k = np.argmin(((first[:, None] - classes.means[None]) ** 2).sum(-1), axis=1)
    assert np.allclose(first, classes.means[k]) and np.array_equal(k % 8, b.context_labels[:, 0])
    noisy = item_label_sequences(1, classes, 400, 4, B=0, eps=1.0)
    assert abs(np.mean(np.sum(noisy.content[:, 0] ** 2, -1)) - 1.0) < 0.05   # (μ + εη)/√(1+ε²)


def test_novel_swapped_and_iid_sets():
    classes = item_label_classes(0, 64, 16, 7)
    novel = item_label_sequences(2, classes, 200, 8, B=2, eps=0.1, p_novel=1.0)
    assert novel.query_in_context.all()
    d = np.min(np.linalg.norm(novel.content[:, 0][:, None] - classes.means[None], axis=-1), axis=1)
    assert d.min() > 0.2                                    # fresh means, not trained ones
    plain = item_label_sequences(3, classes, 200, 8, B=2, eps=0.1)
    swapped = item_label_sequences(3, classes, 200, 8, B=2, eps=0.1, shift_labels=True)
    assert np.array_equal(swapped.context_labels, (plain.context_labels + 1) % 16)
    assert np.array_equal(swapped.target, (plain.target + 1) % 16)
    iid = item_label_sequences(4, classes, 2000, 8, B=0, eps=0.1)
    assert 0.05 < iid.query_in_context.mean() < 0.2        # 1 - (63/64)^8 ≈ 0.12


def test_zipf():
    p = zipf_probabilities(4, 1.0)
    assert np.allclose(p, np.array([1, 1 / 2, 1 / 3, 1 / 4]) / (25 / 12))
    classes = item_label_classes(0, 64, 16, 5)
    b = item_label_sequences(5, classes, 4000, 8, B=0, eps=0.1, alpha=1.0)
    assert np.mean(b.context_labels == 0) > 0.15            # class 0 (label 0) dominates


def test_item_label_bad_input():
    with pytest.raises(ValueError, match="L \\(labels\\) must be <= K"):
        item_label_classes(0, 8, 16, 5)
    with pytest.raises(ValueError, match="K must be divisible by L"):
        item_label_classes(0, 30, 8, 5)
    with pytest.raises(ValueError, match="D must be a positive integer"):
        item_label_classes(0, 32, 8, 0)
    c = item_label_classes(0, 32, 8, 5)
    with pytest.raises(ValueError, match="B must be 0 or a positive integer dividing N = 8"):
        item_label_sequences(0, c, 4, 8, B=3, eps=0.1)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        item_label_sequences(0, c, 4, 8, B=2, eps=-0.1)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        item_label_sequences(0, c, 4, 8, B=2, eps=0.1, alpha=-1.0)
    for name in ("p_bursty", "p_novel"):
        with pytest.raises(ValueError, match=f"{name} must lie in \\[0, 1\\]"):
            item_label_sequences(0, c, 4, 8, B=2, eps=0.1, **{name: 1.5})
    with pytest.raises(ValueError, match="n_seq must be a positive integer"):
        item_label_sequences(0, c, 0, 8, B=2, eps=0.1)
    with pytest.raises(ValueError, match="N/B = 8 distinct labels but L = 4"):
        item_label_sequences(0, item_label_classes(0, 8, 4, 5), 4, 8, B=1, eps=0.1)


# --------------------------------------------------------------------------- the author's sampler
def test_the_author_sampler_shares_128_novel_classes_per_call():
    """Reddy's code draws K_c = 128 novel class means once per call: every novel sequence
    of a batch (or a test set) uses them; ours draws fresh ones per sequence."""
    from theory.induction.data import NOVEL_CLASSES
    classes = item_label_classes(0, 64, 16, 7)
    author = item_label_sequences(1, classes, 2000, 8, B=1, eps=0.0, p_novel=1.0, sampler="author")
    fresh = item_label_sequences(1, classes, 2000, 8, B=1, eps=0.0, p_novel=1.0, sampler="fresh")
    n_author = len(np.unique(np.round(author.content[:, 0:-1:2].reshape(-1, 7), 12), axis=0))
    n_fresh = len(np.unique(np.round(fresh.content[:, 0:-1:2].reshape(-1, 7), 12), axis=0))
    assert n_author == NOVEL_CLASSES and n_fresh == 2000 * 8
    assert author.query_in_context.all() and (author.target == author.context_labels[author.context_match]
                                               .reshape(2000, -1)[:, 0]).all()
    for labels in author.context_labels:                    # B = 1: N distinct labels, the novel class j has j mod L
        assert len(set(labels)) == 8
    # a second call draws another 128
    again = item_label_sequences(2, classes, 2000, 8, B=1, eps=0.0, p_novel=1.0, sampler="author")
    both = np.concatenate([author.content[:, 0:-1:2].reshape(-1, 7), again.content[:, 0:-1:2].reshape(-1, 7)])
    assert len(np.unique(np.round(both, 12), axis=0)) == 2 * NOVEL_CLASSES


def test_the_author_sampler_applies_p_novel_to_every_sequence():
    """At p_bursty = 0.5, p_novel = 0.8: 80 % of all sequences are novel in the author's
    code (a novel sequence is bursty), 0.5 × 0.8 = 40 % in ours."""
    classes = item_label_classes(0, 64, 16, 7)
    author = item_label_sequences(3, classes, 4000, 8, B=2, eps=0.0, p_bursty=0.5, p_novel=0.8, sampler="author")
    fresh = item_label_sequences(3, classes, 4000, 8, B=2, eps=0.0, p_bursty=0.5, p_novel=0.8, sampler="fresh")
    # ε = 0: a query item is its class mean; a novel query's mean is not among the trained means
    trained = lambda b: np.isclose(b.content[:, -1][:, None, :], classes.means[None]).all(axis=2).any(axis=1)
    assert abs((~trained(author)).mean() - 0.8) < 0.03 and abs((~trained(fresh)).mean() - 0.4) < 0.03


def test_the_author_sampler_bursty_contexts_and_b_zero():
    """Trained bursty contexts: uniform distinct labels whatever the Zipf law (the author's
    ``no_repeats``); with B = 0 the novel sequences are bursty with B = N/2."""
    classes = item_label_classes(0, 64, 16, 7)
    b = item_label_sequences(4, classes, 3000, 8, B=4, eps=0.1, alpha=2.0, sampler="author")
    assert b.query_in_context.all()
    for labels in b.context_labels[:200]:
        values, counts = np.unique(labels, return_counts=True)
        assert len(values) == 2 and (counts == 4).all()
    assert np.mean(b.context_labels == 0) < 0.12            # uniform labels (Zipf would give label 0 ≈ 0.5)
    b0 = item_label_sequences(5, classes, 500, 8, B=0, eps=0.1, p_novel=1.0, sampler="author")
    for labels in b0.context_labels:
        assert sorted(np.unique(labels, return_counts=True)[1]) == [4, 4]
    with pytest.raises(ValueError, match="sampler must be one of"):
        item_label_sequences(0, classes, 4, 8, B=2, eps=0.1, sampler="theirs")
    with pytest.raises(ValueError, match="N = 5 must then be even"):
        item_label_sequences(0, classes, 4, 5, B=0, eps=0.1, p_novel=1.0, sampler="author")
    with pytest.raises(ValueError, match="L must divide 128"):
        item_label_sequences(0, item_label_classes(0, 48, 48, 5), 4, 8, B=2, eps=0.1, p_novel=1.0, sampler="author")
