"""Alembic migrations of the Kyodo schema."""
