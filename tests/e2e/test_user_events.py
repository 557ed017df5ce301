"""`user.registered` through the real broker and the gateway's MSK trigger."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import psycopg
import pytest
from kafka import KafkaProducer

from messenger.kernel.clock import rfc3339, utcnow
from tests.e2e.flows import bearer, signed_up
from tests.support import poll, unique

pytestmark = pytest.mark.e2e


def registered(user_id: str, nickname: str) -> dict[str, Any]:
    now = rfc3339(utcnow())
    data = {"user_id": user_id, "email": f"{nickname}@example.com", "nickname": nickname}
    return {
        "id": str(uuid.uuid4()),
        "type": "user.registered",
        "version": 1,
        "occurred_at": now,
        "data": {**data, "registered_at": now},
    }


def test_the_same_event_delivered_twice_makes_one_profile(
    api: httpx.Client, backing_env: dict[str, str]
) -> None:
    user_id = str(uuid.uuid4())
    duplicate = registered(user_id, unique("dup"))
    # A later event on the same key (same partition, so after both duplicates): once its profile
    # exists, both deliveries of the duplicate have been handled.
    marker = registered(str(uuid.uuid4()), unique("mark"))
    producer = KafkaProducer(bootstrap_servers=backing_env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
    for envelope in (duplicate, duplicate, marker):
        producer.send("user-events", key=user_id.encode(), value=json.dumps(envelope).encode())
    producer.flush()
    producer.close()

    token = signed_up(api)["access_token"]
    marker_url = f"/v1/users/{marker['data']['user_id']}"
    assert poll(lambda: api.get(marker_url, headers=bearer(token)).status_code == 200, timeout=20)
    with psycopg.connect(backing_env["DATABASE_URL"]) as conn:
        profiles = conn.execute(
            "SELECT count(*) FROM users.profiles WHERE user_id = %s", (user_id,)
        ).fetchone()
    assert profiles == (1,)
