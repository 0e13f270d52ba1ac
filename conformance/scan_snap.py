"""Tian et al. 2023 (scan and snap): this package's finite-T model against the authors'
``Model2`` and ``Dataset2``, on the same parameters and the same batches.

    pip install -e '.[conformance]'
    git clone https://github.com/facebookresearch/luckmatters && git -C luckmatters checkout 625b5f7
    python conformance/scan_snap.py --repo luckmatters

``decoder_only.py`` (and the ``common_utils`` it imports) are imported from the checkout,
not copied.  In float64 on both sides the script prints the largest relative difference of:
the loss and the gradients of Y (their ``K1``) and Z (their ``K2``) on one batch, with and
without the residual; the parameters after three steps of their two SGD optimisers with
momentum 0.9 (η_Y = 2 η_Z) against ours; and the class distributions P(l|n), the query and
next tokens of their ``Dataset2`` against ``scan_snap_task`` — for the scan figure's task
and for every task of the entropy figure (their probabilities are float32 tensors, so those
rows are compared to float32 round-off, 1e-6).  Where pandas can read their
``figure_6_data.pkl`` (pandas < 2, which needs numpy < 2: run ``--figure-6-only`` in such an
environment), it also checks that ``theory/scan_snap/authors.py`` holds its 64 cells.

The real-text model: their ``decoder_wiki_util.TransformerModel`` as it was at 33149cd (read
with ``git show`` from the clone's history) against ``theory.scan_snap.text_model`` in
float64 on the same weights — logits, every layer's attention, the cross-entropy and every
gradient for 1 and 3 layers, then five steps of their two-group SGD with
``clip_grad_norm_(…, 0.5)`` against ``text._sgd_step``.  Their sinusoidal table is a float32
buffer: it is compared at float32 round-off and replaced by ours for the other rows.
Exit status 0 when everything agrees.  ``--perturb`` changes one setting of ours (the
synthetic model's momentum 0.9 → 0.8, the real-text model's gradient-norm clip 0.5 → 0.6 —
plain SGD is not scale-free, so a threshold that every step reaches shows in the step — and
its layer-0 rate multiplier 3 → 2.5) and must give exit 1; the checkout's commit is verified
(another is refused unless ``--any-commit``).

The figure-6 row needs pandas < 2 (which needs numpy < 2): ``pip install -e
'.[conformance-tian]'`` in a separate environment brings both, then ``--figure-6-only``.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from _common import announce_perturbation, checkout, parser
from theory.core import nn
from theory.core.gradcheck import rel_error
from theory.core.optim import Momentum
from theory.scan_snap import model as ss
from theory.scan_snap.authors import FIGURE_6
from theory.scan_snap.data import scan_snap_sequences, scan_snap_task

REPOSITORY, COMMIT, MARKER = "facebookresearch/luckmatters", "625b5f7", "ssl/real-dataset/decoder_only.py"
PERTURBATIONS = {"momentum": "our SGD momentum of the synthetic model 0.9 → 0.8",
                 "clip": "our gradient-norm clip of the real-text model 0.5 → 0.6",
                 "lr-ratio": "our layer-0 linear1 rate multiplier of the real-text model 3 → 2.5"}


class _Float64:
    """Their forward casts the one-hot tokens with ``.float()`` (float32); inside this
    context ``.float()`` gives float64, so that their model runs in float64 like ours."""

    def __init__(self, torch):
        self.torch = torch

    def __enter__(self):
        self.saved = self.torch.Tensor.float
        self.torch.Tensor.float = lambda tensor, *a, **kw: tensor.double()

    def __exit__(self, *exc):
        self.torch.Tensor.float = self.saved


def compare_model(dec, torch, rng, momentum: float = 0.9) -> dict:
    task = scan_snap_task(2, 1, 10, 10)                      # the scan figure's task
    T = 128
    out = {}
    for residual in (False, True):
        p = ss.init_params(rng, task.M)
        b = scan_snap_sequences(rng, task, 128, T)
        m = dec.Model2(task.M, T, SimpleNamespace(normalize=True, zero_init=False, attn_include_base_token=False,
                                                  residual=residual)).double()
        with torch.no_grad():
            m.K1.weight[:] = torch.from_numpy(p["Y"])
            m.K2.weight[:] = torch.from_numpy(p["Z"])
        with _Float64(torch):
            loss = m(torch.from_numpy(b.tokens), torch.from_numpy(b.labels))
        loss.backward()
        ours, g = ss.finite_loss(p, b.tokens, b.labels, residual=residual)
        tag = "with the residual" if residual else "no residual"
        out[f"loss ({tag})"] = rel_error(np.array([ours]), np.array([loss.item()]))
        out[f"gradient of Y = K1 ({tag})"] = rel_error(g["Y"], m.K1.weight.grad.numpy())
        out[f"gradient of Z = K2 ({tag})"] = rel_error(g["Z"], m.K2.weight.grad.numpy())
    # three SGD steps with momentum, separate rates, on the same batches
    p = ss.init_params(rng, task.M)
    lr_z, lr_y = 1.0, 2.0
    m = dec.Model2(task.M, T, SimpleNamespace(normalize=True, zero_init=False, attn_include_base_token=False,
                                              residual=False)).double()
    with torch.no_grad():
        m.K1.weight[:] = torch.from_numpy(p["Y"])
        m.K2.weight[:] = torch.from_numpy(p["Z"])
    opt_y = torch.optim.SGD([m.K1.weight], lr=lr_y, momentum=0.9, weight_decay=0)
    opt_z = torch.optim.SGD([m.K2.weight], lr=lr_z, momentum=0.9, weight_decay=0)
    oy, oz = Momentum(lr_y, momentum), Momentum(lr_z, momentum)
    for _ in range(3):
        b = scan_snap_sequences(rng, task, 128, T)
        opt_y.zero_grad()
        opt_z.zero_grad()
        with _Float64(torch):
            loss = m(torch.from_numpy(b.tokens), torch.from_numpy(b.labels))
        loss.backward()
        opt_y.step()
        opt_z.step()
        _, g = ss.finite_loss(p, b.tokens, b.labels)
        p = {"Y": oy.step({"Y": p["Y"]}, {"Y": g["Y"]})["Y"], "Z": oz.step({"Z": p["Z"]}, {"Z": g["Z"]})["Z"]}
    out["Y after three SGD steps with momentum"] = rel_error(p["Y"], m.K1.weight.detach().numpy())
    out["Z after three SGD steps with momentum"] = rel_error(p["Z"], m.K2.weight.detach().numpy())
    return out


def compare_tasks(dec) -> dict:
    """P(l|n), the query and the next token of every class, theirs against ours."""
    out = {}
    for nq, npl in [(2, 1)] + [(q, 2) for q in (1, 3, 5, 10)]:
        args = SimpleNamespace(num_last=nq, num_next_per_last=npl, num_common=10, num_common_per_last=0,
                               num_unique_per_next=10, common_unnormalized_prob=1, unique_unnormalized_min=0.1,
                               unique_unnormalized_max=1)
        d = dec.Dataset2(128, args)
        task = scan_snap_task(nq, npl, 10, 10)
        P = np.zeros((len(d.facts), d.M))
        for i, f in enumerate(d.facts):
            P[i, f["tokens"].numpy()] = f["probs"].double().numpy()
        same = (d.M == task.M and [f["last_token"] for f in d.facts] == list(task.query)
                and [f["next_token"] for f in d.facts] == list(task.next_token))
        out[f"P(l|n) of {nq} quer{'y' if nq == 1 else 'ies'} × {npl} classes"] = \
            rel_error(P, task.P) if same else float("inf")
    return out


TEXT_COMMIT = "33149cd"       # decoder_wiki.py at the paper's time (May 2023); later commits switch to Adam
TEXT_FILE = "ssl/real-dataset/decoder_wiki_util.py"


def _text_module(repo: Path):
    """Their ``decoder_wiki_util`` (the word-LM tutorial's model with their attention
    returned) as it was at :data:`TEXT_COMMIT`, read with ``git show`` from the checkout's
    history and imported, not copied.  It subclasses Hugging Face's ``PreTrainedModel`` and
    ``PretrainedConfig`` only to save checkpoints; where ``transformers`` is not installed
    those two are stood in for by ``torch.nn.Module`` and a plain object (no arithmetic)."""
    import importlib.util
    import subprocess
    import tempfile
    import types
    import torch
    src = subprocess.run(["git", "-C", str(repo), "show", f"{TEXT_COMMIT}:{TEXT_FILE}"], capture_output=True, text=True)
    if src.returncode != 0:
        raise SystemExit(f"{repo} has no {TEXT_FILE} at commit {TEXT_COMMIT} (a clone with its history is needed): "
                         f"{src.stderr.strip()}")
    if importlib.util.find_spec("transformers") is None:
        class PretrainedConfig:
            def __init__(self, **kwargs):
                self.__dict__.update(kwargs)

        class PreTrainedModel(torch.nn.Module):
            def __init__(self, config):
                super().__init__()
                self.config = config
        sys.modules["transformers"] = types.SimpleNamespace(PreTrainedModel=PreTrainedModel,
                                                            PretrainedConfig=PretrainedConfig)
    path = Path(tempfile.mkdtemp()) / "decoder_wiki_util.py"
    path.write_text(src.stdout)
    spec = importlib.util.spec_from_file_location("decoder_wiki_util", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _their_weights(model, layers: int) -> dict:
    """Our parameter dict from their module's tensors (float64 numpy)."""
    return {k: t.detach().double().numpy().copy() for k, t in _named(model, layers).items()}


