"""von Oswald et al. 2023 (one LSA layer = one GD step): this package's layer, construction
and loss against the authors' Haiku code, on the same weights and the same tokens.

    pip install -e '.[conformance]'
    git clone https://github.com/google-research/self-organising-systems sos
    git -C sos checkout 3d5547c
    python conformance/gd_step.py --repo sos

Their ``transformers_learn_icl_by_gd/src`` is imported from the checkout, not copied.  In
float64 on both sides the script prints the largest relative difference of:

- their ``create_weights`` (the GD construction, Haiku's ``x @ w`` convention) against our
  ``gd_construction`` (columns: ``W = wᵀ``), matrix by matrix — their projection fills the
  y-block only, ours every block; the x-block multiplies a value block of zeros, so only the
  y-block is compared;
- their ``Transformer`` (the ``Transformer_gd`` configuration of their ``train.py``: one
  head, attention only, no layer norm, positions, bias or softmax, keys and values from the
  context tokens only, the same layer applied K times) with those weights against our
  ``stack_forward`` — every token after K = 3 layers, and the prediction −(query's last
  entry) against ``gd_predict`` (K steps of GD from W0 ≠ 0);
- for random weights, their loss (``compute_loss``: ½ Σ (y − ŷ)² / B) and its ``jax.grad``
  against our ``lsa_loss`` and its hand-written gradient, and the distance the weights moved
  in five steps of their optimiser (``optax.chain(clip_by_global_norm(1), adamw(b1 0.9, b2
  0.98))``, each step on the gradient at the current weights) against ours
  (``clip_by_global_norm``, ``Adam(beta2=0.98)``).  Adam's first step is ≈ lr·sign(g), blind
  to β1, β2 and any rescaling of g; from the second step on they matter.  The global norm
  (printed) is above the clip at every step, so the clip acts on every step; because Adam
  divides by the gradient's running scale, moving the threshold alone would stay invisible
  while every step clips, so the ``clip`` perturbation removes it.

Exit status 0 when every difference is at most ``--tol`` (1e-10).  ``--perturb`` changes one
setting of ours (β1 0.9 → 0.8, β2 0.98 → 0.99, the clip removed) and must give exit 1; the
checkout's commit is verified (another commit is refused unless ``--any-commit``).
"""
from __future__ import annotations

import sys

import numpy as np

from _common import announce_perturbation, checkout, parser
from theory.core.gradcheck import rel_error
from theory.core.optim import Adam, clip_by_global_norm, global_norm
from theory.gd_step.construction import gd_construction, gd_predict
from theory.gd_step.data import regression_tasks
from theory.gd_step.lsa import lsa_loss, readout, stack_forward, tokens

REPOSITORY, COMMIT, MARKER = "google-research/self-organising-systems", "3d5547c", "transformers_learn_icl_by_gd/src/data.py"
STEPS = 5
PERTURBATIONS = {"beta1": "our Adam's β1 0.9 → 0.8", "beta2": "our Adam's β2 0.98 → 0.99",
                 "clip": "our global-norm clip (1) removed"}
d, N, K, ETA, B = 10, 10, 3, 0.7, 16
NAMES = {"query": "W_Q", "key": "W_K", "value": "W_V", "linear": "P"}


def _transformer(hk, Transformer, layers: int):
    """Their Transformer_gd of train.py, for tokens of width d + 1."""
    def fwd(x):
        return Transformer(num_heads=1, num_layers=layers, key_size=d + 1, embedding_size=d + 1, widening_factor=4,
                           only_attention=True, in_context_length=N + 1, output_size=1, dropout_rate=0, use_pe=False,
                           pe_size=0, concat_pe=False, output_mapping=False, input_mapping=False, use_layer_norm=False,
                           use_bias_p=False, deq=True, use_softmax=False, zero_embeddings=False, y_update=False,
                           sum_norm=False, input_mlp=False, input_mlp_out_dim=0, gd_mlp_config=True, init_scale=0.02,
                           dampening=1.0, clip=0.0, name="Transformer_gd")(x, is_training=False, predict_test=False)
    return hk.transform(fwd)


def _their_params(ours: dict) -> dict:
    import jax.numpy as jnp
    return {f"Transformer_gd/multi_head_attention/{k}": {"w": jnp.asarray(ours[v].T)} for k, v in NAMES.items()}


