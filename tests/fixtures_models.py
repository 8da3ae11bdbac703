"""Tiny but real trained runs (trained in the test session) shared by editing, evaluation and GUI tests."""
