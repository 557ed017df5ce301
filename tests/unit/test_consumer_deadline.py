"""A Kafka batch under the invocation's deadline: the records it cannot reach in time are
reported failed (redelivered from the first of them), not cut short by Lambda's timeout."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from messenger.kernel.events import EventEnvelope
from messenger.platform import deadline
from messenger.web.consumers import RECORD_START_SECONDS, process_kafka_batch


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Context:
    """What the handler reads of a Lambda context: the time left, frozen at the start."""

    def __init__(self, remaining_seconds: float) -> None:
        self.remaining_seconds = remaining_seconds
        self.function_name = "Consumer"
        self.memory_limit_in_mb = 128
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:Consumer"
        self.aws_request_id = "test"

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_seconds * 1000)


def batch(count: int) -> dict[str, Any]:
    records = []
    for offset in range(count):
        envelope = {
            "id": str(uuid.uuid4()),
            "type": "test.happened",
            "version": 1,
            "occurred_at": "2026-12-01T00:00:00Z",
            "data": {"n": offset},
        }
        records.append(
            {
                "topic": "chat-events",
                "partition": 0,
                "offset": offset,
                "timestamp": 0,
                "timestampType": "CREATE_TIME",
                "key": "",
                "value": base64.b64encode(json.dumps(envelope).encode()).decode(),
                "headers": [],
            }
        )
    return {"eventSource": "aws:kafka", "records": {"chat-events-0": records}}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(deadline.time, "monotonic", fake)
    return fake


def test_records_not_reached_in_time_are_reported_and_the_rest_handled(clock: Clock) -> None:
    handled: list[int] = []
    seconds_per_record = 2.0

    def handle(envelope: EventEnvelope) -> None:
        handled.append(envelope.data["n"])
        clock.now += seconds_per_record

    # Time for the first records only: each takes 2 s, and none starts with less than
    # RECORD_START_SECONDS left (the deadline keeps MARGIN_SECONDS back from Lambda's).
    remaining = deadline.MARGIN_SECONDS + RECORD_START_SECONDS + 2 * seconds_per_record
    answer = process_kafka_batch(batch(6), Context(remaining), handle)
    assert handled == [0, 1, 2]
    failed = [item["itemIdentifier"] for item in answer["batchItemFailures"]]
    assert [f["offset"] for f in failed] == [3, 4, 5]
    assert not deadline.active()  # the deadline ends with the batch


def test_a_batch_with_time_enough_is_handled_whole(clock: Clock) -> None:
    handled: list[int] = []

    def handle(envelope: EventEnvelope) -> None:
        handled.append(envelope.data["n"])
        assert deadline.active()  # the adapters see the invocation's deadline
        clock.now += 0.01

    answer = process_kafka_batch(batch(5), Context(60), handle)
    assert handled == [0, 1, 2, 3, 4]
    assert answer == {"batchItemFailures": []}
