# %% [markdown]
# # Exercise: the backward pass of one linear self-attention layer
# von Oswald et al. 2023, Eq. (5).  Tokens are the rows of `E` (T, D); the first `N` are
# the context, the last is the query.  Every token `e_j` is updated with keys and values
# from the context only:
#
#     e_j ← e_j + P Σ_{i<=N} (W_V e_i)(W_K e_i)^T (W_Q e_j).
#
# In rows: with `C = E[:N]`, `out = E + ((E W_Q^T)(C W_K^T)^T)(C W_V^T) P^T`.
# Write `lsa_backward(dout, cache)` returning `(dE, dW_K, dW_Q, dW_V, dP)`; note that a
# context token reaches the output three ways (as a query, a key and a value) and through
# the residual.  Grade it with `python -m theory grade lsa_backward.py`.

# %%
import numpy as np


def lsa_forward(E, W_K, W_Q, W_V, P, N):
    """One LSA layer on tokens E (T, D); returns the new tokens and the cache."""
    E = np.asarray(E, dtype=np.float64)
    C = E[:N]                                              # (N, D) context tokens
    Qs, Ks, Vs = E @ W_Q.T, C @ W_K.T, C @ W_V.T           # queries (T, D), keys, values (N, D)
    A = Qs @ Ks.T                                          # (T, N) linear attention scores
    H = A @ Vs                                             # (T, D) Σ_i (q_j · k_i) v_i
    return E + H @ P.T, (E, W_K, W_Q, W_V, P, N, Qs, Ks, Vs, A, H)


# %%
def lsa_backward(dout, cache):
    """Return (dE, dW_K, dW_Q, dW_V, dP)."""
    E, W_K, W_Q, W_V, P, N, Qs, Ks, Vs, A, H = cache
    # YOUR CODE HERE
    raise NotImplementedError
    return dE, dW_K, dW_Q, dW_V, dP
