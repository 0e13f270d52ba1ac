# %% [markdown]
# # The mesa-layer and one step of gradient descent in causal attention
# von Oswald et al. 2023b, "Uncovering mesa-optimization algorithms in Transformers"
# (arXiv 2309.05858), Secs. 3–5.
#
# A sequence `s_1, s_2, …` comes from a linear system `s_{t+1} = W* s_t + ε_t`.  At time
# t the in-context (mesa) objective is `L_t(W) = ½ Σ_{t'≤t} ||s_{t'} − W s_{t'−1}||²`
# (`s_0 = 0`).  We prove: (1) the Sherman–Morrison update that the mesa-layer uses to
# keep `R_t = (Σ_{t'≤t} k k^T + I/λ)^{-1}` up to date is exact, and (2) its downdate undoes
# it; (3) the mesa-layer's output is causal linear attention with the preconditioned
# query `R_t q_t`; (4) one causal linear self-attention layer with the right weights is one
# gradient step on `L_t` from W = 0 at every t; (5–6) the Richardson and Chebyshev
# iterations for `(S + λI)^{-1} s` and their error bounds; (7) stacked attention layers run
# them.  Steps 1, 2, 4 and 7 use explicit small sizes (every entry a symbol), Steps 3 and 5
# are generic (`MatrixSymbol` algebra), Step 6 works on one eigenvector; every check is
# exact.  Stands on its own: needs only sympy; open it as a notebook and every formula
# renders as LaTeX.  The figure `docs/figures/mesa.png` shows what the steps predict in
# training: the trained layers against one GD step (Step 4) and against least squares,
# which the mesa-layer computes (Steps 1–3).  Section and equation numbers are the
# paper's where we could check them (the mesa-layer, Sec. 5, Eq. (9)); elsewhere the
# section.
#
# ![trained depth against one GD step and least squares](../docs/figures/mesa.png)

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


def sym_matrix(name, rows, cols, symmetric=False):
    """A matrix of symbols name_rc (symmetric: name_rc = name_cr)."""
    def entry(r, c):
        r, c = (min(r, c), max(r, c)) if symmetric else (r, c)
        return sp.Symbol(f"{name}_{r}{c}", real=True)
    return sp.Matrix(rows, cols, entry)


# %% [markdown]
# ## Step 1: Sherman–Morrison (Sec. 5, Eq. (9))
# For an invertible symmetric M with inverse R and a vector k,
# `(M + k k^T)^{-1} = R − R k k^T R / (1 + k^T R k)`.  So adding a key k_t to the sum
# `Σ k k^T + I/λ` updates its inverse with one rank-one correction, starting from
# `R_0 = (I/λ)^{-1} = λ I`.  Checked with a 2×2 symmetric M of free symbols.

# %%
step("Step 1: (M + k k^T)^{-1} = R − R k k^T R / (1 + k^T R k), R = M^{-1} (2 × 2)")
M = sym_matrix("m", 2, 2, symmetric=True)
k = sym_matrix("k", 2, 1)
R = M.inv()
Rk = R * k
updated = R - Rk * Rk.T / (1 + (k.T * Rk)[0])
residual = ((M + k * k.T) * updated - sp.eye(2)).applyfunc(sp.cancel)
show("with M a symmetric 2 × 2 matrix of free symbols and R = M⁻¹:",
     eq("(M + k kᵀ)(R − R k kᵀ R / (1 + kᵀ R k)) − I", residual))
assert residual == sp.zeros(2, 2)

# %% [markdown]
# ## Step 2: the downdate
# Going back in time (as the authors' backward pass does to save memory):
# `R_{t−1} = R_t + R_t k k^T R_t / (1 − k^T R_t k)` when `R_t` is the update of `R_{t−1}`
# by k.  Checked for a symmetric 2×2 `R_{t−1}` of free symbols.

# %%
step("Step 2: R_{t−1} = R_t + R_t k k^T R_t / (1 − k^T R_t k)")
R0 = sym_matrix("r", 2, 2, symmetric=True)                 # R_{t-1}: any symmetric matrix
Rk0 = R0 * k
R1 = R0 - Rk0 * Rk0.T / (1 + (k.T * Rk0)[0])               # R_t, its update by k
Rk1 = R1 * k
back = R1 + Rk1 * Rk1.T / (1 - (k.T * Rk1)[0])
show(eq("downdate(update(R, k), k) − R", (back - R0).applyfunc(sp.cancel)))
assert (back - R0).applyfunc(sp.cancel) == sp.zeros(2, 2)

