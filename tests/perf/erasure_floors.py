"""The floors of account deletion's request path (mixed into tests/perf/floors.py's Floors):
what DeleteMyAccount does, made directly with the drivers: the password check with the login
throttle's reads, the sessions' cache tombstones and revocation, the connections' lookup, then
one transaction (account, nickname reservations, profile, the user's published events, the
`user.deleted` outbox row) and its publication, and the profile's cache keys dropped."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.perf.pacing import Samples, timed


class ErasureFloors:
    env: dict[str, str]
    pg: Any
    redis: Any
    hasher: Any
    tag: str
    dynamodb: Any

    def _publish(self, event_id: uuid.UUID, payload: str) -> None: ...

    def delete_account(self, n: int) -> Samples:
        table = self.env.get("USER_CONNECTIONS_TABLE", "UserConnectionsTable")
        password_hash = self.hasher.hash("correct horse")
        users = []
        for i in range(n):  # setup, not measured: an account with a profile and one session
            user_id, nickname = uuid.uuid4(), f"d{self.tag}{i}"
            self.pg.execute(
                "INSERT INTO auth.accounts (user_id, email, password_hash) VALUES (%s, %s, %s)",
                (user_id, f"{nickname}@example.com", password_hash),
            )
            self.pg.execute(
                "INSERT INTO users.profiles (user_id, email, nickname, created_at)"
                " VALUES (%s, %s, %s, now())",
                (user_id, f"{nickname}@example.com", nickname),
            )
            session_id = uuid.uuid4().hex
            self.pg.execute(
                "INSERT INTO auth.logins (session_id, user_id, expires_at)"
                " VALUES (%s, %s, now() + interval '60 days')",
                (session_id, user_id),
            )
            self.pg.execute(
                "INSERT INTO auth.sessions (token_hash, user_id, expires_at, session_id)"
                " VALUES (%s, %s, now() + interval '1 hour', %s)",
                (uuid.uuid4().bytes * 2, user_id, session_id),
            )
            users.append(user_id)

        def once(i: int) -> None:
            user_id = users[i]
            row = self.pg.execute(
                "SELECT email, password_hash FROM auth.accounts WHERE user_id = %s", (user_id,)
            ).fetchone()
            pipe = self.redis.pipeline(transaction=False)  # the login throttle's two counters
            for key in ("login-failures:{y}:ip", "login-failures:{y}"):
                pipe.get(key)
                pipe.ttl(key)
            pipe.execute()
            self.hasher.verify(row[1], "correct horse")
            with self.pg.transaction():  # the session store's revoke: logins, then their tokens
                ids = [
                    r[0]
                    for r in self.pg.execute(
                        "UPDATE auth.logins SET revoked_at = now()"
                        " WHERE user_id = %s AND revoked_at IS NULL RETURNING session_id",
                        (user_id,),
                    ).fetchall()
                ]
                tokens = self.pg.execute(
                    "UPDATE auth.sessions SET revoked_at = now()"
                    " WHERE session_id = ANY(%s) AND revoked_at IS NULL AND expires_at > now()"
                    " RETURNING token_hash, expires_at",
                    (ids,),
                ).fetchall()
                pipe = self.redis.pipeline(transaction=False)
                for token_hash, _ in tokens:
                    pipe.set(f"session:{bytes(token_hash).hex()}", "revoked", ex=300)
                pipe.execute()
            self.dynamodb.batch_get_item(  # the sessions' connections (none here)
                RequestItems={
                    table: {
                        "Keys": [{"user_id": {"S": str(user_id)}}],
                        "ProjectionExpression": "user_id, connections",
                    }
                }
            )
            event_id = uuid.uuid4()
            payload = json.dumps({"id": str(event_id), "type": "user.deleted"})
            with self.pg.transaction():
                self.pg.execute("DELETE FROM auth.accounts WHERE user_id = %s", (user_id,))
                self.pg.execute(
                    "DELETE FROM users.nickname_reservations WHERE user_id = %s", (user_id,)
                )
                self.pg.execute(
                    "DELETE FROM users.profiles WHERE user_id = %s RETURNING nickname", (user_id,)
                ).fetchone()
                self.pg.execute(
                    "DELETE FROM messaging.outbox WHERE key = %s AND published_at IS NOT NULL",
                    (str(user_id),),
                )
                self.pg.execute(
                    "INSERT INTO messaging.outbox (id, topic, key, payload)"
                    " VALUES (%s, %s, %s, %s)",
                    (event_id, "user-events", str(user_id), payload),
                )
            self._publish(event_id, payload)
            pipe = self.redis.pipeline(transaction=False)
            pipe.delete(f"profile:v1:{user_id}")
            pipe.delete(f"nickname:v1:d{self.tag}")
            pipe.execute()

        return timed(len(users), once)

    def request_export(self, n: int) -> Samples:
        """RequestExport: the per-user lock, the pending and window checks, the row and its
        outbox event in one transaction, then the publication. Each call a user of its own (a
        user's second request would answer the pending one)."""

        def once(_: int) -> None:
            user_id, export_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
            payload = json.dumps({"id": str(event_id), "type": "user.export_requested"})
            with self.pg.transaction():
                self.pg.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"exports:{user_id}",)
                )
                self.pg.execute(
                    "SELECT export_id FROM users.exports WHERE user_id = %s AND status = 'pending'"
                    " ORDER BY requested_at DESC LIMIT 1",
                    (user_id,),
                ).fetchone()
                self.pg.execute(
                    "SELECT requested_at FROM users.exports WHERE user_id = %s"
                    " AND requested_at > now() - interval '24 hours' ORDER BY requested_at",
                    (user_id,),
                ).fetchall()
                self.pg.execute(
                    "INSERT INTO users.exports (export_id, user_id, status)"
                    " VALUES (%s, %s, 'pending')"
                    " RETURNING export_id",
                    (export_id, user_id),
                ).fetchone()
                self.pg.execute(
                    "INSERT INTO messaging.outbox (id, topic, key, payload)"
                    " VALUES (%s, %s, %s, %s)",
                    (event_id, "user-events", str(user_id), payload),
                )
            self._publish(event_id, payload)

        return timed(n, once)
