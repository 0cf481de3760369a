"""Spillage guard benchmark: precision, recall and speed on a labelled corpus."""
