"""The event schemas each context publishes, against API.md's Events table, and what the
consumers do with an event that breaks them: report it (retried, then dead-lettered) with the
validation error in the log, never a KeyError; an event of a type they do not handle is skipped.

The consumers run as Lambda runs them (their handler module, their template environment), on an
MSK batch built from their events/ sample; nothing here reaches a backing service, because a
malformed or unhandled event never gets that far.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from messenger.auth.events import EVENT_TYPES as AUTH_EVENTS
from messenger.auth.events import UserRegistered
from messenger.chats.events import EVENT_TYPES as CHATS_EVENTS
from messenger.chats.events import (
    ChatCreated,
    ChatDelivered,
    ChatMemberAdded,
    ChatMemberRemoved,
    ChatRead,
    ChatUpdated,
    MessageDeleted,
    MessageEdited,
    MessageSent,
    ReactionAdded,
    ReactionRemoved,
)
from messenger.chats.models import Message
from messenger.friends.events import EVENT_TYPES as FRIENDS_EVENTS
from messenger.friends.events import (
    FriendshipAccepted,
    FriendshipRejected,
    FriendshipRemoved,
    FriendshipRequested,
    UserBlocked,
    UserUnblocked,
)
from messenger.kernel.events import Event, EventEnvelope, MalformedEvent
from messenger.platform.events import outbound
from messenger.platform.observability import logger
from messenger.platform.settings import get_settings
from messenger.safety.events import EVENT_TYPES as SAFETY_EVENTS
from messenger.safety.events import ReportFiled
from messenger.users.events import EVENT_TYPES as USERS_EVENTS
from messenger.users.events import ExportRequested, ProfileUpdated, UserDeleted
from tests.support import ROOT, LambdaContext, sample_event, template

pytestmark = pytest.mark.unit

ANN, BOB = sorted([uuid.uuid4(), uuid.uuid4()])
CHAT, MESSAGE = uuid.uuid4(), uuid.uuid4()
AT = datetime(2026, 11, 26, 16, 30, 31, 123000, tzinfo=UTC)

# API.md, "Events (Kafka)": the data of every type, and the key of its aggregate.
MESSAGE_OBJECT = {
    "message_id",
    "chat_id",
    "author_id",
    "content",
    "created_at",
    "client_message_id",
}
# The second release's additions to it (API.md, "Messages: edit, delete, ..."): each has a
# default, so a message.sent published before them is still valid.
MESSAGE_ADDITIONS = {
    "kind",
    "edited_at",
    "deleted",
    "reply_to",
    "reactions",
    "attachments",
    "status",
    "system",
}
FRIENDSHIP = {"from_user_id", "to_user_id", "at"}
REACTION = {"chat_id", "message_id", "user_id", "emoji", "count", "at"}
API_EVENTS: dict[str, set[str]] = {
    "user.registered": {"user_id", "email", "nickname", "registered_at"},
    "user.profile_updated": {"user_id", "nickname", "description", "avatar_url", "updated_at"},
    "friendship.requested": FRIENDSHIP,
    "friendship.accepted": FRIENDSHIP,
    "friendship.rejected": FRIENDSHIP,
    "friendship.removed": FRIENDSHIP,
    "chat.created": {"chat_id", "type", "participants", "created_by", "created_at"},
    "message.sent": MESSAGE_OBJECT | {"participants"},
    "chat.read": {"chat_id", "user_id", "message_id", "at"},
    # The second release's (API.md names them; their data is ours, decision 42).
    "message.edited": {"chat_id", "message_id", "author_id", "content", "edited_at"},
    "message.deleted": {"chat_id", "message_id", "author_id", "deleted_by", "at"},
    "message.reaction_added": REACTION,
    "message.reaction_removed": REACTION,
    "chat.delivered": {"chat_id", "user_id", "message_id", "at"},
    # Account deletion names `user.deleted` (its data is ours, decision 50); data exports' own
    # event (decision 51).
    "user.deleted": {"user_id", "deleted_at"},
    "user.export_requested": {"user_id", "export_id", "requested_at"},
    # Issue 14 (API.md names them; their data is ours, decision 44).
    "chat.member_added": {"chat_id", "user_ids", "by", "at"},
    "chat.member_removed": {"chat_id", "user_ids", "by", "at"},
    "chat.updated": {"chat_id", "title", "by", "at"},
    "user.blocked": {"user_id", "blocked_user_id", "at"},
    "user.unblocked": {"user_id", "blocked_user_id", "at"},
    "report.filed": {
        "report_id",
        "reporter_id",
        "reason",
        "comment",
        "user_id",
        "message_id",
        "chat_id",
        "snapshot",
        "filed_at",
    },
}
# What we add to API.md's data, optional so that an event without it is still valid.
ADDITIONS: dict[str, set[str]] = {
    "chat.read": {"participants"},
    "message.sent": MESSAGE_ADDITIONS,
    "message.edited": {"participants"},
    "message.deleted": {"participants", "attachment_ids"},
    "message.reaction_added": {"participants"},
    "message.reaction_removed": {"participants"},
    "chat.delivered": {"participants"},
    "chat.member_added": {"participants"},
    "chat.member_removed": {"participants"},
    "chat.updated": {"participants"},
}

SAMPLES: dict[str, Event] = {
    "user.deleted": UserDeleted(user_id=ANN, deleted_at=AT),
    "user.export_requested": ExportRequested(user_id=ANN, export_id=MESSAGE, requested_at=AT),
    "user.registered": UserRegistered(
        user_id=ANN, email="ann@example.com", nickname="ann", registered_at=AT
    ),
    "user.profile_updated": ProfileUpdated(
        user_id=ANN, nickname="ann", description=None, avatar_url=None, updated_at=AT
    ),
    "friendship.requested": FriendshipRequested(from_user_id=BOB, to_user_id=ANN, at=AT),
    "friendship.accepted": FriendshipAccepted(from_user_id=ANN, to_user_id=BOB, at=AT),
    "friendship.rejected": FriendshipRejected(from_user_id=BOB, to_user_id=ANN, at=AT),
    "friendship.removed": FriendshipRemoved(from_user_id=ANN, to_user_id=BOB, at=AT),
    "chat.created": ChatCreated(
        chat_id=CHAT, type="direct", participants=[ANN, BOB], created_by=ANN, created_at=AT
    ),
    "message.sent": MessageSent(
        message_id=MESSAGE,
        chat_id=CHAT,
        author_id=ANN,
        content="hello",
        created_at=AT,
        client_message_id="c-1",
        participants=[ANN, BOB],
    ),
    "chat.read": ChatRead(
        chat_id=CHAT, user_id=BOB, message_id=MESSAGE, at=AT, participants=[ANN, BOB]
    ),
    "message.edited": MessageEdited(
        chat_id=CHAT,
        message_id=MESSAGE,
        author_id=ANN,
        content="hello!",
        edited_at=AT,
        participants=[ANN, BOB],
    ),
    "message.deleted": MessageDeleted(
        chat_id=CHAT,
        message_id=MESSAGE,
        author_id=ANN,
        deleted_by=ANN,
        at=AT,
        attachment_ids=["att-1"],
        participants=[ANN, BOB],
    ),
    "message.reaction_added": ReactionAdded(
        chat_id=CHAT, message_id=MESSAGE, user_id=BOB, emoji="👍", count=1, at=AT
    ),
    "message.reaction_removed": ReactionRemoved(
        chat_id=CHAT, message_id=MESSAGE, user_id=BOB, emoji="👍", count=0, at=AT
    ),
    "chat.delivered": ChatDelivered(
        chat_id=CHAT, user_id=BOB, message_id=MESSAGE, at=AT, participants=[ANN, BOB]
    ),
    "chat.member_added": ChatMemberAdded(
        chat_id=CHAT, user_ids=[BOB], by=ANN, at=AT, participants=[ANN, BOB]
    ),
    "chat.member_removed": ChatMemberRemoved(
        chat_id=CHAT, user_ids=[BOB], by=ANN, at=AT, participants=[ANN]
    ),
    "chat.updated": ChatUpdated(chat_id=CHAT, title="g", by=ANN, at=AT, participants=[ANN, BOB]),
    "user.blocked": UserBlocked(user_id=ANN, blocked_user_id=BOB, at=AT),
    "user.unblocked": UserUnblocked(user_id=ANN, blocked_user_id=BOB, at=AT),
    "report.filed": ReportFiled(
        report_id=uuid.uuid4(),
        reporter_id=ANN,
        reason="spam",
        comment=None,
        user_id=BOB,
        message_id=None,
        chat_id=None,
        snapshot={"user": {"user_id": str(BOB), "nickname": "bob"}},
        filed_at=AT,
    ),
}
KEYS = {
    "user": str(ANN),
    "friendship": f"{ANN}:{BOB}",  # the ordered pair, whoever acted
    "chat": str(CHAT),
    "message": str(CHAT),
    "report": str(ANN),  # the reporter
}
TOPICS = {
    "user": "user-events",
    "friendship": "friendship-events",
    "chat": "chat-events",
    "message": "chat-events",
    "report": "user-events",
}
PUBLISHED = {**AUTH_EVENTS, **USERS_EVENTS, **FRIENDS_EVENTS, **CHATS_EVENTS, **SAFETY_EVENTS}


def family(event_type: str) -> str:
    return event_type.split(".", 1)[0]


# ------------------------------------------------------------------------------------------------
# The schemas
# ------------------------------------------------------------------------------------------------
def test_every_type_of_api_md_has_exactly_one_schema_and_no_other_is_published() -> None:
    assert set(PUBLISHED) == set(API_EVENTS)
    assert len(PUBLISHED) == sum(
        map(len, (AUTH_EVENTS, USERS_EVENTS, FRIENDS_EVENTS, CHATS_EVENTS, SAFETY_EVENTS))
    )
    assert set(SAMPLES) == set(API_EVENTS)


def test_the_message_object_is_the_api_message() -> None:
    assert set(Message.model_fields) == MESSAGE_OBJECT | MESSAGE_ADDITIONS


@pytest.mark.parametrize("event_type", sorted(API_EVENTS))
def test_schema_fields_are_api_md_s(event_type: str) -> None:
    schema = PUBLISHED[event_type]
    additions = ADDITIONS.get(event_type, set())
    assert set(schema.model_fields) == API_EVENTS[event_type] | additions
    required = {name for name, f in schema.model_fields.items() if f.is_required()}
    assert required == API_EVENTS[event_type]
    assert schema.event_type == event_type


@pytest.mark.parametrize("event_type", sorted(API_EVENTS))
def test_each_schema_round_trips_through_its_envelope(event_type: str) -> None:
    sample = SAMPLES[event_type]
    record = outbound(sample, correlation_id="c-1")
    assert (record.topic, record.key) == (TOPICS[family(event_type)], KEYS[family(event_type)])
    assert record.envelope.type == event_type
    assert record.correlation_id == "c-1"
    wire = record.envelope.model_dump_json()
    # A message's `status` is one reader's view (their own messages), never an event's: unset,
    # it is left out of the wire; so is `system` on a text message.
    per_reader = {"status", "system"} if event_type == "message.sent" else set()
    assert set(json.loads(wire)["data"]) == set(type(sample).model_fields) - per_reader
    received = EventEnvelope.model_validate_json(wire)
    assert received.parse(type(sample)) == sample
    assert json.loads(received.model_dump_json()) == json.loads(wire)


def test_a_type_not_asked_for_parses_to_nothing() -> None:
    received = outbound(SAMPLES["chat.created"]).envelope
    assert received.parse(MessageSent, ChatRead) is None


def test_chat_read_without_participants_is_still_valid() -> None:
    data = SAMPLES["chat.read"].model_dump(mode="json", exclude={"participants"})
    received = EventEnvelope(id=uuid.uuid4(), type="chat.read", occurred_at=AT, data=data)
    parsed = received.parse(ChatRead)
    assert parsed is not None
    assert parsed.participants == []


def test_a_malformed_event_names_the_field_and_never_the_value() -> None:
    data = {**SAMPLES["user.registered"].model_dump(mode="json"), "user_id": "ann@example.com"}
    del data["nickname"]
    received = EventEnvelope(id=uuid.uuid4(), type="user.registered", occurred_at=AT, data=data)
    with pytest.raises(MalformedEvent) as malformed:
        received.parse(UserRegistered)
    assert {e["field"] for e in malformed.value.errors} == {"user_id", "nickname"}
    assert "ann@example.com" not in str(malformed.value)


# ------------------------------------------------------------------------------------------------
# The consumers
# ------------------------------------------------------------------------------------------------
CONSUMED = {
    "CreateProfileOnUserRegistered": ["user.registered"],
    "InvalidateCaches": [
        "user.profile_updated",
        "friendship.requested",
        "friendship.accepted",
        "friendship.rejected",
        "friendship.removed",
    ],
    "PushRealtimeEvents": [
        "message.sent",
        "chat.read",
        "friendship.requested",
        "friendship.accepted",
        "friendship.rejected",
        "friendship.removed",
    ],
    "NotifyMessageSent": ["message.sent"],
}
# An event of the consumer's topic it does not handle (and one nobody publishes).
SKIPPED = {
    ("CreateProfileOnUserRegistered", "user"): "user.profile_updated",
    ("InvalidateCaches", "user"): "user.deleted",
    ("InvalidateCaches", "friendship"): "friendship.blocked",
    ("PushRealtimeEvents", "chat"): "chat.created",
    ("PushRealtimeEvents", "message"): "chat.created",
    ("PushRealtimeEvents", "friendship"): "friendship.blocked",
    ("NotifyMessageSent", "chat"): "chat.read",
    ("NotifyMessageSent", "message"): "message.edited",
}


class Lines(logging.Handler):
    """The log lines as the function writes them (the Powertools JSON formatter, its appended
    keys as they are at that moment)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(logger.registered_formatter.format(record)))


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    handler = Lines()
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Load a consumer function's handler module with its template environment (a module of
    its own: the other tiers' cached handler modules are left alone)."""

    def load(logical_id: str) -> ModuleType:
        function = template().functions[logical_id]
        for name, value in function.env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        spec = importlib.util.spec_from_file_location(f"unit_{logical_id}", function.handler_file)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    get_settings.cache_clear()
    store = sys.modules.get("messenger.realtime.adapters.store")
    if store is not None:
        store.configure.cache_clear()


