"""Tests of theory/core/."""
