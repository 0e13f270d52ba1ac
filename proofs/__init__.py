"""Annotated sympy proofs, one script per identity (jupytext percent format).

Each script stands on its own (it imports only sympy), exposes ``derive()`` returning
its symbolic result, and prints its narrative under ``main()``:

    python -m proofs            # every proof, in the order of the claim ledger
    python -m proofs.dual_form  # one proof
"""
