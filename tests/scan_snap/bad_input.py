"""Bad-input rows of Tian et al. 2023 (theory.scan_snap): one per public callable (see tests/test_bad_input.py)."""
import tempfile

import numpy as np

from theory import scan_snap as ssn
from tests.bad_input_kinds import (
    A, COUNT, Choice, Custom, Executor, Flag, Func, Obj, POS, PROB, Params, R, Rng, SIZE, Size, Spec, UNIT, Unchecked,
    demo_record)


SS_TASK = ssn.scan_snap_task(1, 2, 2, 2)

SS_TINY = ssn.SGDConfig(n_queries=1, classes_per_query=2, n_common=2, n_distinct=2, T=4, batch=4, steps=2)

def ss_params():
    return ssn.init_params(0, SS_TASK.M)

def ss_batch():
    return ssn.scan_snap_sequences(0, SS_TASK, 3, 4)

_TEXT_DIR = tempfile.mkdtemp()
TEXT_FILE = f"{_TEXT_DIR}/text.txt"
with open(TEXT_FILE, "w", encoding="utf-8") as _f:
    _f.write("\n".join(f"the king saw the {w}, and it was good." for w in ("land", "son", "city", "sea") * 10))
TEXT_TINY = ssn.text.TextConfig(vocab=12, d=4, d_hid=3, epochs=1, eval_every=2, eval_windows=1, batch=2, bptt=10, eval_streams=2,
                                path=TEXT_FILE)
LM = ssn.text_model.init_lm(0, 7, d=4, d_hid=3, layers=1)
LM_X = np.array([[1, 2, 3], [4, 5, 6]])
UNIFORM = np.tri(10) / np.arange(1, 11)[:, None]


def text_run():
    return ssn.text.train_text(TEXT_TINY)


def ss_flow():
    return ssn.integrate_flow(SS_TASK, ss_params(), 1.0, 1.0, [10.0, 20.0, 40.0])


# Built by the library and read by the user (records of results, caches): no rows.
RESULT_RECORDS = {"theory.scan_snap.data.ScanSnapBatch", "theory.scan_snap.corpus.Corpus",
                  "theory.scan_snap.text_model.LMCache", "theory.scan_snap.text_model.LayerCache"}

