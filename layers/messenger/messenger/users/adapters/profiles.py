"""Profiles in Postgres (schema `users`). Nickname uniqueness is the database's job.

A nickname is held by a profile (the unique index on lower(nickname)) or, between a registration
and its profile, by a reservation (users.nickname_reservations, keyed by lower(nickname)).
Whoever claims a nickname (a registration, a profile update) first inserts the reservation: a
concurrent claim of the same nickname waits on that row and loses, so a check of the profiles
afterwards, in the same transaction, sees everything committed before it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row, kwargs_row

from messenger.platform import inbox, outbox, postgres
from messenger.users.models import OwnProfile
from messenger.users.service import CREATE_PROFILE_CONSUMER, NicknameTaken

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from messenger.platform.unit_of_work import UnitOfWork
    from messenger.users.events import ProfileUpdated

_COLUMNS = "user_id, email, nickname, description, avatar_url, created_at"
NICKNAME_INDEX = "profiles_nickname_ci"
MAX_NICKNAME_ATTEMPTS = 20
# A profile's version (`updated_at`, which `user.profile_updated` carries): the database's clock,
# and always past the version before, so versions order a profile's updates even when two of
# them started in the other order (they serialize on the row's lock).
NEXT_VERSION = "greatest(clock_timestamp(), updated_at + interval '1 microsecond')"


def _versioned(updated_at: datetime, **columns: Any) -> tuple[datetime, OwnProfile]:
    return updated_at, OwnProfile(**columns)


_RESERVE = (
    "INSERT INTO users.nickname_reservations (nickname_ci, user_id)"
    " VALUES (lower(%(nick)s), %(uid)s)"
    " ON CONFLICT (nickname_ci) DO UPDATE SET reserved_at = now()"
    " WHERE users.nickname_reservations.user_id = excluded.user_id"
    " RETURNING 1"
)
_HELD_BY_ANOTHER_PROFILE = (
    "SELECT 1 FROM users.profiles WHERE lower(nickname) = lower(%(nick)s) AND user_id <> %(uid)s"
)


def reserve_nickname(conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
    """Hold the nickname for the user in the caller's transaction; False if someone else holds it.

    The reservation row first (waiting for a concurrent claim of the same nickname to finish),
    then the profiles: a read that starts after that wait sees whatever the other committed.
    """
    params = {"nick": nickname, "uid": user_id}
    if conn.execute(_RESERVE, params).fetchone() is None:
        return False
    return conn.execute(_HELD_BY_ANOTHER_PROFILE, params).fetchone() is None


def _reserved_by_another(conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM users.nickname_reservations WHERE nickname_ci = lower(%s) AND user_id <> %s",
        (nickname, user_id),
    ).fetchone()
    return row is not None


def release_nicknames(conn: psycopg.Connection, user_id: uuid.UUID) -> None:
    """The user's profile now holds its nickname: drop their reservations."""
    conn.execute("DELETE FROM users.nickname_reservations WHERE user_id = %s", (user_id,))


