"""Composition root of the users context (each function calls its factory at module scope)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from messenger.users.service import UsersService

if TYPE_CHECKING:
    from messenger.users.adapters.profile_cache import CachedProfiles


def cached_profiles() -> CachedProfiles:
    from messenger.users.adapters.profile_cache import CachedProfiles
    from messenger.users.adapters.profiles import PostgresProfiles

    return CachedProfiles(PostgresProfiles())


def users_service() -> UsersService:
    """Reads (cached) and profile creation: no Kafka client."""
    return UsersService(profiles=cached_profiles())


def profile_editing_service() -> UsersService:
    """Updates publish `user.profile_updated` through the outbox right after the commit.
    Avatars go through the media context, loaded (Mongo, S3) by the first call that uses one."""
    from messenger.media import api as media
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.outbox import OutboxPublisher

    return UsersService(
        profiles=cached_profiles(), outbox=OutboxPublisher(KafkaPublisher()), avatars=media
    )
