"""Tests of theory/mesa/."""
