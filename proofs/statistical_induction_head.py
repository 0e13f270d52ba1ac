# %% [markdown]
# # Statistical induction heads: the Bayes bigram predictor, and which layer moves first
# Edelman, Edelman, Goel, Malach & Tsilivis 2024, "The evolution of statistical induction
# heads: in-context learning Markov chains" (NeurIPS 2024).
#
# Run `python -m proofs.statistical_induction_head`, or open it as a notebook (the formulas
# render as LaTeX).  Stands on its own: needs only sympy.  Each sequence has its own
# transition matrix P with Dirichlet(1, …, 1) rows; the model predicts the next token.  The
# paper's theorems could not be read word for word here: both steps are our derivations of
# the statements the paper makes.
#
# **What is exact, and for which sizes.**  Step 1 integrates Beta densities exactly (k = 2,
# symbolic counts) and the Dirichlet case with k = 3 for small counts; Step 2 uses the
# minimal model with explicit symbols (T = 3, k = 2) and its derivative in v.

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


# %% [markdown]
# ## Step 1: the bigram strategy is the posterior predictive under Dirichlet(1) rows
# Given `x_1 … x_t` (the first token's law left out), the likelihood is
# `Π_a Π_s P[a, s]^{c(a→s)}`: the rows are independent a posteriori, row `a` is
# Dirichlet(1 + c(a→·)), and `E[P[x_t, s] | x_1 … x_t] = (c(x_t→s) + 1)/(Σ_{s'} c(x_t→s') + k)`
# — the add-one bigram counts.  For k = 2 each row is a Beta(1, 1) variable p and the ratio of
# integrals is exact for symbolic counts; for k = 3 we integrate the Dirichlet over the simplex.

# %%
step("Step 1: the posterior mean of P[a, s] is (c(a→s) + 1)/(n_a + k)")
p = sp.Symbol("p", positive=True)
c1, c0 = sp.symbols("c_1 c_0", integer=True, nonnegative=True)


def beta_integral(a, b):
    """∫₀¹ p^a (1−p)^b dp = Γ(a+1)Γ(b+1)/Γ(a+b+2) (Euler's Beta integral; checked below)."""
    return sp.gamma(a + 1) * sp.gamma(b + 1) / sp.gamma(a + b + 2)


for a_ in range(4):                                         # Euler's integral, exactly, for small powers
    for b_ in range(4):
        assert sp.integrate(p ** a_ * (1 - p) ** b_, (p, 0, 1)) == beta_integral(a_, b_)
ratio = sp.gammasimp(beta_integral(c1 + 1, c0) / beta_integral(c1, c0))
show(eq("E[p | c_1 ones, c_0 zeros] (k = 2)", ratio))
assert sp.cancel(ratio - (c1 + 1) / (c1 + c0 + 2)) == 0
q1, q2 = sp.symbols("q_1 q_2", positive=True)
for counts in ((0, 0, 0), (2, 1, 0), (1, 3, 2)):
    lik = q1 ** counts[0] * q2 ** counts[1] * (1 - q1 - q2) ** counts[2]
    Z = sp.integrate(sp.integrate(lik, (q2, 0, 1 - q1)), (q1, 0, 1))
    mean = sp.integrate(sp.integrate(q1 * lik, (q2, 0, 1 - q1)), (q1, 0, 1)) / Z
    show(eq(f"E[P[a, 1] | counts {counts}] (k = 3)", mean))
    assert sp.cancel(mean - sp.Rational(counts[0] + 1, sum(counts) + 3)) == 0

# %% [markdown]
# ## Step 2: at initialisation only the second layer has a gradient
# The minimal model: `A[t, j] = softmax_{j≤t} v[t−j]`, `f_j = Σ_i A[j, i] e_i`,
# `logits_t = Σ_{j≤t} (e_tᵀ W f_j) e_j`.  When every entry of W equals c (the authors' start,
# c = 0.01), `e_tᵀ W f_j = c Σ_c f_{j,c} = c` because each `f_j` is a probability vector: the
# logits do not depend on v at all, so `∂L/∂v = 0` exactly, while `∂L/∂W ≠ 0`.  W must first
# move away from a constant matrix — toward the unigram statistics that `logits_t = c Σ_{j≤t} e_j`
# already counts — before layer 1 (the previous-token head) can learn: the unigram plateau.

# %%
step("Step 2: ∂logits/∂v = 0 when W is constant; not when it is not (T = 3, k = 2)")
T, k = 3, 2
v = sp.symbols("v0:3", real=True)
x = (0, 1, 1)                                               # a sequence of tokens
E = [sp.Matrix([1 if s == tok else 0 for s in range(k)]) for tok in x]


def attention(t):
    w = [sp.exp(v[t - j]) for j in range(t + 1)]
    return [wj / sum(w) for wj in w]


f = [sum((a * E[j] for j, a in enumerate(attention(t))), sp.zeros(k, 1)) for t in range(T)]
c = sp.Symbol("c", positive=True)


def logits(W):
    return [sum(((E[t].T * W * f[j])[0] * E[j] for j in range(t + 1)), sp.zeros(k, 1)) for t in range(T)]


const = logits(sp.ones(k, k) * c)
dv = sp.Matrix([[sp.cancel(sp.diff(z, vi)) for vi in v] for lg in const for z in lg])
show(eq("∂ logits / ∂v at W = c·11ᵀ", dv.T))
assert dv == sp.zeros(*dv.shape)
W = sp.Matrix(2, 2, sp.symbols("w_00 w_01 w_10 w_11", real=True))
moving = sp.diff(logits(W)[2][1], v[1])
show(eq("∂ logits_2[1] / ∂v_1 for a general W", sp.factor(sp.cancel(moving))))
assert sp.cancel(moving) != 0

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds what the tests compare with
# theory/induction/ (a cell Jupyter Book leaves out).
RESULTS = dict(posterior_mean=ratio, c1=c1, c0=c0)

print("\nAll assertions hold.")
