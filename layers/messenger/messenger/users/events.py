"""What the users context publishes (API.md, Events), keyed by the user: topic `user-events`."""

from __future__ import annotations

import uuid
from typing import ClassVar

from messenger.kernel.events import Event, registry
from messenger.kernel.fields import Timestamp


class ProfileUpdated(Event):
    event_type: ClassVar[str] = "user.profile_updated"

    user_id: uuid.UUID
    nickname: str
    description: str | None
    avatar_url: str | None
    updated_at: Timestamp

    def key(self) -> str:
        return str(self.user_id)


class UserDeleted(Event):
    """The account is gone (DELETE /v1/users/me): every context erases what it holds of the user.

    Carries no personal data (the id only): the log outlives the erasure.
    """

    event_type: ClassVar[str] = "user.deleted"

    user_id: uuid.UUID
    deleted_at: Timestamp

    def key(self) -> str:
        return str(self.user_id)


class ExportRequested(Event):
    """POST /v1/users/me/exports: the archive is built by its consumer."""

    event_type: ClassVar[str] = "user.export_requested"

    user_id: uuid.UUID
    export_id: uuid.UUID
    requested_at: Timestamp

    def key(self) -> str:
        return str(self.user_id)


EVENT_TYPES = registry(ProfileUpdated, UserDeleted, ExportRequested)
