# %% [markdown]
# # What one linear attention layer should learn: preconditioned gradient descent
# Ahn, Cheng, Daneshmand & Sra 2023, "Transformers learn to implement preconditioned
# gradient descent for in-context learning" (NeurIPS 2023); Mahankali, Hashimoto & Ma 2024
# (ICLR); Zhang, Frei & Bartlett 2024 (JMLR).
#
# Run `python -m proofs.preconditioned_gd`, or open it as a notebook (the formulas render as
# LaTeX).  Stands on its own: needs only sympy.  The paper's layer, prompts as columns
# `(x_i, y_i)` and the query `(x_q, 0)`: `Z ← Z + (1/n) P Z M Zᵀ Q Z` with `M` masking the
# query as a key and value, prediction `ŷ = −Z[d+1, n+1]`; the sparse form
# `P = [[B, 0], [0, 1]]`, `Q = [[A, 0], [0, 0]]`.  The papers' equations could not be read
# word for word here: every step below is our derivation of the statement the issue and the
# papers' abstracts make, and says so.
#
# **What is exact, and for which sizes.**  Steps 1, 2 and 4 use explicit matrices of
# symbols (d = 2, n = 2; Step 1's induction covers every number of layers).  Step 3 takes
# Gaussian fourth moments from the moment generating function (d = 2, any covariance) and
# checks the whole loss monomial by monomial for d = 1; Steps 5–7 are exact algebra, Step 6 a
# one-dimensional Gaussian integral.  Every check reduces a difference to zero with
# `expand`, `cancel` or `factor`.
#
# ![trained layers against GD and preconditioned GD](../docs/figures/preconditioned-gd.png)

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


def mat(name, rows, cols, symmetric=False):
    def entry(r, c):
        r, c = (min(r, c), max(r, c)) if symmetric else (r, c)
        return sp.Symbol(f"{name}_{r}{c}", real=True)
    return sp.Matrix(rows, cols, entry)


def layer(Z, P, Q, n):
    """Z + (1/n) P Z M Zᵀ Q Z, the query (last column) masked as key and value."""
    M = sp.diag(*([1] * n + [0]))
    return Z + P * Z * M * Z.T * Q * Z / n


d, n = 2, 2
X = mat("x", d, n)                      # columns x_i
y = sp.Matrix(1, n, lambda r, c: sp.Symbol(f"y_{c}", real=True))
xq = mat("q", d, 1)
A, B = mat("a", d, d), mat("b", d, d)
P = sp.diag(B, sp.Matrix([[1]]))
Q = sp.diag(A, sp.Matrix([[0]]))
Z0 = sp.Matrix.vstack(sp.Matrix.hstack(X, xq), sp.Matrix.hstack(y, sp.zeros(1, 1)))

# %% [markdown]
# ## Step 1: with B = 0, L layers are L steps of preconditioned GD (Ahn et al.)
# `R(w) = (1/2n) Σ_i (wᵀx_i − y_i)²`.  Suppose after ℓ layers the context labels read
# `y_i − w_ℓᵀ x_i` and the query's slot `−w_ℓᵀ x_q`.  One more layer adds
# `(1/n) Σ_j (y_j − w_ℓᵀx_j) x_jᵀ A x_k = −∇R(w_ℓ)ᵀ A x_k` to every label slot, so the form
# is kept with `w_{ℓ+1} = w_ℓ + Aᵀ ∇R(w_ℓ) = w_ℓ − Γ ∇R(w_ℓ)`, `Γ = −Aᵀ`; from w₀ = 0 this is
# the induction, and `ŷ = −(query slot) = w_Lᵀ x_q`.

# %%
step("Step 1: a B = 0 layer maps (y_i − w_ℓᵀx_i, −w_ℓᵀx_q) to the same form at w_ℓ − Γ∇R(w_ℓ), Γ = −Aᵀ")
w = mat("w", d, 1)
Zl = sp.Matrix.vstack(sp.Matrix.hstack(X, xq), sp.Matrix.hstack(y - w.T * X, -w.T * xq))
out = layer(Zl, sp.diag(sp.zeros(d, d), sp.Matrix([[1]])), Q, n)
grad = (X * (X.T * w - y.T)) / n                                      # ∇R(w)
w_next = w - (-A.T) * grad
target = sp.Matrix.hstack(y - w_next.T * X, -w_next.T * xq)
show(eq("∇R(w)", grad.applyfunc(sp.factor)),
     "the label row after the layer, minus the form at w − Γ∇R(w):",
     eq("residual", (out[d, :] - target).applyfunc(sp.expand)),
     "and the x rows do not move:", eq("x rows after − before", (out[:d, :] - Zl[:d, :]).applyfunc(sp.expand)))
