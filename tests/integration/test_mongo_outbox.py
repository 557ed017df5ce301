"""The Mongo outbox's relay honours the same settings as the Postgres one: OUTBOX_BATCH_SIZE and
OUTBOX_RETENTION_DAYS (it used to publish in fixed batches of 500 and keep 7 days)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import pytest

from messenger.kernel.clock import utcnow
from messenger.platform import mongo_outbox
from messenger.platform.publishing import OutboxRecord
from messenger.platform.settings import get_settings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


class Recorder:
    """Stands in for Kafka: what the relay publishes, batch by batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        self.batches.append([r.id for r in records])


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from messenger.platform import mongo

    monkeypatch.setenv("OUTBOX_BATCH_SIZE", "2")
    monkeypatch.setenv("OUTBOX_RETENTION_DAYS", "3")
    get_settings.cache_clear()
    yield mongo.database()[mongo_outbox.COLLECTION]
    monkeypatch.undo()
    get_settings.cache_clear()


def _doc(created_ago: timedelta, published_ago: timedelta | None = None) -> dict[str, Any]:
    now = utcnow()
    doc: dict[str, Any] = {
        "_id": str(uuid.uuid4()),
        "topic": "chat-events",
        "key": str(uuid.uuid4()),
        "payload": {"type": "chat.created"},
        "correlation_id": None,
        "created_at": now - created_ago,
    }
    if published_ago is None:
        doc["pending"] = True
    else:
        doc["published_at"] = now - published_ago
    return doc


def test_relay_publishes_in_batches_of_the_configured_size(outbox: Any) -> None:
    mine = [_doc(timedelta(minutes=10)) for _ in range(5)]
    outbox.insert_many(mine)
    recorder = Recorder()

    report = mongo_outbox.relay(recorder)

    published = [i for batch in recorder.batches for i in batch]
    assert {d["_id"] for d in mine} <= set(published)
    assert all(len(batch) <= 2 for batch in recorder.batches)
    assert len(recorder.batches) >= 3  # five events, two at a time
    assert report.published == len(published)
    assert outbox.count_documents({"_id": {"$in": [d["_id"] for d in mine]}, "pending": True}) == 0


def test_relay_purges_what_was_published_before_the_retention(outbox: Any) -> None:
    old = _doc(timedelta(days=5), published_ago=timedelta(days=4))
    recent = _doc(timedelta(days=2), published_ago=timedelta(days=2))
    outbox.insert_many([old, recent])

    report = mongo_outbox.relay(Recorder())

    assert report.purged >= 1
    assert outbox.find_one({"_id": old["_id"]}) is None
    assert outbox.find_one({"_id": recent["_id"]}) is not None


def test_the_indexes_leave_retention_to_the_relay(in_process_env: dict[str, str]) -> None:
    """No TTL index decides retention behind the setting's back (an old one is replaced)."""
    import pymongo

    from messenger.bootstrap import apply_mongo_indexes

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(in_process_env["MONGODB_URI"])
    database = client[in_process_env["MONGODB_DATABASE"]]
    database.outbox.drop_index("published_at_1")
    database.outbox.create_index("published_at", expireAfterSeconds=7 * 86400, sparse=True)
    try:
        apply_mongo_indexes(in_process_env["MONGODB_URI"], in_process_env["MONGODB_DATABASE"])
        index = database.outbox.index_information()["published_at_1"]
        assert "expireAfterSeconds" not in index
    finally:
        client.close()
