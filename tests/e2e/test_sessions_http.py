"""Accounts a person can keep, through real HTTP: refresh with rotation, sessions listed and
revoked (their sockets closed), password change, and the mails (verification, reset) read from
the local mailbox and followed."""

from __future__ import annotations

import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import (
    PASSWORD,
    bearer,
    device,
    login,
    mail_token,
    next_frame,
    of_type,
    register,
    verified,
    wait_for_profile,
)

pytestmark = pytest.mark.e2e


def closed_by_server(ws: ClientConnection, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            ws.recv(timeout=deadline - time.monotonic())
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False
    return False


def me(api: httpx.Client, token: str) -> httpx.Response:
    return api.get("/v1/users/me", headers=bearer(token))


def sessions(api: httpx.Client, token: str) -> list[dict[str, object]]:
    response = api.get("/v1/auth/sessions", headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_registration_verifies_by_mail(api: httpx.Client) -> None:
    account = register(api)
    session = login(api, account["email"])
    assert wait_for_profile(api, session["access_token"])["email_verified"] is False
    verified(api, account)
    assert me(api, session["access_token"]).json()["email_verified"] is True
    again = api.post("/v1/auth/email/verify/resend", headers=bearer(session["access_token"]))
    assert again.status_code == 202
    limited = api.post("/v1/auth/email/verify/resend", headers=bearer(session["access_token"]))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    bad = api.post("/v1/auth/email/verify", json={"token": "made-up"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_token")


def test_refresh_rotates_and_a_replay_ends_the_session(
    gateway: LocalGateway, api: httpx.Client
) -> None:
    account = register(api)
    first = login(api, account["email"])
    assert first["refresh_expires_in"] > first["expires_in"] > 0
    wait_for_profile(api, first["access_token"])
    rotated = api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert me(api, second["access_token"]).status_code == 200
    (listed,) = sessions(api, second["access_token"])  # one login, one session
    assert listed["current"] is True

    with device(gateway, {**account, **second}) as ws:
        replay = api.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
        assert (replay.status_code, replay.json()["code"]) == (401, "invalid_token")
        assert closed_by_server(ws), "the session's socket stayed open"
    assert me(api, second["access_token"]).status_code == 401
    after = api.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


def test_sessions_listed_revoked_one_by_one_and_all_others(
    gateway: LocalGateway, api: httpx.Client
) -> None:
    account = register(api)
    phone = login(api, account["email"])
    wait_for_profile(api, phone["access_token"])
    laptop, tablet = login(api, account["email"]), login(api, account["email"])
    listed = sessions(api, phone["access_token"])
    assert len(listed) == 3
    assert sum(1 for s in listed if s["current"]) == 1
    assert all(s["user_agent"] for s in listed)
    mine = next(s["session_id"] for s in listed if s["current"])
    laptop_id = next(s["session_id"] for s in sessions(api, laptop["access_token"]) if s["current"])

    with device(gateway, {**account, **laptop}) as ws:
        gone = api.delete(f"/v1/auth/sessions/{laptop_id}", headers=bearer(phone["access_token"]))
        assert gone.status_code == 204
        told = next_frame(ws, of_type("session.revoked", session_id=laptop_id))
        assert told["data"] == {"session_id": laptop_id}
        assert closed_by_server(ws)
    assert me(api, laptop["access_token"]).status_code == 401
    again = api.delete(f"/v1/auth/sessions/{laptop_id}", headers=bearer(phone["access_token"]))
    assert (again.status_code, again.json()["code"]) == (404, "session_not_found")

    refused = api.delete("/v1/auth/sessions", headers=bearer(phone["access_token"]))
    assert refused.status_code == 422
    others = api.delete(
        "/v1/auth/sessions", params={"others": "true"}, headers=bearer(phone["access_token"])
    )
    assert others.status_code == 204
    assert me(api, tablet["access_token"]).status_code == 401
    assert [s["session_id"] for s in sessions(api, phone["access_token"])] == [mine]


def test_password_change_keeps_only_the_callers_session(api: httpx.Client) -> None:
    account = register(api)
    keep = login(api, account["email"])
    wait_for_profile(api, keep["access_token"])
    other = login(api, account["email"])
    wrong = api.post(
        "/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "a new password"},
        headers=bearer(keep["access_token"]),
    )
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_credentials")
    changed = api.post(
        "/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a new password"},
        headers=bearer(keep["access_token"]),
    )
    assert changed.status_code == 204, changed.text
    assert me(api, keep["access_token"]).status_code == 200
    assert me(api, other["access_token"]).status_code == 401
    login(api, account["email"], "a new password")


def test_password_reset_by_mail(api: httpx.Client) -> None:
    account = register(api)
    session = login(api, account["email"])
    for address in (account["email"], "nobody-" + account["email"]):
        asked = api.post("/v1/auth/password/reset", json={"email": address})
        assert (asked.status_code, asked.content) == (202, b"")
    token = mail_token(api, account["email"], "Reset your password")
    confirmed = api.post(
        "/v1/auth/password/reset/confirm", json={"token": token, "new_password": "reset password"}
    )
    assert confirmed.status_code == 204, confirmed.text
    assert me(api, session["access_token"]).status_code == 401  # every session ended
    login(api, account["email"], "reset password")
    reused = api.post(
        "/v1/auth/password/reset/confirm", json={"token": token, "new_password": "again again"}
    )
    assert (reused.status_code, reused.json()["code"]) == (400, "invalid_token")
    nobody = api.get("/_local/mail", params={"to": "nobody-" + account["email"]})
    assert nobody.json() == {"items": []}
