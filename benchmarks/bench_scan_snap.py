"""Median wall time of one SGD step of Tian et al.'s finite-T one-layer model (attention
logits Z[x_T, x_t], softmax over the T − 1 contextual positions, the token histogram,
ℓ2 normalisation, decoder Y, cross-entropy): forward, hand-written backward, the two
momentum updates; float64; sampling excluded.  Default: the scan figure's task (2
classes, 10 common + 10 distinct tokens a class, M = 34), T = 128, batch 128.

    python benchmarks/bench_scan_snap.py
    python benchmarks/bench_scan_snap.py --torch      # side by side with PyTorch autograd
    python benchmarks/bench_scan_snap.py --text --torch   # the real-text language model's step

``--text``: one SGD step of the real-text word-level LM (``theory.scan_snap.text_model``: width
64, FFN 64, one head, 2,000 types, batch 20 × 35 tokens, dropout 0.2, float32 as the
reproduction trains it): forward, hand-written backward, the clipped two-rate SGD update.
The torch side is the authors' model built from torch's own modules (``nn.Embedding``,
``nn.TransformerEncoderLayer`` post-LN with a causal mask, ``nn.Linear``; dropout 0.2, train
mode), ``clip_grad_norm_`` and ``torch.optim.SGD`` with the same two groups.

The torch side computes the same function the efficient way for autograd: the logits
gathered from Z with the token indices, softmax, the histogram as a scatter-add of the
weights into (B, M) (no one-hot tensors), ``torch.nn.functional.normalize``, a linear
decoder and ``cross_entropy``; two ``torch.optim.SGD`` with momentum 0.9.
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import add_options, median_time, setup  # benchmarks/_timing.py
from theory.core.optim import Momentum
from theory.scan_snap import model as ss
from theory.scan_snap.data import scan_snap_sequences, scan_snap_task

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "4", "--T", "5", "--steps", "2", "--warmup", "1", "--common", "2", "--distinct", "2"]
TABLE = [[], ["--text"]]


def _batches(args, task, n=8):
    rng = np.random.default_rng(0)
    return [scan_snap_sequences(rng, task, args.batch, args.T) for _ in range(n)]


def bench_numpy(args, task, data):
    state = {"p": ss.init_params(1, task.M)}
    opt_Y, opt_Z = Momentum(1.0, 0.9), Momentum(1.0, 0.9)

    def step(i):
        b, p = data[i % len(data)], state["p"]
        _, g = ss._finite_loss(p["Y"], p["Z"], b.tokens, b.labels, False)   # the kernel train_sgd runs
        state["p"] = {"Y": opt_Y.step({"Y": p["Y"]}, {"Y": g["Y"]})["Y"], "Z": opt_Z.step({"Z": p["Z"]}, {"Z": g["Z"]})["Z"]}
    return median_time(step, args.steps, args.warmup, "numpy")


def bench_torch(args, task, data):
    import torch                                            # optional, for comparison only
    p0 = ss.init_params(1, task.M)
    Y, Z = (torch.nn.Parameter(torch.from_numpy(p0[k].copy())) for k in ("Y", "Z"))
    opt_Y, opt_Z = torch.optim.SGD([Y], lr=1.0, momentum=0.9), torch.optim.SGD([Z], lr=1.0, momentum=0.9)
    tdata = [(torch.from_numpy(b.tokens), torch.from_numpy(b.labels)) for b in data]
    M = task.M

    def step(i):
        tokens, labels = tdata[i % len(tdata)]
        q, X = tokens[:, -1], tokens[:, :-1]
        opt_Y.zero_grad(set_to_none=True)
        opt_Z.zero_grad(set_to_none=True)
        b = torch.softmax(Z[q[:, None], X], dim=1)                     # (B, T−1)
        h = torch.zeros(tokens.shape[0], M, dtype=torch.float64).scatter_add(1, X, b)
        logits = torch.nn.functional.normalize(h, dim=1) @ Y.T
        torch.nn.functional.cross_entropy(logits, labels).backward()
        opt_Y.step()
        opt_Z.step()
    return median_time(step, args.steps, args.warmup), torch.__version__, torch.get_num_threads()


def bench_text_numpy(args, data):
    from theory.scan_snap import text as X, text_model as tm
    p = {k: v.astype(np.float32) for k, v in tm.init_lm(1, args.vocab, args.d, args.d, args.layers).items()}
    sizes, rng = (args.vocab, args.d, args.d, args.layers), np.random.default_rng(2)

    def step(i):
        x, y = data[i % len(data)]
        _, g, _ = tm._loss_and_grads(p, x, y, sizes, 0.2, rng)      # the kernel train_text runs
        X._sgd_step(p, g, 5.0, 1.0, 0.5)
    return median_time(step, args.steps, args.warmup, "numpy")


def bench_text_torch(args, data):
    import torch                                            # optional, for comparison only
    torch.manual_seed(0)
    emb, dec = torch.nn.Embedding(args.vocab, args.d), torch.nn.Linear(args.d, args.vocab)
    layers = torch.nn.ModuleList(torch.nn.TransformerEncoderLayer(args.d, 1, args.d, 0.2, batch_first=True)
                                 for _ in range(args.layers))
    drop = torch.nn.Dropout(0.2)
    T = data[0][0].shape[1]
    pe = torch.from_numpy(__import__("theory").core.nn.sinusoidal_positions(T, args.d)).float()
    mask = torch.nn.Transformer.generate_square_subsequent_mask(T)
    fast = list(layers[0].linear1.parameters())
    rest = [q for m in (emb, dec, layers) for q in m.parameters() if all(q is not f for f in fast)]
    opt = torch.optim.SGD([{"params": fast, "lr": 5.0}, {"params": rest, "lr": 5.0}])
    every = fast + rest
    tdata = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]

    def step(i):
        x, y = tdata[i % len(tdata)]
        opt.zero_grad(set_to_none=True)
        h = drop(emb(x) * args.d ** 0.5 + pe)
        for layer in layers:
            h = layer(h, src_mask=mask, is_causal=True)
        torch.nn.functional.cross_entropy(dec(h).reshape(-1, args.vocab), y.reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(every, 0.5)
        opt.step()
    return median_time(step, args.steps, args.warmup), torch.__version__, torch.get_num_threads()


def main_text(args):
    rng = np.random.default_rng(0)
    data = [(rng.integers(0, args.vocab, (args.batch, args.T)), rng.integers(0, args.vocab, (args.batch, args.T)))
            for _ in range(8)]
    t_np = bench_text_numpy(args, data)
    print(f"real-text LM: {args.layers} layer(s), width {args.d}, vocab {args.vocab}, batch {args.batch} × "
          f"{args.T} tokens, dropout 0.2, float32")
    print(f"numpy (hand-written backward): {1e3 * t_np:8.3f} ms/step (median of {args.steps})")
    if args.torch:
        t_th, version, threads = bench_text_torch(args, data)
        print(f"torch {version} autograd ({threads} threads): {1e3 * t_th:8.3f} ms/step  "
              f"-> numpy is {t_th / t_np:.2f}x faster")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--T", type=int, default=128)
    p.add_argument("--queries", type=int, default=2)
    p.add_argument("--classes-per-query", type=int, default=1)
    p.add_argument("--common", type=int, default=10)
    p.add_argument("--distinct", type=int, default=10)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    p.add_argument("--text", action="store_true",
                   help="the real-text language model's step instead (batch 20, T 35 unless given)")
    p.add_argument("--d", type=int, default=64, help="with --text: the width (and FFN width)")
    p.add_argument("--vocab", type=int, default=2000, help="with --text: the vocabulary")
    p.add_argument("--layers", type=int, default=1, help="with --text: the layers")
    add_options(p)
    args = p.parse_args(argv)
    tuned = setup(args)
    if args.text:
        given = set(argv if argv is not None else __import__("sys").argv[1:])
        args.batch = args.batch if "--batch" in given else 20
        args.T = args.T if "--T" in given else 35
        return main_text(args)
    task = scan_snap_task(args.queries, args.classes_per_query, args.common, args.distinct)
    data = _batches(args, task)
    t_np = bench_numpy(args, task, data)
    print(f"batch={args.batch} T={args.T} M={task.M} K={task.K} float64 (allocator tuned: {tuned})")
    print(f"numpy (hand-written backward): {1e3 * t_np:8.3f} ms/step (median of {args.steps})")
    if args.torch:
        t_th, version, threads = bench_torch(args, task, data)
        print(f"torch {version} autograd ({threads} threads): {1e3 * t_th:8.3f} ms/step  "
              f"-> numpy is {t_th / t_np:.2f}x faster")


if __name__ == "__main__":
    main()
