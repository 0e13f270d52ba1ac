# %% [markdown]
# # One linear self-attention layer is one step of gradient descent
# von Oswald et al. 2023 (ICML), "Transformers learn in-context by gradient descent",
# Prop. 1 and Sec. 4; the closed-form optimal step size; and Zhang, Frei & Bartlett 2024.
#
# Run `python -m proofs.gd_step`, or open it as a notebook (every formula renders as
# LaTeX).  Stands on its own: needs only sympy.  The figures `docs/figures/gd-step-loss.png`
# (trained layers against GD steps) and `docs/figures/gd-step-products.png` (the trained
# weight products against this construction) picture Steps 1–3.
#
# Tokens are columns `e_i = (x_i, y_i)`, query `e_q = (x_q, −W0 x_q)`; the LSA layer is
# `e_j ← e_j + P Σ_{i≤N} (W_V e_i)(W_K e_i)^T (W_Q e_j)`, keys and values from the context
# tokens only (the paper's Sec. 2).  Section and proposition numbers are the paper's.
#
# **What is exact, and for which sizes.**  Steps 1–3 use explicit matrices of symbols
# (d = 2 inputs, one or two outputs, N = 2 context tokens): the block structure of the
# tokens is what matters, and `MatrixSymbol` cannot slice a token into its x and y parts;
# the algebra is entry by entry and the same at every size.  Step 2 is an induction step,
# so it covers every number of layers.  Step 4 computes an expectation exactly for small
# d, N by replacing monomials with moments, then solves the general formula.  Step 5
# takes fourth moments of a Gaussian from its moment generating function, for d = 2.
# Every check is exact (`expand`, `cancel`, `factor`).
#
# ![the trained layer's weight products beside this construction](../docs/figures/gd-step-products.png)

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


def _mat(name, rows, cols):
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}", real=True))


def lsa_layer(tokens, W_K, W_Q, W_V, P, n_keys):
    """Apply one LSA layer to a list of column tokens; the first n_keys are keys/values."""
    M = sum((W_V * e * (W_K * e).T for e in tokens[:n_keys]), sp.zeros(W_V.rows, W_K.rows))
    return [e + P * M * (W_Q * e) for e in tokens]


def gd_weights(d, d_out, N, eta, W0):
    """Prop. 1: W_K = W_Q = [[I, 0], [0, 0]], W_V = [[0, 0], [W0, −I]], P = (η/N) I."""
    D = d + d_out
    W_K = sp.zeros(D, D)
    W_K[:d, :d] = sp.eye(d)
    W_V = sp.zeros(D, D)
    W_V[d:, :d] = W0
    W_V[d:, d:] = -sp.eye(d_out)
    return W_K, W_K.copy(), W_V, eta / N * sp.eye(D)


def moment(poly_expr, variables, moments):
    """E[poly] for independent zero-mean variables: each monomial ∏ v^p -> ∏ moments[v][p]."""
    poly = sp.Poly(sp.expand(poly_expr), *variables)
    total = 0
    for powers, coeff in poly.terms():
        term = coeff
        for v, p in zip(variables, powers):
            if p:
                term *= moments[v].get(p, 0)
                if term == 0:
                    break
        total += term
    return sp.expand(total)


eta, gamma = sp.symbols("eta gamma", real=True)
d, d_out, N = 2, 2, 2
X = _mat("x", d, N)                                    # columns x_i
Y = _mat("y", d_out, N)                                # columns y_i
xq = _mat("xq", d, 1)
W0 = _mat("w", d_out, d)

# %% [markdown]
# ## Step 1: the constructed layer takes one GD step (Prop. 1)
# With `L(W) = 1/(2N) Σ_i ||W x_i − y_i||²`, one step from `W0` is
# `ΔW = −η ∇L(W0) = −(η/N) Σ_i (W0 x_i − y_i) x_i^T`.  The construction below makes the
# value of token i `W_V e_i = (0, W0 x_i − y_i)` (the residual of the current model) and
# the score of key i for token j `(W_K e_i)^T (W_Q e_j) = x_i^T x_j`, so every y-slot
# gains `(η/N) Σ_i (W0 x_i − y_i) x_i^T x_j = −ΔW x_j`: the query's y-slot becomes
# `−(W0 + ΔW) x_q`, minus the prediction of the model after one GD step.

# %%
step("Step 1: one constructed LSA layer = one GD step (d = 2, d_out = 2, N = 2)")
W_K, W_Q, W_V, P = gd_weights(d, d_out, N, eta, W0)
show("the construction (x-block first, then the y-block):",
     eq("W_K = W_Q", W_K), eq("W_V", W_V), eq("P", P))
