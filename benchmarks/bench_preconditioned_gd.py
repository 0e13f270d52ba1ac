"""Median wall time of one training step of Ahn et al.'s sparse linear transformer (the
preconditioned-GD reproduction's kernel: L layers forward, hand-written backward, Adam
update), float64, sampling excluded; default d = 5, n = 20, L = 3, batch 1,000.

    python benchmarks/bench_preconditioned_gd.py
    python benchmarks/bench_preconditioned_gd.py --torch     # side by side with PyTorch autograd

The torch side computes the same layer, ``Z + (1/n) P (Z M Zᵀ)(Q Z)`` (associated as the numpy layer is,
so that no (n+1) × (n+1) score matrix is formed) with the sparse P, Q
built from the trained blocks (A, B), by autograd, and steps ``torch.optim.Adam``.
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import add_options, median_time, setup  # benchmarks/_timing.py
from theory.core.optim import Adam
from theory.preconditioned_gd.data import regression_prompts, rotated_covariance
from theory.preconditioned_gd.model import _sparse_loss, prompt

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "4", "--steps", "2", "--warmup", "1", "--d", "2", "--n", "3", "--layers", "2"]
TABLE = [[]]


def _batches(args, k=4):
    rng = np.random.default_rng(0)
    cov = rotated_covariance(1, np.linspace(1.0, 0.3, args.d))
    out = []
    for _ in range(k):
        P = regression_prompts(rng, args.batch, args.n, args.d, cov=cov, task="inverse")
        out.append((prompt(P.X, P.y, P.x_q), P.y_q))
    return out


def bench_numpy(args, data):
    rng = np.random.default_rng(2)
    state = {"p": {"A": 1e-3 * rng.standard_normal((args.layers, args.d, args.d)),
                   "B": 1e-3 * rng.standard_normal((args.layers, args.d, args.d))}}
    opt = Adam(1e-2)

    def step(i):
        Z, y = data[i % len(data)]
        _, g = _sparse_loss(state["p"], Z, y)                    # the kernel train runs
        state["p"] = opt.step(state["p"], g)
    return median_time(step, args.steps, args.warmup, "numpy")


def bench_torch(args, data):
    import torch
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(2)
    A = torch.tensor(1e-3 * rng.standard_normal((args.layers, args.d, args.d)), requires_grad=True)
    B = torch.tensor(1e-3 * rng.standard_normal((args.layers, args.d, args.d)), requires_grad=True)
    opt = torch.optim.Adam([A, B], lr=1e-2)
    tdata = [(torch.tensor(Z), torch.tensor(y)) for Z, y in data]
    d, n = args.d, args.n

    def step(i):
        Z, y = tdata[i % len(tdata)]
        opt.zero_grad()
        for l in range(args.layers):
            P = torch.zeros(d + 1, d + 1)
            Q = torch.zeros(d + 1, d + 1)
            P = P.index_put((torch.arange(d)[:, None], torch.arange(d)), B[l])
            P = P + torch.diag(torch.cat([torch.zeros(d), torch.ones(1)]))
            Q = Q.index_put((torch.arange(d)[:, None], torch.arange(d)), A[l])
            Zc = Z[:, :, :n]                                # the same association as the numpy layer
            Z = Z + (P / n) @ ((Zc @ Zc.transpose(1, 2)) @ (Q @ Z))
        loss = ((-Z[:, d, n] - y) ** 2).mean()
        loss.backward()
        opt.step()
    return median_time(step, args.steps, args.warmup), torch.__version__, torch.get_num_threads()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--d", type=int, default=5)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    add_options(p)
    args = p.parse_args(argv)
    tuned = setup(args)
    data = _batches(args)
    t_np = bench_numpy(args, data)
    print(f"batch={args.batch} d={args.d} n={args.n} layers={args.layers} float64 (allocator tuned: {tuned})")
    print(f"numpy (hand-written backward): {1e3 * t_np:8.3f} ms/step (median of {args.steps})")
    if args.torch:
        t_th, version, threads = bench_torch(args, data)
        print(f"torch {version} autograd ({threads} threads): {1e3 * t_th:8.3f} ms/step  "
              f"-> numpy is {t_th / t_np:.2f}x faster")


if __name__ == "__main__":
    main()