def _their_grads(model, layers: int) -> dict:
    """Their gradients under our names (float64 numpy)."""
    return {k: t.grad.detach().double().numpy().copy() for k, t in _named(model, layers).items()}


def _named(model, layers: int) -> dict:
    """Their parameters under our names."""
    out = {"E": model.encoder.weight, "W_dec": model.decoder.weight, "b_dec": model.decoder.bias}
    for i, layer in enumerate(model.transformer_encoder.layers[:layers]):
        a = layer.self_attn
        out.update({f"l{i}.W_in": a.in_proj_weight, f"l{i}.b_in": a.in_proj_bias, f"l{i}.W_out": a.out_proj.weight,
                    f"l{i}.b_out": a.out_proj.bias, f"l{i}.ln1.g": layer.norm1.weight, f"l{i}.ln1.b": layer.norm1.bias,
                    f"l{i}.W1": layer.linear1.weight, f"l{i}.b1": layer.linear1.bias, f"l{i}.W2": layer.linear2.weight,
                    f"l{i}.b2": layer.linear2.bias, f"l{i}.ln2.g": layer.norm2.weight, f"l{i}.ln2.b": layer.norm2.bias})
    return out


def _float64_positions(model, out: dict) -> None:
    """Their sinusoidal table is computed in float32 (a buffer made before ``.double()``):
    compare it with ours at float32 round-off, then give their model ours, so that every
    other row compares float64 with float64."""
    import torch
    pe = model.pos_encoder.pe                                # (max_len, 1, d)
    ours = nn.sinusoidal_positions(pe.shape[0], pe.shape[2])
    out["sinusoidal positions 0-63 (theirs computed in float32)"] = rel_error(ours[:64], pe[:64, 0].numpy())
    with torch.no_grad():
        pe.copy_(torch.from_numpy(ours)[:, None, :])


