"""`make load`: a bounded load test of a realistic mix against a local stack it starts itself.

Virtual users (each registered, logged in and connected over the local WebSocket API) run a closed
loop for `--duration` seconds or `--max-ops` operations, whichever comes first: send a message
(to their direct chat or to the group chat), read a chat's history, list their chats, with an
exponential think time between operations. Every send is pushed to every participant's
connection (Kafka -> PushRealtimeEvents -> @connections); each frame's latency from the send is
measured. Prints messages/s, p50/p99 per route, push latency and every error; exits 1 when any
request failed or a frame is missing.

Rate limits (10 sends/s per user, bursts of 20) are not raised: the load is spread over users,
each sending at most ~1/think-time per second, far below the limit; a 429 counts as an error.
Loopback only (the gateway binds 127.0.0.1), bounded in count and time, stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from messenger_local.gateway import LocalGateway
from messenger_local.services import LocalServices, drop_database
from tests.support import ROOT

SEND = "POST /v1/chats/{id}/messages"
HISTORY = "GET /v1/chats/{id}/messages"
LIST = "GET /v1/chats"
MIX = ((SEND, 0.5), (HISTORY, 0.25), (LIST, 0.25))
CONCURRENCY = 4  # execution environments per function (the gateway's cap)
# Environments created before measuring: every HTTP function up to the cap; the push consumer
# is invoked by one poller at a time.
MEASURED_FUNCTIONS = {
    "Authorizer": CONCURRENCY,
    "SendMessage": CONCURRENCY,
    "GetChatHistory": CONCURRENCY,
    "ListChats": CONCURRENCY,
    "PushRealtimeEvents": 1,
}
GROUP_SHARE = 0.2  # of sends, to the group chat (the rest to the sender's direct chat)


def pct(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class User:
    nickname: str
    user_id: str = ""
    token: str = ""
    direct_chat: str = ""
    group_chat: str = ""
    ws: ClientConnection | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Stats:
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    sent_at: dict[str, float] = field(default_factory=dict)  # content -> send start
    expected_frames: int = 0
    push_ms: list[float] = field(default_factory=list)
    ops: int = 0


async def checked(response: httpx.Response, *ok: int) -> httpx.Response:
    if response.status_code not in ok:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}:"
            f" {response.status_code} {response.text[:200]}"
        )
    return response


async def sign_up(api: httpx.AsyncClient, user: User) -> None:
    account = {
        "email": f"{user.nickname}@example.com",
        "password": "correct horse",
        "nickname": user.nickname,
    }
    await checked(await api.post("/v1/auth/register", json=account), 201)
    login = {"email": account["email"], "password": account["password"]}
    session = (await checked(await api.post("/v1/auth/login", json=login), 200)).json()
    user.token, user.user_id = session["access_token"], session["user_id"]
    deadline = time.monotonic() + 30  # the profile is created from user.registered
    while (await api.get("/v1/users/me", headers=user.headers)).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{user.nickname}: profile never appeared")
        await asyncio.sleep(0.05)


async def befriend(api: httpx.AsyncClient, a: User, b: User) -> None:
    body = {"nickname": b.nickname}
    await checked(await api.post("/v1/friends/requests", json=body, headers=a.headers), 201, 200)
    url = f"/v1/friends/requests/{a.nickname}/accept"
    await checked(await api.post(url, headers=b.headers), 200, 204)


async def create_chat(api: httpx.AsyncClient, owner: User, others: list[User]) -> str:
    body = {"participants": [o.user_id for o in others]}
    response = await checked(await api.post("/v1/chats", json=body, headers=owner.headers), 201)
    return str(response.json()["chat_id"])


async def in_chunks(calls: list[Any], size: int = 4) -> None:
    """Run coroutines a few at a time (setup is not measured; a cold-start storm helps no one)."""
    for start in range(0, len(calls), size):
        await asyncio.gather(*calls[start : start + size])


async def setup(api: httpx.AsyncClient, users: list[User], group_size: int) -> int:
    """Sign everyone up, make the friendships and chats; returns the group chat's size."""
    await in_chunks([sign_up(api, u) for u in users])
    half = len(users) // 2
    group = users[: max(2, min(group_size, half))]
    owner = group[0]
    await in_chunks([befriend(api, owner, member) for member in group[1:]])
    pairs = [(users[i], users[i + half]) for i in range(half)]
    await in_chunks([befriend(api, a, b) for a, b in pairs])
    group_chat = await create_chat(api, owner, group[1:])
    for member in group:
        member.group_chat = group_chat
    for a, b in pairs:
        a.direct_chat = b.direct_chat = await create_chat(api, a, [b])
    return len(group)


