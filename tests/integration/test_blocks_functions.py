"""Blocks (issue 14): BlockUser, UnblockUser and GetBlocks invoked with their events/ samples
against Postgres, Redis and MongoDB; what a block does to friend requests, the direct chat and a
shared group; and a block racing a friend request (threads, real Postgres)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.helpers import friends, http_call, new_profile
from tests.support import invoke, sample_event

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def nickname(user: str) -> str:
    return str(http_call("GetProfile", path_parameters={"user_id": user})[1]["nickname"])


def block(blocker: str, blocked: str) -> int:
    return http_call("BlockUser", user_id=blocker, path_parameters={"user_id": blocked})[0]


def unblock(blocker: str, blocked: str) -> int:
    return http_call("UnblockUser", user_id=blocker, path_parameters={"user_id": blocked})[0]


def blocks(user: str, **query: str) -> dict[str, Any]:
    event = sample_event("GetBlocks")
    event["requestContext"]["authorizer"]["lambda"] = {"user_id": user}
    event["queryStringParameters"] = query or None
    event["rawQueryString"] = "&".join(f"{k}={v}" for k, v in query.items())
    result = invoke("GetBlocks", event)
    assert result["statusCode"] == 200, result
    page: dict[str, Any] = json.loads(result["body"])
    return page


def befriend_request(sender: str, receiver: str) -> tuple[int, Any]:
    status, body, _ = http_call(
        "SendFriendRequest", {"nickname": nickname(receiver)}, user_id=sender
    )
    return status, body


def friend_ids(user: str) -> list[str]:
    status, overview, _ = http_call("GetFriends", user_id=user)
    assert status == 200
    return [f["user_id"] for f in overview["friends"]]


def test_the_samples_answer_204_and_an_empty_page() -> None:
    # The samples' user ids: PUT/DELETE of an unknown user, GET of someone with no blocks.
    assert http_call("BlockUser")[0] == 404  # no profile has the sample's id
    assert http_call("UnblockUser")[0] == 204  # nothing to unblock: still 204 (idempotent)
    assert blocks(str(uuid.uuid4())) == {"items": [], "next_cursor": None}


def test_blocking_ends_the_friendship_both_ways_and_lists_the_blocked_user(db: Any) -> None:
    ann, bob = friends()
    assert friend_ids(ann) == [bob]  # cached now: the block must drop it
    assert block(ann, bob) == 204
    assert friend_ids(ann) == []
    assert friend_ids(bob) == []
    page = blocks(ann)
    assert [(i["user_id"], i["nickname"]) for i in page["items"]] == [(bob, nickname(bob))]
    assert page["next_cursor"] is None
    assert blocks(bob)["items"] == []  # one way
    types = [
        r[0]
        for r in db.execute(
            "SELECT payload->>'type' FROM messaging.outbox WHERE key IN (%s, %s) ORDER BY seq",
            (ann, ":".join(sorted([ann, bob]))),
        ).fetchall()
    ]
    assert types[-2:] == ["user.blocked", "friendship.removed"]


def test_blocking_again_is_idempotent_and_publishes_nothing(db: Any) -> None:
    ann, bob = new_profile(), new_profile()
    assert block(ann, bob) == 204
    assert block(ann, bob) == 204
    (count,) = db.execute(
        "SELECT count(*) FROM messaging.outbox"
        " WHERE key = %s AND payload->>'type' = 'user.blocked'",
        (ann,),
    ).fetchone()
    assert count == 1
    assert len(blocks(ann)["items"]) == 1


def test_a_pending_request_is_ended_by_the_block_either_way() -> None:
    ann, bob, cat = new_profile(), new_profile(), new_profile()
    assert befriend_request(bob, ann)[0] == 201  # bob asks ann; ann blocks bob
    assert befriend_request(ann, cat)[0] == 201  # ann asks cat; ann blocks cat
    assert block(ann, bob) == 204
    assert block(ann, cat) == 204
    overview = http_call("GetFriends", user_id=ann)[1]
    assert (overview["incoming"], overview["outgoing"]) == ([], [])
    assert http_call("GetFriends", user_id=cat)[1]["incoming"] == []


def test_the_blocked_user_cannot_ask_the_blocker_who_cannot_ask_them_either() -> None:
    ann, bob = friends()
    assert block(ann, bob) == 204
    status, body = befriend_request(bob, ann)
    assert (status, body["code"]) == (404, "user_not_found")  # as if ann did not exist
    status, body = befriend_request(ann, bob)
    assert (status, body["code"]) == (403, "blocked")
    assert unblock(ann, bob) == 204
    assert friend_ids(ann) == []  # the friendship does not come back
    assert befriend_request(bob, ann)[0] == 201


def test_blocking_oneself_and_bad_ids_are_refused() -> None:
    ann = new_profile()
    status, body, _ = http_call("BlockUser", user_id=ann, path_parameters={"user_id": ann})
    assert (status, body["code"]) == (422, "cannot_block_self")
    status, body, _ = http_call("BlockUser", user_id=ann, path_parameters={"user_id": "nope"})
    assert (status, body["code"]) == (422, "validation_failed")
    status, body, _ = http_call(
        "BlockUser", user_id=ann, path_parameters={"user_id": str(uuid.uuid4())}
    )
    assert (status, body["code"]) == (404, "user_not_found")


def test_blocks_page_newest_first_without_gaps() -> None:
    ann = new_profile()
    others = [new_profile() for _ in range(5)]
    for other in others:
        assert block(ann, other) == 204
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = blocks(ann, limit="2", **({"cursor": cursor} if cursor else {}))
        seen += [i["user_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(others))


def test_a_bad_cursor_is_a_422() -> None:
    event = sample_event("GetBlocks")
    event["queryStringParameters"] = {"cursor": "!!"}
    event["rawQueryString"] = "cursor=!!"
    assert invoke("GetBlocks", event)["statusCode"] == 422


def test_the_direct_chat_refuses_both_sides_with_blocked() -> None:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    assert block(bob, ann) == 204
    for sender in (ann, bob):
        status, body, _ = http_call(
            "SendMessage",
            {"content": "hi"},
            user_id=sender,
            path_parameters={"chat_id": chat["chat_id"]},
        )
        assert (status, body["code"]) == (403, "blocked")


def test_in_a_shared_group_the_blocker_neither_reads_nor_counts_the_blocked_author() -> None:
    ann, bob = friends()
    cat = new_profile()
    assert befriend_request(ann, cat)[0] == 201
    assert (
        http_call("AcceptFriendRequest", user_id=cat, path_parameters={"nickname": nickname(ann)})[
            0
        ]
        == 200
    )
    status, group, _ = http_call(
        "CreateChat", {"participants": [bob, cat], "title": "trio"}, user_id=ann
    )
    assert status == 201
    chat_id = group["chat_id"]
    assert block(cat, bob) == 204

    def send(user: str, text: str) -> None:
        status, body, _ = http_call(
            "SendMessage", {"content": text}, user_id=user, path_parameters={"chat_id": chat_id}
        )
        assert status == 201, body

    for i in range(3):
        send(bob, f"bob {i}")
    send(ann, "ann")

    def seen(user: str, **query: str) -> list[str]:
        status, page, _ = http_call(
            "GetChatHistory", user_id=user, path_parameters={"chat_id": chat_id}
        )
        assert status == 200
        return [m["content"] for m in page["items"]]

    assert seen(cat) == ["ann"]
    assert seen(ann) == ["ann", "bob 2", "bob 1", "bob 0"]

    def unread(user: str) -> int:
        status, page, _ = http_call("ListChats", user_id=user)
        assert status == 200
        return int(next(c for c in page["items"] if c["chat_id"] == chat_id)["unread_count"])

    assert unread(cat) == 1
    assert unread(ann) == 3
    # Reading what cat sees recounts without bob's later message.
    send(bob, "bob 3")
    status, page, _ = http_call("GetChatHistory", user_id=cat, path_parameters={"chat_id": chat_id})
    newest_seen = page["items"][0]["message_id"]
    status, _, _ = http_call(
        "MarkChatRead",
        {"message_id": newest_seen},
        user_id=cat,
        path_parameters={"chat_id": chat_id},
    )
    assert status == 204
    assert unread(cat) == 0


def test_the_store_pages_past_a_blocked_authors_run_without_gaps() -> None:
    """The blocked author's messages are filtered inside the range query: a page is full even
    when they wrote most of the chat, and the next page starts right after it."""
    from messenger.chats.adapters.store import MongoChats
    from messenger.chats.service import new_message_id
    from messenger.kernel.clock import utcnow
    from messenger.platform import mongo

    chat_id, blocked, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = [str(new_message_id()) for _ in range(30)]
    mongo.database().messages.insert_many(
        [
            {
                "_id": message_id,
                "chat_id": str(chat_id),
                "author_id": str(other if i % 5 == 0 else blocked),
                "content": str(i),
                "created_at": utcnow(),
                "client_message_id": None,
                "dedupe_key": message_id,
            }
            for i, message_id in enumerate(ids)
        ]
    )
    store = MongoChats()
    first = store.history(chat_id, 3, None, other, hidden_authors={blocked})
    assert [m.content for m in first] == ["25", "20", "15"]
    rest = store.history(chat_id, 3, str(first[-1].message_id), other, hidden_authors={blocked})
    assert [m.content for m in rest] == ["10", "5", "0"]
    assert len(store.history(chat_id, 30, None, other)) == 30  # no filter: everyone's


@pytest.fixture
def connection_per_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each thread its own Postgres connection, as each Lambda environment has (the in-process
    functions otherwise share the module's one connection)."""
    import threading

    from messenger.platform import postgres

    local = threading.local()
    opened: list[Any] = []

    def connection() -> Any:
        if getattr(local, "conn", None) is None:
            local.conn = postgres._connect()
            opened.append(local.conn)
        return local.conn

    monkeypatch.setattr(postgres, "connection", connection)
    yield
    for conn in opened:
        conn.close()


@pytest.mark.usefixtures("connection_per_thread")
def test_a_block_racing_friend_requests_leaves_no_request_behind() -> None:
    """The block and the requests take the pair's lock: whatever the order, once the block
    committed no pending request or friendship of the pair remains."""
    # One function per thread: an in-process function is one Lambda environment (one event at
    # a time), so the request and the block are two environments racing on the pair.
    for _ in range(8):
        ann, bob = new_profile(), new_profile()
        ann_nick = nickname(ann)
        with ThreadPoolExecutor(max_workers=2) as pool:
            asked = pool.submit(http_call, "SendFriendRequest", {"nickname": ann_nick}, user_id=bob)
            blocked = pool.submit(block, ann, bob)
            assert blocked.result() == 204
            # Before the block: requested (then ended by it); after it: "ann does not exist".
            assert asked.result()[0] in (201, 404)
        for user in (ann, bob):
            overview = http_call("GetFriends", user_id=user)[1]
            assert (overview["friends"], overview["incoming"], overview["outgoing"]) == ([], [], [])
