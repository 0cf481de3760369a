"""Kyodo's benchmarks: load clients, peer runners, floors and one shared report writer."""
