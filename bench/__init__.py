"""Benchmarks: run one with ``python -m bench.<name>`` from the repository root. Never part of the
test suite's pass/fail (SPEC §5)."""
