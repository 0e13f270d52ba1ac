# %% [markdown]
# # Scan and snap: the gradient flow of a one-layer transformer in the long-sequence limit
# Tian, Wang, Chen & Du 2023, "Scan and Snap: Understanding Training Dynamics and Token
# Composition in 1-layer Transformer" (NeurIPS 2023, arXiv 2305.16380), Secs. 4–6.
#
# A class n (its next token) comes with a query token m = ψ(n) and contextual tokens drawn
# from `p_n = P(·|n)`.  With attention logits `z_m` (the row of Z for query m), a long
# sequence's attention-weighted token histogram is `c_n = p_n ⊙ e^{z_m} / (p_nᵀ e^{z_m})`; the
# model normalises it, `f_n = c_n/||c_n||`, and predicts `α_n = softmax(Y f_n)`; the loss is
# `−ln α_n[n]`.  We derive (1) the Jacobian of c_n in z_m, `diag c_n − c_n c_nᵀ`, and that its
# rows sum to zero — so adding a constant to z_m changes nothing and `1ᵀ ż_m = 0`; (2) the
# Jacobian of the normalisation, `(I − f fᵀ)/||c||`; (3) the gradient of the loss in the
# logits, `α_n − e_n`, whose entries sum to zero — so `1ᵀ Ẏ = 0`; (4) chained together, the
# flow `ż_m = η_Z (diag c − c cᵀ)(I − f fᵀ) Yᵀ (e_n − α_n)/||c||` for one class.  The figure
# `docs/figures/scan-snap.png` shows the flow at work: common tokens lose attention, the
# distinct tokens gain it in the order of P(l|n) (the scan), and then it freezes (the snap).
#
# **What is exact and what is numeric.**  Steps 1–3 are exact: explicit small sizes (3
# tokens, every entry a symbol), each `e^{z_i}` written as a positive symbol `E_i` and each
# `||c||` as `r` (with `r² = Σ c_i²`) so that `cancel` decides every identity as an identity
# of rational functions.  Step 4 is a numeric spot check: sympy differentiates the composed
# loss, and that derivative and the chained formula are evaluated at one point in mpmath
# and agree to 1e-12 (the composed expression is too large for an exact comparison in
# reasonable time); it checks the chaining, while Steps 1–3 prove its pieces.  The paper's
# theorems could not be read word for word here; these are our derivations, which
# `theory/scan_snap/model.py` implements and the tests check against finite differences.
# Stands on its own: needs only sympy.
#
# ![the scan, the snap and the entropy after it](../docs/figures/scan-snap.png)

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


M = 3
z = sp.Matrix(sp.symbols("z1:4", real=True))                 # attention logits of one query row
p = sp.Matrix(sp.symbols("p1:4", positive=True))              # P(l | n)
w = sp.Matrix([p[i] * sp.exp(z[i]) for i in range(M)])
c = w / sum(w)                                                 # c_n
E = sp.symbols("E1:4", positive=True)                          # E_i stands for e^{z_i}
as_E = {sp.exp(z[i]): E[i] for i in range(M)}


def rational(expr):
    """An expression in e^{z_i} as a canonical rational function of the E_i."""
    return sp.cancel(sp.expand(expr).subs(as_E))


# %% [markdown]
# ## Step 1: the attention's Jacobian and the row invariance (Sec. 4)
# `∂c_i/∂z_j = c_i (δ_ij − c_j)`, i.e. `J = diag c − c cᵀ`.  Its rows and columns sum to
# zero (`Σ_i c_i = 1`), so `c` does not change when the same constant is added to every
# `z_j`, and any update of the form `J v` has `1ᵀ J v = 0`: `1ᵀ ż_m = 0`.

# %%
step("Step 1: ∂c/∂z = diag c − c cᵀ, and 1ᵀ (diag c − c cᵀ) = 0")
J = c.jacobian(z)
J_claim = sp.diag(*c) - c * c.T
show(eq("c", c.subs(as_E)), eq("∂c/∂z − (diag c − c cᵀ)", (J - J_claim).applyfunc(rational)),
     eq("1ᵀ (diag c − c cᵀ)", (sp.ones(1, M) * J_claim).applyfunc(rational)))
assert (J - J_claim).applyfunc(rational) == sp.zeros(M, M)
assert (sp.ones(1, M) * J_claim).applyfunc(rational) == sp.zeros(1, M)
k = sp.Symbol("k", real=True)
shifted = (w.subs({z[i]: z[i] + k for i in range(M)}) / sum(w.subs({z[i]: z[i] + k for i in range(M)})))
show("adding k to every logit:", eq("c(z + k·1) − c(z)", (shifted - c).applyfunc(rational)))
assert (shifted - c).applyfunc(rational) == sp.zeros(M, 1)

# %% [markdown]
# ## Step 2: the ℓ2 normalisation
# `f = c/||c||` has Jacobian `∂f/∂c = (I − f fᵀ)/||c||`: a change of c along c itself does
# not move f.  Checked for a free 3-vector c, writing `||c||` as r.

# %%
step("Step 2: ∂(c/||c||)/∂c = (I − f fᵀ)/||c||")
cv = sp.Matrix(sp.symbols("c1:4", positive=True))
r = sp.Symbol("r", positive=True)                              # r = ||c||
norm2 = sum(x ** 2 for x in cv)
norm = sp.sqrt(norm2)
f = cv / norm


def with_r(expr):
    """Write ||c|| as r and reduce the numerator modulo r² − Σ c_i² (r's defining
    relation), then cancel: an identity of rational functions in c and r."""
    num, den = sp.fraction(sp.cancel(expr.subs(norm, r)))
    num = sp.rem(sp.Poly(num, r), sp.Poly(r ** 2 - norm2, r)).as_expr()
    return sp.cancel(num / den)