# %% [markdown]
# ## Step 3: the mesa-layer is attention with preconditioned queries (Sec. 5)
# The mesa-layer outputs `Ŵ_t q_t` with `Ŵ_t = (Σ_{t'≤t} v_{t'} k_{t'}^T) R_t`.  Since
# `(Σ v k^T) R q = Σ v (k^T R q)`, this is causal linear attention with values v, keys k
# and the query `R_t q_t`: the layer first *preconditions* the query, then attends.
# Generic sizes, three positions.

# %%
step("Step 3: (Σ_i v_i k_i^T) R q = Σ_i v_i (k_i^T (R q)), generic sizes")
dk, dv = sp.symbols("d_k d_v", integer=True, positive=True)
vs = [sp.MatrixSymbol(f"v_{i}", dv, 1) for i in range(1, 4)]
ks = [sp.MatrixSymbol(f"k_{i}", dk, 1) for i in range(1, 4)]
Rm, q = sp.MatrixSymbol("R", dk, dk), sp.MatrixSymbol("q", dk, 1)
mesa_out = sp.MatAdd(*[v * kk.T for v, kk in zip(vs, ks)]) * Rm * q
attention = sp.MatAdd(*[v * (kk.T * (Rm * q)) for v, kk in zip(vs, ks)])
show(eq(mesa_out, attention), eq("residual", (mesa_out - attention).expand().doit()))
assert (mesa_out - attention).expand().doit() == sp.ZeroMatrix(dv, 1)

# %% [markdown]
# ## Step 4: one causal LSA layer is one GD step on the mesa-objective (Sec. 4)
# The gradient of `L_t` at W = 0 is `−Σ_{t'≤t} s_{t'} s_{t'−1}^T`, so one step with rate η
# gives `W_1 = η Σ_{t'≤t} s_{t'} s_{t'−1}^T` and the prediction `ŝ_{t+1} = W_1 s_t`.
# Tokens are `e_t = (0, s_t, s_t, s_{t−1})`; the layer
# `e_t ← e_t + P Σ_{t'≤t} (W_V e_{t'})(W_K e_{t'})^T (W_Q e_t)` (causal, current token
# included) with the key reading `s_{t'−1}`, the query reading `s_t` (into the key's
# block), the value copying `s_{t'}` into block 0 and `P = η I` writes exactly that
# prediction into block 0.  Explicit D = 2 and t = 1, 2, 3.

# %%
step("Step 4: causal LSA with the construction = one GD step on L_t, at every t (D = 2)")
D, T = 2, 3
eta = sp.Symbol("eta", positive=True)
s = [sp.zeros(D, 1)] + [sym_matrix(f"s{t}", D, 1) for t in range(1, T + 1)]   # s_0 = 0
W = sym_matrix("w", D, D)
for t in range(1, T + 1):
    L_t = sum(((s[i] - W * s[i - 1]).T * (s[i] - W * s[i - 1]))[0] for i in range(1, t + 1)) / 2
    grad0 = sp.Matrix(D, D, lambda r, c: sp.diff(L_t, W[r, c])).subs({w: 0 for w in W})
    if t == 2:
        show(f"the gradient of the mesa-objective at W = 0, t = {t} (s_0 = 0):", eq("∇L₂(0)", grad0))
    assert (grad0 + sum((s[i] * s[i - 1].T for i in range(1, t + 1)), sp.zeros(D, D))).expand() == sp.zeros(D, D)
show("= −Σ_{t′≤t} s_{t′} s_{t′−1}ᵀ, checked at t = 1, 2, 3.")
Z, I = sp.zeros(4 * D, 4 * D), sp.eye(D)
W_K, W_Q, W_V = Z.copy(), Z.copy(), Z.copy()
W_K[3 * D:, 3 * D:] = I
W_Q[3 * D:, D:2 * D] = I
W_V[:D, 2 * D:3 * D] = I
P = eta * sp.eye(4 * D)


def blocks(W):
    """W (4D × 4D) as a 4 × 4 block matrix of D × D blocks, each I or 0 here."""
    return sp.BlockMatrix([[sp.Identity(D) if W[r * D:(r + 1) * D, c * D:(c + 1) * D] == I else sp.ZeroMatrix(D, D)
                            for c in range(4)] for r in range(4)])


show("the construction on tokens (0, s_t, s_t, s_{t−1}), in blocks of size D (P = η I):",
     eq("W_K", blocks(W_K)), eq("W_Q", blocks(W_Q)), eq("W_V", blocks(W_V)))
