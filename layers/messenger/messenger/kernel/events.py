"""Events as the contexts speak them: API.md's envelope and the base of every event's schema.

Each context declares what it publishes in `<context>/events.py`: one `Event` subclass per type
name (`event_type`), which also knows the key of its aggregate (`key()`: one aggregate's events
land on one partition, in order). That module is API.md's Events table as code. Producers record
instances in a unit of work (messenger.platform.unit_of_work); consumers turn an envelope's data
back into them (`EventEnvelope.parse`), so a malformed event fails as one, naming the field,
instead of as a KeyError deep inside an effect.

Consumers are tolerant readers: fields they do not know are ignored, so a producer may add one.
"""

from __future__ import annotations

import builtins
import uuid
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError

from messenger.kernel.fields import Timestamp


class Event(BaseModel):
    """The data of one event type; subclasses set `event_type` and say which aggregate it is
    about."""

    event_type: ClassVar[str]

    def key(self) -> str:
        """The aggregate's id (API.md: user id, chat id, the ordered user pair)."""
        raise NotImplementedError


E = TypeVar("E", bound=Event)


def registry(*schemas: type[E]) -> dict[str, type[E]]:
    """The type names a context publishes, each bound to its schema (one schema per name)."""
    table: dict[str, type[E]] = {}
    for schema in schemas:
        if schema.event_type in table:
            raise ValueError(f"two schemas for {schema.event_type!r}")
        table[schema.event_type] = schema
    return table


class MalformedEvent(ValueError):
    """An event whose data breaks its type's schema. Retrying cannot fix it: the consumer
    reports it, and after the retries it lands in the on-failure destination (dead letters)."""

    def __init__(self, event_type: str, error: ValidationError) -> None:
        # The fields and what is wrong with them, never the values (an email is personal data).
        self.errors = [
            {"field": ".".join(str(p) for p in e["loc"]) or "data", "message": e["msg"]}
            for e in error.errors(include_url=False, include_input=False)
        ]
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in self.errors)
        super().__init__(f"malformed {event_type} event: {problems}")
        self.event_type = event_type


class EventEnvelope(BaseModel):
    """API.md's envelope: `{"id", "type", "version", "occurred_at", "data"}`."""

    id: uuid.UUID
    type: str
    version: int = 1
    occurred_at: Timestamp
    data: dict[str, Any]

    def parse(self, *schemas: builtins.type[E]) -> E | None:
        """The data as the schema among `schemas` that is bound to this event's type; None when
        none is (an event this consumer does not handle: skip it). Raises MalformedEvent."""
        for schema in schemas:
            if schema.event_type == self.type:
                try:
                    return schema.model_validate(self.data)
                except ValidationError as exc:
                    raise MalformedEvent(self.type, exc) from exc
        return None
