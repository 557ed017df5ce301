"""Refresh, ListSessions, RevokeSession, RevokeOtherSessions and ChangePassword, invoked with
their events/ samples against Postgres, Redis and the connection tables."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
import redis

from tests.integration.helpers import authorize_identity, http_call
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("realtime_env")]

PASSWORD = "correct horse"


def new_account() -> tuple[str, str]:
    nickname = unique("se")
    email = f"{nickname}@example.com"
    body = {"email": email, "password": PASSWORD, "nickname": nickname}
    status, registered, _ = http_call("Register", body)
    assert status == 201
    return str(registered["user_id"]), email


def login(email: str, password: str = PASSWORD, agent: str = "it/1.0") -> dict[str, Any]:
    status, session, _ = http_call(
        "Login", {"email": email, "password": password}, user_agent=agent
    )
    assert status == 200, session
    return dict(session)


def identity(session: dict[str, Any]) -> tuple[str, str]:
    found = authorize_identity(session["access_token"])
    assert found is not None
    return found


def as_caller(session: dict[str, Any]) -> dict[str, str]:
    user_id, session_id = identity(session)
    return {"user_id": user_id, "session_id": session_id}


def connect(token: str) -> str:
    event = sample_event("WebSocketConnect")
    connection_id = f"it{uuid.uuid4().hex[:12]}="
    event["requestContext"]["connectionId"] = connection_id
    event["queryStringParameters"] = {"token": token}
    assert invoke("WebSocketConnect", event)["statusCode"] == 200
    return connection_id


def connections() -> Any:
    from messenger.realtime.adapters.store import DynamoConnections

    return DynamoConnections()


def test_login_answers_a_refresh_token_and_refresh_rotates_it(db: Any) -> None:
    _, email = new_account()
    first = login(email)
    assert first["refresh_token"]
    assert first["refresh_expires_in"] == 60 * 24 * 3600
    assert first["expires_in"] == 3600
    user_id, session_id = identity(first)

    status, second, _ = http_call("Refresh", {"refresh_token": first["refresh_token"]})
    assert status == 200
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["user_id"] == user_id
    assert identity(second) == (user_id, session_id)  # the session's name is stable
    status, third, _ = http_call("Refresh", {"refresh_token": second["refresh_token"]})
    assert status == 200
    assert identity(third) == (user_id, session_id)
    stored = db.execute(
        "SELECT count(*), count(used_at) FROM auth.refresh_tokens WHERE session_id = %s",
        (session_id,),
    ).fetchone()
    assert stored == (3, 2)
    digest = hashlib.sha256(third["refresh_token"].encode()).digest()
    assert db.execute(
        "SELECT 1 FROM auth.refresh_tokens WHERE token_hash = %s", (digest,)
    ).fetchone()


def test_a_reused_refresh_token_revokes_the_whole_session(in_process_env: Any) -> None:
    _, email = new_account()
    first = login(email)
    other = login(email)
    status, second, _ = http_call("Refresh", {"refresh_token": first["refresh_token"]})
    assert status == 200
    live = connect(second["access_token"])

    status, body, _ = http_call("Refresh", {"refresh_token": first["refresh_token"]})
    assert (status, body["code"]) == (401, "invalid_token")
    assert authorize_identity(first["access_token"]) is None
    assert authorize_identity(second["access_token"]) is None
    assert connections().get(live) is None  # the session's connections were closed
    status, body, _ = http_call("Refresh", {"refresh_token": second["refresh_token"]})
    assert (status, body["code"]) == (401, "invalid_token")
    assert authorize_identity(other["access_token"]) is not None  # another login is untouched
    # Not even from Postgres (the cache dropped): the record holds the revocation.
    digest = hashlib.sha256(second["access_token"].encode()).digest()
    redis.Redis.from_url(in_process_env["REDIS_URL"]).delete(f"session:{digest.hex()}")
    assert authorize_identity(second["access_token"]) is None


def test_unknown_expired_and_malformed_refresh_tokens(db: Any) -> None:
    status, body, _ = http_call("Refresh", {"refresh_token": "forged-" + unique()})
    assert (status, body["code"]) == (401, "invalid_token")
    _, email = new_account()
    session = login(email)
    digest = hashlib.sha256(session["refresh_token"].encode()).digest()
    db.execute(
        "UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second'"
        " WHERE token_hash = %s",
        (digest,),
    )
    status, body, _ = http_call("Refresh", {"refresh_token": session["refresh_token"]})
    assert (status, body["code"]) == (401, "invalid_token")
    assert authorize_identity(session["access_token"]) is not None  # expiry is not reuse
    for bad in ({}, {"refresh_token": ""}, {"refresh_token": "x" * 513}, {"extra": 1}):
        status, body, _ = http_call("Refresh", bad)
        assert (status, body["code"]) == (422, "validation_failed"), bad
    status, body, _ = http_call("Refresh", raw_body="{")
    assert (status, body["code"]) == (400, "malformed_json")


def test_an_old_session_keeps_its_name_across_the_cache(in_process_env: Any) -> None:
    """The authorizer names the session alike from the cache and from Postgres."""
    _, email = new_account()
    session = login(email)
    cached = identity(session)
    digest = hashlib.sha256(session["access_token"].encode()).digest()
    redis.Redis.from_url(in_process_env["REDIS_URL"]).delete(f"session:{digest.hex()}")
    assert identity(session) == cached


def test_list_sessions_marks_the_current_one_and_pages() -> None:
    _, email = new_account()
    sessions = [login(email, agent=f"agent/{i}") for i in range(3)]
    caller = as_caller(sessions[1])
    status, page, _ = http_call("ListSessions", query={"limit": "2"}, **caller)
    assert status == 200
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    status, rest, _ = http_call(
        "ListSessions", query={"limit": "2", "cursor": page["next_cursor"]}, **caller
    )
    assert status == 200
    assert rest["next_cursor"] is None
    items = page["items"] + rest["items"]
    assert {i["session_id"] for i in items} == {identity(s)[1] for s in sessions}
    assert [i["session_id"] for i in items if i["current"]] == [caller["session_id"]]
    assert {i["user_agent"] for i in items} == {"agent/0", "agent/1", "agent/2"}
    assert all(i["created_at"] and i["last_used_at"] for i in items)
    created = [i["created_at"] for i in items]
    assert created == sorted(created, reverse=True)

    for query in ({"limit": "0"}, {"limit": "101"}, {"cursor": "not-ours"}):
        status, body, _ = http_call("ListSessions", query=query, **caller)
        assert (status, body["code"]) == (422, "validation_failed"), query


def test_refresh_moves_last_used_at(db: Any) -> None:
    _, email = new_account()
    session = login(email)
    caller = as_caller(session)
    db.execute(
        "UPDATE auth.logins SET last_used_at = now() - interval '2 hours' WHERE session_id = %s",
        (caller["session_id"],),
    )
    before = http_call("ListSessions", **caller)[1]["items"][0]["last_used_at"]
    assert http_call("Refresh", {"refresh_token": session["refresh_token"]})[0] == 200
    after = http_call("ListSessions", **caller)[1]["items"][0]["last_used_at"]
    assert after > before


def test_revoke_one_session_refuses_its_tokens_and_closes_its_connections() -> None:
    from messenger.bootstrap import auth_api

    _, email = new_account()
    mine, doomed = login(email), login(email)
    caller = as_caller(mine)
    doomed_id = identity(doomed)[1]
    live = connect(doomed["access_token"])
    kept = connect(mine["access_token"])
    status, _, _ = http_call("RevokeSession", path_parameters={"session_id": doomed_id}, **caller)
    assert status == 204
    assert authorize_identity(doomed["access_token"]) is None
    assert http_call("Refresh", {"refresh_token": doomed["refresh_token"]})[0] == 401
    assert connections().get(live) is None
    assert connections().get(kept) is not None
    assert auth_api().known_revoked([doomed_id, caller["session_id"]]) == {doomed_id}
    listed = http_call("ListSessions", **caller)[1]["items"]
    assert [i["session_id"] for i in listed] == [caller["session_id"]]

    # Already ended, unknown, another user's: 404, and the other user's session lives on.
    _, other_email = new_account()
    theirs = login(other_email)
    for sid in (doomed_id, str(uuid.uuid4()), identity(theirs)[1]):
        status, body, _ = http_call("RevokeSession", path_parameters={"session_id": sid}, **caller)
        assert (status, body["code"]) == (404, "session_not_found"), sid
    assert authorize_identity(theirs["access_token"]) is not None


def test_revoke_other_sessions_keeps_the_callers() -> None:
    _, email = new_account()
    keep, a, b = login(email), login(email), login(email)
    caller = as_caller(keep)
    live = connect(a["access_token"])
    status, _, _ = http_call("RevokeOtherSessions", query={"others": "true"}, **caller)
    assert status == 204
    assert authorize_identity(keep["access_token"]) is not None
    assert authorize_identity(a["access_token"]) is None
    assert authorize_identity(b["access_token"]) is None
    assert connections().get(live) is None
    listed = http_call("ListSessions", **caller)[1]["items"]
    assert [i["session_id"] for i in listed] == [caller["session_id"]]


@pytest.mark.parametrize("query", [{}, {"others": "false"}, {"others": "yes"}])
def test_revoke_other_sessions_needs_others_true(query: dict[str, str]) -> None:
    _, email = new_account()
    keep, other = login(email), login(email)
    status, body, _ = http_call("RevokeOtherSessions", query=query, **as_caller(keep))
    assert (status, body["code"]) == (422, "validation_failed")
    assert authorize_identity(other["access_token"]) is not None


def test_change_password_revokes_the_other_sessions() -> None:
    _, email = new_account()
    keep, other = login(email), login(email)
    body = {"current_password": PASSWORD, "new_password": "battery staple"}
    status, _, _ = http_call("ChangePassword", body, **as_caller(keep))
    assert status == 204
    assert authorize_identity(keep["access_token"]) is not None
    assert authorize_identity(other["access_token"]) is None
    status, refused, _ = http_call("Login", {"email": email, "password": PASSWORD})
    assert (status, refused["code"]) == (401, "invalid_credentials")
    assert login(email, "battery staple")["user_id"] == identity(keep)[0]


def test_change_password_refusals(db: Any) -> None:
    user_id, email = new_account()
    keep, other = login(email), login(email)
    caller = as_caller(keep)
    for new in ("short", "x" * 129):
        body = {"current_password": PASSWORD, "new_password": new}
        status, refused, _ = http_call("ChangePassword", body, **caller)
        assert (status, refused["code"]) == (422, "validation_failed")
    wrong = {"current_password": "wrong horse", "new_password": "battery staple"}
    for _ in range(5):
        status, refused, _ = http_call("ChangePassword", wrong, **caller)
        assert (status, refused["code"]) == (401, "invalid_credentials")
    assert authorize_identity(other["access_token"]) is not None  # nothing revoked
    # Counted toward the login throttle (the account's email, this client's address).
    status, refused, headers = http_call("Login", {"email": email, "password": PASSWORD})
    assert (status, refused["code"]) == (429, "rate_limited")
    assert int(headers["retry-after"]) > 0
    right = {"current_password": PASSWORD, "new_password": "battery staple"}
    status, refused, _ = http_call("ChangePassword", right, **caller)
    assert (status, refused["code"]) == (429, "rate_limited")

    # An OAuth-only account has no password to change.
    db.execute("UPDATE auth.accounts SET password_hash = NULL WHERE user_id = %s", (user_id,))
    status, refused, _ = http_call("ChangePassword", right, **caller)
    assert (status, refused["code"]) == (409, "no_password")


def test_the_operations_account_deletion_calls(db: Any) -> None:
    from messenger.bootstrap import auth_api

    user_id, email = new_account()
    first, second = login(email), login(email)
    live = connect(first["access_token"])
    api = auth_api()
    user = uuid.UUID(user_id)
    assert api.has_password(user) is True
    assert api.has_password(uuid.uuid4()) is False
    assert api.verify_password(user, PASSWORD) is True
    assert api.verify_password(user, "wrong horse") is False
    api.revoke_all_sessions(user)
    assert authorize_identity(first["access_token"]) is None
    assert authorize_identity(second["access_token"]) is None
    assert connections().get(live) is None
    revoked = db.execute(
        "SELECT count(*) FROM auth.logins WHERE user_id = %s AND revoked_at IS NULL", (user,)
    ).fetchone()
    assert revoked == (0,)
