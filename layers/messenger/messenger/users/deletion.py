"""Account deletion (DELETE /v1/users/me): the request path does what must hold at once, the
`user.deleted` event does the rest (each context's consumer erases what it holds).

At once, in this order: the credential checked; every session revoked (its cache tombstoned, so
a retry after a failure later on still finds the caller logged out, never half-deleted); then one
Postgres transaction frees the email and nickname, removes the account and the profile, and
records `user.deleted`. Nothing is erased before the last step commits, so a store failing on the
way leaves the account whole.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.kernel.clock import utcnow
from messenger.kernel.errors import Unauthenticated
from messenger.platform.unit_of_work import EventOutbox, UnitOfWork
from messenger.users.events import UserDeleted
from messenger.users.models import CONFIRMATION

if TYPE_CHECKING:
    from messenger.kernel.context import RequestContext
    from messenger.users.models import DeleteAccountRequest


class AccountCredentials(Protocol):
    """The auth context's part of a deletion (messenger.auth.adapters.credentials today; at
    merge, messenger.auth.api operations of the same names)."""

    def has_password(self, user_id: uuid.UUID) -> bool: ...

    def verify_password(self, user_id: uuid.UUID, password: str, client_ip: str) -> bool:
        """A wrong password counts toward the login throttle (RateLimited once it is reached)."""

    def revoke_all_sessions(self, user_id: uuid.UUID) -> None:
        """Every session refused from the next request on; their WebSocket connections closed."""

    def erase_account(self, user_id: uuid.UUID, uow: UnitOfWork) -> bool:
        """Free the email and nickname and remove the account and its profile, with the events
        recorded in `uow`, in one transaction; False if there was no such account."""


class ProfileCacheForget(Protocol):
    def forget_profile(self, user_id: uuid.UUID) -> None: ...


def invalid_credentials() -> Unauthenticated:
    return Unauthenticated("invalid_credentials", "The password (or confirmation) is incorrect")


@dataclass
class AccountDeletionService:
    credentials: AccountCredentials
    outbox: EventOutbox

    def delete_account(
        self, ctx: RequestContext, request: DeleteAccountRequest, client_ip: str
    ) -> None:
        user_id = ctx.caller
        if self.credentials.has_password(user_id):
            if request.password is None or not self.credentials.verify_password(
                user_id, request.password, client_ip
            ):
                raise invalid_credentials()
        elif request.confirm != CONFIRMATION or request.password is not None:
            raise invalid_credentials()
        self.credentials.revoke_all_sessions(user_id)
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            uow.record(UserDeleted(user_id=user_id, deleted_at=utcnow()))
            if not self.credentials.erase_account(user_id, uow):
                raise invalid_credentials()  # deleted concurrently: this caller is gone
