"""Tests of theory/markov_icl/."""
