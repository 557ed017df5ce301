"""Building requests from the events/ samples and reading the functions' answers, and the
fixtures-by-call the integration modules share (profiles, friends, accounts).
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from messenger.kernel.clock import rfc3339, utcnow
from tests.support import invoke, sample_event, template, unique


def http_call(
    logical_id: str,
    body: Any = None,
    *,
    token: str | None = None,
    user_id: str | None = None,
    path_parameters: dict[str, str] | None = None,
    raw_body: str | None = None,
    source_ip: str | None = None,
    session_id: str | None = None,
    query: dict[str, str] | None = None,
    user_agent: str | None = None,
) -> tuple[int, Any, dict[str, str]]:
    """Invoke an HTTP function with its sample event, changing only what the test says."""
    event = sample_event(logical_id)
    if query is not None:  # replaces the sample's query string
        from urllib.parse import urlencode

        event["queryStringParameters"] = query or None
        event["rawQueryString"] = urlencode(query)
    if user_agent is not None:
        event.setdefault("headers", {})["user-agent"] = user_agent
        event["requestContext"]["http"]["userAgent"] = user_agent
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    event["isBase64Encoded"] = False
    headers = event.setdefault("headers", {})
    headers.pop("authorization", None)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if path_parameters is not None:
        route = next(r for r in template().routes if r.function == logical_id)
        path = route.path
        for name, value in path_parameters.items():
            path = path.replace("{" + name + "}", value)
        event["pathParameters"] = path_parameters
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if source_ip is not None:  # the peer address API Gateway saw
        event["requestContext"]["http"]["sourceIp"] = source_ip
    if user_id is not None:
        authorizer = event["requestContext"].setdefault("authorizer", {})
        authorizer["lambda"] = {"user_id": user_id}
        if session_id is not None:  # what the authorizer adds beside the user
            authorizer["lambda"]["session_id"] = session_id
    result = invoke(logical_id, event)
    text = result.get("body") or ""
    payload = json.loads(text) if text else None
    return result["statusCode"], payload, {k.lower(): v for k, v in result["headers"].items()}


def authorize(token: str | None) -> str | None:
    """Run the authorizer with its sample event; the user id, or None when it refuses."""
    identity = authorize_identity(token)
    return identity[0] if identity else None


def authorize_identity(token: str | None) -> tuple[str, str] | None:
    """Run the authorizer with its sample event; (user id, session id), or None when it refuses."""
    event = sample_event("Authorizer")
    headers = event.setdefault("headers", {})
    headers.pop("authorization", None)
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    try:
        result = invoke("Authorizer", event)
    except Exception as refused:
        if str(refused) != "Unauthorized":  # anything else would be a 500 at API Gateway
            raise
        return None
    assert result["isAuthorized"] is True
    return str(result["context"]["user_id"]), str(result["context"]["session_id"])


def registered_envelope(nickname: str, user_id: str | None = None) -> dict[str, Any]:
    user_id = user_id or str(uuid.uuid4())
    now = rfc3339(utcnow())
    return {
        "id": str(uuid.uuid4()),
        "type": "user.registered",
        "version": 1,
        "occurred_at": now,
        "data": {
            "user_id": user_id,
            "email": f"{user_id}@example.com",
            "nickname": nickname,
            "registered_at": now,
        },
    }


def msk_event(*envelopes: dict[str, Any], raw_values: tuple[bytes, ...] = ()) -> dict[str, Any]:
    """The consumer's sample MSK event, carrying these envelopes as its records."""
    event = sample_event("CreateProfileOnUserRegistered")
    template_record = next(iter(event["records"].values()))[0]
    values = [json.dumps(e).encode() for e in envelopes] + list(raw_values)
    records = []
    for offset, value in enumerate(values):
        record = dict(template_record)
        record.update(offset=offset, value=base64.b64encode(value).decode())
        records.append(record)
    event["records"] = {f"{template_record['topic']}-{template_record['partition']}": records}
    return event


def new_profile(nickname: str | None = None) -> str:
    envelope = registered_envelope(nickname or unique("i"))
    assert invoke("CreateProfileOnUserRegistered", msk_event(envelope)) == {"batchItemFailures": []}
    return str(envelope["data"]["user_id"])


def friends() -> tuple[str, str]:
    ann, bob = new_profile(), new_profile()
    bob_nickname = http_call("GetProfile", path_parameters={"user_id": bob})[1]["nickname"]
    ann_nickname = http_call("GetProfile", path_parameters={"user_id": ann})[1]["nickname"]
    assert http_call("SendFriendRequest", {"nickname": bob_nickname}, user_id=ann)[0] == 201
    accepted = http_call(
        "AcceptFriendRequest", user_id=bob, path_parameters={"nickname": ann_nickname}
    )
    assert accepted[0] == 200
    return ann, bob


def account_with_email() -> tuple[uuid.UUID, str, str]:
    """A registered user, a live token and the email (Register + Login, their samples' shape)."""
    nickname = unique("rt")
    body = {"email": f"{nickname}@example.com", "password": "correct horse", "nickname": nickname}
    assert http_call("Register", body)[0] == 201
    status, session, _ = http_call("Login", {"email": body["email"], "password": body["password"]})
    assert status == 200
    return uuid.UUID(session["user_id"]), str(session["access_token"]), body["email"]


def account() -> tuple[uuid.UUID, str]:
    user, token, _ = account_with_email()
    return user, token
