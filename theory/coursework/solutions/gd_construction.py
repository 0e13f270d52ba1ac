# %% [markdown]
# # Exercise: weights that make one attention layer one step of gradient descent
# von Oswald et al. 2023, Prop. 1.  Tokens are `e_i = (x_i, y_i)` (d + 1 numbers, y a
# scalar) for the N context pairs and `e_q = (x_q, 0)` for the query.  One LSA layer
# (see `lsa_forward` below) updates every token.  Find `W_K, W_Q, W_V, P`, each
# (d+1) × (d+1), such that the query's y-slot after the layer is `-ŷ`, where
# `ŷ = ΔW x_q` is the prediction after one GD step with learning rate `η` from `W = 0` on
# `L(W) = 1/(2N) Σ_i (W x_i - y_i)²`: `ΔW = (η/N) Σ_i y_i x_i^T`.
# Hint: the scores should be `x_i · x_q`, the values should carry `y_i` into the y-slot.
# Grade it with `python -m theory grade gd_construction.py`.

# %%
import numpy as np


def lsa_forward(E, W_K, W_Q, W_V, P, N):
    """One LSA layer on tokens E (T, D): e_j ← e_j + P Σ_{i<=N} (W_V e_i)(W_K e_i)^T (W_Q e_j)."""
    C = E[:N]
    return E + ((E @ W_Q.T) @ (C @ W_K.T).T) @ (C @ W_V.T) @ P.T


# %%
def gd_construction(d, N, eta):
    """Return (W_K, W_Q, W_V, P), each (d+1, d+1)."""
    ### BEGIN SOLUTION
    D = d + 1
    W_K = np.zeros((D, D))
    W_K[:d, :d] = np.eye(d)                                # keys and queries: the x part
    W_Q = W_K.copy()
    W_V = np.zeros((D, D))
    W_V[d, d] = -1.0                                       # values: -y into the y-slot
    P = (eta / N) * np.eye(D)
    ### END SOLUTION
    return W_K, W_Q, W_V, P