assert all(W == blocks(W).as_explicit() for W in (W_K, W_Q, W_V))
e = [None] + [sp.Matrix.vstack(sp.zeros(D, 1), s[t], s[t], s[t - 1]) for t in range(1, T + 1)]
gd = []
for t in range(1, T + 1):
    out = e[t] + P * sum(((W_V * e[i]) * (W_K * e[i]).T * (W_Q * e[t]) for i in range(1, t + 1)), sp.zeros(4 * D, 1))
    W1 = eta * sum((s[i] * s[i - 1].T for i in range(1, t + 1)), sp.zeros(D, D))
    gd.append(W1 * s[t])
    if t == 2:
        show(f"block 0 of the layer's output at t = {t}, and its difference from one GD step's prediction W₁ s_t:",
             eq("block₀(e₂′)", out[:D, :].applyfunc(sp.factor)),
             eq("block₀(e₂′) − W₁ s₂", (out[:D, :] - gd[-1]).expand()))
    assert (out[:D, :] - gd[-1]).expand() == sp.zeros(D, 1)
show("the same at t = 1 and 3.")

# %% [markdown]
# ## Step 5: truncated inverses — Richardson / Neumann and its error bound
# Stacked linear layers cannot invert `A = S_{t−1} + λ I` exactly, but they can run a few
# steps of an iteration (Sec. 5).  Richardson's, `x_{k+1} = x_k + ω (b − A x_k)`, has the
# error recursion `e_{k+1} = (I − ωA) e_k` with `e_k = x_k − A^{-1} b` (generic sizes,
# using only `A A^{-1} = I`), and from `x_0 = 0` its iterates are the truncated Neumann
# series `x_k = ω Σ_{j<k} (I − ωA)^j b` (the step maps the k-term sum to the (k+1)-term
# sum; checked for k = 1..4 with a 2×2 symmetric A of free symbols).  For symmetric A, `I − ωA` has eigenvalues
# `1 − ωλ_i`, so `||e_k|| ≤ ρ^k ||e_0||` with `ρ = max_i |1 − ωλ_i|` — the bound the tests
# measure on the mesa-layer's own systems.

# %%
step("Step 5: e_{k+1} = (I − ωA) e_k, and Richardson from 0 = truncated Neumann series")
n = sp.Symbol("n", integer=True, positive=True)
A_, Ainv = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("A⁻¹", n, n)
x_k, b_ = sp.MatrixSymbol("x_k", n, 1), sp.MatrixSymbol("b", n, 1)
omega = sp.Symbol("omega", positive=True)
x_next = x_k + omega * (b_ - A_ * x_k)
x_star = Ainv * b_
lhs = (x_next - x_star).expand()
rhs = ((sp.Identity(n) - omega * A_) * (x_k - x_star)).expand()
# the difference is ω (b - A A^{-1} b), zero because A A^{-1} = I
show(eq(x_next - x_star, (sp.Identity(n) - omega * A_) * (x_k - x_star)),
     "their difference is ω (b − A A⁻¹ b); with A A⁻¹ = I:",
     eq("difference", (lhs - rhs).expand().subs(A_ * Ainv, sp.Identity(n)).doit()))
assert (lhs - rhs).expand().subs(A_ * Ainv, sp.Identity(n)).doit() == sp.ZeroMatrix(n, 1)
A2, b2 = sym_matrix("a", 2, 2, symmetric=True), sym_matrix("b", 2, 1)   # explicit 2x2
M2 = sp.eye(2) - omega * A2
for steps in range(1, 5):
    neumann = omega * sum((M2 ** j * b2 for j in range(steps)), sp.zeros(2, 1))
    stepped = neumann + omega * (b2 - A2 * neumann)
    target = omega * sum((M2 ** j * b2 for j in range(steps + 1)), sp.zeros(2, 1))
    assert (stepped - target).expand() == sp.zeros(2, 1)
x2_rich = omega * (sp.eye(2) + M2) * b2
show("two steps from 0 (k = 2), the truncated Neumann series ω (I + (I − ωA)) b, first entry:",
     eq("x₂[0]", sp.expand(x2_rich[0])),
     "one more step maps the k-term sum to the (k+1)-term sum exactly, k = 1 … 4 (2 × 2 A of free symbols).")

# %% [markdown]
# ## Step 6: the Chebyshev iteration and its bound
# The authors' least-squares baseline runs a momentum ("Chebyshev") iteration.  With the
# spectrum of A in [μ, L], `θ = (L+μ)/2`, `δ = (L−μ)/2`, `σ = θ/δ`: `r_0 = b`, `d_0 = r_0/θ`,
# `ρ_0 = 1/σ`; `x_{k+1} = x_k + d_k`, `r_{k+1} = r_k − A d_k`, `ρ_{k+1} = 1/(2σ − ρ_k)`,
# `d_{k+1} = ρ_{k+1} ρ_k d_k + (2ρ_{k+1}/δ) r_{k+1}`.  On an eigenvector of A with eigenvalue
# λ every quantity is a multiple of it, so the error shrinks by the scalar
# `T_k((θ − λ)/δ) / T_k(σ)` (T_k the Chebyshev polynomial) — checked symbolically for
# k = 1, 2, 3.  Since `|T_k| ≤ 1` on [−1, 1], every λ in [μ, L] gives
# `||e_k|| ≤ ||e_0|| / T_k(σ)`, which the tests measure.