def msk_batch(logical_id: str, topic: str, *envelopes: dict[str, Any]) -> dict[str, Any]:
    """The function's sample MSK event for `topic`, carrying these envelopes as its records."""
    names = json.loads((ROOT / "events" / "index.json").read_text())[logical_id]
    samples = [sample_event(logical_id, name) for name in names]
    event = next(s for s in samples if next(iter(s["records"].values()))[0]["topic"] == topic)
    first = next(iter(event["records"].values()))[0]
    records = [
        {
            **first,
            "offset": offset,
            "value": base64.b64encode(json.dumps(envelope).encode()).decode(),
        }
        for offset, envelope in enumerate(envelopes)
    ]
    event["records"] = {f"{topic}-{first['partition']}": records}
    return event


def envelope(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-11-26T16:30:31.123Z",
        "data": data,
    }


def missing_field(event_type: str) -> tuple[dict[str, Any], str]:
    data = SAMPLES[event_type].model_dump(mode="json")
    field = sorted(API_EVENTS[event_type])[0]
    del data[field]
    return data, field


def wrong_type(event_type: str) -> tuple[dict[str, Any], str]:
    data = SAMPLES[event_type].model_dump(mode="json")
    field = next(f for f in sorted(API_EVENTS[event_type]) if f.endswith("_id") or f == "at")
    data[field] = {"not": "an id"}
    return data, field


