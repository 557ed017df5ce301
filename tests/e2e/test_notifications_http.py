"""Push devices and notifications through the local gateway: register a phone, a message from a
friend reaches it through SNS (the moto server's), visible at /_local/notifications; logout
removes the session's devices."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.flows import bearer, befriend, login, signed_up
from tests.support import poll

pytestmark = pytest.mark.e2e


def _notifications(api: httpx.Client, user: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.get("/_local/notifications", params={"user_id": user["user_id"]})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_a_message_notifies_the_recipients_phone_and_logout_removes_it(
    api: httpx.Client,
) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    phone = api.post(
        "/v1/devices",
        json={"platform": "apns_sandbox", "token": uuid.uuid4().hex * 2},
        headers=bearer(bob["access_token"]),
    )
    assert phone.status_code == 201, phone.text
    device = phone.json()
    listed = api.get("/v1/devices", headers=bearer(bob["access_token"]))
    assert listed.json() == {"items": [device]}

    chat = api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    ).json()["chat_id"]
    sent = api.post(
        f"/v1/chats/{chat}/messages", json={"content": "ping"}, headers=bearer(ann["access_token"])
    )
    assert sent.status_code == 201, sent.text
    (notification,) = poll(lambda: _notifications(api, bob), timeout=30)
    assert notification["device_id"] == device["device_id"]
    assert notification["platform"] == "apns_sandbox"
    assert notification["title"] == ann["nickname"]
    assert notification["body"] == "ping"
    assert notification["badge"] == 1
    assert notification["data"] == {"chat_id": chat, "message_id": sent.json()["message_id"]}
    assert _notifications(api, ann) == []  # the author is not notified

    other = login(api, bob["email"])  # another session of bob's
    out = api.post("/v1/auth/logout", headers=bearer(bob["access_token"]))
    assert out.status_code == 204, out.text
    after = api.get("/v1/devices", headers=bearer(other["access_token"]))
    assert after.json() == {"items": []}


def test_device_refusals(api: httpx.Client) -> None:
    bob = signed_up(api)
    auth = bearer(bob["access_token"])
    bad = api.post("/v1/devices", json={"platform": "webpush", "token": "t"}, headers=auth)
    assert bad.status_code == 422
    missing = api.delete(f"/v1/devices/{uuid.uuid4()}", headers=auth)
    assert missing.status_code == 404
    assert missing.json()["code"] == "device_not_found"
    assert api.get("/v1/devices").status_code == 401
