"""Data export requests in Postgres (`users.exports`), written with their outbox event.

`request` takes a transaction-scoped advisory lock on the user first, so two concurrent requests
see each other's row: one creates the export, the other answers it.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING

from messenger.kernel.errors import RateLimited
from messenger.platform import outbox, postgres
from messenger.users.exports import EXPORT_WINDOW, EXPORTS_PER_WINDOW, ExportRecord

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import psycopg

    from messenger.platform.unit_of_work import UnitOfWork
    from messenger.users.events import ExportRequested

_COLUMNS = "export_id, user_id, status, requested_at, object_key"


def _record(row: tuple[object, ...]) -> ExportRecord:
    return ExportRecord(*row)  # type: ignore[arg-type]


class PostgresExports:
    def request(
        self,
        user: uuid.UUID,
        now: datetime,
        uow: UnitOfWork,
        event_for: Callable[[uuid.UUID], ExportRequested],
    ) -> tuple[ExportRecord, bool]:
        def work(conn: psycopg.Connection) -> tuple[ExportRecord, bool]:
            conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"exports:{user}",)
            )
            pending = conn.execute(
                f"SELECT {_COLUMNS} FROM users.exports WHERE user_id = %s AND status = 'pending'"
                " ORDER BY requested_at DESC LIMIT 1",
                (user,),
            ).fetchone()
            if pending is not None:
                return _record(pending), False
            recent = conn.execute(
                "SELECT requested_at FROM users.exports WHERE user_id = %s AND requested_at > %s"
                " ORDER BY requested_at",
                (user, now - EXPORT_WINDOW),
            ).fetchall()
            if len(recent) >= EXPORTS_PER_WINDOW:
                oldest: datetime = recent[-EXPORTS_PER_WINDOW][0]
                wait = math.ceil((oldest + EXPORT_WINDOW - now).total_seconds())
                raise RateLimited(
                    f"At most {EXPORTS_PER_WINDOW} exports a day; try again later", max(1, wait)
                )
            export_id = uuid.uuid4()
            row = conn.execute(
                "INSERT INTO users.exports (export_id, user_id, status, requested_at)"
                f" VALUES (%s, %s, 'pending', %s) RETURNING {_COLUMNS}",
                (export_id, user, now),
            ).fetchone()
            assert row is not None
            uow.record(event_for(export_id))
            return _record(row), True

        return outbox.transact(uow, work, changed=lambda result: result[1])

    def find(self, user: uuid.UUID, export_id: uuid.UUID) -> ExportRecord | None:
        row = (
            postgres.connection()
            .execute(
                f"SELECT {_COLUMNS} FROM users.exports WHERE export_id = %s AND user_id = %s",
                (export_id, user),
            )
            .fetchone()
        )
        return _record(row) if row else None

    def mark_ready(self, export_id: uuid.UUID, object_key: str) -> bool:
        updated = (
            postgres.connection()
            .execute(
                "UPDATE users.exports SET status = 'ready', ready_at = now(), object_key = %s"
                " WHERE export_id = %s",
                (object_key, export_id),
            )
            .rowcount
        )
        return bool(updated)
