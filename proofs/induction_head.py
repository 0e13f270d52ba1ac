# %% [markdown]
# # The three-parameter landscape of induction-head formation
# Reddy 2024 (ICLR), "The mechanistic basis of data dependence and abrupt learning in an
# in-context classification task" (arXiv 2312.03002), Sec. 5.
#
# Three nested logits: β (first layer: attend to the previous token), α (second layer:
# the target attends to the label after the matching item), ξ (the readout is aligned
# with the label vectors).  N item-label pairs in context, L labels in all.
#
#     y = σ(β),   w = e^{αy} / (e^{αy} + N - 1),
#     p = e^{ξw} / (e^{ξw} + (N-1) e^{ξ(1-w)/(N-1)} + L - N),   loss = -log p.
#
# *Which form.*  We use this closed form of the phenomenological model: it has every
# property the paper states for it, each proved below — at the origin only ξ has a
# gradient (Step 1); accuracy first rises from 1/L to 1/N (Step 2); α's gradient carries a
# factor ξ and β's a factor α, so the logits take off in turn (Step 3); the loss has a
# cliff at w = 1/N (Step 4); L = N makes the origin a saddle (Step 5).  Step 6 shows the
# three logits are exactly those of an idealised two-parameter induction head (Sec. 4).
# Scalars and explicit symbols throughout, so every step is exact; the algebra is done
# with `cancel`, `expand` and `factor` (canonical forms that decide equality of rational
# expressions), never with the heuristic `simplify`.  Stands on its own: needs only sympy;
# open it as a notebook and every formula renders as LaTeX.  The figures
# `docs/figures/induction-head-landscape.png` (the loss over (α, ξ): the cliff of Step 4)
# and `docs/figures/induction-head-training.png` (the logits taking off in turn, Step 3)
# picture it.  The paper's equations could not be read word for word here: the sections
# are the paper's, the form is ours (see above).
#
# ![the plateau, the logits in turn, the plateau's length](../docs/figures/induction-head-landscape.png)

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


def tidy(e):
    """Put every exponent in one canonical form (``cancel``), so that equal powers of e
    are recognised as equal."""
    return e.replace(sp.exp, lambda arg: sp.exp(sp.cancel(arg)))


def softmax(z):
    """Softmax of a list of expressions."""
    e = [sp.exp(v) for v in z]
    return [v / sum(e) for v in e]


beta, alpha, xi = sp.symbols("beta alpha xi", real=True)
N, L = sp.symbols("N L", positive=True)
y = 1 / (1 + sp.exp(-beta))
w = sp.exp(alpha * y) / (sp.exp(alpha * y) + N - 1)
Z = sp.exp(xi * w) + (N - 1) * sp.exp(xi * (1 - w) / (N - 1)) + L - N
loss = -sp.log(sp.exp(xi * w) / Z)
grad = [sp.diff(loss, v) for v in (beta, alpha, xi)]

# %% [markdown]
# ## Step 1: at the origin only ξ has a gradient
# At β = α = ξ = 0: y = 1/2, w = 1/N, p = 1/L (every label equally likely).
# ∂/∂β carries a factor α and ∂/∂α a factor ξ, so both vanish; ∂/∂ξ = 1/L - 1/N.

# %%
step("Step 1: the gradient at the origin")
origin = {beta: 0, alpha: 0, xi: 0}
g0 = [sp.cancel(g.subs(origin)) for g in grad]
show(eq("∇loss(0)", sp.Matrix(g0)),
     "∂loss/∂ξ = 1/L − 1/N < 0 when L > N: ξ grows first.  When L = N the origin is a critical point.")
assert g0[0] == 0 and g0[1] == 0
assert sp.cancel(g0[2] - (1 / L - 1 / N)) == 0

# %% [markdown]
# ## Step 2: the slow phase — ξ alone, and accuracy 1/L → 1/N
# With β = α = 0 (w = 1/N) the loss depends on ξ only:
# p(ξ) = e^{ξ/N} / (N e^{ξ/N} + L - N), which rises from 1/L to 1/N as ξ → ∞: the
# network learns to pick *a* label from the context, at random.

# %%
step("Step 2: along ξ with α = β = 0, p rises from 1/L to 1/N")
p_xi = sp.cancel(tidy(sp.exp(-loss.subs({beta: 0, alpha: 0}))))
limit = sp.limit(p_xi.subs({N: 8, L: 32}), xi, sp.oo)
show(eq("p(ξ)", p_xi), eq("p(0)", p_xi.subs({xi: 0})),
     eq("lim_{ξ→∞} p(ξ) at N = 8, L = 32", limit))
assert sp.cancel(p_xi - sp.exp(xi / N) / (N * sp.exp(xi / N) + L - N)) == 0
assert limit == sp.Rational(1, 8)
assert p_xi.subs({xi: 0}) == 1 / L

