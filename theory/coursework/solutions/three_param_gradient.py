# %% [markdown]
# # Exercise: the gradient of the three-parameter induction-head loss
# Reddy 2024, Sec. 5.  With θ = (β, α, ξ), N context pairs and L labels:
#
#     y = σ(β),   w = e^{αy} / (e^{αy} + N - 1),
#     p = e^{ξw} / (e^{ξw} + (N-1) e^{ξ(1-w)/(N-1)} + L - N),   loss = -log p.
#
# Write `three_param_gradient(theta, N, L)` returning the array (∂loss/∂β, ∂loss/∂α,
# ∂loss/∂ξ) for N >= 2.  Go backwards: loss → the three logits ξw, ξ(1-w)/(N-1), 0 → w and
# ξ → αy → β.  Grade it with `python -m theory grade three_param_gradient.py`.

# %%
import numpy as np


def three_param_loss(theta, N, L):
    beta, alpha, xi = theta
    y = 1 / (1 + np.exp(-beta))
    w = np.exp(alpha * y) / (np.exp(alpha * y) + N - 1)
    logits = np.array([xi * w, xi * (1 - w) / (N - 1), 0.0])   # right label, each other context label, the rest
    counts = np.array([1, N - 1, L - N])
    m = logits.max()
    return -(logits[0] - m - np.log(np.sum(counts * np.exp(logits - m))))


# %%
def three_param_gradient(theta, N, L):
    """Return np.array([dloss/dbeta, dloss/dalpha, dloss/dxi])."""
    beta, alpha, xi = theta
    ### BEGIN SOLUTION
    y = 1 / (1 + np.exp(-beta))
    w = np.exp(alpha * y) / (np.exp(alpha * y) + N - 1)
    logits = np.array([xi * w, xi * (1 - w) / (N - 1), 0.0])
    counts = np.array([1, N - 1, L - N])
    q = counts * np.exp(logits - logits.max())
    q = q / q.sum()                                        # probability of each group
    dlogits = q - np.array([1.0, 0.0, 0.0])                # ∂loss/∂logit (group totals)
    dw = xi * (dlogits[0] - dlogits[1] / (N - 1))
    dxi = dlogits[0] * w + dlogits[1] * (1 - w) / (N - 1)
    du = dw * w * (1 - w)                                  # w = softmax-like in u = αy
    dalpha = du * y
    dbeta = du * alpha * y * (1 - y)
    ### END SOLUTION
    return np.array([dbeta, dalpha, dxi])
