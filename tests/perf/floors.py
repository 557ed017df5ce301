"""The floor of each RPC: exactly its backing-service calls (and hashing), made directly.

Kept in step with the adapters by hand: each method mirrors the statements the use-case runs.
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
        self.kafka = KafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"], acks="all")
        self.hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.tag = uuid.uuid4().hex[:6]
        self.user_id = uuid.uuid4()
        self.password_hash = self.hasher.hash("correct horse")
        self.pg.execute(
            "INSERT INTO auth.accounts (user_id, email, password_hash) VALUES (%s, %s, %s)",
            (self.user_id, f"floor{self.tag}@example.com", self.password_hash),
        )
        self.pg.execute(
            "INSERT INTO users.profiles (user_id, email, nickname, created_at)"
            " VALUES (%s, %s, %s, now())",
            (self.user_id, f"floor{self.tag}@example.com", f"floor{self.tag}"),
        )
        self.token_key = "session:" + hashlib.sha256(b"floor").hexdigest()
        self.redis.set(self.token_key, f"{self.user_id} {time.time() + 3600}")

    def close(self) -> None:
        self.kafka.close()
        self.pg.close()

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
            payload = json.dumps({"id": str(event_id), "type": "user.registered"})
            with self.pg.transaction():
                self.pg.execute(
                    "INSERT INTO auth.accounts (user_id, email, password_hash) VALUES (%s,%s,%s)",
                    (user_id, f"{nickname}@example.com", password_hash),
                )
                self.pg.execute(
                    "INSERT INTO messaging.outbox (id, topic, key, payload) VALUES (%s,%s,%s,%s)",
                    (event_id, "user-events", str(user_id), payload),
                )
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT id FROM messaging.outbox WHERE id = %s AND published_at IS NULL"
                    " FOR UPDATE SKIP LOCKED",
                    (event_id,),
                ).fetchall()
                self.kafka.send("bench-floor", key=str(user_id).encode(), value=payload.encode())
                self.kafka.flush()
                self.pg.execute(
                    "UPDATE messaging.outbox SET published_at = now() WHERE id = %s", (event_id,)
                )

        return _timed(n, once)

    def login(self, n: int) -> list[float]:
        email = f"floor{self.tag}@example.com"

        def once(_: int) -> None:
            pipe = self.redis.pipeline(transaction=False)
            pipe.get("login-failures:x")
            pipe.ttl("login-failures:x")
            pipe.execute()
            row = self.pg.execute(
                "SELECT user_id, email, password_hash, created_at FROM auth.accounts"
                " WHERE email = %s",
                (email,),
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
            self.redis.delete("login-failures:x")

        return _timed(n, once)

    def get_profile(self, n: int) -> list[float]:
        def once(_: int) -> None:
            self.redis.get(self.token_key)  # the authorizer
            self.pg.execute(
                "SELECT user_id, email, nickname, description, avatar_url, created_at"
                " FROM users.profiles WHERE user_id = %s",
                (self.user_id,),
            ).fetchone()

        return _timed(n, once)
