"""Benchmarks, never part of the test suite's pass/fail (SPEC §5).

``python -m bench`` (``make bench``) runs every scenario next to its floor and writes
``bench/results/latest.json``; ``python -m bench.<name>`` runs one. See docs/performance.md.
"""
