"""Profiles in Postgres (schema `users`). Nickname uniqueness is the database's job."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import class_row

from messenger import inbox, postgres
from messenger.users.models import OwnProfile
from messenger.users.service import CREATE_PROFILE_CONSUMER

if TYPE_CHECKING:
    import uuid
    from collections.abc import Iterator

_COLUMNS = "user_id, email, nickname, description, avatar_url, created_at"
NICKNAME_INDEX = "profiles_nickname_ci"
MAX_NICKNAME_ATTEMPTS = 20


class PostgresProfiles:
    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None:
        with postgres.connection().cursor(row_factory=class_row(OwnProfile)) as cur:
            return cur.execute(
                f"SELECT {_COLUMNS} FROM users.profiles WHERE user_id = %s", (user_id,)
            ).fetchone()

    def by_nickname(self, nickname: str) -> OwnProfile | None:
        with postgres.connection().cursor(row_factory=class_row(OwnProfile)) as cur:
            return cur.execute(
                f"SELECT {_COLUMNS} FROM users.profiles WHERE lower(nickname) = lower(%s)",
                (nickname,),
            ).fetchone()

    def is_nickname_taken(self, nickname: str) -> bool:
        row = (
            postgres.connection()
            .execute("SELECT 1 FROM users.profiles WHERE lower(nickname) = lower(%s)", (nickname,))
            .fetchone()
        )
        return row is not None

    def create_once(
        self, event_id: uuid.UUID, profile: OwnProfile, nickname_candidates: Iterator[str]
    ) -> OwnProfile | None:
        def create(conn: psycopg.Connection) -> OwnProfile | None:
            if not inbox.claim(conn, CREATE_PROFILE_CONSUMER, event_id):
                return None
            for _, nickname in zip(range(MAX_NICKNAME_ATTEMPTS), nickname_candidates, strict=False):
                candidate = profile.model_copy(update={"nickname": nickname})
                try:
                    with conn.transaction():  # a savepoint: a taken nickname undoes only itself
                        inserted = conn.execute(
                            f"INSERT INTO users.profiles ({_COLUMNS})"
                            " VALUES (%s, %s, %s, %s, %s, %s)"
                            " ON CONFLICT (user_id) DO NOTHING",
                            (
                                candidate.user_id,
                                candidate.email,
                                candidate.nickname,
                                candidate.description,
                                candidate.avatar_url,
                                candidate.created_at,
                            ),
                        ).rowcount
                except psycopg.errors.UniqueViolation as exc:
                    if exc.diag.constraint_name != NICKNAME_INDEX:
                        raise
                    continue
                return candidate if inserted else None
            raise RuntimeError(f"no free nickname variant after {MAX_NICKNAME_ATTEMPTS} tries")

        return postgres.transact(create)
