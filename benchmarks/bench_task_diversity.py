"""Median wall time of the task-diversity reproduction's kernel: pretraining Lu et al.'s
reduced model in closed form (the features ``H_Z`` of n sequences, the normal equations
accumulated in chunks, one dense solve), float64, sampling excluded; default
d = 32, ℓ = d, n = 2 d² (τ = 2), λ = 0 (ridgeless: n ≥ d(d+1), so the normal equations).

    python benchmarks/bench_task_diversity.py
    python benchmarks/bench_task_diversity.py --torch     # side by side with PyTorch

The torch side runs the same algorithm (the same features, ``ΦᵀΦ`` and ``Φᵀy`` in the same
chunks, ``torch.linalg.solve``) on the same sequences.  Cost: O(n d⁴ + d⁶) time.
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import add_options, median_time, setup  # benchmarks/_timing.py
from theory.task_diversity.data import sequences, task_pool
from theory.task_diversity.model import pretrain_ridge

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--d", "3", "--tau", "3", "--steps", "2", "--warmup", "1", "--chunk", "7"]
TABLE = [[]]


def _data(args):
    rng = np.random.default_rng(0)
    n = int(args.tau * args.d ** 2)
    pool = task_pool(rng, max(1, args.d // 2), args.d, "sphere")
    return sequences(rng, n, args.d, args.d, rho=0.01, pool=pool, assign="balanced")


def bench_numpy(args, S):
    return median_time(lambda i: pretrain_ridge(S.X, S.y, S.x_q, S.y_q, args.lam, chunk=args.chunk),
                       args.steps, args.warmup, "numpy")


def bench_torch(args, S):
    import torch
    torch.set_default_dtype(torch.float64)
    X, y, x_q, y_q = (torch.tensor(a) for a in (S.X, S.y, S.x_q, S.y_q))
    n, ell, d = X.shape
    p = d * (d + 1)

    def solve(i):
        G, b = (n / d) * args.lam * torch.eye(p), torch.zeros(p)
        for s in range(0, n, args.chunk):
            Xc, yc, qc = X[s:s + args.chunk], y[s:s + args.chunk], x_q[s:s + args.chunk]
            v = torch.cat([(d / ell) * torch.einsum("ni,nid->nd", yc, Xc), (yc * yc).sum(1, keepdim=True) / ell], 1)
            Phi = torch.einsum("na,nb->nab", qc, v).reshape(len(qc), -1)
            G += Phi.T @ Phi
            b += Phi.T @ y_q[s:s + args.chunk]
        return torch.linalg.solve(G, b)
    numpy_G = pretrain_ridge(S.X, S.y, S.x_q, S.y_q, args.lam, chunk=args.chunk).ravel()
    diff = float(np.abs(solve(0).numpy() - numpy_G).max() / np.abs(numpy_G).max())
    return median_time(solve, args.steps, args.warmup), torch.__version__, torch.get_num_threads(), diff


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--d", type=int, default=32)
    p.add_argument("--tau", type=float, default=2.0)
    p.add_argument("--lam", type=float, default=0.0)
    p.add_argument("--chunk", type=int, default=4096)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--torch", action="store_true", help="also time PyTorch (must be installed)")
    add_options(p)
    args = p.parse_args(argv)
    tuned = setup(args)
    S = _data(args)
    t_np = bench_numpy(args, S)
    print(f"d={args.d} ell={args.d} n={len(S.y)} lam={args.lam:g} float64 (allocator tuned: {tuned})")
    print(f"numpy: {1e3 * t_np:8.3f} ms/step, a step being one pretraining solve (median of {args.steps})")
    if args.torch:
        t_th, version, threads, diff = bench_torch(args, S)
        print(f"torch {version} ({threads} threads): {1e3 * t_th:8.3f} ms/step  -> numpy is {t_th / t_np:.2f}x "
              f"faster (the two Γ differ by {diff:.1e} relative)")


if __name__ == "__main__":
    main()
