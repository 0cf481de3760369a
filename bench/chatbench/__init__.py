"""Chat benchmark: post→delivery latency and messages/s over WebSocket."""
