"""Composition root of the chats context (each function calls it once, at module scope)."""

from __future__ import annotations

from messenger.chats.service import ChatsService
from messenger.settings import get_settings


def chats_service() -> ChatsService:
    from messenger.chats.store import CachedChats
    from messenger.friends import queries as friends
    from messenger.kafka_publisher import KafkaPublisher
    from messenger.mongo_outbox import MongoOutboxPublisher
    from messenger.ratelimit import RedisRateLimiter, configured_limits

    return ChatsService(
        store=CachedChats(),
        friends=friends,
        outbox=MongoOutboxPublisher(KafkaPublisher()),
        limiter=RedisRateLimiter(configured_limits(get_settings())),
    )
