"""Deletes the RabbitMQ queues OpenTAKServer declared for the bench's clients (stdin)."""

# Run with OpenTAKServer's own venv (it has pika). OpenTAKServer declares a durable queue per
# client uid and per callsign and keeps them after the client leaves; the bench removes its own.
import sys

import pika

names = sorted({line.strip() for line in sys.stdin if line.strip()})
params = pika.ConnectionParameters(
    host="127.0.0.1", credentials=pika.PlainCredentials("guest", "guest"), connection_attempts=2
)
connection = pika.BlockingConnection(params)
channel = connection.channel()
deleted = 0
for name in names:
    try:
        if name.startswith("purge:"):  # keep the queue and its bindings, drop its backlog
            channel.queue_purge(queue=name.removeprefix("purge:"))
        else:
            channel.queue_delete(queue=name)
        deleted += 1
    except pika.exceptions.ChannelClosedByBroker:
        channel = connection.channel()
connection.close()
print(f"deleted or purged {deleted} of {len(names)} queues")
