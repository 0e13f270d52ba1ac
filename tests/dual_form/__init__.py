"""Tests of theory/dual_form/."""
