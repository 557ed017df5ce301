"""Cache-aside for profiles in Redis, wrapping the Postgres repository.

Keys: `profile:v1:<user_id>` (the profile, 1 h), `nickname:v1:<lower>` (its user id, 1 h),
`search:v1:<digest>` (a result page, 10 s). An update deletes the keys after its commit, and the
InvalidateCaches consumer deletes them again on `user.profile_updated` (a second chance if this
execution environment died in between). A stale nickname key is harmless: the profile it leads
to must still carry that nickname, or the key is dropped. Redis being down degrades to Postgres
reads, never to an error.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from messenger.platform.observability import logger
from messenger.platform.redis import REDIS_DOWN, delete_many, get_many
from messenger.users.models import OwnProfile

if TYPE_CHECKING:
    import uuid
    from collections.abc import Callable, Iterator, Sequence
    from datetime import datetime

    from messenger.platform.redis import RedisClient
    from messenger.platform.unit_of_work import UnitOfWork
    from messenger.users.events import ProfileUpdated
    from messenger.users.service import Profiles

PROFILE_TTL = 3600
SEARCH_TTL = 10


def profile_key(user_id: uuid.UUID | str) -> str:
    return f"profile:v1:{user_id}"


def nickname_key(nickname: str) -> str:
    return f"nickname:v1:{nickname.lower()}"


class CachedProfiles:
    def __init__(self, inner: Profiles, redis: RedisClient) -> None:
        self.inner = inner
        self.redis = redis

    def _get(self, key: str) -> Any:
        try:
            return self.redis().get(key)
        except REDIS_DOWN as exc:
            logger.warning(
                "Profile cache unavailable; reading Postgres", extra={"error": repr(exc)}
            )
            return None

    def _put(self, values: dict[str, str], ttl: int) -> None:
        try:
            pipe = self.redis().pipeline(transaction=False)
            for key, value in values.items():
                pipe.set(key, value, ex=ttl)
            pipe.execute()
        except REDIS_DOWN as exc:
            logger.warning("Profile cache unavailable; not caching", extra={"error": repr(exc)})

    def _remember(self, profiles: Sequence[OwnProfile]) -> None:
        values: dict[str, str] = {}
        for profile in profiles:
            values[profile_key(profile.user_id)] = profile.model_dump_json()
            values[nickname_key(profile.nickname)] = str(profile.user_id)
        if values:
            self._put(values, PROFILE_TTL)

    def forget(self, *profiles: OwnProfile | uuid.UUID) -> None:
        keys: list[str] = []
        for item in profiles:
            if isinstance(item, OwnProfile):
                keys += [profile_key(item.user_id), nickname_key(item.nickname)]
            else:
                keys.append(profile_key(item))
        try:
            delete_many(self.redis(), keys)
        except REDIS_DOWN as exc:
            logger.warning("Could not invalidate profiles", extra={"error": repr(exc)})

    def by_id(self, user_id: uuid.UUID) -> OwnProfile | None:
        cached = self._get(profile_key(user_id))
        if cached:
            return OwnProfile.model_validate_json(cached)
        profile = self.inner.by_id(user_id)
        if profile is not None:
            self._remember([profile])
        return profile

    def by_nickname(self, nickname: str) -> OwnProfile | None:
        user_id = self._get(nickname_key(nickname))
        if user_id:
            cached = self._get(profile_key(user_id))
            if cached:
                hit = OwnProfile.model_validate_json(cached)
                if hit.nickname.lower() == nickname.lower():
                    return hit
        profile = self.inner.by_nickname(nickname)
        if profile is not None:
            self._remember([profile])
        return profile

    def many(self, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, OwnProfile]:
        if not user_ids:
            return {}
        try:
            cached = get_many(self.redis(), [profile_key(u) for u in user_ids])
        except REDIS_DOWN:
            cached = [None] * len(user_ids)
        found = {
            uid: OwnProfile.model_validate_json(raw)
            for uid, raw in zip(user_ids, cached, strict=True)
            if raw
        }
        missing = [uid for uid in user_ids if uid not in found]
        if missing:
            loaded = self.inner.many(missing)
            self._remember(list(loaded.values()))
            found.update(loaded)
        return found

    def search(self, prefix: str, limit: int, after: str | None) -> list[OwnProfile]:
        digest = hashlib.sha256(json.dumps([prefix.lower(), limit, after]).encode()).hexdigest()
        key = f"search:v1:{digest}"
        cached = self._get(key)
        if cached:
            return [OwnProfile.model_validate(p) for p in json.loads(cached)]
        found = self.inner.search(prefix, limit, after)
        self._put({key: json.dumps([p.model_dump(mode="json") for p in found])}, SEARCH_TTL)
        return found

    def update(
        self,
        user_id: uuid.UUID,
        changes: dict[str, Any],
        uow: UnitOfWork,
        event_for: Callable[[OwnProfile, datetime], ProfileUpdated],
    ) -> tuple[OwnProfile, OwnProfile] | None:
        updated = self.inner.update(user_id, changes, uow, event_for)
        if updated is not None:
            self.forget(*updated)
        return updated

    def create_once(
        self, event_id: uuid.UUID, profile: OwnProfile, nickname_candidates: Iterator[str]
    ) -> OwnProfile | None:
        return self.inner.create_once(event_id, profile, nickname_candidates)
