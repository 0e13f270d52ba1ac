"""Median wall times for von Oswald et al. 2023b (mesa-optimization), float64, sampling
excluded:

1. one training step of the deep causal linear-attention model (the reproduction's
   kernel: forward with the residual clip, hand-written backward, element-wise gradient
   clip, AdamW update), default 2 layers, 4 heads, key size 20, D = 10, T = 50, batch 256;
2. the mesa-layer forward + backward (one head, keys/values/queries of width D, T = 50).

    python benchmarks/bench_mesa.py
    python benchmarks/bench_mesa.py --torch     # side by side with PyTorch autograd
    python benchmarks/bench_mesa.py --threads 1 --torch   # numpy on one thread (BLAS as it is)

By default the numpy step splits its batch over one thread per usable CPU with numpy's
BLAS held to one thread (``MesaConfig.threads``, as ``theory.mesa.train`` runs it), and
torch runs on as many threads: the same cores on both sides.

The torch side computes the same functions the efficient way for autograd: the model
with batched masked ``Q K^T`` products per head (T = 50 is short, so the quadratic form
beats a prefix-sum of outer products), ``torch.clamp`` for the residual clip,
``torch.optim.AdamW`` after ``clamp_`` of the gradients; the mesa-layer as one batched
``torch.linalg.solve`` of ``(Σ_{t'<=t} k k^T + I/λ) u_t = q_t`` at every t (a Python loop of
Sherman–Morrison updates would put T small steps on the autograd tape).
"""
from __future__ import annotations

import argparse

import numpy as np

from _timing import add_options, median_time, setup  # benchmarks/_timing.py
from theory.core._workers import _openblas, usable_cpus
from theory.core.optim import Adam, clip_by_value
from theory.mesa import attention, layer as mesa_layer
from theory.core.parallel import batch_threads
from theory.mesa.data import linear_dynamics
from theory.mesa.training import MesaConfig, _batch_parallel_loss

# The smoke test's tiny settings (tests/test_benchmarks.py runs them in CI) and the runs of
# benchmarks/table.py (each list: the arguments of one run, beside --torch).
TINY = ["--batch", "4", "--steps", "2", "--warmup", "1", "--D", "3", "--T", "5", "--heads", "2",
        "--key-size", "3"]
TABLE = [[]]


def _data(args, n=4):
    rng = np.random.default_rng(0)
    return [linear_dynamics(rng, args.batch, args.T, args.D).S for _ in range(n)]


def _init(args):
    rng = np.random.default_rng(1)
    return [attention.init_layer(rng, 4 * args.D, args.heads, args.key_size, scale=0.05) for _ in range(args.layers)]


def bench_step_numpy(args, data, pool):
    layers = _init(args)
    flat = {f"{k}{i}": v for i, p in enumerate(layers) for k, v in p.items()}
    opt = Adam(1e-4, weight_decay=0.1)
    tokens = [attention.tokens(S) for S in data]
    state = {"p": flat}
    config = MesaConfig(layers=args.layers, heads=args.heads, key_size=args.key_size, D=args.D, T=args.T,
                        resid_clip=4.0)

    def step(i):
        p = state["p"]
        ls = [{k: p[f"{k}{j}"] for k in attention.HEAD_KEYS} for j in range(args.layers)]
        _, grads = _batch_parallel_loss(config, ls, data[i % len(data)], tokens[i % len(data)], pool, 2 * args.threads)
        g = clip_by_value({f"{k}{j}": v for j, gl in enumerate(grads) for k, v in gl.items()}, 1.0)
        state["p"] = opt.step(p, g)
    return median_time(step, args.steps, args.warmup, "numpy training")


def bench_mesa_numpy(args):
    rng = np.random.default_rng(2)
    K, V, Q = (rng.standard_normal((args.batch, args.T, args.D)) / np.sqrt(args.D) for _ in range(3))
    dy = rng.standard_normal(V.shape)

    def step(i):
        y, cache = mesa_layer._mesa_forward(K, V, Q, 1.0)
        mesa_layer._mesa_backward(dy, cache)
    return median_time(step, args.steps, args.warmup, "numpy mesa-layer")


