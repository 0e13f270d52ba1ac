"""The published numbers of Tian et al. 2023's entropy figure (Fig. 6), as reference data.

Source: the authors' repository facebookresearch/luckmatters at commit 625b5f7, file
``ssl/real-dataset/scan_snap/figure_6_data.pkl`` — a pandas table of 64 rows, one per
(number of queries, η_Z, η_Y/η_Z), whose ``entropy`` column holds strings
``"mean ± std [n]"`` with n = 10 seeds (their ``figure_6_create.py`` parses the same
strings to draw the figure).  We decoded the pickle once, with pandas 1.5 (newer pandas
cannot read it), and copied the numbers here; nothing in this package reads the pickle.
What the numbers measure — the natural-log entropy of c_n over the class's distinct tokens,
renormalised, averaged over the classes, from the parameters after the last iteration, mean
± the sample standard deviation over seeds 1–10 — is our reading of their analysis, which
:func:`theory.scan_snap.model.distinct_entropy` computes; the runs' settings are in the
header of their ``figure_6.log`` (T = 128, batch 128, 100 iterations, SGD with momentum
0.9, default init, no common token per query, 10 common tokens, 2 next tokens a query).
"""

__all__ = ["FIGURE_6", "FIGURE_6_SOURCE"]

FIGURE_6_SOURCE = "facebookresearch/luckmatters@625b5f7: ssl/real-dataset/scan_snap/figure_6_data.pkl"

# number of queries -> η_Z -> η_Y/η_Z -> (mean, std) over 10 seeds of the distinct-token entropy (nats)
FIGURE_6 = {
    1: {
        0.5: {1: (1.971, 0.028), 2: (2.007, 0.032), 5: (2.066, 0.017), 10: (2.092, 0.016)},
        1.0: {1: (1.871, 0.052), 2: (1.937, 0.052), 5: (2.022, 0.036), 10: (2.053, 0.030)},
        2.0: {1: (1.699, 0.101), 2: (1.810, 0.099), 5: (1.934, 0.068), 10: (1.900, 0.200)},
        3.0: {1: (1.551, 0.155), 2: (1.708, 0.152), 5: (1.786, 0.170), 10: (1.825, 0.331)},
    },
    3: {
        0.5: {1: (2.019, 0.010), 2: (1.988, 0.012), 5: (2.031, 0.007), 10: (2.063, 0.005)},
        1.0: {1: (1.963, 0.015), 2: (1.920, 0.018), 5: (1.982, 0.009), 10: (2.024, 0.008)},
        2.0: {1: (1.842, 0.024), 2: (1.809, 0.027), 5: (1.899, 0.018), 10: (1.955, 0.020)},
        3.0: {1: (1.737, 0.032), 2: (1.715, 0.038), 5: (1.821, 0.030), 10: (1.839, 0.100)},
    },
    5: {
        0.5: {1: (2.026, 0.005), 2: (1.994, 0.007), 5: (2.020, 0.007), 10: (2.055, 0.006)},
        1.0: {1: (1.995, 0.007), 2: (1.931, 0.011), 5: (1.971, 0.010), 10: (2.014, 0.009)},
        2.0: {1: (1.906, 0.012), 2: (1.816, 0.022), 5: (1.884, 0.020), 10: (1.926, 0.025)},
        3.0: {1: (1.817, 0.021), 2: (1.718, 0.032), 5: (1.802, 0.033), 10: (1.831, 0.050)},
    },
    10: {
        0.5: {1: (2.033, 0.004), 2: (2.012, 0.004), 5: (2.018, 0.004), 10: (2.051, 0.003)},
        1.0: {1: (2.027, 0.003), 2: (1.975, 0.005), 5: (1.976, 0.006), 10: (2.015, 0.006)},
        2.0: {1: (1.990, 0.005), 2: (1.888, 0.009), 5: (1.899, 0.013), 10: (1.947, 0.015)},
        3.0: {1: (1.940, 0.006), 2: (1.805, 0.013), 5: (1.829, 0.019), 10: (1.875, 0.023)},
    },
}