def compare_text_model(repo: Path, torch, rng, clip: float = 0.5, multiplier: float = 3.0) -> dict:
    """Their ``TransformerModel`` (eval mode: no dropout) in float64 against
    ``theory.scan_snap.text_model`` on the same weights and tokens — logits, every layer's
    attention weights, the cross-entropy and every gradient, for 1 and 3 layers — then five
    steps of their optimiser (SGD, two groups: layer 0's linear1 at lr_z · lr_y_multi_on_z,
    everything else at lr_z; ``clip_grad_norm_(…, 0.5)``) against ours (``text._sgd_step``)."""
    from theory.scan_snap import text as X, text_model as tm
    util = _text_module(repo)
    out = {}
    V, d, d_hid, T, B = 50, 16, 12, 9, 4
    for layers in (1, 3):
        torch.manual_seed(layers)
        model = util.TransformerModel(util.TransConfig(V, d, 1, d_hid, layers, 0.2)).double().eval()
        with torch.no_grad():                                # perturb the zero biases and unit gains: test them too
            for k, t in _named(model, layers).items():
                if k.endswith(("b_in", "b_out", ".g", ".b", "b_dec")):
                    t.add_(torch.from_numpy(0.1 * rng.standard_normal(tuple(t.shape))))
        p = _their_weights(model, layers)
        _float64_positions(model, out)
        x, y = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
        mask = util.generate_square_subsequent_mask(T).double()
        logits, attention = model(torch.from_numpy(x.T.copy()), mask)   # theirs is (T, B, ·)
        loss = torch.nn.CrossEntropyLoss()(logits.reshape(-1, V), torch.from_numpy(y.T.reshape(-1).copy()))
        loss.backward()
        ours_logits, cache = tm.lm_forward(p, x)
        ours_loss, g, _ = tm.lm_loss(p, x, y)
        tag = f"{layers} layer{'s' if layers > 1 else ''}"
        out[f"logits ({tag})"] = rel_error(ours_logits, logits.detach().numpy().transpose(1, 0, 2))
        out[f"attention weights, every layer ({tag})"] = max(
            rel_error(a, b.detach().numpy()) for a, b in zip(cache.attention, attention))
        out[f"cross-entropy ({tag})"] = rel_error(np.array([ours_loss]), np.array([loss.item()]))
        theirs = _their_grads(model, layers)
        out[f"gradients, worst parameter ({tag})"] = max(rel_error(g[k], theirs[k]) for k in g)
    # five steps of their optimiser against ours, on fresh batches (gradients large enough to clip)
    lr_z, ratio = 5.0, 3.0                                   # theirs; ours: multiplier
    torch.manual_seed(0)
    model = util.TransformerModel(util.TransConfig(V, d, 1, d_hid, 1, 0.2)).double().eval()
    _float64_positions(model, out)
    p = _their_weights(model, 1)
    named = _named(model, 1)
    fast = [named[k] for k in X.FAST]
    opt = torch.optim.SGD([{"params": fast, "lr": lr_z * ratio},
                           {"params": [v for k, v in named.items() if k not in X.FAST], "lr": lr_z}])
    clipped = 0
    for _ in range(5):
        x, y = rng.integers(0, V, (B, T)), rng.integers(0, V, (B, T))
        opt.zero_grad()
        logits, _ = model(torch.from_numpy(x.T.copy()), util.generate_square_subsequent_mask(T).double())
        torch.nn.CrossEntropyLoss()(logits.reshape(-1, V), torch.from_numpy(y.T.reshape(-1).copy())).backward()
        clipped += float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)) > 0.5
        opt.step()
        _, g, _ = tm.lm_loss(p, x, y)
        X._sgd_step(p, g, lr_z, multiplier, clip)
    after = _their_weights(model, 1)
    out[f"parameters after 5 two-rate SGD steps ({clipped} of 5 clipped)"] = max(rel_error(p[k], after[k]) for k in p)
    return out