# %% [markdown]
# ## Step 3: the curriculum — α's gradient carries a factor ξ, β's a factor α
# The loss depends on α only through w, and on w only through ξw and ξ(1-w)/(N-1), so
# ∂loss/∂w = ξ · (e^{ξw} - e^{ξ(1-w)/(N-1)}) / Z - ξ: a factor ξ.  It depends on β only
# through u = αy, so ∂loss/∂β = α σ'(β) ∂loss/∂u: a factor α.  With ξ = 0 the α-gradient
# vanishes, with α = 0 the β-gradient: each logit opens the way for the next (the
# intrinsic curriculum).  At the origin, ∂²loss/∂α∂ξ = -(N-1)/(2N²) < 0: α starts to
# grow as soon as ξ does.

# %%
step("Step 3: ∂loss/∂w carries a factor ξ, ∂loss/∂β a factor α")
wv, u = sp.Symbol("w", positive=True), sp.Symbol("u", real=True)


def loss_of(w_):
    """The loss written with w given: the same expression as `loss` above."""
    Z_ = sp.exp(xi * w_) + (N - 1) * sp.exp(xi * (1 - w_) / (N - 1)) + L - N
    return -sp.log(sp.exp(xi * w_) / Z_)


assert loss_of(w) == loss                                         # the same expression tree
Zw = sp.exp(xi * wv) + (N - 1) * sp.exp(xi * (1 - wv) / (N - 1)) + L - N
dloss_dw = xi * ((sp.exp(xi * wv) - sp.exp(xi * (1 - wv) / (N - 1))) / Zw - 1)
show(eq("∂loss/∂w", dloss_dw),
     eq("d loss/dw (sympy) − that", sp.cancel(sp.diff(loss_of(wv), wv) - dloss_dw)))
assert sp.cancel(sp.diff(loss_of(wv), wv) - dloss_dw) == 0
w_u = sp.exp(u) / (sp.exp(u) + N - 1)                             # w as a function of u = αy
assert loss_of(w_u).subs(u, alpha * y) == loss                   # loss = f(αy), f(u) = loss_of(w(u))
f = sp.Function("f")                                              # the chain rule for any such f:
chain = sp.diff(f(alpha * y), beta) - alpha * sp.diff(y, beta) * sp.Subs(sp.Derivative(f(u), u), u, alpha * y)
show("the loss is f(αy) for f(u) = loss(w(u)); by the chain rule, for any such f,",
     eq("∂f(αy)/∂β − α σ′(β) f′(αy)", sp.expand(chain)), "so ∂loss/∂β is zero at α = 0.")
assert sp.expand(chain) == 0
g_alpha = grad[1].subs({beta: 0, alpha: 0})
slope = sp.cancel(sp.diff(g_alpha, xi).subs(xi, 0))
show(eq("∂²loss/∂α∂ξ (0)", sp.factor(slope)), "< 0 for N > 1: α grows once ξ > 0.")
assert sp.cancel(slope - (-(N - 1) / (2 * N ** 2))) == 0

# %% [markdown]
# ## Step 4: the cliff
# Dividing Z by e^{ξw}, the loss is exactly
# `log(1 + (N-1) e^{ξ c(w)} + (L-N) e^{-ξ w})` with `c(w) = (1 - N w)/(N - 1)`.
# `c` falls through 0 at w = 1/N.  So as ξ → ∞ the loss tends to log N at w = 1/N, to
# 0 for w > 1/N (both exponents negative), and grows like ξ c(w) for w < 1/N: a step at
# w = 1/N that sharpens into a cliff as ξ grows.  The three limits are checked at
# N = 8, L = 32 on both sides of the step; the sign argument gives them for every N, L.

# %%
step("Step 4: loss = log(1 + (N−1) e^{ξ c(w)} + (L−N) e^{−ξw}), c(w) = (1 − Nw)/(N−1)")
c = (1 - N * wv) / (N - 1)
assert sp.cancel(c - ((1 - wv) / (N - 1) - wv)) == 0
inside = 1 + (N - 1) * sp.exp(xi * c) + (L - N) * sp.exp(-xi * wv)
# Z e^{-ξw} = inside: compare term by term, exponents combined
assert sp.expand(tidy(sp.powsimp(sp.expand(Zw * sp.exp(-xi * wv)))) - tidy(inside)) == 0
rewritten = sp.log(inside)
assert c.subs(wv, 1 / N) == 0
assert sp.cancel(sp.diff(c, wv) + N / (N - 1)) == 0           # c decreases through 0 at w = 1/N
at = {N: 8, L: 32}
limits = [sp.limit(rewritten.subs(at).subs(wv, wval), xi, sp.oo)
          for wval in (sp.Rational(1, 8), sp.Rational(1, 4), sp.Rational(1, 16))]
show(eq("loss", rewritten), eq("c(w)", sp.factor(c)),
     "the loss as ξ → ∞ at N = 8, L = 32, at w = 1/N, 1/4 (> 1/N) and 1/16 (< 1/N):", sp.Matrix([limits]))
assert limits == [sp.log(8), 0, sp.oo]

