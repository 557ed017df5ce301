"""Accounts in Postgres (schema `auth`), written together with their nickname reservation and
their outbox events, in one transaction.

The account row goes first, then the reservation (through the users context's public query, on
this transaction's connection): every sign-up takes its locks in that order, so two of them never
deadlock, and a concurrent sign-up of the same email fails on the email before touching any
nickname. A refused reservation rolls the account back with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg.rows import class_row

from messenger.auth.models import Account
from messenger.auth.service import EmailTaken, NicknameTaken
from messenger.platform import outbox, postgres

if TYPE_CHECKING:
    import uuid

    from messenger.platform.unit_of_work import UnitOfWork


class NicknameReservations(Protocol):
    """The users context's api: hold a nickname for an account inside the caller's transaction."""

    def reserve_nickname(self, conn: psycopg.Connection, user_id: uuid.UUID, nickname: str) -> bool:
        """True if the nickname is now the user's; False if another account holds it."""


_SELECT = (
    "SELECT user_id, email, password_hash, created_at, email_verified_at IS NOT NULL"
    " AS email_verified FROM auth.accounts"
)


class PostgresAccounts:
    def __init__(self, nicknames: NicknameReservations | None = None) -> None:
        self.nicknames = nicknames

    def _insert(self, conn: psycopg.Connection, account: Account, nickname: str) -> None:
        """The account, then its nickname (EmailTaken, NicknameTaken), in the open transaction."""
        if self.nicknames is None:
            raise RuntimeError("creating accounts needs the nickname reservations")
        try:
            conn.execute(
                "INSERT INTO auth.accounts"
                " (user_id, email, password_hash, created_at, email_verified_at)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    account.user_id,
                    account.email,
                    account.password_hash,
                    account.created_at,
                    account.created_at if account.email_verified else None,
                ),
            )
        except psycopg.errors.UniqueViolation as exc:
            raise EmailTaken() from exc
        if not self.nicknames.reserve_nickname(conn, account.user_id, nickname):
            raise NicknameTaken()

    def add(self, account: Account, nickname: str, uow: UnitOfWork) -> None:
        def insert(conn: psycopg.Connection) -> None:
            self._insert(conn, account, nickname)

        outbox.transact(uow, insert)

    def by_email(self, email: str) -> Account | None:
        with postgres.connection().cursor(row_factory=class_row(Account)) as cur:
            return cur.execute(
                _SELECT + " WHERE email = %s",
                (email,),
            ).fetchone()

    def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        postgres.connection().execute(
            "UPDATE auth.accounts SET password_hash = %s WHERE user_id = %s",
            (password_hash, user_id),
        )

    def by_id(self, user_id: uuid.UUID) -> Account | None:
        with postgres.connection().cursor(row_factory=class_row(Account)) as cur:
            return cur.execute(
                _SELECT + " WHERE user_id = %s",
                (user_id,),
            ).fetchone()
