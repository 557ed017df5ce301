"""Catch-up after a reconnect through the local gateway: frames carry cursors, GET /v1/sync
returns what a disconnected client missed (the real path: HTTP -> Kafka -> PushRealtimeEvents
appends each recipient's stream -> sync reads it)."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from messenger_local.gateway import LocalGateway
from tests.e2e.flows import bearer, befriend, device, next_frame, of_type, signed_up
from tests.support import poll

pytestmark = pytest.mark.e2e


def _chat(api: httpx.Client, ann: dict[str, Any], bob: dict[str, Any]) -> str:
    response = api.post(
        "/v1/chats", json={"participants": [bob["user_id"]]}, headers=bearer(ann["access_token"])
    )
    assert response.status_code in (200, 201), response.text
    return str(response.json()["chat_id"])


def _sync(api: httpx.Client, user: dict[str, Any], **params: Any) -> httpx.Response:
    return api.get("/v1/sync", params=params, headers=bearer(user["access_token"]))


def _cursor(api: httpx.Client, user: dict[str, Any]) -> str:
    response = _sync(api, user)
    assert response.status_code == 200, response.text
    assert response.json()["items"] == []
    return str(response.json()["next_cursor"])


def _after(api: httpx.Client, user: dict[str, Any], since: str, limit: int = 100) -> list[Any]:
    frames: list[Any] = []
    while True:
        response = _sync(api, user, since=since, limit=limit)
        assert response.status_code == 200, response.text
        page = response.json()
        frames.extend(page["items"])
        since = page["next_cursor"]
        if not page["has_more"]:
            return frames


def _ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else None


def test_a_client_that_reconnects_syncs_exactly_what_it_missed(
    gateway: LocalGateway, api: httpx.Client
) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    chat = _chat(api, ann, bob)
    auth = bearer(ann["access_token"])
    with device(gateway, bob) as ws:
        hello = _ok(api.post(f"/v1/chats/{chat}/messages", json={"content": "hi"}, headers=auth))
        frame = next_frame(ws, of_type("message.sent", message_id=hello["message_id"]))
    last_seen = frame["cursor"]  # the client keeps the cursor of the last frame it handled

    # Offline, 50 events of mixed kinds (each names its message: the expected order).
    expected: list[tuple[str, str]] = []
    for i in range(10):
        sent = _ok(api.post(f"/v1/chats/{chat}/messages", json={"content": f"m{i}"}, headers=auth))
        mid = sent["message_id"]
        base = f"/v1/chats/{chat}/messages/{mid}"
        _ok(api.patch(base, json={"content": f"m{i}!"}, headers=auth))
        _ok(api.put(f"{base}/reactions/{quote('👍')}", headers=auth))
        _ok(api.delete(f"{base}/reactions/{quote('👍')}", headers=auth))
        if i % 2:
            _ok(api.delete(base, params={"for": "everyone"}, headers=auth))
            last = "message.deleted"
        else:
            _ok(api.patch(base, json={"content": f"m{i}!!"}, headers=auth))
            last = "message.edited"
        kinds = ("message.sent", "message.edited", "message.reaction_added")
        expected += [(k, mid) for k in (*kinds, "message.reaction_removed", last)]

    frames = poll(
        lambda: (f := _after(api, bob, last_seen, limit=7)) and len(f) >= 50 and f, timeout=60
    )
    assert [(f["type"], f["data"]["message_id"]) for f in frames] == expected
    assert len({f["cursor"] for f in frames}) == 50  # no repeat
    assert last_seen not in {f["cursor"] for f in frames}

    # Back online: the next live frame is the one right after the synced ones.
    with device(gateway, bob) as ws:
        after = _ok(api.post(f"/v1/chats/{chat}/messages", json={"content": "back"}, headers=auth))
        live = next_frame(ws, of_type("message.sent", message_id=after["message_id"]))
    (only,) = _after(api, bob, frames[-1]["cursor"])
    assert only == live


def test_sync_while_events_arrive_misses_nothing_and_repeats_nothing(
    api: httpx.Client,
) -> None:
    ann, bob = signed_up(api), signed_up(api)
    befriend(api, ann, bob)
    chat = _chat(api, ann, bob)
    since = _cursor(api, bob)
    sent: list[str] = []

    def sender() -> None:
        """30 sends back to back, past the burst of 20 at 10/s when the gateway is quick: a
        429 is waited out as its Retry-After says, as a client does."""
        auth = bearer(ann["access_token"])
        with httpx.Client(base_url=str(api.base_url), timeout=15) as own:
            for i in range(30):
                while True:
                    response = own.post(
                        f"/v1/chats/{chat}/messages", json={"content": f"n{i}"}, headers=auth
                    )
                    if response.status_code != 429:
                        break
                    time.sleep(float(response.headers["Retry-After"]))
                assert response.status_code == 201, response.text
                sent.append(response.json()["message_id"])

    thread = threading.Thread(target=sender)
    thread.start()
    seen: list[str] = []

    def more() -> bool:
        nonlocal since
        response = _sync(api, bob, since=since, limit=4)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(f["data"]["message_id"] for f in page["items"])
        since = page["next_cursor"]
        return len(seen) >= 30

    poll(more, timeout=60, interval=0.05)
    thread.join(timeout=30)
    assert seen == sent


def test_sync_refusals(api: httpx.Client) -> None:
    bob = signed_up(api)
    for params in ({"since": "garbage"}, {"limit": 501}, {"limit": 0}):
        response = _sync(api, bob, **params)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed"
    assert api.get("/v1/sync").status_code == 401