Jf_claim = (sp.eye(M) - f * f.T) / norm
show(eq("(I − f fᵀ)/||c||", Jf_claim.applyfunc(with_r)),
     eq("∂f/∂c − (I − f fᵀ)/||c||", (f.jacobian(cv) - Jf_claim).applyfunc(with_r)),
     eq("(I − f fᵀ) f", ((sp.eye(M) - f * f.T) * f).applyfunc(with_r)))
assert (f.jacobian(cv) - Jf_claim).applyfunc(with_r) == sp.zeros(M, M)
assert ((sp.eye(M) - f * f.T) * f).applyfunc(with_r) == sp.zeros(M, 1)

# %% [markdown]
# ## Step 3: cross-entropy in the logits, and 1ᵀ Ẏ = 0 (Sec. 4)
# With `α = softmax(u)`, `∂(−ln α_n)/∂u = α − e_n`; its entries sum to zero.  The decoder's
# gradient flow `Ẏ = −η_Y ∂L/∂Y = η_Y (e_n − α) fᵀ` (one class) therefore has zero column
# sums, and so has their average over the classes.

# %%
step("Step 3: ∂(−ln softmax(u)_n)/∂u = α − e_n, and 1ᵀ(α − e_n) = 0")
u = sp.Matrix(sp.symbols("u1:4", real=True))
U = sp.symbols("U1:4", positive=True)                          # U_i stands for e^{u_i}
as_U = {sp.exp(u[i]): U[i] for i in range(M)}
alpha = sp.Matrix([sp.exp(u[i]) for i in range(M)]) / sum(sp.exp(u[i]) for i in range(M))
n = 0                                                          # the class's next token
e = sp.Matrix([1 if i == n else 0 for i in range(M)])
grad_u = sp.Matrix([sp.diff(-sp.log(alpha[n]), u[i]) for i in range(M)])
show(eq("∂(−ln α₁)/∂u", grad_u.applyfunc(lambda x: sp.cancel(x.subs(as_U)))),
     eq("∂(−ln α₁)/∂u − (α − e₁)", (grad_u - (alpha - e)).applyfunc(lambda x: sp.cancel(x.subs(as_U)))),
     eq("1ᵀ(α − e₁)", sp.cancel(sum(alpha - e).subs(as_U))))
assert (grad_u - (alpha - e)).applyfunc(lambda x: sp.cancel(x.subs(as_U))) == sp.zeros(M, 1)
assert sp.cancel(sum(alpha - e).subs(as_U)) == 0

# %% [markdown]
# ## Step 4: the chain — the flow of z_m for one class (a numeric spot check)
# `−∂(−ln α_n)/∂z = Jᵀ (∂f/∂c)ᵀ Yᵀ (e_n − α)`, with J and ∂f/∂c symmetric:
# `ż_m = η_Z (diag c − c cᵀ)(I − f fᵀ) Yᵀ (e_n − α)/||c||`.  Compared with sympy's own
# differentiation of the composed loss, with p and Y fixed to rationals and z free, both
# evaluated at z = (1/3, 2/3, 1) in mpmath: the difference is round-off (below 1e-12),
# where a wrong factor or sign shows at the first digit.

# %%
step("Step 4: −∂loss/∂z = (diag c − c cᵀ)(I − f fᵀ) Yᵀ (e_n − α)/||c|| (one class; numeric)")
Y = sp.Matrix(M, M, lambda i, j: sp.Symbol(f"y{i}{j}", real=True))
at_p_Y = {**{p[i]: sp.Rational(i + 2, 9) for i in range(M)},
          **{Y[i, j]: sp.Rational((i + 2 * j) % 5 - 2, 2) for i in range(M) for j in range(M)}}


def composed(cz, Ym):
    """c ↦ f = c/||c|| ↦ α = softmax(Y f); returns (f, ||c||, α)."""
    rr = sp.sqrt(sum(x ** 2 for x in cz))
    fz = cz / rr
    lg = Ym * fz
    return fz, rr, sp.Matrix([sp.exp(lg[i]) for i in range(M)]) / sum(sp.exp(lg[i]) for i in range(M))


c_num = c.subs(at_p_Y)                                         # z still free: differentiate in z
Y_pt = Y.subs(at_p_Y)
alpha_z = composed(c_num, Y_pt)[2]
auto = sp.Matrix([sp.diff(-sp.log(alpha_z[n]), z[i]) for i in range(M)])
fz, nc, alpha_c = composed(c_num, Y_pt)
formula = -(J_claim.subs(at_p_Y) * (sp.eye(M) - fz * fz.T) * Y_pt.T * (e - alpha_c) / nc)
point = [sp.Rational(i + 1, 3) for i in range(M)]
diff = sp.lambdify(list(z), auto - formula, "mpmath", cse=True)(*point)
at_point = sp.lambdify(list(z), formula, "mpmath", cse=True)(*point)
show("∂loss/∂z by the chained formula at z = (1/3, 2/3, 1), p = (2, 3, 4)/9 and the fixed Y (its entries sum to 0):",
     sp.Matrix([sp.Float(complex(x).real, 12) for x in at_point]),
     f"its largest difference from sympy's derivative of the composed loss: {max(abs(complex(x)) for x in diff):.1e}")
assert max(abs(complex(x)) for x in diff) < 1e-12

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds the symbolic Jacobians that the tests
# compare with theory/scan_snap/ (a cell Jupyter Book leaves out).
RESULTS = dict(z=z, p=p, c=c, attention_jacobian=J_claim)

print("\nAll assertions hold.")