async def listen(user: User, stats: Stats) -> None:
    assert user.ws is not None
    try:
        async for raw in user.ws:
            now = time.perf_counter()
            frame = json.loads(raw)
            if frame.get("type") != "message.sent":
                continue
            started = stats.sent_at.get(frame["data"].get("content", ""))
            if started is not None:
                stats.push_ms.append((now - started) * 1000)
    except Exception:  # closed at the end
        return


async def operation(
    api: httpx.AsyncClient, user: User, stats: Stats, group_size: int, record: bool
) -> None:
    route = random.choices([r for r, _ in MIX], [w for _, w in MIX])[0]
    started = time.perf_counter()
    try:
        if route == SEND:
            to_group = user.group_chat and random.random() < GROUP_SHARE
            chat = user.group_chat if to_group else user.direct_chat
            content = f"load {uuid.uuid4().hex}"
            if record:
                stats.sent_at[content] = started
            url = f"/v1/chats/{chat}/messages"
            body = {"content": content}
            await checked(await api.post(url, json=body, headers=user.headers), 201)
            if record:
                stats.expected_frames += group_size if to_group else 2
        elif route == HISTORY:
            chat = random.choice([c for c in (user.direct_chat, user.group_chat) if c])
            url = f"/v1/chats/{chat}/messages"
            await checked(await api.get(url, params={"limit": 50}, headers=user.headers), 200)
        else:
            await checked(await api.get("/v1/chats", headers=user.headers), 200)
    except Exception as exc:
        if record:  # a warm-up operation may fail (a cold start on a busy machine): not counted
            stats.errors.append(f"{route}: {exc}")
        return
    if record:
        stats.latency_ms[route].append((time.perf_counter() - started) * 1000)
        stats.ops += 1


async def virtual_user(
    api: httpx.AsyncClient,
    user: User,
    stats: Stats,
    group_size: int,
    until: float,
    max_ops: int,
    think: float,
) -> None:
    while time.monotonic() < until and stats.ops + len(stats.errors) < max_ops:
        await operation(api, user, stats, group_size, record=True)
        await asyncio.sleep(random.expovariate(1 / think))


async def drive(gateway: LocalGateway, args: argparse.Namespace) -> tuple[Stats, float, int]:
    tag = uuid.uuid4().hex[:6]
    disconnects = [0]
    disconnect_function = gateway.template.websocket_apis[0].routes["$disconnect"].function

    def count_disconnects(function: str) -> None:
        if function == disconnect_function:
            disconnects[0] += 1

    gateway.runtime.add_listener(count_disconnects)
    users = [User(f"ld{tag}{i}") for i in range(args.users)]
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users)
    async with httpx.AsyncClient(base_url=gateway.url, timeout=30, limits=limits) as api:
        group_size = await setup(api, users, args.group)
        for user in users:
            user.ws = await connect(f"{gateway.ws_url}/?token={user.token}", open_timeout=30)
        stats = Stats()
        listeners = [asyncio.create_task(listen(u, stats)) for u in users]
        try:
            # Warm the measured functions' environments one at a time (cold starts are not what
            # this measures, and a storm of them on a busy machine exceeds the 10 s init limit).
            for function, count in MEASURED_FUNCTIONS.items():
                await asyncio.to_thread(gateway.prewarm, function, count=count)
            for _ in range(2):
                await asyncio.gather(*(operation(api, u, stats, group_size, False) for u in users))
            started = time.monotonic()
            until = started + args.duration
            await asyncio.gather(
                *(
                    virtual_user(api, u, stats, group_size, until, args.max_ops, args.think)
                    for u in users
                )
            )
            elapsed = time.monotonic() - started
            deadline = time.monotonic() + 15  # the last pushes are in flight: bounded drain
            while len(stats.push_ms) < stats.expected_frames and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        finally:
            for user in users:
                if user.ws is not None:
                    await user.ws.close()
            for task in listeners:
                task.cancel()
            # Let $disconnect run for every socket before the gateway stops (bounded).
            deadline = time.monotonic() + 15
            while disconnects[0] < len(users) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
    return stats, elapsed, group_size


