"""Tests of theory/gd_step/."""
