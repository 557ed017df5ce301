"""`make bench`: cold-start proxy per function, then warm latency through the local gateway.

Each RPC is measured three ways: end to end over HTTP through the local gateway (API Gateway
emulation + authorizer + function, what a client sees locally), the function's own handler time
(from the gateway's local-only Server-Timing header, what Lambda would bill; the authorizer's
handler time from the same header is shown beside it), and the floor: the same database, cache
and broker calls (and password hashing) made directly with the drivers, on the same data, in a
process of their own (tests/perf/floors.py), one floor sample right after each call (decision
57). The ratio handler/floor is what our layers cost on top of the work itself.

Data-size rows measure the list RPCs at growing sizes, and say for each whether growth comes from
our queries or from the local stand-in, from an `explain` of the same query.

Per-user rate limits apply to the bench's users like anyone's: `GATEWAY_ENV` (or `--gateway-env
NAME=VALUE`) is the hook that raises them for the bench's gateway.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from messenger_local.gateway import LocalGateway
from messenger_local.kafka_triggers import KafkaTriggers
from messenger_local.services import LocalServices, drop_database
from tests.perf import coldstart, floors, idle
from tests.perf.erasure_bench import erasure_rows
from tests.perf.groups_bench import groups_rows
from tests.perf.listeners import Listeners
from tests.perf.media_bench import media_rows
from tests.perf.pacing import FloorJob
from tests.perf.senders import released_together
from tests.perf.session_bench import session_rows
from tests.perf.sync_bench import fanout, sync_rows
from tests.support import RELAXED_LIMITS, ROOT

# Environment overrides for the bench's gateway (every function sees them): the place to raise
# per-user rate limits, which the throughput run would otherwise hit (8 senders at ~100 msg/s).
GATEWAY_ENV: dict[str, str] = {}

_STARTED = time.monotonic()


def note(step: str) -> None:
    """Progress on stderr (the report itself goes to stdout at the end)."""
    print(f"[{time.monotonic() - _STARTED:6.0f} s] {step}", file=sys.stderr, flush=True)


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Rpc:
    name: str
    http_ms: list[float] = field(default_factory=list)
    auth_ms: list[float] = field(default_factory=list)
    handler_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    failed: int = 0  # calls that failed (a data-size call may time out on the local stand-in)

    def row(self) -> str:
        if not self.handler_ms:
            return f"{self.name:<40} {len(self.http_ms):>4} every call failed"
        ratio = pct(self.handler_ms, 50) / pct(self.floor_ms, 50)
        auth = f"{pct(self.auth_ms, 50):>7.2f}" if self.auth_ms else f"{'-':>7}"
        return (
            f"{self.name:<40} {len(self.http_ms):>4} {pct(self.http_ms, 50):>8.2f}"
            f" {pct(self.http_ms, 99):>8.2f} {auth} {pct(self.handler_ms, 50):>8.2f}"
            f" {pct(self.handler_ms, 99):>8.2f} {pct(self.floor_ms, 50):>8.2f}"
            f" {pct(self.floor_ms, 99):>8.2f} {ratio:>6.2f}"
            + (f" ({self.failed} failed)" if self.failed else "")
        )


HEADER = (
    f"{'rpc (warm)':<40} {'n':>4} {'http50':>8} {'http99':>8} {'auth50':>7} {'fn50':>8}"
    f" {'fn99':>8} {'floor50':>8} {'floor99':>8} {'fn/fl':>6}"
)


def timing(response: httpx.Response, name: str) -> float | None:
    for part in response.headers.get("server-timing", "").split(","):
        key, _, duration = part.strip().partition(";dur=")
        if key == name:
            return float(duration)
    return None


def measure(
    rpc: Rpc,
    n: int,
    call: Callable[[int], httpx.Response],
    floor: FloorJob,
    backing: dict[str, str],
    *,
    tolerate_5xx: bool = False,
) -> Rpc:
    """`n` calls, the floor's process beside them, one floor sample right after each call
    (decision 57: both sides then meet the same machine, and a long run's drift moves both)."""
    with floors.paced(backing, floor) as paced:
        for i in range(n):
            start = time.perf_counter()
            response = call(i)
            rpc.http_ms.append((time.perf_counter() - start) * 1000)
            paced.step()
            if response.status_code >= 500 and tolerate_5xx:
                rpc.failed += 1
                continue
            if response.status_code >= 400:
                raise AssertionError(f"{rpc.name}: {response.status_code} {response.text}")
            handler = timing(response, "function")
            if handler is None:
                raise AssertionError("the local gateway sent no Server-Timing header")
            rpc.handler_ms.append(handler)
            authorizer = timing(response, "authorizer")
            if authorizer is not None:
                rpc.auth_ms.append(authorizer)
    rpc.floor_ms = paced.samples
    return rpc


def setup_call(call: Callable[[], httpx.Response], attempts: int = 4) -> httpx.Response:
    """A setup request (not measured), retried on 5xx: on a loaded machine a new execution
    environment can miss its 10 s init budget, and the bench should not die of it."""
    for _ in range(attempts - 1):
        response = call()
        if response.status_code < 500:
            return response.raise_for_status()
        note(f"setup call failed ({response.status_code}), retrying")
    return call().raise_for_status()


DRAIN_SECONDS = 300  # the longest the bench waits for the consumers to work off a backlog


class Backlog:
    """The local consumers and the rows: a row measured while they work off its own or an
    earlier row's events (a group fan-out is minutes of DynamoDB calls on the local moto)
    measures that load too, on the same 2 cores. In AWS they run on capacity of their own. So
    every row waits until each consumer group has committed every record produced so far, and
    the consumers stay paused while the row and its floor run; they catch up before the next.
    (The push and fan-out rows measure the consumers themselves and are not paused.)"""

    gateway: LocalGateway | None = None

    @classmethod
    def _kafka(cls) -> KafkaTriggers | None:
        return cls.gateway.kafka if cls.gateway is not None else None

    @classmethod
    @contextlib.contextmanager
    def paused(cls) -> Iterator[None]:
        kafka = cls._kafka()
        with kafka.paused() if kafka is not None else contextlib.nullcontext():
            yield

    @classmethod
    def drain(cls, timeout: float = DRAIN_SECONDS) -> None:
        kafka = cls._kafka()
        if kafka is None:
            return
        start = time.monotonic()
        deadline = start + timeout
        while True:
            behind = {name: n for name, n in kafka.lag().items() if n}
            if not behind:
                break
            if time.monotonic() > deadline:
                note(f"consumers still behind after {timeout:.0f} s: {behind}; measuring anyway")
                return
            time.sleep(0.5)
        waited = time.monotonic() - start
        if waited > 1:
            note(f"waited {waited:.0f} s for the consumers' backlog")


def measure_with_floor(backing: dict[str, str]) -> Callable[..., Rpc]:
    """`measure` with its floor, once the consumers have nothing left to do (`Backlog.drain`)."""

    def timed(rpc: Rpc, n: int, call: Callable[[int], httpx.Response], floor: FloorJob) -> Rpc:
        Backlog.drain()
        with Backlog.paused():
            return measure(rpc, n, call, floor, backing)

    return timed


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
        setup_call(lambda: self.api.post("/v1/auth/register", json=account))
        credentials = {"email": account["email"], "password": account["password"]}
        session = setup_call(lambda: self.api.post("/v1/auth/login", json=credentials)).json()
        headers = {"Authorization": f"Bearer {session['access_token']}"}
        deadline = time.monotonic() + 30
        while self.api.get("/v1/users/me", headers=headers).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("profile never appeared")
            time.sleep(0.05)
        return {**account, **session, "headers": headers}

    def befriend(self, a: dict[str, Any], b: dict[str, Any]) -> None:
        setup_call(
            lambda: self.api.post(
                "/v1/friends/requests", json={"nickname": b["nickname"]}, headers=a["headers"]
            )
        )
        setup_call(
            lambda: self.api.post(
                f"/v1/friends/requests/{a['nickname']}/accept", headers=b["headers"]
            )
        )


SECTIONS = ("users", "chats", "media", "sessions", "erasure", "groups", "sync")


def warm(
    api: httpx.Client, n: int, backing: dict[str, str], sections: Iterable[str] = SECTIONS
) -> list[Rpc]:
    client = Client(api)
    me, friend = client.user(), client.user()
    client.befriend(me, friend)
    wanted = set(sections)
    rows = users_rows(api, client, me, friend, n, backing) if "users" in wanted else []
    if "chats" in wanted:
        rows += chats(api, me, friend, n, backing)
    if "media" in wanted:
        rows += media_rows(api, client, me, n, backing)
    if "sessions" in wanted:
        rows += session_rows(api, client, n, backing)
    if "erasure" in wanted:
        rows += erasure_rows(api, client, n, backing)
    if "groups" in wanted:
        rows += groups_rows(api, client, me, n, backing)
    if "sync" in wanted:
        rows += sync_rows(api, client, me, n, backing)
    return rows


def users_rows(
    api: httpx.Client,
    client: Client,
    me: dict[str, Any],
    friend: dict[str, Any],
    n: int,
    backing: dict[str, str],
) -> list[Rpc]:
    """Accounts, profiles, search and friends."""
    timed = measure_with_floor(backing)
    targets = [client.user() for _ in range(n + 5)]
    accounts = [client.account() for _ in range(2 * n)]
    for account in accounts[n:]:  # warm every function's environment first
        api.post("/v1/auth/register", json=account).raise_for_status()
        api.post("/v1/auth/login", json={"email": account["email"], "password": "correct horse"})
    prefix = client.tag[:3]
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
    note("warm RPCs")
    # Distinct prefixes that match the bench's users: each one a cache miss.
    fresh = [f"b{client.tag}{i}" for i in range(1, 2 * n + 1)]
    user = str(me["user_id"])
    rpcs = [
        timed(
            Rpc("POST /v1/auth/register"),
            n,
            lambda i: api.post("/v1/auth/register", json=accounts[i]),
            ("register", n, {}),
        ),
        timed(
            Rpc("POST /v1/auth/login"),
            n,
            lambda i: api.post("/v1/auth/login", json=creds[i]),
            ("login", n, {}),
        ),
        timed(
            Rpc("GET /v1/users/{id}"),
            2 * n,
            lambda _: api.get(f"/v1/users/{friend['user_id']}", headers=me["headers"]),
            ("get_profile", 2 * n, {}),
        ),
        timed(
            Rpc("PATCH /v1/users/me"),
            n,
            lambda i: api.patch(
                "/v1/users/me", json={"description": f"d{i}"}, headers=me["headers"]
            ),
            ("update_profile", n, {}),
        ),
        timed(
            Rpc("GET /v1/users/search (cached)"),
            2 * n,
            lambda _: api.get("/v1/users/search", params={"q": prefix}, headers=me["headers"]),
            ("search_cached", 2 * n, {"prefix": prefix}),
        ),
        timed(
            Rpc("GET /v1/users/search (uncached)"),
            2 * n,
            lambda i: api.get("/v1/users/search", params={"q": fresh[i]}, headers=me["headers"]),
            ("search_uncached", 2 * n, {"prefixes": fresh}),
        ),
        timed(
            Rpc("GET /v1/friends (1 friend)"),
            2 * n,
            lambda _: api.get("/v1/friends", headers=me["headers"]),
            ("get_friends", 2 * n, {"user": user}),
        ),
        timed(
            Rpc("POST /v1/friends/requests"),
            n,
            lambda i: api.post(
                "/v1/friends/requests",
                json={"nickname": targets[i]["nickname"]},
                headers=me["headers"],
            ),
            ("send_friend_request", n, {}),
        ),
    ]
    return rpcs


def chats(
    api: httpx.Client, me: dict[str, Any], friend: dict[str, Any], n: int, backing: dict[str, str]
) -> list[Rpc]:
    chat_id = api.post(
        "/v1/chats", json={"participants": [friend["user_id"]]}, headers=me["headers"]
    ).json()["chat_id"]
    url = f"/v1/chats/{chat_id}/messages"
    timed = measure_with_floor(backing)
    for i in range(10):  # warm SendMessage and GetChatHistory
        api.post(url, json={"content": f"warm {i}"}, headers=me["headers"])
        api.get(url, headers=me["headers"])
    sender = {"chat_id": chat_id, "author": str(me["user_id"]), "others": [friend["user_id"]]}
    rpcs = [
        timed(
            Rpc("POST /v1/chats/{id}/messages"),
            2 * n,
            lambda i: api.post(url, json={"content": f"m{i}"}, headers=me["headers"]),
            ("send_message", 2 * n, sender),
        ),
        timed(
            Rpc("GET /v1/chats/{id}/messages"),
            2 * n,
            lambda _: api.get(url, headers=me["headers"]),
            ("history", 2 * n, {"chat_id": chat_id}),
        ),
    ]
    return rpcs + messages(api, me, friend, chat_id, n, backing)


def messages(
    api: httpx.Client,
    me: dict[str, Any],
    friend: dict[str, Any],
    chat_id: str,
    n: int,
    backing: dict[str, str],
) -> list[Rpc]:
    """Edit, react, delivered, one chat, and a history page of 50 messages with reactions."""
    url = f"/v1/chats/{chat_id}/messages"
    timed = measure_with_floor(backing)

    def sent(content: str) -> str:
        response = setup_call(
            lambda: api.post(url, json={"content": content}, headers=me["headers"])
        )
        return str(response.json()["message_id"])

    warm_id = sent("warm")
    ids = [sent(f"e{i}") for i in range(n)]
    for i in range(5):  # warm each function (a marker behind every measured message)
        api.patch(f"{url}/{warm_id}", json={"content": f"w{i}"}, headers=me["headers"])
        api.put(f"{url}/{warm_id}/reactions/%E2%9C%85", headers=friend["headers"])
        api.delete(f"{url}/{warm_id}/reactions/%E2%9C%85", headers=friend["headers"])
        api.post(
            f"/v1/chats/{chat_id}/delivered",
            json={"message_id": warm_id},
            headers=friend["headers"],
        )
        api.get(f"/v1/chats/{chat_id}", headers=me["headers"])
    on_ids = {"chat_id": chat_id, "message_ids": ids}
    rows = [
        timed(
            Rpc("PATCH /v1/chats/{id}/messages/{mid}"),
            n,
            lambda i: api.patch(
                f"{url}/{ids[i]}", json={"content": f"x{i}"}, headers=me["headers"]
            ),
            ("edit_message", n, on_ids),
        ),
        timed(
            Rpc("PUT .../messages/{mid}/reactions/{emoji}"),
            n,
            lambda i: api.put(f"{url}/{ids[i]}/reactions/%F0%9F%91%8D", headers=friend["headers"]),
            ("add_reaction", n, on_ids),
        ),
        timed(
            Rpc("POST /v1/chats/{id}/delivered"),
            n,
            lambda i: api.post(
                f"/v1/chats/{chat_id}/delivered",
                json={"message_id": ids[i]},
                headers=friend["headers"],
            ),
            ("mark_delivered", n, on_ids),
        ),
        timed(
            Rpc("GET /v1/chats/{id}"),
            2 * n,
            lambda _: api.get(f"/v1/chats/{chat_id}", headers=me["headers"]),
            ("get_chat", 2 * n, {"chat_id": chat_id}),
        ),
    ]
    seeder = Seeder(backing)
    try:  # 50 of my messages, each with 3 emoji from up to 5 users: status and reactions
        users = [str(me["user_id"]), str(friend["user_id"])]
        reacted = seeder.chat(users, 50, reactions=3)
    finally:
        seeder.close()
    page = f"/v1/chats/{reacted}/messages"
    for _ in range(5):
        api.get(page, headers=me["headers"]).raise_for_status()
    rows.append(
        timed(
            Rpc("GET .../messages (50 with reactions)"),
            2 * n,
            lambda _: api.get(page, headers=me["headers"]),
            (
                "history_with_markers",
                2 * n,
                {"chat_id": reacted, "reader": str(me["user_id"])},
            ),
        )
    )
    return rows


# Data sizes: the list RPCs at growing sizes, seeded directly (thousands of HTTP calls would only
# slow the bench down), each with its floor and an `explain` of its query.

SIZES = {
    "history": (100, 1_000, 10_000),
    "chats": (10, 100, 1_000),
    "friends": (10, 100, 300, 1_000),
}


class Seeder:
    def __init__(self, backing: dict[str, str]) -> None:
        import psycopg
        import pymongo

        self.pg = psycopg.connect(backing["DATABASE_URL"], autocommit=True)
        self.mongo: Any = pymongo.MongoClient(backing["MONGODB_URI"])
        self.db = self.mongo[backing.get("MONGODB_DATABASE", "messenger")]

    def close(self) -> None:
        self.pg.close()
        self.mongo.close()

    def forget_seeded_chats(self) -> None:
        """Drop the chats (and their messages) seeded so far: later rows count chats again."""
        ids = [c["_id"] for c in self.db.chats.find({"title": "seeded"}, {"_id": 1})]
        for start in range(0, len(ids), 500):
            self.db.messages.delete_many({"chat_id": {"$in": ids[start : start + 500]}})
        self.db.chats.delete_many({"title": "seeded"})

    def chat(self, participants: list[str], messages: int, reactions: int = 0) -> str:
        """A chat of `messages` by its first participant; `reactions` emoji on each, from up
        to five users (the participants first), with the other participants' markers."""
        from messenger.chats.service import new_message_id
        from messenger.kernel.clock import utcnow

        chat_id, now, author = str(uuid.uuid4()), utcnow(), participants[0]
        reactors = [*participants, *(str(uuid.uuid4()) for _ in range(5))][:5]
        docs = []
        for i in range(messages):
            message_id = str(new_message_id())
            docs.append(
                {
                    "_id": message_id,
                    "chat_id": chat_id,
                    "author_id": author,
                    "content": f"seeded {i}",
                    "created_at": now,
                    "client_message_id": None,
                    "dedupe_key": message_id,
                }
            )
            if reactions:
                docs[-1]["reactions"] = [
                    {"emoji": chr(0x1F600 + e), "users": reactors[: 1 + (i + e) % 5]}
                    for e in range(reactions)
                ]
        for start in range(0, len(docs), 1000):
            self.db.messages.insert_many(docs[start : start + 1000])
        last = {k: v for k, v in docs[-1].items() if k != "dedupe_key"} if docs else None
        chat = self._chat_doc(chat_id, participants, now, last)
        if reactions and docs:  # the others have read half of it, and got all of it
            half, newest = docs[len(docs) // 2]["_id"], docs[-1]["_id"]
            chat["read_up_to"] = dict.fromkeys(participants[1:], half)
            chat["delivered_up_to"] = dict.fromkeys(participants[1:], newest)
        self.db.chats.insert_one(chat)
        return chat_id

    @staticmethod
    def _chat_doc(
        chat_id: str, participants: list[str], at: Any, last: dict[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "_id": chat_id,
            "type": "group",
            "title": "seeded",
            "participants": participants,
            "created_by": participants[0],
            "created_at": at,
            "last_message": last,
            "last_message_id": last["_id"] if last else "",
            "last_activity_at": at,
            "unread": {},
            "read_up_to": {},
        }

    def chats_of(self, user: str, count: int) -> None:
        """`count` chats of `user` (with a stranger each), activity spread over time."""
        from messenger.kernel.clock import utcnow

        now = utcnow()
        docs = [
            self._chat_doc(str(uuid.uuid4()), [user, str(uuid.uuid4())], now - timedelta(i), None)
            for i in range(count)
        ]
        for start in range(0, len(docs), 1000):
            self.db.chats.insert_many(docs[start : start + 1000])

    def filler_chats(self, total: int) -> int:
        """Chats of other users until the database holds `total`; returns the count."""
        have = self.db.chats.count_documents({})
        if have < total:
            self.chats_of(str(uuid.uuid4()), total - have)
        return int(self.db.chats.count_documents({}))

    def friends_of(self, user: str, count: int) -> None:
        """`count` accepted friends with profiles, written to Postgres directly: the rows an
        acceptance writes (the friendship, both friend-list rows, the nicknames)."""
        from messenger.kernel.clock import utcnow

        now, tag, owner = utcnow(), uuid.uuid4().hex[:6], uuid.UUID(user)
        profiles, rows, listed, keys = [], [], [], []
        owner_key = self.pg.execute(
            "SELECT lower(nickname) FROM users.profiles WHERE user_id = %s", (owner,)
        ).fetchone()
        assert owner_key is not None
        for i in range(count):
            other = uuid.uuid4()
            nickname = f"s{tag}_{i}"
            profiles.append((other, f"{tag}{i}@example.com", nickname, now))
            low, high = sorted([owner, other])
            rows.append((low, high, "accepted", other, now, now))
            listed += [(owner, nickname, other, now), (other, owner_key[0], owner, now)]
            keys.append((other, nickname, now))
        with self.pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO friends.nicknames (user_id, sort_key, updated_at) VALUES (%s, %s, %s)",
                keys,
            )
            cur.executemany(
                "INSERT INTO friends.friend_list (owner, sort_key, friend, since)"
                " VALUES (%s, %s, %s, %s)",
                listed,
            )
            cur.executemany(
                "INSERT INTO users.profiles (user_id, email, nickname, created_at)"
                " VALUES (%s, %s, %s, %s)",
                profiles,
            )
            cur.executemany(
                "INSERT INTO friends.friendships (user_low, user_high, status, requested_by,"
                " requested_at, responded_at) VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )
            # What autovacuum does to a table that grew: without statistics the planner sorts
            # the owner's rows (2.8 ms for 5,000 here) instead of walking the key (0.07 ms).
            cur.execute("ANALYZE friends.friend_list")

    def mongo_stages(self, collection: str, query: dict[str, Any], sort: Any, limit: int) -> str:
        plan = self.db.command(
            "explain",
            {"find": collection, "filter": query, "sort": sort, "limit": limit},
            verbosity="queryPlanner",
        )
        return " > ".join(_stages(plan.get("queryPlanner", {}).get("winningPlan", plan)))

    def pg_nodes(self, user: str, limit: int) -> str:
        import json

        row = self.pg.execute(
            "EXPLAIN (FORMAT JSON) " + floors.FRIENDS_PAGE,
            {"owner": uuid.UUID(user), "limit": limit + 1},
        ).fetchone()
        assert row is not None
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        return " > ".join(_pg_nodes(plan[0]["Plan"]))


def _stages(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["stage"])] if "stage" in plan else []
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), dict):
            found += _stages(plan[key])
    for child in plan.get("inputStages", []) or []:
        found += _stages(child)
    return found


