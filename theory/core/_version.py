"""The package version (one place: setup.cfg reads it, run records stamp it)."""
__version__ = "0.2.0"
