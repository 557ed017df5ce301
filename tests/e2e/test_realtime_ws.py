"""Realtime over the WebSocket API through the local gateway, with real WebSocket clients.

Pushes travel the real path: HTTP request -> function -> Kafka -> PushRealtimeEvents (MSK
trigger) -> post_to_connection -> the gateway's @connections endpoint -> the client's socket.
"Did not receive X" is proven without sleeping: a later frame on the same socket (a marker that
was sent after X would have been) arrives first.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

import boto3
import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import (
    Frame,
    bearer,
    befriend,
    device,
    login,
    next_frame,
    of_type,
    signed_up,
    typing_reaches,
)
from tests.support import poll, template

pytestmark = pytest.mark.e2e


def create_chat(api: httpx.Client, user: dict[str, Any], *others: dict[str, Any]) -> str:
    body = {"participants": [o["user_id"] for o in others]}
    response = api.post("/v1/chats", json=body, headers=bearer(user["access_token"]))
    assert response.status_code in (200, 201), response.text
    return str(response.json()["chat_id"])


def send(api: httpx.Client, user: dict[str, Any], chat_id: str, content: str) -> Frame:
    response = api.post(
        f"/v1/chats/{chat_id}/messages",
        json={"content": content},
        headers=bearer(user["access_token"]),
    )
    assert response.status_code == 201, response.text
    message: Frame = response.json()
    return message


def friends_view(api: httpx.Client, user: dict[str, Any]) -> dict[str, bool]:
    response = api.get("/v1/friends", headers=bearer(user["access_token"]))
    assert response.status_code == 200, response.text
    return {f["user_id"]: f["online"] for f in response.json()["friends"]}


@pytest.fixture
def trio(api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """ann is friends with bob and with cat; bob and cat are strangers."""
    ann, bob, cat = signed_up(api), signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    befriend(api, ann, cat)
    return ann, bob, cat


def test_a_bad_token_is_refused_at_connect(gateway: LocalGateway) -> None:
    for token in ("not-a-token", ""):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{gateway.ws_url}/?token={token}", open_timeout=10)
        assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus):
        connect(f"{gateway.ws_url}/", open_timeout=10)


def test_a_message_reaches_both_devices_of_the_recipient_and_no_one_else(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    ann, bob, cat = trio
    chat_id = create_chat(api, ann, bob)
    other_chat = create_chat(api, ann, cat)
    with device(gateway, bob) as phone, device(gateway, bob) as laptop, device(gateway, cat) as c:
        sent = send(api, ann, chat_id, "hello bob")
        for ws in (phone, laptop):
            frame = next_frame(ws, of_type("message.sent", message_id=sent["message_id"]))
            assert frame["data"]["content"] == "hello bob"
            assert frame["data"]["chat_id"] == chat_id
            assert "participants" not in frame["data"]
        marker = send(api, ann, other_chat, "hello cat")
        first = next_frame(c, of_type("message.sent"))
        assert first["data"]["message_id"] == marker["message_id"], "cat got bob's message"


def test_a_read_receipt_reaches_the_other_side(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    ann, bob, _ = trio
    chat_id = create_chat(api, ann, bob)
    with device(gateway, ann) as a, device(gateway, bob) as b:
        sent = send(api, ann, chat_id, "read me")
        next_frame(b, of_type("message.sent", message_id=sent["message_id"]))
        read = api.post(
            f"/v1/chats/{chat_id}/read",
            json={"message_id": sent["message_id"]},
            headers=bearer(bob["access_token"]),
        )
        assert read.status_code == 204, read.text
        receipt = next_frame(a, of_type("chat.read", chat_id=chat_id))
        assert receipt["data"]["user_id"] == bob["user_id"]
        assert receipt["data"]["message_id"] == sent["message_id"]
        # bob hears no echo of his own receipt: ann's next message comes first.
        marker = send(api, ann, chat_id, "marker")
        first = next_frame(
            b,
            lambda f: (
                f["type"] in ("chat.read", "message.sent")
                and f["data"].get("message_id") != sent["message_id"]
            ),
        )
        assert first["type"] == "message.sent"
        assert first["data"]["message_id"] == marker["message_id"]


def test_typing_reaches_the_other_participants_only(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    ann, bob, cat = trio
    chat_id = create_chat(api, ann, bob)
    with device(gateway, ann) as a, device(gateway, bob) as b, device(gateway, cat) as c:
        frame = typing_reaches(a, b, chat_id)
        assert frame["data"] == {"chat_id": chat_id, "user_id": ann["user_id"]}
        # Not to ann herself: bob's typing is the first typing frame she sees.
        assert typing_reaches(b, a, chat_id)["data"]["user_id"] == bob["user_id"]
        # cat is no participant: typing there is refused and reaches no one.
        c.send(json.dumps({"action": "typing", "chat_id": chat_id}))
        assert typing_reaches(a, b, chat_id)["data"]["user_id"] == ann["user_id"]


def test_malformed_frames_get_forbidden_and_the_connection_stays_open(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    """No `$default` in the template: API Gateway's no-route frame, as the socket lives on."""
    ann, bob, _ = trio
    chat_id = create_chat(api, ann, bob)
    with device(gateway, ann) as a, device(gateway, bob) as b:
        for bad in ("{}", "[]", "not json", '{"action": 1}', '{"a":' * 5000 + "1" + "}" * 5000):
            a.send(bad)
            refusal = next_frame(a, lambda f: "message" in f)
            assert refusal["message"] == "Forbidden"
            assert {"connectionId", "requestId"} <= refusal.keys()
        assert typing_reaches(a, b, chat_id)["data"]["user_id"] == ann["user_id"]


