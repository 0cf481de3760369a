"""The TAK server: CoT over TCP and TLS, per-client label filtering, GeoChat bridge."""
