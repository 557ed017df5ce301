"""Timestamps and the event envelope, as API.md fixes them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import BaseModel

from messenger.kernel.clock import rfc3339, utcnow
from messenger.platform.events import EventEnvelope, new_event, topic_for

pytestmark = pytest.mark.unit


def test_rfc3339_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 11, 26, 18, 30, 31, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert rfc3339(moment) == "2026-11-26T16:30:31.123Z"


def test_utcnow_has_millisecond_precision() -> None:
    assert utcnow().microsecond % 1000 == 0
    assert utcnow().tzinfo == UTC


class Data(BaseModel):
    user_id: str


def test_envelope_has_the_api_shape() -> None:
    event = new_event("user.registered", "u1", Data(user_id="u1"), correlation_id="c1")
    payload = json.loads(event.envelope.model_dump_json())
    assert set(payload) == {"id", "type", "version", "occurred_at", "data"}
    assert payload["version"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["occurred_at"])
    assert EventEnvelope.model_validate(payload).id == event.id
    assert (event.topic, event.key, event.correlation_id) == ("user-events", "u1", "c1")


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        ("user.profile_updated", "user-events"),
        ("friendship.accepted", "friendship-events"),
        ("chat.created", "chat-events"),
        ("message.sent", "chat-events"),
    ],
)
def test_each_family_has_its_topic(event_type: str, topic: str) -> None:
    assert topic_for(event_type) == topic


def test_unknown_family_is_refused() -> None:
    with pytest.raises(ValueError, match="no topic"):
        topic_for("weather.changed")
