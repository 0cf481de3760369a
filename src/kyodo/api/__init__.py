"""HTTP transport: the FastAPI app, REST routes and authentication (thin; no business rules)."""
