"""Bench rows of catch-up (tests/perf/bench.py's warm part): GET /v1/sync of a 100-frame page,
its floor the same DynamoDB Query made directly (tests/perf/sync_floors.py)."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from tests.perf.bench import Client, Rpc

FRAMES = 100


def _position(cursor: str) -> int:
    """The stream position an (opaque to clients) cursor holds: what the floor queries after."""
    return int(base64.urlsafe_b64decode(cursor))


def sync_rows(
    api: httpx.Client, client: Client, me: dict[str, Any], n: int, backing: dict[str, str]
) -> list[Rpc]:
    from tests.perf.bench import Rpc, measure_with_floor, note, setup_call

    timed = measure_with_floor(backing)
    friend = client.user()
    client.befriend(me, friend)
    chat_id = setup_call(
        lambda: api.post(
            "/v1/chats", json={"participants": [friend["user_id"]]}, headers=friend["headers"]
        )
    ).json()["chat_id"]
    since = setup_call(lambda: api.get("/v1/sync", headers=me["headers"])).json()["next_cursor"]
    note(f"sync: {FRAMES} frames into the stream")
    url = f"/v1/chats/{chat_id}/messages"
    for i in range(FRAMES):
        setup_call(lambda i=i: api.post(url, json={"content": f"s{i}"}, headers=friend["headers"]))
    params = {"since": since, "limit": FRAMES}
    deadline = time.monotonic() + 60
    while len(api.get("/v1/sync", params=params, headers=me["headers"]).json()["items"]) < FRAMES:
        if time.monotonic() > deadline:
            raise RuntimeError("the stream never reached 100 frames")
        time.sleep(0.1)
    for _ in range(10):  # warm
        api.get("/v1/sync", params=params, headers=me["headers"])
    return [
        timed(
            Rpc(f"GET /v1/sync ({FRAMES} frames)"),
            2 * n,
            lambda _: api.get("/v1/sync", params=params, headers=me["headers"]),
            (
                "sync_frames",
                2 * n,
                {"user": str(me["user_id"]), "since": _position(since), "limit": FRAMES},
            ),
        )
    ]
