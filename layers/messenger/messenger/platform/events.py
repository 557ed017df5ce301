"""The record that carries an event to Kafka: its topic, its key, API.md's envelope.

Every event is keyed by its aggregate (user id, chat id, ordered user pair) so that one
aggregate's events land on one partition, in order. The correlation id rides in a header. The
envelope and the schemas are the kernel's (messenger.kernel.events); the topics are settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel

from messenger.kernel.clock import utcnow
from messenger.kernel.events import Event, EventEnvelope
from messenger.platform.settings import get_settings

__all__ = [
    "CORRELATION_HEADER",
    "EventEnvelope",
    "OutboundEvent",
    "new_event",
    "outbound",
    "topic_for",
]

CORRELATION_HEADER = "correlation_id"


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
        "report": settings.user_events_topic,  # report.filed, keyed by the reporter (decision 45)
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


def outbound(event: Event, correlation_id: str | None = None) -> OutboundEvent:
    """The record of a schema'd event: its type name and aggregate key come with it."""
    return new_event(event.event_type, event.key(), event, correlation_id)
