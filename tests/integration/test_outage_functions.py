"""The authorizer and `$connect` with Redis, then Postgres too, unreachable (real drivers failing).

"Unreachable" is the environment's client pointed at a port nothing listens on, as a dead
ElastiCache node or database looks to the driver: connection refused.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from messenger_local.services import free_port
from tests.integration.helpers import account as _account
from tests.integration.helpers import authorize, http_call
from tests.support import invoke, sample_event, unique

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("in_process_env")]


@contextmanager
def redis_down() -> Iterator[None]:
    from messenger.platform import redis

    saved = redis._client
    redis._client = redis.make_client(f"redis://127.0.0.1:{free_port()}/0")  # as configured
    try:
        yield
    finally:
        redis._client = saved


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


def raw_authorize(token: str) -> dict[str, Any]:
    event = sample_event("Authorizer")
    event.setdefault("headers", {})["authorization"] = f"Bearer {token}"
    result: dict[str, Any] = invoke("Authorizer", event)
    return result


def account() -> tuple[str, str]:
    nickname = unique("o")
    body = {"email": f"{nickname}@example.com", "password": "correct horse", "nickname": nickname}
    status, registered, _ = http_call("Register", body)
    assert status == 201
    status, session, _ = http_call("Login", {"email": body["email"], "password": body["password"]})
    assert status == 200
    return str(registered["user_id"]), str(session["access_token"])


def test_with_redis_down_the_authorizer_reads_postgres_and_still_sees_logouts(
    realtime_env: dict[str, str],  # Logout closes the session's connections
) -> None:
    user_id, token = account()
    revoked_user, revoked = account()
    assert http_call("Logout", token=revoked, user_id=revoked_user)[0] == 204
    with redis_down():
        started = time.monotonic()
        assert authorize(token) == user_id
        assert authorize(revoked) is None  # revoked_at in Postgres, not just the tombstone
        assert authorize("not-a-session") is None
        assert time.monotonic() - started < 3


def test_with_redis_and_postgres_down_the_authorizer_flags_the_request_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = account()
    with redis_down(), postgres_down(monkeypatch):
        result = raw_authorize(token)
    assert result == {"isAuthorized": True, "context": {"unavailable": True}}  # and no user id
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        raw_authorize("")  # no token is still a plain 401, whatever is down


def test_connect_answers_503_with_retry_after_when_sessions_cannot_be_checked(
    realtime_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = _account()
    event = sample_event("WebSocketConnect")
    event["requestContext"]["connectionId"] = f"it{uuid.uuid4().hex[:12]}="
    event["queryStringParameters"] = {"token": token}
    with redis_down(), postgres_down(monkeypatch):
        refused = invoke("WebSocketConnect", event)
    assert refused["statusCode"] == 503
    assert refused["headers"]["Retry-After"] == "1"
    with redis_down():  # Redis alone: the session comes from Postgres and the socket opens
        assert invoke("WebSocketConnect", event)["statusCode"] == 200
