"""Composition root of the chats context (each function calls it once, at module scope)."""

from __future__ import annotations

from messenger.chats.service import ChatsService, EventOutbox
from messenger.settings import get_settings


def chats_service() -> ChatsService:
    """Create, send, mark read: they publish through the Mongo outbox (Kafka client at init)."""
    from messenger.kafka_publisher import KafkaPublisher
    from messenger.mongo_outbox import MongoOutboxPublisher

    return _service(MongoOutboxPublisher(KafkaPublisher()))


def chats_reader() -> ChatsService:
    """ListChats and GetChatHistory only read: no Kafka client in their cold start."""
    from messenger.publishing import NoOutbox

    return _service(NoOutbox())


def _service(outbox: EventOutbox) -> ChatsService:
    from messenger.chats.store import CachedChats
    from messenger.friends import queries as friends
    from messenger.ratelimit import RedisRateLimiter, configured_limits

    return ChatsService(
        store=CachedChats(),
        friends=friends,
        outbox=outbox,
        limiter=RedisRateLimiter(configured_limits(get_settings())),
    )