def _pg_nodes(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["Node Type"])]
    for child in plan.get("Plans", []):
        found += _pg_nodes(child)
    return found


@dataclass
class Growth:
    name: str
    sizes: tuple[int, ...]
    rpcs: list[Rpc]
    plans: list[str]
    stand_in_sort: bool  # the query's growth is a SORT stage of the local MongoDB stand-in
    page: int = 0  # growth counts from the first size that fills a page: a smaller one is less work

    def lines(self) -> list[str]:
        out = []
        for size, rpc, plan in zip(self.sizes, self.rpcs, self.plans, strict=True):
            out.append(f"{rpc.row()}  [{size:,}] {plan}")
        if not all(r.handler_ms and r.floor_ms for r in self.rpcs):
            out.append(f"  -> {self.name}: calls failed at some size (see the rows)")
            return out
        first = next(i for i, size in enumerate(self.sizes) if size >= self.page)
        fn = [pct(r.handler_ms, 50) for r in self.rpcs[first:]]
        fl = [pct(r.floor_ms, 50) for r in self.rpcs[first:]]
        grew, floor_grew = fn[-1] / fn[0], fl[-1] / fl[0]
        span = f"{self.sizes[first]:,} -> {self.sizes[-1]:,}"
        if first:
            span += f" (full pages of {self.page})"
        if grew < 1.5:
            verdict = f"flat ({grew:.2f}x over {span})"
        elif floor_grew >= 0.7 * grew and self.stand_in_sort and "SORT" in self.plans[-1]:
            verdict = (
                f"grows {grew:.2f}x over {span}, as its floor does ({floor_grew:.2f}x): the local"
                " MongoDB stand-in's, whose explain shows an in-memory SORT stage (SecantusDB"
                " sorts in memory; MongoDB/DocumentDB walk the index in order)"
            )
        elif floor_grew >= 0.7 * grew:
            verdict = (
                f"grows {grew:.2f}x over {span}, as its floor does ({floor_grew:.2f}x): the query"
                f" itself ({self.plans[-1]})"
            )
        else:
            verdict = f"grows {grew:.2f}x over {span}, its floor {floor_grew:.2f}x: our code"
        out.append(f"  -> {self.name}: {verdict}")
        return out


