"""The event bus: services publish after commit; live delivery subscribes (in-process; ADR 0003)."""
