"""`user.deleted` in the users context: the profile (if a registration's consumer created it
after the deletion committed) and every cached copy of it go. Idempotent: erasing twice finds
nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import uuid

    from messenger.users.models import OwnProfile


class ErasableProfiles(Protocol):
    def erase_profile_now(self, user_id: uuid.UUID) -> OwnProfile | None: ...


class ForgettingCache(Protocol):
    def forget(self, *profiles: OwnProfile | uuid.UUID) -> None: ...


@dataclass
class ErasureService:
    cache: ForgettingCache
    records: ErasableProfiles

    def erase_user(self, user_id: uuid.UUID) -> bool:
        """True if a profile was still there."""
        profile = self.records.erase_profile_now(user_id)
        self.cache.forget(*(profile, user_id) if profile else (user_id,))
        return profile is not None
