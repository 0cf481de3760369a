"""SQLAlchemy 2 (async) storage for SQLite (embedded default) and PostgreSQL."""
