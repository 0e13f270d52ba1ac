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
# flow `ż_m = η_Z (diag c − c cᵀ)(I − f fᵀ) Yᵀ (e_n − α_n)/||c||` for one class.
# Explicit small sizes (3 tokens, every entry a symbol): every step is exact.  The paper's
# theorems could not be read word for word here; these are our derivations, which
# `theory/scan_snap/model.py` implements and the tests check against finite differences.
# Stands on its own: needs only sympy.

# %%
import sympy as sp


def show(*parts):
    """Print text and pretty-print formulas, in a terminal or a notebook."""
    for part in parts:
        if isinstance(part, str):
            print(part)
        else:
            sp.pprint(part, use_unicode=True)


M = 3
z = sp.Matrix(sp.symbols("z1:4", real=True))                 # attention logits of one query row
p = sp.Matrix(sp.symbols("p1:4", positive=True))              # P(l | n)
w = sp.Matrix([p[i] * sp.exp(z[i]) for i in range(M)])
c = w / sum(w)                                                 # c_n

# %% [markdown]
# ## Step 1: the attention's Jacobian and the row invariance
# `∂c_i/∂z_j = c_i (δ_ij − c_j)`, i.e. `J = diag c − c cᵀ`.  Its rows and columns sum to
# zero (`Σ_i c_i = 1`), so `c` does not change when the same constant is added to every
# `z_j`, and any update of the form `J v` has `1ᵀ J v = 0`: `1ᵀ ż_m = 0`.

# %%
show("## Step 1: ∂c/∂z = diag c - c cᵀ, and 1ᵀ (diag c - c cᵀ) = 0")
J = c.jacobian(z)
J_claim = sp.diag(*c) - c * c.T
assert (J - J_claim).applyfunc(sp.simplify) == sp.zeros(M, M)
assert (sp.ones(1, M) * J_claim).applyfunc(sp.simplify) == sp.zeros(1, M)
k = sp.Symbol("k", real=True)
shifted = (w.subs({z[i]: z[i] + k for i in range(M)}) / sum(w.subs({z[i]: z[i] + k for i in range(M)})))
assert (shifted - c).applyfunc(sp.simplify) == sp.zeros(M, 1)
show("  ∂c/∂z = diag c - c cᵀ ✓;  1ᵀ(diag c - c cᵀ) = 0 ✓;  c(z + k·1) = c(z) ✓")

# %% [markdown]
# ## Step 2: the ℓ2 normalisation
# `f = c/||c||` has Jacobian `∂f/∂c = (I − f fᵀ)/||c||`: a change of c along c itself does
# not move f.  Checked for a free 3-vector c.

# %%
show("## Step 2: ∂(c/||c||)/∂c = (I - f fᵀ)/||c||")
cv = sp.Matrix(sp.symbols("c1:4", positive=True))
norm = sp.sqrt(sum(x ** 2 for x in cv))
f = cv / norm
assert (f.jacobian(cv) - (sp.eye(M) - f * f.T) / norm).applyfunc(sp.simplify) == sp.zeros(M, M)
assert ((sp.eye(M) - f * f.T) * f).applyfunc(sp.simplify) == sp.zeros(M, 1)
show("  ∂f/∂c = (I - f fᵀ)/||c|| ✓;  (I - f fᵀ) f = 0 ✓")

# %% [markdown]
# ## Step 3: cross-entropy in the logits, and 1ᵀ Ẏ = 0
# With `α = softmax(u)`, `∂(−ln α_n)/∂u = α − e_n`; its entries sum to zero.  The decoder's
# gradient flow `Ẏ = −η_Y ∂L/∂Y = η_Y (e_n − α) fᵀ` (one class) therefore has zero column
# sums, and so has their average over the classes.

# %%
show("## Step 3: ∂(-ln softmax(u)_n)/∂u = α - e_n, and 1ᵀ(α - e_n) = 0")
u = sp.Matrix(sp.symbols("u1:4", real=True))
alpha = sp.Matrix([sp.exp(u[i]) for i in range(M)]) / sum(sp.exp(u[i]) for i in range(M))
n = 0                                                          # the class's next token
e = sp.Matrix([1 if i == n else 0 for i in range(M)])
grad_u = sp.Matrix([sp.diff(-sp.log(alpha[n]), u[i]) for i in range(M)])
assert (grad_u - (alpha - e)).applyfunc(sp.simplify) == sp.zeros(M, 1)
assert sp.simplify(sum(alpha - e)) == 0
show("  ∂(-ln α_n)/∂u = α - e_n ✓;  1ᵀ(α - e_n) = 0 ✓")

# %% [markdown]
# ## Step 4: the chain — the flow of z_m for one class
# `−∂(−ln α_n)/∂z = Jᵀ (∂f/∂c)ᵀ Yᵀ (e_n − α)`, with J and ∂f/∂c symmetric:
# `ż_m = η_Z (diag c − c cᵀ)(I − f fᵀ) Yᵀ (e_n − α)/||c||`.  Checked against sympy's own
# differentiation of the composed loss, with p and Y fixed to rationals and z free, then both
# evaluated at z = (1/3, 2/3, 1) in floating point (the composed expression is too large to
# simplify symbolically in reasonable time; the difference is round-off, below 1e-12, where a
# wrong factor or sign shows at the first digit).

# %%
show("## Step 4: -∂loss/∂z = (diag c - c cᵀ)(I - f fᵀ) Yᵀ (e_n - α)/||c|| (one class)")
Y = sp.Matrix(M, M, lambda i, j: sp.Symbol(f"y{i}{j}", real=True))
at_p_Y = {**{p[i]: sp.Rational(i + 2, 9) for i in range(M)},
          **{Y[i, j]: sp.Rational((i + 2 * j) % 5 - 2, 2) for i in range(M) for j in range(M)}}


def composed(cz, Ym):
    """c ↦ f = c/||c|| ↦ α = softmax(Y f); returns (f, ||c||, α)."""
    r = sp.sqrt(sum(x ** 2 for x in cz))
    fz = cz / r
    lg = Ym * fz
    return fz, r, sp.Matrix([sp.exp(lg[i]) for i in range(M)]) / sum(sp.exp(lg[i]) for i in range(M))


c_num = c.subs(at_p_Y)                                         # z still free: differentiate in z
Y_pt = Y.subs(at_p_Y)
alpha_z = composed(c_num, Y_pt)[2]
auto = sp.Matrix([sp.diff(-sp.log(alpha_z[n]), z[i]) for i in range(M)])
fz, nc, alpha_c = composed(c_num, Y_pt)
formula = -(J_claim.subs(at_p_Y) * (sp.eye(M) - fz * fz.T) * Y_pt.T * (e - alpha_c) / nc)
# evaluate both at z = (1/3, 2/3, 1) in floating point (lambdify: sympy's own N is slow here)
diff = sp.lambdify(list(z), auto - formula, "mpmath", cse=True)(*(sp.Rational(i + 1, 3) for i in range(M)))
assert max(abs(complex(x)) for x in diff) < 1e-12
show("  the chained formula = sympy's derivative of the composed loss (to 1e-12) ✓")

# %% [markdown]
# ## What the tests read
# `RESULTS` holds the symbolic Jacobians that `tests/` compare with the numpy code.

# %%
RESULTS = dict(z=z, p=p, c=c, attention_jacobian=J_claim)

print("\nAll assertions hold.")
