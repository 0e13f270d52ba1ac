# %% [markdown]
# # Task diversity: the reduced linear-attention model, its exact error, and its limits
# Lu, Letey, Zavatone-Veth, Maiti & Pehlevan 2024, "Asymptotic theory of in-context learning
# by linear attention" (PNAS 2025); Raventós, Paul, Chen & Ganguli 2023, "Pretraining task
# diversity and the emergence of non-Bayesian in-context learning for regression" (NeurIPS).
#
# Run `python -m proofs.task_diversity`, or open it as a notebook (the formulas render as
# LaTeX).  Stands on its own: needs only sympy.  The data: `x_i ~ N(0, I_d/d)`,
# `y_i = wᵀx_i + ε_i`, `ε_i ~ N(0, ρ)`, ℓ = αd context pairs and a query.  The papers'
# equations could not be read word for word here: Steps 1–4 and 6 are our derivations of the
# statements the papers make, and Step 5 takes Result 1 in the form the authors' code
# evaluates (`theory_runs/common.py`, `ridgeless_icl`) and derives its limits.
#
# **What is exact, and for which sizes.**  Step 1 uses explicit matrices of symbols (d = 2,
# ℓ = 2); Step 2 takes Gaussian moments monomial by monomial at d = 2 (any w, ρ); Step 3
# assembles them for any ℓ and checks the whole error monomial by monomial at d = 1, ℓ = 2;
# Steps 4–6 are exact algebra and limits.
#
# ![double descent and the task-diversity transition](../docs/figures/task-diversity.png)

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


def mat(name, rows, cols):
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}", real=True))


