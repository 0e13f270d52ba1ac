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
  against our ``lsa_loss`` and its hand-written gradient, and the weights after one step of
  their optimiser (``optax.chain(clip_by_global_norm, adamw(b1 0.9, b2 0.98))``) against
  ours (``clip_by_global_norm``, ``Adam(beta2=0.98)``).

Exit status 0 when every difference is at most ``--tol`` (1e-10).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from theory.core.gradcheck import rel_error
from theory.core.optim import Adam, clip_by_global_norm
from theory.gd_step.construction import gd_construction, gd_predict
from theory.gd_step.data import regression_tasks
from theory.gd_step.lsa import lsa_loss, readout, stack_forward, tokens

COMMIT = "3d5547c"
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
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, type=Path,
                    help=f"a checkout of google-research/self-organising-systems at {COMMIT}")
    ap.add_argument("--tol", type=float, default=1e-10)
    args = ap.parse_args(argv)
    code = args.repo / "transformers_learn_icl_by_gd"
    if not (code / "src" / "data.py").is_file():
        ap.error(f"{args.repo} has no transformers_learn_icl_by_gd/src: give a checkout at {COMMIT}")
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
    params = {k: 0.3 * rng.standard_normal((d + 1, d + 1)) for k in NAMES.values()}
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
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-3, b1=0.9, b2=0.98, weight_decay=0.0))
    updates, _ = opt.update(g, opt.init(tp), tp)
    stepped = optax.apply_updates(tp, updates)
    mine_step = Adam(1e-3, beta2=0.98).step(params, clip_by_global_norm(grads, 1.0))
    out["weights after one step (global-norm clip 1, Adam)"] = max(
        rel_error(mine_step[v], np.asarray(stepped[key + k]["w"]).T) for k, v in NAMES.items())
    ok = True
    print(f"von Oswald et al. 2023: ours against google-research/self-organising-systems@{COMMIT} (float64; "
          f"relative difference, tolerance {args.tol:g})")
    for name, diff in out.items():
        ok &= diff <= args.tol
        print(f"  {name:52s} {diff:.1e}{'' if diff <= args.tol else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