CASES = [
    (function, event_type, breaks)
    for function, types in CONSUMED.items()
    for event_type in types
    for breaks in (missing_field, wrong_type)
]


@pytest.mark.parametrize(
    ("function", "event_type", "breaks"),
    CASES,
    ids=[f"{f}-{t}-{b.__name__}" for f, t, b in CASES],
)
def test_a_malformed_event_is_reported_with_its_validation_error(
    consumer: Any,
    logged: list[dict[str, Any]],
    function: str,
    event_type: str,
    breaks: Any,
) -> None:
    module = consumer(function)
    data, field = breaks(event_type)
    skipped = envelope(SKIPPED[function, family(event_type)], {"whatever": True})
    malformed = envelope(event_type, data)
    batch = msk_batch(function, TOPICS[family(event_type)], skipped, malformed)

    result = module.lambda_handler(batch, LambdaContext(function))

    # The malformed record alone is reported: the event source mapping retries it, then sends
    # it to the on-failure destination. The skipped one is done with.
    (failure,) = result["batchItemFailures"]
    assert failure["itemIdentifier"]["offset"] == 1
    (line,) = [line for line in logged if line["message"].startswith("Malformed event")]
    assert line["level"] == "ERROR"
    assert (line["event_type"], line["event_id"]) == (event_type, malformed["id"])
    assert field in {e["field"] for e in line["errors"]}
    assert f"malformed {event_type} event" in line["error"]
    assert line["offset"] == 1


