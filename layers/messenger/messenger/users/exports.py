"""Data exports (POST /v1/users/me/exports, GET .../{export_id}): a JSON archive of the caller's
account, profile, friends, chats and the messages they authored, built asynchronously by the
`user.export_requested` consumer into private storage and handed out as a signed URL.

Rate rule: while an export is pending, asking again answers that one (no second build); at most
EXPORTS_PER_WINDOW requests in EXPORT_WINDOW, beyond which 429 with Retry-After (the time until
the oldest of the window leaves it). Blocks (the blocks branch) join the archive in
`build_export`, beside the friends, through the friends context's api.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from messenger.kernel.clock import utcnow
from messenger.kernel.errors import NotFound
from messenger.platform.unit_of_work import EventOutbox, UnitOfWork
from messenger.users.events import ExportRequested
from messenger.users.models import ExportStatus, OwnProfile

if TYPE_CHECKING:
    from collections.abc import Sequence

    from messenger.kernel.context import RequestContext

EXPORTS_PER_WINDOW = 3
EXPORT_WINDOW = timedelta(hours=24)
ARCHIVE_VERSION = 1


@dataclass(frozen=True)
class ExportRecord:
    export_id: uuid.UUID
    user_id: uuid.UUID
    status: Literal["pending", "ready"]
    requested_at: datetime
    object_key: str | None = None


class ExportStore(Protocol):
    def request(
        self,
        user: uuid.UUID,
        now: datetime,
        uow: UnitOfWork,
        event_for: Callable[[uuid.UUID], ExportRequested],
    ) -> tuple[ExportRecord, bool]:
        """The user's pending export (False), else a new one with `event_for(its id)` recorded
        in `uow`, committed with it (True); RateLimited beyond the window's allowance."""

    def find(self, user: uuid.UUID, export_id: uuid.UUID) -> ExportRecord | None:
        """The user's export of that id (someone else's is None)."""

    def mark_ready(self, export_id: uuid.UUID, object_key: str) -> bool:
        """False when the export no longer exists (its account was deleted meanwhile)."""


class ProfileReader(Protocol):
    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None: ...

    def many(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnProfile]: ...


class FriendsSource(Protocol):
    def friends_of(self, user: uuid.UUID) -> set[uuid.UUID]: ...

    def blocked_by(self, user: uuid.UUID) -> set[uuid.UUID]: ...


class ChatsSource(Protocol):
    def export_of(self, user: uuid.UUID) -> list[dict[str, Any]]: ...


class ArchiveStorage(Protocol):
    def store_export(self, owner: uuid.UUID, export_id: uuid.UUID, body: bytes) -> str: ...


def export_not_found() -> NotFound:
    return NotFound("export_not_found", "You have no export with this id")


@dataclass
class ExportService:
    store: ExportStore
    outbox: EventOutbox
    sign: Callable[[str], tuple[str, int]] | None = None
    profiles: ProfileReader | None = None
    friends: FriendsSource | None = None
    chats: ChatsSource | None = None
    archives: ArchiveStorage | None = None

    def request_export(self, ctx: RequestContext) -> ExportStatus:
        user, now = ctx.caller, utcnow()
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:

            def event_for(export_id: uuid.UUID) -> ExportRequested:
                return ExportRequested(user_id=user, export_id=export_id, requested_at=now)

            record, _ = self.store.request(user, now, uow, event_for)
        return ExportStatus(export_id=record.export_id, status=record.status)

    def export_status(self, ctx: RequestContext, export_id: uuid.UUID) -> ExportStatus:
        record = self.store.find(ctx.caller, export_id)
        if record is None:
            raise export_not_found()
        if record.status != "ready" or record.object_key is None or self.sign is None:
            return ExportStatus(export_id=export_id, status="pending")
        url, valid_seconds = self.sign(record.object_key)
        return ExportStatus(
            export_id=export_id,
            status="ready",
            url=url,
            expires_at=utcnow() + timedelta(seconds=valid_seconds),
        )

    def build_export(self, requested: ExportRequested) -> bool:
        """The archive, stored, then the export marked ready; False if the user is gone (the
        account was deleted meanwhile: nothing is written). Idempotent: a redelivery rebuilds
        the same object."""
        if not (self.profiles and self.friends and self.chats and self.archives):
            raise RuntimeError("building an export needs profiles, friends, chats and storage")
        user = requested.user_id
        profile = self.profiles.by_id(user)
        if profile is None:
            return False
        friend_ids = sorted(self.friends.friends_of(user), key=str)
        blocked_ids = sorted(self.friends.blocked_by(user), key=str)
        friend_profiles = self.profiles.many([*friend_ids, *blocked_ids])
        archive = {
            "version": ARCHIVE_VERSION,
            "export_id": str(requested.export_id),
            "generated_at": utcnow().isoformat(),
            "account": {
                "user_id": str(user),
                "email": profile.email,
                "created_at": profile.created_at.isoformat(),
            },
            "profile": profile.model_dump(
                mode="json", include={"nickname", "description", "avatar_url"}
            ),
            "friends": [
                {
                    "user_id": str(f),
                    "nickname": friend_profiles[f].nickname if f in friend_profiles else None,
                }
                for f in friend_ids
            ],
            "blocks": [
                {
                    "user_id": str(b),
                    "nickname": friend_profiles[b].nickname if b in friend_profiles else None,
                }
                for b in blocked_ids
            ],
            "chats": self.chats.export_of(user),
        }
        body = json.dumps(archive, ensure_ascii=False, indent=1).encode()
        key = self.archives.store_export(user, requested.export_id, body)
        return self.store.mark_ready(requested.export_id, key)
