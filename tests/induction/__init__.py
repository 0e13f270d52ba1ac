"""Tests of theory/induction/."""
