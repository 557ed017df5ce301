"""`make bench`: cold-start proxy per function, then warm latency through the local gateway.

Each RPC is measured three ways: end to end over HTTP through the local gateway (API Gateway
emulation + authorizer + function, what a client sees locally), the function's own handler time
(from the gateway's local-only Server-Timing header, what Lambda would bill), and the floor: the
same database, cache and broker calls (and password hashing) made directly with the drivers. The
ratio handler/floor is what our layers cost on top of the work itself.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from messenger_local.gateway import LocalGateway
from messenger_local.services import LocalServices, drop_database
from tests.perf import coldstart, floors
from tests.support import ROOT


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Rpc:
    name: str
    http_ms: list[float] = field(default_factory=list)
    handler_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)

    def row(self) -> str:
        ratio = pct(self.handler_ms, 50) / pct(self.floor_ms, 50)
        return (
            f"{self.name:<34} {len(self.http_ms):>4} {pct(self.http_ms, 50):>8.2f}"
            f" {pct(self.http_ms, 99):>8.2f} {pct(self.handler_ms, 50):>8.2f}"
            f" {pct(self.handler_ms, 99):>8.2f} {pct(self.floor_ms, 50):>8.2f}"
            f" {pct(self.floor_ms, 99):>8.2f} {ratio:>6.2f}"
        )


HEADER = (
    f"{'rpc (warm)':<34} {'n':>4} {'http50':>8} {'http99':>8} {'fn50':>8} {'fn99':>8}"
    f" {'floor50':>8} {'floor99':>8} {'fn/fl':>6}"
)


def function_ms(response: httpx.Response) -> float:
    for part in response.headers.get("server-timing", "").split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name == "function":
            return float(duration)
    raise AssertionError("the local gateway sent no Server-Timing header")


def measure(rpc: Rpc, n: int, call: Callable[[int], httpx.Response]) -> Rpc:
    for i in range(n):
        start = time.perf_counter()
        response = call(i)
        rpc.http_ms.append((time.perf_counter() - start) * 1000)
        if response.status_code >= 400:
            raise AssertionError(f"{rpc.name}: {response.status_code} {response.text}")
        rpc.handler_ms.append(function_ms(response))
    return rpc


class Client:
    def __init__(self, api: httpx.Client) -> None:
        self.api = api
        self.tag = uuid.uuid4().hex[:6]
        self.count = 0

    def account(self) -> dict[str, str]:
        self.count += 1
        nickname = f"b{self.tag}{self.count}"
        return {
            "email": f"{nickname}@example.com",
            "password": "correct horse",
            "nickname": nickname,
        }

    def user(self) -> dict[str, Any]:
        """A registered, logged-in user whose profile exists."""
        account = self.account()
        self.api.post("/v1/auth/register", json=account).raise_for_status()
        session = self.api.post(
            "/v1/auth/login", json={"email": account["email"], "password": account["password"]}
        ).json()
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        deadline = time.monotonic() + 30
        while self.api.get("/v1/users/me", headers=headers).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("profile never appeared")
            time.sleep(0.05)
        return {**account, **session, "headers": headers}


def warm(api: httpx.Client, n: int, backing: dict[str, str]) -> list[Rpc]:
    client = Client(api)
    me, friend = client.user(), client.user()
    api.post("/v1/friends/requests", json={"nickname": friend["nickname"]}, headers=me["headers"])
    api.post(f"/v1/friends/requests/{me['nickname']}/accept", headers=friend["headers"])
    targets = [client.user() for _ in range(n + 5)]
    accounts = [client.account() for _ in range(2 * n)]
    for account in accounts[n:]:  # warm every function's environment first
        api.post("/v1/auth/register", json=account).raise_for_status()
        api.post("/v1/auth/login", json={"email": account["email"], "password": "correct horse"})
    warmups: list[Callable[[], object]] = [
        lambda: api.get(f"/v1/users/{friend['user_id']}", headers=me["headers"]),
        lambda: api.get("/v1/friends", headers=me["headers"]),
        lambda: api.get("/v1/users/search", params={"q": "b"}, headers=me["headers"]),
        lambda: api.patch("/v1/users/me", json={"description": "w"}, headers=me["headers"]),
    ]
    for _ in range(5):
        for warmup in warmups:
            warmup()
    creds = [{"email": a["email"], "password": a["password"]} for a in accounts]
    floor = floors.Floors(backing)
    try:
        rpcs = [
            measure(
                Rpc("POST /v1/auth/register"),
                n,
                lambda i: api.post("/v1/auth/register", json=accounts[i]),
            ),
            measure(
                Rpc("POST /v1/auth/login"), n, lambda i: api.post("/v1/auth/login", json=creds[i])
            ),
            measure(
                Rpc("GET /v1/users/{id}"),
                2 * n,
                lambda _: api.get(f"/v1/users/{friend['user_id']}", headers=me["headers"]),
            ),
            measure(
                Rpc("PATCH /v1/users/me"),
                n,
                lambda i: api.patch(
                    "/v1/users/me", json={"description": f"d{i}"}, headers=me["headers"]
                ),
            ),
            measure(
                Rpc("GET /v1/users/search"),
                2 * n,
                lambda _: api.get(
                    "/v1/users/search", params={"q": client.tag[:3]}, headers=me["headers"]
                ),
            ),
            measure(
                Rpc("GET /v1/friends"),
                2 * n,
                lambda _: api.get("/v1/friends", headers=me["headers"]),
            ),
            measure(
                Rpc("POST /v1/friends/requests"),
                n,
                lambda i: api.post(
                    "/v1/friends/requests",
                    json={"nickname": targets[i]["nickname"]},
                    headers=me["headers"],
                ),
            ),
        ]
        floor_runs = [
            floor.register,
            floor.login,
            floor.get_profile,
            floor.update_profile,
            floor.search,
            floor.get_friends,
            floor.send_friend_request,
        ]
        for rpc, run in zip(rpcs, floor_runs, strict=True):
            rpc.floor_ms = run(len(rpc.http_ms))
    finally:
        floor.close()
    return rpcs + chats(api, client, me, friend, n, backing)


def chats(
    api: httpx.Client,
    client: Client,
    me: dict[str, Any],
    friend: dict[str, Any],
    n: int,
    backing: dict[str, str],
) -> list[Rpc]:
    chat_id = api.post(
        "/v1/chats", json={"participants": [friend["user_id"]]}, headers=me["headers"]
    ).json()["chat_id"]
    url = f"/v1/chats/{chat_id}/messages"
    for i in range(10):  # warm SendMessage and GetChatHistory
        api.post(url, json={"content": f"warm {i}"}, headers=me["headers"])
        api.get(url, headers=me["headers"])
    rpcs = [
        measure(
            Rpc("POST /v1/chats/{id}/messages"),
            2 * n,
            lambda i: api.post(url, json={"content": f"m{i}"}, headers=me["headers"]),
        ),
        measure(
            Rpc("GET /v1/chats/{id}/messages"), 2 * n, lambda _: api.get(url, headers=me["headers"])
        ),
    ]
    floor = floors.ChatFloors(backing, chat_id, me["user_id"])
    try:
        rpcs[0].floor_ms = floor.send(2 * n)
        rpcs[1].floor_ms = floor.history(2 * n)
    finally:
        floor.close()
    return rpcs


def send_throughput(
    api: httpx.Client, backing: dict[str, str], clients: int, per_client: int
) -> str:
    """Messages/s for SendMessage with `clients` concurrent senders, each in its own chat."""
    client = Client(api)
    me = client.user()
    senders = []
    for _ in range(clients):
        other = client.user()
        api.post(
            "/v1/friends/requests", json={"nickname": other["nickname"]}, headers=me["headers"]
        )
        api.post(f"/v1/friends/requests/{me['nickname']}/accept", headers=other["headers"])
        chat_id = api.post(
            "/v1/chats", json={"participants": [me["user_id"]]}, headers=other["headers"]
        ).json()["chat_id"]
        senders.append((other["headers"], f"/v1/chats/{chat_id}/messages"))

    def run(sender: tuple[dict[str, str], str]) -> int:
        headers, url = sender
        with httpx.Client(base_url=str(api.base_url), timeout=30) as own:
            for i in range(per_client):
                own.post(url, json={"content": f"t{i}"}, headers=headers).raise_for_status()
        return per_client

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(clients) as pool:  # warm one environment per sender
        list(pool.map(lambda s: api.post(s[1], json={"content": "w"}, headers=s[0]), senders))
        start = time.perf_counter()
        sent = sum(pool.map(run, senders))
        elapsed = time.perf_counter() - start
    return (
        f"SendMessage throughput: {sent / elapsed:.0f} messages/s with {clients} concurrent"
        f" clients through the local gateway ({sent} messages in {elapsed:.1f} s, 2 cores)"
    )


def push_latency(
    api: httpx.Client, gateway: LocalGateway, clients: int = 50, messages: int = 40
) -> str:
    """Send over HTTP -> frame received, at each of `clients` WebSocket clients of a group chat.

    One sender and `clients` friends in one group chat, each friend connected through the local
    WebSocket API; every message is pushed to all of them (Kafka -> PushRealtimeEvents ->
    @connections). Latency per (message, client) pair, sequential sends.
    """
    import json
    import threading

    from websockets.sync.client import connect

    client = Client(api)
    me = client.user()
    members = []
    for _ in range(clients):
        other = client.user()
        api.post(
            "/v1/friends/requests", json={"nickname": other["nickname"]}, headers=me["headers"]
        ).raise_for_status()
        api.post(
            f"/v1/friends/requests/{me['nickname']}/accept", headers=other["headers"]
        ).raise_for_status()
        members.append(other)
    created = api.post(
        "/v1/chats", json={"participants": [m["user_id"] for m in members]}, headers=me["headers"]
    )
    assert created.status_code == 201, created.text
    url = f"/v1/chats/{created.json()['chat_id']}/messages"
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    sockets = [connect(f"{gateway.ws_url}/?token={m['access_token']}") for m in members]

    def listen(ws: Any) -> None:
        try:
            for raw in ws:
                now = time.perf_counter()
                frame = json.loads(raw)
                if frame.get("type") != "message.sent":
                    continue
                content = frame["data"]["content"]
                with lock:
                    if content in sent_at:
                        latencies.append((now - sent_at[content]) * 1000)
        except Exception:  # closed at the end
            return

    threads = [threading.Thread(target=listen, args=(ws,), daemon=True) for ws in sockets]
    for thread in threads:
        thread.start()
    try:
        for i in range(5):  # warm the push consumer and the send path
            api.post(url, json={"content": f"warm {i}"}, headers=me["headers"])
        time.sleep(2)
        for i in range(messages):
            content = f"p{i}"
            with lock:
                sent_at[content] = time.perf_counter()
            api.post(url, json={"content": content}, headers=me["headers"]).raise_for_status()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # one message at a time: wait for every client
                with lock:
                    if len(latencies) >= (i + 1) * clients:
                        break
                time.sleep(0.005)
    finally:
        for ws in sockets:
            ws.close()
    expected = messages * clients
    return (
        f"Push latency (POST message -> frame at each of {clients} connected clients):"
        f" p50 {pct(latencies, 50):.0f} ms, p99 {pct(latencies, 99):.0f} ms,"
        f" max {max(latencies):.0f} ms ({len(latencies)}/{expected} frames)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="requests per RPC")
    parser.add_argument("--runs", type=int, default=5, help="cold-start runs per function")
    args = parser.parse_args()

    print(coldstart.report(coldstart.measure_all(args.runs)), flush=True)
    print()
    with LocalServices(
        state_dir=ROOT / ".local" / "bench",
        services=("postgres", "redis", "kafka", "mongodb", "dynamodb"),
    ) as services:
        from messenger.migrate import apply_migrations, apply_mongo_indexes

        database_url = services.create_database("bench")
        apply_migrations(database_url)
        apply_mongo_indexes(services.mongodb_uri)
        backing = {**services.env(), "DATABASE_URL": database_url}
        print(coldstart.deployed_reports(backing, args.runs))
        print(flush=True)
        gateway = LocalGateway(
            ROOT / "template.yaml",
            env={**backing, "POWERTOOLS_LOG_LEVEL": "WARNING"},
            max_concurrency=8,
            port=0,
            ws_port=0,
            state_dir=ROOT / ".local" / "bench",
            function_log_dir=ROOT / ".local" / "bench" / "logs",
        ).start()
        try:
            with httpx.Client(base_url=gateway.url, timeout=30) as api:
                rpcs = warm(api, args.n, backing)
                throughput = send_throughput(api, backing, clients=8, per_client=args.n // 2)
                push = push_latency(api, gateway, clients=50)
        finally:
            gateway.stop()
            drop_database(database_url)
    print("Warm latency in ms: http = client over the local gateway (authorizer included),")
    print("fn = the function's handler alone, floor = the same driver calls made directly")
    print(HEADER)
    for rpc in rpcs:
        print(rpc.row())
    print()
    print(throughput)
    print(push)


if __name__ == "__main__":
    main()
