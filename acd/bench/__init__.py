"""Benchmarks behind ``acd bench NAME``: each returns a dict printed as one JSON line."""
