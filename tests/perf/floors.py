"""The floor of each RPC: exactly its backing-service calls (and hashing), made directly.

Kept in step with the adapters by hand: each method mirrors the statements its use-case runs on
the warm path (caches hit where the function's caches would hit), on the same data the measured
call saw. The authorizer is not part of any floor (the bench reports it beside each row).

Floors run in a process of their own (`run`: `python -m tests.perf.floors`, a JSON job list on
stdin, samples on stdout), never inside the bench's process, where the local gateway's Kafka
pollers and event loop share the interpreter and made the floors 1.2-1.9x slower than they are.
`throughput` starts one such process per client, each sending into its own chat, released
together.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import redis
from argon2 import PasswordHasher
from kafka import KafkaProducer

from messenger.chats.adapters.store import members_key
from messenger.friends.adapters.store import FRIENDS_PAGE, blocks_key
from messenger.platform.ratelimit import GCRA_LUA
from messenger.users.adapters.profiles import NEXT_VERSION
from tests.perf.erasure_floors import ErasureFloors
from tests.perf.groups_floors import GroupsFloors
from tests.perf.media_floors import MediaFloors
from tests.perf.pacing import FloorJob, Paced, Samples, step_by_step, timed
from tests.perf.senders import WARM_SENDS, released_together
from tests.perf.session_floors import SessionFloors
from tests.perf.sync_floors import SyncFloors
from tests.support import ROOT


def search_key(prefix: str, limit: int) -> str:
    digest = hashlib.sha256(json.dumps([prefix.lower(), limit, None]).encode()).hexdigest()
    return f"search:v1:{digest}"


PENDING = (
    "SELECT user_low, user_high, status, requested_by, requested_at, responded_at"
    " FROM friends.friendships WHERE user_low = %(u)s AND status = 'pending' UNION ALL"
    " SELECT user_low, user_high, status, requested_by, requested_at, responded_at"
    " FROM friends.friendships WHERE user_high = %(u)s AND status = 'pending'"
)

SEARCH_SQL = (
    "SELECT user_id, email, nickname, description, avatar_url, created_at FROM users.profiles"
    " WHERE lower(nickname) LIKE %(pattern)s ESCAPE '\\'"
    " AND (%(after)s::text IS NULL OR lower(nickname) ~>~ %(after)s)"
    " ORDER BY lower(nickname) USING ~<~ LIMIT %(limit)s"
)


class Floors(MediaFloors, SessionFloors, ErasureFloors, GroupsFloors, SyncFloors):
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.pg = psycopg.connect(env["DATABASE_URL"], autocommit=True, prepare_threshold=None)
        self.redis = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
        self.gcra = self.redis.register_script(GCRA_LUA)  # the per-user rate limit check
        self._kafka: KafkaProducer | None = None
        self._mongo: Any = None
        self._dynamodb: Any = None
        self.hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.tag = uuid.uuid4().hex[:6]
        self.user_id = uuid.uuid4()
        self.email = f"floor{self.tag}@example.com"
        self.pg.execute(
            "INSERT INTO auth.accounts (user_id, email, password_hash) VALUES (%s, %s, %s)",
            (self.user_id, self.email, self.hasher.hash("correct horse")),
        )
        self.pg.execute(
            "INSERT INTO users.profiles (user_id, email, nickname, created_at)"
            " VALUES (%s, %s, %s, now())",
            (self.user_id, self.email, f"floor{self.tag}"),
        )
        self.profile_key = f"profile:v1:{self.user_id}"
        self.redis.set(self.profile_key, json.dumps({"user_id": str(self.user_id)}), ex=600)

    @property
    def kafka(self) -> KafkaProducer:
        if self._kafka is None:
            self._kafka = KafkaProducer(
                bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"], acks="all"
            )
        return self._kafka

    @property
    def mongo(self) -> Any:
        if self._mongo is None:
            import pymongo

            self._mongo = pymongo.MongoClient(self.env["MONGODB_URI"], retryWrites=False)
        return self._mongo

    @property
    def db(self) -> Any:
        return self.mongo[self.env.get("MONGODB_DATABASE", "messenger")]

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            import boto3

            self._dynamodb = boto3.client(
                "dynamodb",
                endpoint_url=self.env["DYNAMODB_ENDPOINT"],
                region_name=self.env.get("AWS_REGION", "us-east-1"),
                # the local DynamoDB (moto) takes any keys: the ones the local runtime gives
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._dynamodb

    def close(self) -> None:
        if self._kafka is not None:
            self._kafka.close()
        if self._mongo is not None:
            self._mongo.close()
        self.pg.close()

    def _publish(self, event_id: uuid.UUID, payload: str) -> None:
        """The outbox fast path: lock the row, produce with acks=all, mark it published."""
        with self.pg.transaction():
            self.pg.execute(
                "SELECT id FROM messaging.outbox WHERE id = %s AND published_at IS NULL"
                " FOR UPDATE SKIP LOCKED",
                (event_id,),
            ).fetchall()
            self.kafka.send("bench-floor", key=b"k", value=payload.encode())
            self.kafka.flush()
            self.pg.execute(
                "UPDATE messaging.outbox SET published_at = now() WHERE id = %s", (event_id,)
            )

    def _enqueue(self, event_id: uuid.UUID, topic: str, key: str, event_type: str) -> str:
        payload = json.dumps({"id": str(event_id), "type": event_type})
        self.pg.execute(
            "INSERT INTO messaging.outbox (id, topic, key, payload) VALUES (%s, %s, %s, %s)",
            (event_id, topic, key, payload),
        )
        return payload

    def register(self, n: int) -> Samples:
        def once(i: int) -> None:
            nickname, user_id, event_id = f"f{self.tag}{i}", uuid.uuid4(), uuid.uuid4()
            self.pg.execute(
                "SELECT 1 FROM users.profiles WHERE lower(nickname) = lower(%s)", (nickname,)
            ).fetchone()
            self.pg.execute(
                "SELECT 1 FROM auth.accounts WHERE email = %s", (f"{nickname}@example.com",)
            ).fetchone()
            password_hash = self.hasher.hash("correct horse")
            with self.pg.transaction():
                self.pg.execute(
                    "INSERT INTO auth.accounts (user_id, email, password_hash) VALUES (%s,%s,%s)",
                    (user_id, f"{nickname}@example.com", password_hash),
                )
                self.pg.execute(  # the nickname's reservation, then the profiles again
                    "INSERT INTO users.nickname_reservations (nickname_ci, user_id)"
                    " VALUES (lower(%s), %s)",
                    (nickname, user_id),
                )
                self.pg.execute(
                    "SELECT 1 FROM users.profiles WHERE lower(nickname) = lower(%s)", (nickname,)
                ).fetchone()
                payload = self._enqueue(event_id, "user-events", str(user_id), "user.registered")
            self._publish(event_id, payload)

        return timed(n, once)

    def login(self, n: int) -> Samples:
        def once(_: int) -> None:
            pipe = self.redis.pipeline(transaction=False)  # per (email, IP) and per email
            for key in ("login-failures:{x}:ip", "login-failures:{x}"):
                pipe.get(key)
                pipe.ttl(key)
            pipe.execute()
            row = self.pg.execute(
                "SELECT user_id, email, password_hash, created_at FROM auth.accounts"
                " WHERE email = %s",
                (self.email,),
            ).fetchone()
            assert row is not None
            self.hasher.verify(row[2], "correct horse")
            token_hash = hashlib.sha256(secrets.token_bytes(32)).digest()
            refresh_hash = hashlib.sha256(secrets.token_bytes(32)).digest()
            session_id = str(uuid.uuid4())
            with self.pg.transaction():  # the login, its access token, its refresh token
                self.pg.execute(
                    "INSERT INTO auth.logins (session_id, user_id, expires_at, user_agent)"
                    " VALUES (%s, %s, now() + interval '60 days', 'bench')",
                    (session_id, row[0]),
                )
                self.pg.execute(
                    "INSERT INTO auth.sessions (token_hash, user_id, expires_at, session_id)"
                    " VALUES (%s, %s, now() + interval '1 hour', %s)",
                    (token_hash, row[0], session_id),
                )
                self.pg.execute(
                    "INSERT INTO auth.refresh_tokens (token_hash, session_id, expires_at)"
                    " VALUES (%s, %s, now() + interval '60 days')",
                    (refresh_hash, session_id),
                )
            self.redis.set(f"session:{token_hash.hex()}", f"{row[0]} 0 {session_id}", ex=3600)
            self.redis.delete("login-failures:{x}:ip")

        return timed(n, once)

    def get_profile(self, n: int) -> Samples:
        """Warm: one Redis GET (cache-aside hit)."""
        return timed(n, lambda _: self.redis.get(self.profile_key))

    def search_cached(self, n: int, prefix: str, limit: int = 20) -> Samples:
        """Warm, within the 10 s TTL: one Redis GET of the cached page the function stored."""
        key = search_key(prefix, limit + 1)
        return timed(n, lambda _: self.redis.get(key))

    def search_uncached(self, n: int, prefixes: list[str], limit: int = 20) -> Samples:
        """A prefix nobody asked for in 10 s: the cache miss, the range scan, the cache fill."""

        def once(i: int) -> None:
            key = search_key(prefixes[i] + "-floor", limit + 1)
            self.redis.get(key)
            pattern = prefixes[i].lower().replace("_", "\\_") + "%"
            rows = self.pg.execute(
                SEARCH_SQL, {"pattern": pattern, "after": None, "limit": limit + 1}
            ).fetchall()
            pipe = self.redis.pipeline(transaction=False)
            pipe.set(key, json.dumps([str(r[0]) for r in rows]), ex=1)
            pipe.execute()

        return timed(n, once)

    def get_friends(self, n: int, user: str, limit: int = 100) -> Samples:
        """The first page as the function reads it: the friend-list range and the pending
        requests (Postgres), the page's cached profiles (one MGET, each parsed), their presence
        (one BatchGetItem per 100)."""
        table = self.env.get("USER_CONNECTIONS_TABLE", "UserConnectionsTable")
        owner = uuid.UUID(user)

        def once(_: int) -> None:
            page = self.pg.execute(FRIENDS_PAGE, {"owner": owner, "limit": limit + 1}).fetchall()
            page = page[:limit]
            self.pg.execute(PENDING, {"u": owner}).fetchall()
            if not page:
                return
            for raw in self.redis.mget([f"profile:v1:{r[0]}" for r in page]):
                json.loads(raw or "null")
            keys = [{"user_id": {"S": str(r[0])}} for r in page]
            for start in range(0, len(keys), 100):
                self.dynamodb.batch_get_item(
                    RequestItems={
                        table: {
                            "Keys": keys[start : start + 100],
                            "ProjectionExpression": "user_id, connections",
                        }
                    }
                )

        return timed(n, once)

    def update_profile(self, n: int) -> Samples:
        def once(i: int) -> None:
            event_id = uuid.uuid4()
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT user_id, email, nickname, description, avatar_url, created_at"
                    " FROM users.profiles WHERE user_id = %s FOR UPDATE",
                    (self.user_id,),
                ).fetchone()
                self.pg.execute(
                    "UPDATE users.profiles SET description = %s, updated_at = "
                    + NEXT_VERSION
                    + " WHERE user_id = %s RETURNING updated_at, user_id, email, nickname,"
                    " description, avatar_url, created_at",
                    (f"d{i}", self.user_id),
                ).fetchone()
                payload = self._enqueue(
                    event_id, "user-events", str(self.user_id), "user.profile_updated"
                )
            self.redis.delete(self.profile_key + "-x", "nickname:v1:x")
            self._publish(event_id, payload)
            self._email_verified()  # the own profile's `email_verified`, asked of auth

        return timed(n, once)

    def send_friend_request(self, n: int) -> Samples:
        def once(_: int) -> None:
            other = uuid.uuid4()
            low, high = sorted([self.user_id, other])
            self.gcra(keys=[f"ratelimit:friend_request:{self.user_id}"], args=[1, 1_000_000])
            self.redis.get("nickname:v1:x")  # profile by nickname: two cached GETs
            self.redis.get(self.profile_key)
            event_id = uuid.uuid4()
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"friends:{low}:{high}",),
                )
                self.pg.execute(
                    "SELECT status FROM friends.friendships WHERE user_low = %s AND user_high = %s",
                    (low, high),
                ).fetchone()
                self.pg.execute(
                    "INSERT INTO friends.friendships (user_low, user_high, status, requested_by,"
                    " requested_at) VALUES (%s, %s, 'pending', %s, now())",
                    (low, high, self.user_id),
                )
                payload = self._enqueue(
                    event_id, "friendship-events", f"{low}:{high}", "friendship.requested"
                )
            self.redis.delete(f"friends:v1:{low}", f"friends:v1:{high}")
            self._publish(event_id, payload)

        return timed(n, once)

    # Chats: membership and friendship from Redis (warm), then Mongo.

    def send_message(self, n: int, chat_id: str, author: str, others: list[str]) -> Samples:
        from messenger.chats.service import new_message_id
        from messenger.kernel.clock import utcnow

        def once(_: int) -> None:
            self.gcra(keys=[f"ratelimit:send_message:{author}"], args=[1, 1_000_000])
            self.redis.get(members_key(chat_id))
            self.redis.get(f"friends:v1:{author}")
            message_id, event_id, now = str(new_message_id()), str(uuid.uuid4()), utcnow()
            doc = {
                "_id": message_id,
                "chat_id": chat_id,
                "author_id": author,
                "content": "floor",
                "created_at": now,
                "client_message_id": None,
            }
            payload = {"id": event_id, "type": "message.sent", "data": {"message_id": message_id}}

            def work(session: object) -> None:
                self.db.messages.insert_one({**doc, "dedupe_key": message_id}, session=session)
                self.db.chats.update_one(
                    {"_id": chat_id, "last_message_id": {"$lt": message_id}},
                    {
                        "$inc": {f"unread.{p}": 1 for p in others},
                        "$max": {"last_activity_at": now},
                        "$set": {"last_message": doc, "last_message_id": message_id},
                    },
                    session=session,
                )
                outboxed = {
                    "_id": event_id,
                    "topic": "bench-floor",
                    "key": chat_id,
                    "payload": payload,
                    "correlation_id": None,
                    "created_at": now,
                    "pending": True,
                }  # the shape mongo_outbox.enqueue writes (the relay may read it)
                self.db.outbox.insert_many([outboxed], session=session)

            with self.mongo.start_session() as session:
                session.with_transaction(work)
            self.kafka.send("bench-floor", key=b"k", value=json.dumps(payload).encode())
            self.kafka.flush()
            self.db.outbox.update_many(
                {"_id": {"$in": [event_id]}},
                {"$unset": {"pending": ""}, "$set": {"published_at": now}},
            )

        return timed(n, once)

    def history(self, n: int, chat_id: str, limit: int = 50) -> Samples:
        def once(_: int) -> None:
            self.redis.get(members_key(chat_id))
            list(self.db.messages.find({"chat_id": chat_id}).sort("_id", -1).limit(limit + 1))

        return timed(n, once)

    # Edit, reactions, receipts, one chat (issue 13): the same Mongo statements, by `_id`.

    def _mongo_event(self, session: object, chat_id: str, event_type: str) -> tuple[str, Any]:
        event_id, now = str(uuid.uuid4()), _utcnow()
        payload = {"id": event_id, "type": event_type, "data": {"chat_id": chat_id}}
        self.db.outbox.insert_many(
            [
                {
                    "_id": event_id,
                    "topic": "bench-floor",
                    "key": chat_id,
                    "payload": payload,
                    "correlation_id": None,
                    "created_at": now,
                    "pending": True,
                }
            ],
            session=session,
        )
        return event_id, payload

    def _mongo_publish(self, event_id: str, payload: Any) -> None:
        """MongoOutboxPublisher.publish_now: produce, flush, mark published."""
        self.kafka.send("bench-floor", key=b"k", value=json.dumps(payload).encode())
        self.kafka.flush()
        self.db.outbox.update_many(
            {"_id": {"$in": [event_id]}},
            {"$unset": {"pending": ""}, "$set": {"published_at": _utcnow()}},
        )

    def _transaction(self, work: Callable[[object], Any]) -> Any:
        with self.mongo.start_session() as session:
            return session.with_transaction(work)

    def edit_message(self, n: int, chat_id: str, message_ids: list[str]) -> Samples:
        def once(i: int) -> None:
            mid = message_ids[i % len(message_ids)]
            self.redis.get(members_key(chat_id))
            self.db.messages.find_one({"_id": mid, "chat_id": chat_id})
            change = {"content": f"floor {i}", "edited_at": _utcnow()}

            def work(session: object) -> tuple[str, Any]:
                self.db.messages.find_one({"_id": mid}, session=session)
                self.db.messages.update_one({"_id": mid}, {"$set": change}, session=session)
                self.db.chats.update_one(
                    {"_id": chat_id, "last_message_id": mid},
                    {"$set": {f"last_message.{k}": v for k, v in change.items()}},
                    session=session,
                )
                return self._mongo_event(session, chat_id, "message.edited")

            self._mongo_publish(*self._transaction(work))
            self.db.chats.find_one({"_id": chat_id}, {"read_up_to": 1, "delivered_up_to": 1})

        return timed(n, once)

    def add_reaction(self, n: int, chat_id: str, message_ids: list[str]) -> Samples:
        """A new emoji on each message (a `$push`), as the measured calls made."""
        user = str(uuid.uuid4())

        def once(i: int) -> None:
            mid = message_ids[i % len(message_ids)]
            self.redis.get(members_key(chat_id))

            def work(session: object) -> tuple[str, Any]:
                doc = self.db.messages.find_one(
                    {"_id": mid}, {"chat_id": 1, "deleted": 1, "reactions": 1}, session=session
                )
                entry = {"emoji": "🔥", "users": [user]}
                self.db.messages.update_one(
                    {"_id": mid}, {"$push": {"reactions": entry}}, session=session
                )
                reactions = [*((doc or {}).get("reactions") or []), entry]
                self.db.chats.update_one(
                    {"_id": chat_id, "last_message_id": mid},
                    {"$set": {"last_message.reactions": reactions}},
                    session=session,
                )
                return self._mongo_event(session, chat_id, "message.reaction_added")

            self._mongo_publish(*self._transaction(work))

        return timed(n, once)

    def mark_delivered(self, n: int, chat_id: str, message_ids: list[str]) -> Samples:
        """A marker moving forward message by message (the floor's own user's)."""
        user = str(uuid.uuid4())

        def once(i: int) -> None:
            mid = message_ids[i % len(message_ids)]
            self.redis.get(members_key(chat_id))
            self.db.messages.find_one({"_id": mid, "chat_id": chat_id}, {"_id": 1})

            def work(session: object) -> tuple[str, Any]:
                self.db.chats.find_one(
                    {"_id": chat_id},
                    {f"read_up_to.{user}": 1, f"delivered_up_to.{user}": 1},
                    session=session,
                )
                self.db.chats.update_one(
                    {"_id": chat_id}, {"$set": {f"delivered_up_to.{user}": mid}}, session=session
                )
                return self._mongo_event(session, chat_id, "chat.delivered")

            self._mongo_publish(*self._transaction(work))

        return timed(n, once)

    def get_chat(self, n: int, chat_id: str) -> Samples:
        """One read of the chat document (its membership check included)."""
        return timed(n, lambda _: self.db.chats.find_one({"_id": chat_id}))

    def history_with_markers(self, n: int, chat_id: str, reader: str, limit: int = 50) -> Samples:
        """The page, and the markers for the status of the reader's own messages; the chat is a
        group, so the reader's blocks are read too (their authors are filtered out)."""

        def once(_: int) -> None:
            self.redis.get(members_key(chat_id))
            self.redis.get(blocks_key(reader))
            list(self.db.messages.find({"chat_id": chat_id}).sort("_id", -1).limit(limit + 1))
            self.db.chats.find_one({"_id": chat_id}, {"read_up_to": 1, "delivered_up_to": 1})

        return timed(n, once)

    def list_chats(self, n: int, user: str, limit: int = 20) -> Samples:
        def once(_: int) -> None:
            list(
                self.db.chats.find({"participants": user})
                .sort([("last_activity_at", -1), ("_id", -1)])
                .limit(limit + 1)
            )

        return timed(n, once)