toks = [sp.Matrix.vstack(X[:, i], Y[:, i]) for i in range(N)] + [sp.Matrix.vstack(xq, -W0 * xq)]
show("the value of context token 1 and its score for the query:",
     eq("W_V e₁", W_V * toks[0]),
     eq("(W_K e₁)ᵀ (W_Q e_q)", ((W_K * toks[0]).T * (W_Q * toks[N]))[0]))
out = lsa_layer(toks, W_K, W_Q, W_V, P, n_keys=N)
dW = -(eta / N) * sum(((W0 * X[:, i] - Y[:, i]) * X[:, i].T for i in range(N)), sp.zeros(d_out, d))
prediction = -out[N][d:, :]
show("one GD step's update, and the query token after the layer minus (x_q, −(W0 + ΔW) x_q):",
     eq("ΔW", dW),
     eq("e_q′ − (x_q, −(W₀ + ΔW) x_q)",
        (out[N] - sp.Matrix.vstack(xq, -(W0 + dW) * xq)).expand()))
for i in range(N):
    assert (out[i][d:, :] - (Y[:, i] - dW * X[:, i])).expand() == sp.zeros(d_out, 1)
    assert (out[i][:d, :] - X[:, i]).expand() == sp.zeros(d, 1)
assert (prediction - (W0 + dW) * xq).expand() == sp.zeros(d_out, 1)
show("so −(the query's y-slot) is the prediction (W0 + ΔW) x_q; each context token's y-slot is y_i − ΔW x_i.")
# The query must not be a key/value: its value is W0 x_q − (−W0 x_q) = 2 W0 x_q.
with_query = lsa_layer(toks, W_K, W_Q, W_V, P, n_keys=N + 1)
extra = (-with_query[N][d:, :] - prediction).expand()
show("With the query among the keys and values, the prediction changes by",
     eq("Δŷ", extra.applyfunc(sp.factor)), "= −(2η/N) W0 x_q (x_qᵀ x_q): zero for every x_q only if W0 = 0.")
assert (extra + (2 * eta / N) * W0 * xq * (xq.T * xq)).expand() == sp.zeros(d_out, 1)

# %% [markdown]
# ## Step 2: K layers = K GD steps (induction; Sec. 3)
# Suppose after k layers the tokens are `(x_i, y_i − (W_k − W0) x_i)` and `(x_q, −W_k x_q)`
# for some `W_k`.  The value of token i is then
# `W0 x_i − y_i + (W_k − W0) x_i = W_k x_i − y_i`: the residual at `W_k`.  So one more
# layer moves to `W_{k+1} = W_k − (η/N) Σ_i (W_k x_i − y_i) x_i^T` and keeps the form.

# %%
step("Step 2: the invariant is kept by one more layer, so K layers = K GD steps")
Wk = _mat("v", d_out, d)
toks_k = [sp.Matrix.vstack(X[:, i], Y[:, i] - (Wk - W0) * X[:, i]) for i in range(N)] \
    + [sp.Matrix.vstack(xq, -Wk * xq)]
show("the value of context token 1 after k layers is the residual at W_k (the y-block):",
     eq("W_V e₁⁽ᵏ⁾", (W_V * toks_k[0]).expand()), eq("W_k x₁ − y₁", (Wk * X[:, 0] - Y[:, 0]).expand()))
out_k = lsa_layer(toks_k, W_K, W_Q, W_V, P, n_keys=N)
Wk1 = Wk - (eta / N) * sum(((Wk * X[:, i] - Y[:, i]) * X[:, i].T for i in range(N)), sp.zeros(d_out, d))
show("the query token after one more layer, minus (x_q, −W_{k+1} x_q) with W_{k+1} = W_k − η ∇L(W_k):",
     eq("e_q⁽ᵏ⁺¹⁾ − (x_q, −W_{k+1} x_q)", (out_k[N] - sp.Matrix.vstack(xq, -Wk1 * xq)).expand()))
for i in range(N):
    assert (out_k[i][d:, :] - (Y[:, i] - (Wk1 - W0) * X[:, i])).expand() == sp.zeros(d_out, 1)
assert (out_k[N][d:, :] + Wk1 * xq).expand() == sp.zeros(d_out, 1)

# %% [markdown]
# ## Step 3: GD++ (Sec. 4)
# The value also copies x and the projection's x-block is `−γ I` (W0 = 0):
# `W_V = [[I, 0], [0, −I]]`, `P = [[−γ I, 0], [0, (η/N) I]]`.  Every token's x becomes
# `(I − γ Σ_i x_i x_i^T) x` and its y-slot takes the GD step computed with the x it
# received; the next layer runs GD on the transformed inputs.

