"""Friendships in Postgres (schema `friends`), cached per user in Redis.

Postgres (psycopg) is imported where it is used: other contexts (chats) read the cached friend
sets on every call and reach Postgres only on a cache miss. The friends functions load it at init
(messenger.bootstrap).

`transition` takes a transaction-scoped advisory lock on the pair before reading its row, so
every transition of one pair is serialized, including the very first (when there is no row to
lock yet). The row and its outbox event commit together (outbox.transact, the unit of work).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from messenger.friends.service import (
    BlockSets,
    Decision,
    FriendEntry,
    Friendship,
    Relations,
    pair,
)
from messenger.kernel.errors import NotFound
from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN, delete_many

if TYPE_CHECKING:
    import psycopg

    from messenger.friends.service import BlockRecorder, Friendships, SortKeys
    from messenger.platform.redis import RedisClient
    from messenger.platform.unit_of_work import UnitOfWork

_COLUMNS = "user_low, user_high, status, requested_by, requested_at, responded_at"
CACHE_TTL = 3600


def _row(values: tuple[object, ...]) -> Friendship:
    return Friendship(*values)  # type: ignore[arg-type]


def cache_key(user: uuid.UUID) -> str:
    return f"friends:v1:{user}"


def blocks_key(user: uuid.UUID) -> str:
    return f"blocks:v1:{user}"


def _lock_pair(conn: psycopg.Connection, a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """Every change of a pair (friendship transitions, blocks) holds this lock."""
    low, high = pair(a, b)
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"friends:{low}:{high}",)
    )
    return low, high


def _pair_row(conn: psycopg.Connection, low: uuid.UUID, high: uuid.UUID) -> Friendship | None:
    """The pair's row, locked: an erasure deleting it waits for this transaction, then removes
    the friend-list rows it wrote (its own delete of them comes after, in a new snapshot)."""
    found = conn.execute(
        f"SELECT {_COLUMNS} FROM friends.friendships"
        " WHERE user_low = %s AND user_high = %s FOR UPDATE",
        (low, high),
    ).fetchone()
    return _row(found) if found else None


def _blockers(conn: psycopg.Connection, a: uuid.UUID, b: uuid.UUID) -> frozenset[uuid.UUID]:
    rows = conn.execute(
        "SELECT blocker FROM friends.blocks WHERE (blocker = %(a)s AND blocked = %(b)s)"
        " OR (blocker = %(b)s AND blocked = %(a)s)",
        {"a": a, "b": b},
    ).fetchall()
    return frozenset(r[0] for r in rows)


# A friends page: a range of the (owner, sort_key, friend) primary key.
FRIENDS_PAGE = (
    "SELECT friend, sort_key, since FROM friends.friend_list WHERE owner = %(owner)s"
    " ORDER BY sort_key, friend LIMIT %(limit)s"
)
FRIENDS_PAGE_AFTER = (
    "SELECT friend, sort_key, since FROM friends.friend_list WHERE owner = %(owner)s"
    " AND (sort_key, friend) > (%(key)s, %(id)s) ORDER BY sort_key, friend LIMIT %(limit)s"
)


def _list(
    conn: psycopg.Connection, row: Friendship, keys: dict[uuid.UUID, tuple[str, datetime]]
) -> None:
    """A new friendship in both friend lists, each under the other's sort key.

    The pair's nicknames rows are locked (in uuid order, like every acceptance) and kept if they
    exist: a rename committed before this waits for nothing and is already there, one after it
    waits for this commit and then moves these rows too (`follow_nickname`). `keys` (read from
    the users context) only fills a row the context did not have yet.
    """
    if row.low not in keys or row.high not in keys:
        raise NotFound("user_not_found", "No user has this id")  # erased meanwhile
    users = [row.low, row.high]
    held: dict[uuid.UUID, str] = dict(
        conn.execute(
            "INSERT INTO friends.nicknames AS n (user_id, sort_key, updated_at)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::timestamptz[])"
            " ON CONFLICT (user_id) DO UPDATE SET sort_key = n.sort_key"
            " RETURNING user_id, sort_key",
            (users, [keys[u][0] for u in users], [keys[u][1] for u in users]),
        ).fetchall()
    )
    since = row.responded_at or row.requested_at
    conn.execute(
        "INSERT INTO friends.friend_list (owner, sort_key, friend, since)"
        " VALUES (%s, %s, %s, %s), (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (row.low, held[row.high], row.high, since, row.high, held[row.low], row.low, since),
    )


def _rows_of(user: uuid.UUID, status: str) -> list[Friendship]:
    """The user's rows whose status matches the predicate `status` (our own literal SQL): one
    index per side of the pair, so two selects."""
    from messenger.platform import postgres

    rows = (
        postgres.connection()
        .execute(
            f"SELECT {_COLUMNS} FROM friends.friendships WHERE user_low = %(u)s AND {status}"
            f" UNION ALL SELECT {_COLUMNS} FROM friends.friendships"
            f" WHERE user_high = %(u)s AND {status}",
            {"u": user},
        )
        .fetchall()
    )
    return [_row(r) for r in rows]


def _unlist(conn: psycopg.Connection, low: uuid.UUID, high: uuid.UUID) -> None:
    conn.execute(
        "DELETE FROM friends.friend_list WHERE (friend, owner) IN ((%s, %s), (%s, %s))",
        (low, high, high, low),
    )


class PostgresFriendships:
    def transition(
        self,
        a: uuid.UUID,
        b: uuid.UUID,
        decide: Callable[[Friendship | None], Decision],
        uow: UnitOfWork,
        sort_keys: SortKeys,
        refuse_blocked: Callable[[frozenset[uuid.UUID]], None] | None = None,
    ) -> Decision:
        from messenger.platform import outbox

        def work(conn: psycopg.Connection) -> Decision:
            low, high = _lock_pair(conn, a, b)
            if refuse_blocked is not None:
                refuse_blocked(_blockers(conn, a, b))
            before = _pair_row(conn, low, high)
            decision = decide(before)
            was_friends = before is not None and before.status == "accepted"
            now_friends = decision.row is not None and decision.row.status == "accepted"
            if was_friends and not now_friends:
                _unlist(conn, low, high)
            elif now_friends and not was_friends:
                assert decision.row is not None
                _list(conn, decision.row, sort_keys())
            if decision.row is None:
                conn.execute(
                    "DELETE FROM friends.friendships WHERE user_low = %s AND user_high = %s",
                    (low, high),
                )
            else:
                r = decision.row
                conn.execute(
                    f"INSERT INTO friends.friendships ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (user_low, user_high) DO UPDATE SET status = excluded.status,"
                    " requested_by = excluded.requested_by,"
                    " requested_at = excluded.requested_at,"
                    " responded_at = excluded.responded_at",
                    (r.low, r.high, r.status, r.requested_by, r.requested_at, r.responded_at),
                )
            return decision

        return outbox.transact(uow, work)

    # -- blocks -----------------------------------------------------------------------------------
    def block(
        self,
        blocker: uuid.UUID,
        blocked: uuid.UUID,
        at: datetime,
        uow: UnitOfWork,
        record: BlockRecorder,
    ) -> bool:
        from messenger.platform import outbox

        def work(conn: psycopg.Connection) -> bool:
            low, high = _lock_pair(conn, blocker, blocked)
            inserted = conn.execute(
                "INSERT INTO friends.blocks (blocker, blocked, blocked_at) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING RETURNING 1",
                (blocker, blocked, at),
            ).fetchone()
            if inserted is None:
                return False
            ended = conn.execute(
                f"DELETE FROM friends.friendships WHERE user_low = %s AND user_high = %s"
                f" RETURNING {_COLUMNS}",
                (low, high),
            ).fetchone()
            if ended is not None and ended[2] == "accepted":
                _unlist(conn, low, high)
            record(_row(ended) if ended else None)
            return True

        return outbox.transact(uow, work, changed=bool)

    def unblock(self, blocker: uuid.UUID, blocked: uuid.UUID, uow: UnitOfWork) -> bool:
        from messenger.platform import outbox

        def work(conn: psycopg.Connection) -> bool:
            _lock_pair(conn, blocker, blocked)
            gone = conn.execute(
                "DELETE FROM friends.blocks WHERE blocker = %s AND blocked = %s RETURNING 1",
                (blocker, blocked),
            ).fetchone()
            return gone is not None

        return outbox.transact(uow, work, changed=bool)

    def blocks_page(
        self, blocker: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[uuid.UUID, datetime]]:
        from messenger.platform import postgres

        where, params = "blocker = %(u)s", {"u": blocker, "limit": limit}
        if after is not None:
            where += " AND (blocked_at, blocked) < (%(at)s, %(id)s)"
            params |= {"at": after[0], "id": after[1]}
        rows = (
            postgres.connection()
            .execute(
                f"SELECT blocked, blocked_at FROM friends.blocks WHERE {where}"
                " ORDER BY blocked_at DESC, blocked DESC LIMIT %(limit)s",
                params,
            )
            .fetchall()
        )
        return [(r[0], r[1]) for r in rows]

    def block_sets(self, user: uuid.UUID) -> BlockSets:
        from messenger.platform import postgres

        rows = (
            postgres.connection()
            .execute(
                "SELECT 'b', blocked FROM friends.blocks WHERE blocker = %(u)s"
                " UNION ALL SELECT 'r', blocker FROM friends.blocks WHERE blocked = %(u)s",
                {"u": user},
            )
            .fetchall()
        )
        return BlockSets(
            blocked=frozenset(str(r[1]) for r in rows if r[0] == "b"),
            blockers=frozenset(str(r[1]) for r in rows if r[0] == "r"),
        )

    def of_user(self, user: uuid.UUID) -> list[Friendship]:
        return _rows_of(user, "status <> 'rejected'")

    def friends_page(
        self, owner: uuid.UUID, after: tuple[str, uuid.UUID] | None, limit: int
    ) -> list[FriendEntry]:
        from messenger.platform import postgres

        rows = (
            postgres.connection()
            .execute(
                FRIENDS_PAGE if after is None else FRIENDS_PAGE_AFTER,
                {
                    "owner": owner,
                    "key": after[0] if after else None,
                    "id": after[1] if after else None,
                    "limit": limit,
                },
            )
            .fetchall()
        )
        return [FriendEntry(r[0], r[1], r[2]) for r in rows]

    def pending(self, user: uuid.UUID) -> list[Friendship]:
        return _rows_of(user, "status = 'pending'")

    def reconcile_pair(self, a: uuid.UUID, b: uuid.UUID, sort_keys: SortKeys) -> bool:
        """Both friend lists as the pair's row says, under the pair's lock and the row's: listed
        if accepted, else not. True if the pair is friends. Idempotent, and safe beside an
        erasure (which waits on the row, or finds the rows this committed)."""
        from messenger.platform import postgres

        def work(conn: psycopg.Connection) -> bool:
            low, high = _lock_pair(conn, a, b)
            row = _pair_row(conn, low, high)
            if row is None or row.status != "accepted":
                _unlist(conn, low, high)
                return False
            keys = sort_keys()
            if row.low in keys and row.high in keys:
                _list(conn, row, keys)
            return True

        return postgres.transact(work)

    def follow_nickname(self, user: uuid.UUID, sort_key: str, version: datetime) -> int | None:
        """A profile's new version: its sort key in every friend list that holds the user, under
        the user's nicknames row (the lock an acceptance takes too). None if this version is not
        newer than the one applied (a redelivery, or an event overtaken); else the rows moved."""
        from messenger.platform import postgres

        def work(conn: psycopg.Connection) -> int | None:
            newer = conn.execute(
                "INSERT INTO friends.nicknames AS n (user_id, sort_key, updated_at)"
                " VALUES (%(u)s, %(key)s, %(v)s) ON CONFLICT (user_id) DO UPDATE"
                " SET sort_key = excluded.sort_key, updated_at = excluded.updated_at"
                " WHERE n.updated_at < excluded.updated_at RETURNING 1",
                {"u": user, "key": sort_key, "v": version},
            ).fetchone()
            if newer is None:
                return None
            return conn.execute(
                "UPDATE friends.friend_list SET sort_key = %(key)s"
                " WHERE friend = %(u)s AND sort_key <> %(key)s",
                {"u": user, "key": sort_key},
            ).rowcount

        return postgres.transact(work)

    def relations(self, user: uuid.UUID) -> Relations:
        friends: dict[str, str] = {}
        pending: list[Friendship] = []
        for row in self.of_user(user):
            if row.status == "accepted":
                since = row.responded_at or row.requested_at
                friends[str(row.other(user))] = since.isoformat()
            else:
                pending.append(row)
        return Relations(friends, pending)

    def forget(self, *users: uuid.UUID) -> None:
        """Nothing cached here."""

    def erase_user(self, user: uuid.UUID) -> list[uuid.UUID]:
        """Account deletion: every friendship row of the user, whatever its status, and every
        block by or of them, in one transaction; the other users (their caches go)."""
        from messenger.platform import postgres

        def work(conn: psycopg.Connection) -> list[uuid.UUID]:
            rows = conn.execute(
                "DELETE FROM friends.friendships WHERE user_low = %(u)s OR user_high = %(u)s"
                " RETURNING CASE WHEN user_low = %(u)s THEN user_high ELSE user_low END",
                {"u": user},
            ).fetchall()
            blocks = conn.execute(
                "DELETE FROM friends.blocks WHERE blocker = %(u)s OR blocked = %(u)s"
                " RETURNING CASE WHEN blocker = %(u)s THEN blocked ELSE blocker END",
                {"u": user},
            ).fetchall()
            conn.execute(
                "DELETE FROM friends.friend_list WHERE owner = %(u)s OR friend = %(u)s",
                {"u": user},
            )
            conn.execute("DELETE FROM friends.nicknames WHERE user_id = %(u)s", {"u": user})
            return list(dict.fromkeys(r[0] for r in [*rows, *blocks]))

        return postgres.transact(work)


class CachedFriendships:
    """Cache-aside of each user's relations, wrapping the store that holds the friendships; the
    service forgets both users after a transition."""

    def __init__(self, inner: Friendships, redis: RedisClient) -> None:
        self.inner = inner
        self.redis = redis

    def transition(
        self,
        a: uuid.UUID,
        b: uuid.UUID,
        decide: Callable[[Friendship | None], Decision],
        uow: UnitOfWork,
        sort_keys: SortKeys,
        refuse_blocked: Callable[[frozenset[uuid.UUID]], None] | None = None,
    ) -> Decision:
        return self.inner.transition(a, b, decide, uow, sort_keys, refuse_blocked)

    def block(
        self,
        blocker: uuid.UUID,
        blocked: uuid.UUID,
        at: datetime,
        uow: UnitOfWork,
        record: BlockRecorder,
    ) -> bool:
        return self.inner.block(blocker, blocked, at, uow, record)

    def unblock(self, blocker: uuid.UUID, blocked: uuid.UUID, uow: UnitOfWork) -> bool:
        return self.inner.unblock(blocker, blocked, uow)

    def blocks_page(
        self, blocker: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> list[tuple[uuid.UUID, datetime]]:
        return self.inner.blocks_page(blocker, limit, after)

    def friends_page(
        self, owner: uuid.UUID, after: tuple[str, uuid.UUID] | None, limit: int
    ) -> list[FriendEntry]:
        """Not cached: one index range in Postgres is what a cached list would cost to parse."""
        return self.inner.friends_page(owner, after, limit)

    def pending(self, user: uuid.UUID) -> list[Friendship]:
        return self.inner.pending(user)

    def block_sets(self, user: uuid.UUID) -> BlockSets:
        """Cache-aside like the relations: one GET on a warm cache (who_blocked on every send)."""
        try:
            cached = self.redis().get(blocks_key(user))
        except REDIS_DOWN:
            cached = None
        if cached:
            raw = json.loads(cached)
            return BlockSets(blocked=frozenset(raw[0]), blockers=frozenset(raw[1]))
        sets = self.inner.block_sets(user)
        try:
            self.redis().set(
                blocks_key(user),
                json.dumps([sorted(sets.blocked), sorted(sets.blockers)]),
                ex=CACHE_TTL,
            )
        except REDIS_DOWN as exc:
            logger.warning("Blocks cache unavailable", extra={"error": repr(exc)})
        return sets

    def _raw(self, user: uuid.UUID) -> list[list[str | None]]:
        """The cached rows as stored (strings), filling the cache from Postgres on a miss."""
        try:
            cached = self.redis().get(cache_key(user))
        except REDIS_DOWN:
            cached = None
        if cached:
            raw: list[list[str | None]] = json.loads(cached)
            return raw
        raw = _encode(self.inner.of_user(user))
        try:
            self.redis().set(cache_key(user), json.dumps(raw), ex=CACHE_TTL)
        except REDIS_DOWN as exc:
            logger.warning("Friends cache unavailable", extra={"error": repr(exc)})
        return raw

    def of_user(self, user: uuid.UUID) -> list[Friendship]:
        return [_decode(r) for r in self._raw(user)]

    def relations(self, user: uuid.UUID) -> Relations:
        """Friends as strings straight from the cached JSON: a list of 1,000 friends costs a
        JSON parse, not 1,000 rows of UUIDs and datetimes."""
        me = str(user)
        friends: dict[str, str] = {}
        pending: list[Friendship] = []
        for r in self._raw(user):
            if r[2] == "accepted":
                other = r[1] if r[0] == me else r[0]
                friends[str(other)] = str(r[5] or r[4])
            else:
                pending.append(_decode(r))
        return Relations(friends, pending)

    def forget(self, *users: uuid.UUID) -> None:
        try:
            delete_many(self.redis(), [k for u in users for k in (cache_key(u), blocks_key(u))])
        except REDIS_DOWN as exc:
            logger.warning("Could not invalidate friends cache", extra={"error": repr(exc)})


def _encode(rows: list[Friendship]) -> list[list[str | None]]:
    return [
        [
            str(r.low),
            str(r.high),
            r.status,
            str(r.requested_by),
            r.requested_at.isoformat(),
            r.responded_at.isoformat() if r.responded_at else None,
        ]
        for r in rows
    ]


def _decode(r: list[str | None]) -> Friendship:
    low, high, status, by, at, responded = r
    return Friendship(
        uuid.UUID(low),
        uuid.UUID(high),
        status,  # type: ignore[arg-type]
        uuid.UUID(by),
        datetime.fromisoformat(str(at)),
        datetime.fromisoformat(responded) if responded else None,
    )
