# %% [markdown]
# # Momentum gradient descent and its attention dual
# Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559), Sec. 5.
#
# The paper proposes momentum attention,
# `MoAttn(V, K, q_t) = Attn(V, K, q_t) + Σ_{i<t} η^{t-i} v_i`,
# an exponential moving average of the values added to attention, "as" the dual of
# momentum gradient descent.  This script derives what the dual of momentum GD
# actually is, and shows that MoAttn is not it (a corrected form, stated exactly).
#
# **The update we study.**  A linear layer `F(x) = W x` takes one step per example
# `i = 1..N`; step `i` brings an update `U_i = e_i x_i^T` (for GD, `e_i = -lr ∂loss/∂y`
# at the current weights — but nothing below depends on where `e_i` comes from).
# Heavy-ball momentum with coefficient `η` and zero initial velocity:
# `M_0 = 0`, `M_i = η M_{i-1} + U_i`, `W_i = W_{i-1} + M_i`.
#
# Step 1 uses `MatrixSymbol` algebra (generic sizes, N = 4 steps); Step 2 proves the
# coefficients for every N with scalar sums; Step 4 compares scalars.  Every check is
# exact.  Stands on its own: needs only sympy; open it as a notebook and the formulas
# render as LaTeX.  The figure `docs/figures/dual-form.png` plots the momentum weights
# `s_k` and the MoAttn gap of Step 4 over random instances.
#
# ![the momentum weights s_k and the MoAttn gap (middle and right)](../docs/figures/dual-form.png)

# %% tags=["hide-input"]
import sympy as sp

try:                      # inside Jupyter, IPython puts get_ipython and display among the builtins
    NOTEBOOK = get_ipython().__class__.__name__ == "ZMQInteractiveShell"  # noqa: F821
except NameError:
    NOTEBOOK = False


def step(title):
    """In a terminal, the step's title (a notebook shows it in the markdown cell above)."""
    if not NOTEBOOK:
        print(f"\n## {title}")


def show(*parts):
    """Text is printed; a formula is shown, as LaTeX in a notebook, pretty-printed in a terminal."""
    for part in parts:
        if isinstance(part, str):
            print(part)
        elif NOTEBOOK:
            display(part)  # noqa: F821  (IPython's display, a builtin inside a kernel)
        else:
            sp.pprint(part, use_unicode=True)


class Formula:
    """A formula that a notebook renders as LaTeX (IPython calls ``_repr_latex_``)."""

    def __init__(self, latex):
        self.latex = latex

    def _repr_latex_(self):
        return f"$\\displaystyle {self.latex}$"


def eq(lhs, rhs):
    """``lhs = rhs`` as one formula to show (not evaluated); ``lhs`` a formula, or a label
    in words (set as text in LaTeX, as a symbol in a terminal)."""
    if isinstance(lhs, str) and NOTEBOOK:
        label = "".join(c for c in lhs if c not in "{}#%&$\\")      # \text shows _ and ^ as they are
        return Formula(f"\\text{{{label}}} = {sp.latex(rhs)}")
    return sp.Eq(sp.Symbol(lhs) if isinstance(lhs, str) else lhs, rhs, evaluate=False)


def weight(n, eta):
    """s_n = 1 + η + ... + η^n: the total weight of an update made n steps ago."""
    return sum(eta ** j for j in range(n + 1))


N = 4
eta = sp.Symbol("eta", nonnegative=True)
m, n = sp.symbols("m n", integer=True, positive=True)

# %% [markdown]
# ## Step 1: unroll the momentum recursion (generic sizes, N = 4 steps)
# Apply `M_i = η M_{i−1} + e_i x_i^T`, `W_i = W_{i−1} + M_i` four times and read the
# weights on the query q: each example's update arrives with the weight it has collected.

# %%
step(f"Step 1: unroll heavy-ball momentum for N = {N} steps")
W0 = sp.MatrixSymbol("W_0", m, n)
q = sp.MatrixSymbol("q", n, 1)
e = [sp.MatrixSymbol(f"e_{i}", m, 1) for i in range(1, N + 1)]
x = [sp.MatrixSymbol(f"x_{i}", n, 1) for i in range(1, N + 1)]
M, W = sp.ZeroMatrix(m, n), W0
for i in range(N):
    M = eta * M + e[i] * x[i].T                        # M_i = η M_{i-1} + e_i x_i^T
    W = W + M                                          # W_i = W_{i-1} + M_i
claimed = W0 * q + sum((weight(N - 1 - i, eta) * e[i] * (x[i].T * q) for i in range(N)),
                       sp.ZeroMatrix(m, 1))
residual = (W * q - claimed).expand()
show(eq("W₄ q", claimed), eq("residual", residual))
assert residual.is_ZeroMatrix