# %%
step("Step 3: a GD++ layer transforms x ← (I − γ Σ x_i x_i^T) x, and steps with the old x")
d_out1 = 1
Y1 = _mat("y", d_out1, N)
W_K, W_Q, W_V, P = gd_weights(d, d_out1, N, eta, sp.zeros(d_out1, d))
W_V[:d, :d] = sp.eye(d)
P[:d, :d] = -gamma * sp.eye(d)
show(eq("W_V", W_V), eq("P", P))
toks1 = [sp.Matrix.vstack(X[:, i], Y1[:, i]) for i in range(N)] + [sp.Matrix.vstack(xq, sp.zeros(1, 1))]
out_pp = lsa_layer(toks1, W_K, W_Q, W_V, P, n_keys=N)
S = X * X.T                                            # Σ_i x_i x_i^T
dW1 = (eta / N) * Y1 * X.T                             # one GD step from 0
show("the query token after the layer, minus ((I − γ S) x_q, −ΔW x_q), S = Σ x_i x_iᵀ:",
     eq("e_q′ − ((I − γS) x_q, −ΔW x_q)",
        (out_pp[N] - sp.Matrix.vstack((sp.eye(d) - gamma * S) * xq, -dW1 * xq)).expand()))
for j, e in enumerate(out_pp):
    x_old = X[:, j] if j < N else xq
    y_old = Y1[:, j] if j < N else sp.zeros(1, 1)
    assert (e[:d, :] - (sp.eye(d) - gamma * S) * x_old).expand() == sp.zeros(d, 1)
    assert (e[d:, :] - (y_old - dW1 * x_old)).expand() == sp.zeros(1, 1)

# %% [markdown]
# ## Step 4: the best one-step learning rate
# One output, `w ~ N(0, I)`, inputs with i.i.d. zero-mean coordinates of variance `σ²` and
# fourth moment `μ₄`.  One GD step from 0 predicts `ŷ = b (1/N) Σ_i y_i x_i^T x_q`
# (`b = η`).  We compute `E(ŷ − y_q)²` *exactly* for small d and N by expanding the
# polynomial and replacing each monomial by its moments, and compare it with
# `d σ² (b² c − 2 b σ² + 1)`, `c = (μ₄ + (d + N − 2) σ⁴)/N`; then minimise over b.  (Our
# derivation; the paper picks η by a grid search.)

# %%
step("Step 4: E(ŷ − y)² = d σ² (b² c − 2 b σ² + 1), exactly, for (d, N) = (1,1), (2,1), (1,2), (2,2)")
b, sigma, mu4 = sp.symbols("b sigma mu_4", positive=True)
dd, NN = sp.symbols("d N", positive=True, integer=True)
c = (mu4 + (dd + NN - 2) * sigma ** 4) / NN
general = dd * sigma ** 2 * (b ** 2 * c - 2 * b * sigma ** 2 + 1)
show(eq("E(ŷ − y)²", general))
for dv, Nv in [(1, 1), (2, 1), (1, 2), (2, 2)]:
    w = sp.symbols(f"w0:{dv}", real=True)
    xs = [sp.symbols(f"x{i}_0:{dv}", real=True) for i in range(Nv + 1)]   # last one is x_q
    y = [sum(wk * xk for wk, xk in zip(w, x)) for x in xs]
    h = [sum(y[i] * xs[i][k] for i in range(Nv)) / Nv for k in range(dv)]  # (1/N) Σ y_i x_i
    err = b * sum(hk * xq_k for hk, xq_k in zip(h, xs[Nv])) - y[Nv]
    moments = {v: {2: 1, 4: 3} for v in w}                                 # N(0, 1)
    moments.update({v: {2: sigma ** 2, 4: mu4} for x in xs for v in x})
    exact = moment(err ** 2, list(w) + [v for x in xs for v in x], moments)
    show(f"d = {dv}, N = {Nv}: the expectation, monomial by monomial,", eq("E(ŷ − y)²", sp.factor(exact)))
    assert sp.expand(exact - general.subs({dd: dv, NN: Nv})) == 0, (dv, Nv)
loss = general / 2                                     # L(b) = ½ E(ŷ − y)²
b_star = sp.solve(sp.diff(loss, b), b)[0]
loss_star = sp.factor(loss.subs(b, b_star))
show("minimising L(b) = ½ E(ŷ − y)² (a parabola in b with positive curvature d σ² c):",
     eq("b*", b_star), eq("L*", loss_star))
