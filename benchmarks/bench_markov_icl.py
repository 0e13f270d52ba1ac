"""Median wall time of one AdamW training step of Edelman et al.'s two-layer attention-only
transformer (the markov-icl reproduction's kernel: forward, hand-written backward, two AdamW
groups), float64, sampling excluded; default k = 2, T = 100, width 16, one head, batch 64.

    python benchmarks/bench_markov_icl.py
    python benchmarks/bench_markov_icl.py --torch     # side by side with PyTorch autograd

By default the numpy step splits its batch over one thread per usable CPU with BLAS on one
thread (``MarkovConfig.threads``, as ``train_markov`` runs it; ``--threads 1`` for one), and
torch runs on as many threads.

The torch side builds the same model from the same initial weights (pre-LayerNorm,
relative-position logits, causal softmax, final LayerNorm, unembedding; no dropout), checks
that its first loss equals ours, and steps ``torch.optim.AdamW`` with the same two groups.
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import add_options, median_time, print_bound, setup  # benchmarks/_timing.py
from theory.core._workers import usable_cpus
from theory.core.optim import Adam
from theory.core.parallel import batch_parallel, batch_threads
from theory.markov_icl.data import markov_sequences
from theory.markov_icl.training import DECAYED
from theory.markov_icl.transformer import init_transformer, transformer_loss

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "2", "--T", "5", "--d", "4", "--heads", "2", "--steps", "2", "--warmup", "1", "--bound"]
TABLE = [[]]


def _data(args, k=4):
    rng = np.random.default_rng(0)
    return [markov_sequences(rng, args.batch, args.T + 1, args.k)[0] for _ in range(k)]


def bench_numpy(args, data, pool):
    state = {"p": init_transformer(1, args.k, args.T, args.d, args.heads)}
    dec = [n for n in state["p"] if n.split(".")[-1] in DECAYED]
    o1, o2 = Adam(5e-4, 0.9, 0.95, weight_decay=0.1), Adam(5e-4, 0.9, 0.95)

    def step(i):
        p = state["p"]
        _, g = batch_parallel(lambda x: transformer_loss(p, x, args.heads), (data[i % len(data)],), pool, args.threads)
        state["p"] = {**o1.step({n: p[n] for n in dec}, {n: g[n] for n in dec}),
                      **o2.step({n: p[n] for n in p if n not in dec}, {n: g[n] for n in p if n not in dec})}
    return median_time(step, args.steps, args.warmup, "numpy")


def step_operations(B, T, d, heads):
    """The array operations of one numpy step on one thread, as ``theory.markov_icl.transformer``'s
    kernels run them, by layer (layer 1 with ``heads`` heads, layer 2 with one): ``(what,
    kind, dims)`` for :func:`_timing.print_bound` (the LayerNorms, the unembedding and the
    loss over k = 2 tokens are left out: they are small)."""
    ops, n_tok = [], B * T
    for H in (heads, 1):
        hs, n = d // H, B * H * T * T                        # n: entries of one (B, H, T, T) array
        ops += [("Q, K, V = U W", "large", (1, n_tok, d, d))] * 3
        ops += [("S = Q Kᵀ", "batched", (B * H, T, hs, T)), ("P = Q Rᵀ (offsets)", "batched", (B * H, T, hs, T)),
                ("S += skewed P", "stream", (n, 3)), ("mask j > t", "stream", (n // 2, 2)),
                ("S *= 1/√h", "stream", (n, 2)), ("row max", "rowsum", (B * H * T, T)),
                ("S -= max", "stream", (n, 2)), ("exp", "exp", (n,)), ("row sum", "rowsum", (B * H * T, T)),
                ("A /= sum", "stream", (n, 2)), ("A V", "batched", (B * H, T, T, hs)),
                ("heads → rows", "stream", (n_tok * d, 2)), ("Y W_O", "large", (1, n_tok, d, d)),
                ("X + Y W_O", "stream", (n_tok * d, 3))]
        ops += [("dW_O", "large", (1, d, n_tok, d)), ("dY", "large", (1, n_tok, d, d)),
                ("dV = Aᵀ dY", "batched", (B * H, T, T, hs)), ("zero the pad", "stream", (B * H * T * (T - 1), 1 + 1)),
                ("dA = dY Vᵀ", "batched", (B * H, T, hs, T)), ("Σ_j A dA", "stream", (n, 3)),
                ("dS -= Σ", "stream", (n, 2)), ("dS *= A", "stream", (n, 3)), ("dS *= 1/√h", "stream", (n, 2)),
                ("dQ = dS K", "batched", (B * H, T, T, hs)), ("dK = dSᵀ Q", "batched", (B * H, T, T, hs)),
                ("dQ += dP R", "batched", (B * H, T, T, hs)), ("dR = dPᵀ Q", "batched", (B * H, T, T, hs))]
        ops += [("heads → rows", "stream", (n_tok * d, 2))] * 3 + [("dW_Q, dW_K, dW_V", "large", (1, d, n_tok, d))] * 3
        ops += [("dU", "large", (1, n_tok, d, d))] * 3 + [("dU sums", "stream", (n_tok * d, 3))] * 2
    return ops


def bench_torch(args, data):
    import torch
    torch.set_default_dtype(torch.float64)
    init = init_transformer(1, args.k, args.T, args.d, args.heads)
    P = {n: torch.tensor(v, requires_grad=True) for n, v in init.items()}
    dec = [P[n] for n in P if n.split(".")[-1] in DECAYED]
    rest = [P[n] for n in P if n.split(".")[-1] not in DECAYED]
    opt = torch.optim.AdamW([{"params": dec, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=5e-4, betas=(0.9, 0.95))
    tdata = [torch.tensor(x) for x in data]
    T, d = args.T, args.d
    off = torch.arange(T)[:, None] - torch.arange(T)[None, :]
    causal = off >= 0

    def layer(X, l, H):
        B = X.shape[0]
        hs = d // H
        U = torch.nn.functional.layer_norm(X, (d,), P[f"l{l}.ln_g"], P[f"l{l}.ln_b"], eps=1e-5)
        split = lambda M: M.view(B, T, H, hs).transpose(1, 2)
        Q, K, V = split(U @ P[f"l{l}.Wq"]), split(U @ P[f"l{l}.Wk"]), split(U @ P[f"l{l}.Wv"])
        R = P[f"l{l}.wpe"][off.clamp(min=0)].view(T, T, H, hs)            # r_{t−j} for every (t, j)
        S = (Q @ K.transpose(-2, -1) + torch.einsum("tjhe,bhte->bhtj", R, Q)) / hs ** 0.5
        A = torch.softmax(S.masked_fill(~causal, float("-inf")), -1)
        return X + (A @ V).transpose(1, 2).reshape(B, T, d) @ P[f"l{l}.Wo"]

    def loss_of(x):
        X = P["wte"][x[:, :-1]]
        X = layer(layer(X, 1, args.heads), 2, 1)
        Z = torch.nn.functional.layer_norm(X, (d,), P["lnf_g"], P["lnf_b"], eps=1e-5)
        return torch.nn.functional.cross_entropy((Z @ P["W_U"]).reshape(-1, args.k), x[:, 1:].reshape(-1))

    ours = transformer_loss(init, data[0], args.heads)[0]
    theirs = float(loss_of(tdata[0]).detach())

    def step(i):
        opt.zero_grad()
        loss_of(tdata[i % len(tdata)]).backward()
        opt.step()
    return median_time(step, args.steps, args.warmup), torch.__version__, torch.get_num_threads(), abs(ours - theirs)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--k", type=int, default=2)
    p.add_argument("--d", type=int, default=16)
    p.add_argument("--heads", type=int, default=1)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None,
                   help="numpy: split the batch over this many threads, BLAS on one thread (MarkovConfig.threads; "
                        "default: one per usable CPU, as torch gets)")
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    p.add_argument("--bound", action="store_true",
                   help="time the step's array operations alone (one thread): FLOPs, bytes and what bounds it")
    add_options(p)
    args = p.parse_args(argv)
    args.threads = usable_cpus() if args.threads is None else args.threads
    tuned = setup(args)
    data = _data(args)
    with batch_threads(args.threads) as pool:                # as MarkovConfig.threads trains
        t_np = bench_numpy(args, data, pool)
    print(f"batch={args.batch} T={args.T} k={args.k} d={args.d} heads={args.heads} float64 (allocator tuned: {tuned}; "
          f"numpy threads {args.threads})")
    print(f"numpy (hand-written backward): {1e3 * t_np:8.3f} ms/step (median of {args.steps})")
    if args.bound:
        print_bound(step_operations(args.batch, args.T, args.d, args.heads), t_np * args.threads,
                    f"LayerNorms, loss, AdamW and Python are the rest; the step's time is multiplied by its "
                    f"{args.threads} thread(s) to compare with operations timed on one")
    if args.torch:
        t_th, version, threads, diff = bench_torch(args, data)
        print(f"torch {version} autograd ({threads} threads): {1e3 * t_th:8.3f} ms/step  -> numpy is "
              f"{t_th / t_np:.2f}x faster (first losses differ by {diff:.1e})")


if __name__ == "__main__":
    main()