assert (out[d, :] - target).applyfunc(sp.expand) == sp.zeros(1, n + 1)
assert (out[:d, :] - Zl[:d, :]).applyfunc(sp.expand) == sp.zeros(d, n + 1)

# %% [markdown]
# ## Step 2: with B ≠ 0 every x moves by (I + B Ŝ A); the last layer's B does not reach ŷ (Ahn et al.)
# The x rows of `P Z M Zᵀ Q Z / n` are `B X Xᵀ A [X, x_q] / n = B Ŝ A [X, x_q]` with
# `Ŝ = (1/n) X Xᵀ`: every token's x (the query's too) becomes `(I + B Ŝ A) x` — von Oswald
# et al.'s GD++ curvature correction when A and B are multiples of I.  The label row does
# not involve B, and ŷ reads the label row only, so the last layer's B cannot change ŷ.

# %%
step("Step 2: x ← (I + B Ŝ A) x for every token; the label row is free of B")
out = layer(Z0, P, Q, n)
S_hat = X * X.T / n
show(eq("Ŝ", S_hat), eq("x rows after − (I + BŜA)[X, x_q]",
                         (out[:d, :] - (sp.eye(d) + B * S_hat * A) * Z0[:d, :]).applyfunc(sp.expand)),
     eq("∂(label row)/∂b_00", out[d, :].diff(B[0, 0])))
assert (out[:d, :] - (sp.eye(d) + B * S_hat * A) * Z0[:d, :]).applyfunc(sp.expand) == sp.zeros(d, n + 1)
assert all(out[d, :].diff(b) == sp.zeros(1, n + 1) for b in B)

# %% [markdown]
# ## Step 3: the one-layer population loss and its minimiser (Ahn et al.; Mahankali et al.; ZFB)
# One layer predicts `ŷ = x_qᵀ Γ h`, `h = (1/n) Σ y_i x_i = Ŝ w + ξ`, `ξ = (1/n) Σ ε_i x_i`.
# For `x ~ N(0, Σ)`, `w ~ N(0, Ω)`, noise σ², the independence of x_q, w, ε and the prompt gives
# `L(Γ) = tr(Σ Γ H Γᵀ) − 2 tr(Γ Σ Ω Σ) + tr(ΣΩ) + σ²` with `H = E[ŜΩŜ] + (σ²/n) Σ`, and Isserlis
# gives `E[x xᵀ Ω x xᵀ] = 2ΣΩΣ + tr(ΩΣ)Σ`, hence `H = ((n+1)/n) ΣΩΣ + ((tr(ΩΣ) + σ²)/n) Σ`.  The
# loss is a convex quadratic in Γ with gradient `2(ΣΓH − ΣΩΣ)`, stationary where `Γ H = ΩΣ`,
# at `Γ* = Ω Σ H⁻¹`: for Ω = I that is
# `((n+1)/n Σ + (tr Σ + σ²)/n I)⁻¹`, for Ω = Σ⁻¹ it is `n/(n + d + 1 + σ²) Σ⁻¹` (our derivation).

# %%
step("Step 3: Isserlis (d = 2), the whole loss monomial by monomial (d = 1), and the minimiser")
S = mat("s", 2, 2, symmetric=True)
Om = mat("o", 2, 2, symmetric=True)
t = sp.symbols("t0:2", real=True)
mgf = sp.exp((sp.Matrix([t]) * S * sp.Matrix(t))[0] / 2)
fourth = sp.Matrix(2, 2, lambda a_, e_: sum(Om[k, m_] * sp.diff(mgf, t[a_], t[k], t[m_], t[e_]).subs({t[0]: 0, t[1]: 0})
                                            for k in range(2) for m_ in range(2)))
show(eq("E[x xᵀ Ω x xᵀ] − (2ΣΩΣ + tr(ΩΣ)Σ)", (fourth - 2 * S * Om * S - (Om * S).trace() * S).applyfunc(sp.expand)))
assert (fourth - 2 * S * Om * S - (Om * S).trace() * S).applyfunc(sp.expand) == sp.zeros(2, 2)
# d = 1, n = 2: the loss E(γ h x_q − y_q)² with every moment taken monomial by monomial
g, s2, om, sig2 = sp.symbols("gamma s2 omega sigma2", positive=True)
x1, x2, x3, w_, e1, e2, e3 = sp.symbols("x1 x2 x3 w e1 e2 e3", real=True)
h = ((w_ * x1 + e1) * x1 + (w_ * x2 + e2) * x2) / 2
err = g * h * x3 - (w_ * x3 + e3)
mom = {x1: {2: s2, 4: 3 * s2 ** 2, 6: 15 * s2 ** 3}, x2: {2: s2, 4: 3 * s2 ** 2, 6: 15 * s2 ** 3},
       x3: {2: s2, 4: 3 * s2 ** 2}, w_: {2: om, 4: 3 * om ** 2}, e1: {2: sig2}, e2: {2: sig2}, e3: {2: sig2}}
