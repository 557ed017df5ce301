"""Abuse limits with the template's defaults, over real HTTP: per-user rate limits and logins.

The session gateway lifts the per-user limits (other tests send fast on purpose); this module
runs its own gateway with the defaults (only the per-email login ceiling lowered, from 100 to 8,
so that proving it takes 8 wrong passwords rather than 100). Client addresses differ by the
loopback address each client binds to (127.0.0.x): the gateway's sourceIp is the real peer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.conftest import FAST_RELAY, start_gateway
from tests.e2e.flows import PASSWORD, bearer, befriend, register, signed_up
from tests.support import poll, unique

pytestmark = pytest.mark.e2e

PER_EMAIL_CEILING = 8


@pytest.fixture(scope="module")
def limits_gateway(backing_env: dict[str, str], gateway: LocalGateway) -> Iterator[LocalGateway]:
    """HTTP only: the session `gateway` consumes the events (profiles appear through it)."""
    own = start_gateway(
        backing_env,
        "limits",
        triggers=False,
        parameters={**FAST_RELAY, "LoginMaxFailuresPerEmail": str(PER_EMAIL_CEILING)},
    )
    try:
        # The bursts below use every environment a function may have (4 locally): create them
        # one at a time first, as parallel cold starts on a loaded machine can exceed the local
        # 10 s init bound (a 500 that has nothing to do with the limits).
        for count in range(1, 5):
            for function_id in ("Authorizer", "SendMessage", "CreateChat"):
                own.prewarm(function_id, count=count)
        yield own
    finally:
        own.stop()


def client_from(gateway: LocalGateway, address: str) -> httpx.Client:
    """A client whose connections leave from `address` (any 127.0.0.0/8 address is local)."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=gateway.url, timeout=30, transport=transport)


@pytest.fixture
def api(limits_gateway: LocalGateway) -> Iterator[httpx.Client]:
    with client_from(limits_gateway, "127.0.0.1") as client:
        yield client


def send(api: httpx.Client, user: dict[str, Any], chat_id: str, text: str) -> httpx.Response:
    return api.post(
        f"/v1/chats/{chat_id}/messages",
        json={"content": text},
        headers=bearer(user["access_token"]),
    )


def assert_limited(response: httpx.Response, at_most: int) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "rate_limited"
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), "Retry-After is whole seconds"
    assert 1 <= int(retry_after) <= at_most
    return int(retry_after)


def test_a_burst_of_twenty_messages_is_within_the_limit(api: httpx.Client) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    created = api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    )
    assert created.status_code == 201, created.text
    chat_id = created.json()["chat_id"]
    # 20 at once is the burst: all accepted, however fast they arrive.
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda i: send(api, ann, chat_id, f"burst {i}"), range(20)))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers]
    # Bob has his own budget.
    assert send(api, bob, chat_id, "still here").status_code == 201


def test_a_burst_over_twenty_sends_is_refused_then_sending_resumes(api: httpx.Client) -> None:
    ann = signed_up(api)
    # Every attempt counts, so a chat that does not exist keeps the burst cheap (404, no write):
    # the sends reach the limiter much faster than 10/s even on a loaded machine.
    nowhere = str(uuid.uuid4())
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda i: send(api, ann, nowhere, f"burst {i}"), range(80)))
    elapsed = time.monotonic() - started
    passed = [a for a in answers if a.status_code == 404]
    refused = [a for a in answers if a.status_code != 404]
    assert refused, f"80 sends in {elapsed:.1f} s were never limited"
    for answer in refused:  # one message is 100 ms of the schedule: Retry-After 1 (rounded up)
        assert_limited(answer, at_most=1)
    assert 20 <= len(passed) <= 20 + 10 * elapsed + 1, (len(passed), elapsed)

    # Once the Retry-After has passed, Ann may send again.
    poll(lambda: send(api, ann, nowhere, "again").status_code == 404, timeout=10, interval=0.5)


def test_friend_requests_are_limited_to_thirty_an_hour(api: httpx.Client) -> None:
    ann = signed_up(api)
    # Every request counts, answered or not: unknown nicknames keep this test cheap.
    for _ in range(30):
        answer = api.post(
            "/v1/friends/requests",
            json={"nickname": unique("nobody")},
            headers=bearer(ann["access_token"]),
        )
        assert answer.status_code == 404, answer.text
    over = api.post(
        "/v1/friends/requests", json={"nickname": unique("x")}, headers=bearer(ann["access_token"])
    )
    retry_after = assert_limited(over, at_most=120)
    assert retry_after > 100, "30/h: the next request is about two minutes away"


def test_chat_creation_is_limited_to_thirty_a_minute(api: httpx.Client) -> None:
    ann = signed_up(api)
    stranger = str(uuid.uuid4())

    def create(_: int) -> httpx.Response:  # not friends: 403, but counted
        return api.post(
            "/v1/chats", json={"participants": [stranger]}, headers=bearer(ann["access_token"])
        )

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(create, range(50)))
    elapsed = time.monotonic() - started
    passed = [a for a in answers if a.status_code == 403]
    refused = [a for a in answers if a.status_code != 403]
    assert refused, f"50 chat creations in {elapsed:.1f} s were never limited"
    for answer in refused:  # 30/min: one every 2 s
        assert_limited(answer, at_most=2)
    assert 30 <= len(passed) <= 30 + elapsed / 2 + 1, (len(passed), elapsed)


def wrong_login(client: httpx.Client, email: str) -> httpx.Response:
    return client.post("/v1/auth/login", json={"email": email, "password": "wrong password"})


def right_login(client: httpx.Client, email: str) -> httpx.Response:
    return client.post("/v1/auth/login", json={"email": email, "password": PASSWORD})


def test_an_attacker_locks_only_their_address_until_the_email_ceiling(
    limits_gateway: LocalGateway, api: httpx.Client
) -> None:
    email = register(api)["email"]
    with (
        client_from(limits_gateway, "127.0.0.2") as attacker,
        client_from(limits_gateway, "127.0.0.3") as owner,
        client_from(limits_gateway, "127.0.0.4") as accomplice,
    ):
        for _ in range(5):
            assert wrong_login(attacker, email).status_code == 401
        # The attacker's address is locked for the window, even with the right password...
        assert_limited(right_login(attacker, email), at_most=15 * 60)
        # ...the owner's is not.
        assert right_login(owner, email).status_code == 200

        # From more addresses, the email's ceiling (8 here, 100 by default) locks everyone,
        # the owner too: the owner's success above did not reset it.
        for _ in range(PER_EMAIL_CEILING - 5):
            assert wrong_login(accomplice, email).status_code == 401
        assert_limited(right_login(owner, email), at_most=15 * 60)
        assert_limited(wrong_login(accomplice, email), at_most=15 * 60)


def test_uploads_are_limited_to_twenty_a_minute(api: httpx.Client) -> None:
    ann = signed_up(api)
    body = {"purpose": "attachment", "content_type": "text/plain", "size": 3}
    for _ in range(20):
        answer = api.post("/v1/uploads", json=body, headers=bearer(ann["access_token"]))
        assert answer.status_code == 201, answer.text
    over = api.post("/v1/uploads", json=body, headers=bearer(ann["access_token"]))
    assert_limited(over, at_most=3)  # 20/min: one every 3 s
