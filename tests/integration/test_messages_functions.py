"""Edit, delete, reactions, receipts and GET chat: each function invoked with its events/ sample
against Redis and MongoDB, and the reaction store under concurrency (threads, real MongoDB)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integration.helpers import friends, http_call
from tests.support import invoke, sample_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


@pytest.fixture
def mongo(in_process_env: dict[str, str]) -> Iterator[Any]:
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
        in_process_env["MONGODB_URI"], tz_aware=True
    )
    try:
        yield client[in_process_env["MONGODB_DATABASE"]]
    finally:
        client.close()


def chat_of_friends() -> tuple[str, str, str]:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    return ann, bob, chat["chat_id"]


def send(user: str, chat_id: str, content: str, **extra: Any) -> dict[str, Any]:
    status, message, _ = http_call(
        "SendMessage",
        {"content": content, **extra},
        user_id=user,
        path_parameters={"chat_id": chat_id},
    )
    assert status == 201, message
    result: dict[str, Any] = message
    return result


def history(user: str, chat_id: str) -> list[dict[str, Any]]:
    status, page, _ = http_call(
        "GetChatHistory", user_id=user, path_parameters={"chat_id": chat_id}
    )
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


def delete(user: str, chat_id: str, message_id: str, scope: str | None) -> tuple[int, Any]:
    """DeleteMessage with its sample, `?for=` as given (None: left out)."""
    event = sample_event("DeleteMessage")
    path = f"/v1/chats/{chat_id}/messages/{message_id}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"chat_id": chat_id, "message_id": message_id}
    event["requestContext"]["authorizer"]["lambda"] = {"user_id": user}
    if scope is None:
        event.pop("queryStringParameters", None)
        event["rawQueryString"] = ""
    else:
        event["queryStringParameters"] = {"for": scope}
        event["rawQueryString"] = f"for={scope}"
    result = invoke("DeleteMessage", event)
    return result["statusCode"], json.loads(result["body"]) if result.get("body") else None


def react(function: str, user: str, chat_id: str, message_id: str, emoji: str) -> tuple[int, Any]:
    params = {"chat_id": chat_id, "message_id": message_id, "emoji": emoji}
    status, body, _ = http_call(function, user_id=user, path_parameters=params)
    return status, body


def outbox_types(mongo: Any, chat_id: str) -> list[str]:
    docs = mongo.outbox.find({"key": chat_id}).sort("created_at", 1)
    return [d["payload"]["type"] for d in docs]


# -- each function with its sample ----------------------------------------------------------------
def test_samples_edit_react_deliver_read_and_delete(mongo: Any) -> None:
    ann, bob, chat_id = chat_of_friends()
    message = send(ann, chat_id, "helo")
    ids = {"chat_id": chat_id, "message_id": message["message_id"]}

    status, edited, _ = http_call("EditMessage", user_id=ann, path_parameters=ids)
    assert status == 200, edited
    assert (edited["content"], edited["status"]) == ("Hello there! (edited)", "sent")
    assert edited["edited_at"].endswith("Z")
    status, body, _ = http_call("EditMessage", {"content": "no"}, user_id=bob, path_parameters=ids)
    assert (status, body["code"]) == (403, "not_author")

    status, _, _ = http_call("AddReaction", user_id=bob, path_parameters={**ids, "emoji": "👍"})
    assert status == 204  # the sample's path: the emoji decoded, as the HTTP API sends it
    seen = {m["message_id"]: m for m in history(bob, chat_id)}[message["message_id"]]
    assert seen["reactions"] == [{"emoji": "👍", "count": 1, "me": True}]
    assert "status" not in seen, "bob did not write it"

    status, _, _ = http_call(
        "MarkChatDelivered",
        {"message_id": message["message_id"]},
        user_id=bob,
        path_parameters={"chat_id": chat_id},
    )
    assert status == 204
    assert history(ann, chat_id)[0]["status"] == "delivered"
    status, chat, _ = http_call("GetChat", user_id=ann, path_parameters={"chat_id": chat_id})
    assert status == 200, chat
    members = {m["user_id"]: m for m in chat["members"]}
    assert members[bob] == {
        "user_id": bob,
        "role": "member",
        "joined_at": chat["created_at"],
        "read_up_to": None,
        "delivered_up_to": message["message_id"],
    }
    assert (members[ann]["role"], chat["muted_until"]) == ("owner", None)
    assert chat["last_message"]["reactions"] == [{"emoji": "👍", "count": 1, "me": False}]
    assert chat["last_message"]["content"] == "Hello there! (edited)"

    status, _, _ = http_call("RemoveReaction", user_id=bob, path_parameters={**ids, "emoji": "👍"})
    assert status == 204
    assert delete(ann, chat_id, message["message_id"], "everyone")[0] == 204
    (tombstone,) = history(bob, chat_id)
    assert (tombstone["deleted"], tombstone["content"], tombstone["reactions"]) == (True, None, [])
    listed = http_call("ListChats", user_id=bob)[1]["items"][0]["last_message"]
    assert (listed["deleted"], listed["content"]) == (True, None)
    assert outbox_types(mongo, chat_id) == [
        "chat.created",
        "message.sent",
        "message.edited",
        "message.reaction_added",
        "chat.delivered",
        "message.reaction_removed",
        "message.deleted",
    ]


def test_the_samples_name_no_such_chat() -> None:
    stranger = str(uuid.uuid4())
    for function in (
        "EditMessage",
        "AddReaction",
        "RemoveReaction",
        "MarkChatDelivered",
        "GetChat",
    ):
        status, body, _ = http_call(function, user_id=stranger)
        assert (status, body["code"]) == (404, "chat_not_found"), function
    status, body = delete(stranger, str(uuid.uuid4()), str(uuid.uuid4()), "me")
    assert (status, body["code"]) == (404, "chat_not_found")


def test_an_encoded_emoji_in_the_raw_path_is_decoded_once() -> None:
    """Locally the gateway passes rawPath as the client encoded it: the same emoji either way."""
    ann, bob, chat_id = chat_of_friends()
    message = send(ann, chat_id, "hi")
    event = sample_event("AddReaction")
    encoded = f"/v1/chats/{chat_id}/messages/{message['message_id']}/reactions/%25F0%F0%9F%91%8D"
    event["rawPath"] = event["requestContext"]["http"]["path"] = encoded
    event["pathParameters"] = {
        "chat_id": chat_id,
        "message_id": message["message_id"],
        "emoji": "%F0👍",
    }
    event["requestContext"]["authorizer"]["lambda"] = {"user_id": bob}
    assert invoke("AddReaction", event)["statusCode"] == 204
    (seen,) = history(ann, chat_id)
    assert seen["reactions"] == [{"emoji": "%F0👍", "count": 1, "me": False}]


def test_delete_needs_a_scope_and_for_me_is_no_event(mongo: Any) -> None:
    ann, bob, chat_id = chat_of_friends()
    message = send(ann, chat_id, "mine")
    for scope in (None, "all", ""):
        status, body = delete(ann, chat_id, message["message_id"], scope)
        assert (status, body["code"]) == (422, "validation_failed"), scope
    assert delete(bob, chat_id, message["message_id"], "me")[0] == 204
    assert history(bob, chat_id) == []
    assert [m["content"] for m in history(ann, chat_id)] == ["mine"]
    assert http_call("ListChats", user_id=bob)[1]["items"][0]["unread_count"] == 0
    status, body = delete(bob, chat_id, message["message_id"], "everyone")
    assert (status, body["code"]) == (403, "not_author")
    status, body = delete(bob, chat_id, str(uuid.uuid4()), "me")
    assert (status, body["code"]) == (404, "message_not_found")
    assert outbox_types(mongo, chat_id) == ["chat.created", "message.sent"]


def test_reply_to_must_be_a_message_of_the_chat() -> None:
    ann, bob, chat_id = chat_of_friends()
    original = send(bob, chat_id, "q")
    reply = send(ann, chat_id, "a", reply_to=original["message_id"])
    assert reply["reply_to"] == original["message_id"]
    for target in (str(uuid.uuid4()), "not-a-uuid"):
        status, body, _ = http_call(
            "SendMessage",
            {"content": "x", "reply_to": target},
            user_id=ann,
            path_parameters={"chat_id": chat_id},
        )
        assert status == 422, body
        assert body["code"] in ("invalid_reply", "validation_failed")
    status, body, _ = http_call(
        "SendMessage",
        {"content": "x", "reply_to": str(uuid.uuid4())},
        user_id=ann,
        path_parameters={"chat_id": chat_id},
    )
    assert (body["code"], body["errors"][0]["field"]) == ("invalid_reply", "reply_to")


def test_bad_emoji_and_bodies_are_422() -> None:
    ann, bob, chat_id = chat_of_friends()
    message = send(ann, chat_id, "hi")
    for emoji in ("x" * 17, "\ud800", "a\x00"):
        status, body = react("AddReaction", bob, chat_id, message["message_id"], emoji)
        assert (status, body["code"]) == (422, "validation_failed"), emoji
    ids = {"chat_id": chat_id, "message_id": message["message_id"]}
    for bad in ({"content": "  "}, {"content": "x" * 4097}, {}, {"content": "x", "more": 1}):
        status, body, _ = http_call("EditMessage", bad, user_id=ann, path_parameters=ids)
        assert (status, body["code"]) == (422, "validation_failed"), bad
    status, body, _ = http_call(
        "MarkChatDelivered",
        {"message_id": str(uuid.uuid4())},
        user_id=bob,
        path_parameters={"chat_id": chat_id},
    )
    assert (status, body["code"]) == (404, "message_not_found")


# -- stored documents -----------------------------------------------------------------------------
def test_messages_stored_before_the_new_fields_read_with_their_defaults(mongo: Any) -> None:
    from messenger.chats.service import new_message_id
    from messenger.kernel.clock import utcnow

    ann, bob, chat_id = chat_of_friends()
    old_id = str(new_message_id())
    mongo.messages.insert_one(
        {
            "_id": old_id,
            "chat_id": chat_id,
            "author_id": ann,
            "content": "from the first release",
            "created_at": utcnow(),
            "client_message_id": None,
            "dedupe_key": old_id,
        }
    )
    mongo.chats.update_one({"_id": chat_id}, {"$unset": {"delivered_up_to": ""}})
    (seen,) = history(bob, chat_id)
    assert {k: seen[k] for k in ("kind", "edited_at", "deleted", "reply_to", "reactions")} == {
        "kind": "text",
        "edited_at": None,
        "deleted": False,
        "reply_to": None,
        "reactions": [],
    }
    ids = {"chat_id": chat_id, "message_id": old_id}
    assert http_call("AddReaction", user_id=bob, path_parameters={**ids, "emoji": "ok"})[0] == 204
    assert (
        http_call("EditMessage", {"content": "edited"}, user_id=ann, path_parameters=ids)[0] == 200
    )
    assert (
        http_call(
            "MarkChatDelivered",
            {"message_id": old_id},
            user_id=bob,
            path_parameters={"chat_id": chat_id},
        )[0]
        == 204
    )
    (seen,) = history(ann, chat_id)
    assert (seen["content"], seen["status"], seen["reactions"][0]["count"]) == (
        "edited",
        "delivered",
        1,
    )


def test_a_page_stays_full_when_many_messages_are_hidden_for_the_reader(mongo: Any) -> None:
    from messenger.chats.service import new_message_id
    from messenger.kernel.clock import utcnow

    ann, bob, chat_id = chat_of_friends()
    ids = [str(new_message_id()) for _ in range(130)]
    mongo.messages.insert_many(
        [
            {
                "_id": i,
                "chat_id": chat_id,
                "author_id": ann,
                "content": f"m{n}",
                "created_at": utcnow(),
                "client_message_id": None,
                "dedupe_key": i,
                **({"hidden_for": [bob]} if 10 <= n < 120 else {}),  # the newest 110 but 10
            }
            for n, i in enumerate(ids)
        ]
    )
    status, page, _ = http_call("GetChatHistory", user_id=bob, path_parameters={"chat_id": chat_id})
    assert status == 200
    expected = list(reversed(ids[120:])) + list(reversed(ids[:10]))
    assert [m["message_id"] for m in page["items"]] == expected
    assert page["next_cursor"] is None
    assert len(history(ann, chat_id)) == 50


# -- concurrency: real MongoDB, threads -----------------------------------------------------------
@dataclass
class RecordingOutbox:
    published: list[Any] = field(default_factory=list)

    def publish_now(self, events: Sequence[Any]) -> bool:
        self.published.extend(events)
        return True


def _as(user: uuid.UUID) -> Any:
    """The use-cases' RequestContext for `user` (imported here, like the store: the session's
    environment is set by then)."""
    from messenger.kernel.context import RequestContext

    return RequestContext(user_id=user)


def _group_of(members: int) -> tuple[Any, str, list[uuid.UUID], str]:
    """A chat of `members` users and one message, written through the store (no friendships:
    reactions do not ask for them); the service over it, with a recording outbox."""
    from messenger.chats.adapters.store import CachedChats, MongoChats
    from messenger.chats.models import Chat, Message
    from messenger.chats.service import ChatsService, new_message_id
    from messenger.kernel.clock import utcnow
    from messenger.platform import redis
    from messenger.platform.unit_of_work import UnitOfWork
    from tests.unit.chat_fakes import FakeFriends
    from tests.unit.fakes import FakeRateLimiter

    store = CachedChats(MongoChats(), redis.client)
    setup = UnitOfWork(RecordingOutbox())  # nothing recorded: the setup publishes nothing
    users = [uuid.uuid4() for _ in range(members)]
    chat = Chat(
        chat_id=uuid.uuid4(),
        type="group",
        title=None,
        participants=users,
        created_by=users[0],
        created_at=utcnow(),
        last_message=None,
        unread_count=0,
    )
    store.create(chat, None, setup)
    message = Message(
        message_id=new_message_id(),
        chat_id=chat.chat_id,
        author_id=users[0],
        content="react to me",
        created_at=utcnow(),
        client_message_id=None,
    )
    store.send(message, store.membership(chat.chat_id), str(message.message_id), setup)  # type: ignore[arg-type]
    service = ChatsService(store, FakeFriends(), RecordingOutbox(), FakeRateLimiter())
    return service, str(chat.chat_id), users, str(message.message_id)


def test_twenty_users_reacting_at_once_lose_no_count(mongo: Any) -> None:
    service, chat_id, users, message_id = _group_of(20)

    def add(user: uuid.UUID) -> None:
        service.react(_as(user), uuid.UUID(chat_id), uuid.UUID(message_id), "👍", True)

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(add, users))
    doc = mongo.messages.find_one({"_id": message_id})
    assert doc["reactions"] == [{"emoji": "👍", "users": doc["reactions"][0]["users"]}]
    assert sorted(doc["reactions"][0]["users"]) == sorted(str(u) for u in users)
    chat = mongo.chats.find_one({"_id": chat_id})
    assert len(chat["last_message"]["reactions"][0]["users"]) == 20  # the copy too
    counts = sorted(e.envelope.data["count"] for e in service.outbox.published)
    assert counts == list(range(1, 21)), "each add saw the one before it"
    assert (
        mongo.outbox.count_documents({"key": chat_id, "payload.type": "message.reaction_added"})
        == 20
    )

    with ThreadPoolExecutor(20) as pool:  # and all at once back
        list(
            pool.map(
                lambda u: service.react(
                    _as(u), uuid.UUID(chat_id), uuid.UUID(message_id), "👍", False
                ),
                users,
            )
        )
    assert mongo.messages.find_one({"_id": message_id})["reactions"] == []


def test_the_twenty_distinct_emoji_cap_holds_under_concurrency(mongo: Any) -> None:
    from messenger.kernel.errors import Conflict

    service, chat_id, users, message_id = _group_of(25)
    emoji = [chr(0x1F600 + i) for i in range(25)]

    def add(pair: tuple[uuid.UUID, str]) -> str:
        try:
            service.react(_as(pair[0]), uuid.UUID(chat_id), uuid.UUID(message_id), pair[1], True)
        except Conflict as refused:
            return refused.code
        return "added"

    with ThreadPoolExecutor(25) as pool:
        outcomes = list(pool.map(add, zip(users, emoji, strict=True)))
    assert sorted(outcomes).count("added") == 20
    assert sorted(outcomes).count("too_many_reactions") == 5
    assert len(mongo.messages.find_one({"_id": message_id})["reactions"]) == 20