@pytest.mark.parametrize("function", sorted(CONSUMED))
def test_a_record_that_is_no_envelope_is_reported_and_logged(
    consumer: Any, logged: list[dict[str, Any]], function: str
) -> None:
    module = consumer(function)
    event_type = CONSUMED[function][0]
    batch = msk_batch(function, TOPICS[family(event_type)], envelope("x.y", {}))
    ((key, (record,)),) = batch["records"].items()
    record["value"] = base64.b64encode(b'{"id": "nope"}').decode()
    good = msk_batch(function, record["topic"], envelope(SKIPPED[function, family(event_type)], {}))
    (skipped,) = next(iter(good["records"].values()))
    batch["records"] = {key: [skipped, {**record, "offset": 1}]}
    result = module.lambda_handler(batch, LambdaContext(function))
    (failure,) = result["batchItemFailures"]
    assert failure["itemIdentifier"]["offset"] == 1
    (line,) = [line for line in logged if line["message"].startswith("Malformed event")]
    assert "not an event envelope" in line["error"]
    assert "event_id" not in line  # nothing left over from the record before


def test_every_sample_msk_record_is_an_event_its_publisher_could_have_written() -> None:
    """A sample (events/*.json) that breaks its publisher's schema teaches a wrong shape, and
    one replayed onto a shared topic is dead-lettered by every other consumer of it."""
    import base64

    checked = 0
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if not isinstance(event, dict) or event.get("eventSource") != "aws:kafka":
            continue
        for records in event["records"].values():
            for record in records:
                envelope = EventEnvelope.model_validate_json(base64.b64decode(record["value"]))
                schema = PUBLISHED.get(envelope.type)
                assert schema is not None, (path.name, envelope.type)
                try:
                    envelope.parse(schema)
                except MalformedEvent as exc:
                    raise AssertionError(f"{path.name}: {exc}") from exc
                checked += 1
    assert checked >= 10
