"""The transactional outbox: nothing lost while Kafka is down, relayed when it is back."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer

from messenger.platform import kafka_publisher, postgres
from messenger.platform.settings import get_settings
from tests.integration.helpers import http_call
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def pending_ids(db: Any) -> set[str]:
    rows = db.execute("SELECT id FROM messaging.outbox WHERE published_at IS NULL").fetchall()
    return {str(r[0]) for r in rows}


@pytest.fixture
def kafka_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the producer at a closed port, as if the broker were down."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("KAFKA_PUBLISH_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    kafka_publisher.reset()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    kafka_publisher.reset()
    kafka_publisher._failed_at = None


def read_topic(bootstrap: str, wanted: set[str], timeout_s: float = 15) -> set[str]:
    consumer = KafkaConsumer(
        "user-events",
        bootstrap_servers=bootstrap,
        group_id=f"outbox-test-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        consumer_timeout_ms=int(timeout_s * 1000),
    )
    seen: set[str] = set()
    try:
        for record in consumer:
            seen.add(json.loads(record.value)["id"])
            if wanted <= seen:
                break
    finally:
        consumer.close()
    return seen & wanted


def test_register_succeeds_while_kafka_is_down_and_the_relay_publishes_later(
    kafka_down: None, db: Any, in_process_env: dict[str, str]
) -> None:
    nickname = unique("k")
    account = {"email": f"{nickname}@example.com", "password": "correct horse"}
    status, body, _ = http_call("Register", {**account, "nickname": nickname})
    assert status == 201
    (event_id,) = db.execute(
        "SELECT id FROM messaging.outbox WHERE key = %s", (body["user_id"],)
    ).fetchone()
    assert str(event_id) in pending_ids(db)
    # A second registration during the outage does not wait for Kafka again (backoff).
    assert (
        http_call(
            "Register", {**account, "email": "b" + account["email"], "nickname": nickname + "b"}
        )[0]
        == 201
    )

    # Kafka is back: the scheduled relay publishes everything pending, once.
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = in_process_env["KAFKA_BOOTSTRAP_SERVERS"]
    get_settings.cache_clear()
    kafka_publisher.reset()
    # (Another test tier's gateway may run its own relay on this database meanwhile: what
    # matters is that nothing is left pending, not which relay published it.)
    invoke("OutboxRelay", sample_event("OutboxRelay"))
    assert str(event_id) not in pending_ids(db)
    assert read_topic(in_process_env["KAFKA_BOOTSTRAP_SERVERS"], {str(event_id)}) == {str(event_id)}


def test_nothing_is_written_when_postgres_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    from messenger.platform.secrets import database_url

    nickname = unique("d")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    get_settings.cache_clear()
    database_url.cache_clear()
    monkeypatch.setattr(postgres, "_connection", None)
    try:
        status, body, headers = http_call(
            "Register",
            {"email": f"{nickname}@example.com", "password": "correct horse", "nickname": nickname},
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        database_url.cache_clear()
        postgres._connection = None
    assert (status, body["code"]) == (503, "unavailable")
    assert "retry-after" in headers
    found = db.execute(
        "SELECT count(*) FROM auth.accounts WHERE email = %s", (f"{nickname}@example.com",)
    ).fetchone()
    assert found == (0,)