# %%
step("Step 6: Chebyshev iteration: e_k / e_0 = T_k((θ−λ)/δ) / T_k(σ) on an eigenvector (k = 1, 2, 3)")
lam_, mu_, L_, b0 = sp.symbols("lambda mu L b", positive=True)
theta, delta = (L_ + mu_) / 2, (L_ - mu_) / 2
sigma = theta / delta
x, r, d, rho = sp.S.Zero, b0, b0 / theta, 1 / sigma
e0 = -b0 / lam_                                           # x_0 - b/λ
for kk in range(1, 4):
    x = sp.cancel(x + d)                                   # one rational form per step keeps it small
    r = sp.cancel(r - lam_ * d)
    rho_next = sp.cancel(1 / (2 * sigma - rho))
    d = sp.cancel(rho_next * rho * d + 2 * rho_next / delta * r)
    rho = rho_next
    predicted = sp.chebyshevt(kk, (theta - lam_) / delta) / sp.chebyshevt(kk, sigma)
    if kk == 2:
        show("after k = 2 steps, on an eigenvector with eigenvalue λ:",
             eq("e₂/e₀", sp.factor((x - b0 / lam_) / e0)),
             eq("T₂((θ − λ)/δ)/T₂(σ)", sp.factor(predicted)))
    assert sp.cancel((x - b0 / lam_) / e0 - predicted) == 0
show("equal; and so at k = 1 and 3.")

# %% [markdown]
# ## Step 7: stacked linear-attention layers run the iterations
# Richardson and Chebyshev only ever add multiples of b and of `A x = (S_t + λI) x`, so
# after K steps `x_K = p_K(S_t) s_t` for a polynomial `p_K` of degree ≤ K whose
# coefficients depend on λ, ω (or μ, L) but not on the data.  Causal linear attention
# with key = value = `s_{t'}` and query u_t computes `Σ_{t'≤t} s_{t'} s_{t'}^T u_t = S_t u_t`
# (`S_t` includes t: the current token is attended).  So on tokens
# `(s_t, s_t, 0, …, 0)`, layer k reading block k as its query and writing block k + 1 leaves
# `S_t^k s_t` in block k + 1, and a fixed linear read-out `Σ_j c_j block_{j+1}` is
# `p_K(S_t) s_t`: K layers run K steps.  (Our construction of the paper's Sec. 5 statement.)
# Checked with D = 2, t = 1, 2, K = 2 (every entry a symbol) and Richardson's p_2.

# %%
step("Step 7: K attention layers leave S_t^k s_t in block k+1; a linear read-out is p_K(S_t) s_t")
seq = [sym_matrix(f"x{t}", 2, 1) for t in (1, 2)]
for t in range(2):
    S_t = sum((seq[j] * seq[j].T for j in range(t + 1)), sp.zeros(2, 2))
    block = seq[t]                                         # block 1 = s_t
    for layer in (1, 2):                                   # layer k: query = block k
        block = sum((seq[j] * (seq[j].T * block) for j in range(t + 1)), sp.zeros(2, 1))   # Σ v k^T q
        assert (block - S_t ** layer * seq[t]).expand() == sp.zeros(2, 1)
    # Richardson, 2 steps from 0 on (S_t + λI) x = s_t, against ω(2 − ωλ) s − ω² S s (its p_2)
    A_t = S_t + lam_ * sp.eye(2)
    x1 = omega * seq[t]
    x2 = x1 + omega * (seq[t] - A_t * x1)
    readout = omega * (2 - omega * lam_) * seq[t] - omega ** 2 * (S_t * seq[t])
    assert (x2 - readout).expand() == sp.zeros(2, 1)
show("at t = 2: block 3 after two layers minus S₂² s₂, and Richardson's x₂ minus the read-out ω(2 − ωλ) s_t − ω² S_t s_t:",
     eq("block₃ − S₂² s₂", (block - S_t ** 2 * seq[t]).expand()),
     eq("x₂ − read-out", (x2 - readout).expand()), "and the same at t = 1.")

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds the symbolic objects that the tests
# compare with theory/mesa/ through sympy.lambdify (a cell Jupyter Book leaves out).
RESULTS = dict(eta=eta, states=s[1:], gd_prediction=gd, sherman_morrison=(M, k, updated))

print("\nAll assertions hold.")
