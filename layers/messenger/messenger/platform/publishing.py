"""What both outboxes (Postgres, MongoDB) hand to a publisher: driver-free, so a function that
writes to one store does not load the other's driver."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from messenger.platform.events import OutboundEvent


@dataclass(frozen=True)
class OutboxRecord:
    id: uuid.UUID | str
    topic: str
    key: str
    payload: bytes
    correlation_id: str | None


class EventPublisher(Protocol):
    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Publish every record durably, or raise."""


@dataclass(frozen=True)
class RelayReport:
    published: int
    pending_before: int
    purged: int


class NoOutbox:
    """For functions that only read: any attempt to publish is a wiring mistake."""

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        raise RuntimeError("this function was wired without an outbox")


class RelayOnly:
    """For consumers that record events: they are written to the outbox with the change, and
    the outbox relay publishes them (a consumer never writes to Kafka itself: only producers'
    roles may, tests/unit/test_template.py)."""

    def publish_now(self, events: Sequence[OutboundEvent]) -> bool:
        return not events
