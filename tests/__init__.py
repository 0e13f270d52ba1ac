"""Tests, one folder per topic of theory/ (and core/), mirrored."""
