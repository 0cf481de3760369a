"""Shared test support: database back-ends, service contexts, HTTP clients, factories."""