assert sp.cancel(b_star - NN * sigma ** 2 / (mu4 + (dd + NN - 2) * sigma ** 4)) == 0
assert sp.cancel(loss_star - dd * sigma ** 2 * (1 - sigma ** 4 / c) / 2) == 0
assert sp.cancel(sp.diff(loss, b, 2)) != 0             # a strict minimum (c > 0)
a = sp.Rational(1, 2)                                  # U(−a, a): σ² = a²/3, μ₄ = a⁴/5
at_uniform = {sigma: a / sp.sqrt(3), mu4: a ** 4 / 5, dd: 10, NN: 10}
show(f"d = N = 10, x ~ U(−1/2, 1/2): b* = {b_star.subs(at_uniform)} ≈ "
     f"{float(b_star.subs(at_uniform)):.4f}, L* = {loss_star.subs(at_uniform)} ≈ "
     f"{float(loss_star.subs(at_uniform)):.4f}; predicting 0 scores d σ²/2 = "
     f"{(dd * sigma ** 2 / 2).subs(at_uniform)} ≈ {float((dd * sigma ** 2 / 2).subs(at_uniform)):.4f}")

# %% [markdown]
# ## Step 5: Gaussian inputs (Zhang, Frei & Bartlett 2024)
# For `x ~ N(0, Λ)`, fourth moments come from the moment generating function
# `M(t) = exp(½ t^T Λ t)`: `E[x_a x_b x_c x_e] = ∂⁴M/∂t_a∂t_b∂t_c∂t_e` at 0 (Isserlis).
# Then `E[x x^T x x^T] = 2Λ² + tr(Λ) Λ`, and for `Ŝ = (1/N) Σ_i x_i x_i^T`
# (i ≠ j independent) `E[Ŝ²] = (1/N) E[x x^T x x^T] + (1 − 1/N) Λ² = Λ Γ` with
# `Γ = (1 + 1/N) Λ + (tr Λ / N) I`.  The best `ŷ = x_q^T M (1/N) Σ_i y_i x_i` solves
# `M E[Ŝ²] = E[Ŝ] = Λ` (normal equations of `½ E tr(Λ (MŜ − I)(MŜ − I)^T)`), and
# `M = Γ^{-1}` does, since Λ and Γ commute.

# %%
step("Step 5: E[x x^T x x^T] = 2Λ² + tr(Λ)Λ and E[Ŝ²] = ΛΓ, Λ a symbolic 2 × 2 covariance")
l11, l12, l22 = sp.symbols("lambda11 lambda12 lambda22", real=True)
Lam = sp.Matrix([[l11, l12], [l12, l22]])
t = sp.symbols("t0:2", real=True)
mgf = sp.exp((sp.Matrix([t]) * Lam * sp.Matrix(t))[0] / 2)
at0 = {ti: 0 for ti in t}


def fourth(a_, b_, c_, e_):
    return sp.diff(mgf, t[a_], t[b_], t[c_], t[e_]).subs(at0)


E4 = sp.Matrix(2, 2, lambda a_, e_: sum(fourth(a_, k, k, e_) for k in range(2)))  # Σ_k E[x_a x_k x_k x_e]
show("from the moment generating function, entry by entry:", eq("E[x xᵀ x xᵀ]", E4.applyfunc(sp.factor)),
     eq("E[x xᵀ x xᵀ] − (2Λ² + tr(Λ)Λ)", (E4 - (2 * Lam ** 2 + Lam.trace() * Lam)).expand()))
assert (E4 - (2 * Lam ** 2 + Lam.trace() * Lam)).expand() == sp.zeros(2, 2)
Nsym = sp.Symbol("N", positive=True)
Gamma = (1 + 1 / Nsym) * Lam + Lam.trace() / Nsym * sp.eye(2)
ES2 = E4 / Nsym + (1 - 1 / Nsym) * Lam ** 2
show(eq("Γ", Gamma), eq("E[Ŝ²] − ΛΓ", (ES2 - Lam * Gamma).applyfunc(sp.cancel)))
assert (ES2 - Lam * Gamma).applyfunc(sp.cancel) == sp.zeros(2, 2)
assert (Lam * Gamma - Gamma * Lam).expand() == sp.zeros(2, 2)
M_opt = Gamma.inv()
show("and M = Γ⁻¹ solves the normal equations:", eq("Γ⁻¹ E[Ŝ²] − Λ", (M_opt * ES2 - Lam).applyfunc(sp.cancel)))
assert (M_opt * ES2 - Lam).applyfunc(sp.cancel) == sp.zeros(2, 2)

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds the symbolic objects that the tests
# compare with theory/gd_step/ through sympy.lambdify (a cell Jupyter Book leaves out).
RESULTS = dict(
    layer=dict(X=X, Y=Y, xq=xq, W0=W0, eta=eta, out=out, out_with_query=with_query),
    gdpp=dict(X=X, Y=Y1, xq=xq, eta=eta, gamma=gamma, out=out_pp),
    one_step=dict(b=b, sigma=sigma, mu4=mu4, d=dd, N=NN, b_star=b_star, loss_star=loss_star, loss=loss),
    gaussian=dict(Lam=(l11, l12, l22), N=Nsym, ES2=ES2, Gamma=Gamma),
)

print("\nAll assertions hold.")
