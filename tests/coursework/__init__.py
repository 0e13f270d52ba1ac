"""Tests of theory/coursework/: the exercises, the grader, the notebooks."""
