"""Mute (issue 14): MuteChat and UnmuteChat invoked with their events/ samples against Redis and
MongoDB; GetChat shows the caller's mute; ChatsApi.muted_members is what the notifier reads."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from messenger.kernel.clock import rfc3339, utcnow
from tests.integration.helpers import friends, http_call

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def direct_chat() -> tuple[str, str, str]:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    return ann, bob, chat["chat_id"]


def mute(user: str, chat_id: str, until: str | None) -> tuple[int, object]:
    status, body, _ = http_call(
        "MuteChat", {"until": until}, user_id=user, path_parameters={"chat_id": chat_id}
    )
    return status, body


def my_mute(user: str, chat_id: str) -> tuple[bool, str | None]:
    status, chat, _ = http_call("GetChat", user_id=user, path_parameters={"chat_id": chat_id})
    assert status == 200
    return chat["muted"], chat["muted_until"]


def test_the_samples_answer_for_an_unknown_chat() -> None:
    status, body, _ = http_call("MuteChat")
    assert (status, body["code"]) == (404, "chat_not_found")
    status, body, _ = http_call("UnmuteChat")
    assert (status, body["code"]) == (404, "chat_not_found")


def test_mute_until_a_time_then_unmute_and_the_notifier_sees_it() -> None:
    from messenger.bootstrap import chats_api

    ann, bob, chat_id = direct_chat()
    until = utcnow() + timedelta(hours=2)
    assert mute(ann, chat_id, rfc3339(until))[0] == 204
    muted, shown = my_mute(ann, chat_id)
    assert muted
    assert shown is not None
    assert abs((utcnow().fromisoformat(shown.replace("Z", "+00:00")) - until).total_seconds()) < 1
    assert my_mute(bob, chat_id) == (False, None)  # the caller's own mute
    assert chats_api().muted_members(uuid.UUID(chat_id)) == {uuid.UUID(ann)}
    assert mute(bob, chat_id, None)[0] == 204  # until unmuted
    assert my_mute(bob, chat_id) == (True, None)
    assert chats_api().muted_members(uuid.UUID(chat_id)) == {uuid.UUID(ann), uuid.UUID(bob)}
    for _ in range(2):  # idempotent
        assert http_call("UnmuteChat", user_id=ann, path_parameters={"chat_id": chat_id})[0] == 204
    assert my_mute(ann, chat_id) == (False, None)
    assert chats_api().muted_members(uuid.UUID(chat_id)) == {uuid.UUID(bob)}


def test_a_muted_chat_still_counts_unread() -> None:
    ann, bob, chat_id = direct_chat()
    assert mute(bob, chat_id, None)[0] == 204
    status, _, _ = http_call(
        "SendMessage", {"content": "hi"}, user_id=ann, path_parameters={"chat_id": chat_id}
    )
    assert status == 201
    chats = http_call("ListChats", user_id=bob)[1]["items"]
    assert next(c for c in chats if c["chat_id"] == chat_id)["unread_count"] == 1


def test_bad_mutes_are_refused() -> None:
    ann, _, chat_id = direct_chat()
    past = rfc3339(utcnow() - timedelta(minutes=1))
    status, body = mute(ann, chat_id, past)
    assert (status, body["code"]) == (422, "validation_failed")  # type: ignore[index]
    status, body = mute(ann, chat_id, "tomorrow")
    assert (status, body["code"]) == (422, "validation_failed")  # type: ignore[index]
    status, body, _ = http_call("MuteChat", {}, user_id=ann, path_parameters={"chat_id": chat_id})
    assert (status, body["code"]) == (422, "validation_failed")  # `until` is required
    status, body = mute(str(uuid.uuid4()), chat_id, None)
    assert (status, body["code"]) == (403, "not_participant")  # type: ignore[index]
    assert my_mute(ann, chat_id) == (False, None)  # nothing written