poly = sp.Poly(sp.expand(err ** 2), x1, x2, x3, w_, e1, e2, e3)
exact = sp.expand(sum(c * sp.prod([mom[v].get(p, 0) if p else 1 for v, p in zip(poly.gens, pw)])
                      for pw, c in poly.terms()))
H1 = sp.Rational(3, 2) * s2 * om * s2 + (om * s2 + sig2) / 2 * s2
formula = s2 * g * H1 * g - 2 * g * s2 * om * s2 + s2 * om + sig2
show(eq("E(ŷ − y)² (d = 1, n = 2)", sp.factor(exact)), eq("minus the formula", sp.expand(exact - formula)))
assert sp.expand(exact - formula) == 0
# the minimiser, d = 2: the gradient of the quadratic is 2(ΣΓH − ΣΩΣ) for any symmetric Σ and H
# (H a free symmetric matrix here), so Γ* solves Γ H = ΩΣ; the closed forms do, for Ω = I and
# Ω = Σ⁻¹ (σ² free), checked without inverting H
nn = sp.Symbol("n", positive=True)
Gm, Hs = mat("g", 2, 2), mat("h", 2, 2, symmetric=True)
Lq = (S * Gm * Hs * Gm.T).trace() - 2 * (Gm * S * Om * S).trace()
gradient = sp.Matrix(2, 2, lambda r, c: sp.diff(Lq, Gm[r, c]))
show(eq("∂L/∂Γ − 2(ΣΓH − ΣΩΣ)", (gradient - 2 * (S * Gm * Hs - S * Om * S)).applyfunc(sp.expand)))
assert (gradient - 2 * (S * Gm * Hs - S * Om * S)).applyfunc(sp.expand) == sp.zeros(2, 2)
for name, Omega in (("Ω = I", sp.eye(2)), ("Ω = Σ⁻¹", S.inv())):
    H = (nn + 1) / nn * S * Omega * S + ((Omega * S).trace() + sig2) / nn * S
    if name == "Ω = I":
        closed = ((nn + 1) / nn * S + (S.trace() + sig2) / nn * sp.eye(2)).inv()
    else:
        closed = nn / (nn + 2 + 1 + sig2) * S.inv()
    show(f"{name}: the closed form Γ* solves Γ H = ΩΣ:", eq("Γ* H − ΩΣ", (closed * H - Omega * S).applyfunc(sp.cancel)))
    assert (closed * H - Omega * S).applyfunc(sp.cancel) == sp.zeros(2, 2)

# %% [markdown]
# ## Step 4: the dense (P, Q) can do no better (the w → −w argument)
# With dense P, Q the prediction is `ŷ = −(1/n) Σ_j (pᵀz_j)(z_jᵀ Q z_q)`, p the label row of
# P.  Split it into its parts odd and even in the labels (y → −y, as w → −w does):
# `ŷ_odd = x_qᵀ Γ_eff h`-form, a sparse layer with `A_eff = c Q_xx + b_x q_yxᵀ`
# (`c = P[d+1, d+1]`, `b_x` the rest of the row, `q_yx` Q's label row), and `ŷ_even` free of
# the task's sign.  For a prompt and its mirror (w → −w) the two squared errors add to
# `2(ŷ_odd − y)² + 2 ŷ_even²`: averaged over the symmetric task law, the dense loss is the
# sparse loss of A_eff plus `E ŷ_even²` ≥ the sparse optimum.

# %%
step("Step 4: ŷ_dense = ŷ_odd(y) + ŷ_even, ŷ_odd a sparse layer, and the mirror identity")
Pd, Qd = mat("p", d + 1, d + 1), mat("k", d + 1, d + 1)
yd = -layer(Z0, Pd, Qd, n)[d, n]
flipped = yd.subs({yi: -yi for yi in y}, simultaneous=True)
odd, even = sp.expand((yd - flipped) / 2), sp.expand((yd + flipped) / 2)
A_eff = Pd[d, d] * Qd[:d, :d] + Pd[d, :d].T * Qd[d, :d]
sparse_odd = -layer(Z0, sp.diag(sp.zeros(d, d), sp.Matrix([[1]])), sp.diag(A_eff, sp.Matrix([[0]])), n)[d, n]
show(eq("A_eff", A_eff), eq("ŷ_odd − (sparse layer with A_eff)", sp.expand(odd - sparse_odd)),
     eq("ŷ_even(y) − ŷ_even(−y)", sp.expand(even - even.subs({yi: -yi for yi in y}, simultaneous=True))))
