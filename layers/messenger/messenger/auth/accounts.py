"""Accounts in Postgres (schema `auth`), written together with their outbox events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import class_row

from messenger import outbox, postgres
from messenger.auth.models import Account
from messenger.auth.service import EmailTaken

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from messenger.events import OutboundEvent


class PostgresAccounts:
    def add(self, account: Account, events: Sequence[OutboundEvent]) -> None:
        def insert(conn: psycopg.Connection) -> None:
            conn.execute(
                "INSERT INTO auth.accounts (user_id, email, password_hash, created_at)"
                " VALUES (%s, %s, %s, %s)",
                (account.user_id, account.email, account.password_hash, account.created_at),
            )
            outbox.enqueue(conn, events)

        try:
            postgres.transact(insert)
        except psycopg.errors.UniqueViolation as exc:
            raise EmailTaken() from exc

    def by_email(self, email: str) -> Account | None:
        with postgres.connection().cursor(row_factory=class_row(Account)) as cur:
            return cur.execute(
                "SELECT user_id, email, password_hash, created_at FROM auth.accounts"
                " WHERE email = %s",
                (email,),
            ).fetchone()

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        postgres.connection().execute(
            "UPDATE auth.accounts SET password_hash = %s WHERE user_id = %s",
            (password_hash, user_id),
        )
