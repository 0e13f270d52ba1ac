"""Median wall time of one SGD step of Reddy 2024's full network (two causal softmax
attention layers + ReLU classifier): forward, hand-written backward, update; float64
and/or float32 (``--dtype``, as ``NetworkConfig.dtype`` trains); sampling excluded.

    python benchmarks/bench_induction.py --batch 128
    python benchmarks/bench_induction.py --batch 128 --torch    # side by side with PyTorch
                                                                 # autograd (if installed)
    python benchmarks/bench_induction.py --dtype both --torch   # float64 and float32 lines
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _timing import add_options, median_time, setup  # benchmarks/_timing.py
from theory.core.optim import SGD
from theory.induction import network as ih
from theory.induction.data import item_label_classes, item_label_sequences

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "4", "--steps", "2", "--warmup", "1", "--K", "8", "--L", "4", "--N", "2", "--B", "1",
        "--D", "3", "--positions", "6", "--dtype", "both"]
TABLE = [["--dtype", "both"]]


def batches(args, n=8):
    rng = np.random.default_rng(0)
    classes = item_label_classes(rng, args.K, args.L, args.D)
    out = []
    for _ in range(n):
        b = item_label_sequences(rng, classes, args.batch, args.N, B=args.B, eps=0.1)
        out.append((ih.embed(b.content, rng, args.positions), b.target))
    return out


def bench_numpy(args, data, dtype):
    params = {k: v.astype(dtype) for k, v in ih.init_network(np.random.default_rng(1), args.positions + args.D,
                                                            args.L).items()}
    data = [(X.astype(dtype), y) for X, y in data]
    opt = SGD(lr=0.01, weight_decay=1e-6)
    state = {"p": params}

    def step(i):
        X, y = data[i % len(data)]
        _, grads, _ = ih._network_loss(state["p"], X, y)            # the kernel train_network runs
        state["p"] = opt.step(state["p"], grads)
    return median_time(step, args.steps, args.warmup, f"{np.dtype(dtype).name} numpy")


def bench_torch(args, data, dtype):
    import torch                                            # optional, for comparison only
    torch.manual_seed(1)
    d = args.positions + args.D
    P = {k: torch.nn.Parameter(torch.from_numpy(v.astype(dtype)))
         for k, v in ih.init_network(np.random.default_rng(1), d, args.L).items()}
    opt = torch.optim.SGD(P.values(), lr=0.01, weight_decay=0.0)
    tdata = [(torch.from_numpy(X.astype(dtype)), torch.from_numpy(y)) for X, y in data]
    T = data[0][0].shape[1]
    causal = torch.ones(T, T, dtype=torch.bool).tril()

    def loss_fn(X, y):
        q, k, v = X @ P["W_Q1"].T, X @ P["W_K1"].T, X @ P["W_V1"].T
        s = (q @ k.transpose(1, 2)).masked_fill(~causal, float("-inf"))
        h = X + torch.softmax(s, -1) @ v
        hq = h[:, -1:]
        s2 = (hq @ P["W_Q2"].T) @ (h @ P["W_K2"].T).transpose(1, 2)
        u = (hq + torch.softmax(s2, -1) @ (h @ P["W_V2"].T))[:, 0]
        for i in (1, 2, 3):
            u = torch.relu(u @ P[f"W{i}"].T + P[f"b{i}"])
        return torch.nn.functional.cross_entropy(u @ P["R"].T, y)

    times = []
    for i in range(args.warmup + args.steps):
        X, y = tdata[i % len(tdata)]
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss_fn(X, y).backward()
        opt.step()
        with torch.no_grad():
            for p in P.values():
                p.mul_(1 - 1e-6)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[args.warmup:]), torch.__version__, torch.get_num_threads()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--K", type=int, default=256)
    p.add_argument("--L", type=int, default=32)
    p.add_argument("--N", type=int, default=8)
    p.add_argument("--B", type=int, default=4)
    p.add_argument("--D", type=int, default=63)
    p.add_argument("--positions", type=int, default=65)
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    p.add_argument("--dtype", choices=("float64", "float32", "both"), default="float64")
    add_options(p)
    args = p.parse_args(argv)
    tuned = setup(args)
    data = batches(args)
    print(f"batch={args.batch} N={args.N} width={args.positions + args.D} (allocator tuned: {tuned})")
    for dtype in (("float64", "float32") if args.dtype == "both" else (args.dtype,)):
        t_np = bench_numpy(args, data, np.dtype(dtype))
        print(f"{dtype} numpy (hand-written backward): {1e3 * t_np:8.2f} ms/step (median of {args.steps})")
        if args.torch:
            t_th, version, threads = bench_torch(args, data, np.dtype(dtype))
            print(f"{dtype} torch {version} autograd ({threads} threads): {1e3 * t_th:8.2f} ms/step  "
                  f"-> numpy is {t_th / t_np:.2f}x faster")


if __name__ == "__main__":
    main()