def erase_profile(conn: psycopg.Connection, user_id: uuid.UUID) -> OwnProfile | None:
    """Remove the user's profile and nickname reservations in the caller's transaction (account
    deletion): the nickname is free once it commits. The profile removed, or None."""
    release_nicknames(conn, user_id)
    conn.execute("DELETE FROM users.exports WHERE user_id = %s", (user_id,))
    with conn.cursor(row_factory=class_row(OwnProfile)) as cur:
        return cur.execute(
            f"DELETE FROM users.profiles WHERE user_id = %s RETURNING {_COLUMNS}", (user_id,)
        ).fetchone()


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

    def many(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnProfile]:
        if not user_ids:
            return {}
        with postgres.connection().cursor(row_factory=class_row(OwnProfile)) as cur:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM users.profiles WHERE user_id = ANY(%s)", (list(user_ids),)
            ).fetchall()
        return {row.user_id: row for row in rows}

    def sort_keys(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, datetime]]:
        """Each user's lower(nickname) with the profile's version, read now from the database;
        for a registration whose profile is not created yet, its reserved nickname (version
        -infinity: any update of the profile is newer)."""
        rows = (
            postgres.connection()
            .execute(
                "SELECT user_id, lower(nickname), updated_at FROM users.profiles"
                " WHERE user_id = ANY(%(ids)s)"
                " UNION ALL SELECT r.user_id, r.nickname_ci, '-infinity'::timestamptz"
                " FROM users.nickname_reservations r WHERE r.user_id = ANY(%(ids)s)"
                " AND NOT EXISTS (SELECT 1 FROM users.profiles p WHERE p.user_id = r.user_id)",
                {"ids": list(user_ids)},
            )
            .fetchall()
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def search(self, prefix: str, limit: int, after: str | None) -> list[OwnProfile]:
        """Nicknames starting with `prefix`, case-insensitively, in lower(nickname) order.

        Served by the unique text_pattern_ops index on lower(nickname): a range scan, not a scan
        of the table. LIKE's wildcards are escaped (`_` is a legal nickname character).
        """
        pattern = prefix.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with postgres.connection().cursor(row_factory=class_row(OwnProfile)) as cur:
            return cur.execute(
                f"SELECT {_COLUMNS} FROM users.profiles"
                " WHERE lower(nickname) LIKE %(pattern)s ESCAPE '\\'"
                " AND (%(after)s::text IS NULL OR lower(nickname) ~>~ %(after)s)"
                " ORDER BY lower(nickname) USING ~<~ LIMIT %(limit)s",
                {"pattern": pattern + "%", "after": after, "limit": limit},
            ).fetchall()

    def update(
        self,
        user_id: uuid.UUID,
        changes: dict[str, Any],
        uow: UnitOfWork,
        event_for: Callable[[OwnProfile, datetime], ProfileUpdated],
    ) -> tuple[OwnProfile, OwnProfile] | None:
        def work(conn: psycopg.Connection) -> tuple[OwnProfile, OwnProfile] | None:
            if "nickname" in changes and not reserve_nickname(conn, user_id, changes["nickname"]):
                raise NicknameTaken()  # a registration holds it (or another profile does)
            with conn.cursor(row_factory=class_row(OwnProfile)) as cur:
                before = cur.execute(
                    f"SELECT {_COLUMNS} FROM users.profiles WHERE user_id = %s FOR UPDATE",
                    (user_id,),
                ).fetchone()
                if before is None:
                    return None
                assignments = sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
                    for name in changes
                )
            with conn.cursor(row_factory=kwargs_row(_versioned)) as cur:
                updated = cur.execute(
                    sql.SQL(
                        "UPDATE users.profiles SET {}, updated_at = "
                        + NEXT_VERSION
                        + " WHERE user_id = %(user_id)s RETURNING updated_at, "
                        + _COLUMNS
                    ).format(assignments),
                    {**changes, "user_id": user_id},
                ).fetchone()
            assert updated is not None
            version, after = updated
            if "nickname" in changes:
                release_nicknames(conn, user_id)
            uow.record(event_for(after, version))
            return before, after

        try:
            return outbox.transact(uow, work)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name != NICKNAME_INDEX:
                raise
            raise NicknameTaken() from exc

    def reserve_nickname(self, conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
        """`reserve_nickname` inside the caller's transaction (the users context's api)."""
        return reserve_nickname(conn, user_id, nickname)

    def erase_profile(self, conn: psycopg.Connection, user_id: uuid.UUID) -> OwnProfile | None:
        """`erase_profile` inside the caller's transaction (the users context's api)."""
        return erase_profile(conn, user_id)

    def erase_profile_now(self, user_id: uuid.UUID) -> OwnProfile | None:
        """`erase_profile` in a transaction of its own (the user.deleted consumer)."""
        return postgres.transact(lambda conn: erase_profile(conn, user_id))

    def is_nickname_taken(self, nickname: str) -> bool:
        """Held by a profile or reserved by a registration (committed ones: a fast check)."""
        row = (
            postgres.connection()
            .execute(
                "SELECT EXISTS (SELECT 1 FROM users.profiles WHERE lower(nickname) = lower(%(n)s))"
                " OR EXISTS (SELECT 1 FROM users.nickname_reservations"
                " WHERE nickname_ci = lower(%(n)s))",
                {"n": nickname},
            )
            .fetchone()
        )
        return bool(row and row[0])

    def create_once(
        self, event_id: uuid.UUID, profile: OwnProfile, nickname_candidates: Iterator[str]
    ) -> OwnProfile | None:
        def create(conn: psycopg.Connection) -> OwnProfile | None:
            if not inbox.claim(conn, CREATE_PROFILE_CONSUMER, event_id):
                return None
            for attempt, nickname in zip(
                range(MAX_NICKNAME_ATTEMPTS), nickname_candidates, strict=False
            ):
                if attempt and _reserved_by_another(conn, profile.user_id, nickname):
                    continue  # a variant must not take a nickname a registration holds
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
                if inserted:
                    release_nicknames(conn, candidate.user_id)  # the profile holds it now
                return candidate if inserted else None
            raise RuntimeError(f"no free nickname variant after {MAX_NICKNAME_ATTEMPTS} tries")

        return postgres.transact(create)
