"""Bad-input rows of the core (theory.core): one per public callable (see tests/test_bad_input.py)."""
import tempfile

import numpy as np

from theory.core import nn
from theory.core import gradcheck
from theory.core import optim
from theory.core import plotting
from theory.core import proofs
from theory.core import records
from theory.core import registry
from theory import claims
from tests.bad_input_kinds import (
    A, AB, Arr, COUNT, Cache, Choice, Custom, Executor, Flag, Func, Labels, Mask, NONNEG, POS, Params, R, REAL,
    Real, Rng, SIZE, Size, Spec, Str, UNIT, Unchecked, demo_record)


def demo_record_file():
    return str(records.write_record(demo_record(), tempfile.mkdtemp()))


class _Saves:
    """Stands in for a matplotlib Figure (the row runs without matplotlib)."""
    def savefig(self, path):
        open(path, "wb").close()


class _Axes:
    """Stands in for a matplotlib Axes (the rows run without matplotlib)."""
    def legend(self, **kw):
        pass

    def grid(self, **kw):
        pass

    def set_xticks(self, *a, **kw):
        pass

    def set_xlim(self, *a):
        pass

    def set_xlabel(self, *a):
        pass

    def imshow(self, *a, **kw):
        return None

def _reproduction_args():
    return dict(name="demo", summary="a demo", run=lambda options, executor=None, progress=None: demo_record(),
                report=lambda record: "report", options=(), check=None, title=None, workers=True, quick=True)

def _topic_args():
    return dict(name="demo", papers={"dai": "Dai et al. 2023"}, claims=claims.CLAIMS[:1],
                reproductions=(registry.Reproduction(**_reproduction_args()),),
                figures={"demo": lambda record, out_dir, pdf=False: []}, requires=("gd_step",), title="Demo")

def quadratic(p):
    return float(0.5 * np.sum(np.asarray(p["a"]) ** 2))

def _lin():
    x, W, b = R(2, 3, 4), R(5, 4), R(5)
    return dict(x=x, W=W, b=b)

def _attn():
    return dict(Q=R(2, 3, 4), K=R(2, 5, 4), V=R(2, 5, 2), mask=np.ones((3, 5), bool), scale=0.5)

def _self_attn():
    return dict(X=R(2, 3, 4), params={"W_Q": R(2, 4), "W_K": R(2, 4), "W_V": R(3, 4)}, kind="softmax",
                mask=nn.attention_mask(3, causal=True), scale=1.0)

def _sgd_step(cls):
    return lambda **kw: cls(0.1).step(**kw)


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.core.nn.LinearCache",
                  "theory.core.nn.LayerNormCache",
                  "theory.core.nn.AttentionCache",
                  "theory.core.nn.SelfAttentionCache",
                  "theory.core.nn.SquaredErrorCache",
                  "theory.core.nn.CrossEntropyCache"}