assert sp.expand(even - even.subs({yi: -yi for yi in y}, simultaneous=True)) == 0
assert sp.expand(odd - sparse_odd) == 0
yq = sp.Symbol("y_q", real=True)
pair = (odd + even - yq) ** 2 + (-odd + even + yq) ** 2
show(eq("(ŷ⁺ − y)² + (ŷ⁻ + y)² − 2(ŷ_odd − y)² − 2ŷ_even²", sp.expand(pair - 2 * (odd - yq) ** 2 - 2 * even ** 2)))
assert sp.expand(pair - 2 * (odd - yq) ** 2 - 2 * even ** 2) == 0

# %% [markdown]
# ## Step 5: Zhang, Frei & Bartlett's gradient flow and its limit
# ZFB's layer from their initialisation predicts `ŷ = u x_qᵀ Uᵀ h` (Γ = u Uᵀ); the flow on
# `½ L` has `∂(½L)/∂Γ = Λ Γ H − Λ²` (w ~ N(0, I), σ = 0), `u̇ = −⟨∂(½L)/∂Γ, Uᵀ⟩`,
# `U̇ = −u (∂(½L)/∂Γ)ᵀ`.  It is at rest where `Λ Γ H = Λ²`, i.e. at `Γ = Λ H⁻¹ = Γ_ZFB⁻¹` with
# `Γ_ZFB = (1 + 1/N) Λ + tr(Λ)/N I` (their one-layer theorem; the convergence is integrated numerically
# in `theory/preconditioned_gd/flow.py`).

# %%
step("Step 5: ∂(½L)/∂Γ = ΛΓH − Λ², zero at Γ = Γ_ZFB⁻¹")
Lam = mat("l", 2, 2, symmetric=True)
N = sp.Symbol("N", positive=True)
H = (N + 1) / N * Lam * Lam + Lam.trace() / N * Lam
half_loss = ((Lam * Gm * H * Gm.T).trace() - 2 * (Gm * Lam * Lam).trace() + Lam.trace()) / 2
dG = sp.Matrix(2, 2, lambda r, c: sp.diff(half_loss, Gm[r, c]))
show(eq("∂(½L)/∂Γ − (ΛΓH − Λ²)", (dG - (Lam * Gm * H - Lam * Lam)).applyfunc(sp.expand)))
assert (dG - (Lam * Gm * H - Lam * Lam)).applyfunc(sp.expand) == sp.zeros(2, 2)
G_zfb = (1 + 1 / N) * Lam + Lam.trace() / N * sp.eye(2)
rest = (Lam * G_zfb.inv() * H - Lam * Lam).applyfunc(sp.cancel)
show(eq("ΛΓH − Λ² at Γ = Γ_ZFB⁻¹", rest))
assert rest == sp.zeros(2, 2)

# %% [markdown]
# ## Step 6: a nonlinear task family keeps the optimum a plain GD step (Mahankali et al.)
# For `x ~ N(0, I_d)` and a rotation-invariant task law, the optimum is `γ* I` with
# `γ* = n E‖g‖² / ((n − 1) E‖g‖² + E[y²‖x‖²])`, `g = E_x[y x]` (minimise
# `γ² E‖h‖² − 2γ E[gᵀh] + E y²` with `E‖h‖² = (1 − 1/n) E‖g‖² + (1/n) E[y²‖x‖²]`).  Ours:
# `y = ReLU(wᵀx)`, `w ~ N(0, I)`.  With `u = wᵀx ~ N(0, ‖w‖²)`: `g = E[ReLU(u) u] w/‖w‖² = w/2`
# and `E[y²‖x‖²] = E[ReLU(u)² u²]/‖w‖² + (d − 1) E[ReLU(u)²] = (d + 2)‖w‖²/2`, so
# `γ* = n/(n + 2d + 3)` (linear tasks: `n/(n + d + 1)`).

