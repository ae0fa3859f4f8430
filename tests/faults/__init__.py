"""Shared machinery of the fault suites (tests/test_faults.py, tests/test_cluster_faults.py)."""