def _utcnow() -> Any:
    from messenger.kernel.clock import utcnow

    return utcnow()


def _child_env(backing: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **backing, "PYTHONPATH": str(ROOT)}


def paced(backing: dict[str, str], job: FloorJob) -> Paced:
    """A floor in a fresh process, one sample per `step()` (interleaved with its row)."""
    return Paced(job, backing, _child_env(backing), ROOT)


def run(backing: dict[str, str], jobs: list[FloorJob]) -> list[Samples]:
    """Run these floors (method, n, arguments) one after another in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.perf.floors"],
        input=json.dumps({"env": backing, "jobs": jobs}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_child_env(backing),
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"floors failed: {done.stderr[-3000:]}")
    samples: list[Samples] = json.loads(done.stdout.strip().splitlines()[-1])
    return samples


def throughput(backing: dict[str, str], chats: list[tuple[str, str, list[str]]], n: int) -> float:
    """Messages/s of `len(chats)` processes, each sending `n` floors into its own chat at once."""
    specs = [
        {"env": backing, "chat_id": chat_id, "author": author, "others": others, "n": n}
        for chat_id, author, others in chats
    ]
    elapsed = released_together(["tests.perf.floors", "--sender"], specs, _child_env(backing))
    return n * len(chats) / elapsed


def _sender() -> None:
    spec = json.loads(sys.stdin.readline())
    floors = Floors(spec["env"])
    try:
        floors.send_message(1, spec["chat_id"], spec["author"], spec["others"])
        print("ready", flush=True)
        sys.stdin.readline()
        floors.send_message(WARM_SENDS, spec["chat_id"], spec["author"], spec["others"])
        print("warm", flush=True)
        sys.stdin.readline()
        start = time.time()
        floors.send_message(spec["n"], spec["chat_id"], spec["author"], spec["others"])
        print(json.dumps([start, time.time()]), flush=True)
    finally:
        floors.close()


def main() -> None:
    if "--sender" in sys.argv:
        _sender()
        return
    if "--paced" in sys.argv:
        step_by_step()
    spec = json.loads(sys.stdin.readline())
    floors = Floors(spec["env"])
    try:
        results = [getattr(floors, method)(n, **kwargs) for method, n, kwargs in spec["jobs"]]
    finally:
        floors.close()
    if "--paced" not in sys.argv:  # paced, each sample went out as it was taken
        print(json.dumps(results))


if __name__ == "__main__":
    main()
