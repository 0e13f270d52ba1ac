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
# Steps 1 and 4 use `MatrixSymbol` algebra (generic sizes, explicit N); Step 2 proves
# the coefficients for every N with scalar sums.  Stands on its own: needs only sympy.

# %%
import sympy as sp


def show(*parts):
    """Print text and pretty-print formulas, in a terminal or a notebook."""
    for part in parts:
        if isinstance(part, str):
            print(part)
        else:
            sp.pprint(part, use_unicode=True)


def weight(n, eta):
    """s_n = 1 + η + ... + η^n: the total weight of an update made n steps ago."""
    return sum(eta ** j for j in range(n + 1))


N = 4
eta = sp.Symbol("eta", nonnegative=True)
m, n = sp.symbols("m n", integer=True, positive=True)

# %% [markdown]
# ## Step 1: unroll the momentum recursion (generic sizes, N steps)

# %%
show(f"## Step 1: unroll heavy-ball momentum for N = {N} steps")
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
show("  W_N q =", claimed, f"  residual: {residual}")
assert residual.is_ZeroMatrix

# %% [markdown]
# ## Step 2: the weights for every N
# The velocity holds `U_i` with coefficient `η^{t-i}` at step `t >= i` (it is
# multiplied by `η` once per step).  The weights add the velocity every step, so by
# step `N` they hold `U_i` with `s_{N-i} = Σ_{j=0}^{N-i} η^j = (1 - η^{N-i+1})/(1 - η)`.

# %%
show("## Step 2: s_k = Σ_{j=0}^{k} η^j = (1 - η^{k+1}) / (1 - η) for every k")
k, j = sp.symbols("k j", integer=True, nonnegative=True)
s_k = sp.summation(eta ** j, (j, 0, k))                # Piecewise: k + 1 if η = 1, else ...
closed = (1 - eta ** (k + 1)) / (1 - eta)
assert isinstance(s_k, sp.Piecewise) and s_k.args[-1][1] == sp.true
general = s_k.args[-1][0]                              # the η ≠ 1 branch
assert sp.cancel(general - closed) == 0
for kk in range(6):                                    # and the finite sums, exactly
    assert sp.cancel(weight(kk, eta) - closed.subs(k, kk)) == 0
assert closed.subs(eta, 0) == 1
show("  ✓  (η ≠ 1; at η = 0 every s_k = 1 ✓ and plain GD is recovered)")

# %% [markdown]
# ## Step 3: the exact dual
# Hence `W_N q = W0 q + Σ_i s_{N-i} e_i (x_i^T q)`: linear attention with values
# `e_i`, keys `x_i`, and the score of key `i` scaled by `s_{N-i}`.  Momentum reweights
# the *scores* by age: earlier examples get more weight, because the velocity keeps
# re-applying them.

# %%
show("## Step 3: dual of momentum GD = LinearAttn with score of key i scaled by s_{N-i}")

# %% [markdown]
# ## Step 4: the paper's MoAttn is a different object
# Read MoAttn at the query position `N+1` with keys `x_i`, values `e_i` (the query
# itself carries no value): `W0 q + Σ_i e_i x_i^T q + Σ_i η^{N+1-i} e_i`.  Its extra
# term does not depend on `q`, while the true dual's extra weight multiplies
# `x_i^T q`.  The difference is not zero; it vanishes at `η = 0`.

# %%
show("## Step 4: MoAttn - (momentum dual) for N = 2 scalar examples")
es = sp.symbols("e_1:3", real=True)
xs = sp.symbols("x_1:3", real=True)
qs = sp.Symbol("q", real=True)
mo_attn = sum(ei * xi * qs for ei, xi in zip(es, xs)) + sum(
    eta ** (3 - i) * es[i - 1] for i in (1, 2))
dual = sum(weight(2 - i, eta) * es[i - 1] * xs[i - 1] * qs for i in (1, 2))
gap = sp.expand(mo_attn - dual)
show("  MoAttn - dual =", sp.factor(gap))
assert gap != 0 and gap.subs(eta, 0) == 0

# Explicit sizes for the tests: m = 2 outputs, n = 2 inputs, N = 3 steps, columns.
Wm = sp.Matrix(2, 2, lambda r, c: sp.Symbol(f"w_{r}{c}"))
Em = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"e_{r}{c}"))
Xm = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"x_{r}{c}"))
qm = sp.Matrix(2, 1, lambda r, c: sp.Symbol(f"q_{r}"))
Mm, Wn = sp.zeros(2, 2), Wm
for i in range(3):
    Mm = eta * Mm + Em[:, i] * Xm[:, i].T
    Wn = Wn + Mm
# %% [markdown]
# ## What the tests read
# `RESULTS` holds the symbolic objects that `tests/` compare with the numpy
# code in `theory/` (through `sympy.lambdify`).

# %%
RESULTS = dict(eta=eta, W0=Wm, E=Em, X=Xm, q=qm, output=(Wn * qm).expand(), weight=closed, k=k)

print("\nAll assertions hold.")
