"""The README walk-through and every Auth/Users error code of API.md, through real HTTP."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import PASSWORD, bearer, login, register, signed_up, wait_for_profile
from tests.support import unique

pytestmark = pytest.mark.e2e


def problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, object] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    return body


def test_walkthrough_register_login_profile_logout(api: httpx.Client) -> None:
    account = register(api)
    session = login(api, account["email"].upper())
    token = session["access_token"]

    me = wait_for_profile(api, token)
    assert me["user_id"] == account["user_id"]
    assert me["email"] == account["email"]
    assert me["nickname"] == account["nickname"]
    assert me["description"] is None
    assert me["avatar_url"] is None
    assert me["created_at"].endswith("Z")

    by_id = api.get(f"/v1/users/{account['user_id']}", headers=bearer(token))
    assert by_id.status_code == 200
    assert "email" not in by_id.json()
    by_nickname = api.get(
        f"/v1/users/by-nickname/{account['nickname'].upper()}", headers=bearer(token)
    )
    assert by_nickname.json()["user_id"] == account["user_id"]

    assert api.post("/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert api.get("/v1/users/me", headers=bearer(token)).status_code == 401


def test_register_errors(api: httpx.Client) -> None:
    user = signed_up(api)
    taken_email = {"email": user["email"].upper(), "password": PASSWORD, "nickname": unique("x")}
    problem(api.post("/v1/auth/register", json=taken_email), 409, "email_taken")
    taken_nickname = {
        "email": unique("y") + "@example.com",
        "password": PASSWORD,
        "nickname": user["nickname"].swapcase(),
    }
    problem(api.post("/v1/auth/register", json=taken_nickname), 409, "nickname_taken")

    invalid = api.post("/v1/auth/register", json={"email": "nope", "password": "x"})
    body = problem(invalid, 422, "validation_failed")
    fields = {e["field"] for e in body["errors"]}  # type: ignore[attr-defined]
    assert {"email", "password", "nickname"} <= fields

    problem(
        api.post(
            "/v1/auth/register",
            content=b'{"email": "a@b.io",',
            headers={"content-type": "application/json"},
        ),
        400,
        "malformed_json",
    )
    big = json.dumps({"email": "a@b.io", "password": "p" * 70_000, "nickname": "big"})
    problem(
        api.post("/v1/auth/register", content=big, headers={"content-type": "application/json"}),
        413,
        "payload_too_large",
    )


def test_login_errors_and_throttling(api: httpx.Client) -> None:
    account = register(api)
    wrong = api.post("/v1/auth/login", json={"email": account["email"], "password": "wrong pw!"})
    unknown = api.post("/v1/auth/login", json={"email": "no-" + account["email"], "password": "x"})
    assert problem(wrong, 401, "invalid_credentials") == problem(
        unknown, 401, "invalid_credentials"
    )
    for _ in range(4):
        api.post("/v1/auth/login", json={"email": account["email"], "password": "wrong pw!"})
    limited = api.post("/v1/auth/login", json={"email": account["email"], "password": PASSWORD})
    problem(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) > 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer forged-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
    ],
)
def test_protected_routes_refuse_bad_tokens(api: httpx.Client, headers: dict[str, str]) -> None:
    assert api.get("/v1/users/me", headers=headers).status_code == 401
    assert api.post("/v1/auth/logout", headers=headers).status_code == 401


def test_profile_lookups_404(api: httpx.Client) -> None:
    user = signed_up(api)
    token = user["access_token"]
    problem(api.get(f"/v1/users/{uuid.uuid4()}", headers=bearer(token)), 404, "user_not_found")
    problem(
        api.get("/v1/users/by-nickname/no_such_user", headers=bearer(token)), 404, "user_not_found"
    )


def test_profile_not_ready_right_after_registration_is_a_clear_404(api: httpx.Client) -> None:
    # Whether the consumer already ran is a race; either answer must be well-formed.
    account = register(api)
    token = login(api, account["email"])["access_token"]
    response = api.get("/v1/users/me", headers=bearer(token))
    if response.status_code == 404:
        problem(response, 404, "profile_not_ready")
    else:
        assert response.status_code == 200


def test_two_simultaneous_registrations_of_one_nickname_one_201_one_409(
    gateway: LocalGateway,
) -> None:
    """`Nick` and `NICK` at the same moment (API.md, "Accounts and sessions"): exactly one
    account, the other told 409 nickname_taken; the winner's profile keeps it as typed."""
    from concurrent.futures import ThreadPoolExecutor

    for _ in range(3):
        nickname = unique("Nick")
        bodies = [
            {"email": f"{unique('r')}@example.com", "password": PASSWORD, "nickname": nick}
            for nick in (nickname, nickname.upper())
        ]

        def register_one(body: dict[str, str]) -> httpx.Response:
            with httpx.Client(base_url=gateway.url, timeout=30) as client:
                return client.post("/v1/auth/register", json=body)

        with ThreadPoolExecutor(2) as pool:
            responses = list(pool.map(register_one, bodies))
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "nickname_taken"
        winner, body = next(
            (r, b) for r, b in zip(responses, bodies, strict=True) if r.status_code == 201
        )
        with httpx.Client(base_url=gateway.url, timeout=15) as api:
            session = login(api, body["email"])
            profile = wait_for_profile(api, session["access_token"])
        assert profile["nickname"] == winner.json()["nickname"] == body["nickname"]