def report(stats: Stats, elapsed: float, args: argparse.Namespace, group_size: int) -> str:
    sends = len(stats.latency_ms[SEND])
    lines = [
        f"Load: {args.users} users ({group_size} in one group chat, the others in direct chats),"
        f" closed loop, think {args.think * 1000:.0f} ms, {elapsed:.1f} s,"
        f" mix {', '.join(f'{r} {w:.0%}' for r, w in MIX)}",
        f"{'route':<32} {'n':>6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8}",
    ]
    for route, _ in MIX:
        samples = stats.latency_ms[route]
        lines.append(
            f"{route:<32} {len(samples):>6} {len(samples) / elapsed:>7.1f}"
            f" {pct(samples, 50):>8.1f} {pct(samples, 99):>8.1f}"
        )
    lines.append(
        f"{'push (send -> frame)':<32} {len(stats.push_ms):>6}"
        f" {len(stats.push_ms) / elapsed:>7.1f} {pct(stats.push_ms, 50):>8.1f}"
        f" {pct(stats.push_ms, 99):>8.1f}"
    )
    lines.append(
        f"Messages: {sends / elapsed:.1f} sent/s, {len(stats.push_ms)}/{stats.expected_frames}"
        f" frames delivered; errors: {len(stats.errors)}"
    )
    lines.extend(f"  error: {error}" for error in stats.errors[:20])
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=24, help="virtual users (even)")
    parser.add_argument("--group", type=int, default=10, help="members of the group chat")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load at most")
    parser.add_argument("--max-ops", type=int, default=5000, help="operations at most")
    parser.add_argument("--think", type=float, default=0.5, help="mean think time (s)")
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("kafka").setLevel(logging.ERROR)

    state = ROOT / ".local" / "load"
    with LocalServices(
        state_dir=state, services=("postgres", "redis", "kafka", "mongodb", "dynamodb")
    ) as services:
        from messenger.bootstrap import apply_mongo_indexes
        from messenger.platform.migrate import apply_migrations

        database_url = services.create_database("load")
        try:
            apply_migrations(database_url)
            apply_mongo_indexes(services.mongodb_uri)
            gateway = LocalGateway(
                ROOT / "template.yaml",
                env={
                    **services.env(),
                    "DATABASE_URL": database_url,
                    "POWERTOOLS_LOG_LEVEL": "WARNING",
                },
                host="127.0.0.1",
                max_concurrency=CONCURRENCY,
                port=0,
                ws_port=0,
                state_dir=state,
                function_log_dir=state / "logs",
            ).start()
            try:
                budget = args.duration + 300  # setup, warm-up and drain included
                stats, elapsed, group_size = asyncio.run(
                    asyncio.wait_for(drive(gateway, args), budget)
                )
            finally:
                gateway.stop()
        finally:
            drop_database(database_url)
    print(report(stats, elapsed, args, group_size), flush=True)
    if stats.errors or len(stats.push_ms) < stats.expected_frames:
        sys.exit(1)


if __name__ == "__main__":
    main()