SPECS = [
    # core: nn
    Spec("theory.core.nn.linear_forward", nn.linear_forward, _lin, dict(x=AB, W=A, b=Arr(optional=True))),
    Spec("theory.core.nn.linear_backward", nn.linear_backward,
         lambda: dict(dy=R(2, 3, 5), cache=nn.linear_forward(**_lin())[1]), dict(dy=A, cache=Cache())),
    Spec("theory.core.nn.sinusoidal_positions", nn.sinusoidal_positions, lambda: dict(T=4, width=6), dict(T=SIZE, width=SIZE)),
    Spec("theory.core.nn.softmax", nn.softmax, lambda: dict(z=R(2, 3), axis=-1), dict(z=AB, axis=Custom(must_fail=(5, 1.5, "0")))),
    Spec("theory.core.nn.softmax_backward", nn.softmax_backward, lambda: dict(dp=R(2, 3), p=nn.softmax(R(2, 3)), axis=-1),
         dict(dp=A, p=AB, axis=Custom(must_fail=(5, 1.5, "0")))),
    Spec("theory.core.nn.logsumexp", nn.logsumexp, lambda: dict(z=R(2, 3), axis=0), dict(z=AB, axis=Custom(must_fail=(5, "0")))),
    Spec("theory.core.nn.log_softmax", nn.log_softmax, lambda: dict(z=R(2, 3), axis=1), dict(z=AB, axis=Custom(must_fail=(2, "0")))),
    Spec("theory.core.nn.relu_forward", nn.relu_forward, lambda: dict(x=R(2, 3)), dict(x=AB)),
    Spec("theory.core.nn.layer_norm_forward", nn.layer_norm_forward, lambda: dict(x=R(2, 3), gain=R(3), bias=R(3), eps=1e-5),
         dict(x=Arr(batch=True), gain=Custom(must_fail=(R(2), "a", R(3, 1))), bias=Custom(must_fail=(R(4), "a")), eps=POS)),
    Spec("theory.core.nn.layer_norm_backward", nn.layer_norm_backward,
         lambda: dict(dy=R(2, 3), cache=nn.layer_norm_forward(R(2, 3), R(3), R(3))[1]),
         dict(dy=Custom(must_fail=(R(2, 4), "a")), cache=Cache())),
    Spec("theory.core.nn.relu_backward", nn.relu_backward, lambda: dict(dy=R(2, 3), cache=nn.relu_forward(R(2, 3))[1]),
         dict(dy=A, cache=Cache())),
    Spec("theory.core.nn.attention_mask", nn.attention_mask,
         lambda: dict(n_queries=3, n_keys=4, causal=True, exclude_self=False, keys_only_first=2),
         dict(n_queries=SIZE, n_keys=Size(optional=True), causal=Flag(), exclude_self=Flag(),
              keys_only_first=Size(optional=True))),
    Spec("theory.core.nn.linear_attention_forward", nn.linear_attention_forward, _attn,
         dict(Q=AB, K=AB, V=AB, mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.linear_attention_backward", nn.linear_attention_backward,
         lambda: dict(dout=R(2, 3, 2), cache=nn.linear_attention_forward(**_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.softmax_attention_forward", nn.softmax_attention_forward, _attn,
         dict(Q=AB, K=AB, V=AB, mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.softmax_attention_backward", nn.softmax_attention_backward,
         lambda: dict(dout=R(2, 3, 2), cache=nn.softmax_attention_forward(**_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.self_attention_forward", nn.self_attention_forward, _self_attn,
         dict(X=AB, params=Params(), kind=Choice(), mask=Mask(optional=True), scale=REAL)),
    Spec("theory.core.nn.self_attention_backward", nn.self_attention_backward,
         lambda: dict(dout=R(2, 3, 3), cache=nn.self_attention_forward(**_self_attn())[1]), dict(dout=A, cache=Cache())),
    Spec("theory.core.nn.squared_error_forward", nn.squared_error_forward, lambda: dict(pred=R(4, 2), target=R(4, 2, seed=1)),
         dict(pred=AB, target=A)),
    Spec("theory.core.nn.squared_error_backward", nn.squared_error_backward,
         lambda: dict(dloss=1.0, cache=nn.squared_error_forward(R(4, 2), R(4, 2, seed=1))[1]), dict(dloss=REAL, cache=Cache())),
    Spec("theory.core.nn.cross_entropy_forward", nn.cross_entropy_forward, lambda: dict(logits=R(4, 3), labels=np.array([0, 2, 1, 1])),
         dict(logits=AB, labels=Labels())),
    Spec("theory.core.nn.cross_entropy_backward", nn.cross_entropy_backward,
         lambda: dict(dloss=1.0, cache=nn.cross_entropy_forward(R(4, 3), np.array([0, 2, 1, 1]))[1]),
         dict(dloss=REAL, cache=Cache())),
    # core: gradcheck
    Spec("theory.core.gradcheck.norm", gradcheck.norm, lambda: dict(x=R(3, 2)), dict(x=Arr(batch=True, empty_ok=True))),
    Spec("theory.core.gradcheck.rel_error", gradcheck.rel_error, lambda: dict(a=R(3, 2), b=R(3, 2, seed=1), scale=0.5),
         dict(a=Arr(batch=True, empty_ok=True), b=Arr(batch=True, empty_ok=True), scale=NONNEG)),
    Spec("theory.core.gradcheck.numerical_gradient", gradcheck.numerical_gradient,
         lambda: dict(f=quadratic, params={"a": R(3)}, eps=1e-5), dict(f=Func(), params=Params(shaped=False), eps=POS)),
    Spec("theory.core.gradcheck.directional_errors", gradcheck.directional_errors,
         lambda: dict(f=quadratic, params={"a": R(3)}, grads={"a": R(3)}, n_directions=2, eps=1e-5, rng=0),
         dict(f=Func(), params=Params(shaped=False), grads=Params(), n_directions=SIZE, eps=POS, rng=Rng())),
    Spec("theory.core.gradcheck.check_layer", gradcheck.check_layer,
         lambda: dict(forward=lambda x: (2 * x, None), backward=lambda dout, cache: 2 * dout, inputs={"x": R(3, 2)},
                      tol=1e-6, eps=1e-5, rng=0),
         dict(forward=Func(), backward=Func(), inputs=Custom(must_fail=({}, "abc", {"x": R(3).astype(np.float32)})),
              tol=POS, eps=POS, rng=Rng())),
    Spec("theory.core.gradcheck.check_gradients", gradcheck.check_gradients,
         lambda: dict(f=quadratic, params={"a": R(3)}, grads={"a": R(3)}, tol=1e-6, eps=1e-5, max_entries=10,
                      n_directions=2, rng=0),
         dict(f=Func(), params=Params(shaped=False), grads=Params(), tol=POS, eps=POS, max_entries=SIZE,
              n_directions=SIZE, rng=Rng())),
    # core: optim
    Spec("theory.core.optim.SGD", optim.SGD, lambda: dict(lr=0.1, weight_decay=0.01), dict(lr=POS, weight_decay=UNIT)),
    Spec("theory.core.optim.Momentum", optim.Momentum, lambda: dict(lr=0.1, beta=0.9), dict(lr=POS, beta=UNIT)),
    Spec("theory.core.optim.Adam", optim.Adam, lambda: dict(lr=0.1, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.1),
         dict(lr=POS, beta1=UNIT, beta2=UNIT, eps=POS, weight_decay=NONNEG)),
    *[Spec(f"{c.__module__}.{c.__name__}.step", _sgd_step(c), lambda: dict(params={"w": R(3), "b": R(2)}, grads={"w": R(3), "b": R(2)}),
           dict(params=Params(shaped=False), grads=Params())) for c in (optim.SGD, optim.Momentum, optim.Adam)],
    Spec("theory.core.optim.warmup_cosine", optim.warmup_cosine,
         lambda: dict(step=3, peak=1e-3, warmup=2, total=10, end=1e-5, start=0.0),
         dict(step=COUNT, peak=POS, warmup=Custom(must_fail=(10, 11, -1, 2.5, "a")), total=Custom(must_fail=(2, 0, -1, 2.5, "a")),
              end=NONNEG, start=NONNEG)),
    Spec("theory.core.optim.levenberg_marquardt", optim.levenberg_marquardt,
         lambda: dict(loss_grad=lambda x: (1.0 + float(x @ x), 2 * x), x=R(2), gtol=1e-8, max_iter=20, h=1e-5),
         dict(loss_grad=Custom(must_fail=("f", 3)), x=Custom(must_fail=(R(2, 2), [np.nan, 1.0], "ab")),
              gtol=POS, max_iter=SIZE, h=POS)),
    Spec("theory.core.optim.clip_by_value", optim.clip_by_value, lambda: dict(grads={"w": R(3)}, max_value=0.5),
         dict(grads=Custom(must_fail=({}, {"w": np.array([1.0, np.nan])}, "abc")), max_value=POS)),
    Spec("theory.core.optim.clip_by_global_norm", optim.clip_by_global_norm, lambda: dict(grads={"w": R(3)}, max_norm=0.5),
         dict(grads=Params(shaped=False), max_norm=POS)),
    Spec("theory.core.optim.global_norm", optim.global_norm, lambda: dict(grads={"w": R(3)}), dict(grads=Params(shaped=False))),
    # core: records
    Spec("theory.core.records.jsonable", records.jsonable, lambda: dict(obj={"a": R(2)}, where="obj"),
         dict(obj=Custom(must_fail=(float("nan"), {"a": object()}, [np.inf]), must_pass=(None, 3), with_none=False),
              where=Unchecked(reason="a label for messages"))),
    Spec("theory.core.records.make_record", records.make_record,
         lambda: dict(name="demo", settings={}, parts={}, results={"x": 1.0}, curves={}),
         dict(name=Str(), settings=Custom(must_fail=("abc", [])), parts=Custom(must_fail=("abc",)),
              results=Custom(must_fail=("abc", {"x": float("nan")})), curves=Custom(must_fail=(3,)))),
    Spec("theory.core.records.write_record", records.write_record, lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp()),
         dict(record=Custom(must_fail=({}, "abc", dict(demo_record(), version=99))),
              out_dir=Unchecked(reason="any path; the file system answers"))),
    Spec("theory.core.records.read_record", records.read_record, lambda: dict(path=demo_record_file()),
         dict(path=Custom(must_fail=(__file__,)))),
    Spec("theory.core.records.check_record", records.check_record, lambda: dict(record=demo_record(), name="demo", where="r"),
         dict(record=Custom(must_fail=({}, "abc")), name=Custom(must_fail=("gd-step",)),
              where=Unchecked(reason="a label for messages"))),
    Spec("theory.core.records.round_trip", records.round_trip, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, "abc")))),
    Spec("theory.core.plotting.have_matplotlib", plotting.have_matplotlib, lambda: {}),
    Spec("theory.core.plotting.figure", plotting.figure, lambda: dict(width=2.0, height=1.5),
         dict(width=POS, height=POS), run_good=False),
    Spec("theory.core.plotting.save", plotting.save,
         lambda: dict(fig=_Saves(), out_dir=tempfile.mkdtemp(), stem="demo", pdf=False, caption="One paragraph."),
         dict(fig=Custom(must_fail=("abc", 3)), out_dir=Custom(must_fail=("/nonexistent/dir", 3)),
              stem=Custom(must_fail=("", "a/b", 3)), pdf=Flag(), caption=Custom(must_fail=("", "a\n\nb", 3)))),
    Spec("theory.core.plotting.smooth", plotting.smooth, lambda: dict(y=R(20), window=5), dict(y=A, window=SIZE)),
    Spec("theory.core.plotting.legend", plotting.legend, lambda: dict(ax=_Axes(), ncols=2),
         dict(ax=Custom(must_fail=("abc", 3)), ncols=SIZE)),
    Spec("theory.core.plotting.categorical_axis", plotting.categorical_axis,
         lambda: dict(ax=_Axes(), values=[1, 10, 100], label="K"),
         dict(ax=Custom(must_fail=("abc", 3)), values=Custom(must_fail=([], "abc", 3)), label=Str())),
    Spec("theory.core.plotting.signed_image", plotting.signed_image, lambda: dict(ax=_Axes(), M=R(3, 3), lim=2.0),
         dict(ax=Custom(must_fail=("abc", 3)), M=Arr(), lim=Real(positive=True, optional=True))),
    Spec("theory.core.plotting.over_seeds", plotting.over_seeds, lambda: dict(seeds=3, what="mean"),
         dict(seeds=SIZE, what=Str())),
    Spec("theory.core.plotting.draw_records", plotting.draw_records,
         lambda: dict(records_dir=tempfile.mkdtemp(), drawer_for=lambda name: None, pdf=False),
         dict(records_dir=Custom(must_fail=("/nonexistent/dir",)), drawer_for=Func(), pdf=Flag()), run_good=False),
    Spec("theory.core.gradcheck.low_precision", gradcheck.low_precision, lambda: dict(label="dQ", x=np.ones(2, np.float32)),
         dict(label=Str(), x=Unchecked(reason="any array: its dtype is the answer"))),
    Spec("theory.core.parallel.batch_parallel", __import__("theory.core.parallel").core.parallel.batch_parallel,
         lambda: dict(loss_and_grads=lambda x: (float(x.sum()), {"x": x}), batch_arrays=(np.ones((4, 2)),),
                      pool=None, chunks=2),
         dict(loss_and_grads=Func(), batch_arrays=Custom(must_fail=((), (np.ones((4, 2)), np.ones((3, 2))), [np.ones(2)],
                                                                    (np.float64(1.0),), "a")),
              pool=Executor(), chunks=SIZE)),
    Spec("theory.core.parallel.batch_threads", __import__("theory.core.parallel").core.parallel.batch_threads,
         lambda: dict(threads=2), dict(threads=SIZE)),
    Spec("theory.core.heap.prime_heap", __import__("theory.core.heap").core.heap.prime_heap, lambda: {}),
    # the registry, the proofs helpers, the ledger
    Spec("theory.core.registry.Claim", registry.Claim,
         lambda: dict(id="x", paper="p", statement="s", verdict=claims.EXACT, proof="dual_form", check=lambda rng: 0.0,
                      tol=1e-12, literal_gap=None, paper_says="", gap_floor=1e-6, tol_note="", max_instances=2,
                      measured_by="round-off"),
         dict(id=Str(), paper=Str(), statement=Str(), verdict=Choice(), proof=Str(), check=Func(), tol=POS,
              literal_gap=Func(optional=True), paper_says=Unchecked(reason="free text"), gap_floor=NONNEG,
              tol_note=Unchecked(reason="free text"), max_instances=Size(optional=True),
              measured_by=Choice(optional=True))),
    Spec("theory.core.registry.Option", lambda flags, kwargs: registry.Option(*flags, **kwargs),
         lambda: dict(flags=("--seeds",), kwargs=dict(type=int, default=1)),
         dict(flags=Custom(must_fail=((), ("seeds",), (3,)), with_none=False), kwargs=Unchecked(reason="argparse's keywords, checked by argparse"))),
    Spec("theory.core.registry.Reproduction", registry.Reproduction, _reproduction_args,
         dict(name=Custom(must_fail=("Gd Step", "", 3)), summary=Str(), run=Func(), report=Func(),
              options=Custom(must_fail=((3,), "abc"), with_none=True), check=Func(optional=True),
              title=Func(optional=True), workers=Flag(), quick=Flag())),
    Spec("theory.core.registry.Topic", registry.Topic, _topic_args,
         dict(name=Custom(must_fail=("not a name", 3, "")), papers=Custom(must_fail=({}, "abc", {"x": 3})),
              claims=Custom(must_fail=((3,), "abc")), reproductions=Custom(must_fail=((3,), "abc")),
              figures=Custom(must_fail=({"x": 3}, {"": len}, "abc")),
              requires=Custom(must_fail=(("not a name",), (3,), ("demo",), "abc")),
              title=Custom(must_fail=(3, ["a"]), with_none=True))),
    Spec("theory.core.proofs.proof_results", proofs.proof_results, lambda: dict(name="dual_form"),
         dict(name=Custom(must_fail=("no_such_proof", "../x", 3, "")))),
    Spec("theory.core.proofs.run_proof_aloud", proofs.run_proof_aloud, lambda: dict(name="dual_form"),
         dict(name=Custom(must_fail=("no_such_proof", "../x", 3, "")))),
]
