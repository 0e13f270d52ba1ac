"""Median wall time of one Adam training step of an L-layer LSA stack (von Oswald et al.
2023): forward, hand-written backward, update; float64; task sampling excluded.

    python benchmarks/bench_lsa.py --layers 1 --batch 2048
    python benchmarks/bench_lsa.py --layers 3 --batch 2048 --torch   # side by side with
                                                                     # PyTorch autograd (if installed)

Both sides run in this process, after the same allocator setting
(theory._perf.tune_allocator), on the same pre-sampled batches.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from theory import gd_step
from theory._perf import tune_allocator
from theory.optim import Adam
from theory.tasks import regression_tasks


def batches(args, n=8):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        t = regression_tasks(rng, args.batch, args.n_context, args.d)
        out.append((gd_step.tokens(t.X, t.Y, t.xq), t.yq))
    return out


def bench_numpy(args, data):
    params = gd_step.init_params(np.random.default_rng(1), "lsa", args.layers, args.d, args.n_context)
    opt = Adam(lr=1e-3, beta2=0.98)
    times = []
    for i in range(args.warmup + args.steps):
        E, y = data[i % len(data)]
        t0 = time.perf_counter()
        _, grads, _ = gd_step.lsa_loss(params, E, y, args.layers)
        params = opt.step(params, grads)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[args.warmup:])


def bench_torch(args, data, query_only_last=False):
    import torch                                            # optional, for comparison only
    torch.manual_seed(1)
    D, d, N = args.d + 1, args.d, args.n_context
    scale = 0.002 / args.layers
    params = [torch.nn.Parameter(scale * torch.randn(D, D, dtype=torch.float64))
              for _ in range(4 * args.layers)]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.98))
    tdata = [(torch.from_numpy(E), torch.from_numpy(y)) for E, y in data]

    def loss_fn(E, y):
        for layer in range(args.layers):
            WK, WQ, WV, P = params[4 * layer: 4 * layer + 4]
            C = E[:, :N]
            R = E[:, -1:] if query_only_last and layer == args.layers - 1 else E
            A = (R @ WQ.T) @ (C @ WK.T).transpose(1, 2)
            E = R + (A @ (C @ WV.T)) @ P.T
        return 0.5 * ((-E[:, -1, d:] - y) ** 2).sum() / E.shape[0]

    times = []
    for i in range(args.warmup + args.steps):
        E, y = tdata[i % len(tdata)]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_fn(E, y).backward()
        opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[args.warmup:]), torch.__version__, torch.get_num_threads()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--d", type=int, default=10)
    p.add_argument("--n-context", type=int, default=10)
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    args = p.parse_args()
    tuned = tune_allocator()
    data = batches(args)
    t_np = bench_numpy(args, data)
    print(f"layers={args.layers} batch={args.batch} d={args.d} N={args.n_context} float64 "
          f"(allocator tuned: {tuned})")
    print(f"numpy (hand-written backward): {1e3 * t_np:8.2f} ms/step (median of {args.steps})")
    if args.torch:
        t_th, version, threads = bench_torch(args, data)
        print(f"torch {version} autograd ({threads} threads): {1e3 * t_th:8.2f} ms/step  "
              f"-> numpy is {t_th / t_np:.2f}x faster")
        t_q = bench_torch(args, data, query_only_last=True)[0]
        print(f"torch, last layer on the query token only:  {1e3 * t_q:8.2f} ms/step  "
              f"-> numpy is {t_q / t_np:.2f}x faster")


if __name__ == "__main__":
    main()
