# %% [markdown]
# # Gradient descent on a linear layer is linear attention
# Dai et al. 2023, "Why Can GPT Learn In-Context?" (arXiv 2212.10559), Sec. 3.
#
# This script stands on its own (it needs only sympy).  Run it with
# `python -m proofs.dual_form`: it prints the derivation and ends in `assert`s.  Open it
# as a notebook (`jupytext --to ipynb proofs/dual_form.py`) and every formula below
# renders as LaTeX.  The figure `docs/figures/dual-form.png` pictures Step 4: how far
# softmax attention is from its linear relaxation as the logits grow.
#
# Columns are examples here, as in the paper: `X = [x'_1 ... x'_N]` is `n × N`,
# `E = [e_1 ... e_N]` is `m × N`.  Section and equation numbers are the paper's where we
# could check them (Eq. (8), Sec. 3.2); elsewhere the section.
#
# **What is exact, and for which sizes.**  Steps 2 and 3 hold for matrices of *any* size:
# they use `MatrixSymbol` algebra (associativity, distributivity, `block_collapse` for
# block matrices).  Step 1 differentiates a loss, which `MatrixSymbol` cannot, so it uses
# explicit small sizes (a 2 × 3 weight matrix, 2 examples) and checks the chain rule
# entry by entry.  Step 4 (softmax) is about scalars.  Every check is exact: a difference
# that `expand`/`cancel` reduce to zero.
#
# ![softmax against its linear relaxation; the momentum weights](../docs/figures/dual-form.png)

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
# ## Step 1: the gradient of a linear layer is a sum of outer products (Sec. 3.1)
# For `y_i = W x_i` and any loss `L(y_1, ..., y_N)`, the chain rule gives
# `∂L/∂W = Σ_i g_i x_i^T = G X^T` with `g_i = ∂L/∂y_i` (the columns of G).  So one GD step
# with learning rate `lr` moves `W` by `ΔW = Σ_i e_i x_i^T`, `e_i = −lr g_i` (the error
# signals).  Below: the error signals of the squared loss, the gradient sympy computes by
# differentiating the loss directly, and the check that the two agree — for squared error
# and for softmax cross-entropy.

# %%
step("Step 1: ∂L/∂W = Σ_i (∂L/∂y_i) x_i^T, entry by entry")
results = {}
lr = sp.Symbol("lr", positive=True)
for loss in ("squared", "cross_entropy"):
    m, n, N = (2, 3, 2) if loss == "squared" else (3, 2, 2)
    W = sp.Matrix(m, n, lambda r, c: sp.Symbol(f"w_{r}{c}"))
    X = sp.Matrix(n, N, lambda r, c: sp.Symbol(f"x_{r}{c}"))          # columns x_i
    Y = sp.Matrix(m, N, lambda r, c: sp.Symbol(f"y_{r}{c}"))          # free outputs
    if loss == "squared":
        T = sp.Matrix(m, N, lambda r, c: sp.Symbol(f"t_{r}{c}"))
        L_of_y = sum((Y[:, i] - T[:, i]).dot(Y[:, i] - T[:, i]) for i in range(N)) / (2 * N)
        targets = T
    else:
        labels = [0, 2]                                                # fixed classes
        L_of_y = -sum(Y[labels[i], i] - sp.log(sum(sp.exp(Y[k, i]) for k in range(m)))
                      for i in range(N)) / N
        targets = labels
    at_WX = dict(zip(Y, W * X))                                        # y_i = W x_i
    L = L_of_y.subs(at_WX)
    grad_direct = sp.Matrix(m, n, lambda r, c: sp.diff(L, W[r, c]))
    G = sp.Matrix(m, N, lambda r, c: sp.diff(L_of_y, Y[r, c])).subs(at_WX)  # g_i columns
    grad_chain = sum((G[:, i] * X[:, i].T for i in range(N)), sp.zeros(m, n))
    if loss == "squared":
        show(f"squared error, L = (1/2N) Σ ||W x_i − t_i||², m = {m}, n = {n}, N = {N}:",
             eq("∂L/∂W", sp.MatMul(G.applyfunc(sp.factor), X.T, evaluate=False)))
    else:
        show(f"cross-entropy over {m} classes, N = {N}: the first error signal, (softmax(W x₁) − e_label)/N,",
             eq("g₁", G[:, 0]))
    diff = (grad_direct - grad_chain).applyfunc(lambda e: sp.cancel(sp.expand(e)))
    show("sympy's own derivative of L in every w_rc, minus G Xᵀ:", eq("∂L/∂W − G Xᵀ", diff))
    assert diff == sp.zeros(m, n), f"chain rule failed for {loss}"
    results[loss] = dict(W=W, X=X, targets=targets, lr=lr,
                         E=-lr * G, delta_W=-lr * grad_direct)

# %% [markdown]
# ## Step 2: the dual form, for matrices of any size (Sec. 3.1)
# `(W0 + ΔW) q = W0 q + E X^T q`, and `E X^T q = Σ_i e_i (x_i^T q)` is linear attention
# with values `E`, keys `X` and query `q`: `LinearAttn(E, X, q) = E X^T q`.  The finetuned
# layer's output is the original layer's plus an attention read-out of the examples.

