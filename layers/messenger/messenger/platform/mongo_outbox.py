"""The transactional outbox for MongoDB-owned aggregates (chats and messages).

Same contract as messenger.platform.outbox (Postgres): `transact(uow, work)` runs a store's change
in one Mongo transaction and writes the unit of work's events inside it (`enqueue`),
`MongoOutboxPublisher.publish_now` publishes right after the commit,
and the scheduled relay publishes whatever is left. Mongo has no SKIP LOCKED, so the relay
leaves events younger than a few seconds to the fast path; should both publish one event anyway,
consumers dedupe by event id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from messenger.kernel.clock import utcnow
from messenger.platform import mongo
from messenger.platform.observability import logger
from messenger.platform.publishing import OutboxRecord, RelayReport
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from messenger.platform.events import OutboundEvent
    from messenger.platform.publishing import EventPublisher
    from messenger.platform.unit_of_work import UnitOfWork

T = TypeVar("T")
COLLECTION = "outbox"
FAST_PATH_GRACE = timedelta(seconds=5)


def ensure_indexes(db: Any) -> None:
    outbox = db[COLLECTION]
    outbox.create_index([("pending", 1), ("created_at", 1)], sparse=True)
    # Retention is the relay's purge (OUTBOX_RETENTION_DAYS, as for Postgres): the TTL index
    # that fixed it at 7 days gives way to a plain one the purge uses.
    if "expireAfterSeconds" in outbox.index_information().get("published_at_1", {}):
        outbox.drop_index("published_at_1")
    outbox.create_index("published_at", sparse=True)


def _always(result: object) -> bool:
    return True


def _with_transaction(attempt: Callable[[Any], T]) -> T:
    """One transaction; pymongo's `with_transaction` retries `attempt` on a transient error."""
    with mongo.client().start_session() as session:
        return session.with_transaction(attempt)


def transact(
    uow: UnitOfWork, work: Callable[[Any], T], changed: Callable[[T], bool] = _always
) -> T:
    """`work(session)` in one transaction, with the events `uow` recorded written in it too
    (none when `changed(result)` is False: nothing changed, nothing happened)."""
    return uow.transaction(_with_transaction, enqueue, work, changed)


def enqueue(session: Any, events: Sequence[OutboundEvent]) -> None:
    if not events:
        return
    now = utcnow()
    mongo.database()[COLLECTION].insert_many(
        [
            {
                "_id": str(e.id),
                "topic": e.topic,
                "key": e.key,
                "payload": e.envelope.model_dump(mode="json"),
                "correlation_id": e.correlation_id,
                "created_at": now,
                "pending": True,
            }
            for e in events
        ],
        session=session,
    )


def _records(docs: Sequence[dict[str, Any]]) -> list[OutboxRecord]:
    return [
        OutboxRecord(
            d["_id"], d["topic"], d["key"], json.dumps(d["payload"]).encode(), d["correlation_id"]
        )
        for d in docs
    ]


def _mark_published(ids: Sequence[str]) -> None:
    mongo.database()[COLLECTION].update_many(
        {"_id": {"$in": list(ids)}}, {"$unset": {"pending": ""}, "$set": {"published_at": utcnow()}}
    )


@dataclass(frozen=True)
class MongoOutboxPublisher:
    publisher: EventPublisher

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        """Best effort after the commit; False leaves the events to the relay. Never raises."""
        if not events:
            return True
        ids = [str(e.id) for e in events]
        try:
            self.publisher.publish(
                [
                    OutboxRecord(
                        str(e.id),
                        e.topic,
                        e.key,
                        e.envelope.model_dump_json().encode(),
                        e.correlation_id,
                    )
                    for e in events
                ]
            )
            _mark_published(ids)
        except Exception as exc:
            logger.warning(
                "Publishing right away failed; the outbox relay will publish",
                extra={"event_ids": ids, "error": repr(exc)},
            )
            return False
        return True


def relay(publisher: EventPublisher) -> RelayReport:
    """Publish pending events older than the fast path's grace period, oldest first, in batches
    of OUTBOX_BATCH_SIZE; purge events published more than OUTBOX_RETENTION_DAYS ago."""
    settings = get_settings()
    batch_size = settings.outbox_batch_size
    collection = mongo.database()[COLLECTION]
    pending = collection.count_documents({"pending": True})
    published = 0
    while True:
        docs = list(
            collection.find({"pending": True, "created_at": {"$lt": utcnow() - FAST_PATH_GRACE}})
            .sort("created_at", 1)
            .limit(batch_size)
        )
        if not docs:
            break
        publisher.publish(_records(docs))
        _mark_published([d["_id"] for d in docs])
        published += len(docs)
        if len(docs) < batch_size:
            break
    retained = timedelta(days=settings.outbox_retention_days)
    purged = collection.delete_many({"published_at": {"$lt": utcnow() - retained}}).deleted_count
    return RelayReport(published=published, pending_before=pending, purged=purged)
