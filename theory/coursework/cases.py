"""The exercises' cases: inputs drawn at random sizes, the reference answers from this
package's own code, and the typical mistakes worth a hint.

Each grading run draws its own sizes and values (from a seed it prints), with every case
a different size and the shapes rectangular where a transpose would otherwise hide, so an
answer with a size written into it (``P = eta / 5 * I``) fails.  The reference answers are
computed here, in the grader's process; the student's file only ever sees the inputs
(:mod:`theory.coursework.sandbox`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .. import gd_step
from ..core import nn
from ..induction import three_param

__all__ = ["Exercise", "EXERCISES"]


@dataclass(frozen=True)
class Exercise:
    """One exercise: the ``function`` the student writes, the names of what it returns
    (``outputs``; one name: it returns one array), the names of the arrays graded
    (``graded``, the outputs unless :attr:`post` turns them into something else), the
    calls of one case (``plan``, run by the child process :mod:`theory.coursework.sandbox`), the
    ``forward`` function whose calls ``--forward-once`` limits (None: no such check), and
    ``draw(rng, n) -> [(inputs, reference, mistakes), ...]``, n cases — ``mistakes`` maps a
    hint to the outputs a typical wrong derivation gives."""
    name: str
    function: str
    outputs: tuple
    plan: list
    draw: Callable
    forward: str | None = None
    graded: tuple | None = None
    post: Callable | None = None       # (returned arrays by output name, inputs) -> graded arrays by name
    sizes: tuple = ()                  # the inputs that are sizes (a factor equal to one is worth a hint)

    @property
    def single(self) -> bool:
        return len(self.outputs) == 1

    @property
    def graded_names(self) -> tuple:
        return self.graded or self.outputs


def _distinct(rng, low: int, high: int, n: int) -> list:
    """n sizes from [low, high), all different while the range lasts: the cases of one run
    never share the size a hard-coded answer would need."""
    values = rng.permutation(np.arange(low, high))
    return [int(values[i % len(values)]) for i in range(n)]


def _cases(one: Callable) -> Callable:
    """``draw(rng, n)`` from ``one(rng, size)``, with the cases' leading sizes distinct."""
    def draw(rng, n: int, low: int = 2, high: int = 9) -> list:
        return [one(rng, size) for size in _distinct(rng, low, high, n)]
    return draw


# --------------------------------------------------------------------------- softmax attention
def _attention(rng, T):
    S, d, dv = (int(v) for v in rng.choice(np.setdiff1d(np.arange(2, 9), [T]), size=3, replace=False))
    # T, S, d, d_v four different sizes: no transpose hides
    Q, K, V = rng.standard_normal((T, d)), rng.standard_normal((S, d)), rng.standard_normal((S, dv))
    dout = rng.standard_normal((T, dv))
    _, cache = nn.softmax_attention_forward(Q, K, V)
    P = cache.weights
    ref = dict(zip(("dQ", "dK", "dV"), nn.softmax_attention_backward(dout, cache)))
    dS = P * (dout @ V.T)                                     # dS = P ⊙ dP: the rowsum term left out
    mistakes = {"the softmax Jacobian's −p (p·dp) term is missing: dS = P ⊙ (dP − rowsum(P ⊙ dP))":
                dict(dQ=dS @ K, dK=dS.T @ Q, dV=ref["dV"])}
    return dict(Q=Q, K=K, V=V, dout=dout), ref, mistakes


ATTENTION = Exercise(
    "attention_backward", "attention_backward", ("dQ", "dK", "dV"),
    plan=[{"call": "attention_forward", "args": ["Q", "K", "V"], "as": "forward"},
          {"call": "attention_backward", "args": ["dout", ["@", "forward", 1]]}],
    draw=_cases(_attention), forward="attention_forward")


# --------------------------------------------------------------------------- one LSA layer
def _lsa(rng, N):
    D = int(rng.choice(np.setdiff1d(np.arange(2, 7), [N])))
    E = rng.standard_normal((N + 1, D))
    W = {k: rng.standard_normal((D, D)) / 2 for k in gd_step.lsa.LSA_KEYS}
    dout = rng.standard_normal((N + 1, D))
    _, cache = gd_step.lsa_forward(E[None], W, N)
    dE, g = gd_step.lsa_backward(dout[None], cache)
    ref = dict(dE=dE[0], dW_K=g["W_K"], dW_Q=g["W_Q"], dW_V=g["W_V"], dP=g["P"])
    no_residual = {**ref, "dE": ref["dE"] - dout}
    mistakes = {"dE misses the residual: out = E + …, so dE starts from dout": no_residual}
    return dict(E=E, N=N, dout=dout, **W), ref, mistakes


LSA = Exercise(
    "lsa_backward", "lsa_backward", ("dE", "dW_K", "dW_Q", "dW_V", "dP"),
    plan=[{"call": "lsa_forward", "args": ["E", "W_K", "W_Q", "W_V", "P", "N"], "as": "forward"},
          {"call": "lsa_backward", "args": ["dout", ["@", "forward", 1]]}],
    draw=_cases(_lsa), forward="lsa_forward", sizes=("N",))


# --------------------------------------------------------------------------- Reddy's three-parameter loss
def _three_param(rng, N):
    L = N + int(rng.integers(0, 20))
    theta = rng.uniform(-2, 2, 3)
    return dict(theta=theta, N=N, L=L), dict(gradient=three_param.three_param_loss(theta, N, L)[1]), {}


THREE_PARAM = Exercise(
    "three_param_gradient", "three_param_gradient", ("gradient",),
    plan=[{"call": "three_param_gradient", "args": ["theta", "N", "L"]}],
    draw=_cases(_three_param), forward="three_param_loss", sizes=("N", "L"))


# --------------------------------------------------------------------------- the GD construction
def _gd(rng, N):
    d = int(rng.integers(1, 6))
    eta = float(rng.uniform(0.2, 2.0))
    X, Y, xq = rng.standard_normal((1, N, d)), rng.standard_normal((1, N, 1)), rng.standard_normal((1, d))
    return dict(d=d, N=N, eta=eta, X=X, Y=Y, xq=xq), dict(prediction=gd_step.gd_predict(X, Y, xq, eta)[0][0]), {}


def _gd_prediction(got: dict, case: dict) -> dict:
    """The student's weights in *our* LSA layer: the query's y-slot must be −ŷ_GD.  A
    weight of the wrong shape is a ``ValueError`` that says so."""
    d, N = case["d"], case["N"]
    E = gd_step.tokens(case["X"], case["Y"], case["xq"])          # (1, N + 1, d + 1)
    for k in gd_step.lsa.LSA_KEYS:
        if got[k].shape != (d + 1, d + 1):
            raise ValueError(f"{k} has shape {got[k].shape}, expected ({d + 1}, {d + 1}) (d + 1 with d = {d})")
    out, _ = gd_step.lsa_forward(E, {k: got[k].astype(np.float64) for k in gd_step.lsa.LSA_KEYS}, N)
    dtype = np.result_type(*(got[k] for k in gd_step.lsa.LSA_KEYS))       # float32 weights: a float32 answer
    return dict(prediction=(-out[0, -1, d:]).astype(dtype if dtype.kind == "f" else np.float64))


GD = Exercise(
    "gd_construction", "gd_construction", ("W_K", "W_Q", "W_V", "P"),
    plan=[{"call": "gd_construction", "args": ["d", "N", "eta"]}],
    draw=_cases(_gd), graded=("prediction",), post=_gd_prediction, sizes=("N", "d"))


EXERCISES = {e.name: e for e in (ATTENTION, LSA, GD, THREE_PARAM)}