def _tables() -> tuple[str, str]:
    env = template().functions["PushRealtimeEvents"].env
    return env["CONNECTIONS_TABLE"], env["USER_CONNECTIONS_TABLE"]


def _members(dynamodb: Any, user_id: str) -> set[str]:
    item = dynamodb.get_item(
        TableName=_tables()[1], Key={"user_id": {"S": user_id}}, ConsistentRead=True
    ).get("Item", {})
    return set(item.get("connections", {}).get("SS", []))


def test_gone_connections_are_cleaned_up_on_the_next_push(
    gateway: LocalGateway,
    api: httpx.Client,
    trio: tuple[dict, dict, dict],
    backing_env: dict[str, str],
) -> None:
    ann, bob, _ = trio
    chat_id = create_chat(api, ann, bob)
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=backing_env["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    # A connection whose client vanished without API Gateway noticing (no $disconnect ran).
    orphan = f"orphan{uuid.uuid4().hex[:9]}="
    expires = int(time.time()) + 3600
    connections, by_user = _tables()
    dynamodb.put_item(
        TableName=connections,
        Item={
            "connection_id": {"S": orphan},
            "user_id": {"S": bob["user_id"]},
            "connected_at": {"N": str(int(time.time()))},
            "expires_at": {"N": str(expires)},
        },
    )
    dynamodb.update_item(
        TableName=by_user,
        Key={"user_id": {"S": bob["user_id"]}},
        UpdateExpression="ADD connections :c",
        ExpressionAttributeValues={":c": {"SS": [f"{orphan} {expires}"]}},
    )
    with device(gateway, bob) as phone:
        killed = connect(f"{gateway.ws_url}/?token={bob['access_token']}", open_timeout=10)
        poll(lambda: len(_members(dynamodb, bob["user_id"])) == 3, timeout=10)
        killed.socket.shutdown(socket.SHUT_RDWR)  # the process died: no close frame
        killed.socket.close()
        sent = send(api, ann, chat_id, "still there?")
        next_frame(phone, of_type("message.sent", message_id=sent["message_id"]))
        # The orphan's 410 removed it; the killed one is gone too; the live phone stays.
        poll(lambda: len(_members(dynamodb, bob["user_id"])) == 1, timeout=10)
        assert not any(m.startswith(orphan) for m in _members(dynamodb, bob["user_id"]))
        gone = dynamodb.get_item(TableName=connections, Key={"connection_id": {"S": orphan}})
        assert "Item" not in gone
        assert friends_view(api, ann)[bob["user_id"]] is True


def test_presence_and_friend_requests_are_pushed(gateway: LocalGateway, api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    with device(gateway, ann) as a:
        with device(gateway, bob) as b:
            asked = api.post(
                "/v1/friends/requests",
                json={"nickname": ann["nickname"]},
                headers=bearer(bob["access_token"]),
            )
            assert asked.status_code == 201, asked.text
            request = next_frame(a, of_type("friendship.requested"))
            assert request["data"]["from_user_id"] == bob["user_id"]
            accepted = api.post(
                f"/v1/friends/requests/{bob['nickname']}/accept",
                headers=bearer(ann["access_token"]),
            )
            assert accepted.status_code == 200, accepted.text
            accept = next_frame(b, of_type("friendship.accepted"))
            assert accept["data"]["from_user_id"] == ann["user_id"]
        # bob's only device left: ann sees him go offline.
        next_frame(a, of_type("presence.changed", user_id=bob["user_id"], online=False))
        assert friends_view(api, ann)[bob["user_id"]] is False
        with device(gateway, bob), device(gateway, bob):
            next_frame(a, of_type("presence.changed", user_id=bob["user_id"], online=True))
            assert friends_view(api, ann)[bob["user_id"]] is True
        next_frame(a, of_type("presence.changed", user_id=bob["user_id"], online=False))
        assert friends_view(api, ann)[bob["user_id"]] is False


def _closed_by_server(ws: ClientConnection, timeout: float = 10) -> bool:
    """True once the server closed the socket; frames still in flight before the close are
    returned to nobody (a message.sent after the logout would fail the caller's check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False
        assert frame.get("type") != "message.sent", f"received after logout: {frame}"
    return False


def test_logout_closes_that_sessions_sockets_and_they_receive_nothing_after(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    ann, bob, _ = trio
    chat_id = create_chat(api, ann, bob)
    laptop_session = login(api, bob["email"])  # bob's second device: another session
    laptop_user = {**bob, **laptop_session}
    with device(gateway, bob) as phone, device(gateway, laptop_user) as laptop:
        before = send(api, ann, chat_id, "before logout")
        for ws in (phone, laptop):
            next_frame(ws, of_type("message.sent", message_id=before["message_id"]))

        out = api.post("/v1/auth/logout", headers=bearer(bob["access_token"]))
        assert out.status_code == 204
        assert _closed_by_server(phone), "the logged-out session's socket stayed open"
        after = send(api, ann, chat_id, "after logout")
        # The other session is untouched, and its socket gets what the closed one did not.
        next_frame(laptop, of_type("message.sent", message_id=after["message_id"]))
        assert friends_view(api, ann)[bob["user_id"]] is True  # still online on the laptop


def test_a_socket_whose_session_ended_unseen_is_refused_pushes_and_closed(
    gateway: LocalGateway,
    api: httpx.Client,
    trio: tuple[dict, dict, dict],
    backing_env: dict[str, str],
) -> None:
    """A connection registered in a race with its logout (the logout's listing missed it): the
    session is revoked exactly as logout does it, without logout's closing step, and the next
    push must skip the socket and close it."""
    import hashlib

    import psycopg
    import redis

    ann, bob, _ = trio
    chat_id = create_chat(api, ann, bob)
    raced = {**bob, **login(api, bob["email"])}
    with device(gateway, bob) as phone, device(gateway, raced) as ghost:
        token_hash = hashlib.sha256(raced["access_token"].encode()).digest()
        with psycopg.connect(backing_env["DATABASE_URL"], autocommit=True) as db:
            (session_id,) = db.execute(
                "UPDATE auth.sessions SET revoked_at = now() WHERE token_hash = %s"
                " RETURNING session_id",
                (token_hash,),
            ).fetchone()
            db.execute(
                "UPDATE auth.logins SET revoked_at = now() WHERE session_id = %s", (session_id,)
            )
        cache = redis.Redis.from_url(backing_env["REDIS_URL"])
        cache.set(f"session:{token_hash.hex()}", "revoked", ex=600)  # the authorizer's tombstone
        cache.set(f"revoked-session:{session_id}", "revoked", ex=600)  # the push path's
        sent = send(api, ann, chat_id, "for live sessions only")
        next_frame(phone, of_type("message.sent", message_id=sent["message_id"]))
        assert _closed_by_server(ghost), "a revoked session's socket was kept"


def test_typing_in_a_direct_chat_after_unfriending_reaches_nobody(
    gateway: LocalGateway, api: httpx.Client, trio: tuple[dict, dict, dict]
) -> None:
    ann, bob, cat = trio
    direct = create_chat(api, ann, bob)
    group = create_chat(api, ann, bob, cat)  # a group needs no friendship to type in
    with device(gateway, ann) as a, device(gateway, bob) as b:
        assert typing_reaches(a, b, direct)["data"]["chat_id"] == direct

        removed = api.delete(f"/v1/friends/{bob['nickname']}", headers=bearer(ann["access_token"]))
        assert removed.status_code == 204, removed.text
        refused = api.post(
            f"/v1/chats/{direct}/messages",
            json={"content": "still there?"},
            headers=bearer(ann["access_token"]),
        )
        assert refused.status_code == 403
        assert refused.json()["code"] == "not_friends"
        for _ in range(2):  # a wrongly delivered one would show before the second marker
            a.send(json.dumps({"action": "typing", "chat_id": direct}))
            a.send(json.dumps({"action": "typing", "chat_id": group}))
            frame = next_frame(b, of_type("typing"))
            assert frame["data"]["chat_id"] == group, "typing reached a former friend"