# %%
step("Step 6: the Gaussian integrals of the ReLU task, and γ*")
u, r = sp.symbols("u r", positive=True)                    # r = ‖w‖
dens = sp.exp(-u ** 2 / (2 * r ** 2)) / (r * sp.sqrt(2 * sp.pi))
m11 = sp.integrate(u * u * dens, (u, 0, sp.oo))            # E[ReLU(u) u]
m20 = sp.integrate(u ** 2 * dens, (u, 0, sp.oo))           # E[ReLU(u)²]
m22 = sp.integrate(u ** 4 * dens, (u, 0, sp.oo))           # E[ReLU(u)² u²]
dd = sp.Symbol("d", positive=True)
show(eq("E[ReLU(u) u]", m11), eq("E[ReLU(u)²]", m20), eq("E[ReLU(u)² u²]", m22))
assert sp.expand(m11 - r ** 2 / 2) == 0 and sp.expand(m20 - r ** 2 / 2) == 0 and sp.expand(m22 - 3 * r ** 4 / 2) == 0
# E over w ~ N(0, I): E‖w‖² = d, so E‖g‖² = d/4 and E[y²‖x‖²] = d(d + 2)/2
gamma_star = nn * (dd / 4) / ((nn - 1) * dd / 4 + dd * (dd + 2) / 2)
show(eq("γ*", sp.factor(gamma_star)))
assert sp.cancel(gamma_star - nn / (nn + 2 * dd + 3)) == 0

# %% [markdown]
# ## Step 7: on S = {A = aΣ⁻¹, B = bI} the problem is isotropic, and the gradient in A is ∝ Σ (Ahn et al.)
# Whitening `x = C z`, `w = C⁻ᵀ v` (`CCᵀ = Σ`, so `w ~ N(0, Σ⁻¹)`) turns the scores into
# `z_iᵀ (CᵀAC) z_j` and the x-update into `C⁻¹BC`: on S both are `aI` and `bI`, and the
# whitened law is rotation invariant, so the expected gradient in the whitened blocks is
# `αI` and `βI`.  Back in x: `∇_A L = C (αI) Cᵀ = α Σ` and `∇_B L = C⁻ᵀ (βI) Cᵀ = β I`.  (So
# the gradient in A is ∝ Σ, not Σ⁻¹: plain gradient flow leaves S unless Σ ∝ I, but a
# stationary point of the 2L scalars is a stationary point of the whole loss.)

# %%
step("Step 7: CᵀAC = aI and C⁻¹BC = bI on S; the chain rule sends αI to αΣ and βI to βI")
C = sp.Matrix([[sp.Symbol("c_00", positive=True), 0], [sp.Symbol("c_10", real=True), sp.Symbol("c_11", positive=True)]])
Sig = C * C.T
a_, b_, al, be = sp.symbols("a b alpha beta", real=True)
show(eq("Cᵀ(aΣ⁻¹)C", (C.T * (a_ * Sig.inv()) * C).applyfunc(sp.cancel)),
     eq("C⁻¹(bI)C", (C.inv() * (b_ * sp.eye(2)) * C).applyfunc(sp.cancel)))
assert (C.T * (a_ * Sig.inv()) * C).applyfunc(sp.cancel) == a_ * sp.eye(2)
# L(A) = L_z(CᵀAC): dL/dA = C (dL_z/dA_z) Cᵀ;  L(B) = L_z(C⁻¹BC): dL/dB = C⁻ᵀ (dL_z/dB_z) Cᵀ
Az, Bz = mat("m", 2, 2), mat("n", 2, 2)
Lz = al * Az.trace() + be * Bz.trace()                      # any loss whose whitened gradients are αI, βI
Am, Bm = mat("A", 2, 2), mat("B", 2, 2)
L_of = Lz.subs(dict(zip(Az, C.T * Am * C))).subs(dict(zip(Bz, C.inv() * Bm * C)))
gA = sp.Matrix(2, 2, lambda r_, c_: sp.diff(L_of, Am[r_, c_]))
gB = sp.Matrix(2, 2, lambda r_, c_: sp.diff(L_of, Bm[r_, c_]))
show(eq("∇_A L − αΣ", (gA - al * Sig).applyfunc(sp.cancel)), eq("∇_B L − βI", (gB - be * sp.eye(2)).applyfunc(sp.cancel)))
assert (gA - al * Sig).applyfunc(sp.cancel) == sp.zeros(2, 2)
assert (gB - be * sp.eye(2)).applyfunc(sp.cancel) == sp.zeros(2, 2)

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds what the tests compare with
# theory/preconditioned_gd/ (a cell Jupyter Book leaves out).
RESULTS = dict(layer_X=X, layer_y=y, layer_xq=xq, A=A, B=B, P=P, Q=Q, Z0=Z0, n=n,
               gamma_single_index=gamma_star, n_symbol=nn, d_symbol=dd)

print("\nAll assertions hold.")
