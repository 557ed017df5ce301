"""The transactional outbox: events are written with the state change, then published.

`transact(uow, work)` runs a store's change in one Postgres transaction and writes the unit of
work's events (messenger.platform.unit_of_work) into `messaging.outbox` inside it (`enqueue`),
so an event exists exactly when its change committed. `publish_now` is the fast path right after
the commit; `relay` (the scheduled OutboxRelay function) publishes whatever the fast path could
not. Rows are locked with SKIP LOCKED while published, so the two paths never publish the same
row at the same time, and a row is marked published only after the broker acknowledged it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from psycopg.types.json import Jsonb

from messenger.platform import postgres
from messenger.platform.observability import logger
from messenger.platform.publishing import EventPublisher, OutboxRecord, RelayReport
from messenger.platform.settings import get_settings

__all__ = [
    "EventPublisher",
    "OutboxPublisher",
    "OutboxRecord",
    "RelayReport",
    "enqueue",
    "relay",
    "transact",
]

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import psycopg

    from messenger.platform.events import OutboundEvent
    from messenger.platform.unit_of_work import UnitOfWork

T = TypeVar("T")


def _always(result: object) -> bool:
    return True


def transact(
    uow: UnitOfWork,
    work: Callable[[psycopg.Connection[Any]], T],
    changed: Callable[[T], bool] = _always,
) -> T:
    """`postgres.transact(work)`, with the events `uow` recorded written in the same transaction
    (none when `changed(result)` is False: nothing changed, nothing happened)."""
    return uow.transaction(postgres.transact, enqueue, work, changed)


def enqueue(conn: psycopg.Connection, events: Sequence[OutboundEvent]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO messaging.outbox (id, topic, key, payload, correlation_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            [
                (
                    e.id,
                    e.topic,
                    e.key,
                    Jsonb(e.envelope.model_dump(mode="json")),
                    e.correlation_id,
                )
                for e in events
            ],
        )


def _publish_locked(
    conn: psycopg.Connection, where: str, params: dict[str, object], publisher: EventPublisher
) -> int:
    rows = conn.execute(
        "SELECT id, topic, key, payload, correlation_id FROM messaging.outbox"
        f" WHERE published_at IS NULL AND {where}"
        " ORDER BY seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED",
        params,
    ).fetchall()
    if not rows:
        return 0
    records = [
        OutboxRecord(row[0], row[1], row[2], json.dumps(row[3]).encode(), row[4]) for row in rows
    ]
    publisher.publish(records)
    conn.execute(
        "UPDATE messaging.outbox SET published_at = now() WHERE id = ANY(%s)",
        ([r.id for r in records],),
    )
    return len(records)


@dataclass(frozen=True)
class OutboxPublisher:
    """The request path's fast lane: publish a use-case's events right after its commit."""

    publisher: EventPublisher

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        """Best effort. False leaves the events to the relay; never raises."""
        if not events:
            return True
        ids = [e.id for e in events]
        try:
            postgres.transact(
                lambda conn: _publish_locked(
                    conn, "id = ANY(%(ids)s)", {"ids": ids, "limit": len(ids)}, self.publisher
                )
            )
        except Exception as exc:
            logger.warning(
                "Publishing right away failed; the outbox relay will publish",
                extra={"event_ids": [str(i) for i in ids], "error": repr(exc)},
            )
            return False
        return True


def relay(publisher: EventPublisher) -> RelayReport:
    """Publish every pending event, oldest first, in batches; purge long-published rows."""
    settings = get_settings()
    pending = (
        postgres.connection()
        .execute("SELECT count(*) FROM messaging.outbox WHERE published_at IS NULL")
        .fetchone()
    )
    published = 0
    while True:
        batch = postgres.transact(
            lambda conn: _publish_locked(
                conn, "TRUE", {"limit": settings.outbox_batch_size}, publisher
            )
        )
        published += batch
        if batch < settings.outbox_batch_size:
            break
    purged = postgres.transact(
        lambda conn: (
            conn.execute(
                "DELETE FROM messaging.outbox"
                " WHERE published_at < now() - make_interval(days => %s)",
                (settings.outbox_retention_days,),
            ).rowcount
        )
    )
    return RelayReport(
        published=published, pending_before=pending[0] if pending else 0, purged=purged
    )
