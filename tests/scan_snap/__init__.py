"""Tests of theory/scan_snap/."""
