"""Pure domain models: organisations, people, and (later) nets, messages, tracks (no I/O)."""