SPECS = [
    # scan and snap
    Spec("theory.scan_snap.data.ScanSnapTask", ssn.data.ScanSnapTask, lambda: dict(P=SS_TASK.P, query=SS_TASK.query, next_token=SS_TASK.next_token),
         dict(P=Custom(must_fail=(np.full((2, 9), 0.2), -SS_TASK.P, np.zeros((2, 0)), SS_TASK.P[0], "a")),
              query=Custom(must_fail=(SS_TASK.query[:1], np.array([0, 0]), np.array([0.5, 1.0]), "a")),
              next_token=Custom(must_fail=(SS_TASK.next_token[:1], np.array([99, 0]), "a")))),
    Spec("theory.scan_snap.data.ScanSnapTask.distinct", lambda: SS_TASK.distinct(), lambda: {}),
    Spec("theory.scan_snap.data.scan_snap_task", ssn.scan_snap_task, lambda: dict(n_queries=1, classes_per_query=2, n_common=2, n_distinct=2),
         dict(n_queries=SIZE, classes_per_query=SIZE, n_common=COUNT, n_distinct=SIZE)),
    Spec("theory.scan_snap.data.scan_snap_sequences", ssn.scan_snap_sequences, lambda: dict(rng=0, task=SS_TASK, batch=3, T=4),
         dict(rng=Rng(), task=Custom(must_fail=("a", {})), batch=SIZE, T=Custom(must_fail=(1, 0, 2.5, "a")))),
    Spec("theory.scan_snap.model.init_params", ssn.init_params, lambda: dict(rng=0, M=4, zero=False), dict(rng=Rng(), M=SIZE, zero=Flag())),
    Spec("theory.scan_snap.model.attention_histogram", ssn.attention_histogram, lambda: dict(Z=ss_params()["Z"], tokens=ss_batch().tokens),
         dict(Z=A, tokens=Custom(must_fail=(np.array([[1]]), np.array([[0, 99]]), np.ones((2, 3)), "a")))),
    Spec("theory.scan_snap.model.finite_loss", ssn.finite_loss,
         lambda: dict(params=ss_params(), tokens=ss_batch().tokens, labels=ss_batch().labels, residual=False),
         dict(params=Params(), tokens=Custom(must_fail=(np.array([[1]]), np.array([[0, 99]] * 3), "a")),
              labels=Custom(must_fail=(np.array([0, 1]), np.array([0, 1, 99]), "a")), residual=Flag())),
    Spec("theory.scan_snap.model.long_sequence_attention", ssn.long_sequence_attention, lambda: dict(Z=ss_params()["Z"], task=SS_TASK),
         dict(Z=Custom(must_fail=(R(3, 3), np.full((SS_TASK.M, SS_TASK.M), np.nan), "a")), task=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.model.reduced_loss", ssn.reduced_loss, lambda: dict(params=ss_params(), task=SS_TASK),
         dict(params=Params(), task=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.model.paper_flow", ssn.paper_flow, lambda: dict(params=ss_params(), task=SS_TASK, eta_Y=1.0, eta_Z=2.0),
         dict(params=Params(), task=Custom(must_fail=("a", {})), eta_Y=POS, eta_Z=POS)),
    Spec("theory.scan_snap.model.entropy", ssn.entropy, lambda: dict(c=np.full((2, 4), 0.25)),
         dict(c=Custom(must_fail=(np.array([[1.5, -0.5]]), R(4), np.full((1, 2), np.nan), "a")))),
    Spec("theory.scan_snap.model.distinct_entropy", ssn.distinct_entropy,
         lambda: dict(c=np.full((SS_TASK.K, SS_TASK.M), 1.0 / SS_TASK.M), task=SS_TASK),
         dict(c=Custom(must_fail=(-np.ones((SS_TASK.K, SS_TASK.M)), np.ones((1, 2)), np.zeros((SS_TASK.K, SS_TASK.M)),
                                  "a")),
              task=Obj())),
    Spec("theory.scan_snap.training.SGDConfig", ssn.SGDConfig, lambda: {f: getattr(SS_TINY, f) for f in SS_TINY.__dataclass_fields__},
         dict(n_queries=SIZE, classes_per_query=SIZE, n_common=COUNT, n_distinct=SIZE, T=Custom(must_fail=(1, 0, 2.5, "a")),
              batch=SIZE, steps=SIZE, lr_Z=POS, ratio=POS, momentum=UNIT, zero_init=Flag(), residual=Flag(), seed=COUNT)),
    Spec("theory.scan_snap.training.SGDConfig.task", lambda: SS_TINY.task(), lambda: {}),
    Spec("theory.scan_snap.training.train_sgd", ssn.train_sgd, lambda: dict(config=SS_TINY), dict(config=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.training.integrate_flow", ssn.integrate_flow,
         lambda: dict(task=SS_TASK, params=ss_params(), eta_Y=1.0, eta_Z=1.0, times=[1.0, 2.0], ds=0.05),
         dict(task=Custom(must_fail=("a", {})), params=Params(), eta_Y=POS, eta_Z=POS,
              times=Custom(must_fail=([], [2.0, 1.0], [-1.0], "a")), ds=POS)),
    Spec("theory.scan_snap.training.flow_step_check", ssn.training.flow_step_check,
         lambda: dict(task=SS_TASK, params=ss_params(), eta_Y=1.0, eta_Z=1.0, times=[1.0, 2.0], ds=0.05),
         dict(task=Custom(must_fail=("a", {})), params=Params(), eta_Y=POS, eta_Z=POS,
              times=Custom(must_fail=([], [2.0, 1.0], "a")), ds=POS)),
    Spec("theory.scan_snap.training.momentum_time", ssn.training.momentum_time, lambda: dict(steps=5, beta=0.9), dict(steps=SIZE, beta=UNIT)),
    Spec("theory.scan_snap.training.snap_fits", ssn.snap_fits, lambda: dict(flow=ss_flow(), times=[10.0, 20.0, 40.0], t_from=10.0),
         dict(flow=Custom(must_fail=({}, "a")), times=Custom(must_fail=([10.0, 20.0], "a")),
              t_from=Custom(must_fail=(0.0, -1.0, 30.0, float("nan"), "a")))),
    Spec("theory.scan_snap.training.entropy_sweep", ssn.entropy_sweep,
         lambda: dict(seeds=1, n_queries=(1,), steps=2, T=4, executor=None),
         dict(seeds=SIZE, n_queries=Custom(must_fail=((0,), ("a",))), steps=SIZE, T=SIZE, executor=Executor()),
         run_good=False),
    Spec("theory.scan_snap.reproduction.reproduce", ssn.reproduce, lambda: dict(quick=True, seed=0, executor=None, progress=None),
         dict(quick=Flag(), seed=COUNT, executor=Executor(), progress=Func(optional=True)), run_good=False),
    Spec("theory.scan_snap.reproduction.format_report", ssn.format_report, lambda: dict(record=demo_record()),
         dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    # real text
    Spec("theory.scan_snap.corpus.load_verses", ssn.corpus.load_verses, lambda: dict(path=TEXT_FILE),
         dict(path=Custom(must_fail=("/nonexistent/file.txt", 3, _TEXT_DIR), with_none=False))),
    Spec("theory.scan_snap.corpus.tokenize", ssn.corpus.tokenize, lambda: dict(text="In the beginning."),
         dict(text=Custom(must_fail=(3, ["a"]), must_pass=("",)))),
    Spec("theory.scan_snap.corpus.build_vocab", ssn.corpus.build_vocab, lambda: dict(tokens=["a", "b", "a"], size=3),
         dict(tokens=Custom(must_fail=("ab", [1, 2], 3)), size=Custom(must_fail=(1, 0, 2.5, "a")))),
    Spec("theory.scan_snap.corpus.encode", ssn.corpus.encode, lambda: dict(tokens=["a", "c"], vocab=("<unk>", "a")),
         dict(tokens=Custom(must_fail=("ab", [1])), vocab=Custom(must_fail=(("a",), (), "ab")))),
    Spec("theory.scan_snap.corpus.load_corpus", ssn.corpus.load_corpus, lambda: dict(vocab=10, path=TEXT_FILE, max_tokens=300),
         dict(vocab=SIZE, path=Custom(must_fail=("/nonexistent/file.txt", 3), with_none=False),
              max_tokens=Size(optional=True))),
    Spec("theory.scan_snap.corpus.batchify", ssn.corpus.batchify, lambda: dict(ids=np.arange(20), batch=3),
         dict(ids=Custom(must_fail=(np.arange(4), -np.arange(20), np.ones((4, 5), dtype=int), np.full(20, 0.5), "a")),
              batch=SIZE)),
    Spec("theory.scan_snap.corpus.get_batch", ssn.corpus.get_batch, lambda: dict(streams=np.arange(20).reshape(2, 10), i=3, bptt=4),
         dict(streams=Custom(must_fail=(np.arange(10), np.zeros((2, 1), dtype=int), "a")),
              i=Custom(must_fail=(-1, 9, 2.5, True, "a")), bptt=SIZE)),
    Spec("theory.scan_snap.text_model.lm_shapes", ssn.text_model.lm_shapes, lambda: dict(vocab=7, d=4, d_hid=3, layers=2),
         dict(vocab=SIZE, d=SIZE, d_hid=SIZE, layers=SIZE)),
    Spec("theory.scan_snap.text_model.init_lm", ssn.text_model.init_lm, lambda: dict(rng=0, vocab=7, d=4, d_hid=3, layers=2),
         dict(rng=Rng(), vocab=SIZE, d=SIZE, d_hid=SIZE, layers=SIZE)),
    Spec("theory.scan_snap.text_model.lm_forward", ssn.text_model.lm_forward,
         lambda: dict(params=LM, tokens=LM_X, dropout=0.1, rng=0),
         dict(params=Params(), tokens=Custom(must_fail=(np.array([1, 2]), np.array([[0, 7]]), np.array([[0.5]]), "a")),
              dropout=PROB, rng=Rng())),
    Spec("theory.scan_snap.text_model.lm_loss", ssn.text_model.lm_loss,
         lambda: dict(params=LM, tokens=LM_X, targets=LM_X[:, ::-1], dropout=0.1, rng=0),
         dict(params=Params(), tokens=Custom(must_fail=(np.array([1, 2]), np.array([[0, 7, 1], [1, 1, 1]]), "a")),
              targets=Custom(must_fail=(np.array([[1, 2]]), np.array([[0, 7, 1], [1, 1, 1]]), "a")),
              dropout=PROB, rng=Rng())),
    Spec("theory.scan_snap.text_model.lowest_attention", ssn.text_model.lowest_attention,
         lambda: dict(params=LM, tokens=LM_X),
         dict(params=Params(), tokens=Custom(must_fail=(np.array([1, 2]), np.array([[-1, 2]]), "a")))),
    Spec("theory.scan_snap.text.TextConfig", ssn.text.TextConfig,
         lambda: {**{f: getattr(TEXT_TINY, f) for f in TEXT_TINY.__dataclass_fields__}, "max_tokens": 300},
         dict(layers=SIZE, d=SIZE, d_hid=SIZE, vocab=Custom(must_fail=(1, 0, 2.5, "a")),
              dropout=Custom(must_fail=(1.0, -0.1, float("nan"), "a")), lr_z=POS, ratio=POS, clip=POS,
              bptt=Custom(must_fail=(5, 0, 2.5, "a")), batch=SIZE, epochs=SIZE, eval_every=SIZE, eval_streams=SIZE,
              eval_windows=SIZE, max_tokens=Size(optional=True), dtype=Choice(), seed=COUNT,
              path=Custom(must_fail=(3,), must_pass=(None,), with_none=False))),
    Spec("theory.scan_snap.text.attention_measures", ssn.text.attention_measures,
         lambda: dict(A=UNIFORM, common=np.arange(10) % 3 == 0),
         dict(A=Custom(must_fail=(UNIFORM[:4, :4], UNIFORM[:, :5], -UNIFORM, np.full((10, 10), np.nan), "a")),
              common=Custom(must_fail=(np.ones(10), np.ones(4, dtype=bool), "a"), must_pass=(None,), with_none=False))),
    Spec("theory.scan_snap.text.train_text", ssn.text.train_text, lambda: dict(config=TEXT_TINY),
         dict(config=Custom(must_fail=("a", {})))),
    Spec("theory.scan_snap.text.text_runs", ssn.text.text_runs, lambda: dict(configs=[TEXT_TINY], executor=None),
         dict(configs=Custom(must_fail=([], ["a"], "a")), executor=Executor())),
    Spec("theory.scan_snap.text_reproduction.run_configs", ssn.text_reproduction.run_configs, lambda: dict(quick=True),
         dict(quick=Flag())),
    Spec("theory.scan_snap.text_reproduction.summarise", ssn.text_reproduction.summarise, lambda: dict(run=text_run()),
         dict(run=Custom(must_fail=({}, "a", 3)))),
    Spec("theory.scan_snap.text_reproduction.reproduce", ssn.text_reproduction.reproduce,
         lambda: dict(quick=True, executor=None, progress=None),
         dict(quick=Flag(), executor=Executor(), progress=Func(optional=True)), run_good=False),
    Spec("theory.scan_snap.text_reproduction.format_report", ssn.text_reproduction.format_report,
         lambda: dict(record=demo_record()), dict(record=Custom(must_fail=({}, demo_record()))), run_good=False),
    Spec("theory.scan_snap.figures.text_figures", ssn.figures.text_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
    Spec("theory.scan_snap.figures.scan_snap_figures", ssn.figures.scan_snap_figures,
         lambda: dict(record=demo_record(), out_dir=tempfile.mkdtemp(), pdf=False),
         dict(record=Custom(must_fail=({}, demo_record())), out_dir=Unchecked(reason="any path"),
              pdf=Unchecked(reason="truthiness")), run_good=False),
]
