"""Users use-cases: read, search and update profiles; create one from `user.registered`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from messenger.kernel.errors import Conflict, NotFound
from messenger.kernel.fields import nickname_variants
from messenger.kernel.pagination import TEXT_KEY, Page, decode_cursor, encode_cursor
from messenger.platform.publishing import NoOutbox
from messenger.platform.unit_of_work import EventOutbox, UnitOfWork
from messenger.users.events import ProfileUpdated
from messenger.users.models import OwnProfile, Profile, ProfilePatch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from messenger.auth.events import UserRegistered
    from messenger.kernel.context import RequestContext


CREATE_PROFILE_CONSUMER = "users.create-profile"


class NicknameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("nickname_taken", "This nickname is already taken")


class Profiles(Protocol):
    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None: ...

    def by_nickname(self, nickname: str) -> OwnProfile | None:
        """Case-insensitive lookup."""

    def many(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnProfile]:
        """One round trip for any number of profiles (missing ids are simply absent)."""

    def search(self, prefix: str, limit: int, after: str | None) -> list[OwnProfile]:
        """Profiles whose lower(nickname) starts with lower(prefix), after the key `after`."""

    def update(
        self,
        user_id: uuid.UUID,
        changes: dict[str, object],
        uow: UnitOfWork,
        event_for: Callable[[OwnProfile, datetime], ProfileUpdated],
    ) -> tuple[OwnProfile, OwnProfile] | None:
        """Apply the changes and record `event_for(the profile after them)` in `uow`, committed
        with them; (before, after).

        None if the profile does not exist; NicknameTaken if the database refuses the nickname.
        """

    def create_once(
        self,
        event_id: uuid.UUID,
        profile: OwnProfile,
        nickname_candidates: Iterator[str],
    ) -> OwnProfile | None:
        """Create the profile with the first free nickname, unless this event was processed.

        Returns None when the event (or the user) was already handled.
        """


class PreparedAvatar(Protocol):
    url: str

    def commit(self) -> None: ...

    def release(self) -> None: ...


class Avatars(Protocol):
    """messenger.media.api.MediaApi: avatar uploads and the objects behind avatar URLs."""

    def prepare_avatar(self, owner: uuid.UUID, upload_id: uuid.UUID) -> PreparedAvatar: ...

    def discard_avatar(self, url: str | None) -> None: ...


class VerifiedEmails(Protocol):
    """messenger.auth.api.AuthApi: whether the account proved it holds its address."""

    def is_email_verified(self, user_id: uuid.UUID) -> bool: ...


@dataclass
class UsersService:
    profiles: Profiles
    outbox: EventOutbox = NoOutbox()  # noqa: RUF009 - stateless
    avatars: Avatars | None = None
    verified_emails: VerifiedEmails | None = None

    def _verified(self, profile: OwnProfile) -> OwnProfile:
        """The own profile with `email_verified`, asked of auth on every read (never cached
        with the profile: verifying must show at once)."""
        if self.verified_emails is None:
            return profile
        verified = self.verified_emails.is_email_verified(profile.user_id)
        return profile.model_copy(update={"email_verified": verified})

    def own_profile(self, ctx: RequestContext) -> OwnProfile:
        return self._verified(self._own(ctx.caller))

    def _own(self, user_id: uuid.UUID) -> OwnProfile:
        profile = self.profiles.by_id(user_id)
        if profile is None:
            raise NotFound("profile_not_ready", "The profile is being created; retry in a moment")
        return profile

    def profile(self, user_id: uuid.UUID) -> Profile:
        profile = self.profiles.by_id(user_id)
        if profile is None:
            raise NotFound("user_not_found", "No user has this id")
        return public_profile(profile)

    def profile_by_nickname(self, nickname: str) -> Profile:
        profile = self.profiles.by_nickname(nickname)
        if profile is None:
            raise NotFound("user_not_found", "No user has this nickname")
        return public_profile(profile)

    def profiles_by_ids(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]:
        return {uid: public_profile(p) for uid, p in self.profiles.many(user_ids).items()}

    def search(self, prefix: str, limit: int, cursor: str | None) -> Page[Profile]:
        after = decode_cursor(cursor, TEXT_KEY) if cursor else None
        found = self.profiles.search(prefix, limit + 1, after)
        items = [public_profile(p) for p in found[:limit]]
        more = len(found) > limit
        return Page[Profile](
            items=items, next_cursor=encode_cursor(items[-1].nickname.lower()) if more else None
        )

    def update_own_profile(self, ctx: RequestContext, patch: ProfilePatch) -> OwnProfile:
        user_id = ctx.caller
        changes = patch.changes()
        avatar = None
        if patch.avatar_upload_id is not None:
            if self.avatars is None:
                raise RuntimeError("this users service takes no avatar uploads")
            avatar = self.avatars.prepare_avatar(user_id, patch.avatar_upload_id)
            changes["avatar_url"] = avatar.url
        if not changes:
            return self._verified(self._own(user_id))
        with UnitOfWork(self.outbox, ctx.correlation_id) as uow:
            try:
                updated = self.profiles.update(user_id, changes, uow, profile_updated)
            except BaseException:
                if avatar is not None:
                    avatar.release()  # nothing refers to the copy
                raise
        if updated is None:
            if avatar is not None:
                avatar.release()
            raise NotFound("profile_not_ready", "The profile is being created; retry in a moment")
        before, after = updated
        if avatar is not None:
            avatar.commit()
        if before.avatar_url != after.avatar_url and self.avatars is not None:
            self.avatars.discard_avatar(before.avatar_url)  # ours only; best effort
        return self._verified(after)

    def create_profile_on_registration(
        self, event_id: uuid.UUID, registered: UserRegistered
    ) -> OwnProfile | None:
        """The profile of a new account, once per `user.registered` event (`event_id`)."""
        profile = OwnProfile(
            user_id=registered.user_id,
            email=registered.email,
            nickname=registered.nickname,
            description=None,
            avatar_url=None,
            created_at=registered.registered_at,
        )
        return self.profiles.create_once(event_id, profile, nickname_variants(profile.nickname))


def profile_updated(profile: OwnProfile, version: datetime) -> ProfileUpdated:
    """The `user.profile_updated` event of the profile as an update left it; `updated_at` is the
    row's version, which orders a profile's updates (the friends context relies on it)."""
    return ProfileUpdated(
        user_id=profile.user_id,
        nickname=profile.nickname,
        description=profile.description,
        avatar_url=profile.avatar_url,
        updated_at=version,
    )


def public_profile(profile: OwnProfile) -> Profile:
    return Profile.model_validate(profile.model_dump(exclude={"email"}))
