"""Answer-cell sources for tests/test_fairness.py, one module per notebook."""