# %% [markdown]
# ## Step 5: L = N — the origin is a saddle (Sec. 5)
# With L = N the gradient vanishes at the origin (Step 1), so exact GD from the origin never
# moves.  The Hessian there has eigenvalues −(N−1)/(2N²), 0 and +(N−1)/(2N²): a saddle.
# Near the origin a GD step with rate η multiplies the component of θ along each
# eigenvector by 1 − η·(eigenvalue): the component along (β, α, ξ) = (0, 1, 1) (α and ξ
# together) grows by 1 + η(N−1)/(2N²) a step, the one along (0, −1, 1) shrinks, and β does
# not move to first order (its gradient carries a factor α, Step 3).  So a perturbation δ
# with a component along (0, 1, 1) escapes — α and ξ first, β once α has grown — after a
# number of steps that grows like log(1/δ); one without it stays stuck to first order.

# %%
step("Step 5: L = N: the Hessian at the origin")
grad_LN = [g.subs(L, N) for g in grad]
H0 = sp.Matrix(3, 3, lambda i, j: sp.diff(grad_LN[i], (beta, alpha, xi)[j]).subs(origin))
H0 = H0.applyfunc(sp.cancel)
vects = H0.eigenvects()
show(eq("H(0)", H0.applyfunc(sp.factor)),
     "its eigenvalues (first column) and their eigenvectors (components along β, α, ξ):",
     sp.Matrix([[sp.factor(val), *vec[0]] for val, _, vec in vects]))
spectrum = {sp.factor(val): tuple(vec[0]) for val, _, vec in vects}
kappa = (N - 1) / (2 * N ** 2)
assert set(spectrum) == {sp.factor(-kappa), 0, sp.factor(kappa)}
assert spectrum[sp.factor(-kappa)] == (0, 1, 1) and spectrum[0] == (1, 0, 0)
eig8 = sorted(H0.subs(N, 8).eigenvals())
show(f"at N = 8 the eigenvalues are {eig8}: a saddle.")
assert eig8 == [sp.Rational(-7, 128), 0, sp.Rational(7, 128)]

# %% [markdown]
# ## Step 6: where the three logits come from
# Sec. 4 of the paper builds a two-parameter induction head (one scalar per attention
# layer; our reading is in theory/induction/two_param.py).  Idealise it: items and
# labels orthonormal (one-hot vectors), B = 1 with distinct context labels, the query
# of the first pair's class; layer 1 at a label token attends over itself and its
# predecessor only (logit β on the predecessor); layer 2 from the target over the N
# label tokens only (logit α x_q·prev); a one-parameter readout, logit_l = ξ λ_l·o.
# Computed token by token, its logits are exactly the three groups of the model above
# — ξw for the right label, ξ(1-w)/(N-1) for each other context label, 0 for the
# L-N others — so its p *is* the three-parameter p.  Explicit sizes (N, L).

# %%
step("Step 6: the idealised two-parameter induction head has exactly these logits")
Y = sp.Symbol("y", positive=True)
sig = 1 / (1 + sp.exp(-beta))
for n, l in ((1, 3), (2, 3), (3, 5), (4, 4)):
    basis = sp.eye(n + l)
    item = [basis[:, j] for j in range(n)]            # x_j, class j
    label = [basis[:, n + m] for m in range(l)]       # λ_m; pair j shows label j
    w_self, w_pred = softmax([sp.S.Zero, beta])     # layer 1: self, predecessor
    assert sp.cancel(w_pred.subs(sp.exp(beta), 1 / sp.exp(-beta)) - sig) == 0   # = σ(β)
    prev = [w_pred * item[j] + w_self * label[j] for j in range(n)]
    P2 = softmax([alpha * (item[0].T * prev[j])[0] for j in range(n)])  # query x_q = x_0
    o = sum((P2[j] * label[j] for j in range(n)), sp.zeros(n + l, 1))
    logits = [xi * (label[m].T * o)[0] for m in range(l)]
    w_n = sp.exp(alpha * Y) / (sp.exp(alpha * Y) + n - 1)
    groups = [xi * w_n] + [xi * (1 - w_n) / (n - 1)] * (n - 1) + [sp.S.Zero] * (l - n)
    if (n, l) == (3, 5):
        show(f"N = {n}, L = {l}: the head's logits, computed token by token (y = σ(β) is the layer-1 weight "
             "on the predecessor),", eq("logits", sp.Matrix([[sp.factor(a.subs(w_pred, Y)) for a in logits]])),
             "and the three groups of the model, ξw, ξ(1 − w)/(N − 1) and 0:",
             eq("logits − groups", sp.Matrix([[sp.cancel(a.subs(w_pred, Y) - b) for a, b in zip(logits, groups)]])))
    assert all(sp.cancel(a.subs(w_pred, Y) - b) == 0 for a, b in zip(logits, groups))
show("the same holds at (N, L) = (1, 3), (2, 3), (3, 5) and (4, 4).")

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds the symbolic objects that the tests
# compare with theory/induction/ through sympy.lambdify (a cell Jupyter Book leaves out).
RESULTS = dict(symbols=(beta, alpha, xi, N, L), loss=loss, grad=grad, hessian_origin_L_eq_N=H0)

print("\nAll assertions hold.")