# %%
step("Step 2: (W0 + E X^T) q = W0 q + LinearAttn(E, X, q), generic sizes")
m, n, N = sp.symbols("m n N", integer=True, positive=True)
W0 = sp.MatrixSymbol("W_0", m, n)
E = sp.MatrixSymbol("E", m, N)
X = sp.MatrixSymbol("X", n, N)
q = sp.MatrixSymbol("q", n, 1)
finetuned = (W0 + E * X.T) * q
dual = W0 * q + E * (X.T * q)
residual = (finetuned - dual).expand()
show(eq(finetuned, dual), eq("residual", residual))
assert residual.is_ZeroMatrix
# E X^T is the sum of outer products Σ e_i x_i^T (explicit 2 × 3 E and X):
Ee = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"e_{r}{c}"))
Xe = sp.Matrix(2, 3, lambda r, c: sp.Symbol(f"x_{r}{c}"))
outer_sum = sum((Ee[:, i] * Xe[:, i].T for i in range(3)), sp.zeros(2, 2))
show("and E Xᵀ is the sum of the outer products e_i x_iᵀ (three columns):", eq("Σᵢ eᵢ xᵢᵀ", outer_sum))
assert (Ee * Xe.T - outer_sum).expand() == sp.zeros(2, 2)

# %% [markdown]
# ## Step 3: in-context learning as implicit finetuning (Sec. 3.2, Eq. (8))
# Relax attention to linear attention.  The query `q` attends over the demonstrations
# `X'` and its own context `X`, concatenated as `[X' X]`:
# `W_V [X' X] (W_K [X' X])^T q`.  Block multiplication gives
# `[X' X][X' X]^T = X' X'^T + X X^T`, hence the exact split `W_ZSL q + ΔW_ICL q` with
# `W_ZSL = W_V X (W_K X)^T` (what the model does with no demonstrations) and
# `ΔW_ICL = W_V X' (W_K X')^T` (what the demonstrations add, an update of the same form
# as Step 2's ΔW).

# %%
step("Step 3: W_V [X' X] (W_K [X' X])^T q = W_ZSL q + ΔW_ICL q, generic sizes")
d, dk, dv, Nd, Nc = sp.symbols("d d_k d_v N' N", integer=True, positive=True)
W_V = sp.MatrixSymbol("W_V", dv, d)
W_K = sp.MatrixSymbol("W_K", dk, d)
Xd = sp.MatrixSymbol("X'", d, Nd)
Xc = sp.MatrixSymbol("X", d, Nc)
qk = sp.MatrixSymbol("q", dk, 1)
B = sp.BlockMatrix([[Xd, Xc]])
gram = sp.block_collapse(B * B.T)
show(eq(B * B.T, gram))
W_zsl = W_V * Xc * (W_K * Xc).T
dW_icl = W_V * Xd * (W_K * Xd).T
show(eq(W_V * gram * W_K.T * qk, W_zsl * qk + dW_icl * qk))
residual = (W_V * gram * W_K.T * qk - (W_zsl * qk + dW_icl * qk)).expand()
show(eq("residual", residual))
assert residual.is_ZeroMatrix

# %% [markdown]
# ## Step 4: with softmax the split is a convex mixture, not a sum (Sec. 3.2)
# Softmax attention normalises by `Z = Σ exp(s_i)` over *all* keys, so it does not split
# into two additive terms.  Splitting the sums over demonstration keys (D) and context
# keys (C) gives the exact identity
# `SoftAttn = λ SoftAttn_C + (1 − λ) SoftAttn_D`, `λ = Z_C / (Z_C + Z_D)`.
# Two keys of each kind and scalar values (the algebra is the same for any number of keys
# and per value coordinate).  The linear split of Step 3 is a relaxation: the last formula
# is the gap, which is not zero (`docs/figures/dual-form.png` measures it).

# %%
step("Step 4: softmax over [X' X] = λ·(softmax over X) + (1 − λ)·(softmax over X')")
s = sp.symbols("s_1:5", real=True)              # scores k_i^T q: s_1, s_2 demos; s_3, s_4 context
v = sp.symbols("v_1:5", real=True)              # values
w = [sp.exp(si) for si in s]
Z_D, Z_C = w[0] + w[1], w[2] + w[3]
full = sum(wi * vi for wi, vi in zip(w, v)) / (Z_D + Z_C)
attn_D = (w[0] * v[0] + w[1] * v[1]) / Z_D
attn_C = (w[2] * v[2] + w[3] * v[3]) / Z_C
lam = Z_C / (Z_C + Z_D)
show(eq("SoftAttn", full), eq("λ", lam),
     eq("SoftAttn − (λ SoftAttn_C + (1 − λ) SoftAttn_D)", sp.cancel(full - (lam * attn_C + (1 - lam) * attn_D))))
assert sp.cancel(full - (lam * attn_C + (1 - lam) * attn_D)) == 0
linear_split = sum(si * vi for si, vi in zip(s, v))
gap = sp.cancel(full - linear_split)
show("the linear split Σ s_i v_i is not softmax attention; their difference,",
     eq("SoftAttn − Σ s_i v_i", full - linear_split), "is not identically 0 (at s = 0 it is the mean of v).")
assert gap != 0 and gap.subs({si: 0 for si in s}) == sum(v) / 4

# %% tags=["remove-cell"]
# Test plumbing, not part of the lesson: RESULTS holds the symbolic objects that the tests
# compare with theory/dual_form/ through sympy.lambdify (a cell Jupyter Book leaves out).
RESULTS = dict(gradients=results, finetuned=finetuned, dual=dual,
               softmax=dict(scores=s, values=v, full=full, lam=lam,
                            attn_demo=attn_D, attn_ctx=attn_C))

print("\nAll assertions hold.")
