"""What a client does, in a few reusable steps over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import poll, unique

PASSWORD = "correct horse battery"


def register(api: httpx.Client, nickname: str | None = None) -> dict[str, Any]:
    nickname = nickname or unique("e")
    account = {"email": f"{nickname}@example.com", "password": PASSWORD, "nickname": nickname}
    response = api.post("/v1/auth/register", json=account)
    assert response.status_code == 201, response.text
    return {**account, **response.json()}


def login(api: httpx.Client, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = api.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_profile(api: httpx.Client, token: str, timeout: float = 20) -> dict[str, Any]:
    """GET /v1/users/me until the users consumer has created the profile (bounded)."""

    def ready() -> dict[str, Any] | None:
        response = api.get("/v1/users/me", headers=bearer(token))
        if response.status_code == 404:
            assert response.json()["code"] == "profile_not_ready"
            return None
        assert response.status_code == 200, response.text
        profile: dict[str, Any] = response.json()
        return profile

    return poll(ready, timeout=timeout, interval=0.2)


def signed_up(api: httpx.Client) -> dict[str, Any]:
    """A user whose profile exists, with a live token."""
    account = register(api)
    session = login(api, account["email"])
    wait_for_profile(api, session["access_token"])
    return {**account, **session}


def befriend(api: httpx.Client, a: dict[str, Any], b: dict[str, Any]) -> None:
    sent = api.post(
        "/v1/friends/requests", json={"nickname": b["nickname"]}, headers=bearer(a["access_token"])
    )
    assert sent.status_code == 201, sent.text
    accepted = api.post(
        f"/v1/friends/requests/{a['nickname']}/accept", headers=bearer(b["access_token"])
    )
    assert accepted.status_code == 200, accepted.text
