"""Wall time of one Adam training step of an L-layer LSA stack (von Oswald et al. 2023):
forward, hand-written backward, update; float64; task sampling excluded.

    python benchmarks/bench_gd_step.py --layers 1 --batch 2048
    python benchmarks/bench_gd_step.py --layers 3 --batch 2048 --torch   # side by side with
                                                                     # PyTorch autograd (if installed)

What each side computes (same batches, same weights, same Adam):

- numpy: :func:`theory.gd_step.lsa._lsa_loss` with reused buffers, as ``train_lsa`` runs it — layers before
  the last through the context's Gram matrix, the last layer for the query token only
  in attention order (``a = A e_q``, ``s_i = e_i^T a``, ``h = Σ_i s_i e_i``), no gradient
  for the input tokens;
- torch "all tokens": every layer updates every token, projections as written in the paper;
- torch "query-only": the last layer for the query token only, keys and values projected;
- torch "same algorithm": the numpy algorithm written in torch (Gram form before the last
  layer, attention order in the last), so the ratio compares the libraries, not the algebra.

``--bound`` says what bounds the numpy step: it lists the step's array operations (the
products and elementwise passes of ``gd_step``'s kernels, by shape), times each one alone
on this machine, and prints their FLOPs, bytes and summed time beside the measured step.
Measured on the 2-core CI machine (batch 2048, d = N = 10, 3 layers, 13.0 ms/step):
13 batched products of 11×11 matrices take 5.6 ms (43%) at 8 GFLOP/s — each is B
separate small BLAS calls; 17 skinny products over all tasks (inner size 11) take
3.6 ms (27%) at 18 GFLOP/s; 9 elementwise passes take 0.7 ms at 53 GB/s; the rest is
Adam, the loss and Python.  (1 layer: 0.59 of 1.10 ms in 4 batched matrix-vector
products at 3 GFLOP/s.)  So the step is bound by per-call and small-shape overheads of
BLAS, not by arithmetic or memory bandwidth: fewer, larger products would help; fewer
FLOPs alone would not.

With ``--torch`` the sides run interleaved, in blocks of ``--block`` steps (numpy, then each
torch line, on the same batches), and the ratio is the median over blocks of the per-block
time ratio, with its range: a shared machine's slow moments hit both sides alike.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from _timing import add_options, print_bound, profile, setup  # benchmarks/_timing.py
from theory.core.optim import Adam
from theory.gd_step import lsa, training
from theory.gd_step.data import regression_tasks

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "8", "--steps", "4", "--block", "2", "--warmup", "1", "--layers", "2", "--d", "3",
        "--n-context", "4", "--bound"]
TABLE = [["--layers", "1"], ["--layers", "2"], ["--layers", "3"]]


def batches(args, n=8):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        t = regression_tasks(rng, args.batch, args.n_context, args.d)
        out.append((lsa.tokens(t.X, t.Y, t.xq), t.yq))
    return out


def numpy_stepper(args, data):
    params = training.init_params(np.random.default_rng(1), "lsa", args.layers, args.d, args.n_context)
    opt = Adam(lr=1e-3, beta2=0.98)
    state = {"params": params, "i": 0}
    ws = [{} for _ in range(args.layers)]                  # reused buffers, as train_lsa keeps them

    def step():
        E, y = data[state["i"] % len(data)]
        state["i"] += 1
        _, grads, _ = lsa._lsa_loss(state["params"], E, y, args.layers, False, ws)   # what train_lsa runs
        state["params"] = opt.step(state["params"], grads)
    return step


def torch_stepper(args, data, mode):
    import torch                                            # optional, for comparison only
    torch.manual_seed(1)
    D, d, N = args.d + 1, args.d, args.n_context
    scale = 0.002 / args.layers
    params = [torch.nn.Parameter(scale * torch.randn(D, D, dtype=torch.float64)) for _ in range(4 * args.layers)]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.98))
    tdata = [(torch.from_numpy(E), torch.from_numpy(y)) for E, y in data]
    state = {"i": 0}

    def loss_fn(E, y):
        for layer in range(args.layers):
            WK, WQ, WV, P = params[4 * layer: 4 * layer + 4]
            C, last = E[:, :N], layer == args.layers - 1
            if mode == "same algorithm":
                A, Bm = WK.T @ WQ, P @ WV
                if last:                                    # attention order, query only
                    q = E[:, -1]
                    s = (C @ (q @ A.T).unsqueeze(2)).squeeze(2)
                    h = (s.unsqueeze(1) @ C).squeeze(1)
                    E = (q + h @ Bm.T).unsqueeze(1)
                else:                                       # Gram form, every token
                    G = C.transpose(1, 2) @ C
                    E = E + (E @ (G @ A).transpose(1, 2)) @ Bm.T
            else:
                R = E[:, -1:] if (mode == "query-only" and last) else E
                scores = (R @ WQ.T) @ (C @ WK.T).transpose(1, 2)
                E = R + (scores @ (C @ WV.T)) @ P.T
        return 0.5 * ((-E[:, -1, d:] - y) ** 2).sum() / E.shape[0]

    def step():
        E, y = tdata[state["i"] % len(tdata)]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        loss_fn(E, y).backward()
        opt.step()
    return step, torch.__version__, torch.get_num_threads()


def step_operations(L, B, N, d):
    """The array operations of one numpy training step, as ``gd_step``'s kernels run them:
    ``(what, kind, dims)`` with kind "batched" (B products (m×k)·(k×n): dims (B, m, k, n)),
    "large" (one (m×k)·(k×n) product over all tasks: dims (1, m, k, n)) or "stream"
    (an elementwise pass: dims (elements, arrays touched))."""
    T, S, D = N + 1, N, d + 1
    ops = []
    for layer in range(L - 1):                              # Gram layers, every token
        ops += [("C = context tokens", "stream", (B * S * D, 2)), ("G = C^T C", "batched", (B, D, S, D)),
                ("G A", "large", (1, B * D, D, D)), ("H = E (G A)^T", "batched", (B, T, D, D)),
                ("U = H Bm^T", "large", (1, B * T, D, D)), ("E + U", "stream", (B * T * D, 3)),
                ("dBm = dU^T H", "large", (1, D, B * T, D)), ("dH = dU Bm", "large", (1, B * T, D, D)),
                ("dGA = dH^T E", "batched", (B, D, T, D)), ("dA = Σ G dGA", "large", (1, D, B * D, D))]
        if layer > 0:                                       # the first layer's inputs are data
            ops += [("dE = dH GA", "batched", (B, T, D, D)), ("dE += dU", "stream", (B * T * D, 3)),
                    ("dG = dGA A^T", "large", (1, B * D, D, D)), ("dG + dG^T", "stream", (B * D * D, 3)),
                    ("C (dG + dG^T)", "batched", (B, S, D, D)), ("dE += ...", "stream", (B * S * D, 3))]
    ops += [("a = A e_q", "large", (1, B, D, D)), ("s = C a", "batched", (B, S, D, 1)),
            ("h = s^T C", "batched", (B, 1, S, D)), ("u = Bm h", "large", (1, B, D, D)),
            ("dBm = du^T h", "large", (1, D, B, D)), ("dh = du Bm", "large", (1, B, D, D)),
            ("ds = C dh", "batched", (B, S, D, 1)), ("da = ds^T C", "batched", (B, 1, S, D)),
            ("dA = da^T e_q", "large", (1, D, B, D))]
    if L > 1:                                               # the query layer's input gradient
        ops += [("[s ds]", "stream", (B * S * 2, 2)), ("[dh; a]", "stream", (B * D * 2, 2)),
                ("dE = [s ds][dh; a]", "batched", (B, S, 2, D)), ("dE[q] += du + A^T da", "large", (1, B, D, D))]
    return ops


def bound(args, t_step):
    """Print the step's FLOPs and bytes by kind of operation, each operation timed alone."""
    print_bound(step_operations(args.layers, args.batch, args.n_context, args.d), t_step,
                "Adam, the loss and Python overhead are the rest")


