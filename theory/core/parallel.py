"""A loss and its gradients over a batch, computed on slices of the batch in threads.

numpy runs one array operation on one core (its BLAS may use more, but a training step of
small batched products or elementwise passes over attention scores gets little from it);
numpy releases the GIL inside those operations, so the slices of a batch can run on the
threads of a pool at once.  The loss of a batch is a mean over its examples, so the whole
batch's loss and gradients are the slices' averaged with the slices' sizes as weights:
the same numbers as one call, up to round-off.  Run it with numpy's BLAS on one thread
(:func:`theory.core._workers.blas_threads`): two threads each calling a two-thread BLAS
run slower than one.
"""
from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._validate import positive_int
from ._workers import blas_threads

__all__ = ["batch_parallel", "batch_threads"]


def batch_threads(threads: int):
    """A context for :func:`batch_parallel`'s pool: ``with batch_threads(k) as pool`` gives
    ``k`` threads with numpy's BLAS held to one thread meanwhile, or None (nothing changed)
    when ``k`` is 1.  A bad ``k`` is refused here, before the block."""
    return _batch_threads(positive_int("threads", threads))


@contextlib.contextmanager
def _batch_threads(threads: int):
    if threads == 1:
        yield None
        return
    with ThreadPoolExecutor(threads) as pool, blas_threads(1):
        yield pool


def _weighted_sum(trees: list, weights: list):
    """Σ_i w_i tree_i for trees of the same structure (dicts, lists, tuples, arrays, floats)."""
    first = trees[0]
    if isinstance(first, dict):
        return {k: _weighted_sum([t[k] for t in trees], weights) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_weighted_sum([t[i] for t in trees], weights) for i in range(len(first)))
    return sum(w * t for w, t in zip(weights, trees))


def batch_parallel(loss_and_grads, batch_arrays: tuple, pool, chunks: int):
    """``loss_and_grads(*arrays)`` → ``(loss, grads)`` on ``chunks`` slices of the leading
    (batch) axis of every array in ``batch_arrays``, run on the threads of ``pool``, and
    averaged with the slices' sizes as weights; a plain call when ``pool`` is None.
    ``grads`` may be any nesting of dicts, lists and tuples of arrays."""
    if not callable(loss_and_grads):
        raise ValueError(f"loss_and_grads must be a function; got {type(loss_and_grads).__name__}")
    if (not isinstance(batch_arrays, tuple) or not batch_arrays
            or not all(isinstance(x, np.ndarray) and x.ndim >= 1 for x in batch_arrays)
            or len({x.shape[0] for x in batch_arrays}) != 1):
        raise ValueError("batch_arrays must be a non-empty tuple of arrays with the same leading (batch) axis; got "
                         + (str([getattr(x, "shape", type(x).__name__) for x in batch_arrays])
                            if isinstance(batch_arrays, tuple) else type(batch_arrays).__name__))
    if pool is not None and not callable(getattr(pool, "map", None)):
        raise ValueError(f"pool must be None or an executor (with a map method); got {type(pool).__name__}")
    chunks = positive_int("chunks", chunks)
    if pool is None:
        return loss_and_grads(*batch_arrays)
    B = batch_arrays[0].shape[0]
    cuts = np.linspace(0, B, chunks + 1).astype(int)
    parts = [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b > a]
    results = list(pool.map(lambda ab: loss_and_grads(*(x[ab[0]:ab[1]] for x in batch_arrays)), parts))
    weights = [(b - a) / B for a, b in parts]
    return _weighted_sum([r[0] for r in results], weights), _weighted_sum([r[1] for r in results], weights)