def check_figure_6(repo: Path):
    """The largest difference between FIGURE_6 and their pickle, or None where pandas cannot read it."""
    import pickle
    try:
        import pandas  # noqa: F401
        table = pickle.load(open(repo / "ssl/real-dataset/scan_snap/figure_6_data.pkl", "rb"))
    except Exception as err:                                  # pandas >= 2 cannot unpickle pandas 1 blocks
        return f"skipped: pandas could not read the pickle ({type(err).__name__}); pandas < 2 can"
    matcher = re.compile(r"([\d\.\-]+) ± ([\d\.]+) \[(\d+)\]")
    worst = 0.0
    for idx, line in table.iterrows():
        mean, sd, n = matcher.match(line[("entropy", "agg")]).groups()
        ours = FIGURE_6[int(idx[0])][float(idx[1])][int(idx[2])]
        worst = max(worst, abs(ours[0] - float(mean)), abs(ours[1] - float(sd)), abs(int(n) - 10))
    return worst


def main(argv=None) -> int:
    ap = parser(__doc__, REPOSITORY, COMMIT, PERTURBATIONS, tol=1e-10)
    ap.add_argument("--figure-6-only", action="store_true",
                    help="only compare theory/scan_snap/authors.py with figure_6_data.pkl (in an environment with "
                         "pandas < 2, which needs numpy < 2: the conformance-tian extra)")
    args = ap.parse_args(argv)
    source = checkout(ap, args, MARKER, REPOSITORY, COMMIT)
    if args.figure_6_only:
        fig6 = check_figure_6(args.repo)
        print(f"theory/scan_snap/authors.py against {source} figure_6_data.pkl: "
              + (fig6 if isinstance(fig6, str) else f"largest difference {fig6:g}"))
        return 0 if fig6 == 0 else 1
    code = args.repo / "ssl" / "real-dataset"
    sys.path[:0] = [str(code), str(args.repo / "ssl")]
    import torch
    import decoder_only as dec
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ok = True
    print(f"Tian et al. 2023: ours against {source} (float64; relative difference)")
    announce_perturbation(args, PERTURBATIONS)
    rows = [(k, v, args.tol) for k, v in compare_model(dec, torch, rng, 0.8 if args.perturb == "momentum" else 0.9).items()]
    rows += [(k, v, 1e-6) for k, v in compare_tasks(dec).items()]
    print(f"  (the real-text model: their decoder_wiki_util.py at {TEXT_COMMIT}, the paper's time)")
    rows += [(k, v, 1e-6 if "float32" in k else args.tol) for k, v in compare_text_model(
        args.repo, torch, rng, 0.6 if args.perturb == "clip" else 0.5, 2.5 if args.perturb == "lr-ratio" else 3.0).items()]
    for name, d, tol in rows:
        ok &= d <= tol
        print(f"  {name:52s} {d:.1e}  (tolerance {tol:g}){'' if d <= tol else '   DIFFERS'}")
    fig6 = check_figure_6(args.repo)
    if isinstance(fig6, str):
        print(f"  theory/scan_snap/authors.py against figure_6_data.pkl: {fig6}")
    else:
        ok &= fig6 == 0
        print(f"  theory/scan_snap/authors.py against figure_6_data.pkl: largest difference {fig6:g}"
              f"{'' if fig6 == 0 else '   DIFFERS'}")
    print("all agree" if ok else "SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
