"""Bad-input rows of Reddy 2024 (theory.induction): one per public callable (see tests/test_bad_input.py)."""
import functools
import tempfile

import numpy as np

from theory.core import nn
from theory import induction as itr
from theory.induction import network as net
from theory.induction import paper as ip
from theory.induction import two_param as two
from theory.induction import three_param as induction_head
from tests.bad_input_kinds import (
    A, AB, COUNT, Cache, Choice, Custom, Executor, Flag, Func, IntList, Labels, NONNEG, Obj, POS, PROB,
    Params, R, REAL, Rng, SIZE, Size, Spec, Str, UNIT, Unchecked, demo_record)


TINY_NET = itr.NetworkConfig(K=8, L=4, N=2, D=3, n_positions=6, B=1, steps=2, eval_every=1, n_eval=8, batch=4)

def net_data():
    rng = np.random.default_rng(0)
    classes = itr.item_label_classes(rng, 8, 4, 3)
    b = itr.item_label_sequences(rng, classes, 4, 2, B=1, eps=0.1, p_novel=1.0)
    return net.embed(b.content, 0, 6), b, net.init_network(0, 9, 4)

def two_data():
    _, b, _ = net_data()
    return b.content, b, two.init_two_param(0, 3, 4)

@functools.lru_cache(maxsize=None)
def paper_record():
    return ip.reproduce("novel", steps=1)


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.induction.data.ItemLabelBatch",
                  "theory.induction.three_param.Trajectory",
                  "theory.induction.training.NetworkRun",
                  "theory.induction.three_param.ThreeParamCache",
                  "theory.induction.network.ClassifierCache",
                  "theory.induction.network.NetworkCache",
                  "theory.induction.two_param.TwoParamCache"}

