"""OAuth identities in Postgres (schema `auth`): (provider, subject) -> account, unique per pair.

A first sign-in stores the account, its identity and its `user.registered` event in one
transaction, like a registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from messenger.auth.adapters.accounts import PostgresAccounts
from messenger.auth.oauth import IdentityTaken
from messenger.platform import outbox, postgres

if TYPE_CHECKING:
    import uuid

    from messenger.auth.models import Account
    from messenger.auth.oauth import OAuthIdentity
    from messenger.platform.unit_of_work import UnitOfWork

_INSERT_IDENTITY = (
    "INSERT INTO auth.oauth_identities (provider, subject, user_id, email) VALUES (%s, %s, %s, %s)"
)


def _identity_params(identity: OAuthIdentity) -> tuple[object, ...]:
    return (identity.provider, identity.subject, identity.user_id, identity.email)


class PostgresOAuthAccounts(PostgresAccounts):
    def user_for(self, provider: str, subject: str) -> uuid.UUID | None:
        row = (
            postgres.connection()
            .execute(
                "SELECT user_id FROM auth.oauth_identities WHERE provider = %s AND subject = %s",
                (provider, subject),
            )
            .fetchone()
        )
        return row[0] if row else None

    def link(self, identity: OAuthIdentity) -> None:
        try:
            postgres.connection().execute(_INSERT_IDENTITY, _identity_params(identity))
        except psycopg.errors.UniqueViolation as exc:
            raise IdentityTaken() from exc

    def add_with_identity(
        self, account: Account, identity: OAuthIdentity, nickname: str, uow: UnitOfWork
    ) -> None:
        def insert(conn: psycopg.Connection) -> None:
            self._insert(conn, account, nickname)
            try:
                conn.execute(_INSERT_IDENTITY, _identity_params(identity))
            except psycopg.errors.UniqueViolation as exc:
                raise IdentityTaken() from exc

        outbox.transact(uow, insert)
