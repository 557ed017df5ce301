"""The event envelope of API.md and the record that carries it to Kafka.

Every event is keyed by its aggregate (user id, chat id, ordered user pair) so that one
aggregate's events land on one partition, in order. The correlation id rides in a header.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from messenger.kernel.clock import utcnow
from messenger.kernel.fields import Timestamp
from messenger.platform.settings import get_settings

CORRELATION_HEADER = "correlation_id"


class EventEnvelope(BaseModel):
    id: uuid.UUID
    type: str
    version: int = 1
    occurred_at: Timestamp
    data: dict[str, Any]


@dataclass(frozen=True)
class OutboundEvent:
    topic: str
    key: str
    envelope: EventEnvelope
    correlation_id: str | None = None

    @property
    def id(self) -> uuid.UUID:
        return self.envelope.id


def topic_for(event_type: str) -> str:
    settings = get_settings()
    family = event_type.split(".", 1)[0]
    topics = {
        "user": settings.user_events_topic,
        "friendship": settings.friendship_events_topic,
        "chat": settings.chat_events_topic,
        "message": settings.chat_events_topic,
    }
    if family not in topics:
        raise ValueError(f"no topic for event type {event_type!r}")
    return topics[family]


def new_event(
    event_type: str, key: str, data: BaseModel, correlation_id: str | None = None
) -> OutboundEvent:
    envelope = EventEnvelope(
        id=uuid.uuid4(), type=event_type, occurred_at=utcnow(), data=data.model_dump(mode="json")
    )
    return OutboundEvent(topic_for(event_type), key, envelope, correlation_id)