SPECS = [
    Spec("theory.induction.data.ItemLabelClasses", itr.data.ItemLabelClasses, lambda: dict(means=R(4, 3), labels=R(2, 3)),
         dict(means=A, labels=A)),
    Spec("theory.induction.data.item_label_classes", itr.item_label_classes, lambda: dict(rng=0, K=8, L=4, D=3),
         dict(rng=Rng(), K=SIZE, L=SIZE, D=SIZE)),
    Spec("theory.induction.data.zipf_probabilities", itr.data.zipf_probabilities, lambda: dict(K=5, alpha=1.0), dict(K=SIZE, alpha=NONNEG)),
    Spec("theory.induction.data.check_burstiness", itr.data.check_burstiness, lambda: dict(B=2, N=4), dict(B=COUNT, N=SIZE)),
    Spec("theory.induction.data.item_label_sequences", itr.item_label_sequences,
         lambda: dict(rng=0, classes=itr.item_label_classes(0, 8, 4, 3), n_seq=3, N=2, B=1, eps=0.1, alpha=0.5,
                      p_bursty=0.5, p_novel=0.5, shift_labels=False, sampler="author"),
         dict(rng=Rng(), classes=Obj(), n_seq=SIZE, N=SIZE, B=COUNT, eps=NONNEG, alpha=NONNEG, p_bursty=PROB,
              p_novel=PROB, shift_labels=Flag(), sampler=Choice())),
    # induction.three_param
    Spec("theory.induction.three_param.three_param_forward", induction_head.three_param_forward,
         lambda: dict(theta=R(2, 3), N=2, L=4), dict(theta=AB, N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.three_param_backward", induction_head.three_param_backward,
         lambda: dict(dloss=1.0, cache=induction_head.three_param_forward(R(3), 2, 4)[1]), dict(dloss=REAL, cache=Cache())),
    Spec("theory.induction.three_param.three_param_loss", induction_head.three_param_loss, lambda: dict(theta=R(3), N=2, L=4),
         dict(theta=AB, N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.origin_gradient", induction_head.origin_gradient, lambda: dict(N=2, L=4), dict(N=SIZE, L=SIZE)),
    Spec("theory.induction.three_param.gradient_descent", induction_head.gradient_descent,
         lambda: dict(N=2, L=4, lr=0.1, steps=20, theta0=R(3), record_every=5, stop_at_jump=False),
         dict(N=SIZE, L=SIZE, lr=POS, steps=SIZE, theta0=A, record_every=SIZE, stop_at_jump=Flag())),
    Spec("theory.induction.three_param.plateau_table", induction_head.plateau_table, lambda: dict(Ns=[2], Ls=[4], lr=0.1, steps=20),
         dict(Ns=IntList(), Ls=IntList(), lr=POS, steps=SIZE)),
    Spec("theory.induction.reproduction.reproduce_landscape", itr.reproduction.reproduce_landscape,
         lambda: dict(Ns=[2], L_factors=[2], lr=0.1, steps=20, executor=None),
         dict(Ns=IntList(), L_factors=IntList(), lr=POS, steps=SIZE, executor=Executor())),
    Spec("theory.induction.reproduction.format_landscape", itr.reproduction.format_landscape,
         lambda: dict(r=itr.reproduction.reproduce_landscape([2], [2], steps=20)), dict(r=Custom(must_fail=("abc", {})))),
    # induction.network
    Spec("theory.induction.network.embed", net.embed, lambda: dict(content=R(2, 5, 3), rng=0, n_positions=6),
         dict(content=A, rng=Rng(), n_positions=SIZE)),
    Spec("theory.induction.network.init_classifier", net.init_classifier, lambda: dict(rng=0, d_in=3, h=4, L=2),
         dict(rng=Rng(), d_in=SIZE, h=SIZE, L=SIZE)),
    Spec("theory.induction.network.classifier_weights", net.classifier_weights,
         lambda: dict(params=net.init_classifier(0, 3, 4, 2), d_in=3), dict(params=Params(), d_in=SIZE)),
    Spec("theory.induction.network.network_weights", net.network_weights, lambda: dict(params=net_data()[2], d=9),
         dict(params=Params(), d=SIZE)),
    Spec("theory.induction.network.classifier_forward", net.classifier_forward,
         lambda: dict(u=R(5, 3), params=net.init_classifier(0, 3, 4, 2)), dict(u=A, params=Params())),
    Spec("theory.induction.network.classifier_backward", net.classifier_backward,
         lambda: dict(dlogits=R(5, 2), cache=net.classifier_forward(R(5, 3), net.init_classifier(0, 3, 4, 2))[1],
                      params=net.init_classifier(0, 3, 4, 2)),
         dict(dlogits=A, cache=Cache(), params=Params())),
    Spec("theory.induction.network.init_network", net.init_network,
         lambda: dict(rng=0, d=5, L=2, init="author", content_dim=3),
         dict(rng=Rng(), d=SIZE, L=SIZE, init=Choice(), content_dim=Custom(must_fail=(0, 2.5, "3", None), with_none=False))),
    Spec("theory.induction.network.classifier_activity", net.classifier_activity,
         lambda: dict(u3=np.maximum(R(5, 4), 0.0)), dict(u3=Custom(must_fail=(-np.ones((2, 2)), np.ones(3), "abc")))),
    Spec("theory.induction.network.network_forward", net.network_forward, lambda: dict(X=net_data()[0], params=net_data()[2]),
         dict(X=A, params=Params())),
    Spec("theory.induction.network.network_backward", net.network_backward,
         lambda: dict(dlogits=R(4, 4), cache=net.network_forward(net_data()[0], net_data()[2])[1]),
         dict(dlogits=A, cache=Cache())),
    Spec("theory.induction.network.cross_entropy_loss", net.cross_entropy_loss,
         lambda: dict(forward=net.network_forward, backward=net.network_backward, params=net_data()[2], X=net_data()[0],
                      target=net_data()[1].target),
         dict(forward=Func(), backward=Func(), params=Params(), X=A, target=Labels())),
    Spec("theory.induction.network.network_loss", net.network_loss,
         lambda: dict(params=net_data()[2], X=net_data()[0], target=net_data()[1].target),
         dict(params=Params(), X=A, target=Labels())),
    Spec("theory.induction.network.progress_measures", net.progress_measures,
         lambda: dict(P1=nn.softmax(R(4, 5, 5)), P2=nn.softmax(R(4, 5)), batch=net_data()[1]),
         dict(P1=A, P2=A, batch=Obj())),
    Spec("theory.induction.network.context_label_accuracy", net.context_label_accuracy,
         lambda: dict(logits=R(4, 4), batch=net_data()[1]), dict(logits=A, batch=Obj())),
    Spec("theory.induction.network.attention_measures", net.attention_measures,
         lambda: dict(X=net_data()[0], params=net_data()[2], batch=net_data()[1]), dict(X=A, params=Params(), batch=Obj())),
    Spec("theory.induction.training.NetworkConfig", itr.NetworkConfig, lambda: {f: getattr(TINY_NET, f) for f in TINY_NET.__dataclass_fields__},
         dict(K=SIZE, L=SIZE, N=SIZE, D=SIZE, eps=NONNEG, alpha=NONNEG, B=COUNT, p_bursty=PROB, p_novel=PROB,
              n_positions=SIZE, lr=POS, batch=SIZE, weight_decay=UNIT, steps=SIZE, eval_every=SIZE, n_eval=SIZE,
              seed=COUNT, dtype=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.training.Model", itr.training.Model,
         lambda: {f: getattr(itr.training.NETWORK, f) for f in itr.training.Model.__dataclass_fields__},
         dict(name=Str(), init=Func(), inputs=Func(), forward=Func(), loss=Func(), attention=Func(), hidden=Func())),
    Spec("theory.induction.training.NetworkRun.jump", lambda curve: itr.train_network(TINY_NET).jump(curve),
         lambda: dict(curve="icl"), dict(curve=Choice())),
    Spec("theory.induction.training.train_network", itr.train_network, lambda: dict(cfg=TINY_NET, progress=print, model=itr.training.NETWORK),
         dict(cfg=Obj(), progress=Func(optional=True), model=Obj())),
    Spec("theory.induction.training.sweep", itr.sweep,
         lambda: dict(base=TINY_NET, grid={"B": [0, 1]}, seeds=1, model=itr.training.TWO_PARAM, executor=None, progress=print),
         dict(base=Obj(), grid=Custom(must_fail=("abc", {}, {"seed": [1]}, {"B": []}, {"B": [3]}, {"K": 5})),
              seeds=SIZE, model=Obj(), executor=Executor(), progress=Func(optional=True))),
    Spec("theory.induction.training.format_sweep", itr.training.format_sweep, lambda: dict(rows=itr.sweep(TINY_NET, {"B": [1]})),
         dict(rows=Custom(must_fail=("abc", [], [("B", 1, [])], [("B", 1, [3])])))),
    Spec("theory.induction.reproduction.reproduce_report", itr.reproduction.reproduce_report,
         lambda: dict(quick=True, seeds=1, executor=None, progress=None),
         dict(quick=Flag(), seeds=SIZE, executor=Executor(), progress=Func(optional=True)), run_good=False),
    # induction.paper
    Spec("theory.induction.paper.paper_config", ip.paper_config,
         lambda: dict(regime="novel", seed=0, steps=10, K=None, dtype="float32", sampler="author", init="author"),
         dict(regime=Choice(), seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, 2.5, "256"), must_pass=(512,), optional=True),
              dtype=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.paper.record_name", ip.record_name,
         lambda: dict(regime="novel", K=None, model="two-param", sampler="fresh", init="package"),
         dict(regime=Choice(), K=Custom(must_fail=(0, -1, 2.5, "3"), must_pass=(512,), optional=True),
              model=Choice(), sampler=Choice(), init=Choice())),
    Spec("theory.induction.paper.check_paper_record", ip.check_paper_record, lambda: dict(record=paper_record()),
         dict(record=Custom(must_fail=({}, "abc", demo_record())))),
    Spec("theory.induction.paper.seed_summary", ip.seed_summary,
         lambda: dict(run=itr.training.NetworkRun.from_dict(paper_record()["results"]["runs"][0])),
         dict(run=Custom(must_fail=("abc", 3, {})))),
    Spec("theory.induction.paper.reproduce", ip.reproduce,
         lambda: dict(regime="novel", seeds=1, first_seed=0, steps=1, K=None, model="network", sampler="author",
                      init="package", executor=None, progress=None),
         dict(regime=Choice(), seeds=SIZE, first_seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, "256"), optional=True),
              model=Choice(), sampler=Choice(), init=Choice(), executor=Executor(), progress=Func(optional=True)),
         run_good=False),
    Spec("theory.induction.paper.reproduce_report", ip.reproduce_report,
         lambda: dict(regime="novel", seeds=1, first_seed=0, steps=1, K=None, model="network", sampler="author",
                      init="package", executor=None, progress=None),
         dict(regime=Choice(), seeds=SIZE, first_seed=COUNT, steps=SIZE, K=Custom(must_fail=(0, 100, "256"), optional=True),
              model=Choice(), sampler=Choice(), init=Choice(), executor=Executor(), progress=Func(optional=True)),
         run_good=False),
    Spec("theory.induction.paper.format_report", ip.format_report, lambda: dict(record=paper_record()),
         dict(record=Custom(must_fail=({}, demo_record())))),
    # induction.two_param
    Spec("theory.induction.two_param.previous_token_weights", two.previous_token_weights, lambda: dict(beta=1.0, T=5),
         dict(beta=REAL, T=SIZE)),
    Spec("theory.induction.two_param.init_two_param", two.init_two_param, lambda: dict(rng=0, D=3, L=4, hidden=5),
         dict(rng=Rng(), D=SIZE, L=SIZE, hidden=Size(optional=True))),
    Spec("theory.induction.two_param.two_param_forward", two.two_param_forward, lambda: dict(C=two_data()[0], params=two_data()[2]),
         dict(C=A, params=Params())),
    Spec("theory.induction.two_param.two_param_backward", two.two_param_backward,
         lambda: dict(dlogits=R(4, 4), cache=two.two_param_forward(two_data()[0], two_data()[2])[1]),
         dict(dlogits=A, cache=Cache())),
    Spec("theory.induction.two_param.two_param_loss", two.two_param_loss,
         lambda: dict(params=two_data()[2], C=two_data()[0], target=two_data()[1].target),
         dict(params=Params(), C=A, target=Labels())),
    Spec("theory.induction.two_param.idealised_probability", two.idealised_probability, lambda: dict(theta=R(3), N=2, L=4),
         dict(theta=A, N=SIZE, L=SIZE)),
    Spec("theory.induction.reproduction.reproduce", itr.reproduce,
         lambda: dict(quick=True, seeds=1, executor=None, progress=None),
         dict(quick=Flag(), seeds=SIZE, executor=Executor(), progress=Func(optional=True)), run_good=False),
    Spec("theory.induction.reproduction.format_report", itr.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.induction.training.NetworkRun.from_dict", itr.training.NetworkRun.from_dict,
         lambda: dict(d=itr.train_network(TINY_NET).to_dict()), dict(d=Custom(must_fail=({}, "abc", [])))),
    # figures (each topic's), core.plotting, the top-level draw_all
    Spec("theory.induction.figures.induction_head_figures", itr.figures.induction_head_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.induction.figures.induction_paper_figures", itr.figures.induction_paper_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.induction.claims.symbolic_gradient", itr.claims.symbolic_gradient, lambda: {}),
]
