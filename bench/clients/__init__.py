"""Load clients, one per protocol: CoT over TCP, chat over HTTP + WebSocket."""
