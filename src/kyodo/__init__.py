"""Kyodo: a labelled, policy-checked workspace for a combined headquarters."""

__version__ = "0.1.0"
