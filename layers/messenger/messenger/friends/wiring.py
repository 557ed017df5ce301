"""Composition root of the friends context."""

from __future__ import annotations

from datetime import timedelta

from messenger.friends.service import EventOutbox, FriendsService
from messenger.platform.settings import get_settings


def friends_service() -> FriendsService:
    """Requests, answers, removals: they publish through the outbox (Kafka client at init)."""
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.outbox import OutboxPublisher

    return _service(OutboxPublisher(KafkaPublisher()))


def friends_reader() -> FriendsService:
    """GET /v1/friends only reads: no Kafka client in its cold start. Its first call asks who
    is online: the presence store (pynamodb, botocore) is loaded here, at init."""
    import messenger.realtime.adapters.store  # noqa: F401 - for SnapStart's snapshot, not the first call
    from messenger.platform.publishing import NoOutbox

    return _service(NoOutbox())


def _service(outbox: EventOutbox) -> FriendsService:
    # Lazy imports of the stores that every first call reaches (friendships in Postgres,
    # profiles looked up through messenger.users.queries), done here at init instead.
    import messenger.platform.postgres
    import messenger.users.adapters.profile_cache
    import messenger.users.adapters.profiles
    import messenger.users.service  # noqa: F401
    from messenger.friends.adapters.store import CachedFriendships
    from messenger.platform.ratelimit import RedisRateLimiter, configured_limits
    from messenger.realtime import queries as realtime
    from messenger.users import queries as users

    settings = get_settings()
    return FriendsService(
        friendships=CachedFriendships(),
        users=users,
        outbox=outbox,
        cooldown=timedelta(seconds=settings.friend_request_cooldown_seconds),
        limiter=RedisRateLimiter(configured_limits(settings)),
        presence=realtime,
    )
