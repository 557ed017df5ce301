"""Composition root of the chats context (each function calls it once, at module scope)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from messenger.chats.service import ChatsService, EventOutbox, FriendDirectory
from messenger.platform.settings import get_settings

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence


def chats_service() -> ChatsService:
    """Create, send, mark read: they publish through the Mongo outbox (Kafka client at init)."""
    from messenger.friends import queries as friends
    from messenger.media import api as media
    from messenger.platform.kafka_publisher import KafkaPublisher
    from messenger.platform.mongo_outbox import MongoOutboxPublisher

    service = _service(MongoOutboxPublisher(KafkaPublisher()), friends)
    service.attachments = media  # its S3 client is made by the first message with files
    return service


class _FriendsOnFirstUse:
    """The friends context's queries, loaded if ever asked: reading never asks."""

    def are_friends(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        from messenger.friends import queries

        return queries.are_friends(a, b)

    def non_friends_of(self, user: uuid.UUID, candidates: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        from messenger.friends import queries

        return queries.non_friends_of(user, candidates)


def chats_reader() -> ChatsService:
    """ListChats and GetChatHistory only read: no Kafka client and no friends context (its
    models and store) in their cold start."""
    from messenger.platform.publishing import NoOutbox

    return _service(NoOutbox(), _FriendsOnFirstUse())


def _service(outbox: EventOutbox, friends: FriendDirectory) -> ChatsService:
    from messenger.chats.adapters.store import CachedChats
    from messenger.platform.ratelimit import RedisRateLimiter, configured_limits

    return ChatsService(
        store=CachedChats(),
        friends=friends,
        outbox=outbox,
        limiter=RedisRateLimiter(configured_limits(get_settings())),
    )
