"""Tests of theory/preconditioned_gd/."""
