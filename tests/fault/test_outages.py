"""Each backing service stopped, paused or restarted under requests (Issue 10, items 7-11).

What every answer during an outage must be: never a 500 (an authorizer error, an unhandled
driver error, a Lambda timeout), a 503 only as `unavailable` with Retry-After, and within the
function's timeout; nothing half-written; and after recovery the very first answer is right.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
import redis
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.flows import PASSWORD, bearer, befriend, login, signed_up
from tests.fault.conftest import FUNCTION_TIMEOUT, Stack, timed
from tests.support import unique

# Setup (every service, a gateway, warm functions) counts against the first test: a busy box.
pytestmark = [pytest.mark.fault, pytest.mark.timeout(300)]


def invocation_seconds(response: httpx.Response, seconds: float) -> float:
    """The longest Lambda invocation behind the answer (the local gateway's Server-Timing:
    authorizer and function), else the client's wait (a WebSocket handshake)."""
    durations = [
        float(part.split("dur=")[1]) / 1000
        for part in response.headers.get("server-timing", "").split(",")
        if "dur=" in part
    ]
    return max(durations) if durations else seconds


def assert_outage_answer(response: httpx.Response, seconds: float, allowed: set[int]) -> None:
    """Not a 500, a well-formed 503 if any, and every invocation ended with time to spare."""
    assert response.status_code in allowed, (response.status_code, response.text)
    if response.status_code == 503:
        assert response.headers.get("retry-after") == "1", response.headers
        assert response.json()["code"] == "unavailable"
    # The deadline keeps a second back; what is left of it covers the error path on a busy box.
    longest = invocation_seconds(response, seconds)
    assert longest < FUNCTION_TIMEOUT - 0.25, f"an invocation took {longest:.1f} s"


def run_all(stack: Stack, service: str, fault: str, calls: dict[str, Any]) -> dict[str, Any]:
    """The requests at once (a hung service makes each wait its deadline), outcomes recorded."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = {route: pool.submit(timed, call) for route, call in calls.items()}
        results = {route: future.result() for route, future in futures.items()}
    for route, (response, seconds) in results.items():
        stack.record(service, fault, route, response, invocation_seconds(response, seconds))
    return results


def ws_status(stack: Stack, token: str) -> httpx.Response:
    """$connect's answer as a response (101 when the socket opened)."""
    url = f"{stack.gateway.ws_url}/?token={token}"
    try:
        with connect(url, open_timeout=FUNCTION_TIMEOUT + 5):
            return httpx.Response(101)
    except InvalidStatus as refused:
        headers = dict(refused.response.headers.raw_items())
        body = b'{"code": "unavailable"}' if refused.response.status_code == 503 else b"{}"
        return httpx.Response(refused.response.status_code, headers=headers, content=body)


def uncached(stack: Stack, token: str) -> str:
    """Drop the token's session from the cache: the authorizer must ask Postgres."""
    key = f"session:{hashlib.sha256(token.encode()).hexdigest()}"
    redis.Redis.from_url(stack.env["REDIS_URL"]).delete(key)
    return token


def me(stack: Stack, token: str) -> Any:
    return lambda: stack.api.get("/v1/users/me", headers=bearer(token))


def register(stack: Stack, email: str) -> Any:
    account = {"email": email, "password": PASSWORD, "nickname": email.split("@")[0]}
    return lambda: stack.api.post("/v1/auth/register", json=account)


def send(stack: Stack, user: dict[str, Any], chat_id: str, content: str) -> Any:
    return lambda: stack.api.post(
        f"/v1/chats/{chat_id}/messages",
        json={"content": content},
        headers=bearer(user["access_token"]),
    )


def list_chats(stack: Stack, user: dict[str, Any]) -> Any:
    return lambda: stack.api.get("/v1/chats", headers=bearer(user["access_token"]))


@pytest.fixture(scope="module")
def pair(stack: Stack) -> tuple[dict[str, Any], dict[str, Any], str]:
    """Two friends with a direct chat."""
    ann, bob = signed_up(stack.api), signed_up(stack.api)
    befriend(stack.api, ann, bob)
    created = stack.api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    )
    assert created.status_code in (200, 201), created.text
    return ann, bob, str(created.json()["chat_id"])


def accounts_without_their_event(stack: Stack) -> list[Any]:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(
            "SELECT a.email FROM auth.accounts a WHERE NOT EXISTS (SELECT 1 FROM messaging.outbox"
            " o WHERE o.topic = 'user-events' AND o.key = a.user_id::text)"
        ).fetchall()


def account_exists(stack: Stack, email: str) -> bool:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM auth.accounts WHERE email = %s", (email,)).fetchone()
    return row is not None