def bench_torch(args, data):
    import torch                                            # optional, for comparison only
    from theory.core._workers import usable_cpus
    torch.set_num_threads(usable_cpus())                    # its own default, whatever OMP_NUM_THREADS says
    D, T = args.D, args.T
    P = [{k: torch.nn.Parameter(torch.from_numpy(v.copy())) for k, v in layer.items()} for layer in _init(args)]
    opt = torch.optim.AdamW([p for layer in P for p in layer.values()], lr=1e-4, weight_decay=0.1)
    tokens = [torch.from_numpy(attention.tokens(S)) for S in data]
    states = [torch.from_numpy(S) for S in data]
    causal = torch.ones(T, T, dtype=torch.bool).tril()

    def loss_fn(E, S):
        for p in P:
            q = torch.einsum("btd,hkd->bhtk", E, p["W_Q"])
            k = torch.einsum("btd,hkd->bhtk", E, p["W_K"])
            v = torch.einsum("btd,hkd->bhtk", E, p["W_V"])
            a = (q @ k.transpose(-1, -2)).masked_fill(~causal, 0.0)
            E = torch.clamp(E + torch.einsum("bhtk,hdk->btd", a @ v, p["P"]), -4.0, 4.0)
        r = E[:, :-1, :D] - S[:, 1:]
        return 0.5 * (r * r).sum() / (S.shape[0] * T)

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss_fn(tokens[i % len(data)], states[i % len(data)]).backward()
        for layer in P:
            for p in layer.values():
                p.grad.clamp_(-1.0, 1.0)
        opt.step()
    t_step = median_time(step, args.steps, args.warmup)

    rng = np.random.default_rng(2)
    K, V, Q = (torch.from_numpy(rng.standard_normal((args.batch, T, D)) / np.sqrt(D)).requires_grad_()
               for _ in range(3))
    dy = torch.from_numpy(rng.standard_normal((args.batch, T, D)))
    eye = torch.eye(D, dtype=torch.float64)

    def mesa_step(i):
        C = torch.cumsum(K[:, :, :, None] * K[:, :, None, :], dim=1) + eye        # λ = 1
        u = torch.linalg.solve(C, Q[..., None])[..., 0]
        A = torch.cumsum(V[:, :, :, None] * K[:, :, None, :], dim=1)
        y = (A @ u[..., None])[..., 0]
        torch.autograd.grad(y, (K, V, Q), dy)
    t_mesa = median_time(mesa_step, args.steps, args.warmup)
    return t_step, t_mesa, torch.__version__, torch.get_num_threads()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--key-size", type=int, default=20)
    p.add_argument("--D", type=int, default=10)
    p.add_argument("--T", type=int, default=50)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, default=None,
                   help="numpy: split the training step's batch over this many threads, one BLAS thread each "
                        "(MesaConfig.threads; default: one per usable CPU; 1: one thread, BLAS as it is)")
    p.add_argument("--torch", action="store_true", help="also time PyTorch autograd (must be installed)")
    add_options(p)
    args = p.parse_args(argv)
    args.threads = usable_cpus() if args.threads is None else args.threads
    tuned = setup(args)
    data = _data(args)
    with batch_threads(args.threads) as pool:                # as MesaConfig.threads trains
        t_np = bench_step_numpy(args, data, pool)
    t_mesa = bench_mesa_numpy(args)
    print(f"batch={args.batch} T={args.T} D={args.D} layers={args.layers} heads={args.heads} "
          f"key size={args.key_size} float64 (allocator tuned: {tuned}; numpy threads {args.threads}, "
          f"BLAS threads {'1' if args.threads > 1 and _openblas() else 'default'})")
    print(f"numpy training step (hand-written backward): {1e3 * t_np:8.2f} ms/step (median of {args.steps})")
    print(f"numpy mesa-layer forward + backward:         {1e3 * t_mesa:8.2f} ms/step")
    if args.torch:
        t_th, t_th_mesa, version, threads = bench_torch(args, data)
        print(f"torch {version} autograd ({threads} threads): training step {1e3 * t_th:8.2f} ms/step "
              f"-> numpy is {t_th / t_np:.2f}x faster")
        print(f"torch mesa-layer (batched solve) forward + backward: {1e3 * t_th_mesa:8.2f} ms/step "
              f"-> numpy is {t_th_mesa / t_mesa:.2f}x faster")


if __name__ == "__main__":
    main()