# %% [markdown]
# ## Step 2: the weights for every N
# The velocity holds `U_i` with coefficient `η^{t-i}` at step `t >= i` (it is
# multiplied by `η` once per step).  The weights add the velocity every step, so by
# step `N` they hold `U_i` with `s_{N-i} = Σ_{j=0}^{N-i} η^j = (1 - η^{N-i+1})/(1 - η)`.

# %%
step("Step 2: s_k = Σ_{j=0}^{k} η^j = (1 − η^{k+1}) / (1 − η) for every k")
k, j = sp.symbols("k j", integer=True, nonnegative=True)
s_k = sp.summation(eta ** j, (j, 0, k))                # Piecewise: k + 1 if η = 1, else ...
closed = (1 - eta ** (k + 1)) / (1 - eta)
assert isinstance(s_k, sp.Piecewise) and s_k.args[-1][1] == sp.true
general = s_k.args[-1][0]                              # the η ≠ 1 branch
assert sp.cancel(general - closed) == 0
for kk in range(6):                                    # and the finite sums, exactly
    assert sp.cancel(weight(kk, eta) - closed.subs(k, kk)) == 0
assert closed.subs(eta, 0) == 1
show("sympy's sum, its η ≠ 1 branch, and the closed form:", eq("s_k", s_k),
     eq("s_k − (1 − ηᵏ⁺¹)/(1 − η)", sp.cancel(general - closed)),
     "the first weights, s₀ … s₃:", sp.Matrix([[weight(kk, eta) for kk in range(4)]]),
     "at η = 0 every s_k is 1: plain GD is recovered.")

# %% [markdown]
# ## Step 3: the exact dual
# Hence `W_N q = W0 q + Σ_i s_{N-i} e_i (x_i^T q)`: linear attention with values
# `e_i`, keys `x_i`, and the score of key `i` scaled by `s_{N-i}`.  Momentum reweights
# the *scores* by age: earlier examples get more weight, because the velocity keeps
# re-applying them.

# %%
step("Step 3: dual of momentum GD = LinearAttn with the score of key i scaled by s_{N−i}")
score = [sp.Symbol(f"x{chr(0x2080 + i)}ᵀq") for i in range(1, N + 1)]
show("the attention weights of the four keys (value e_i, raw score x_iᵀq), oldest first:",
     sp.Matrix([[weight(N - 1 - i, eta) * score[i] for i in range(N)]]),
     "against plain GD's (η = 0):", sp.Matrix([[weight(N - 1 - i, eta).subs(eta, 0) * score[i] for i in range(N)]]))
assert [weight(N - 1 - i, eta).subs(eta, 0) for i in range(N)] == [1] * N

# %% [markdown]
# ## Step 4: the paper's MoAttn is a different object
# Read MoAttn at the query position `N+1` with keys `x_i`, values `e_i` (the query
# itself carries no value): `W0 q + Σ_i e_i x_i^T q + Σ_i η^{N+1-i} e_i`.  Its extra
# term does not depend on `q`, while the true dual's extra weight multiplies
# `x_i^T q`.  The difference is not zero; it vanishes at `η = 0`.

# %%
step("Step 4: MoAttn − (momentum dual) for N = 2 scalar examples")
es = sp.symbols("e_1:3", real=True)
xs = sp.symbols("x_1:3", real=True)
qs = sp.Symbol("q", real=True)
mo_attn = sum(ei * xi * qs for ei, xi in zip(es, xs)) + sum(
    eta ** (3 - i) * es[i - 1] for i in (1, 2))
dual = sum(weight(2 - i, eta) * es[i - 1] * xs[i - 1] * qs for i in (1, 2))
gap = sp.expand(mo_attn - dual)
show(eq("MoAttn", mo_attn), eq("momentum dual", dual),
     eq("MoAttn − dual", sp.factor(gap)),
     "not zero for η > 0 (its terms without q cannot cancel those with q); zero at η = 0.")
assert gap != 0 and gap.subs(eta, 0) == 0

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: explicit sizes (m = 2 outputs, n = 2 inputs, N = 3
# steps, columns) and RESULTS, which the tests compare with theory/dual_form/ through
# sympy.lambdify (a cell Jupyter Book leaves out).
Wm = sp.Matrix(2, 2, lambda r, c: sp.Symbol(f"w_{r}{c}"))
Em = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"e_{r}{c}"))
Xm = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"x_{r}{c}"))
qm = sp.Matrix(2, 1, lambda r, c: sp.Symbol(f"q_{r}"))
Mm, Wn = sp.zeros(2, 2), Wm
for i in range(3):
    Mm = eta * Mm + Em[:, i] * Xm[:, i].T
    Wn = Wn + Mm
RESULTS = dict(eta=eta, W0=Wm, E=Em, X=Xm, q=qm, output=(Wn * qm).expand(), weight=closed, k=k)

print("\nAll assertions hold.")
