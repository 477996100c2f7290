"""Benchmarks: `python -m bench.redeem` (see bench/README.md). Not imported by the app."""
