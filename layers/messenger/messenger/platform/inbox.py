"""Consumer-side deduplication: an event id is processed at most once per consumer.

`claim` runs in the same transaction as the consumer's effect: if the effect rolls back, so does
the claim, and a redelivery processes the event again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import uuid

    import psycopg


def claim(conn: psycopg.Connection, consumer: str, event_id: uuid.UUID) -> bool:
    """True the first time this consumer sees `event_id`; False for a redelivery."""
    cur = conn.execute(
        "INSERT INTO messaging.inbox (consumer, event_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (consumer, event_id),
    )
    return cur.rowcount == 1
