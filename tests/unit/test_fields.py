"""Text every store accepts: NUL and unpaired surrogates are refused by the models (a 422), and
every cursor decoder refuses what it cannot use (issue 10, items 3-5)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from messenger.auth.models import LoginRequest, OAuthCallbackRequest, RegisterRequest
from messenger.chats.models import CreateChatRequest, SendMessageRequest
from messenger.friends.models import FriendRequestBody
from messenger.kernel.errors import InvalidInput
from messenger.kernel.pagination import (
    ACTIVITY_KEY,
    TEXT_KEY,
    UUID_KEY,
    decode_cursor,
    encode_cursor,
)
from messenger.users.models import ProfilePatch

pytestmark = pytest.mark.unit

BAD_TEXT = ["a\x00b", "\x00", "a\ud800b", "\udfff", "ok \ud83d"]
PEER = str(uuid.uuid4())

# Every text field of every request body: (model, valid body, field to spoil).
TEXT_FIELDS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (RegisterRequest, {"email": "a@example.com", "password": "p" * 8, "nickname": "ann"}, "email"),
    (
        RegisterRequest,
        {"email": "a@example.com", "password": "p" * 8, "nickname": "ann"},
        "password",
    ),
    (
        RegisterRequest,
        {"email": "a@example.com", "password": "p" * 8, "nickname": "ann"},
        "nickname",
    ),
    (LoginRequest, {"email": "a@example.com", "password": "secret"}, "email"),
    (LoginRequest, {"email": "a@example.com", "password": "secret"}, "password"),
    (OAuthCallbackRequest, {"code": "c", "state": "s"}, "code"),
    (OAuthCallbackRequest, {"code": "c", "state": "s"}, "state"),
    (ProfilePatch, {"description": "hi"}, "description"),
    (ProfilePatch, {"avatar_url": "https://example.com/a.png"}, "avatar_url"),
    (ProfilePatch, {"nickname": "ann"}, "nickname"),
    (FriendRequestBody, {"nickname": "bob"}, "nickname"),
    (CreateChatRequest, {"participants": [PEER], "title": "team"}, "title"),
    (SendMessageRequest, {"content": "hello"}, "content"),
    (SendMessageRequest, {"content": "hello", "client_message_id": "c-1"}, "client_message_id"),
]


def spoiled(value: str, bad: str) -> str:
    return value[:1] + bad + value[1:]


@pytest.mark.parametrize(("model", "body", "name"), TEXT_FIELDS)
def test_the_valid_bodies_are_valid(
    model: type[BaseModel], body: dict[str, Any], name: str
) -> None:
    model.model_validate(body)


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize(("model", "body", "name"), TEXT_FIELDS)
def test_nul_and_unpaired_surrogates_are_refused_in_every_text_field(
    model: type[BaseModel], body: dict[str, Any], name: str, bad: str
) -> None:
    """As the resolver validates them: json.loads turns "\\u0000" and "\\ud800" into such str."""
    with pytest.raises(ValidationError) as refused:
        model.model_validate(json.loads(json.dumps({**body, name: spoiled(body[name], bad)})))
    assert [e["loc"][0] for e in refused.value.errors()] == [name]


def test_stripped_fields_are_still_stripped() -> None:
    assert SendMessageRequest.model_validate({"content": "  hi \n"}).content == "hi"
    with pytest.raises(ValidationError):
        SendMessageRequest.model_validate({"content": "   "})


def test_other_unicode_is_text() -> None:
    content = "héllo 👋 \u200b\ufffd"
    assert SendMessageRequest.model_validate({"content": content}).content == content


def raw_cursor(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).decode()


def refuses(cursor: str, key: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(cursor, key)
    assert refused.value.code == "validation_failed"
    assert refused.value.extra["errors"] == [{"field": "cursor", "message": "invalid cursor"}]


def test_cursors_round_trip() -> None:
    chat_id = uuid.uuid4()
    at = datetime(2026, 11, 26, 16, 30, 31, 123000, tzinfo=UTC)
    assert decode_cursor(encode_cursor([at.isoformat(), str(chat_id)]), ACTIVITY_KEY) == (
        at,
        chat_id,
    )
    assert decode_cursor(encode_cursor(str(chat_id)), UUID_KEY) == chat_id
    assert decode_cursor(encode_cursor("ann.b"), TEXT_KEY) == "ann.b"


def test_a_cursor_datetime_is_given_in_utc() -> None:
    activity, _ = decode_cursor(encode_cursor(["2026-01-01T02:00:00+02:00", PEER]), ACTIVITY_KEY)
    assert activity == datetime(2026, 1, 1, tzinfo=UTC)
    assert activity.tzinfo is UTC


@pytest.mark.parametrize(
    "key",
    [
        ["9999-12-31T23:59:59-14:00", PEER],  # past datetime.max in UTC: was an OverflowError
        ["0001-01-01T00:00:00+14:00", PEER],  # before datetime.min in UTC
        ["0000-01-01T00:00:00+00:00", PEER],
        ["2026-01-01T00:00:00", PEER],  # no offset: which instant?
        ["2026-01-01T00:00:00Z", "not-a-uuid"],
        ["2026-01-01T00:00:00Z"],
        ["2026-01-01T00:00:00Z", PEER, "extra"],
        {"at": "2026-01-01T00:00:00Z"},
        "2026-01-01T00:00:00Z",
        None,
    ],
)
def test_the_chats_cursor_refuses_what_it_cannot_use(key: Any) -> None:
    refuses(encode_cursor(key), ACTIVITY_KEY)


@pytest.mark.parametrize("key", ["nope", 1, None, [PEER], {"id": PEER}])
def test_the_history_cursor_refuses_what_it_cannot_use(key: Any) -> None:
    refuses(encode_cursor(key), UUID_KEY)


@pytest.mark.parametrize(
    "raw",
    [
        b'"a\\u0000"',
        b'"a\\ud800b"',
        b'"\\udfff"',
        b"1",
        b"null",
        b'["a"]',
        b'"' + b"a" * 600 + b'"',
    ],
)
def test_the_search_cursor_refuses_what_it_cannot_use(raw: bytes) -> None:
    refuses(raw_cursor(raw), TEXT_KEY)


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "abc",  # bad padding
        "YQ==\x00",
        "é",
        "\ud800",
        raw_cursor(b"\xff\xfe"),
        raw_cursor(b"{not json"),
        raw_cursor(b"[" * 5000 + b"]" * 5000),
        "",
    ],
)
@pytest.mark.parametrize("key", [ACTIVITY_KEY, UUID_KEY, TEXT_KEY])
def test_every_decoder_refuses_a_cursor_that_does_not_decode(cursor: str, key: Any) -> None:
    refuses(cursor, key)
