"""The realtime functions invoked with their events/ samples against moto DynamoDB.

The @connections endpoint is the local gateway's (a WebSocket API with no clients connected:
every post answers 410, as API Gateway does for a connection that is gone).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.helpers import account, account_with_email, friends, http_call
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


def _connections() -> Any:
    from messenger.realtime.adapters.store import DynamoConnections

    return DynamoConnections()


def test_connect_keeps_the_connection_of_a_valid_token_and_refuses_others(
    realtime_env: dict[str, str],
) -> None:
    user, token = account()
    event = sample_event("WebSocketConnect")
    connection_id = f"it{uuid.uuid4().hex[:12]}="
    event["requestContext"]["connectionId"] = connection_id
    event["queryStringParameters"] = {"token": token}
    assert invoke("WebSocketConnect", event)["statusCode"] == 200
    stored = _connections().get(connection_id)
    assert stored is not None
    assert stored.user_id == user
    assert 7100 < stored.expires_at - time.time() <= 7200  # API Gateway's 2-hour limit

    refused = sample_event("WebSocketConnect")  # the sample's token is no session
    assert invoke("WebSocketConnect", refused)["statusCode"] == 401

    gone = sample_event("WebSocketDisconnect")
    gone["requestContext"]["connectionId"] = connection_id
    assert invoke("WebSocketDisconnect", gone)["statusCode"] == 200
    assert _connections().get(connection_id) is None
    # A second $disconnect (retried, or after a push removed it) is harmless.
    assert invoke("WebSocketDisconnect", gone)["statusCode"] == 200


def test_typing_in_a_chat_that_is_not_the_callers_is_refused(
    realtime_env: dict[str, str],
) -> None:
    from messenger.realtime.service import Connection

    connection_id = f"it{uuid.uuid4().hex[:12]}="
    _connections().add(
        Connection(connection_id, uuid.uuid4(), int(time.time()) + 60), int(time.time())
    )
    event = sample_event("WebSocketTyping")
    event["requestContext"]["connectionId"] = connection_id
    assert invoke("WebSocketTyping", event)["statusCode"] == 403
    event["body"] = json.dumps({"action": "typing", "chat_id": "not-a-uuid"})
    assert invoke("WebSocketTyping", event)["statusCode"] == 400


@pytest.mark.parametrize(
    ("body", "b64"),
    [
        ("{}", False),
        ("[]", False),
        ("null", False),
        ("not json", False),
        (None, False),
        ('{"action": "typing", "chat_id": "\\ud800"}', False),
        ('{"action": "typing", "chat_id": "\ud800"}', False),  # a direct invoke's lone surrogate
        ('{"action":' * 5000 + '"typing"' + "}" * 5000, False),
        ("[" * 100_000 + "]" * 100_000, False),
        ("not base64!", True),
        ("//79", True),  # base64 of bytes that are not UTF-8
        (12, False),
        ({"action": "typing"}, False),
    ],
)
def test_typing_refuses_a_malformed_frame_with_400(
    realtime_env: dict[str, str], body: Any, b64: bool
) -> None:
    event = sample_event("WebSocketTyping")
    event["body"], event["isBase64Encoded"] = body, b64
    assert invoke("WebSocketTyping", event)["statusCode"] == 400


def test_typing_reads_a_binary_frame(realtime_env: dict[str, str]) -> None:
    """A binary frame arrives base64 (isBase64Encoded): decoded, it is a frame like any other."""
    import base64

    event = sample_event("WebSocketTyping")
    event["requestContext"]["connectionId"] = f"it{uuid.uuid4().hex[:12]}="  # unknown: 403
    event["body"] = base64.b64encode(event["body"].encode()).decode()
    event["isBase64Encoded"] = True
    assert invoke("WebSocketTyping", event)["statusCode"] == 403


def test_push_samples_forget_gone_connections_and_report_no_failure(
    realtime_env: dict[str, str],
) -> None:
    from messenger.realtime.service import Connection

    now = int(time.time())
    for name in ("push_realtime_events_chat.json", "push_realtime_events_friendship.json"):
        event = sample_event("PushRealtimeEvents", name)
        (record,) = next(iter(event["records"].values()))
        import base64

        envelope = json.loads(base64.b64decode(record["value"]))
        envelope["id"] = str(uuid.uuid4())
        record["value"] = base64.b64encode(json.dumps(envelope).encode()).decode()
        recipient = uuid.UUID(
            envelope["data"].get("to_user_id") or envelope["data"]["participants"][1]
        )
        stale = f"it{uuid.uuid4().hex[:12]}="
        _connections().add(Connection(stale, recipient, now + 60), now)
        assert invoke("PushRealtimeEvents", event) == {"batchItemFailures": []}
        assert _connections().get(stale) is None  # 410 from @connections: forgotten
        assert stale not in {c.connection_id for c in _connections().of_users([recipient], now)}


def _connect(token: str) -> str:
    event = sample_event("WebSocketConnect")
    connection_id = f"it{uuid.uuid4().hex[:12]}="
    event["requestContext"]["connectionId"] = connection_id
    event["queryStringParameters"] = {"token": token}
    assert invoke("WebSocketConnect", event)["statusCode"] == 200
    return connection_id


def test_logout_forgets_the_connections_of_that_session_only(
    realtime_env: dict[str, str],
) -> None:
    user, token, email = account_with_email()
    status, other, _ = http_call("Login", {"email": email, "password": "correct horse"})
    assert status == 200
    mine, theirs = _connect(token), _connect(other["access_token"])
    stored, kept = _connections().get(mine), _connections().get(theirs)
    assert stored is not None
    assert kept is not None
    assert stored.session
    assert kept.session
    assert stored.session != kept.session
    listed = _connections().of_users([user], int(time.time()))
    assert {c.session for c in listed} == {stored.session, kept.session}

    status, _, _ = http_call("Logout", token=token, user_id=str(user))
    assert status == 204
    assert _connections().get(mine) is None
    assert [c.connection_id for c in _connections().of_users([user], int(time.time()))] == [theirs]

    from messenger.bootstrap import auth_api

    assert auth_api().known_revoked([stored.session, kept.session]) == {stored.session}
    # The revoked token cannot open a connection any more.
    event = sample_event("WebSocketConnect")
    event["queryStringParameters"] = {"token": token}
    assert invoke("WebSocketConnect", event)["statusCode"] == 401


def test_typing_in_a_direct_chat_with_a_former_friend_is_refused(
    realtime_env: dict[str, str],
) -> None:
    """Sending there is 403 not_friends once they unfriend; saying one is typing is too."""
    from messenger.realtime.service import Connection

    ann, bob = friends()
    status, chat, _ = http_call("CreateChat", {"participants": [bob]}, user_id=ann)
    assert status == 201
    connection_id = f"it{uuid.uuid4().hex[:12]}="
    now = int(time.time())
    _connections().add(Connection(connection_id, uuid.UUID(ann), now + 60, "s"), now)
    event = sample_event("WebSocketTyping")
    event["requestContext"]["connectionId"] = connection_id
    event["body"] = json.dumps({"action": "typing", "chat_id": chat["chat_id"]})
    assert invoke("WebSocketTyping", event)["statusCode"] == 200

    bob_nickname = http_call("GetProfile", path_parameters={"user_id": bob})[1]["nickname"]
    status, _, _ = http_call(
        "RemoveFriend", user_id=ann, path_parameters={"nickname": bob_nickname}
    )
    assert status == 204
    path = {"chat_id": chat["chat_id"]}
    status, body, _ = http_call("SendMessage", user_id=ann, path_parameters=path)
    assert (status, body["code"]) == (403, "not_friends")
    assert invoke("WebSocketTyping", event)["statusCode"] == 403


def test_online_among_many_users_reads_every_batch(realtime_env: dict[str, str]) -> None:
    """250 users: three BatchGetItem calls made concurrently, none of them lost."""
    from messenger.bootstrap import presence
    from messenger.realtime.service import Connection

    now = int(time.time())
    users = [uuid.uuid4() for _ in range(250)]
    online = set(users[::7])  # in the first, second and third batch of 100 alike
    for user in online:
        _connections().add(Connection(unique("c"), user, now + 600), now)
    expired = users[1]
    _connections().add(Connection(unique("c"), expired, now - 1), now - 10)
    assert presence().online_among(users) == online
    assert presence().online_among([]) == set()