def gaussian_mean(expr, variances):
    """E[expr] for independent centred Gaussians {symbol: variance}: each monomial's moment is
    Π var^(p/2) (p − 1)!! (0 for odd p)."""
    poly = sp.Poly(sp.expand(expr), *variances)
    total = 0
    for powers, coeff in poly.terms():
        term = coeff
        for v, p in zip(variances, powers):
            term *= 0 if p % 2 else variances[v] ** (p // 2) * sp.factorial2(p - 1)
        total += term
    return sp.expand(total)


# %% [markdown]
# ## Step 1: one linear attention layer is the reduced model ⟨Γ, H_Z⟩ (Lu et al., Sec. II)
# Tokens `z_i = (x_i, y_i)`, the query `(x_q, 0)`; the layer `Z + (1/ℓ) V Z Zᵀ W Z` read at the
# query's label slot.  When V's last row is `(0, …, 0, v_y)` the x-rows of V do not reach the
# output and the query's own token adds nothing (its label is 0), so
# `ŷ = (v_y/ℓ) [Σ y_i x_iᵀ, Σ y_i²] W[:, :d] x_q = ⟨Γ, H_Z⟩` with
# `H_Z = x_q [(d/ℓ) Σ y_i x_iᵀ, (1/ℓ) Σ y_i²]` and `Γ = v_y (D W[:, :d])ᵀ`, `D = diag(1/d, …, 1/d, 1)`.

# %%
step("Step 1: the layer's output equals ⟨Γ, H_Z⟩ (d = 2, ℓ = 2)")
d1, l1 = 2, 2
X1, y1, xq1 = mat("x", l1, d1), sp.Matrix(sp.symbols("y0:2", real=True)), sp.Matrix(sp.symbols("q0:2", real=True))
W1 = mat("W", d1 + 1, d1 + 1)
v_y = sp.Symbol("v_y", real=True)
V1 = sp.zeros(d1 + 1, d1 + 1)
V1[:d1, :] = mat("V", d1, d1 + 1)
V1[d1, d1] = v_y
Z1 = sp.Matrix.hstack(sp.Matrix.vstack(X1.T, y1.T), sp.Matrix.vstack(xq1, sp.zeros(1, 1)))   # columns are tokens
out = (Z1 + V1 * Z1 * Z1.T * W1 * Z1 / l1)[d1, l1]
u1 = sp.Matrix.vstack(sp.Rational(d1, l1) * X1.T * y1, sp.Matrix([(y1.T * y1)[0] / l1]))
H1 = xq1 * u1.T
D1 = sp.diag(*([sp.Rational(1, d1)] * d1 + [1]))
Gamma1 = v_y * (D1 * W1[:, :d1]).T
reduced = sum(Gamma1[a, b] * H1[a, b] for a in range(d1) for b in range(d1 + 1))
show(eq("ŷ_layer − ⟨Γ, H_Z⟩", sp.expand(out - reduced)))
assert sp.expand(out - reduced) == 0

# %% [markdown]
# ## Step 2: the moments of one context pair
# With `v = [h; s]`, `h = (d/ℓ) Σ y_i x_i`, `s = (1/ℓ) Σ y_i²`, the error needs the moments of one
# pair given w (q = ‖w‖²/d): `E[y x] = w/d`, `E[y²] = q + ρ`,
# `E[y² x xᵀ] = (‖w‖² I + 2 w wᵀ)/d² + ρ I/d` (Isserlis), `E[y³ x] = 3(q + ρ) w/d`, `E[y⁴] = 3(q + ρ)²`.

# %%
step("Step 2: one pair's moments, monomial by monomial (d = 2)")
dd = 2
xs = sp.symbols("x0:2", real=True)
ws = sp.Matrix(sp.symbols("w0:2", real=True))
eps, rho = sp.Symbol("epsilon", real=True), sp.Symbol("rho", positive=True)
var = {xs[0]: sp.Rational(1, dd), xs[1]: sp.Rational(1, dd), eps: rho}
x_ = sp.Matrix(xs)
y_ = (ws.T * x_)[0] + eps
q = (ws.T * ws)[0] / dd
checks = {
    "E[y x] − w/d": sp.Matrix([gaussian_mean(y_ * xi, var) for xi in xs]) - ws / dd,
    "E[y²] − (q + ρ)": sp.Matrix([gaussian_mean(y_ ** 2, var) - q - rho]),
    "E[y² x xᵀ] − ((‖w‖²I + 2wwᵀ)/d² + ρI/d)": sp.Matrix(dd, dd, lambda a, b: gaussian_mean(y_ ** 2 * xs[a] * xs[b], var))
    - ((ws.T * ws)[0] * sp.eye(dd) + 2 * ws * ws.T) / dd ** 2 - rho * sp.eye(dd) / dd,
    "E[y³ x] − 3(q + ρ)w/d": sp.Matrix([gaussian_mean(y_ ** 3 * xi, var) for xi in xs]) - 3 * (q + rho) * ws / dd,
    "E[y⁴] − 3(q + ρ)²": sp.Matrix([gaussian_mean(y_ ** 4, var) - 3 * (q + rho) ** 2]),
}
for label, residual in checks.items():
    residual = residual.applyfunc(sp.expand)
    show(eq(label, residual))
    assert residual == sp.zeros(*residual.shape)

# %% [markdown]
# ## Step 3: the exact error of any Γ
# The ℓ pairs are independent, so `E[h hᵀ] = (d²/ℓ²)(ℓ E[y² x xᵀ] + ℓ(ℓ−1) w wᵀ/d²)`,
# `E[h s] = (d/ℓ²)(ℓ E[y³x] + ℓ(ℓ−1)(q+ρ) w/d)`, `E[s²] = (1/ℓ²)(ℓ E[y⁴] + ℓ(ℓ−1)(q+ρ)²)`; with α = ℓ/d
#
# `E[v vᵀ | w] = [[(q+ρ)/α I + (1 + 1/ℓ) w wᵀ, (1 + 2/ℓ)(q+ρ) w], [·, (1 + 2/ℓ)(q+ρ)²]]`,
# `E[v wᵀ | w] = [[w wᵀ], [(q+ρ) wᵀ]]`, and, averaging over x_q ~ N(0, I/d) and ε_q first,
# `e(Γ | w) = ρ + (1/d)[tr(Γ E[vvᵀ] Γᵀ) − 2 tr(Γ E[vwᵀ]) + ‖w‖²]` (`theory.task_diversity.error`).

# %%
step("Step 3: the blocks of E[v vᵀ] for any ℓ, and the whole error at d = 1, ℓ = 2")
ell = sp.Symbol("ell", positive=True)
Eyxx = ((ws.T * ws)[0] * sp.eye(dd) + 2 * ws * ws.T) / dd ** 2 + rho * sp.eye(dd) / dd
Ehh = dd ** 2 / ell ** 2 * (ell * Eyxx + ell * (ell - 1) * ws * ws.T / dd ** 2)
Ehs = dd / ell ** 2 * (ell * 3 * (q + rho) * ws / dd + ell * (ell - 1) * (q + rho) * ws / dd)
Ess = (ell * 3 * (q + rho) ** 2 + ell * (ell - 1) * (q + rho) ** 2) / ell ** 2
alpha = ell / dd
blocks = {"E[h hᵀ] − ((q+ρ)/α I + (1+1/ℓ) w wᵀ)": Ehh - ((q + rho) / alpha * sp.eye(dd) + (1 + 1 / ell) * ws * ws.T),
          "E[h s] − (1+2/ℓ)(q+ρ) w": Ehs - (1 + 2 / ell) * (q + rho) * ws,
          "E[s²] − (1+2/ℓ)(q+ρ)²": sp.Matrix([Ess - (1 + 2 / ell) * (q + rho) ** 2])}
for label, residual in blocks.items():
    residual = residual.applyfunc(sp.cancel)
    show(eq(label, residual))
    assert residual == sp.zeros(*residual.shape)
# d = 1, ℓ = 2: Γ = [G, g], the whole squared error with every moment taken monomial by monomial
G_, g_, w1 = sp.symbols("G g w", real=True)
a1, a2, aq, e1, e2, eq_ = sp.symbols("a1 a2 a_q e1 e2 e_q", real=True)
ya, yb, yq = w1 * a1 + e1, w1 * a2 + e2, w1 * aq + eq_
h_, s_ = (ya * a1 + yb * a2) / 2, (ya ** 2 + yb ** 2) / 2                 # d/ℓ = 1/2, 1/ℓ = 1/2
exact = gaussian_mean((aq * (G_ * h_ + g_ * s_) - yq) ** 2, {a1: 1, a2: 1, aq: 1, e1: rho, e2: rho, eq_: rho})
q1, l2 = w1 ** 2, 2
Evv = sp.Matrix([[(q1 + rho) / l2 + (1 + sp.Rational(1, l2)) * w1 ** 2, (1 + sp.Rational(2, l2)) * (q1 + rho) * w1],
                 [(1 + sp.Rational(2, l2)) * (q1 + rho) * w1, (1 + sp.Rational(2, l2)) * (q1 + rho) ** 2]])
Evw = sp.Matrix([w1 ** 2, (q1 + rho) * w1])
Gam = sp.Matrix([[G_, g_]])
formula = rho + (Gam * Evv * Gam.T)[0] - 2 * (Gam * Evw)[0] + w1 ** 2
show(eq("E(ŷ − y_q)² − formula (d = 1, ℓ = 2)", sp.expand(exact - formula)))
assert sp.expand(exact - formula) == 0

# %% [markdown]
# ## Step 4: for fresh Gaussian tasks the best Γ is one step of gradient descent
# Averaging over `w ~ N(0, I_d)`: `E q = 1`, `E[wwᵀ] = I`, `E[q w] = 0`, so the blocks coupling G and
# g vanish and the error is `γ²((1+ρ)/α + 1 + 1/ℓ) − 2γ + 1 + ρ` on `Γ = [γI | 0]` (each of the d
# diagonal directions contributes the same, divided by d); the minimiser
# `γ* = 1/((1+ρ)/α + 1 + 1/ℓ)` is the step size of one GD step — the one-layer optimum of the
# preconditioned-GD topic at Σ = I/d (`d γ*`) — with error `1 + ρ − γ*`, which tends to
# `(1+ρ)/(α+1+ρ) + ρ` as d → ∞ at fixed α = ℓ/d.

# %%
step("Step 4: γ*, its error, and the d → ∞ limit")
gam, al, dsym = sp.symbols("gamma alpha d", positive=True)
err_gamma = gam ** 2 * ((1 + rho) / al + 1 + 1 / ell) - 2 * gam + 1 + rho
g_star = sp.solve(sp.diff(err_gamma, gam), gam)[0]
show(eq("γ*", g_star), eq("e(γ*) − (1 + ρ − γ*)", sp.cancel(err_gamma.subs(gam, g_star) - (1 + rho - g_star))))
assert sp.cancel(g_star - 1 / ((1 + rho) / al + 1 + 1 / ell)) == 0
assert sp.cancel(err_gamma.subs(gam, g_star) - (1 + rho - g_star)) == 0
ahn = 1 / ((ell + 1) / (ell * dsym) + (1 + rho) / ell)          # Ahn's Γ* at Σ = I/d, σ² = ρ, n = ℓ
show(eq("Γ*_Ahn − d γ* (ℓ = αd)", sp.cancel((ahn - dsym * g_star).subs(al, ell / dsym))))
assert sp.cancel((ahn - dsym * g_star).subs(al, ell / dsym)) == 0
limit = sp.limit((1 + rho - g_star).subs(ell, al * dsym), dsym, sp.oo)
show(eq("lim_{d→∞} (1 + ρ − γ*)", sp.cancel(limit)))
assert sp.cancel(limit - ((1 + rho) / (al + 1 + rho) + rho)) == 0

# %% [markdown]
# ## Step 5: the limits of Result 1
# With `x* = (1+ρ)/α` and `M_κ(x) = 2/(x + 1 − 1/κ + √((x + 1 − 1/κ)² + 4x/κ))`: as κ → ∞,
# `M_κ(x) → 1/(1+x)` and `k* → 1`; the τ > 1 branch at τ → ∞ is then
# `(1+x)(x m)² − 2 m x² + x + ρ = x/(1+x) + ρ = (1+ρ)/(α+1+ρ) + ρ`; the τ < 1 branch tends to
# `1 + ρ` (the untrained Γ = 0) as τ → 0, and both branches diverge as τ → 1.

# %%
step("Step 5: κ → ∞, τ → ∞, τ → 0 and τ → 1")
x, kap, tau = sp.symbols("x kappa tau", positive=True)
M = 2 / (x + 1 - 1 / kap + sp.sqrt((x + 1 - 1 / kap) ** 2 + 4 * x / kap))
M_inf = sp.limit(M, kap, sp.oo)
show(eq("lim_{κ→∞} M_κ(x)", M_inf))
assert sp.cancel(M_inf - 1 / (1 + x)) == 0
m = M_inf
above = ((1 - 1 / (tau - 1)) * (1 + x) * (x * m) ** 2 + (3 - 2 * tau) / (tau - 1) * m * x ** 2
         + ((1 + rho) / (tau - 1) * m + 1) * x + rho * m / (tau - 1) + rho)          # κ = ∞: k* = 1
at_inf = sp.limit(above, tau, sp.oo)
show(eq("lim_{τ→∞} e (κ = ∞)", sp.cancel(at_inf)))
assert sp.cancel(at_inf.subs(x, (1 + rho) / al) - ((1 + rho) / (al + 1 + rho) + rho)) == 0
mu = x * M.subs(kap, kap / tau)
below = tau * (1 + x) / (1 - tau) * (1 - tau * (1 - mu) ** 2 - (x - rho) / x * mu) - 2 * tau * (1 - mu) + 1 + rho
at_zero = sp.limit(below.subs({kap: 2, x: sp.Rational(1, 3)}), tau, 0)
show(eq("lim_{τ→0} e (κ = 2, x* = 1/3)", at_zero))
assert sp.cancel(at_zero - (1 + rho)) == 0
for branch, side in ((below, "-"), (above, "+")):
    lim = sp.limit(branch.subs({kap: 2, x: sp.Rational(1, 3), rho: sp.Rational(1, 100)}) if branch is below
                   else branch.subs({x: sp.Rational(1, 3), rho: sp.Rational(1, 100)}), tau, 1, side)
    show(eq(f"lim_(τ→1{side}) e", lim))
    assert lim == sp.oo

# %% [markdown]
# ## Step 6: Raventós et al.'s ridge is the Gaussian posterior mean
# For `w ~ N(0, s² I)` and noise σ², the posterior mean is `s² Xᵀ(s² XXᵀ + σ² I)⁻¹ y`; the
# push-through identity `Xᵀ(XXᵀ + λI)⁻¹ = (XᵀX + λI)⁻¹Xᵀ` makes it ridge with `λ = σ²/s²`.

# %%
step("Step 6: the kernel form equals ridge with λ = σ²/s² (3 pairs, D = 2)")
Xr, yr = mat("x", 3, 2), sp.Matrix(sp.symbols("y0:3", real=True))
s2, sig2 = sp.symbols("s2 sigma2", positive=True)
kernel = s2 * Xr.T * (s2 * Xr * Xr.T + sig2 * sp.eye(3)).inv() * yr
ridge = (Xr.T * Xr + sig2 / s2 * sp.eye(2)).inv() * Xr.T * yr
show(eq("kernel form − ridge", (kernel - ridge).applyfunc(sp.cancel)))
assert (kernel - ridge).applyfunc(sp.cancel) == sp.zeros(2, 1)

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds what the tests compare with
# theory/task_diversity/ (a cell Jupyter Book leaves out).
RESULTS = dict(gamma_star=g_star, alpha=al, ell=ell, rho=rho, limit=limit, M_inf=M_inf)

print("\nAll assertions hold.")
