"""Composition root of the friends context."""

from __future__ import annotations

from datetime import timedelta

from messenger.friends.service import FriendsService
from messenger.settings import get_settings


def friends_service() -> FriendsService:
    from messenger.friends.store import CachedFriendships, PostgresFriendships
    from messenger.kafka_publisher import KafkaPublisher
    from messenger.outbox import OutboxPublisher
    from messenger.realtime import queries as realtime
    from messenger.users import queries as users

    return FriendsService(
        friendships=CachedFriendships(PostgresFriendships()),
        users=users,
        outbox=OutboxPublisher(KafkaPublisher()),
        cooldown=timedelta(seconds=get_settings().friend_request_cooldown_seconds),
        presence=realtime,
    )