def time_steps(step, n):
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=2048)
    p.add_argument("--steps", type=int, default=300, help="steps per side (default 300)")
    p.add_argument("--block", type=int, default=20, help="steps per interleaved block (default 20)")
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--d", type=int, default=10)
    p.add_argument("--n-context", type=int, default=10)
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    p.add_argument("--bound", action="store_true", help="time the step's operations alone: what bounds it")
    add_options(p)
    args = p.parse_args(argv)
    tuned = setup(args)
    data = batches(args)
    sides = {"numpy": numpy_stepper(args, data)}
    if args.torch:
        for mode in ("all tokens", "query-only", "same algorithm"):
            step, version, threads = torch_stepper(args, data, mode)
            sides[f"torch {mode}"] = step
    for step in sides.values():
        time_steps(step, args.warmup)
    blocks = max(1, args.steps // args.block)
    times = {k: [] for k in sides}
    for _ in range(blocks):                                 # interleaved: numpy, torch, torch, ...
        for k, step in sides.items():
            times[k].append(time_steps(step, min(args.block, args.steps)))
    print(f"layers={args.layers} batch={args.batch} d={args.d} N={args.n_context} float64, "
          f"{blocks} interleaved blocks of {min(args.block, args.steps)} steps (allocator tuned: {tuned})")
    t_np = statistics.median(times["numpy"])
    print(f"numpy (hand-written backward): {1e3 * t_np:8.2f} ms/step (median over blocks)")
    if args.bound:
        bound(args, t_np)
    if args.profile:
        profile(lambda i: sides["numpy"](), "numpy", t_np, n=min(args.steps, 20))
    for k in sides:
        if k == "numpy":
            continue
        ratios = [t / n for t, n in zip(times[k], times["numpy"])]
        print(f"{k:<21} ({version}, {threads} threads): {1e3 * statistics.median(times[k]):8.2f} ms/step"
              f"  -> numpy is {statistics.median(ratios):.2f}x faster (blocks {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
