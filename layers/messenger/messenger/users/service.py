"""Users use-cases: read profiles, and create one from a `user.registered` event."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.errors import NotFound
from messenger.fields import NICKNAME_MAX
from messenger.users.models import OwnProfile, Profile

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from messenger.events import EventEnvelope

CREATE_PROFILE_CONSUMER = "users.create-profile"


class Profiles(Protocol):
    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None: ...

    def by_nickname(self, nickname: str) -> OwnProfile | None:
        """Case-insensitive lookup."""

    def create_once(
        self,
        event_id: uuid.UUID,
        profile: OwnProfile,
        nickname_candidates: Iterator[str],
    ) -> OwnProfile | None:
        """Create the profile with the first free nickname, unless this event was processed.

        Returns None when the event (or the user) was already handled.
        """


def nickname_variants(nickname: str) -> Iterator[str]:
    """The nickname, then `name_2`..`name_9`, then random suffixes; always a valid nickname."""
    yield nickname
    for n in range(2, 10):
        suffix = f"_{n}"
        yield nickname[: NICKNAME_MAX - len(suffix)] + suffix
    while True:
        suffix = "_" + secrets.token_hex(3)
        yield nickname[: NICKNAME_MAX - len(suffix)] + suffix


@dataclass
class UsersService:
    profiles: Profiles

    def own_profile(self, user_id: uuid.UUID) -> OwnProfile:
        profile = self.profiles.by_id(user_id)
        if profile is None:
            raise NotFound("profile_not_ready", "The profile is being created; retry in a moment")
        return profile

    def profile(self, user_id: uuid.UUID) -> Profile:
        profile = self.profiles.by_id(user_id)
        if profile is None:
            raise NotFound("user_not_found", "No user has this id")
        return _public(profile)

    def profile_by_nickname(self, nickname: str) -> Profile:
        profile = self.profiles.by_nickname(nickname)
        if profile is None:
            raise NotFound("user_not_found", "No user has this nickname")
        return _public(profile)

    def create_profile_on_registration(self, event: EventEnvelope) -> OwnProfile | None:
        data = event.data
        registered_at: datetime = event.occurred_at
        profile = OwnProfile(
            user_id=uuid.UUID(str(data["user_id"])),
            email=str(data["email"]),
            nickname=str(data["nickname"]),
            description=None,
            avatar_url=None,
            created_at=data.get("registered_at", registered_at),
        )
        return self.profiles.create_once(event.id, profile, nickname_variants(profile.nickname))


def _public(profile: OwnProfile) -> Profile:
    return Profile.model_validate(profile.model_dump(exclude={"email"}))
