"""Bench rows of catch-up (tests/perf/bench.py's warm part): GET /v1/sync of a 100-frame page,
its floor the same DynamoDB Query made directly (tests/perf/sync_floors.py)."""

from __future__ import annotations

import base64
import time
import uuid
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
    from tests.perf.bench import DRAIN_SECONDS, Rpc, measure_with_floor, note, setup_call

    timed = measure_with_floor(backing)
    friend = client.user()
    client.befriend(me, friend)
    chat_id = setup_call(
        lambda: api.post(
            "/v1/chats", json={"participants": [me["user_id"]]}, headers=friend["headers"]
        )
    ).json()["chat_id"]
    since = setup_call(lambda: api.get("/v1/sync", headers=me["headers"])).json()["next_cursor"]
    note(f"sync: {FRAMES} frames into the stream")
    url = f"/v1/chats/{chat_id}/messages"
    for i in range(FRAMES):
        setup_call(lambda i=i: api.post(url, json={"content": f"s{i}"}, headers=friend["headers"]))
    params = {"since": since, "limit": FRAMES}
    # Generous: the push consumer may still be working off the earlier rows' group fan-outs
    # (each 4 DynamoDB calls per member on the one local moto server, decision 55).
    deadline = time.monotonic() + DRAIN_SECONDS
    while len(api.get("/v1/sync", params=params, headers=me["headers"]).json()["items"]) < FRAMES:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the stream did not reach {FRAMES} frames in {DRAIN_SECONDS} s")
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


def _dynamodb(backing: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=backing["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def fanout(api: httpx.Client, backing: dict[str, str], members: int = 100, n: int = 20) -> str:
    """One message to a `members`-member group, send -> fan-out complete: every other member's
    stream has it (PushRealtimeEvents) and each of their devices was notified (NotifyMessageSent),
    awaited on DynamoDB itself (the stream heads, the notification claims) with bounded polling.
    The floor: the same DynamoDB and SNS calls made directly (tests/perf/sync_floors.py)."""
    from tests.perf.bench import DRAIN_SECONDS, Backlog, Client, floors, note, pct, setup_call

    client = Client(api)
    me = client.user()
    others = []
    note(f"fan-out: {members - 1} members with a device each")
    for i in range(members - 1):
        other = client.user()
        client.befriend(me, other)
        token = f"bench{i:03d}{uuid.uuid4().hex}"
        setup_call(
            lambda other=other, token=token: api.post(
                "/v1/devices", json={"platform": "fcm", "token": token}, headers=other["headers"]
            )
        )
        others.append(other)
    chat = setup_call(
        lambda: api.post(
            "/v1/chats",
            json={"participants": [o["user_id"] for o in others]},
            headers=me["headers"],
        )
    ).json()["chat_id"]
    dynamodb = _dynamodb(backing)
    streams, devices = "UserStreamsTable", "DevicesTable"
    keys = [{"stream": {"S": o["user_id"]}, "position": {"N": "0"}} for o in others]

    def heads() -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(keys), 100):
            got = dynamodb.batch_get_item(
                RequestItems={streams: {"Keys": keys[start : start + 100], "ConsistentRead": True}}
            )
            for item in got["Responses"][streams]:
                found[item["stream"]["S"]] = int(item.get("head", {}).get("N", 0))
        return found

    def claims(message_id: str) -> int:
        got = dynamodb.query(
            TableName=devices,
            KeyConditionExpression="#o = :m",
            ExpressionAttributeNames={"#o": "owner"},
            ExpressionAttributeValues={":m": {"S": f"sent#{message_id}"}},
            ConsistentRead=True,
            Select="COUNT",
        )
        return int(got["Count"])

    url = f"/v1/chats/{chat}/messages"
    samples: list[float] = []
    Backlog.drain()
    for i in range(n + 3):  # the first 3 warm the consumers
        before = heads()
        start = time.perf_counter()
        sent = api.post(url, json={"content": f"fan-out {i}"}, headers=me["headers"])
        sent.raise_for_status()
        message_id = sent.json()["message_id"]
        # The warm-ups may wait behind a backlog the earlier rows left; the measured ones not.
        deadline = time.monotonic() + (DRAIN_SECONDS if i < 3 else 30)
        notified = False
        while True:
            # Polled every 50 ms (a fan-out takes over a second), the cheap check first: a 99-key
            # batch of heads every 10 ms loaded moto, the functions' DynamoDB, during the very
            # row it measured.
            notified = notified or claims(message_id) >= members - 1
            if notified:
                after = heads()
                if len(after) == members - 1 and all(
                    head > before.get(user, 0) for user, head in after.items()
                ):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the fan-out did not complete in time")
            time.sleep(0.05)
        if i >= 3:
            samples.append((time.perf_counter() - start) * 1000)
    (floor,) = floors.run(backing, [("fanout", 10, {"users": [o["user_id"] for o in others]})])
    return (
        f"Fan-out of one message to a {members}-member group (POST -> {members - 1} streams"
        f" appended and {members - 1} devices notified, {n} messages): p50 {pct(samples, 50):.0f}"
        f" ms, p99 {pct(samples, 99):.0f} ms; floor (the same DynamoDB and SNS calls, 16 at a"
        f" time) p50 {pct(floor, 50):.0f} ms"
    )
