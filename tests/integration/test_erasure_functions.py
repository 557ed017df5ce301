"""Account deletion (DELETE /v1/users/me) and the `user.deleted` consumers of every context,
and data exports (request, status, the archive's builder), invoked with their events/ samples
against Postgres, Redis, MongoDB, DynamoDB and S3 (moto)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import redis as redis_lib

from messenger.kernel.clock import rfc3339, utcnow
from messenger_local.services import free_port
from tests.integration.helpers import authorize, friends, http_call, new_profile
from tests.support import invoke, sample_event, template, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("realtime_env", "media_env")]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


@pytest.fixture(scope="module")
def media_env(in_process_env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The media functions' settings beyond the services (the template's bucket, a CDN URL,
    moto's dummy credentials), the media context's cached clients rebuilt (as in
    test_media_functions.py)."""
    from messenger import bootstrap
    from messenger.media import api
    from messenger.platform.settings import get_settings

    extra = {
        "MEDIA_BUCKET": template().functions["CreateUpload"].env["MEDIA_BUCKET"],
        "AVATARS_BASE_URL": "https://avatars.example.test",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    os.environ.update(extra)
    get_settings.cache_clear()
    bootstrap._media_for_others.cache_clear()
    api._signer.cache_clear()
    try:
        yield {**in_process_env, **extra}
    finally:
        for name in extra:
            os.environ.pop(name, None)
        get_settings.cache_clear()
        bootstrap._media_for_others.cache_clear()
        api._signer.cache_clear()


def keys_under(env: dict[str, str], prefix: str) -> list[str]:
    from messenger_local.s3 import client

    page = client(env["S3_ENDPOINT"]).list_objects_v2(Bucket=env["MEDIA_BUCKET"], Prefix=prefix)
    return [o["Key"] for o in page.get("Contents", [])]


def uploaded(user: str, purpose: str = "attachment", filename: str = "pic.png") -> str:
    """An upload whose object is in place (POSTed as a client does)."""
    body = {"purpose": purpose, "content_type": "image/png", "size": len(PNG), "filename": filename}
    status, created, _ = http_call("CreateUpload", body, user_id=user)
    assert status == 201, created
    answer = httpx.post(
        created["upload"]["url"],
        data=created["upload"]["fields"],
        files={"file": ("x", PNG, "image/png")},
    )
    assert answer.status_code in (200, 201, 204)
    return str(created["upload_id"])


PASSWORD = "correct horse"
CONSUMERS = (
    "EraseProfileOnUserDeleted",
    "UpdateFriendsOnUserEvents",
    "EraseMessagesOnUserDeleted",
    "EraseMediaOnUserDeleted",
    "CloseConnectionsOnUserDeleted",
)


def registered(nickname: str | None = None) -> dict[str, Any]:
    """Register, create the profile from the outbox's `user.registered` (as its consumer would)
    and log in: the account's email, nickname, user id and token."""
    nickname = nickname or unique("del")
    body = {"email": f"{nickname}@example.com", "password": PASSWORD, "nickname": nickname}
    status, account, _ = http_call("Register", body)
    assert status == 201, account
    from messenger.platform import postgres

    payload = (
        postgres.connection()
        .execute(
            "SELECT payload FROM messaging.outbox WHERE key = %s AND payload->>'type' = %s",
            (account["user_id"], "user.registered"),
        )
        .fetchone()
    )
    assert payload is not None
    assert invoke("CreateProfileOnUserRegistered", msk(payload[0])) == {"batchItemFailures": []}
    status, session, _ = http_call("Login", {"email": body["email"], "password": PASSWORD})
    assert status == 200
    return {**body, "user_id": account["user_id"], "token": session["access_token"]}


def msk(*envelopes: dict[str, Any], logical_id: str = "CreateProfileOnUserRegistered") -> Any:
    event = sample_event(logical_id)
    record = next(iter(event["records"].values()))[0]
    records = []
    for offset, envelope in enumerate(envelopes):
        one = dict(record)
        one.update(offset=offset, value=base64.b64encode(json.dumps(envelope).encode()).decode())
        records.append(one)
    event["records"] = {f"{record['topic']}-{record['partition']}": records}
    return event


def deleted_envelope(user_id: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "type": "user.deleted",
        "version": 1,
        "occurred_at": rfc3339(utcnow()),
        "data": {"user_id": user_id, "deleted_at": rfc3339(utcnow())},
    }


def consume(logical_id: str, user_id: str) -> None:
    event = msk(deleted_envelope(user_id), logical_id=logical_id)
    assert invoke(logical_id, event) == {"batchItemFailures": []}


def delete(account: dict[str, Any], body: Any) -> tuple[int, Any, dict[str, str]]:
    return http_call("DeleteMyAccount", body, token=account["token"], user_id=account["user_id"])


@pytest.fixture
def mongo_db(in_process_env: dict[str, str]) -> Iterator[Any]:
    import pymongo

    client: Any = pymongo.MongoClient(in_process_env["MONGODB_URI"], tz_aware=True)
    try:
        yield client[in_process_env["MONGODB_DATABASE"]]
    finally:
        client.close()


def redis_keys(env: dict[str, str], needle: str) -> list[bytes]:
    client = redis_lib.Redis.from_url(env["REDIS_URL"])
    return [k for k in client.scan_iter(count=1000) if needle.encode() in k.lower()]


# -- the request path ----------------------------------------------------------------------------


def test_delete_revokes_frees_and_records_the_event(db: Any, in_process_env: Any) -> None:
    ann = registered()
    assert http_call("GetProfile", path_parameters={"user_id": ann["user_id"]})[0] == 200
    status, body, _ = delete(ann, {"password": PASSWORD})
    assert (status, body) == (202, {"user_id": ann["user_id"], "status": "deleting"})

    assert authorize(ann["token"]) is None  # every session: at once
    status, problem, _ = http_call("GetProfile", path_parameters={"user_id": ann["user_id"]})
    assert (status, problem["code"]) == (404, "user_not_found")
    assert not db.execute(
        "SELECT 1 FROM auth.accounts WHERE user_id = %s", (ann["user_id"],)
    ).fetchall()
    assert not db.execute(
        "SELECT 1 FROM auth.sessions WHERE user_id = %s", (ann["user_id"],)
    ).fetchall()
    # The user's published events carried the email and nickname: only user.deleted is left.
    kept = db.execute(
        "SELECT payload->>'type' FROM messaging.outbox WHERE key = %s", (ann["user_id"],)
    ).fetchall()
    assert [row[0] for row in kept] == ["user.deleted"]
    assert not redis_keys(in_process_env, ann["nickname"].lower())
    login = http_call("Login", {"email": ann["email"], "password": PASSWORD})
    assert (login[0], login[1]["code"]) == (401, "invalid_credentials")

    # The email and the nickname are free for a new registration (any case).
    again = {"email": ann["email"], "password": PASSWORD, "nickname": ann["nickname"].upper()}
    assert http_call("Register", again)[0] == 201


def test_a_wrong_password_is_401_and_changes_nothing(db: Any) -> None:
    ann = registered()
    for body in ({"password": "wrong horse"}, {"confirm": "DELETE"}):
        status, problem, _ = delete(ann, body)
        assert (status, problem["code"]) == (401, "invalid_credentials")
    assert authorize(ann["token"]) == ann["user_id"]
    assert http_call("GetProfile", path_parameters={"user_id": ann["user_id"]})[0] == 200
    assert not db.execute(
        "SELECT 1 FROM messaging.outbox WHERE key = %s AND payload->>'type' = 'user.deleted'",
        (ann["user_id"],),
    ).fetchall()


def test_wrong_passwords_count_toward_the_login_throttle() -> None:
    ann = registered()
    for _ in range(5):
        assert delete(ann, {"password": "wrong horse"})[0] == 401
    status, problem, headers = delete(ann, {"password": PASSWORD})
    assert (status, problem["code"]) == (429, "rate_limited")
    assert int(headers["retry-after"]) > 0
    status, problem, _ = http_call("Login", {"email": ann["email"], "password": PASSWORD})
    assert (status, problem["code"]) == (429, "rate_limited")  # the same counter


def test_an_account_without_password_confirms_with_delete(db: Any) -> None:
    ann = registered()
    db.execute(
        "UPDATE auth.accounts SET password_hash = NULL WHERE user_id = %s", (ann["user_id"],)
    )
    for body in ({"password": PASSWORD}, {"password": PASSWORD, "confirm": "DELETE"}):
        status, problem, _ = delete(ann, body)
        assert (status, problem["code"]) == (401, "invalid_credentials")
    assert delete(ann, {"confirm": "DELETE"})[0] == 202
    assert authorize(ann["token"]) is None


@pytest.mark.parametrize(
    "body",
    [{}, {"confirm": "delete"}, {"password": ""}, {"password": PASSWORD, "extra": 1}, []],
)
def test_bad_bodies_are_422_and_delete_nothing(body: Any) -> None:
    ann = registered()
    status, problem, _ = delete(ann, body)
    assert (status, problem["code"]) == (422, "validation_failed")
    assert authorize(ann["token"]) == ann["user_id"]


def test_malformed_json_is_400() -> None:
    ann = registered()
    status, problem, _ = http_call(
        "DeleteMyAccount", raw_body='{"password": ', token=ann["token"], user_id=ann["user_id"]
    )
    assert (status, problem["code"]) == (400, "malformed_json")


@contextmanager
def redis_down() -> Iterator[None]:
    from messenger.platform import redis

    saved = redis._client
    redis._client = redis.make_client(f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        redis._client = saved


def test_redis_down_is_503_with_retry_after_and_the_account_stays(db: Any) -> None:
    ann = registered()
    with redis_down():
        status, problem, headers = delete(ann, {"password": PASSWORD})
    assert (status, problem["code"]) == (503, "unavailable")
    assert int(headers["retry-after"]) > 0
    assert db.execute(
        "SELECT 1 FROM auth.accounts WHERE user_id = %s", (ann["user_id"],)
    ).fetchall()
    assert authorize(ann["token"]) == ann["user_id"]
    assert delete(ann, {"password": PASSWORD})[0] == 202  # and a retry succeeds


def test_a_second_delete_with_the_revoked_token_is_refused_by_the_authorizer() -> None:
    ann = registered()
    assert delete(ann, {"password": PASSWORD})[0] == 202
    assert authorize(ann["token"]) is None
    # Had it passed (a stale authorizer cache), the account is gone: the same 401.
    status, problem, _ = delete(ann, {"password": PASSWORD})
    assert (status, problem["code"]) == (401, "invalid_credentials")


# -- the consumers -------------------------------------------------------------------------------


def test_every_consumer_skips_other_event_types() -> None:
    other = {
        "id": str(uuid.uuid4()),
        "type": "user.export_requested",  # handled by none of them
        "version": 1,
        "occurred_at": rfc3339(utcnow()),
        "data": {"user_id": str(uuid.uuid4())},
    }
    for logical_id in CONSUMERS:
        assert invoke(logical_id, msk(other, logical_id=logical_id)) == {"batchItemFailures": []}
        assert invoke(logical_id, sample_event(logical_id)) == {"batchItemFailures": []}


def test_a_malformed_user_deleted_is_reported_not_dropped() -> None:
    """Beside a good record, the bad one alone is reported (retried, then dead-lettered)."""
    broken = deleted_envelope("not-a-uuid")
    for logical_id in CONSUMERS:
        good = deleted_envelope(str(uuid.uuid4()))
        result = invoke(logical_id, msk(good, broken, logical_id=logical_id))
        assert len(result["batchItemFailures"]) == 1, logical_id


def test_profile_consumer_removes_a_late_profile_and_its_cache(in_process_env: Any) -> None:
    nickname = unique("late")
    user = new_profile(nickname)  # e.g. created by a lagging consumer after the deletion
    assert http_call("GetProfileByNickname", path_parameters={"nickname": nickname})[0] == 200
    assert redis_keys(in_process_env, nickname.lower())
    consume("EraseProfileOnUserDeleted", user)
    assert http_call("GetProfile", path_parameters={"user_id": user})[0] == 404
    assert not redis_keys(in_process_env, nickname.lower())
    assert not redis_keys(in_process_env, user)
    consume("EraseProfileOnUserDeleted", user)  # idempotent


def test_friends_consumer_removes_friendships_requests_and_cached_sets(db: Any) -> None:
    ann, bob = friends()
    carl = new_profile()
    carl_nickname = http_call("GetProfile", path_parameters={"user_id": carl})[1]["nickname"]
    assert http_call("SendFriendRequest", {"nickname": carl_nickname}, user_id=ann)[0] == 201
    assert [f["user_id"] for f in http_call("GetFriends", user_id=bob)[1]["friends"]] == [ann]
    assert len(http_call("GetFriends", user_id=carl)[1]["incoming"]) == 1
    dave, erin = new_profile(), new_profile()  # blocks both ways go too
    assert http_call("BlockUser", user_id=ann, path_parameters={"user_id": dave})[0] == 204
    assert http_call("BlockUser", user_id=erin, path_parameters={"user_id": ann})[0] == 204
    assert len(http_call("GetBlocks", user_id=erin)[1]["items"]) == 1
    consume("UpdateFriendsOnUserEvents", ann)
    assert not db.execute(
        "SELECT 1 FROM friends.friendships WHERE %(u)s IN (user_low, user_high)", {"u": ann}
    ).fetchall()
    assert not db.execute(
        "SELECT 1 FROM friends.friend_list WHERE %(u)s IN (owner, friend)"
        " UNION ALL SELECT 1 FROM friends.nicknames WHERE user_id = %(u)s",
        {"u": ann},
    ).fetchall()
    assert not db.execute(
        "SELECT 1 FROM friends.blocks WHERE %(u)s IN (blocker, blocked)", {"u": ann}
    ).fetchall()
    assert http_call("GetBlocks", user_id=erin)[1]["items"] == []
    assert http_call("GetFriends", user_id=bob)[1]["friends"] == []  # the cache went too
    assert http_call("GetFriends", user_id=carl)[1]["incoming"] == []
    consume("UpdateFriendsOnUserEvents", ann)  # idempotent


def test_chats_consumer_tombstones_messages_and_leaves_chats(mongo_db: Any) -> None:
    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    chat_id = chat["chat_id"]
    secret = "the secret " + unique()
    mine = []
    for n in range(3):
        status, message, _ = http_call(
            "SendMessage",
            {"content": f"{secret} {n}", "client_message_id": unique()},
            user_id=ann,
            path_parameters={"chat_id": chat_id},
        )
        assert status == 201
        mine.append(message["message_id"])
    status, reply, _ = http_call(
        "SendMessage",
        {"content": "bob's own", "client_message_id": unique()},
        user_id=bob,
        path_parameters={"chat_id": chat_id},
    )
    assert status == 201

    consume("EraseMessagesOnUserDeleted", ann)
    status, page, _ = http_call("GetChatHistory", user_id=bob, path_parameters={"chat_id": chat_id})
    assert status == 200
    by_id = {m["message_id"]: m for m in page["items"]}
    for message_id in mine:
        tombstone = by_id[message_id]
        assert tombstone["deleted"] is True
        assert tombstone["content"] is None
        assert tombstone["author_id"] == ann  # history stays stable
    assert by_id[reply["message_id"]]["content"] == "bob's own"
    stored = mongo_db.chats.find_one({"_id": chat_id})
    assert stored["participants"] == [bob]
    assert ann not in (stored.get("unread") or {})
    assert not list(mongo_db.messages.find({"content": {"$regex": secret}}))
    assert secret not in json.dumps(stored, default=str)
    # One message.deleted per tombstone, left to the relay (a consumer holds no producer).
    events = list(
        mongo_db.outbox.find({"payload.type": "message.deleted", "payload.data.chat_id": chat_id})
    )
    assert sorted(e["payload"]["data"]["message_id"] for e in events) == sorted(mine)
    assert all(e.get("pending") for e in events)
    assert http_call("ListChats", user_id=ann)[1]["items"] == []

    consume("EraseMessagesOnUserDeleted", ann)  # idempotent: no second round of events
    again = mongo_db.outbox.count_documents(
        {"payload.type": "message.deleted", "payload.data.chat_id": chat_id}
    )
    assert again == len(mine)


def test_realtime_consumer_forgets_and_closes_every_connection() -> None:
    from messenger.realtime.adapters.store import UserConnectionsRecord

    ann = registered()
    ids = []
    for _ in range(2):
        event = sample_event("WebSocketConnect")
        connection_id = f"er{uuid.uuid4().hex[:12]}="
        event["requestContext"]["connectionId"] = connection_id
        event["queryStringParameters"] = {"token": ann["token"]}
        assert invoke("WebSocketConnect", event)["statusCode"] == 200
        ids.append(connection_id)
    from messenger.realtime.adapters.stream import DynamoStream, StreamRecord
    from messenger.realtime.service import StreamedFrame

    stream = DynamoStream(retention_seconds=3600)
    frame = StreamedFrame("message.sent", {"content": "for ann"})
    stream.append(unique("event"), {uuid.UUID(ann["user_id"]): frame}, int(utcnow().timestamp()))
    assert StreamRecord.count(ann["user_id"]) > 0
    consume("CloseConnectionsOnUserDeleted", ann["user_id"])
    from messenger.realtime.adapters.store import DynamoConnections

    store = DynamoConnections()
    assert all(store.get(c) is None for c in ids)
    assert UserConnectionsRecord.count(ann["user_id"]) == 0
    # The frames addressed to them went; only the `erased` marker stays, and takes nothing more.
    (marker,) = StreamRecord.query(ann["user_id"])
    assert (int(marker.position), marker.erased, marker.frame) == (0, True, None)
    later = stream.append(unique("event"), {uuid.UUID(ann["user_id"]): frame}, 0)
    assert later == {}
    assert StreamRecord.count(ann["user_id"]) == 1
    consume("CloseConnectionsOnUserDeleted", ann["user_id"])  # idempotent


def test_sessions_of_a_deleted_account_are_tombstoned_in_the_cache(in_process_env: Any) -> None:
    ann = registered()
    token_hash = hashlib.sha256(ann["token"].encode()).hexdigest()
    assert authorize(ann["token"]) == ann["user_id"]  # cached now
    assert delete(ann, {"password": PASSWORD})[0] == 202
    cached = redis_lib.Redis.from_url(in_process_env["REDIS_URL"]).get(f"session:{token_hash}")
    assert cached == b"revoked"


def test_media_consumer_removes_avatars_uploads_and_their_records(
    media_env: dict[str, str], mongo_db: Any
) -> None:
    env = media_env
    user = new_profile()
    avatar = uploaded(user, purpose="avatar")
    status, profile, _ = http_call("UpdateMyProfile", {"avatar_upload_id": avatar}, user_id=user)
    assert status == 200, profile
    uploaded(user, filename="private-name.png")  # an attachment upload never used
    assert keys_under(env, f"avatars/{user}/")
    assert keys_under(env, f"uploads/{user}/")
    consume("EraseMediaOnUserDeleted", user)
    assert keys_under(env, f"avatars/{user}/") == []
    assert keys_under(env, f"uploads/{user}/") == []
    assert mongo_db.uploads.count_documents({"owner_id": user}) == 0
    consume("EraseMediaOnUserDeleted", user)  # idempotent


def test_tombstoned_attachments_leave_storage_through_message_deleted(
    media_env: dict[str, str], mongo_db: Any
) -> None:
    env = media_env
    ann, bob = friends()
    chat_id = http_call("CreateChat", {"participants": [bob]}, user_id=ann)[1]["chat_id"]
    upload = uploaded(ann)
    status, message, _ = http_call(
        "SendMessage",
        {"content": "with a file", "attachment_ids": [upload], "client_message_id": unique()},
        user_id=ann,
        path_parameters={"chat_id": chat_id},
    )
    assert status == 201, message
    prefix = f"attachments/{chat_id}/{message['message_id']}/"
    assert keys_under(env, prefix)
    consume("EraseMessagesOnUserDeleted", ann)
    # What the relay publishes, as RemoveMessageAttachments receives it.
    event = mongo_db.outbox.find_one(
        {"payload.type": "message.deleted", "payload.data.message_id": message["message_id"]}
    )
    assert event["payload"]["data"]["attachment_ids"]
    delivered = msk(event["payload"], logical_id="RemoveMessageAttachments")
    assert invoke("RemoveMessageAttachments", delivered) == {"batchItemFailures": []}
    assert keys_under(env, prefix) == []


# -- data exports --------------------------------------------------------------------------------


def request_export(user: str) -> tuple[int, Any, dict[str, str]]:
    return http_call("RequestExport", user_id=user)


def export_of(user: str, export_id: str) -> tuple[int, Any, dict[str, str]]:
    return http_call("GetExport", user_id=user, path_parameters={"export_id": export_id})


def build(db: Any, export_id: str) -> None:
    """Run the builder with the request's own event, as the outbox published it."""
    row = db.execute(
        "SELECT payload FROM messaging.outbox WHERE payload->'data'->>'export_id' = %s",
        (export_id,),
    ).fetchone()
    assert row is not None
    event = msk(row[0], logical_id="BuildExportOnExportRequested")
    assert invoke("BuildExportOnExportRequested", event) == {"batchItemFailures": []}


def test_an_export_is_pending_then_ready_with_a_signed_archive(
    media_env: dict[str, str], db: Any
) -> None:
    ann, bob = friends()
    chat_id = http_call("CreateChat", {"participants": [bob]}, user_id=ann)[1]["chat_id"]
    blocked = new_profile()
    assert http_call("BlockUser", user_id=ann, path_parameters={"user_id": blocked})[0] == 204
    upload = uploaded(ann)
    mine = http_call(
        "SendMessage",
        {"content": "ann wrote this", "attachment_ids": [upload], "client_message_id": unique()},
        user_id=ann,
        path_parameters={"chat_id": chat_id},
    )[1]
    http_call(
        "SendMessage",
        {"content": "bob wrote that", "client_message_id": unique()},
        user_id=bob,
        path_parameters={"chat_id": chat_id},
    )
    status, created, _ = request_export(ann)
    assert status == 202
    assert created["status"] == "pending"
    assert (created["url"], created["expires_at"]) == (None, None)
    again = request_export(ann)  # while pending: the same export, no second build
    assert (again[0], again[1]["export_id"]) == (202, created["export_id"])
    assert export_of(ann, created["export_id"])[1]["status"] == "pending"

    build(db, created["export_id"])
    status, ready, _ = export_of(ann, created["export_id"])
    assert (status, ready["status"]) == (200, "ready")
    assert ready["expires_at"] is not None
    archive = httpx.get(ready["url"], timeout=15).json()
    profile = http_call("GetProfile", path_parameters={"user_id": ann})[1]
    assert archive["account"]["user_id"] == ann
    assert archive["account"]["email"] == f"{ann}@example.com"
    assert archive["profile"]["nickname"] == profile["nickname"]
    assert [f["user_id"] for f in archive["friends"]] == [bob]
    assert [b["user_id"] for b in archive["blocks"]] == [blocked]
    (chat,) = archive["chats"]
    assert chat["chat_id"] == chat_id
    assert sorted(chat["participants"]) == sorted([ann, bob])
    (message,) = chat["messages"]  # the caller's messages only
    assert (message["message_id"], message["content"]) == (mine["message_id"], "ann wrote this")
    (attachment,) = message["attachments"]
    assert httpx.get(attachment["url"], timeout=15).status_code == 200
    assert "bob wrote that" not in json.dumps(archive)


def test_someone_elses_or_an_unknown_export_is_404(media_env: dict[str, str]) -> None:
    ann, bob = new_profile(), new_profile()
    export_id = request_export(ann)[1]["export_id"]
    for user, wanted in ((bob, export_id), (ann, str(uuid.uuid4()))):
        status, problem, _ = export_of(user, wanted)
        assert (status, problem["code"]) == (404, "export_not_found")
    status, problem, _ = export_of(ann, "not-a-uuid")
    assert (status, problem["code"]) == (422, "validation_failed")


def test_at_most_three_exports_a_day(media_env: dict[str, str], db: Any) -> None:
    ann = new_profile()
    for _ in range(3):
        status, created, _ = request_export(ann)
        assert status == 202
        build(db, created["export_id"])
    status, problem, headers = request_export(ann)
    assert (status, problem["code"]) == (429, "rate_limited")
    assert 23 * 3600 < int(headers["retry-after"]) <= 24 * 3600
    assert (
        db.execute("SELECT count(*) FROM users.exports WHERE user_id = %s", (ann,)).fetchone()[0]
        == 3
    )


def test_an_export_of_a_deleted_account_is_never_built_and_deletion_erases_exports(
    media_env: dict[str, str], db: Any
) -> None:
    ann = registered()
    first = request_export(ann["user_id"])[1]["export_id"]
    build(db, first)
    assert keys_under(media_env, f"exports/{ann['user_id']}/")
    second_row = db.execute(
        "INSERT INTO users.exports (export_id, user_id, status) VALUES (%s, %s, 'pending')"
        " RETURNING export_id",
        (uuid.uuid4(), ann["user_id"]),
    ).fetchone()
    assert delete(ann, {"password": PASSWORD})[0] == 202
    assert not db.execute(
        "SELECT 1 FROM users.exports WHERE user_id = %s", (ann["user_id"],)
    ).fetchall()
    requested = {
        "id": str(uuid.uuid4()),
        "type": "user.export_requested",
        "version": 1,
        "occurred_at": rfc3339(utcnow()),
        "data": {
            "user_id": ann["user_id"],
            "export_id": str(second_row[0]),
            "requested_at": rfc3339(utcnow()),
        },
    }
    event = msk(requested, logical_id="BuildExportOnExportRequested")
    assert invoke("BuildExportOnExportRequested", event) == {"batchItemFailures": []}
    consume("EraseMediaOnUserDeleted", ann["user_id"])
    assert keys_under(media_env, f"exports/{ann['user_id']}/") == []


@contextmanager
def postgres_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from messenger.platform import postgres

    saved = postgres._connection
    postgres._connection = None
    dead = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    with monkeypatch.context() as patch:
        patch.setattr(postgres, "database_url", lambda: dead)
        try:
            yield
        finally:
            postgres._connection = saved


def test_postgres_down_is_503_for_deletion_and_export_requests(
    monkeypatch: pytest.MonkeyPatch, db: Any
) -> None:
    ann = registered()
    with postgres_down(monkeypatch):
        deleted = delete(ann, {"password": PASSWORD})
        requested = request_export(ann["user_id"])
    for status, problem, headers in (deleted, requested):
        assert (status, problem["code"]) == (503, "unavailable")
        assert int(headers["retry-after"]) > 0
    assert authorize(ann["token"]) == ann["user_id"]
    assert not db.execute(
        "SELECT 1 FROM users.exports WHERE user_id = %s", (ann["user_id"],)
    ).fetchall()


def test_a_deleted_owner_leaves_each_group_by_its_rule(mongo_db: Any) -> None:
    """The group's own leave: ownership passes to the longest-standing admin, the history says
    the user left, and the members are told (chat.member_removed, through the relay)."""
    ann, bob = friends()
    carl = new_profile()
    carl_nickname = http_call("GetProfile", path_parameters={"user_id": carl})[1]["nickname"]
    ann_nickname = http_call("GetProfile", path_parameters={"user_id": ann})[1]["nickname"]
    assert http_call("SendFriendRequest", {"nickname": carl_nickname}, user_id=ann)[0] == 201
    accepted = http_call(
        "AcceptFriendRequest", user_id=carl, path_parameters={"nickname": ann_nickname}
    )
    assert accepted[0] == 200
    status, chat, _ = http_call(
        "CreateChat", {"participants": [bob, carl], "title": "crew"}, user_id=ann
    )
    assert status == 201
    chat_id = chat["chat_id"]
    promoted = http_call(
        "SetMemberRole",
        {"role": "admin"},
        user_id=ann,
        path_parameters={"chat_id": chat_id, "user_id": carl},
    )
    assert promoted[0] == 200

    consume("EraseMessagesOnUserDeleted", ann)
    status, details, _ = http_call("GetChat", user_id=bob, path_parameters={"chat_id": chat_id})
    assert status == 200
    roles = {m["user_id"]: m["role"] for m in details["members"]}
    assert roles == {carl: "owner", bob: "member"}
    page = http_call("GetChatHistory", user_id=bob, path_parameters={"chat_id": chat_id})[1]
    system = [m["system"] for m in page["items"] if m["kind"] == "system"]
    assert {"event": "member_left", "user_ids": [ann]}.items() <= next(
        s for s in system if s["event"] == "member_left"
    ).items()
    assert (
        mongo_db.outbox.count_documents(
            {"payload.type": "chat.member_removed", "payload.data.chat_id": chat_id}
        )
        == 1
    )
    consume("EraseMessagesOnUserDeleted", ann)  # idempotent: no second leave
    assert (
        mongo_db.outbox.count_documents(
            {"payload.type": "chat.member_removed", "payload.data.chat_id": chat_id}
        )
        == 1
    )