def test_redis_stopped_paused_and_restarted(
    stack: Stack, pair: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ann, bob, chat_id = pair
    stack.redis.stop()
    try:
        results = run_all(
            stack,
            "redis",
            "stopped",
            {
                "protected read (Postgres)": me(stack, ann["access_token"]),
                "protected write (Mongo)": send(stack, ann, chat_id, "redis is down"),
                "protected read (Mongo)": list_chats(stack, bob),
                "open write (register)": register(stack, f"{unique('r')}@example.com"),
                "open login": lambda: stack.api.post(
                    "/v1/auth/login", json={"email": ann["email"], "password": PASSWORD}
                ),
                "websocket $connect": lambda: ws_status(stack, bob["access_token"]),
            },
        )
        # The authorizer reads the session from Postgres: protected routes keep working.
        for route in ("protected read (Postgres)", "protected read (Mongo)"):
            assert_outage_answer(*results[route], allowed={200})
        assert_outage_answer(*results["protected write (Mongo)"], allowed={201})
        assert_outage_answer(*results["websocket $connect"], allowed={101})
        assert_outage_answer(*results["open write (register)"], allowed={201})
        # Login's throttle is Redis: refused as unavailable rather than unthrottled.
        assert_outage_answer(*results["open login"], allowed={200, 503})
    finally:
        stack.redis.start()
    # The first request on warm functions after the restart (their pooled Redis connections died).
    assert stack.api.get("/v1/users/me", headers=bearer(ann["access_token"])).status_code == 200
    assert list_chats(stack, bob)().status_code == 200

    with stack.redis.paused_for():
        results = run_all(
            stack,
            "redis",
            "paused",
            {
                # The session's GET times out (1 s); the authorizer asks Postgres instead.
                "protected read (Postgres)": me(stack, ann["access_token"]),
                "protected read (Mongo)": list_chats(stack, bob),
            },
        )
        for outcome in results.values():
            assert_outage_answer(*outcome, allowed={200})


def test_postgres_stopped_restarted_and_paused(
    stack: Stack, pair: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ann, bob, _ = pair
    fresh = login(stack.api, bob["email"])["access_token"]
    socket_token = login(stack.api, ann["email"])["access_token"]
    assert stack.api.get("/v1/users/me", headers=bearer(fresh)).status_code == 200
    lost_email = f"{unique('p')}@example.com"
    assert list_chats(stack, ann)().status_code == 200  # ann's session is in the cache
    stack.postgres.stop()
    try:
        results = run_all(
            stack,
            "postgres",
            "stopped",
            {
                "protected, token not cached": me(stack, uncached(stack, fresh)),
                "protected read (Mongo), cached token": list_chats(stack, ann),
                "open write (register)": register(stack, lost_email),
                "open login": lambda: stack.api.post(
                    "/v1/auth/login", json={"email": ann["email"], "password": PASSWORD}
                ),
                "websocket $connect, token not cached": lambda: ws_status(stack, fresh),
            },
        )
        unverified = results["protected, token not cached"]
        assert_outage_answer(*unverified, allowed={503})  # the authorizer's unavailable flag
        assert_outage_answer(*results["protected read (Mongo), cached token"], allowed={200})
        assert_outage_answer(*results["open write (register)"], allowed={503})
        assert_outage_answer(*results["open login"], allowed={503})
        assert_outage_answer(*results["websocket $connect, token not cached"], allowed={503})
    finally:
        stack.postgres.start()

    # Item 10: the first request on each warm function after the restart is answered right.
    uncached(stack, fresh)
    first = run_all(
        stack,
        "postgres",
        "after restart (first request)",
        {
            "protected read (Postgres)": me(stack, fresh),
            "open write (register)": register(stack, lost_email),
            "websocket $connect": lambda: ws_status(stack, uncached(stack, socket_token)),
        },
    )
    assert_outage_answer(*first["protected read (Postgres)"], allowed={200})
    assert_outage_answer(*first["open write (register)"], allowed={201})
    assert_outage_answer(*first["websocket $connect"], allowed={101})

    paused_email = f"{unique('s')}@example.com"
    with stack.postgres.paused_for():
        results = run_all(
            stack,
            "postgres",
            "paused",
            {
                "protected, token not cached": me(stack, uncached(stack, fresh)),
                "open write (register)": register(stack, paused_email),
            },
        )
        for outcome in results.values():
            assert_outage_answer(*outcome, allowed={503})
    assert not account_exists(stack, paused_email)  # a refused registration wrote nothing
    assert account_exists(stack, lost_email)
    assert accounts_without_their_event(stack) == []


def test_mongodb_paused_then_gone(
    stack: Stack, pair: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    ann, bob, chat_id = pair
    before = list_chats(stack, bob)().json()["items"][0]
    history = f"/v1/chats/{chat_id}/messages"
    with stack.mongodb.paused_for():
        results = run_all(
            stack,
            "mongodb",
            "paused",
            {
                "protected write (Mongo)": send(stack, ann, chat_id, "into the void"),
                "protected read (Mongo)": list_chats(stack, bob),
                "protected read (history)": lambda: stack.api.get(
                    history, headers=bearer(bob["access_token"])
                ),
                "protected read (Postgres)": me(stack, ann["access_token"]),
            },
        )
        for route in ("protected write (Mongo)", "protected read (Mongo)"):
            assert_outage_answer(*results[route], allowed={503})
        assert_outage_answer(*results["protected read (history)"], allowed={503})
        assert_outage_answer(*results["protected read (Postgres)"], allowed={200})
    # Nothing half-written: no message appeared, and the chat document did not move either.
    after = list_chats(stack, bob)()
    assert after.status_code == 200, after.text
    chat = after.json()["items"][0]
    assert (chat["last_message"], chat["unread_count"]) == (
        before["last_message"],
        before["unread_count"],
    )
    messages = stack.api.get(history, headers=bearer(bob["access_token"])).json()["items"]
    assert "into the void" not in [m["content"] for m in messages]
    # The first send after the pause is a normal one, counted once.
    sent = send(stack, ann, chat_id, "back")()
    assert sent.status_code == 201, sent.text
    assert list_chats(stack, bob)().json()["items"][0]["unread_count"] == before["unread_count"] + 1

    stack.mongodb.stop()
    try:
        results = run_all(
            stack,
            "mongodb",
            "stopped",
            {
                "protected write (Mongo)": send(stack, ann, chat_id, "nobody home"),
                "protected read (Mongo)": list_chats(stack, bob),
            },
        )
        for outcome in results.values():
            assert_outage_answer(*outcome, allowed={503})
    finally:
        stack.mongodb.start()  # in memory: empty again
        stack.restore_mongodb_indexes()


def upload_file(stack: Stack, user: dict[str, Any], data: bytes = b"fault") -> str:
    """An upload whose file is in the bucket (the moto server, S3's stand-in)."""
    body = {"purpose": "attachment", "content_type": "text/plain", "size": len(data)}
    created = stack.api.post("/v1/uploads", json=body, headers=bearer(user["access_token"]))
    assert created.status_code == 201, created.text
    form = created.json()
    sent = httpx.post(
        form["upload"]["url"], data=form["upload"]["fields"], files={"file": ("f", data)}
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return str(form["upload_id"])


def send_file(stack: Stack, user: dict[str, Any], chat_id: str, upload_id: str) -> Any:
    return lambda: stack.api.post(
        f"/v1/chats/{chat_id}/messages",
        json={"content": "file", "attachment_ids": [upload_id]},
        headers=bearer(user["access_token"]),
    )


def new_upload(stack: Stack, user: dict[str, Any]) -> Any:
    body = {"purpose": "attachment", "content_type": "text/plain", "size": 5}
    return lambda: stack.api.post("/v1/uploads", json=body, headers=bearer(user["access_token"]))


def test_dynamodb_stopped_and_restarted(
    stack: Stack, pair: tuple[dict[str, Any], dict[str, Any], str]
) -> None:
    """The moto server is DynamoDB and S3 at once."""
    ann, bob, chat_id = pair
    upload_id = upload_file(stack, ann)
    before = history(stack, ann, chat_id)

    def calls() -> dict[str, Any]:
        return {
            "websocket $connect": lambda: ws_status(stack, ann["access_token"]),
            "protected read (friends, presence)": lambda: stack.api.get(
                "/v1/friends", headers=bearer(bob["access_token"])
            ),
            # Signed here: a new upload needs MongoDB, not S3.
            "new upload": new_upload(stack, bob),
            "send with a file (HEAD, copy)": send_file(stack, ann, chat_id, upload_id),
        }

    def check(results: dict[str, Any]) -> None:
        assert_outage_answer(*results["websocket $connect"], allowed={503})
        assert_outage_answer(*results["protected read (friends, presence)"], allowed={200})
        assert_outage_answer(*results["new upload"], allowed={201})
        assert_outage_answer(*results["send with a file (HEAD, copy)"], allowed={503})
        assert history(stack, ann, chat_id) == before  # nothing half-written

    with stack.dynamodb.paused_for():
        check(run_all(stack, "dynamodb", "paused", calls()))
    stack.dynamodb.stop()
    try:
        check(run_all(stack, "dynamodb", "stopped", calls()))
    finally:
        stack.dynamodb.start()  # in memory: the tables and the bucket are created again
        stack.restore_dynamodb_tables()
    first = ws_status(stack, ann["access_token"])
    stack.record("dynamodb", "after restart (first request)", "websocket $connect", first, 0)
    assert first.status_code == 101
    # The file did not survive (an in-memory S3): a new one is sent at the first try.
    answer = send_file(stack, ann, chat_id, upload_file(stack, ann))()
    stack.record("dynamodb", "after restart (first request)", "send with a file", answer, 0)
    assert answer.status_code == 201, answer.text


def history(stack: Stack, user: dict[str, Any], chat_id: str) -> list[str]:
    page = stack.api.get(f"/v1/chats/{chat_id}/messages", headers=bearer(user["access_token"]))
    assert page.status_code == 200, page.text
    return [m["message_id"] for m in page.json()["items"]]


def test_the_fault_matrix_has_no_500(stack: Stack) -> None:
    assert stack.matrix, "the outage tests recorded nothing"
    assert [o for o in stack.matrix if o.status >= 500 and o.status != 503] == []
