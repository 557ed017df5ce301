"""Edit, delete, replies, reactions, receipts and GET chat through real HTTP (and WebSocket
frames for them): every code API.md lists for these routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import (
    bearer,
    befriend,
    create,
    device,
    history,
    next_frame,
    of_type,
    problem,
    send,
    signed_up,
)

pytestmark = pytest.mark.e2e

User = dict[str, Any]


@pytest.fixture
def pair(api: httpx.Client) -> tuple[User, User, str]:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    chat = create(api, ann, [bob])
    assert chat.status_code == 201, chat.text
    return ann, bob, chat.json()["chat_id"]


def message_url(chat_id: str, message_id: str) -> str:
    return f"/v1/chats/{chat_id}/messages/{message_id}"


def edit(api: httpx.Client, user: User, chat_id: str, message_id: str, body: Any) -> httpx.Response:
    return api.patch(
        message_url(chat_id, message_id), json=body, headers=bearer(user["access_token"])
    )


def delete(
    api: httpx.Client, user: User, chat_id: str, message_id: str, scope: str | None
) -> httpx.Response:
    params = {"for": scope} if scope is not None else {}
    return api.delete(
        message_url(chat_id, message_id), params=params, headers=bearer(user["access_token"])
    )


def reaction(
    api: httpx.Client, method: str, user: User, chat_id: str, message_id: str, emoji: str
) -> httpx.Response:
    url = f"{message_url(chat_id, message_id)}/reactions/{quote(emoji, safe='')}"
    return api.request(method, url, headers=bearer(user["access_token"]))


def delivered(api: httpx.Client, user: User, chat_id: str, message_id: str) -> httpx.Response:
    return api.post(
        f"/v1/chats/{chat_id}/delivered",
        json={"message_id": message_id},
        headers=bearer(user["access_token"]),
    )


def read(api: httpx.Client, user: User, chat_id: str, message_id: str) -> httpx.Response:
    return api.post(
        f"/v1/chats/{chat_id}/read",
        json={"message_id": message_id},
        headers=bearer(user["access_token"]),
    )


def get_chat(api: httpx.Client, user: User, chat_id: str) -> httpx.Response:
    return api.get(f"/v1/chats/{chat_id}", headers=bearer(user["access_token"]))


def items(api: httpx.Client, user: User, chat_id: str, **params: Any) -> list[dict[str, Any]]:
    response = history(api, user, chat_id, **params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def one(api: httpx.Client, user: User, chat_id: str, message_id: str) -> dict[str, Any]:
    return next(m for m in items(api, user, chat_id) if m["message_id"] == message_id)


def unread(api: httpx.Client, user: User, chat_id: str) -> int:
    listed = api.get("/v1/chats", headers=bearer(user["access_token"])).json()["items"]
    return int(next(c for c in listed if c["chat_id"] == chat_id)["unread_count"])


# -- edit -----------------------------------------------------------------------------------------
def test_the_author_edits_a_message(api: httpx.Client, pair: tuple[User, User, str]) -> None:
    ann, bob, chat_id = pair
    sent = send(api, ann, chat_id, "helo").json()
    edited = edit(api, ann, chat_id, sent["message_id"], {"content": "  hello  "})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["content"], body["created_at"], body["status"]) == (
        "hello",
        sent["created_at"],
        "sent",
    )
    assert body["edited_at"].endswith("Z")
    seen = one(api, bob, chat_id, sent["message_id"])
    assert (seen["content"], seen["edited_at"]) == ("hello", body["edited_at"])


def test_edit_refusals(
    api: httpx.Client, pair: tuple[User, User, str], backing_env: dict[str, str]
) -> None:
    ann, bob, chat_id = pair
    eve = signed_up(api)
    message_id = send(api, ann, chat_id, "mine").json()["message_id"]
    ok = {"content": "x"}
    assert problem(edit(api, bob, chat_id, message_id, ok)) == (403, "not_author")
    assert problem(edit(api, eve, chat_id, message_id, ok)) == (403, "not_participant")
    assert problem(edit(api, ann, chat_id, str(uuid.uuid4()), ok)) == (404, "message_not_found")
    assert problem(edit(api, ann, str(uuid.uuid4()), message_id, ok)) == (404, "chat_not_found")
    for bad in ({"content": ""}, {"content": " "}, {"content": "x" * 4097}, {}, {"x": 1}):
        assert problem(edit(api, ann, chat_id, message_id, bad)) == (422, "validation_failed")
    assert problem(edit(api, ann, chat_id, "nope", ok)) == (422, "validation_failed")
    bad_json = api.patch(
        message_url(chat_id, message_id),
        content=b"{",
        headers={**bearer(ann["access_token"]), "content-type": "application/json"},
    )
    assert problem(bad_json) == (400, "malformed_json")

    assert delete(api, ann, chat_id, message_id, "everyone").status_code == 204
    assert problem(edit(api, ann, chat_id, message_id, ok)) == (409, "message_not_editable")
    system_id = _system_message(backing_env, chat_id, ann["user_id"])
    assert problem(edit(api, ann, chat_id, system_id, ok)) == (409, "message_not_editable")
    system = one(api, bob, chat_id, system_id)
    assert (system["kind"], system["content"]) == ("system", None)


def _system_message(env: dict[str, str], chat_id: str, actor: str) -> str:
    """A system message as the groups issue will write them (kind system, no content)."""
    import pymongo

    from messenger.chats.service import new_message_id
    from messenger.kernel.clock import utcnow

    message_id = str(new_message_id())
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        client[env["MONGODB_DATABASE"]].messages.insert_one(
            {
                "_id": message_id,
                "chat_id": chat_id,
                "author_id": actor,
                "kind": "system",
                "content": None,
                "created_at": utcnow(),
                "client_message_id": None,
                "dedupe_key": message_id,
            }
        )
    finally:
        client.close()
    return message_id


# -- delete ---------------------------------------------------------------------------------------
def test_delete_for_everyone_keeps_the_place_and_paging(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    ids = [send(api, ann, chat_id, f"m{i}").json()["message_id"] for i in range(5)]
    assert reaction(api, "PUT", bob, chat_id, ids[2], "👍").status_code == 204
    first_page = history(api, bob, chat_id, limit=2).json()
    assert delete(api, ann, chat_id, ids[2], "everyone").status_code == 204
    assert delete(api, ann, chat_id, ids[2], "everyone").status_code == 204  # again: the same
    rest = history(api, bob, chat_id, limit=2, cursor=first_page["next_cursor"]).json()
    assert [m["message_id"] for m in rest["items"]] == [ids[2], ids[1]]
    tombstone = rest["items"][0]
    assert (tombstone["deleted"], tombstone["content"], tombstone["reactions"]) == (True, None, [])
    assert tombstone["attachments"] == []
    assert [m["message_id"] for m in items(api, ann, chat_id)] == ids[::-1]


def test_delete_for_everyone_is_the_authors(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    message_id = send(api, ann, chat_id, "mine").json()["message_id"]
    assert problem(delete(api, bob, chat_id, message_id, "everyone")) == (403, "not_author")
    assert not one(api, bob, chat_id, message_id)["deleted"]
    for scope in (None, "all", "ME"):
        assert problem(delete(api, ann, chat_id, message_id, scope)) == (422, "validation_failed")
    missing = delete(api, ann, chat_id, str(uuid.uuid4()), "everyone")
    assert problem(missing) == (404, "message_not_found")
    assert problem(delete(api, ann, str(uuid.uuid4()), message_id, "me")) == (404, "chat_not_found")
    eve = signed_up(api)
    assert problem(delete(api, eve, chat_id, message_id, "me")) == (403, "not_participant")


def test_delete_for_me_hides_it_from_my_history_and_unread_count(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    kept = send(api, ann, chat_id, "kept").json()["message_id"]
    hidden = send(api, ann, chat_id, "hidden").json()["message_id"]
    assert unread(api, bob, chat_id) == 2
    assert delete(api, bob, chat_id, hidden, "me").status_code == 204
    assert [m["message_id"] for m in items(api, bob, chat_id)] == [kept]
    assert [m["message_id"] for m in items(api, ann, chat_id)] == [hidden, kept]
    assert unread(api, bob, chat_id) == 1
    assert delete(api, bob, chat_id, hidden, "me").status_code == 204
    assert unread(api, bob, chat_id) == 1
    assert read(api, bob, chat_id, kept).status_code == 204  # the recount leaves it out too
    assert unread(api, bob, chat_id) == 0


# -- replies --------------------------------------------------------------------------------------
def test_replies_name_a_message_of_the_same_chat(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    cat = signed_up(api)
    befriend(api, ann, cat)
    other_chat = create(api, ann, [cat]).json()["chat_id"]
    elsewhere = send(api, cat, other_chat, "elsewhere").json()["message_id"]
    original = send(api, bob, chat_id, "question").json()["message_id"]
    url = f"/v1/chats/{chat_id}/messages"
    reply = api.post(
        url, json={"content": "answer", "reply_to": original}, headers=bearer(ann["access_token"])
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["reply_to"] == original
    for target in (elsewhere, str(uuid.uuid4())):
        refused = api.post(
            url, json={"content": "x", "reply_to": target}, headers=bearer(ann["access_token"])
        )
        assert problem(refused) == (422, "invalid_reply")
    bad = api.post(url, json={"content": "x", "reply_to": "x"}, headers=bearer(ann["access_token"]))
    assert problem(bad) == (422, "validation_failed")

    assert delete(api, bob, chat_id, original, "everyone").status_code == 204
    shown = one(api, ann, chat_id, reply.json()["message_id"])
    assert (shown["content"], shown["reply_to"]) == ("answer", original)


# -- reactions ------------------------------------------------------------------------------------
def test_reactions_are_idempotent_counted_and_mine(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    message_id = send(api, ann, chat_id, "react").json()["message_id"]
    family = "👨\u200d👩\u200d👧"  # 5 characters, one glyph
    for user, emoji in ((bob, "👍"), (bob, "👍"), (ann, "👍"), (ann, family), (bob, "+1")):
        assert reaction(api, "PUT", user, chat_id, message_id, emoji).status_code == 204
    mine = one(api, bob, chat_id, message_id)["reactions"]
    assert mine == [
        {"emoji": "👍", "count": 2, "me": True},
        {"emoji": family, "count": 1, "me": False},
        {"emoji": "+1", "count": 1, "me": True},
    ]
    assert reaction(api, "DELETE", bob, chat_id, message_id, "👍").status_code == 204
    assert reaction(api, "DELETE", bob, chat_id, message_id, "👍").status_code == 204
    assert reaction(api, "DELETE", bob, chat_id, message_id, "🎉").status_code == 204
    assert reaction(api, "DELETE", ann, chat_id, message_id, family).status_code == 204
    theirs = one(api, ann, chat_id, message_id)["reactions"]
    assert theirs == [
        {"emoji": "👍", "count": 1, "me": True},
        {"emoji": "+1", "count": 1, "me": False},
    ]
    listed = api.get("/v1/chats", headers=bearer(ann["access_token"])).json()["items"][0]
    assert listed["last_message"]["reactions"] == theirs  # the chat list's copy follows


def test_reaction_refusals(api: httpx.Client, pair: tuple[User, User, str]) -> None:
    ann, bob, chat_id = pair
    eve = signed_up(api)
    message_id = send(api, ann, chat_id, "react").json()["message_id"]
    for method in ("PUT", "DELETE"):
        too_long = reaction(api, method, bob, chat_id, message_id, "x" * 17)
        assert problem(too_long) == (422, "validation_failed")
        nul = reaction(api, method, bob, chat_id, message_id, "\x00")
        assert problem(nul) == (422, "validation_failed")
        missing = reaction(api, method, bob, chat_id, str(uuid.uuid4()), "👍")
        assert problem(missing) == (404, "message_not_found")
        assert problem(reaction(api, method, eve, chat_id, message_id, "👍")) == (
            403,
            "not_participant",
        )
        no_chat = reaction(api, method, bob, str(uuid.uuid4()), message_id, "👍")
        assert problem(no_chat) == (404, "chat_not_found")
    assert reaction(api, "PUT", bob, chat_id, message_id, "x" * 16).status_code == 204

    emoji = [chr(0x1F600 + i) for i in range(21)]
    with ThreadPoolExecutor(4) as pool:
        added = list(
            pool.map(lambda e: reaction(api, "PUT", ann, chat_id, message_id, e), emoji[:19])
        )
    assert [r.status_code for r in added] == [204] * 19
    assert problem(reaction(api, "PUT", bob, chat_id, message_id, emoji[20])) == (
        409,
        "too_many_reactions",
    )
    assert reaction(api, "PUT", bob, chat_id, message_id, emoji[0]).status_code == 204
    assert len(one(api, bob, chat_id, message_id)["reactions"]) == 20

    assert delete(api, ann, chat_id, message_id, "everyone").status_code == 204
    gone = reaction(api, "PUT", bob, chat_id, message_id, "👍")
    assert problem(gone) == (409, "message_not_editable")


# -- receipts, status and one chat ----------------------------------------------------------------
def test_status_follows_delivered_and_read_markers(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    first = send(api, ann, chat_id, "one").json()["message_id"]
    second = send(api, ann, chat_id, "two").json()["message_id"]
    reply = send(api, bob, chat_id, "three").json()["message_id"]

    def statuses() -> dict[str, Any]:
        return {m["message_id"]: m.get("status") for m in items(api, ann, chat_id)}

    assert statuses() == {first: "sent", second: "sent", reply: None}
    assert delivered(api, bob, chat_id, first).status_code == 204
    assert statuses() == {first: "delivered", second: "sent", reply: None}
    assert delivered(api, bob, chat_id, first).status_code == 204  # no move: still fine
    assert read(api, bob, chat_id, second).status_code == 204  # read implies delivered
    assert statuses() == {first: "read", second: "read", reply: None}
    assert all(
        "status" not in m for m in items(api, bob, chat_id) if m["author_id"] != bob["user_id"]
    )
    own = api.get("/v1/chats", headers=bearer(bob["access_token"])).json()["items"][0]
    assert own["last_message"]["status"] == "sent"  # bob's own last message, not yet delivered

    assert problem(delivered(api, bob, chat_id, str(uuid.uuid4()))) == (404, "message_not_found")
    assert problem(delivered(api, bob, str(uuid.uuid4()), first)) == (404, "chat_not_found")
    eve = signed_up(api)
    assert problem(delivered(api, eve, chat_id, first)) == (403, "not_participant")
    bad = api.post(
        f"/v1/chats/{chat_id}/delivered",
        json={"message_id": "x"},
        headers=bearer(bob["access_token"]),
    )
    assert problem(bad) == (422, "validation_failed")


def test_get_chat_shows_members_and_markers(
    api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    first = send(api, ann, chat_id, "one").json()["message_id"]
    second = send(api, ann, chat_id, "two").json()["message_id"]
    assert read(api, bob, chat_id, first).status_code == 204
    assert delivered(api, bob, chat_id, second).status_code == 204
    response = get_chat(api, ann, chat_id)
    assert response.status_code == 200, response.text
    chat = response.json()
    listed = api.get("/v1/chats", headers=bearer(ann["access_token"])).json()["items"][0]
    detail_only = ("members", "muted_until", "muted")
    assert {k: v for k, v in chat.items() if k not in detail_only} == listed
    assert chat["last_message"]["status"] == "delivered"
    assert chat["muted_until"] is None
    assert chat["muted"] is False
    assert chat["members"] == [
        {
            "user_id": ann["user_id"],
            "role": "owner",
            "joined_at": chat["created_at"],
            "read_up_to": None,
            "delivered_up_to": None,
        },
        {
            "user_id": bob["user_id"],
            "role": "member",
            "joined_at": chat["created_at"],
            "read_up_to": first,
            "delivered_up_to": second,
        },
    ]
    assert get_chat(api, bob, chat_id).json()["unread_count"] == 1
    eve = signed_up(api)
    assert problem(get_chat(api, eve, chat_id)) == (403, "not_participant")
    assert problem(get_chat(api, ann, str(uuid.uuid4()))) == (404, "chat_not_found")
    assert problem(get_chat(api, ann, "not-a-uuid")) == (422, "validation_failed")


# -- realtime frames ------------------------------------------------------------------------------
@contextmanager
def both(gateway: LocalGateway, ann: User, bob: User) -> Iterator[tuple[Any, Any]]:
    with device(gateway, ann) as a, device(gateway, bob) as b:
        yield a, b


def test_edits_reactions_receipts_and_deletes_reach_the_chat_as_frames(
    gateway: LocalGateway, api: httpx.Client, pair: tuple[User, User, str]
) -> None:
    ann, bob, chat_id = pair
    with both(gateway, ann, bob) as (a, b):
        message_id = send(api, ann, chat_id, "helo").json()["message_id"]
        next_frame(b, of_type("message.sent", message_id=message_id))

        assert edit(api, ann, chat_id, message_id, {"content": "hello"}).status_code == 200
        for ws in (a, b):  # the author's other devices hear it too
            frame = next_frame(ws, of_type("message.edited", message_id=message_id))
            assert frame["data"]["content"] == "hello"
            assert frame["data"]["edited_at"].endswith("Z")
            assert "participants" not in frame["data"]

        assert reaction(api, "PUT", bob, chat_id, message_id, "👍").status_code == 204
        for ws in (a, b):
            frame = next_frame(ws, of_type("message.reaction_added", message_id=message_id))
            assert {k: frame["data"][k] for k in ("user_id", "emoji", "count")} == {
                "user_id": bob["user_id"],
                "emoji": "👍",
                "count": 1,
            }
        assert reaction(api, "DELETE", bob, chat_id, message_id, "👍").status_code == 204
        frame = next_frame(a, of_type("message.reaction_removed", message_id=message_id))
        assert (frame["data"]["emoji"], frame["data"]["count"]) == ("👍", 0)

        assert delivered(api, bob, chat_id, message_id).status_code == 204
        receipt = next_frame(a, of_type("chat.delivered", chat_id=chat_id))
        assert (receipt["data"]["user_id"], receipt["data"]["message_id"]) == (
            bob["user_id"],
            message_id,
        )
        # bob hears no echo of his own receipt: the next message comes first.
        marker = send(api, ann, chat_id, "marker").json()["message_id"]
        after = next_frame(b, lambda f: f["type"] != "message.reaction_removed")
        assert (after["type"], after["data"]["message_id"]) == ("message.sent", marker)

        assert delete(api, ann, chat_id, message_id, "everyone").status_code == 204
        for ws in (a, b):
            frame = next_frame(ws, of_type("message.deleted", message_id=message_id))
            assert (frame["data"]["deleted_by"], frame["data"]["attachment_ids"]) == (
                ann["user_id"],
                [],
            )
