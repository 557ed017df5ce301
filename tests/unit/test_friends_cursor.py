"""The friends page cursor: the key it carries round-trips, and nothing else is accepted."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from messenger.friends.service import parse_cursor
from messenger.kernel.errors import InvalidInput
from messenger.kernel.pagination import encode_cursor

pytestmark = pytest.mark.unit


def raw(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_the_key_round_trips() -> None:
    user = uuid.uuid4()
    assert parse_cursor(encode_cursor(["ann.b_2", str(user)])) == ("ann.b_2", user)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        raw("ann"),
        raw(["ann"]),
        raw(["ann", str(uuid.uuid4()), "extra"]),
        raw([1, str(uuid.uuid4())]),
        raw(["", str(uuid.uuid4())]),
        raw(["Ann", str(uuid.uuid4())]),  # keys are lower-cased nicknames
        raw(["a" * 65, str(uuid.uuid4())]),
        raw(["ann", "not-a-uuid"]),
        raw(["ann", None]),
        raw({"nickname": "ann"}),
    ],
)
def test_anything_else_is_a_422(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_cursor(cursor)
    assert raised.value.code == "validation_failed"
