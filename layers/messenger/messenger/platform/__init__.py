"""What runs the contexts: settings and secrets, the store clients (Postgres, MongoDB, Redis,
Kafka), the outboxes and their relay, the inbox, migrations, logging, the invocation deadline.

Knows no context: a context's adapters use platform, never the other way round.
"""
