"""The floors of the groups and blocks RPCs (mixed into tests/perf/floors.py's Floors): the same
Redis, MongoDB, Postgres and Kafka statements the functions make, made directly."""

from __future__ import annotations

import json
import uuid
from typing import Any

from messenger.chats.adapters.store import members_key
from messenger.friends.adapters.store import blocks_key
from tests.perf.pacing import Samples, timed


def _now() -> Any:
    from messenger.kernel.clock import utcnow

    return utcnow()


class GroupsFloors:
    env: dict[str, str]
    redis: Any
    pg: Any
    db: Any
    mongo: Any
    kafka: Any

    def _produce(self, payload: dict[str, Any]) -> None:
        self.kafka.send("bench-floor", key=b"k", value=json.dumps(payload).encode())
        self.kafka.flush()

    def add_member(self, n: int, chat_ids: list[str], owner: str, user_ids: list[str]) -> Samples:
        """Membership and the owner's friends and blocks from Redis; one transaction (read the
        chat, update it under its version, the system message, the outbox); publish; drop the
        cached membership; read the chat for the answer."""
        from messenger.chats.service import new_message_id
        from tests.perf.groups_bench import PER_GROUP

        def once(i: int) -> None:
            user, now, chat_id = user_ids[i], _now(), chat_ids[i // PER_GROUP]
            self.redis.get(members_key(chat_id))
            self.redis.get(f"friends:v1:{owner}")
            self.redis.get(f"blocks:v1:{owner}")
            event_id, note_id = str(uuid.uuid4()), str(new_message_id())
            payload = {"id": event_id, "type": "chat.member_added", "data": {"chat_id": chat_id}}

            def work(session: object) -> None:
                doc = self.db.chats.find_one({"_id": chat_id}, session=session)
                members = doc["participants"]  # the user was added by the measured call
                self.db.chats.update_one(
                    {"_id": chat_id, "version": doc.get("version")},
                    {
                        "$set": {
                            "participants": members if user in members else [*members, user],
                            "version": (doc.get("version") or 0) + 1,
                            f"joined_at.{user}": now,
                        },
                        "$max": {"last_activity_at": now},
                    },
                    session=session,
                )
                self.db.messages.insert_many(
                    [
                        {
                            "_id": note_id,
                            "chat_id": chat_id,
                            "author_id": owner,
                            "content": None,
                            "created_at": now,
                            "kind": "system",
                            "system": {"event": "member_added", "user_ids": [user]},
                            "dedupe_key": note_id,
                        }
                    ],
                    session=session,
                )
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

            with self.mongo.start_session() as session:
                session.with_transaction(work)
            self._produce(payload)
            self.db.outbox.update_many(
                {"_id": {"$in": [event_id]}},
                {"$unset": {"pending": ""}, "$set": {"published_at": now}},
            )
            self.redis.delete(members_key(chat_id))
            self.db.chats.find_one({"_id": chat_id})

        return timed(n, once)

    def block_user(self, n: int, blocker: str, blocked: list[str]) -> Samples:
        """The blocked user's profile (cached), then one Postgres transaction under the pair's
        lock (insert the block, end the friendship, the outbox rows of its two events:
        user.blocked and friendship.removed); drop both users' cached relations and blocks;
        publish both (two topics, as the function does)."""

        def once(i: int) -> None:
            other = blocked[i]
            low, high = sorted([uuid.UUID(blocker), uuid.UUID(other)])
            self.redis.mget([f"profile:v1:{other}"])
            events = [
                (uuid.uuid4(), topic, json.dumps({"id": str(uuid.uuid4()), "type": kind}))
                for topic, kind in (
                    ("bench-floor", "user.blocked"),
                    ("bench-floor-2", "friendship.removed"),
                )
            ]
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                    (f"friends:{low}:{high}",),
                )
                self.pg.execute(
                    "INSERT INTO friends.blocks (blocker, blocked, blocked_at)"
                    " VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING 1",
                    (uuid.UUID(blocker), uuid.UUID(other)),
                ).fetchone()
                self.pg.execute(
                    "DELETE FROM friends.friendships WHERE user_low = %s AND user_high = %s"
                    " RETURNING status",
                    (low, high),
                ).fetchone()
                with self.pg.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO messaging.outbox (id, topic, key, payload)"
                        " VALUES (%s, %s, %s, %s)",
                        [(event, topic, blocker, body) for event, topic, body in events],
                    )
            pipe = self.redis.pipeline(transaction=False)
            for user in (blocker, other):
                pipe.delete(f"friends:v1:{user}")
                pipe.delete(f"blocks:v1:{user}")
            pipe.execute()
            ids = [event for event, _, _ in events]
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT id FROM messaging.outbox WHERE published_at IS NULL"
                    " AND id = ANY(%s) ORDER BY seq LIMIT 2 FOR UPDATE SKIP LOCKED",
                    (ids,),
                ).fetchall()
                for _, topic, body in events:
                    self.kafka.send(topic, key=b"k", value=body.encode())
                self.kafka.flush()
                self.pg.execute(
                    "UPDATE messaging.outbox SET published_at = now() WHERE id = ANY(%s)", (ids,)
                )

        return timed(n, once)

    def history_blocked(
        self, n: int, chat_id: str, reader: str, blocked: list[str], limit: int = 50
    ) -> Samples:
        """Membership and the reader's blocks from Redis, then the page: one range query with
        the blocked authors filtered inside it."""

        def once(_: int) -> None:
            self.redis.get(members_key(chat_id))
            self.redis.get(blocks_key(reader))
            query = {"chat_id": chat_id, "author_id": {"$nin": blocked}}
            list(self.db.messages.find(query).sort("_id", -1).limit(limit + 1))

        return timed(n, once)
