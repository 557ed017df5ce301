"""The floor of each RPC: exactly its backing-service calls (and hashing), made directly.

Kept in step with the adapters by hand: each method mirrors the statements its use-case runs on
the warm path (caches hit where the function's caches would hit). The authorizer is not part of
any floor: the bench compares these with the function's own handler time.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable

import psycopg
import redis
from argon2 import PasswordHasher
from kafka import KafkaProducer

from messenger.ratelimit import GCRA_LUA


def _timed(n: int, call: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


class Floors:
    def __init__(self, env: dict[str, str]) -> None:
        self.pg = psycopg.connect(env["DATABASE_URL"], autocommit=True, prepare_threshold=None)
        self.redis = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
        self.gcra = self.redis.register_script(GCRA_LUA)  # the rate limit check
        self.kafka = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
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

    def close(self) -> None:
        self.kafka.close()
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

    def register(self, n: int) -> list[float]:
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

        return _timed(n, once)

    def login(self, n: int) -> list[float]:
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
            self.pg.execute(
                "INSERT INTO auth.sessions (token_hash, user_id, expires_at)"
                " VALUES (%s, %s, now() + interval '7 days')",
                (token_hash, row[0]),
            )
            self.redis.set(f"session:{token_hash.hex()}", f"{row[0]} 0", ex=3600)
            self.redis.delete("login-failures:{x}:ip")

        return _timed(n, once)

    def get_profile(self, n: int) -> list[float]:
        """Warm: one Redis GET (cache-aside hit)."""
        return _timed(n, lambda _: self.redis.get(self.profile_key))

    def search(self, n: int) -> list[float]:
        """Warm: one Redis GET of the cached page (10 s TTL)."""
        return _timed(n, lambda _: self.redis.get(self.profile_key))

    def get_friends(self, n: int) -> list[float]:
        """Warm: the cached relations, then one MGET of the friends' cached profiles."""

        def once(_: int) -> None:
            self.redis.get(self.profile_key)
            self.redis.mget([self.profile_key])

        return _timed(n, once)

    def update_profile(self, n: int) -> list[float]:
        def once(i: int) -> None:
            event_id = uuid.uuid4()
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT user_id, email, nickname, description, avatar_url, created_at"
                    " FROM users.profiles WHERE user_id = %s FOR UPDATE",
                    (self.user_id,),
                ).fetchone()
                self.pg.execute(
                    "UPDATE users.profiles SET description = %s, updated_at = now()"
                    " WHERE user_id = %s RETURNING user_id, email, nickname, description,"
                    " avatar_url, created_at",
                    (f"d{i}", self.user_id),
                ).fetchone()
                payload = self._enqueue(
                    event_id, "user-events", str(self.user_id), "user.profile_updated"
                )
            self.redis.delete(self.profile_key + "-x", "nickname:v1:x")
            self._publish(event_id, payload)

        return _timed(n, once)

    def send_friend_request(self, n: int) -> list[float]:
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

        return _timed(n, once)


class ChatFloors:
    """SendMessage and GetChatHistory, warm: membership and friendship from Redis, then Mongo."""

    def __init__(self, env: dict[str, str], chat_id: str, author: str) -> None:
        import pymongo

        self.client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            env["MONGODB_URI"], retryWrites=False
        )
        self.db = self.client[env.get("MONGODB_DATABASE", "messenger")]
        self.redis = redis.Redis.from_url(env["REDIS_URL"], decode_responses=True)
        self.gcra = self.redis.register_script(GCRA_LUA)  # the rate limit check
        self.kafka = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
        self.chat_id, self.author = chat_id, author

    def close(self) -> None:
        self.kafka.close()
        self.client.close()

    def send(self, n: int) -> list[float]:
        from messenger.chats.service import new_message_id
        from messenger.clock import utcnow

        def once(_: int) -> None:
            self.gcra(keys=[f"ratelimit:send_message:{self.author}"], args=[1, 1_000_000])
            self.redis.get(f"chat-members:v1:{self.chat_id}")
            self.redis.get(f"friends:v1:{self.author}")
            message_id, event_id, now = str(new_message_id()), str(uuid.uuid4()), utcnow()
            doc = {
                "_id": message_id,
                "chat_id": self.chat_id,
                "author_id": self.author,
                "content": "floor",
                "created_at": now,
                "client_message_id": None,
            }
            payload = {"id": event_id, "type": "message.sent", "data": {"message_id": message_id}}

            def work(session: object) -> None:
                self.db.messages.insert_one({**doc, "dedupe_key": message_id}, session=session)
                self.db.chats.update_one(
                    {"_id": self.chat_id},
                    {"$inc": {"unread.x": 1}, "$max": {"last_activity_at": now}},
                    session=session,
                )
                self.db.chats.update_one(
                    {
                        "_id": self.chat_id,
                        "$or": [{"last_message": None}, {"last_message._id": {"$lt": message_id}}],
                    },
                    {"$set": {"last_message": doc}},
                    session=session,
                )
                self.db.outbox.insert_one(
                    {"_id": event_id, "payload": payload, "pending": True, "created_at": now},
                    session=session,
                )

            with self.client.start_session() as session:
                session.with_transaction(work)
            self.kafka.send("bench-floor", key=b"k", value=json.dumps(payload).encode())
            self.kafka.flush()
            self.db.outbox.update_many(
                {"_id": {"$in": [event_id]}},
                {"$unset": {"pending": ""}, "$set": {"published_at": now}},
            )

        return _timed(n, once)

    def history(self, n: int) -> list[float]:
        def once(_: int) -> None:
            self.gcra(keys=[f"ratelimit:send_message:{self.author}"], args=[1, 1_000_000])
            self.redis.get(f"chat-members:v1:{self.chat_id}")
            list(self.db.messages.find({"chat_id": self.chat_id}).sort("_id", -1).limit(51))

        return _timed(n, once)
