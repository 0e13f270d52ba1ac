# %% [markdown]
# # Exercise: the backward pass of softmax attention
# Attention with queries `Q` (T, d), keys `K` (S, d) and values `V` (S, d_v), tokens as rows:
#
#     S = Q K^T,   P = softmax(S) row by row,   out = P V.
#
# Write `attention_backward(dout, cache)`: given `dout = ∂L/∂out` (T, d_v) and the cache of
# the forward pass, return `(dQ, dK, dV)`.  Work one step back at a time: through `out = P V`
# (two gradients), through the softmax of each row (its Jacobian is
# `diag(p) - p p^T`), through `S = Q K^T` (two gradients).  Use float64 throughout.
# Grade it with `python -m theory grade attention_backward.py`.

# %%
import numpy as np


def attention_forward(Q, K, V):
    """out = softmax(Q K^T) V and the cache for the backward pass."""
    S = Q @ K.T                                            # (T, S) scores
    S = S - S.max(axis=1, keepdims=True)                   # the same softmax, no overflow
    P = np.exp(S)
    P /= P.sum(axis=1, keepdims=True)                      # (T, S) attention weights
    return P @ V, (Q, K, V, P)


# %%
def attention_backward(dout, cache):
    """Return (dQ, dK, dV), the gradients of L with respect to Q, K and V."""
    Q, K, V, P = cache
    ### BEGIN SOLUTION
    dV = P.T @ dout                                        # out = P V
    dP = dout @ V.T
    dS = P * (dP - np.sum(dP * P, axis=1, keepdims=True))  # softmax Jacobian, row by row
    dQ = dS @ K                                            # S = Q K^T
    dK = dS.T @ Q
    ### END SOLUTION
    return dQ, dK, dV
