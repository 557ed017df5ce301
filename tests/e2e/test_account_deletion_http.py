"""Account deletion end to end: through the local gateway and the broker, every context's
`user.deleted` consumer runs, then each store (Postgres, MongoDB, Redis, DynamoDB, S3) is
scanned for the user's email, nickname and message contents."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import boto3
import httpx
import pymongo
import pytest
import redis
from websockets.exceptions import ConnectionClosed

from messenger_local.gateway import LocalGateway
from messenger_local.s3 import client as s3_client
from tests.e2e.flows import PASSWORD, bearer, befriend, device, next_frame, of_type, signed_up
from tests.support import poll, template, unique

pytestmark = pytest.mark.e2e

JPEG = b"\xff\xd8\xff\xe0" + os.urandom(3000) + b"\xff\xd9"


def upload(
    api: httpx.Client, user: dict[str, Any], data: bytes, purpose: str = "attachment"
) -> str:
    """POST /v1/uploads, then the file to S3 as a browser's form would (as test_media_http.py)."""
    answer = api.post(
        "/v1/uploads",
        json={"purpose": purpose, "content_type": "image/jpeg", "size": len(data)},
        headers=bearer(user["access_token"]),
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    stored = httpx.post(
        created["upload"]["url"],
        data=created["upload"]["fields"],
        files={"file": ("photo.jpg", data, "image/jpeg")},
        timeout=15,
    )
    assert stored.status_code in (200, 201, 204), stored.text
    return str(created["upload_id"])


def warm_up_avatars(api: httpx.Client, user: dict[str, Any]) -> None:
    """The first avatar call of an execution environment may miss its deadline on a loaded
    machine (503, nothing written): an unknown upload loads it all and changes nothing."""

    def loaded() -> bool:
        answer = api.patch(
            "/v1/users/me",
            json={"avatar_upload_id": str(uuid.uuid4())},
            headers=bearer(user["access_token"]),
        )
        assert answer.status_code in (404, 503), answer.text
        return answer.status_code == 404

    poll(loaded, timeout=60, interval=0.5)


def postgres_rows_with(env: dict[str, str], needles: list[str]) -> list[str]:
    """Every row of every table (as text) that contains one of the needles."""
    import psycopg

    found = []
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{schema}"."{table}" t'):
                if any(n in row.lower() for n in needles):
                    found.append(f"{schema}.{table}: {row[:200]}")
    return found


def mongo_docs_with(env: dict[str, str], needles: list[str]) -> list[str]:
    client: Any = pymongo.MongoClient(env["MONGODB_URI"])
    try:
        db = client[env["MONGODB_DATABASE"]]
        found = []
        for name in db.list_collection_names():
            for doc in db[name].find():
                text = json.dumps(doc, default=str).lower()
                if any(n in text for n in needles):
                    found.append(f"{name}: {text[:200]}")
        return found
    finally:
        client.close()


def redis_entries_with(env: dict[str, str], needles: list[str]) -> list[str]:
    cache = redis.Redis.from_url(env["REDIS_URL"])
    found = []
    for key in cache.scan_iter(count=1000):
        value = cache.get(key) if cache.type(key) == b"string" else b""
        text = (key + b" " + (value or b"")).decode(errors="replace").lower()
        if any(n in text for n in needles):
            found.append(text[:200])
    return found


def dynamodb_items_with(env: dict[str, str], needles: list[str], owner: str) -> list[str]:
    """Every item of every table of the template holding a needle, but the frames of other
    users' sync streams (they quote what was sent to them: the author's id, and the content
    until the tombstone's own frame), the user's own `erased` marker and per-event markers
    (ids and a position): all expire with the stream's retention (decision 50)."""
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=env["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    found = []
    streams = template().functions["PushRealtimeEvents"].env["USER_STREAMS_TABLE"]
    for table in (t.name for t in template().tables):
        for page in dynamodb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                if table == streams and not item["stream"]["S"].startswith(owner):
                    continue
                if table == streams and (item.get("erased") or "#" in item["stream"]["S"]):
                    continue  # `erased` and per-event markers: ids and a position, expiring
                text = json.dumps(item).lower()
                if any(n in text for n in needles):
                    found.append(f"{table}: {text[:200]}")
    return found


def s3_keys_with(env: dict[str, str], needles: list[str]) -> list[str]:
    s3 = s3_client(env["S3_ENDPOINT"])
    bucket = template().functions["CreateUpload"].env["MEDIA_BUCKET"]
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found += [o["Key"] for o in page.get("Contents", []) if any(n in o["Key"] for n in needles)]
    return found


def test_a_deleted_account_leaves_nothing_personal_in_any_store(
    api: httpx.Client, gateway: LocalGateway, backing_env: dict[str, str]
) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    ann_headers, bob_headers = bearer(ann["access_token"]), bearer(bob["access_token"])
    chat_id = api.post("/v1/chats", json={"participants": [bob["user_id"]]}, headers=ann_headers)
    assert chat_id.status_code == 201, chat_id.text
    chat_id = chat_id.json()["chat_id"]
    secret = "my secret " + unique("s")
    sent = api.post(
        f"/v1/chats/{chat_id}/messages",
        json={"content": secret, "attachment_ids": [upload(api, ann, JPEG)]},
        headers=ann_headers,
    )
    assert sent.status_code == 201, sent.text
    message = sent.json()
    reply = api.post(
        f"/v1/chats/{chat_id}/messages", json={"content": "bob's reply"}, headers=bob_headers
    )
    assert reply.status_code == 201
    warm_up_avatars(api, ann)
    avatar = upload(api, ann, JPEG, purpose="avatar")
    patched = api.patch("/v1/users/me", json={"avatar_upload_id": avatar}, headers=ann_headers)
    assert patched.status_code == 200, patched.text
    attachment_url = message["attachments"][0]["url"]
    assert httpx.get(attachment_url, timeout=15).status_code == 200
    phone = api.post(
        "/v1/devices", json={"platform": "fcm", "token": unique("phone")}, headers=ann_headers
    )
    assert phone.status_code == 201, phone.text  # goes with the session at once

    with device(gateway, ann) as ws:
        wrong = api.request(
            "DELETE", "/v1/users/me", json={"password": "wrong horse"}, headers=ann_headers
        )
        assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
        deleted = api.request(
            "DELETE", "/v1/users/me", json={"password": PASSWORD}, headers=ann_headers
        )
        assert deleted.status_code == 202, deleted.text
        # The session's connection is told why, then closed, at once. (Frames of what was sent
        # before the connection opened may still come first: the push consumer may lag.)
        next_frame(ws, of_type("session.revoked"))
        with pytest.raises(ConnectionClosed):
            next_frame(ws, lambda frame: False)

    # At once: the token is refused, the user is unknown, the email and nickname are free.
    assert api.get("/v1/users/me", headers=ann_headers).status_code == 401
    gone = api.get(f"/v1/users/{ann['user_id']}", headers=bob_headers)
    assert (gone.status_code, gone.json()["code"]) == (404, "user_not_found")
    again = api.post(
        "/v1/auth/register",
        json={"email": ann["email"], "password": PASSWORD, "nickname": ann["nickname"].upper()},
    )
    assert again.status_code == 201, again.text
    newcomer = again.json()["user_id"]
    assert newcomer != ann["user_id"]

    # Then, the consumers: bob's view settles (bounded polling, never a fixed sleep).
    def friends_settled() -> bool:
        listed = api.get("/v1/friends", headers=bob_headers).json()
        return listed["friends"] == []

    poll(friends_settled, timeout=60, interval=0.5)

    def tombstoned() -> dict[str, Any] | None:
        page = api.get(f"/v1/chats/{chat_id}/messages", headers=bob_headers).json()
        mine = next(m for m in page["items"] if m["message_id"] == message["message_id"])
        return mine if mine["deleted"] else None

    tombstone = poll(tombstoned, timeout=60, interval=0.5)
    assert (tombstone["content"], tombstone["attachments"], tombstone["author_id"]) == (
        None,
        [],
        ann["user_id"],
    )
    chat = api.get(f"/v1/chats/{chat_id}", headers=bob_headers).json()
    assert [m["user_id"] for m in chat["members"]] == [bob["user_id"]]
    poll(lambda: httpx.get(attachment_url, timeout=15).status_code == 404, timeout=60, interval=0.5)
    poll(lambda: not s3_keys_with(backing_env, [ann["user_id"]]), timeout=60, interval=0.5)

    def left_in_dynamodb() -> list[str]:
        return dynamodb_items_with(backing_env, [ann["user_id"], secret.lower()], ann["user_id"])

    try:
        poll(lambda: not left_in_dynamodb(), timeout=60, interval=0.5)
    except AssertionError:
        assert left_in_dynamodb() == []  # says what is left

    # Every store, scanned: nothing of the user's email, nickname or message contents. (The
    # new registrations above used the same email and nickname: look for what only Ann had.)
    needles = [secret.lower()]
    old_email_rows = [
        r for r in postgres_rows_with(backing_env, [ann["email"].lower()]) if ann["user_id"] in r
    ]
    assert old_email_rows == []
    assert postgres_rows_with(backing_env, needles) == []
    assert mongo_docs_with(backing_env, needles) == []
    assert mongo_docs_with(backing_env, [f'"{ann["nickname"].lower()}"']) == []
    cached = redis_entries_with(backing_env, [*needles, ann["user_id"]])
    # Rate-limit counters are keyed by user id, hold a timestamp and expire with their window;
    # a chat's cached membership names its creator as the chat document does (`created_by`,
    # an id kept like a tombstone's `author_id`), never their content.
    assert [e for e in cached if not e.startswith("ratelimit:")] == [
        e for e in cached if e.startswith("chat-members:") and secret.lower() not in e
    ]
    # The id alone may stay only in the event plumbing (published friendship events and
    # user.deleted, ids and timestamps, purged with the outbox's retention; inbox markers):
    # no context's own table holds it.
    with_id = postgres_rows_with(backing_env, [ann["user_id"]])
    assert [r for r in with_id if not r.startswith("messaging.")] == []


def test_a_data_export_is_built_through_the_broker_and_downloaded(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    headers = bearer(ann["access_token"])
    chat_id = api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=headers
    ).json()["chat_id"]
    sent = api.post(
        f"/v1/chats/{chat_id}/messages", json={"content": "for the archive"}, headers=headers
    )
    assert sent.status_code == 201, sent.text

    requested = api.post("/v1/users/me/exports", headers=headers)
    assert requested.status_code == 202, requested.text
    export_id = requested.json()["export_id"]
    assert requested.json()["status"] == "pending"
    other = api.get(f"/v1/users/me/exports/{export_id}", headers=bearer(bob["access_token"]))
    assert (other.status_code, other.json()["code"]) == (404, "export_not_found")

    def ready() -> dict[str, Any] | None:
        answer = api.get(f"/v1/users/me/exports/{export_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body if body["status"] == "ready" else None

    done = poll(ready, timeout=60, interval=0.5)
    archive = httpx.get(done["url"], timeout=15).json()
    assert archive["account"]["email"] == ann["email"]
    assert archive["profile"]["nickname"] == ann["nickname"]
    assert [f["nickname"] for f in archive["friends"]] == [bob["nickname"]]
    (chat,) = archive["chats"]
    assert [m["content"] for m in chat["messages"]] == ["for the archive"]
