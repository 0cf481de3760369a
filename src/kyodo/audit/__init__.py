"""The tamper-evident audit log: hash-chained records and their verifier."""
