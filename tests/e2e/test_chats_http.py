"""Chats and messages through real HTTP: every code of API.md, retries and concurrency."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.e2e.flows import bearer, befriend, create, history, problem, send, signed_up

pytestmark = pytest.mark.e2e


def chats_of(api: httpx.Client, user: dict[str, Any], **params: Any) -> dict[str, Any]:
    response = api.get("/v1/chats", params=params, headers=bearer(user["access_token"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def friends(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    return ann, bob


def test_direct_chat_is_created_once(api: httpx.Client, friends: tuple[dict, dict]) -> None:
    ann, bob = friends
    first = create(api, ann, [bob])
    assert first.status_code == 201, first.text
    chat = first.json()
    assert chat["type"] == "direct"
    assert set(chat["participants"]) == {ann["user_id"], bob["user_id"]}
    assert (chat["created_by"], chat["last_message"], chat["unread_count"]) == (
        ann["user_id"],
        None,
        0,
    )
    again = create(api, bob, [ann])
    assert (again.status_code, again.json()["chat_id"]) == (200, chat["chat_id"])


def test_two_clients_creating_the_same_direct_chat_get_one(
    api: httpx.Client, friends: tuple[dict, dict]
) -> None:
    ann, bob = friends
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda pair: create(api, pair[0], [pair[1]]), [(ann, bob), (bob, ann)])
        )
    assert sorted(r.status_code for r in results) == [200, 201]
    assert len({r.json()["chat_id"] for r in results}) == 1


def test_group_chat_and_its_rules(api: httpx.Client) -> None:
    ann, bob, cid, stranger = (signed_up(api) for _ in range(4))
    befriend(api, ann, bob)
    befriend(api, ann, cid)
    group = create(api, ann, [bob, cid], title="Weekend plans")
    assert group.status_code == 201
    assert (group.json()["type"], group.json()["title"]) == ("group", "Weekend plans")

    refused = create(api, ann, [bob, stranger])
    assert problem(refused) == (403, "not_friends")
    assert refused.json()["non_friends"] == [stranger["user_id"]]
    assert problem(create(api, ann, [str(uuid.uuid4())])) == (403, "not_friends")

    for bad in ([], [ann], [bob, bob], [str(uuid.uuid4()) for _ in range(101)], ["not-a-uuid"]):
        assert problem(create(api, ann, bad)) == (422, "validation_failed"), bad
    assert problem(create(api, ann, [bob, cid], title="t" * 101)) == (422, "validation_failed")


def test_send_list_and_retry_with_client_message_id(
    api: httpx.Client, friends: tuple[dict, dict]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    sent = send(api, ann, chat_id, "  hello bob  ", "c1")
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert (message["content"], message["client_message_id"]) == ("hello bob", "c1")
    assert message["created_at"].endswith("Z")
    retried = send(api, ann, chat_id, "hello bob", "c1")
    assert (retried.status_code, retried.json()) == (200, message)

    listed = chats_of(api, bob)["items"]
    assert listed[0]["chat_id"] == chat_id
    assert listed[0]["last_message"] == message
    assert listed[0]["unread_count"] == 1
    assert chats_of(api, ann)["items"][0]["unread_count"] == 0


def test_twenty_concurrent_sends_of_one_client_message_id_make_one_message(
    api: httpx.Client, friends: tuple[dict, dict]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: send(api, ann, chat_id, "once", "same-id"), range(20)))
    assert sorted(r.status_code for r in answers).count(201) == 1
    assert {r.status_code for r in answers} <= {200, 201}
    assert len({r.json()["message_id"] for r in answers}) == 1
    items = history(api, bob, chat_id).json()["items"]
    assert [m["content"] for m in items] == ["once"]
    assert chats_of(api, bob)["items"][0]["unread_count"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"content": ""},
        {"content": "   "},
        {"content": "x" * 4097},
        {"content": "ok", "client_message_id": "c" * 65},
        {},
        {"content": "ok", "extra": 1},
    ],
)
def test_message_rules_are_422(
    api: httpx.Client, friends: tuple[dict, dict], body: dict[str, Any]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    response = api.post(
        f"/v1/chats/{chat_id}/messages", json=body, headers=bearer(ann["access_token"])
    )
    assert problem(response) == (422, "validation_failed")
    assert history(api, ann, chat_id).json()["items"] == []


def test_the_longest_message_fits(api: httpx.Client, friends: tuple[dict, dict]) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    assert send(api, ann, chat_id, "y" * 4096).status_code == 201


def test_non_participants_read_and_write_nothing(
    api: httpx.Client, friends: tuple[dict, dict]
) -> None:
    ann, bob = friends
    eve = signed_up(api)
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    message_id = send(api, ann, chat_id, "private").json()["message_id"]
    assert problem(send(api, eve, chat_id, "let me in")) == (403, "not_participant")
    assert problem(history(api, eve, chat_id)) == (403, "not_participant")
    read = api.post(
        f"/v1/chats/{chat_id}/read",
        json={"message_id": message_id},
        headers=bearer(eve["access_token"]),
    )
    assert problem(read) == (403, "not_participant")
    assert chats_of(api, eve)["items"] == []
    unknown = str(uuid.uuid4())
    assert problem(send(api, ann, unknown, "x")) == (404, "chat_not_found")
    assert problem(history(api, ann, unknown)) == (404, "chat_not_found")
    assert problem(history(api, ann, "not-a-uuid")) == (422, "validation_failed")


def test_unfriending_blocks_the_direct_chat(api: httpx.Client, friends: tuple[dict, dict]) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    assert send(api, ann, chat_id, "bye?").status_code == 201
    removed = api.delete(f"/v1/friends/{bob['nickname']}", headers=bearer(ann["access_token"]))
    assert removed.status_code == 204
    assert problem(send(api, bob, chat_id, "wait")) == (403, "not_friends")
    assert history(api, bob, chat_id).status_code == 200  # history stays readable


def test_unread_counts_follow_reads_and_new_messages(
    api: httpx.Client, friends: tuple[dict, dict]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    ids = [send(api, ann, chat_id, f"m{i}").json()["message_id"] for i in range(5)]
    assert chats_of(api, bob)["items"][0]["unread_count"] == 5

    def read(message_id: str) -> httpx.Response:
        return api.post(
            f"/v1/chats/{chat_id}/read",
            json={"message_id": message_id},
            headers=bearer(bob["access_token"]),
        )

    assert read(ids[2]).status_code == 204
    assert chats_of(api, bob)["items"][0]["unread_count"] == 2
    send(api, bob, chat_id, "my own message does not count")
    send(api, ann, chat_id, "m5")
    assert chats_of(api, bob)["items"][0]["unread_count"] == 3
    assert read(ids[0]).status_code == 204  # an older marker never moves back
    assert chats_of(api, bob)["items"][0]["unread_count"] == 3
    latest = history(api, bob, chat_id, limit=1).json()["items"][0]["message_id"]
    assert read(latest).status_code == 204
    assert chats_of(api, bob)["items"][0]["unread_count"] == 0
    assert problem(read(str(uuid.uuid4()))) == (404, "message_not_found")


def test_chats_are_listed_by_recent_activity_and_paged(api: httpx.Client) -> None:
    me = signed_up(api)
    others = [signed_up(api) for _ in range(3)]
    chat_ids = []
    for other in others:
        befriend(api, me, other)
        chat_ids.append(create(api, me, [other]).json()["chat_id"])
    send(api, me, chat_ids[0], "bump the oldest")
    expected = [chat_ids[0], chat_ids[2], chat_ids[1]]
    seen, cursor = [], None
    while True:
        page = chats_of(api, me, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [c["chat_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    bad = api.get("/v1/chats", params={"cursor": "garbage!"}, headers=bearer(me["access_token"]))
    assert problem(bad) == (422, "validation_failed")


def test_paging_a_long_history_while_others_write(
    api: httpx.Client, friends: tuple[dict, dict], backing_env: dict[str, str]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    _seed_messages(backing_env, chat_id, ann["user_id"], 1000)
    stop = threading.Event()

    def keep_writing() -> None:
        while not stop.is_set():
            send(api, bob, chat_id, "new while paging")

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        seen: list[str] = []
        cursor = None
        while True:
            page = history(api, ann, chat_id, limit=100, **({"cursor": cursor} if cursor else {}))
            assert page.status_code == 200, page.text
            seen += [
                m["message_id"] for m in page.json()["items"] if m["author_id"] == ann["user_id"]
            ]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen)) == 1000
    assert seen == sorted(seen, reverse=True)


def _seed_messages(env: dict[str, str], chat_id: str, author: str, count: int) -> None:
    """A long history, written directly (1,000 HTTP sends would only slow the test down)."""
    import pymongo

    from messenger.chats.service import new_message_id
    from messenger.kernel.clock import utcnow

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        docs = []
        for i in range(count):
            message_id = str(new_message_id())
            docs.append(
                {
                    "_id": message_id,
                    "chat_id": chat_id,
                    "author_id": author,
                    "content": f"old {i}",
                    "created_at": utcnow(),
                    "client_message_id": None,
                    "dedupe_key": message_id,
                }
            )
        client[env["MONGODB_DATABASE"]].messages.insert_many(docs)
    finally:
        client.close()


def test_concurrent_sends_keep_exact_counters_and_the_newest_last_message(
    api: httpx.Client, backing_env: dict[str, str]
) -> None:
    ann, bob, cid = signed_up(api), signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    befriend(api, ann, cid)
    chat_id = create(api, ann, [bob, cid]).json()["chat_id"]
    senders = [ann, bob] * 12

    with ThreadPoolExecutor(8) as pool:
        sent = list(pool.map(lambda p: send(api, p[1], chat_id, f"c{p[0]}"), enumerate(senders)))
    assert [r.status_code for r in sent] == [201] * len(senders)
    newest = max(r.json()["message_id"] for r in sent)
    unread = {
        name: next(c for c in chats_of(api, user)["items"] if c["chat_id"] == chat_id)
        for name, user in (("ann", ann), ("bob", bob), ("cid", cid))
    }
    assert {name: chat["unread_count"] for name, chat in unread.items()} == {
        "ann": 12,  # bob's
        "bob": 12,  # ann's
        "cid": 24,  # everyone's
    }
    assert {chat["last_message"]["message_id"] for chat in unread.values()} == {newest}
    doc = _chat_doc(backing_env, chat_id)
    assert doc["last_message_id"] == newest == doc["last_message"]["_id"]


def test_a_chat_document_from_before_last_message_id_keeps_working(
    api: httpx.Client, friends: tuple[dict, dict], backing_env: dict[str, str]
) -> None:
    ann, bob = friends
    chat_id = create(api, ann, [bob]).json()["chat_id"]
    first = send(api, ann, chat_id, "before").json()["message_id"]
    with _chats(backing_env) as chats:
        chats.update_one({"_id": chat_id}, {"$unset": {"last_message_id": ""}})
    assert chats_of(api, bob)["items"][0]["last_message"]["message_id"] == first

    second = send(api, ann, chat_id, "after").json()["message_id"]
    listed = chats_of(api, bob)["items"][0]
    assert (listed["last_message"]["message_id"], listed["unread_count"]) == (second, 2)
    assert _chat_doc(backing_env, chat_id)["last_message_id"] == second  # upgraded in place
    third = send(api, bob, chat_id, "and on").json()["message_id"]
    listed = chats_of(api, ann)["items"][0]
    assert (listed["last_message"]["message_id"], listed["unread_count"]) == (third, 1)


@contextmanager
def _chats(env: dict[str, str]) -> Iterator[Any]:
    import pymongo

    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        yield client[env["MONGODB_DATABASE"]].chats
    finally:
        client.close()


def _chat_doc(env: dict[str, str], chat_id: str) -> dict[str, Any]:
    with _chats(env) as chats:
        found = chats.find_one({"_id": chat_id})
    assert found is not None
    return dict(found)
