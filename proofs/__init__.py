"""Annotated sympy proofs, one script per identity, in jupytext percent format.

Each script stands on its own (it imports only sympy) and is a sequence of top-level
cells: it runs as a script, and opens as a notebook whose cells run top to bottom
(``jupytext --to ipynb proofs/dual_form.py``).  Every step shows what it proves (LaTeX in
a notebook, pretty-printed in a terminal) and ends in ``assert``s; the last cell, tagged
``remove-cell``, defines ``RESULTS``, the symbolic objects the tests compare with the numpy
code.

    python -m proofs                 # every proof, in the order of the claim ledger
    python -m proofs dual_form       # one (or several) by name
    python -m proofs.dual_form       # the same, as the script itself
"""