def samples_at(size: int, n: int) -> int:
    """Fewer calls at the largest sizes: the stand-in reads 10,000 messages in seconds."""
    return max(3, min(n, 20_000 // size))


def data_sizes(api: httpx.Client, backing: dict[str, str], n: int) -> list[Growth]:
    note("data sizes")
    client, seeder = Client(api), Seeder(backing)
    try:
        me, friend = client.user(), client.user()
        participants = [str(me["user_id"]), str(friend["user_id"])]
        history: list[Rpc] = []
        history_plans = []
        for size in SIZES["history"]:
            chat_id = seeder.chat(participants, size)
            url = f"/v1/chats/{chat_id}/messages"
            api.get(url, headers=me["headers"])
            k = samples_at(size, n)
            history.append(
                measure(
                    Rpc(f"GET /v1/chats/{{id}}/messages ({size:,})"),
                    k,
                    lambda _, url=url: api.get(url, headers=me["headers"]),
                    ("history", k, {"chat_id": chat_id}),
                    backing,
                    tolerate_5xx=True,
                )
            )
            history_plans.append(
                seeder.mongo_stages("messages", {"chat_id": chat_id}, {"_id": -1}, 51)
            )
        listing: list[Rpc] = []
        listing_plans = []
        for size in SIZES["chats"]:
            owner = client.user()
            seeder.chats_of(str(owner["user_id"]), size)
            api.get("/v1/chats", headers=owner["headers"])
            k = samples_at(size, n)
            listing.append(
                measure(
                    Rpc(f"GET /v1/chats ({size:,})"),
                    k,
                    lambda _, h=owner["headers"]: api.get("/v1/chats", headers=h),
                    ("list_chats", k, {"user": str(owner["user_id"])}),
                    backing,
                    tolerate_5xx=True,
                )
            )
            listing_plans.append(
                seeder.mongo_stages(
                    "chats",
                    {"participants": str(owner["user_id"])},
                    {"last_activity_at": -1, "_id": -1},
                    21,
                )
            )
        friends: list[Rpc] = []
        friends_plans = []
        for size in SIZES["friends"]:
            owner = client.user()
            seeder.friends_of(str(owner["user_id"]), size)
            for _ in range(3):
                api.get("/v1/friends", headers=owner["headers"]).raise_for_status()
            friends.append(
                measure(
                    Rpc(f"GET /v1/friends ({size:,}, page of 100)"),
                    n,
                    lambda _, h=owner["headers"]: api.get("/v1/friends", headers=h),
                    ("get_friends", n, {"user": str(owner["user_id"])}),
                    backing,
                )
            )
            friends_plans.append(seeder.pg_nodes(str(owner["user_id"]), 100))
        seeder.forget_seeded_chats()
    finally:
        seeder.close()
    return [
        Growth("history", SIZES["history"], history, history_plans, True),
        Growth("chat list", SIZES["chats"], listing, listing_plans, True),
        Growth("friends list", SIZES["friends"], friends, friends_plans, False, page=100),
    ]


@dataclass
class Senders:
    """Users and chats for one throughput run, prepared on the gateway whose consumers create
    profiles; the run itself may go through another gateway (tokens live in Redis/Postgres)."""

    chats: list[tuple[dict[str, str], str]]  # (headers, messages URL) per client
    floor_chats: list[tuple[str, str, list[str]]]  # (chat, author, others): chats like them


def prepare_senders(api: httpx.Client, backing: dict[str, str], clients: int) -> Senders:
    client, seeder = Client(api), Seeder(backing)
    me = client.user()
    senders = Senders([], [])
    try:
        for _ in range(clients):
            other = client.user()
            client.befriend(me, other)
            chat_id = setup_call(
                lambda other=other: api.post(
                    "/v1/chats", json={"participants": [me["user_id"]]}, headers=other["headers"]
                )
            ).json()["chat_id"]
            senders.chats.append((other["headers"], f"/v1/chats/{chat_id}/messages"))
            pair = [str(other["user_id"]), str(me["user_id"])]
            senders.floor_chats.append((seeder.chat(pair, 0), pair[0], pair[1:]))
    finally:
        seeder.close()
    return senders


THROUGHPUT_ROUNDS = 3


def send_throughput(
    api: httpx.Client,
    backing: dict[str, str],
    senders: Senders,
    per_client: int,
    chats: int,
    rounds: int = THROUGHPUT_ROUNDS,
) -> tuple[str, float, float]:
    """Messages/s for SendMessage with concurrent senders, each in its own chat, against the
    floor's: as many processes making the same calls directly, in chats of their own.

    `rounds` pairs, the order alternating (function first, then floor first), and the median
    of the pairs' ratios: back to back on this machine, the same floor ranged 116-161 msg/s
    (the MongoDB stand-in's CPU per write varies by half between runs), too much for one pair
    to tell 0.78 from 0.82. Returns the report and the medians (function, floor)."""
    seeder = Seeder(backing)
    try:
        total = seeder.filler_chats(chats)
    finally:
        seeder.close()
    clients = len(senders.chats)
    specs = [
        {"base_url": str(api.base_url), "headers": headers, "path": path, "n": per_client}
        for headers, path in senders.chats
    ]
    sent = per_client * clients

    def function_rate() -> float:
        # Each client a process of its own, like the floor's senders (tests/perf/senders.py).
        return sent / released_together(["tests.perf.senders"], specs, {**os.environ, **backing})

    def floor_rate() -> float:
        return floors.throughput(backing, senders.floor_chats, per_client)

    pairs: list[tuple[float, float]] = []
    for round_ in range(rounds):
        note(f"SendMessage throughput, {total:,} chats, round {round_ + 1} of {rounds}")
        if round_ % 2 == 0:
            rate = function_rate()
            pairs.append((rate, floor_rate()))
        else:
            floor = floor_rate()
            pairs.append((function_rate(), floor))
    rate = statistics.median(r for r, _ in pairs)
    floor = statistics.median(f for _, f in pairs)
    ratio = statistics.median(r / f for r, f in pairs)
    runs = ", ".join(f"{r:.0f}/{f:.0f}" for r, f in pairs)
    return (
        f"SendMessage throughput, {total:,} chats in the database: {rate:.0f} messages/s with"
        f" {clients} concurrent clients ({sent} messages a run); floor {floor:.0f} messages/s"
        f" ({clients} processes); ratio {ratio:.2f} (median of {rounds} pairs, function/floor"
        f" msg/s: {runs})",
        rate,
        floor,
    )


def push_latency(
    api: httpx.Client, gateway: LocalGateway, clients: int = 50, messages: int = 40
) -> str:
    """Send over HTTP -> frame received, at each of `clients` WebSocket clients of a group chat.

    One sender and `clients` friends in one group chat, each friend connected through the local
    WebSocket API; every message is pushed to all of them (Kafka -> PushRealtimeEvents ->
    @connections). Latency per (message, client) pair, sequential sends.
    """
    import threading

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

    def received(content: str, at: float) -> None:
        with lock:
            if content in sent_at:
                latencies.append((at - sent_at[content]) * 1000)

    Backlog.drain()
    # The clients in a process of their own (tests/perf/listeners.py), not in the gateway's.
    urls = [f"{gateway.ws_url}/?token={m['access_token']}" for m in members]
    listeners = Listeners(urls, received)
    try:
        for i in range(5):  # warm the push consumer and the send path
            api.post(url, json={"content": f"warm {i}"}, headers=me["headers"])
        Backlog.drain()  # their fan-outs done: the first measured message does not queue
        for i in range(messages):
            content = f"p{i}"
            with lock:
                sent_at[content] = time.monotonic()  # CLOCK_MONOTONIC, as the listeners'
            api.post(url, json={"content": content}, headers=me["headers"]).raise_for_status()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # one message at a time: wait for every client
                with lock:
                    if len(latencies) >= (i + 1) * clients:
                        break
                time.sleep(0.005)
    finally:
        listeners.close()
    expected = messages * clients
    who = "the other member of a 1:1 chat" if clients == 1 else f"each of {clients} clients"
    return (
        f"Push latency (POST message -> frame at {who}, target p99 < 200 ms):"
        f" p50 {pct(latencies, 50):.0f} ms, p99 {pct(latencies, 99):.0f} ms,"
        f" max {max(latencies):.0f} ms ({len(latencies)}/{expected} frames)"
    )


PARTS = ("coldstart", "warm", "throughput", "sizes", "push", "idle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=100, help="requests per RPC")
    parser.add_argument("--runs", type=int, default=5, help="cold-start runs per function")
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment override for every function (e.g. a raised rate limit)",
    )
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"the warm part's sections, a comma-separated subset of {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (default: all)",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown parts: {', '.join(sorted(parts - set(PARTS)))}")
    rpcs: list[Rpc] = []
    growth: list[Growth] = []
    throughput: list[str] = []
    push = ""
    idle_cpu = ""
    overrides = dict(GATEWAY_ENV)
    for item in args.gateway_env:
        name, _, value = item.partition("=")
        overrides[name] = value

    if "coldstart" in parts:
        print(coldstart.report(coldstart.measure_all(args.runs)), flush=True)
        print()
    with LocalServices(
        state_dir=ROOT / ".local" / "bench",
        services=("postgres", "redis", "kafka", "mongodb", "dynamodb"),
    ) as services:
        from messenger.bootstrap import apply_mongo_indexes
        from messenger.platform.migrate import apply_migrations

        database_url = services.create_database("bench")
        apply_migrations(database_url)
        apply_mongo_indexes(services.mongodb_uri)
        backing = {**services.env(), "DATABASE_URL": database_url}
        if "coldstart" in parts:  # as deployed: the sam build output, init + first call
            print(coldstart.deployed_reports(backing, args.runs))
            print(flush=True)
        env = {**backing, "POWERTOOLS_LOG_LEVEL": "WARNING", **overrides}

        def start(name: str, *, triggers: bool) -> LocalGateway:
            return LocalGateway(
                ROOT / "template.yaml",
                parameters=RELAXED_LIMITS,  # the throughput runs send far beyond 10/s per user
                env=env,
                max_concurrency=8,
                port=0,
                ws_port=0,
                state_dir=ROOT / ".local" / name,
                function_log_dir=ROOT / ".local" / name / "logs",
                enable_kafka=triggers,
                enable_schedules=triggers,
            ).start()

        prepared: list[Senders] = []
        try:
            gateway = start("bench", triggers=True)
            Backlog.gateway = gateway
            try:
                with httpx.Client(base_url=gateway.url, timeout=30) as api:
                    if "warm" in parts:
                        rpcs = warm(api, args.n, backing, args.sections.split(","))
                    if "sizes" in parts:
                        growth = data_sizes(api, backing, max(10, args.n // 4))
                    if "throughput" in parts:
                        note("throughput: users and chats")
                        prepared = [prepare_senders(api, backing, 8) for _ in range(2)]
                    if "push" in parts:
                        note("push latency")
                        push = push_latency(api, gateway, clients=1, messages=100)
                        push += "\n" + push_latency(api, gateway, clients=50)
                        note("fan-out to a 100-member group")
                        push += "\n" + fanout(api, backing)
                if "idle" in parts:
                    note("idle CPU")
                    Backlog.drain()  # idle means no traffic: the fan-outs' backlog done first
                    idle_cpu = idle.report(services, settle=10)
            finally:
                gateway.stop()
            if prepared:
                # SendMessage alone: no MSK triggers or schedules in this gateway. In AWS the
                # consumers run on their own capacity; here they would share the 2 cores.
                quiet = start("bench-quiet", triggers=False)
                try:
                    with httpx.Client(base_url=quiet.url, timeout=30) as api:
                        # 2n messages per client (1,600 in all at the default n): at n/2 a run
                        # lasted 3 s, too short to tell a ratio of 0.78 from one of 0.82.
                        runs = [
                            send_throughput(api, backing, senders, args.n * 2, chats)
                            for senders, chats in zip(prepared, (10, 10_000), strict=True)
                        ]
                        throughput = [line for line, _, _ in runs]
                        (_, few, floor_few), (_, many, floor_many) = runs
                        # flat as the data-size rows count it: 1.5x the time is 1/1.5 the rate
                        verdict = "flat" if many / few >= 1 / 1.5 else "NOT flat"
                        throughput.append(
                            f"  -> SendMessage with 10,000 chats: {verdict}, {many / few:.2f}x"
                            f" its rate with the few (floor {floor_many / floor_few:.2f}x)"
                        )
                finally:
                    quiet.stop()
        finally:
            drop_database(database_url)
    print("Warm latency in ms: http = client over the local gateway (authorizer included),")
    print("auth = the authorizer's handler, fn = the function's handler alone, floor = the same")
    print("driver calls made directly, in a process of their own")
    print(HEADER)
    for rpc in rpcs:
        print(rpc.row())
    if growth:
        print()
        print("Data sizes (the size in brackets, then the plan of the query from explain):")
        print(HEADER)
        for grown in growth:
            for line in grown.lines():
                print(line)
    print()
    if throughput:
        print("Through a gateway without MSK triggers (SendMessage alone, as on its own capacity):")
    for line in [*throughput, push, idle_cpu]:
        if line:
            print(line)


if __name__ == "__main__":
    # Run as the module the section files import (tests.perf.bench), not as a second copy
    # (__main__): one Backlog, so the sections' rows drain and pause the consumers too, and one
    # clock for the progress notes.
    from tests.perf.bench import main as run

    run()