def main(argv=None) -> int:
    ap = parser(__doc__, REPOSITORY, COMMIT, PERTURBATIONS, tol=1e-10)
    args = ap.parse_args(argv)
    source = checkout(ap, args, MARKER, REPOSITORY, COMMIT)
    code = args.repo / "transformers_learn_icl_by_gd"
    import jax
    jax.config.update("jax_enable_x64", True)
    import haiku as hk
    import jax.numpy as jnp
    import optax
    sys.path.insert(0, str(code))
    from src.data import create_weights
    from src.transformer import Transformer
    rng = np.random.default_rng(0)
    t = regression_tasks(rng, B, N, d)
    W0 = rng.standard_normal((1, d))
    E = tokens(t.X, t.Y, t.xq, W0)                           # (B, N + 1, d + 1), query (x_q, -W0 x_q)
    out = {}
    ours = gd_construction(d, 1, N, ETA, W0)
    theirs = create_weights(d, 1, N, ETA, jnp.asarray(W0[None]))
    key = "Transformer_gd/multi_head_attention/"
    for k, v in NAMES.items():
        w = np.asarray(theirs[key + k]["w"]).T
        out[f"create_weights: {v}" + (" (y-block)" if v == "P" else "")] = (
            rel_error(ours[v][d:, d:], w[d:, d:]) + float(np.abs(w[:d]).max()) if v == "P" else rel_error(ours[v], w))
    f = _transformer(hk, Transformer, K)
    h, stack, _ = f.apply(theirs, jax.random.PRNGKey(0), jnp.asarray(E))
    mine, _ = stack_forward(E, ours, K, N, shared=True)
    out[f"every token after {K} layers"] = rel_error(mine, np.asarray(h))
    out[f"prediction after {K} layers vs {K} GD steps"] = rel_error(gd_predict(t.X, t.Y, t.xq, ETA, K, W0)[0][:, 0],
                                                                   -np.asarray(h)[:, -1, -1])
    out["our prediction vs theirs"] = rel_error(readout(mine, d)[:, 0], np.asarray(stack[-1]))
    # random weights: loss, gradients, one optimiser step
    params = {k: 0.12 * rng.standard_normal((d + 1, d + 1)) for k in NAMES.values()}
    y = t.yq
    loss, grads = lsa_loss(params, E, y, K, shared=True)

    def their_loss(p):
        preds = -f.apply(p, jax.random.PRNGKey(0), jnp.asarray(E))[0][:, -1, -1]
        return 0.5 * jnp.sum((jnp.asarray(y[:, 0]) - preds) ** 2) / B

    tp = _their_params(params)
    out["loss ½ Σ (y − ŷ)² / B"] = rel_error(np.array([loss]), np.array([float(their_loss(tp))]))
    g = jax.grad(their_loss)(tp)
    for k, v in NAMES.items():
        out[f"gradient of {v}"] = rel_error(grads[v], np.asarray(g[key + k]["w"]).T)
    # several optimiser steps: the distance moved, theirs against ours
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3, b1=0.9, b2=0.98, weight_decay=0.0))
    state, moved = opt.init(tp), tp
    adam = Adam(1e-3, beta1=0.8 if args.perturb == "beta1" else 0.9, beta2=0.99 if args.perturb == "beta2" else 0.98)
    mine_p, norms = params, []
    for _ in range(STEPS):
        updates, state = opt.update(jax.grad(their_loss)(moved), state, moved)
        moved = optax.apply_updates(moved, updates)
        _, g_mine = lsa_loss(mine_p, E, y, K, shared=True)
        norms.append(global_norm(g_mine))
        mine_p = adam.step(mine_p, g_mine if args.perturb == "clip" else clip_by_global_norm(g_mine, 1.0))
    clipped = sum(n > 1.0 for n in norms)
    out[f"distance moved in {STEPS} steps (clip 1 acted on {clipped}; |g| {min(norms):.2f}–{max(norms):.2f})"] = max(
        rel_error(mine_p[v] - params[v], np.asarray(moved[key + k]["w"]).T - params[v]) for k, v in NAMES.items())
    ok = True
    print(f"von Oswald et al. 2023: ours against {source} (float64; relative difference, tolerance {args.tol:g})")
    announce_perturbation(args, PERTURBATIONS)
    for name, diff in out.items():
        ok &= diff <= args.tol
        print(f"  {name:62s} {diff:.1e}{'' if diff <= args.tol else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
